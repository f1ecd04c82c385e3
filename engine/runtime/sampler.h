// The token sampler: turns one row of logits into one token id.
//
// Semantics of Sampler::sample (the contract callers and tests rely on):
//
//   temperature == 0: greedy, argmax(logits) — lowest id on ties, NaN never
//     wins. The RNG is not touched.
//   temperature  > 0: exactly one uniform double u in [0, 1) is drawn from
//     the RNG on every call with non-empty logits (even when one token or
//     none survives the filters), so the RNG stream stays aligned with the
//     token stream. Then:
//     1. z_i = logit_i / temperature (in double). NaN and -inf logits are
//        dropped (a NaN is treated as -inf).
//     2. top_k (k > 0): keep the k largest z, ties broken by lower id.
//     3. softmax over the survivors, stable and in double:
//        w_i = exp(z_i - z_max), p_i = w_i / sum(w). Tokens whose weight
//        underflows to exactly 0 are dropped. If some logit is +inf, the
//        +inf tokens share the mass equally (the softmax limit).
//     4. min_p (> 0): keep tokens with p_i >= min_p * p_max (i.e.
//        w_i >= min_p, since w_max = 1).
//     5. top_p (< 1): renormalise over the survivors, sort by descending
//        probability (ties by lower id) and keep the smallest prefix whose
//        cumulative probability is >= top_p; at least one token is kept.
//        "Reaching" top_p allows a slack of 1e-6: top_p arrives as a float
//        (0.8f is 0.80000001), and probabilities 0.5 + 0.3 must be enough
//        for top_p = 0.8.
//     6. renormalise over the kept tokens and return the first token, in
//        descending-probability order (ties by lower id), whose cumulative
//        probability exceeds u (inverse CDF).
//     Filter order is top_k -> min_p -> top_p, the common llama.cpp-like
//     order. If every logit is NaN or -inf the argmax rule answers (token 0
//     when all are equal or all NaN).
//   An empty logits span gives -1. Parameters that fail validate() make
//   sample() fall back to greedy instead of misbehaving; check validate()
//   where the parameters enter the program (request parsing).
//
// Determinism: the RNG is xoshiro256** seeded through splitmix64, written
// out here, so the uniform stream is bit-identical on every platform and
// compiler (no std:: distributions, whose outputs are implementation-defined).
// Every sum is taken in an order this code fixes (token id order, or the
// order left by the sampler's own partition code), never in an order a std::
// selection algorithm happens to leave behind. The only platform-dependent
// step is std::exp (libm, usually within 1 ulp), which could change a sample
// only when u lands within rounding of a CDF boundary.
//
// Cost: O(vocab) expected time per call. top_p and the draw never sort the
// vocabulary: a weighted quickselect finds where the descending cumulative
// sum crosses its target. Scratch buffers live in the Sampler and are reused,
// so steady-state calls do not allocate.
//
// Thread contract: a Sampler holds RNG state and scratch buffers; use it from
// one thread at a time (one Sampler per sequence). argmax and validate are
// pure.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/base/result.h"

namespace beluga {

struct SamplingParams {
  float temperature = 0.0f;  // 0 = greedy; must be finite and >= 0
  int32_t top_k = 0;         // 0 = off; must be >= 0
  float top_p = 1.0f;        // 1 = off; must be in (0, 1]
  float min_p = 0.0f;        // 0 = off; must be in [0, 1]
  uint64_t seed = 0;
};

// Ok, or an error naming the first parameter out of range and its range.
Status validate(const SamplingParams& params);

// Index of the largest logit: lowest id on ties, NaN never wins. 0 when every
// logit is NaN; -1 for an empty span.
int32_t argmax(std::span<const float> logits);

// xoshiro256** (Blackman & Vigna), state seeded by four splitmix64 outputs.
struct Xoshiro256 {
  std::array<uint64_t, 4> state{};
};
Xoshiro256 make_xoshiro256(uint64_t seed);
uint64_t next_u64(Xoshiro256& rng);
// Uniform in [0, 1): the top 53 bits of next_u64 times 2^-53.
double next_unit_double(Xoshiro256& rng);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // One token id for this row of logits (see the file comment).
  int32_t sample(std::span<const float> logits);

  const SamplingParams& params() const { return params_; }

 private:
  // A surviving token: `value` holds z = logit / temperature until the
  // softmax step, the unnormalised weight exp(z - z_max) after it.
  struct Candidate {
    double value;
    int32_t id;
  };
  // Where the cumulative weight, in descending order, first reaches a target.
  struct CumulativeCut {
    size_t index;       // candidates_[0, index] are the best index + 1 tokens
    double cumulative;  // their summed weight
  };

  void keep_top_k(size_t k);
  static CumulativeCut cut_at_cumulative(std::span<Candidate> candidates, double target, bool inclusive);

  SamplingParams params_;
  bool params_valid_;
  Xoshiro256 rng_;
  // Scratch reused across calls (O(vocab)).
  std::vector<Candidate> candidates_;
  std::vector<double> values_;
};

}  // namespace beluga
