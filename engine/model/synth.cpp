// synthesize_checkpoint(): see synth.h.
//
// Weights are generated and quantised in chunks of rows (a multiple of the
// FP8 block height), so memory stays bounded by one chunk even for
// embeddings of gigabytes. A quantised linear's scale tensor follows it in
// the manifest; its bytes are computed with the weight and held until then.

#include "engine/model/synth.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <regex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model/manifest.h"
#include "engine/model/quant_blocks.h"
#include "engine/model/safetensors_writer.h"

namespace beluga {
namespace {

using nlohmann::json;

// splitmix64: small, fast and good enough for synthetic weights.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1).
  float symmetric() { return static_cast<float>(next() >> 40) * 0x1p-23f - 1.0f; }

 private:
  uint64_t state_;
};

uint64_t seed_for(uint64_t seed, std::string_view name) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a
  for (char ch : name) h = (h ^ static_cast<uint8_t>(ch)) * 0x100000001B3ull;
  Rng mix(seed ^ h);
  return mix.next();
}

constexpr float kSqrt3 = 1.7320508f;

// Mean and half-width of the uniform distribution for each kind of tensor.
struct ValueRange {
  float center = 0.0f;
  float half_width = 0.0f;
};

ValueRange value_range(const TensorSpec& spec, const ModelConfig& c) {
  auto with_std = [](float std_dev) { return ValueRange{0.0f, std_dev * kSqrt3}; };
  switch (spec.kind) {
    case TensorKind::kEmbedding: return with_std(1.0f);
    case TensorKind::kHead: return with_std(1.0f / std::sqrt(static_cast<float>(c.hidden_size)));
    case TensorKind::kNorm: return {1.0f, 0.1f};
    case TensorKind::kLinear: return with_std(1.0f / std::sqrt(static_cast<float>(spec.in_features)));
    case TensorKind::kHcFn:
      return with_std(1.0f / std::sqrt(static_cast<float>(c.hc_mult * c.hidden_size)));
    case TensorKind::kHcBase: return with_std(0.5f);
    case TensorKind::kHcScale: return {0.5f, 0.25f};
    case TensorKind::kAttnSink: return with_std(1.0f);
    case TensorKind::kCompressorApe: return with_std(0.5f);
    case TensorKind::kGateBias: return with_std(0.1f);
    case TensorKind::kWeightScale:
    case TensorKind::kTid2Eid: break;
  }
  return {};
}

template <class T>
std::span<const uint8_t> as_bytes(const std::vector<T>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)};
}

// Element i of a tensor is drawn directly from the counter i (splitmix64 is
// counter-based), so rows can be generated on several threads and the bytes
// still depend only on (seed, name).
float uniform_at(uint64_t tensor_seed, uint64_t index) {
  Rng rng(tensor_seed + index * 0x9E3779B97F4A7C15ull);
  return Rng(rng.next()).symmetric();
}

// Runs fn(row_begin, row_end) over [0, rows) in bands of whole `align`-row
// groups, one band per hardware thread.
void parallel_rows(int64_t rows, int64_t align, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t groups = ceil_div(rows, align);
  const int64_t threads = std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, std::max<int64_t>(groups, 1));
  if (threads <= 1 || rows * align < 4096) {
    fn(0, rows);
    return;
  }
  std::vector<std::thread> pool;
  const int64_t groups_per_thread = ceil_div(groups, threads);
  for (int64_t t = 0; t < threads; ++t) {
    const int64_t begin = std::min(rows, t * groups_per_thread * align);
    const int64_t end = std::min(rows, (t + 1) * groups_per_thread * align);
    if (begin < end) pool.emplace_back(fn, begin, end);
  }
  for (auto& thread : pool) thread.join();
}

class TensorGenerator {
 public:
  TensorGenerator(const ModelConfig& c, uint64_t seed) : c_(c), seed_(seed) {}

  Status produce(const TensorSpec& spec, const AppendBytes& append) {
    if (spec.kind == TensorKind::kWeightScale) {
      auto it = pending_scales_.find(spec.name);
      if (it == pending_scales_.end())
        return make_error("internal: scale '" + spec.name + "' requested before its weight");
      Status s = append(as_bytes(it->second));
      pending_scales_.erase(it);
      return s;
    }
    const uint64_t tensor_seed = seed_for(seed_, spec.name);
    if (spec.kind == TensorKind::kTid2Eid) {
      Rng rng(tensor_seed);
      return hash_table(spec, rng, append);
    }
    const ValueRange range = value_range(spec, c_);
    const bool linear = spec.kind == TensorKind::kLinear;
    const int64_t rows = linear ? spec.out_features : spec.shape.empty() ? 1 : spec.shape[0];
    const int64_t cols = linear ? spec.in_features : (rows == 0 ? 0 : spec.element_count() / rows);
    // Chunks of whole FP8 block rows, about 4M values each.
    const int64_t block_rows = c_.fp8_weight_block.rows;
    const int64_t rows_per_4m = (int64_t{1} << 22) / std::max<int64_t>(1, cols);
    const int64_t chunk_rows = block_rows * std::max<int64_t>(1, rows_per_4m / block_rows);
    const int64_t scale_cols = spec.storage == WeightStorage::kFP8 ? ceil_div(cols, c_.fp8_weight_block.cols)
                                                                  : ceil_div(cols, kFp4BlockCols);
    const bool packed_fp4 = linear && spec.storage == WeightStorage::kFP4;
    const int64_t row_bytes = packed_fp4 ? cols / 2 : cols * dtype_size_bytes(spec.dtype);
    std::vector<uint8_t> scale;
    for (int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
      const int64_t n = std::min(chunk_rows, rows - r0);
      values_.resize(static_cast<size_t>(n * cols));
      encoded_.assign(static_cast<size_t>(n * row_bytes), 0);
      const bool quantised = linear && spec.storage != WeightStorage::kBF16;
      const int64_t chunk_scale_rows = spec.storage == WeightStorage::kFP8 ? ceil_div(n, block_rows) : n;
      chunk_scale_.assign(quantised ? static_cast<size_t>(chunk_scale_rows * scale_cols) : 0, 0);
      std::vector<std::string> errors(1);
      parallel_rows(n, block_rows, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin * cols; i < end * cols; ++i)
          values_[static_cast<size_t>(i)] =
              range.center + range.half_width * uniform_at(tensor_seed, static_cast<uint64_t>(r0 * cols + i));
        Status s = encode(spec, begin, end, cols);
        if (!s) errors[0] = s.message();
      });
      if (!errors[0].empty()) return make_error(errors[0]);
      if (Status s = append(encoded_); !s) return s;
      scale.insert(scale.end(), chunk_scale_.begin(), chunk_scale_.end());
    }
    if (linear && spec.storage != WeightStorage::kBF16)
      pending_scales_[spec.name.substr(0, spec.name.size() - 6) + "scale"] = std::move(scale);
    return {};
  }

 private:
  // Encodes rows [begin, end) of the current chunk into encoded_ (and
  // chunk_scale_), in the tensor's stored format. `begin` is a multiple of
  // the FP8 block height, so bands own disjoint scale rows.
  Status encode(const TensorSpec& spec, int64_t begin, int64_t end, int64_t cols) {
    const size_t first = static_cast<size_t>(begin * cols), count = static_cast<size_t>((end - begin) * cols);
    std::span<const float> values(values_.data() + first, count);
    if (spec.dtype == DType::F32) {
      std::memcpy(encoded_.data() + first * 4, values.data(), count * 4);
      return {};
    }
    if (spec.dtype == DType::BF16) {
      for (size_t i = 0; i < count; ++i) {
        uint16_t v = f32_to_bf16(values[i]);
        std::memcpy(encoded_.data() + (first + i) * 2, &v, 2);
      }
      return {};
    }
    const int64_t rows = end - begin;
    if (spec.storage == WeightStorage::kFP8) {
      const BlockShape block = c_.fp8_weight_block;
      const int64_t scale_cols = ceil_div(cols, block.cols);
      std::span<uint8_t> q(encoded_.data() + first, count);
      std::span<uint8_t> s(chunk_scale_.data() + static_cast<size_t>(begin / block.rows * scale_cols),
                           static_cast<size_t>(ceil_div(rows, block.rows) * scale_cols));
      return quantize_fp8_blocks(values, rows, cols, block, q, s);
    }
    if (spec.storage == WeightStorage::kFP4) {
      const int64_t scale_cols = ceil_div(cols, kFp4BlockCols);
      std::span<uint8_t> q(encoded_.data() + first / 2, count / 2);
      std::span<uint8_t> s(chunk_scale_.data() + static_cast<size_t>(begin * scale_cols),
                           static_cast<size_t>(rows * scale_cols));
      return quantize_fp4_rows(values, rows, cols, q, s);
    }
    return make_error("internal: no encoding for tensor '" + spec.name + "'");
  }

  // tid2eid: each token row names distinct experts (a partial shuffle).
  Status hash_table(const TensorSpec& spec, Rng& rng, const AppendBytes& append) {
    const int64_t k = spec.shape[1];
    std::vector<int64_t> experts(static_cast<size_t>(c_.n_routed_experts));
    std::vector<int64_t> row(static_cast<size_t>(k));
    for (int64_t token = 0; token < spec.shape[0]; ++token) {
      for (size_t e = 0; e < experts.size(); ++e) experts[e] = static_cast<int64_t>(e);
      for (int64_t j = 0; j < k; ++j) {
        uint64_t pick = static_cast<uint64_t>(j) + rng.next() % (experts.size() - static_cast<uint64_t>(j));
        std::swap(experts[static_cast<size_t>(j)], experts[pick]);
        row[static_cast<size_t>(j)] = experts[static_cast<size_t>(j)];
      }
      if (Status s = append(as_bytes(row)); !s) return s;
    }
    return {};
  }

  const ModelConfig& c_;
  uint64_t seed_;
  std::vector<float> values_;         // the current chunk, as floats
  std::vector<uint8_t> encoded_;      // the current chunk, stored format
  std::vector<uint8_t> chunk_scale_;  // the current chunk's scales
  std::map<std::string, std::vector<uint8_t>> pending_scales_;
};

Status make_directories(const std::string& path) {
  std::string prefix;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    prefix = path.substr(0, pos);
    if (prefix.empty()) continue;
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      return make_error(prefix + ": cannot create folder: " + std::strerror(errno));
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(path + ": not a folder");
  return {};
}

// Removes the checkpoint files an earlier synth may have left in `dir`.
void remove_old_checkpoint_files(const std::string& dir) {
  static const std::regex shard(R"(model-\d{5}-of-\d{5}\.safetensors)");
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> doomed;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "model.safetensors" || name == "model.safetensors.index.json" || std::regex_match(name, shard))
      doomed.push_back(dir + "/" + name);
  }
  ::closedir(d);
  for (const auto& path : doomed) ::unlink(path.c_str());
}

std::string shard_name(int index, int count) {
  char name[64];
  std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", index + 1, count);
  return name;
}

}  // namespace

Result<SynthResult> synthesize_checkpoint(std::string_view config_json, std::string_view config_label,
                                          const SynthOptions& options, const std::string& out_dir) {
  json config_object = json::parse(config_json, nullptr, false);
  if (config_object.is_discarded() || !config_object.is_object())
    return make_error(std::string(config_label) + ": not a JSON object");
  if (options.storage == SynthStorage::kBF16) {
    config_object.erase("quantization_config");
    config_object.erase("expert_dtype");
  } else if (options.storage == SynthStorage::kFP8) {
    config_object["quantization_config"] = {{"activation_scheme", "dynamic"}, {"fmt", "e4m3"},
                                            {"quant_method", "fp8"},          {"scale_fmt", "ue8m0"},
                                            {"weight_block_size", {128, 128}}};
    config_object["expert_dtype"] = "fp4";
  }
  const std::string config_text = config_object.dump(2) + "\n";
  auto config = parse_model_config(config_text, config_label);
  if (!config) return config.error();

  std::vector<TensorSpec> manifest = tensor_manifest(*config);

  // Contiguous shards of about equal bytes. A unit is a tensor plus the
  // scale that follows it, so a scale always sits beside its weight.
  std::vector<size_t> unit_begin;
  for (size_t i = 0; i < manifest.size(); ++i)
    if (manifest[i].kind != TensorKind::kWeightScale) unit_begin.push_back(i);
  const size_t shards = static_cast<size_t>(std::max(options.shards, 1));
  if (options.shards < 1 || shards > unit_begin.size())
    return make_error("--shards must be between 1 and " + std::to_string(unit_begin.size()) +
                      " (the weights this config has)");
  uint64_t total_bytes = 0;
  for (const auto& t : manifest) total_bytes += t.byte_count();
  std::vector<size_t> shard_begin{0};
  uint64_t running = 0;
  for (size_t u = 0; u < unit_begin.size(); ++u) {
    const size_t i = unit_begin[u];
    const size_t made = shard_begin.size();
    const bool past_share = running * shards >= total_bytes * made;
    const bool must_split = unit_begin.size() - u <= shards - made;  // one unit left per shard
    if (i > shard_begin.back() && made < shards && (past_share || must_split)) shard_begin.push_back(i);
    const size_t end = u + 1 < unit_begin.size() ? unit_begin[u + 1] : manifest.size();
    for (size_t j = i; j < end; ++j) running += manifest[j].byte_count();
  }
  const int shard_count = static_cast<int>(shard_begin.size());
  shard_begin.push_back(manifest.size());

  if (Status s = make_directories(out_dir); !s) return s.error();
  remove_old_checkpoint_files(out_dir);
  if (Status s = write_text_file_atomically(out_dir + "/config.json", config_text); !s) return s.error();

  TensorGenerator generator(*config, options.seed);
  json weight_map = json::object();
  uint64_t done = 0;
  for (int shard = 0; shard < shard_count; ++shard) {
    const std::string file = shard_count == 1 ? "model.safetensors" : shard_name(shard, shard_count);
    std::vector<TensorToWrite> tensors;
    for (size_t i = shard_begin[static_cast<size_t>(shard)]; i < shard_begin[static_cast<size_t>(shard) + 1]; ++i) {
      tensors.push_back({manifest[i].name, manifest[i].dtype, manifest[i].shape});
      weight_map[manifest[i].name] = file;
    }
    const size_t first = shard_begin[static_cast<size_t>(shard)];
    Status s = write_safetensors(out_dir + "/" + file, tensors, {{"format", "pt"}},
                                 [&](size_t index, const AppendBytes& append) -> Status {
                                   Status produced = generator.produce(manifest[first + index], append);
                                   if (produced && options.progress) options.progress(++done, manifest.size());
                                   return produced;
                                 });
    if (!s) return s.error();
  }
  if (shard_count > 1) {
    json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
    if (Status s = write_text_file_atomically(out_dir + "/model.safetensors.index.json", index.dump(2) + "\n"); !s)
      return s.error();
  }
  SynthResult result;
  result.out_dir = out_dir;
  result.config = std::move(config).value();
  result.tensors = manifest.size();
  result.bytes = total_bytes;
  result.shards = shard_count;
  return result;
}

}  // namespace beluga
