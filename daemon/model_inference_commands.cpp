// `beluga model logits` and `beluga model generate`: run the engine from the
// command line, without the daemon.
#include <charconv>
#include <filesystem>
#include <optional>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "daemon/model_commands.h"
#include "daemon/command_output.h"
#include "engine/cuda/cuda_model.h"
#include "engine/engine.h"
#include "engine/model/tokenizer.h"
#include "engine/runtime/model.h"

namespace beluga {
namespace {

// "1, 2,3" -> {1, 2, 3}; every id must be a non-negative integer.
Result<std::vector<int32_t>> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
    if (i == text.size()) break;
    size_t end = i;
    while (end < text.size() && text[end] != ',' && text[end] != ' ') ++end;
    int32_t id = 0;
    auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + end, id);
    if (ec != std::errc() || ptr != text.data() + end || id < 0)
      return make_error("--prompt-ids: '" + text.substr(i, end - i) + "' is not a token id (a non-negative integer)");
    ids.push_back(id);
    i = end;
  }
  if (ids.empty()) return make_error("--prompt-ids: no token ids given");
  return ids;
}

nlohmann::json floats_json(std::span<const float> values) {
  nlohmann::json out = nlohmann::json::array();
  for (float v : values) out.push_back(static_cast<double>(v));
  return out;
}

}  // namespace

namespace {

// What `model logits` prints: the logits after the prompt, then after each
// greedy step (the token fed and the logits that follow it).
struct LogitsRun {
  std::vector<float> prefill;
  std::vector<std::pair<int32_t, std::vector<float>>> steps;
};

Result<LogitsRun> logits_on_cpu(const LogitsCommand& cmd, const std::vector<int32_t>& ids) {
  auto engine = Engine::load(cmd.model_dir);
  if (!engine) return engine.error();
  auto session = (*engine)->open_session();
  SyncOptions sync;
  sync.chunk_tokens = cmd.chunk > 0 ? cmd.chunk : static_cast<int64_t>(ids.size());
  if (Status s = session->sync(ids, sync); !s) return s.error();
  LogitsRun run;
  run.prefill.assign(session->last_logits().begin(), session->last_logits().end());
  std::vector<int32_t> transcript = ids;
  for (int step = 0; step < cmd.decode_steps; ++step) {
    const int32_t token = argmax(session->last_logits());
    transcript.push_back(token);
    if (Status s = session->sync(transcript); !s) return s.error();
    run.steps.emplace_back(token, std::vector<float>(session->last_logits().begin(), session->last_logits().end()));
  }
  return run;
}

Result<LogitsRun> logits_on_cuda(const LogitsCommand& cmd, const std::vector<int32_t>& ids) {
  if (Status s = cuda::device_available(); !s) return make_error("--device cuda: " + s.message());
  auto weights = ModelWeights::load(cmd.model_dir);
  if (!weights) return weights.error();
  const ModelConfig& c = (*weights)->config();
  if (static_cast<int64_t>(ids.size()) + cmd.decode_steps > c.max_position_embeddings)
    return make_error("the prompt and decode steps exceed the model's " + std::to_string(c.max_position_embeddings) +
                      " positions");
  auto model = cuda::CudaModel::load(**weights);
  if (!model) return model.error();
  auto state = (*model)->new_state();
  if (!state) return state.error();
  auto feed = [&](std::span<const int32_t> tokens) -> Result<std::vector<float>> {
    cuda::CudaChunk chunk{state->get(), tokens};
    auto out = (*model)->forward(std::span<const cuda::CudaChunk>(&chunk, 1), {});
    if (!out) return out.error();
    return std::move(out->front().logits);
  };
  LogitsRun run;
  const size_t chunk = cmd.chunk > 0 ? static_cast<size_t>(cmd.chunk) : ids.size();
  for (size_t begin = 0; begin < ids.size(); begin += chunk) {
    auto logits = feed(std::span<const int32_t>(ids).subspan(begin, std::min(chunk, ids.size() - begin)));
    if (!logits) return logits.error();
    run.prefill = std::move(logits).value();
  }
  for (int step = 0; step < cmd.decode_steps; ++step) {
    const int32_t token = argmax(step == 0 ? run.prefill : run.steps.back().second);
    auto logits = feed(std::span<const int32_t>(&token, 1));
    if (!logits) return logits.error();
    run.steps.emplace_back(token, std::move(logits).value());
  }
  return run;
}

}  // namespace

int run_model_logits(const LogitsCommand& cmd) {
  if (cmd.device != "cpu" && cmd.device != "cuda")
    return fail("--device " + cmd.device + ": expected cpu or cuda");
  auto ids = parse_ids(cmd.prompt_ids);
  if (!ids) return fail(ids.message());
  auto run = cmd.device == "cuda" ? logits_on_cuda(cmd, *ids) : logits_on_cpu(cmd, *ids);
  if (!run) return fail(run.message());

  nlohmann::json out = {{"prefill", floats_json(run->prefill)}, {"steps", nlohmann::json::array()}};
  for (const auto& [token, logits] : run->steps) out["steps"].push_back({{"token", token}, {"logits", floats_json(logits)}});
  if (cmd.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::printf("prefill: %zu tokens, argmax %d\n", ids->size(), argmax(run->prefill));
    for (const auto& [token, logits] : run->steps) std::printf("step: fed %d, argmax %d\n", token, argmax(logits));
  }
  return 0;
}

// Length of the longest prefix of `bytes` that does not end inside a UTF-8
// sequence, so streamed text never splits a character.
size_t complete_utf8_prefix(const std::string& bytes) {
  size_t end = bytes.size();
  for (size_t back = 1; back <= 3 && back <= bytes.size(); ++back) {
    const unsigned char c = static_cast<unsigned char>(bytes[bytes.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (need > back) end = bytes.size() - back;
    break;
  }
  return end;
}

namespace {

// Streams generated tokens to stdout: text when there is a tokenizer (never
// splitting a UTF-8 character), else space-separated ids.
struct TokenPrinter {
  explicit TokenPrinter(const Tokenizer* t) : tokenizer(t) {}

  const Tokenizer* tokenizer = nullptr;
  bool first = true;
  std::string pending;  // decoded bytes not yet printed (an incomplete character)

  void print(int32_t token) {
    if (tokenizer) {
      if (auto bytes = tokenizer->token_bytes(token)) pending.append(*bytes);
      const size_t ready = complete_utf8_prefix(pending);
      std::fwrite(pending.data(), 1, ready, stdout);
      pending.erase(0, ready);
    } else {
      std::printf(first ? "%d" : " %d", token);
    }
    std::fflush(stdout);
    first = false;
  }
  void finish() {  // the line ends only if something was printed
    if (first) return;
    std::fwrite(pending.data(), 1, pending.size(), stdout);
    std::printf("\n");
  }
};

Result<GenerateStats> generate_on_cpu(const GenerateCommand& cmd, const std::vector<int32_t>& ids,
                                      const SamplingParams& sampling, TokenPrinter& printer) {
  auto engine = Engine::load(cmd.model_dir);
  if (!engine) return engine.error();
  auto session = (*engine)->open_session();
  if (Status s = session->sync(ids); !s) return s.error();
  GenerateOptions options;
  options.speculative = !cmd.no_speculation;
  const int64_t eos = (*engine)->info().eos_token;
  return session->generate(cmd.max_tokens, sampling, [&](int32_t token) {
    printer.print(token);
    return token != eos;
  }, options);
}

// The CUDA backend, driven directly (Engine/Session run on the CPU for now):
// prefill in chunks of 512, then one token per forward pass.
Result<GenerateStats> generate_on_cuda(const GenerateCommand& cmd, const std::vector<int32_t>& ids,
                                       const SamplingParams& sampling, TokenPrinter& printer) {
  if (Status s = cuda::device_available(); !s) return make_error("--device cuda: " + s.message());
  auto weights = ModelWeights::load(cmd.model_dir);
  if (!weights) return weights.error();
  const ModelConfig& c = (*weights)->config();
  if (static_cast<int64_t>(ids.size()) > c.max_position_embeddings)
    return make_error("the prompt has more tokens than the model's " + std::to_string(c.max_position_embeddings) +
                      " positions");
  for (int32_t id : ids)
    if (id >= c.vocab_size) return make_error("token id " + std::to_string(id) + " is outside the vocabulary");
  auto model = cuda::CudaModel::load(**weights);
  if (!model) return model.error();
  auto state = (*model)->new_state();
  if (!state) return state.error();
  GenerateStats stats;
  std::vector<float> logits;
  auto feed = [&](std::span<const int32_t> tokens) -> Status {
    cuda::CudaChunk chunk{state->get(), tokens};
    auto out = (*model)->forward(std::span<const cuda::CudaChunk>(&chunk, 1), {});
    if (!out) return out.error();
    ++stats.forward_passes;
    logits = std::move(out->front().logits);
    return {};
  };
  for (size_t begin = 0; begin < ids.size(); begin += 512)
    if (Status s = feed(std::span<const int32_t>(ids).subspan(begin, std::min<size_t>(512, ids.size() - begin))); !s)
      return s.error();
  stats.forward_passes = 0;  // count decode passes only, as the CPU path does
  const int64_t eos = c.eos_token_id.value_or(-1);
  Sampler sampler(sampling);
  while (stats.tokens < cmd.max_tokens && (*state)->position() < c.max_position_embeddings) {
    const int32_t token = sampler.sample(logits);
    ++stats.tokens;
    printer.print(token);
    if (token == eos || stats.tokens == cmd.max_tokens) break;
    if (Status s = feed(std::span<const int32_t>(&token, 1)); !s) return s.error();
  }
  return stats;
}

}  // namespace

int run_model_generate(const GenerateCommand& cmd) {
  // A checkpoint folder ships its tokenizer.json, as the release does.
  const std::string tokenizer_path = cmd.model_dir + "/tokenizer.json";
  std::optional<Tokenizer> tokenizer;
  if (std::filesystem::exists(tokenizer_path)) {
    auto loaded = Tokenizer::load(tokenizer_path);
    if (!loaded) return fail(loaded.message());
    tokenizer = std::move(loaded).value();
  }
  Result<std::vector<int32_t>> ids = std::vector<int32_t>{};
  if (!cmd.prompt.empty()) {
    if (!tokenizer) return fail("--prompt TEXT needs " + tokenizer_path + "; pass --prompt-ids instead");
    ids = tokenizer->encode(cmd.prompt);
    if (ids->empty()) return fail("--prompt: the text encodes to no tokens");
  } else {
    ids = parse_ids(cmd.prompt_ids);
  }
  if (!ids) return fail(ids.message());
  SamplingParams sampling;
  sampling.temperature = cmd.temperature;
  sampling.top_k = cmd.top_k;
  sampling.top_p = cmd.top_p;
  sampling.min_p = cmd.min_p;
  sampling.seed = cmd.seed;
  if (Status s = validate(sampling); !s) return fail(s.message());
  if (cmd.device != "cpu" && cmd.device != "cuda") return fail("--device " + cmd.device + ": expected cpu or cuda");
  TokenPrinter printer(tokenizer ? &*tokenizer : nullptr);
  auto stats = cmd.device == "cuda" ? generate_on_cuda(cmd, *ids, sampling, printer)
                                    : generate_on_cpu(cmd, *ids, sampling, printer);
  printer.finish();
  if (!stats) return fail(stats.message());
  std::fprintf(stderr, "beluga: %lld tokens in %lld forward passes (%lld/%lld MTP drafts accepted)\n",
               static_cast<long long>(stats->tokens), static_cast<long long>(stats->forward_passes),
               static_cast<long long>(stats->accepted), static_cast<long long>(stats->drafted));
  return 0;
}

}  // namespace beluga
