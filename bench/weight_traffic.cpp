#include "bench/weight_traffic.h"

#include <vector>

#include "engine/model/manifest.h"

namespace beluga::bench {

WeightTraffic weight_bytes_per_decoded_token(const ModelConfig& config) {
  WeightTraffic traffic;
  // All routed experts of a block, summed, then scaled to the active ones.
  std::vector<uint64_t> routed_bytes_of_block(static_cast<size_t>(config.num_hidden_layers), 0);
  for_each_tensor(config, [&](const TensorSpec& t) {
    if (t.block >= config.num_hidden_layers) return;  // MTP
    if (t.expert >= 0) {
      routed_bytes_of_block[static_cast<size_t>(t.block)] += t.byte_count();
    } else if (t.kind == TensorKind::kHead) {
      traffic.head_bytes += t.byte_count();
    } else if (t.kind == TensorKind::kEmbedding || t.kind == TensorKind::kTid2Eid) {
      traffic.lookup_row_bytes += t.byte_count() / static_cast<uint64_t>(t.shape.at(0));
    } else {
      traffic.non_expert_bytes += t.byte_count();
    }
  });
  if (config.n_routed_experts > 0)
    for (uint64_t bytes : routed_bytes_of_block)
      traffic.routed_expert_bytes +=
          bytes / static_cast<uint64_t>(config.n_routed_experts) * static_cast<uint64_t>(config.num_experts_per_tok);
  return traffic;
}

}  // namespace beluga::bench
