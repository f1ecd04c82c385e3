// The token sampler (see sampler.h for the semantics). Implementation notes:
//
// Candidates stay in token-id order through every filter (top_k selects a
// threshold value with nth_element on a copy of the values, a value that is
// the same whatever the algorithm, then filters stably), so the softmax
// normaliser is summed in id order.
//
// top_p and the draw both ask "where does the cumulative weight, in
// descending order, first reach this target?". Sorting 129k candidates for
// that costs more than the rest of sample() together, so cut_at_cumulative
// answers it with a weighted quickselect: partition around a pivot (median
// of three positions), sum the better side, and continue into the side that
// holds the crossing; ranges of kSmallRange or fewer are sorted and scanned.
// Expected O(n); after too many rounds (a bad pivot sequence) the remaining
// range is sorted, bounding the worst case at O(n log n). The partition is
// written here rather than taken from std::, so the order of every partial
// sum — and so every sample — is the same on every standard library. The
// order "better" (weight descending, id ascending) is strict and total.
#include "engine/runtime/sampler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>

namespace beluga {

namespace {

constexpr size_t kSmallRange = 32;
// A prefix within this much probability of top_p counts as reaching it; see
// sampler.h (top_p is a float, the probabilities are doubles).
constexpr double kTopPSlack = 1e-6;

std::string format_number(double x) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%g", x);
  return buffer;
}

uint64_t splitmix64(uint64_t& state) {
  state += 0x9e3779b97f4a7c15ull;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotate_left(uint64_t x, int bits) { return (x << bits) | (x >> (64 - bits)); }

}  // namespace

Status validate(const SamplingParams& params) {
  if (!std::isfinite(params.temperature) || params.temperature < 0.0f) {
    return make_error("sampling temperature must be a finite number >= 0 (0 = greedy), got " +
                      format_number(params.temperature));
  }
  if (params.top_k < 0) {
    return make_error("sampling top_k must be >= 0 (0 = off), got " + std::to_string(params.top_k));
  }
  if (!(params.top_p > 0.0f && params.top_p <= 1.0f)) {
    return make_error("sampling top_p must be in (0, 1] (1 = off), got " + format_number(params.top_p));
  }
  if (!(params.min_p >= 0.0f && params.min_p <= 1.0f)) {
    return make_error("sampling min_p must be in [0, 1] (0 = off), got " + format_number(params.min_p));
  }
  return {};
}

int32_t argmax(std::span<const float> logits) {
  if (logits.empty()) return -1;
  int32_t best = -1;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float x = logits[i];
    if (std::isnan(x)) continue;
    if (best < 0 || x > logits[static_cast<size_t>(best)]) best = static_cast<int32_t>(i);
  }
  return best < 0 ? 0 : best;
}

Xoshiro256 make_xoshiro256(uint64_t seed) {
  Xoshiro256 rng;
  uint64_t state = seed;
  for (uint64_t& word : rng.state) word = splitmix64(state);
  return rng;
}

uint64_t next_u64(Xoshiro256& rng) {
  std::array<uint64_t, 4>& s = rng.state;
  const uint64_t result = rotate_left(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotate_left(s[3], 45);
  return result;
}

double next_unit_double(Xoshiro256& rng) {
  return static_cast<double>(next_u64(rng) >> 11) * 0x1.0p-53;
}

Sampler::Sampler(const SamplingParams& params)
    : params_(params), params_valid_(validate(params).ok()), rng_(make_xoshiro256(params.seed)) {}

int32_t Sampler::sample(std::span<const float> logits) {
  if (logits.empty()) return -1;
  if (!params_valid_ || params_.temperature == 0.0f) return argmax(logits);
  const double u = next_unit_double(rng_);

  // 1. Scale; drop NaN and -inf.
  const double temperature = params_.temperature;
  candidates_.clear();
  for (size_t i = 0; i < logits.size(); ++i) {
    const float x = logits[i];
    if (std::isnan(x) || x == -std::numeric_limits<float>::infinity()) continue;
    candidates_.push_back({static_cast<double>(x) / temperature, static_cast<int32_t>(i)});
  }
  if (candidates_.empty()) return argmax(logits);

  // 2. top_k on the scaled logits.
  const size_t top_k = static_cast<size_t>(params_.top_k);
  if (top_k > 0 && top_k < candidates_.size()) keep_top_k(top_k);

  // 3. Softmax weights w = exp(z - z_max), max weight exactly 1.
  double z_max = -std::numeric_limits<double>::infinity();
  for (const Candidate& c : candidates_) z_max = std::max(z_max, c.value);
  if (std::isinf(z_max)) {
    for (Candidate& c : candidates_) c.value = std::isinf(c.value) ? 1.0 : 0.0;
  } else {
    // Tokens min_p will surely drop skip the exp (a third of sample()'s time).
    const double z_floor = params_.min_p > 0.0f ? z_max + std::log(static_cast<double>(params_.min_p)) - 1e-6
                                                : -std::numeric_limits<double>::infinity();
    for (Candidate& c : candidates_) c.value = c.value < z_floor ? 0.0 : std::exp(c.value - z_max);
  }
  // 4. min_p: p >= min_p * p_max  <=>  w >= min_p. Zero weights go too.
  const double min_weight = params_.min_p;
  std::erase_if(candidates_, [&](const Candidate& c) { return c.value == 0.0 || c.value < min_weight; });

  double weight_sum = 0.0;  // id order: canonical
  for (const Candidate& c : candidates_) weight_sum += c.value;

  // 5. top_p over the descending order.
  const std::span<Candidate> candidates(candidates_);
  size_t kept = candidates.size();
  double kept_weight = weight_sum;
  if (params_.top_p < 1.0f) {
    const double target = (static_cast<double>(params_.top_p) - kTopPSlack) * weight_sum;
    const CumulativeCut cut = cut_at_cumulative(candidates, target, /*inclusive=*/true);
    kept = cut.index + 1;
    kept_weight = cut.cumulative;
  }

  // 6. Inverse CDF over the kept (now leading) candidates.
  const CumulativeCut drawn = cut_at_cumulative(candidates.first(kept), u * kept_weight, /*inclusive=*/false);
  return candidates[drawn.index].id;
}

void Sampler::keep_top_k(size_t k) {
  values_.resize(candidates_.size());
  for (size_t i = 0; i < candidates_.size(); ++i) values_[i] = candidates_[i].value;
  std::nth_element(values_.begin(), values_.begin() + static_cast<ptrdiff_t>(k - 1), values_.end(),
                   std::greater<>());
  const double threshold = values_[k - 1];
  size_t above = 0;
  for (const Candidate& c : candidates_) above += c.value > threshold ? 1 : 0;
  size_t ties_left = k - above;  // the lowest ids among values equal to the threshold
  std::erase_if(candidates_, [&](const Candidate& c) {
    if (c.value > threshold) return false;
    if (c.value == threshold && ties_left > 0) {
      --ties_left;
      return false;
    }
    return true;
  });
}

Sampler::CumulativeCut Sampler::cut_at_cumulative(std::span<Candidate> candidates, double target,
                                                   bool inclusive) {
  const auto better = [](const Candidate& a, const Candidate& b) {
    return a.value > b.value || (a.value == b.value && a.id < b.id);
  };
  const auto reaches = [&](double cumulative) { return inclusive ? cumulative >= target : cumulative > target; };
  // Invariant: candidates[0, lo) are better than all of [lo, hi), weigh
  // `before` in total, and do not reach the target (except through rounding).
  size_t lo = 0, hi = candidates.size();
  double before = 0.0;
  int rounds_left = 2 * static_cast<int>(std::bit_width(candidates.size())) + 8;
  while (hi - lo > kSmallRange && rounds_left-- > 0) {
    size_t a = lo, b = lo + (hi - lo) / 2, c = hi - 1;
    if (better(candidates[b], candidates[a])) std::swap(a, b);
    if (better(candidates[c], candidates[b])) std::swap(b, c);
    if (better(candidates[b], candidates[a])) std::swap(a, b);
    std::swap(candidates[b], candidates[hi - 1]);  // b: the median position
    const Candidate pivot = candidates[hi - 1];
    size_t store = lo;
    double better_weight = 0.0;
    for (size_t i = lo; i + 1 < hi; ++i) {
      if (!better(candidates[i], pivot)) continue;
      better_weight += candidates[i].value;
      std::swap(candidates[i], candidates[store++]);
    }
    std::swap(candidates[store], candidates[hi - 1]);
    if (store > lo && reaches(before + better_weight)) {
      hi = store;
      continue;
    }
    const double through_pivot = before + better_weight + pivot.value;
    if (reaches(through_pivot)) return {store, through_pivot};
    before = through_pivot;
    lo = store + 1;
  }
  std::sort(candidates.begin() + static_cast<ptrdiff_t>(lo), candidates.begin() + static_cast<ptrdiff_t>(hi),
            better);
  double cumulative = before;
  for (size_t i = lo; i < hi; ++i) {
    cumulative += candidates[i].value;
    if (reaches(cumulative)) return {i, cumulative};
  }
  // Not reached: all of it (top_p near 1), or a rounding gap between the
  // sums that chose this range and the sequential sum over it.
  return {hi - 1, cumulative};
}

}  // namespace beluga
