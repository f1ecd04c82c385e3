// Rotary position embedding of DeepSeek V4 (model.py precompute_freqs_cis /
// apply_rotary_emb): adjacent dims (2i, 2i+1) form a complex number rotated
// by pos * freq_i, freq_i = theta^(-2i/rd). Compressed blocks use
// compress_rope_theta with YaRN frequency interpolation (a linear ramp
// between the beta_fast and beta_slow correction dims, no magnitude
// scaling); window-only blocks use rope_theta without YaRN. The attention
// output is de-rotated (inverse) at the query position.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/model/config.h"

namespace beluga {

class Rope {
 public:
  Rope() = default;
  // Frequencies for a block with the given compress ratio.
  Rope(const ModelConfig& config, int64_t compress_ratio);

  // Rotates the rd = 2*freqs dims of x (the last qk_rope_head_dim dims of a
  // head) by position `pos`; inverse rotates the other way.
  void apply(std::span<float> x, int64_t pos, bool inverse = false) const;

  const std::vector<float>& frequencies() const { return freqs_; }

 private:
  std::vector<float> freqs_;
};

}  // namespace beluga
