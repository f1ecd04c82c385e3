// Internal to indexer/ (includes tree-sitter's C API: never include from a
// header outside indexer/): the compiled-in grammar and tags query of each
// parsed language.
//
// The grammars are the npm packages pinned in indexer/grammars.lock, built
// into beluga_grammars; the queries are their queries/tags.scm embedded at
// configure time (TypeScript and TSX: TypeScript's tags followed by
// JavaScript's, since the TypeScript grammar extends JavaScript's and its
// own tags cover only the additions), plus indexer/queries/*-extra.scm.
//
// Thread contract: immutable; TSLanguage objects are static tables.
#pragma once

#include <tree_sitter/api.h>

#include <string_view>

#include "indexer/languages.h"

namespace beluga::indexer {

// nullptr for languages without a grammar (text, JSON, Bash).
const TSLanguage* grammar_for(Language language);

// The tags query source; empty for languages without one.
std::string_view tags_query_for(Language language);

}  // namespace beluga::indexer
