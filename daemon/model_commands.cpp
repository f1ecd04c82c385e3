#include "daemon/model_commands.h"
#include "daemon/command_output.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "engine/base/files.h"
#include "engine/model/config.h"
#include "engine/model/inspect.h"
#include "engine/model/manifest.h"
#include "engine/model/synth.h"
#include "engine/model/tokenizer.h"

namespace beluga {
namespace {

using nlohmann::json;

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.2f %s", value, units[unit]);
  return text;
}

// 284.3B, 13.1M, 620.5K, 917
std::string human_count(uint64_t count) {
  const char* units[] = {"", "K", "M", "B", "T"};
  double value = static_cast<double>(count);
  int unit = 0;
  while (value >= 1000.0 && unit < 4) {
    value /= 1000.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f%s" : "%.1f%s", value, units[unit]);
  return text;
}

void print_warnings(const ModelConfig& config) {
  for (const auto& w : config.warnings) std::cerr << "beluga: warning: config: " << w << "\n";
}

json dtype_counts(const std::map<DType, uint64_t>& counts) {
  json out = json::object();
  for (const auto& [dtype, n] : counts) out[std::string(dtype_name(dtype))] = n;
  return out;
}

}  // namespace

int run_model_manifest(const ManifestCommand& cmd) {
  auto config = load_model_config(cmd.config_path);
  if (!config) return fail(config.message());
  print_warnings(*config);
  const ManifestTotals totals = manifest_totals(*config);
  if (cmd.json) {
    std::cout << json{{"tensors", totals.tensors}, {"bytes", totals.bytes},
                      {"dtypes", dtype_counts(totals.tensors_by_dtype)}}
                     .dump()
              << "\n";
    return 0;
  }
  std::printf("config   %s\n", cmd.config_path.c_str());
  std::printf("tensors  %llu\n", static_cast<unsigned long long>(totals.tensors));
  for (const auto& [dtype, n] : totals.tensors_by_dtype) {
    std::printf("  %-8s %8llu tensors %16llu bytes\n", std::string(dtype_name(dtype)).c_str(),
                static_cast<unsigned long long>(n),
                static_cast<unsigned long long>(totals.bytes_by_dtype.at(dtype)));
  }
  std::printf("bytes    %llu (%s)\n", static_cast<unsigned long long>(totals.bytes), human_bytes(totals.bytes).c_str());
  return 0;
}

int run_model_inspect(const InspectCommand& cmd) {
  auto report = inspect_checkpoint(cmd.folder);
  if (!report) return fail(report.message());
  const CheckpointReport& r = *report;
  const ModelConfig& c = r.config;
  print_warnings(c);
  if (cmd.json) {
    json mismatched = json::array();
    for (const auto& m : r.mismatched)
      mismatched.push_back({{"name", m.name},
                            {"expected", {{"dtype", dtype_name(m.expected_dtype)}, {"shape", m.expected_shape}}},
                            {"found", {{"dtype", dtype_name(m.found_dtype)}, {"shape", m.found_shape}}}});
    json out = {
        {"path", r.path},
        {"valid", r.valid()},
        {"files", r.files},
        {"tensors", r.tensors},
        {"bytes", r.bytes},
        {"dtypes", dtype_counts(r.tensors_by_dtype)},
        {"bytes_by_dtype", dtype_counts(r.bytes_by_dtype)},
        {"missing", r.missing},
        {"unexpected", r.unexpected},
        {"mismatched", mismatched},
        {"warnings", c.warnings},
        {"summary",
         {{"layers",
           {{"total", c.num_hidden_layers},
            {"sliding_window", r.sliding_window_layers},
            {"csa", r.csa_layers},
            {"hca", r.hca_layers},
            {"mtp", c.num_nextn_predict_layers}}},
          {"experts",
           {{"routed", c.n_routed_experts},
            {"per_token", c.num_experts_per_tok},
            {"shared", c.n_shared_experts},
            {"hash_layers", c.num_hash_layers}}},
          {"storage", {{"linear", weight_storage_name(c.linear_storage)}, {"experts", weight_storage_name(c.expert_storage)}}},
          {"parameters",
           {{"total", r.parameters.total},
            {"active", r.parameters.active},
            {"mtp_total", r.parameters.mtp_total},
            {"mtp_active", r.parameters.mtp_active}}}}}};
    std::cout << out.dump(2) << "\n";
    return r.valid() ? 0 : 1;
  }

  std::printf("checkpoint  %s (%zu safetensors file%s)\n", r.path.c_str(), r.files, r.files == 1 ? "" : "s");
  std::printf("layers      %lld: %lld sliding-window, %lld CSA (ratio 4 + indexer), %lld HCA; %lld MTP\n",
              static_cast<long long>(c.num_hidden_layers), static_cast<long long>(r.sliding_window_layers),
              static_cast<long long>(r.csa_layers), static_cast<long long>(r.hca_layers),
              static_cast<long long>(c.num_nextn_predict_layers));
  std::printf("experts     %lld routed (%lld per token) + %lld shared; %lld hash-routed layers\n",
              static_cast<long long>(c.n_routed_experts), static_cast<long long>(c.num_experts_per_tok),
              static_cast<long long>(c.n_shared_experts), static_cast<long long>(c.num_hash_layers));
  std::printf("storage     linears %s, routed experts %s\n", std::string(weight_storage_name(c.linear_storage)).c_str(),
              std::string(weight_storage_name(c.expert_storage)).c_str());
  std::printf("parameters  %s total, %s active (MTP: %s total, %s active)\n", human_count(r.parameters.total).c_str(),
              human_count(r.parameters.active).c_str(), human_count(r.parameters.mtp_total).c_str(),
              human_count(r.parameters.mtp_active).c_str());
  std::printf("tensors     %llu, %llu bytes (%s)\n", static_cast<unsigned long long>(r.tensors),
              static_cast<unsigned long long>(r.bytes), human_bytes(r.bytes).c_str());
  for (const auto& [dtype, n] : r.tensors_by_dtype)
    std::printf("  %-8s %8llu tensors %16llu bytes\n", std::string(dtype_name(dtype)).c_str(),
                static_cast<unsigned long long>(n), static_cast<unsigned long long>(r.bytes_by_dtype.at(dtype)));
  for (const auto& name : r.missing) std::printf("missing     %s\n", name.c_str());
  for (const auto& name : r.unexpected) std::printf("unexpected  %s\n", name.c_str());
  for (const auto& m : r.mismatched)
    std::printf("mismatched  %s: expected %s %s, found %s %s\n", m.name.c_str(),
                std::string(dtype_name(m.expected_dtype)).c_str(), shape_text(m.expected_shape).c_str(),
                std::string(dtype_name(m.found_dtype)).c_str(), shape_text(m.found_shape).c_str());
  if (r.valid()) {
    std::printf("valid       every tensor matches the manifest of config.json\n");
    return 0;
  }
  std::printf("INVALID     %zu missing, %zu unexpected, %zu mismatched\n", r.missing.size(), r.unexpected.size(),
              r.mismatched.size());
  return 1;
}

int run_model_synth(const SynthCommand& cmd) {
  auto text = read_text_file(cmd.config_path, 16u << 20);
  if (!text) return fail(text.message());
  SynthOptions options;
  options.seed = cmd.seed;
  options.shards = cmd.shards;
  if (cmd.storage == "bf16") options.storage = SynthStorage::kBF16;
  else if (cmd.storage == "fp8") options.storage = SynthStorage::kFP8;
  else if (!cmd.storage.empty()) return fail("--storage must be bf16 or fp8, got '" + cmd.storage + "'");
  const bool show_progress = ::isatty(STDERR_FILENO) != 0;
  uint64_t last_percent = 101;
  if (show_progress) {
    options.progress = [&](uint64_t done, uint64_t total) {
      uint64_t percent = done * 100 / total;
      if (percent != last_percent) std::fprintf(stderr, "\rsynth: %3llu%%", static_cast<unsigned long long>(percent));
      last_percent = percent;
      if (done == total) std::fprintf(stderr, "\n");
    };
  }
  // --tokenizer: checked before the (long) synthesis, copied after it.
  std::string tokenizer_bytes;
  if (!cmd.tokenizer_path.empty()) {
    auto tokenizer = Tokenizer::load(cmd.tokenizer_path);
    if (!tokenizer) return fail(tokenizer.message());
    auto config = parse_model_config(*text, cmd.config_path);
    if (!config) return fail(config.message());
    if (tokenizer->vocab_size() > config->vocab_size)
      return fail("--tokenizer " + cmd.tokenizer_path + ": its ids go up to " + std::to_string(tokenizer->vocab_size() - 1) +
                  " but " + cmd.config_path + " has vocab_size " + std::to_string(config->vocab_size) +
                  " (the embedding needs " + std::to_string(tokenizer->vocab_size()) + " rows); nothing written");
    auto bytes = read_text_file(cmd.tokenizer_path, 256ull << 20);
    if (!bytes) return fail(bytes.message());
    tokenizer_bytes = std::move(*bytes);
  }
  auto result = synthesize_checkpoint(*text, cmd.config_path, options, cmd.out_dir);
  if (!result) return fail(result.message());
  if (!cmd.tokenizer_path.empty()) {
    if (Status s = write_text_file_atomically(result->out_dir + "/tokenizer.json", tokenizer_bytes); !s)
      return fail(s.message());
  }
  print_warnings(result->config);
  std::printf("wrote %s: %llu tensors, %llu bytes (%s) in %d safetensors file%s; linears %s, experts %s, seed %llu\n",
              result->out_dir.c_str(), static_cast<unsigned long long>(result->tensors),
              static_cast<unsigned long long>(result->bytes), human_bytes(result->bytes).c_str(), result->shards,
              result->shards == 1 ? "" : "s", std::string(weight_storage_name(result->config.linear_storage)).c_str(),
              std::string(weight_storage_name(result->config.expert_storage)).c_str(),
              static_cast<unsigned long long>(cmd.seed));
  return 0;
}

}  // namespace beluga
