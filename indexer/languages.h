// Which language a workspace file is written in, decided by its name.
//
// Parsed languages have a pinned tree-sitter grammar and a tags query
// (indexer/grammars.lock): C, C++, Python, JavaScript, TypeScript, TSX, Go,
// Rust, Java. JSON and Bash are recognised but indexed as text without tags
// (their grammars ship no tags query). Every other text file is indexed as
// "text": the context packer wants the whole repository, README and build
// files included, even where there are no symbols to extract.
//
// ".h" is shared by C and C++, and the name cannot tell which: by name it
// is C++ (language_for_path), but the indexer decides from the content
// (TagExtractor::extract_header): a header that looks_like_cpp() is parsed
// as C++ first, any other as C first; if that parse has a syntax error and
// the other language parses the file cleanly, the other language wins,
// else the first stays. The rule reads only the file itself, so it is
// deterministic and an unchanged file keeps its language across runs; it
// costs one parse for almost every header (two only for headers the first
// choice cannot parse). Why not C++ always: C code uses C++ keywords as
// names (`new`, `class`, `template`), and C++ fails on those headers
// (redis: 109 of 282 headers); why not C always: the C grammar fails on
// every C++ header.
//
// Thread contract: immutable tables; free functions.
#pragma once

#include <string_view>

namespace beluga::indexer {

enum class Language { kText, kC, kCpp, kPython, kJavaScript, kTypeScript, kTsx, kGo, kRust, kJava, kJson, kBash };

// The name stored in the index and printed ("cpp", "python", "text"...).
std::string_view language_name(Language language);

// True when the language has a grammar and a tags query.
bool has_tags(Language language);

// From the file name: extension first, then a few well-known names.
Language language_for_path(std::string_view path);

// True for ".h" (any case): C or C++, decided from the content (above).
bool is_c_or_cpp_header(std::string_view path);

// True when `source` has a word only C++ uses as a keyword (namespace,
// template, typename, class, public:/private:/protected:, virtual,
// constexpr, nullptr, operator) or a "::" scope. Comments are not skipped:
// a wrong guess only orders the two parses.
bool looks_like_cpp(std::string_view source);

}  // namespace beluga::indexer
