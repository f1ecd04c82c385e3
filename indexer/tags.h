// Definitions and references in one source file, from its grammar's tags
// query (the convention of tree-sitter's `tags` tool and GitHub's code
// navigation): a match with a @name capture and a @definition.KIND or
// @reference.KIND capture is one tag; matches with neither are ignored.
//
// What is kept per tag:
//   - name: the @name text (at most 256 bytes; longer or empty names are
//     dropped, they are never identifiers);
//   - kind: the suffix of the capture ("function", "class", "call"...);
//   - lines: 1-based, of the @definition node, widened to the enclosing
//     function_definition for C/C++ declarators so a function's range
//     covers its body;
//   - signature (definitions): the source line where the definition starts,
//     whitespace collapsed, a trailing '{' dropped, at most 200 bytes.
// When one node is tagged by several patterns (Rust's methods match both
// "method" and "function"), the first pattern in the query wins; a node that
// is both defined and referenced (C's type_identifier rule) is a definition.
//
// Text predicates are evaluated here, since tree-sitter's C library leaves
// them to the caller: #eq?, #not-eq?, #match?, #not-match?, #any-of?,
// #not-any-of?. Directives (#strip!, #select-adjacent!, #set-adjacent!)
// only shape @doc captures, which the index does not keep.
//
// A syntax error is not a failure: tree-sitter recovers and the tags of the
// parseable parts are returned, with `syntax_error` set.
//
// Thread contract: a TagExtractor holds parsers and compiled queries; use
// one per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "indexer/languages.h"

namespace beluga::indexer {

struct Definition {
  std::string name;
  std::string kind;
  int start_line = 0;
  int end_line = 0;
  std::string signature;
};

struct Reference {
  std::string name;
  std::string kind;
  int line = 0;
};

struct FileTags {
  std::vector<Definition> definitions;  // in source order
  std::vector<Reference> references;    // in source order
  bool syntax_error = false;
};

// How tags queries are matched: kFastest uses simple_query.h where the
// query allows it (C, C++, Java, Python) and tree-sitter's query engine elsewhere;
// kTreeSitter always uses tree-sitter's (the oracle the tests compare with).
enum class QueryEngine { kFastest, kTreeSitter };

class TagExtractor {
 public:
  explicit TagExtractor(QueryEngine engine = QueryEngine::kFastest);
  ~TagExtractor();
  TagExtractor(const TagExtractor&) = delete;
  TagExtractor& operator=(const TagExtractor&) = delete;

  // Languages without tags give an empty FileTags. An error means the
  // grammar or its query could not be loaded (a build defect, reported
  // rather than hidden), or the parser gave up.
  Result<FileTags> extract(Language language, std::string_view source);

  // A ".h" file, C or C++ by the rule in languages.h; `language` gets the choice.
  Result<FileTags> extract_header(std::string_view source, Language& language);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace beluga::indexer
