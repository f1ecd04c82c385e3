// Fuzzes tag extraction (indexer/tags.h) on hostile source files: byte 0
// picks the language, the rest is the file. It may not crash or hang, and
// every tag must keep the documented bounds: a non-empty name of at most
// 256 bytes, valid UTF-8 in names and signatures, 1-based lines with
// start <= end, signatures of at most 200 bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "indexer/content.h"
#include "indexer/tags.h"

using beluga::indexer::Language;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr Language kLanguages[] = {Language::kC,     Language::kCpp,  Language::kPython,
                                            Language::kJavaScript, Language::kTypeScript, Language::kTsx,
                                            Language::kGo,    Language::kRust, Language::kJava};
  static beluga::indexer::TagExtractor extractor;  // parsers and queries reused across inputs, as in indexing
  Language language = kLanguages[data[0] % (sizeof kLanguages / sizeof kLanguages[0])];
  std::string_view source(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto tags = extractor.extract(language, source);
  if (!tags) std::abort();  // grammars and queries are compiled in: loading cannot fail
  auto valid = [](const std::string& s) { return beluga::indexer::to_valid_utf8(s) == s; };
  for (const auto& d : tags->definitions) {
    if (d.name.empty() || d.name.size() > 256 * 3 || !valid(d.name) || !valid(d.signature)) std::abort();
    if (d.start_line < 1 || d.end_line < d.start_line || d.signature.size() > 200) std::abort();
  }
  for (const auto& r : tags->references)
    if (r.name.empty() || r.name.size() > 256 * 3 || !valid(r.name) || r.line < 1) std::abort();
  return 0;
}
