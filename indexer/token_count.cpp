#include "indexer/token_count.h"

namespace beluga::indexer {

int64_t estimate_tokens(std::string_view text) { return static_cast<int64_t>((text.size() + 2) / 3); }

TokenCounter estimated_token_counter() {
  TokenCounter counter;
  counter.identity = "estimate:bytes/3";
  counter.estimated = true;
  counter.count = estimate_tokens;
  return counter;
}

}  // namespace beluga::indexer
