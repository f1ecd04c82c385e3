// The token sampler: the greedy rule; the RNG pinned to reference
// splitmix64 / xoshiro256** outputs; sample() against a slow sort-based
// oracle of the documented semantics (same uniforms, exact token equality);
// empirical frequencies against softmax(logits / T) within 4 standard
// deviations (a correct sampler fails one such check with probability about
// 6e-5); and each filter (top_k, min_p, top_p) never letting an excluded
// token through. Every draw comes from a fixed seed, so runs are identical.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "engine/runtime/sampler.h"

using namespace beluga;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// softmax(logits / temperature) in double: the oracle.
std::vector<double> softmax(const std::vector<float>& logits, double temperature) {
  double max = -INFINITY;
  for (float x : logits) max = std::max(max, x / temperature);
  std::vector<double> p(logits.size());
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) sum += p[i] = std::exp(logits[i] / temperature - max);
  for (double& x : p) x /= sum;
  return p;
}

std::vector<float> log_of(const std::vector<double>& probabilities) {
  std::vector<float> logits;
  for (double p : probabilities) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

std::vector<int> counts_of(Sampler& sampler, const std::vector<float>& logits, int draws) {
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < draws; ++i) {
    const int32_t token = sampler.sample(logits);
    REQUIRE(token >= 0);
    REQUIRE(static_cast<size_t>(token) < logits.size());
    ++counts[static_cast<size_t>(token)];
  }
  return counts;
}

// Deterministic pseudo-random logits in [-scale, scale).
std::vector<float> random_logits(size_t count, uint64_t seed, float scale) {
  Xoshiro256 rng = make_xoshiro256(seed);
  std::vector<float> logits(count);
  for (float& x : logits) x = static_cast<float>((2.0 * next_unit_double(rng) - 1.0) * scale);
  return logits;
}

SamplingParams sampled(float temperature, uint64_t seed) {
  SamplingParams params;
  params.temperature = temperature;
  params.seed = seed;
  return params;
}

void check_frequencies_match_softmax(float temperature) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 1.5f};
  const std::vector<double> expected = softmax(logits, temperature);
  Sampler sampler(sampled(temperature, 1234));
  constexpr int kDraws = 20000;
  const std::vector<int> counts = counts_of(sampler, logits, kDraws);
  for (size_t i = 0; i < logits.size(); ++i) {
    const double p = expected[i];
    const double frequency = static_cast<double>(counts[i]) / kDraws;
    const double sigma = std::sqrt(p * (1.0 - p) / kDraws);
    INFO("token " << i << " p " << p << " frequency " << frequency);
    CHECK(std::abs(frequency - p) <= 4.0 * sigma);
  }
}

// The slow oracle: the semantics of sampler.h written plainly, with full
// sorts and normalised probabilities. reference_kept gives the kept tokens,
// best first, with probabilities renormalised over them; reference_draw
// applies the inverse CDF for one uniform u. (Logits here are finite.)
struct ReferenceToken {
  double probability;
  int32_t id;
};

std::vector<ReferenceToken> reference_kept(const std::vector<float>& logits, const SamplingParams& params) {
  const auto better = [](const ReferenceToken& a, const ReferenceToken& b) {
    return a.probability > b.probability || (a.probability == b.probability && a.id < b.id);
  };
  const auto normalise = [](std::vector<ReferenceToken>& tokens) {
    double sum = 0.0;
    for (const ReferenceToken& t : tokens) sum += t.probability;
    for (ReferenceToken& t : tokens) t.probability /= sum;
  };
  // Scaled logits, best first (the probability field holds z for now).
  std::vector<ReferenceToken> tokens;
  for (size_t i = 0; i < logits.size(); ++i) {
    tokens.push_back({static_cast<double>(logits[i]) / params.temperature, static_cast<int32_t>(i)});
  }
  std::sort(tokens.begin(), tokens.end(), better);
  if (params.top_k > 0 && static_cast<size_t>(params.top_k) < tokens.size()) tokens.resize(params.top_k);
  const double z_max = tokens.front().probability;
  for (ReferenceToken& t : tokens) t.probability = std::exp(t.probability - z_max);
  normalise(tokens);
  const double p_max = tokens.front().probability;
  std::erase_if(tokens, [&](const ReferenceToken& t) { return t.probability < params.min_p * p_max; });
  normalise(tokens);  // top_p measures the survivors, renormalised
  if (params.top_p < 1.0f) {
    double cumulative = 0.0;
    size_t kept = 0;
    while (kept < tokens.size() && cumulative < params.top_p - 1e-6) cumulative += tokens[kept++].probability;
    tokens.resize(std::max<size_t>(kept, 1));
  }
  normalise(tokens);
  return tokens;
}

int32_t reference_draw(const std::vector<ReferenceToken>& kept, double u) {
  double cumulative = 0.0;
  for (const ReferenceToken& t : kept) {
    cumulative += t.probability;
    if (cumulative > u) return t.id;
  }
  return kept.back().id;
}

}  // namespace

TEST_CASE("sample agrees with a sort-based reference of the documented semantics", "[sampler]") {
  // Logits quantised to 1/8 so that many weights tie and the id tie-break
  // matters; vocabularies above the quickselect's small range.
  struct Case {
    float temperature;
    int32_t top_k;
    float top_p;
    float min_p;
  };
  const Case cases[] = {{1.0f, 0, 1.0f, 0.0f},   {0.7f, 0, 0.9f, 0.0f},   {1.3f, 100, 1.0f, 0.0f},
                        {1.0f, 0, 1.0f, 0.05f},  {0.8f, 40, 0.95f, 0.05f}, {2.0f, 500, 0.5f, 0.0f},
                        {0.5f, 0, 0.3f, 0.01f},  {1.0f, 3, 0.99f, 0.0f}};
  int checked = 0;
  for (size_t c = 0; c < std::size(cases); ++c) {
    for (uint64_t row = 0; row < 6; ++row) {
      std::vector<float> logits = random_logits(1500 + 250 * row, 1000 * c + row, 4.0f);
      for (float& x : logits) x = std::round(x * 8.0f) / 8.0f;
      const SamplingParams params{cases[c].temperature, cases[c].top_k, cases[c].top_p, cases[c].min_p, 77 + row};
      const std::vector<ReferenceToken> kept = reference_kept(logits, params);
      Sampler sampler(params);
      Xoshiro256 rng = make_xoshiro256(params.seed);
      for (int draw = 0; draw < 10; ++draw) {
        const double u = next_unit_double(rng);
        INFO("case " << c << " row " << row << " draw " << draw);
        REQUIRE(sampler.sample(logits) == reference_draw(kept, u));
        ++checked;
      }
    }
  }
  CHECK(checked == 480);
}

TEST_CASE("argmax picks the largest logit, the lowest id on ties, and never NaN", "[sampler]") {
  CHECK(argmax(std::vector<float>{0.1f, 3.0f, -2.0f, 2.9f}) == 1);
  CHECK(argmax(std::vector<float>{1.0f, 5.0f, 5.0f, 5.0f}) == 1);
  CHECK(argmax(std::vector<float>{kNaN, 1.0f, kNaN, 0.5f}) == 1);
  CHECK(argmax(std::vector<float>{-1.0f, kNaN, -3.0f}) == 0);
  CHECK(argmax(std::vector<float>{-kInf, -kInf, -kInf}) == 0);
  CHECK(argmax(std::vector<float>{kNaN, -kInf, -kInf}) == 1);
  CHECK(argmax(std::vector<float>{kNaN, kNaN}) == 0);
  CHECK(argmax(std::vector<float>{2.0f, kInf, kInf}) == 1);
  CHECK(argmax(std::span<const float>{}) == -1);
}

TEST_CASE("temperature zero samples the argmax every time", "[sampler]") {
  Sampler sampler(SamplingParams{});
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const std::vector<float> logits = random_logits(1000, seed, 10.0f);
    CHECK(sampler.sample(logits) == argmax(logits));
  }
  CHECK(sampler.sample(std::vector<float>{4.0f, kNaN, 4.0f}) == 0);
  CHECK(sampler.sample(std::vector<float>{-kInf, -kInf}) == 0);
  CHECK(sampler.sample(std::vector<float>{kNaN, kNaN, kNaN}) == 0);
}

TEST_CASE("sampling with temperature never picks a NaN or -inf logit", "[sampler]") {
  Sampler sampler(sampled(1.0f, 7));
  const std::vector<float> logits = {kNaN, 0.0f, -kInf, 0.0f, kNaN};
  const std::vector<int> counts = counts_of(sampler, logits, 500);
  CHECK(counts[0] == 0);
  CHECK(counts[2] == 0);
  CHECK(counts[4] == 0);
  CHECK(counts[1] > 0);
  CHECK(counts[3] > 0);
}

TEST_CASE("sampling when every logit is -inf or NaN falls back to the argmax rule", "[sampler]") {
  Sampler sampler(sampled(0.7f, 3));
  CHECK(sampler.sample(std::vector<float>{-kInf, -kInf, -kInf}) == 0);
  CHECK(sampler.sample(std::vector<float>{kNaN, kNaN}) == 0);
  CHECK(sampler.sample(std::vector<float>{kNaN, -kInf, -kInf}) == 1);
  CHECK(sampler.sample(std::span<const float>{}) == -1);
}

TEST_CASE("a +inf logit takes all the probability, shared among +inf tokens", "[sampler]") {
  Sampler sampler(sampled(1.0f, 11));
  const std::vector<float> logits = {5.0f, kInf, 100.0f, kInf};
  const std::vector<int> counts = counts_of(sampler, logits, 400);
  CHECK(counts[0] == 0);
  CHECK(counts[2] == 0);
  CHECK(counts[1] > 100);
  CHECK(counts[3] > 100);
}

TEST_CASE("the generator reproduces reference splitmix64 and xoshiro256** outputs", "[sampler]") {
  // Reference values from an independent implementation of the published
  // algorithms (splitmix64 of seed 0 begins 0xe220a8397b1dcdaf).
  Xoshiro256 zero = make_xoshiro256(0);
  CHECK(zero.state[0] == 0xe220a8397b1dcdafull);
  CHECK(zero.state[1] == 0x6e789e6aa1b965f4ull);
  CHECK(zero.state[2] == 0x06c45d188009454full);
  CHECK(zero.state[3] == 0xf88bb8a8724c81ecull);
  CHECK(next_u64(zero) == 0x99ec5f36cb75f2b4ull);
  CHECK(next_u64(zero) == 0xbf6e1f784956452aull);
  CHECK(next_u64(zero) == 0x1a5f849d4933e6e0ull);
  CHECK(next_u64(zero) == 0x6aa594f1262d2d2cull);

  Xoshiro256 forty_two = make_xoshiro256(42);
  CHECK(next_u64(forty_two) == 0x15780b2e0c2ec716ull);
  CHECK(next_unit_double(forty_two) == 0x6104d9866d113a7eull / 2048 * 0x1.0p-53);
}

TEST_CASE("unit doubles lie between 0 inclusive and 1 exclusive", "[sampler]") {
  Xoshiro256 rng = make_xoshiro256(99);
  for (int i = 0; i < 10000; ++i) {
    const double u = next_unit_double(rng);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("the same seed gives the same samples and another seed different ones", "[sampler]") {
  const std::vector<float> logits = {0.1f, 0.0f, 0.2f, -0.1f, 0.05f, 0.15f, -0.05f, 0.0f};
  Sampler first(sampled(1.0f, 2024));
  Sampler second(sampled(1.0f, 2024));
  Sampler other(sampled(1.0f, 2025));
  std::vector<int32_t> a, b, c;
  for (int i = 0; i < 200; ++i) {
    a.push_back(first.sample(logits));
    b.push_back(second.sample(logits));
    c.push_back(other.sample(logits));
  }
  CHECK(a == b);
  CHECK(a != c);
  CHECK(std::set<int32_t>(a.begin(), a.end()).size() == logits.size());
}

TEST_CASE("every sampled call draws one uniform, even when one token or none survives", "[sampler]") {
  // Calls whose answer is forced (a single finite logit, all -inf, top_k 1)
  // still consume their draw, so the next calls see the same uniforms as a
  // sampler that drew normally.
  const std::vector<float> logits = {0.3f, 0.1f, 0.2f, 0.0f};
  Sampler forced(sampled(1.0f, 5));
  CHECK(forced.sample(std::vector<float>{-kInf, 2.0f, -kInf}) == 1);
  CHECK(forced.sample(std::vector<float>{-kInf, -kInf}) == 0);
  CHECK(forced.sample(std::vector<float>{kNaN, 4.0f}) == 1);
  Sampler normal(sampled(1.0f, 5));
  for (int i = 0; i < 3; ++i) (void)normal.sample(logits);
  for (int i = 0; i < 50; ++i) CHECK(forced.sample(logits) == normal.sample(logits));
}

TEST_CASE("sample frequencies match softmax(logits) at temperature 1", "[sampler]") {
  check_frequencies_match_softmax(1.0f);
}

TEST_CASE("sample frequencies match softmax(logits / 0.5) at temperature 0.5", "[sampler]") {
  check_frequencies_match_softmax(0.5f);
}

TEST_CASE("top_k 1 is greedy at any temperature", "[sampler]") {
  for (float temperature : {0.5f, 1.0f, 5.0f, 100.0f}) {
    SamplingParams params = sampled(temperature, 17);
    params.top_k = 1;
    Sampler sampler(params);
    for (uint64_t seed = 0; seed < 25; ++seed) {
      const std::vector<float> logits = random_logits(1000, seed, 3.0f);
      CHECK(sampler.sample(logits) == argmax(logits));
    }
  }
}

TEST_CASE("top_k k never returns a token outside the k best", "[sampler]") {
  const std::vector<float> logits = random_logits(50, 77, 1.0f);
  std::vector<int32_t> order(logits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  const std::set<int32_t> best(order.begin(), order.begin() + 5);

  SamplingParams params = sampled(2.0f, 8);
  params.top_k = 5;
  Sampler sampler(params);
  std::set<int32_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const int32_t token = sampler.sample(logits);
    REQUIRE(best.count(token) == 1);
    seen.insert(token);
  }
  CHECK(seen == best);
}

TEST_CASE("top_k breaks ties at its boundary by lower token id", "[sampler]") {
  SamplingParams params = sampled(1.0f, 21);
  params.top_k = 2;
  Sampler sampler(params);
  const std::vector<int> counts = counts_of(sampler, {1.0f, 3.0f, 3.0f, 3.0f}, 500);
  CHECK(counts[0] == 0);
  CHECK(counts[3] == 0);
  CHECK(counts[1] > 0);
  CHECK(counts[2] > 0);
}

TEST_CASE("top_p 0.8 over probabilities 0.5 0.3 0.15 0.05 keeps tokens 0 and 1", "[sampler]") {
  const std::vector<float> logits = log_of({0.5, 0.3, 0.15, 0.05});
  SamplingParams params = sampled(1.0f, 31);
  params.top_p = 0.8f;
  Sampler sampler(params);
  constexpr int kDraws = 5000;
  const std::vector<int> counts = counts_of(sampler, logits, kDraws);
  CHECK(counts[2] == 0);
  CHECK(counts[3] == 0);
  // Renormalised over the nucleus: token 0 has 0.5 / 0.8 = 0.625.
  const double p = 0.625;
  const double sigma = std::sqrt(p * (1.0 - p) / kDraws);
  CHECK(std::abs(static_cast<double>(counts[0]) / kDraws - p) <= 4.0 * sigma);
}

TEST_CASE("top_p just above a prefix sum keeps the next token too", "[sampler]") {
  const std::vector<float> logits = log_of({0.5, 0.3, 0.15, 0.05});
  SamplingParams params = sampled(1.0f, 32);
  params.top_p = 0.81f;
  Sampler sampler(params);
  const std::vector<int> counts = counts_of(sampler, logits, 2000);
  CHECK(counts[2] > 0);
  CHECK(counts[3] == 0);
}

TEST_CASE("a tiny top_p always samples the best token", "[sampler]") {
  SamplingParams params = sampled(1.5f, 41);
  params.top_p = 1e-6f;
  Sampler sampler(params);
  for (uint64_t seed = 0; seed < 25; ++seed) {
    const std::vector<float> logits = random_logits(500, seed + 100, 2.0f);
    CHECK(sampler.sample(logits) == argmax(logits));
  }
}

TEST_CASE("min_p drops tokens below min_p times the best probability", "[sampler]") {
  // p_max = 0.5, min_p = 0.2: threshold 0.1 keeps 0.5, 0.3, 0.15, drops 0.05.
  const std::vector<float> logits = log_of({0.5, 0.3, 0.15, 0.05});
  SamplingParams params = sampled(1.0f, 51);
  params.min_p = 0.2f;
  Sampler sampler(params);
  const std::vector<int> counts = counts_of(sampler, logits, 3000);
  CHECK(counts[3] == 0);
  CHECK(counts[2] > 0);

  params.min_p = 1.0f;  // only the best survives
  Sampler strict(params);
  for (int i = 0; i < 100; ++i) CHECK(strict.sample(logits) == 0);
}

TEST_CASE("filters combine in the order top_k, min_p, top_p", "[sampler]") {
  // top_k 3 keeps 0.4, 0.3, 0.2 (renormalised 4/9, 3/9, 2/9); min_p 0.6
  // drops 0.2 (2/9 < 0.6 * 4/9); top_p 0.5 over 4/7, 3/7 keeps token 0 alone.
  const std::vector<float> logits = log_of({0.4, 0.3, 0.2, 0.1});
  SamplingParams params = sampled(1.0f, 61);
  params.top_k = 3;
  params.min_p = 0.6f;
  Sampler both(params);
  const std::vector<int> counts = counts_of(both, logits, 1000);
  CHECK(counts[2] == 0);
  CHECK(counts[3] == 0);
  CHECK(counts[1] > 0);

  params.top_p = 0.5f;
  Sampler all(params);
  for (int i = 0; i < 100; ++i) CHECK(all.sample(logits) == 0);
}

TEST_CASE("sampling a 129k vocabulary stays within the kept set", "[sampler]") {
  const std::vector<float> logits = random_logits(129280, 9, 8.0f);
  SamplingParams params = sampled(0.8f, 71);
  params.top_p = 0.95f;
  params.min_p = 0.01f;
  Sampler sampler(params);
  const float best = logits[static_cast<size_t>(argmax(logits))];
  for (int i = 0; i < 5; ++i) {
    const int32_t token = sampler.sample(logits);
    REQUIRE(token >= 0);
    // min_p 0.01 at T = 0.8: kept logits lie within 0.8 * ln(100) of the best.
    CHECK(logits[static_cast<size_t>(token)] >= best - 0.8f * std::log(100.0f) - 1e-4f);
  }
}

TEST_CASE("invalid parameters make the sampler fall back to greedy", "[sampler]") {
  SamplingParams params = sampled(1.0f, 1);
  params.top_p = 0.0f;
  Sampler sampler(params);
  const std::vector<float> logits = {0.0f, 0.1f, 0.05f};
  for (int i = 0; i < 50; ++i) CHECK(sampler.sample(logits) == 1);
  CHECK(sampler.params().top_p == 0.0f);
}

TEST_CASE("validate rejects out-of-range parameters and names them", "[sampler]") {
  auto message_for = [](SamplingParams params) {
    const Status status = validate(params);
    REQUIRE_FALSE(status.ok());
    return status.message();
  };
  SamplingParams params;
  params.temperature = -1.0f;
  CHECK_THAT(message_for(params), Catch::Contains("temperature") && Catch::Contains(">= 0"));
  params.temperature = kNaN;
  CHECK_THAT(message_for(params), Catch::Contains("temperature") && Catch::Contains("finite"));
  params.temperature = kInf;
  CHECK_THAT(message_for(params), Catch::Contains("temperature"));

  params = SamplingParams{};
  params.top_p = 0.0f;
  CHECK_THAT(message_for(params), Catch::Contains("top_p") && Catch::Contains("(0, 1]"));
  params.top_p = 1.5f;
  CHECK_THAT(message_for(params), Catch::Contains("top_p") && Catch::Contains("1.5"));
  params.top_p = kNaN;
  CHECK_THAT(message_for(params), Catch::Contains("top_p"));

  params = SamplingParams{};
  params.min_p = -0.1f;
  CHECK_THAT(message_for(params), Catch::Contains("min_p") && Catch::Contains("[0, 1]"));
  params.min_p = 1.01f;
  CHECK_THAT(message_for(params), Catch::Contains("min_p"));

  params = SamplingParams{};
  params.top_k = -3;
  CHECK_THAT(message_for(params), Catch::Contains("top_k") && Catch::Contains("-3"));
}

TEST_CASE("validate accepts the defaults and in-range parameters", "[sampler]") {
  CHECK(validate(SamplingParams{}).ok());
  CHECK(validate(SamplingParams{0.7f, 40, 0.95f, 0.05f, 123}).ok());
  CHECK(validate(SamplingParams{2.0f, 0, 1.0f, 1.0f, 0}).ok());
  CHECK(validate(SamplingParams{1.0f, 1, 1e-6f, 0.0f, 0}).ok());
}
