// Which language a workspace file is written in, decided by its name.
//
// Parsed languages have a pinned tree-sitter grammar and a tags query
// (indexer/grammars.lock): C, C++, Python, JavaScript, TypeScript, TSX, Go,
// Rust, Java. JSON and Bash are recognised but indexed as text without tags
// (their grammars ship no tags query). Every other text file is indexed as
// "text": the context packer wants the whole repository, README and build
// files included, even where there are no symbols to extract.
//
// ".h" is read as C++: the C++ grammar parses C headers well enough for
// definitions, while the C grammar fails on every C++ header.
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

}  // namespace beluga::indexer
