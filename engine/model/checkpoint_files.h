// CheckpointFiles: every safetensors file of one checkpoint, mapped, with a
// name -> tensor lookup across them.
//
// A checkpoint is a folder holding config.json and either
//   - model.safetensors.index.json + the shards it names (the released form:
//     {"metadata": {"total_size": N}, "weight_map": {"tensor": "shard file"}}),
//   - or one model.safetensors,
// or a single .safetensors file given directly.
//
// With an index, every shard it names must exist and hold exactly the
// tensors the index assigns to it; a tensor may appear in one shard only.
// Shard names must be plain file names inside the folder.
//
// Thread contract: const after open(); share freely.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/safetensors.h"

namespace beluga {

inline constexpr std::string_view kIndexFileName = "model.safetensors.index.json";
inline constexpr std::string_view kSingleFileName = "model.safetensors";
inline constexpr std::string_view kConfigFileName = "config.json";

class CheckpointFiles {
 public:
  // `path` is a checkpoint folder or one .safetensors file.
  static Result<CheckpointFiles> open(const std::string& path);

  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  std::optional<TensorView> find(std::string_view name) const;
  // Every tensor of every file, in file then header order.
  std::vector<TensorView> all_tensors() const;
  size_t tensor_count() const { return by_name_.size(); }
  uint64_t total_bytes() const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::unordered_map<std::string_view, TensorView> by_name_;
};

}  // namespace beluga
