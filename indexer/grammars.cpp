#include "indexer/grammars.h"

// The pinned grammars are ABI 14 (indexer/grammars.lock); a tree-sitter
// library too old to load them would fail every parse at run time.
static_assert(TREE_SITTER_LANGUAGE_VERSION >= 14, "tree-sitter too old for the pinned ABI-14 grammars");

extern "C" {
const TSLanguage* tree_sitter_c(void);
const TSLanguage* tree_sitter_cpp(void);
const TSLanguage* tree_sitter_python(void);
const TSLanguage* tree_sitter_javascript(void);
const TSLanguage* tree_sitter_typescript(void);
const TSLanguage* tree_sitter_tsx(void);
const TSLanguage* tree_sitter_go(void);
const TSLanguage* tree_sitter_rust(void);
const TSLanguage* tree_sitter_java(void);
}

namespace beluga::indexer {

struct EmbeddedQuery {
  std::string_view language;
  std::string_view tags;
};
extern const EmbeddedQuery kEmbeddedTagsQueries[];  // grammar_queries.cpp (generated)
extern const int kEmbeddedTagsQueryCount;

const TSLanguage* grammar_for(Language language) {
  switch (language) {
    case Language::kC: return tree_sitter_c();
    case Language::kCpp: return tree_sitter_cpp();
    case Language::kPython: return tree_sitter_python();
    case Language::kJavaScript: return tree_sitter_javascript();
    case Language::kTypeScript: return tree_sitter_typescript();
    case Language::kTsx: return tree_sitter_tsx();
    case Language::kGo: return tree_sitter_go();
    case Language::kRust: return tree_sitter_rust();
    case Language::kJava: return tree_sitter_java();
    case Language::kText:
    case Language::kJson:
    case Language::kBash: return nullptr;
  }
  return nullptr;
}

std::string_view tags_query_for(Language language) {
  std::string_view name = language_name(language);
  for (int i = 0; i < kEmbeddedTagsQueryCount; ++i)
    if (kEmbeddedTagsQueries[i].language == name) return kEmbeddedTagsQueries[i].tags;
  return {};
}

}  // namespace beluga::indexer
