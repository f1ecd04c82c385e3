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
// (TagExtractor::extract_header): C++ when looks_like_cpp(), else C. The
// rule reads only the file itself, so it is deterministic and an unchanged
// file keeps its language across runs, and it costs one parse. Why not C++
// always: C code uses C++ keywords as names (`new`, `template`...) and the
// C++ grammar fails on such headers. Why no fallback ("if C reports an
// error, try C++"): on redis it parsed 99 headers (1 MB, 0.56 s of CPU, a
// tenth of a full index) a second time to rescue one; the headers tree-sitter
// cannot parse fail on macros in either language.
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
// constexpr, nullptr, operator), a "::" scope, or includes a standard
// header without an extension (`#include <vector>`). Comments are not
// skipped: a C header that says "class" in a comment is parsed as C++,
// which reads plain C declarations well enough.
bool looks_like_cpp(std::string_view source);

}  // namespace beluga::indexer
