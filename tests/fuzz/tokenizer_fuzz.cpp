// Fuzzes the tokenizer on arbitrary bytes (valid UTF-8 or not): encoding
// with and without added tokens must never crash, every id must be in the
// vocabulary, untrusted encoding must yield no added-token id, and decoding
// must give back the input bytes exactly.
//
// The tokenizer is the V3 tokenizer.json with the V4 added tokens on top
// (so the V4 literals are matched too): $BELUGA_TOKENIZER, else
// BELUGA_GOLDEN_DIR/tokenizer/tokenizer.json (+ v4_added_tokens.json).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/tokenizer.h"
#include "engine/model/tokenizer_assembly.h"

namespace {

const beluga::Tokenizer& tokenizer() {
  static const beluga::Tokenizer t = [] {
    std::string golden = BELUGA_GOLDEN_DIR;
    if (const char* env = std::getenv("BELUGA_GOLDEN_DIR")) golden = env;
    std::string path = golden + "/tokenizer/tokenizer.json";
    std::vector<beluga::AddedToken> extra;
    if (const char* env = std::getenv("BELUGA_TOKENIZER")) {
      path = env;
    } else {
      auto list = beluga::load_added_token_list(golden + "/tokenizer/v4_added_tokens.json");
      if (list) extra = std::move(*list);
    }
    auto loaded = beluga::Tokenizer::load(path, extra);
    if (!loaded) {
      std::fprintf(stderr, "tokenizer_fuzz: %s\n", loaded.message().c_str());
      std::abort();
    }
    return std::move(loaded).value();
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const beluga::Tokenizer& t = tokenizer();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool allow_special : {true, false}) {
    const std::vector<int32_t> ids = t.encode(text, allow_special);
    for (int32_t id : ids) {
      if (id < 0 || id >= t.vocab_size() || !t.token_bytes(id)) std::abort();
      if (!allow_special && t.is_added(id)) std::abort();
    }
    if (t.decode(ids) != text) std::abort();
  }
  return 0;
}
