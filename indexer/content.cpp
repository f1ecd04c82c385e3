#include "indexer/content.h"

// SHA1_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but
// EVP's first use in a process loads the default provider: 5 M
// instructions, a third of a one-file update's own work. The low-level
// calls run the same assembly without it.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace beluga::indexer {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is invalid
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
size_t valid_sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
  else if (b0 == 0xE0) n = 3, lo = 0xA0;
  else if (b0 == 0xED) n = 3, hi = 0x9F;
  else if (b0 >= 0xE1 && b0 <= 0xEF) n = 3;
  else if (b0 == 0xF0) n = 4, lo = 0x90;
  else if (b0 >= 0xF1 && b0 <= 0xF3) n = 4;
  else if (b0 == 0xF4) n = 4, hi = 0x8F;
  else return 0;
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

}  // namespace

bool looks_binary(std::string_view bytes) {
  return std::memchr(bytes.data(), 0, std::min<size_t>(bytes.size(), 8000)) != nullptr;
}

std::string content_hash(std::string_view bytes) {
  // git's blob id: SHA-1 of "blob <size>\0" then the bytes. OpenSSL's SHA-1
  // rather than libgit2's git_odb_hash, whose collision-detecting SHA-1
  // took 25 instructions a byte, 3 % of a full index's CPU.
  std::string header = "blob " + std::to_string(bytes.size());
  header.push_back('\0');
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA_CTX context;
  bool ok = SHA1_Init(&context) == 1 && SHA1_Update(&context, header.data(), header.size()) == 1 &&
            SHA1_Update(&context, bytes.data(), bytes.size()) == 1 && SHA1_Final(digest, &context) == 1;
  if (!ok) return std::string(40, '0');
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(40, '0');
  for (unsigned int i = 0; i < SHA_DIGEST_LENGTH; ++i) {
    text[2 * i] = kHex[digest[i] >> 4];
    text[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return text;
}

std::string to_valid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    // Valid runs are copied whole: appending sequence by sequence cost a
    // tenth of a second on redis's 14 MB (almost all of it ASCII).
    size_t run = i;
    while (run < bytes.size()) {
      if (static_cast<uint8_t>(bytes[run]) < 0x80) {
        ++run;
        continue;
      }
      size_t n = valid_sequence_length(bytes, run);
      if (!n) break;
      run += n;
    }
    out.append(bytes.substr(i, run - i));
    i = run;
    if (i == bytes.size()) break;
    out += "\xEF\xBF\xBD";  // U+FFFD
    ++i;
    // Skip the continuation bytes that belonged to the broken sequence.
    while (i < bytes.size() && (static_cast<uint8_t>(bytes[i]) & 0xC0) == 0x80) ++i;
  }
  return out;
}

std::string_view utf8_prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<uint8_t>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace beluga::indexer
