// Reading tokenizer.json quickly. The two big tables (model.vocab, 128,000
// entries, and model.merges, 127,741) are decoded into flat vectors by a
// tight hand-written scanner, and everything else (a few hundred kilobytes:
// added tokens, pre-tokenizer, ...) becomes an ordinary nlohmann::json tree.
// Building the whole file as a tree costs ~0.45 s (a std::map node per
// vocabulary entry); this takes ~0.05 s, which matters because every
// `beluga` command and every test process loads the file. When the scanner
// meets anything unexpected, a SAX pass over the file (nlohmann's parser,
// with the two tables diverted the same way) reads it again and reports the
// problem with its byte offset or the offending key.
//
// Include only from .cpp files (it pulls in nlohmann/json.hpp).
//
// Thread contract: plain functions and values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"

namespace beluga {

struct TokenizerJson {
  // The document with model.vocab and model.merges replaced by null when
  // they were streamed (an object and an array, respectively).
  nlohmann::json rest;
  bool has_vocab = false;
  bool has_merges = false;
  std::vector<std::pair<std::string, int64_t>> vocab;          // in file order
  std::vector<std::pair<std::string, std::string>> merges;     // (left, right) in rank order
};

// Parses `text`; errors name `label` and the offending key or merge index.
Result<TokenizerJson> read_tokenizer_json(std::string_view text, std::string_view label);

}  // namespace beluga
