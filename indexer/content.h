// What the indexer needs to know about a file's bytes: is it binary, what
// is its content hash, and its text as valid UTF-8 for the full-text index.
//
// Binary: a NUL byte in the first 8000 bytes, git's own rule (xdiff's
// buffer_is_binary), so the indexer and `git diff` agree on what is text.
// Non-UTF-8 text (Latin-1 sources, stray bytes) is not binary: it is parsed
// as it is (tree-sitter works on bytes) and stored with each invalid byte
// replaced by U+FFFD for SQLite's text columns.
//
// Content hash: the git blob id (SHA-1 of "blob <size>\0" + bytes), so an
// index entry can be compared with `git hash-object` and with blobs of the
// repository's history.
//
// Thread contract: free functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace beluga::indexer {

bool looks_binary(std::string_view bytes);

// 40 lower-case hex digits.
std::string content_hash(std::string_view bytes);

// `bytes` with every invalid UTF-8 sequence (overlong, surrogate, truncated,
// stray continuation byte) replaced by U+FFFD, one per maximal bad prefix.
std::string to_valid_utf8(std::string_view bytes);

// The first `max_bytes` of valid UTF-8 `text`, cut at a character boundary.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

}  // namespace beluga::indexer
