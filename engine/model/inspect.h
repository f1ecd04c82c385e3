// Checking a checkpoint folder against the manifest its config.json implies.
//
// inspect_checkpoint() loads config.json and every safetensors file (each
// validated strictly as it is opened), then compares tensor by tensor and
// reports every missing, unexpected and mismatched tensor by name — all of
// them, not the first. A tensor the manifest wants as BF16 may be stored as
// F32 (lossless widening; the golden BF16 checkpoint stores norms that way).
//
// It fails (returns an Error) only when the folder cannot be read at all:
// no config, an invalid config, or a file that is not valid safetensors.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/config.h"
#include "engine/model/dtype.h"
#include "engine/model/manifest.h"

namespace beluga {

struct TensorMismatch {
  std::string name;
  DType expected_dtype = DType::F32;
  std::vector<int64_t> expected_shape;
  DType found_dtype = DType::F32;
  std::vector<int64_t> found_shape;
};

struct CheckpointReport {
  std::string path;
  ModelConfig config;
  size_t files = 0;
  uint64_t tensors = 0;  // found in the files
  uint64_t bytes = 0;    // of tensor data found
  std::map<DType, uint64_t> tensors_by_dtype;
  std::map<DType, uint64_t> bytes_by_dtype;

  std::vector<std::string> missing;     // in the manifest, not in the files
  std::vector<std::string> unexpected;  // in the files, not in the manifest
  std::vector<TensorMismatch> mismatched;

  // Summary of the model, from the config.
  int64_t sliding_window_layers = 0;  // main layers only
  int64_t csa_layers = 0;
  int64_t hca_layers = 0;
  ParameterCounts parameters;

  bool valid() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
};

Result<CheckpointReport> inspect_checkpoint(const std::string& folder);

class CheckpointFiles;
// The tensor-by-tensor comparison of inspect_checkpoint(): fills the
// missing / unexpected / mismatched lists of `report`.
void compare_with_manifest(const ModelConfig& config, const CheckpointFiles& files, CheckpointReport& report);

// One line per problem, at most `limit` lines ("missing tensor 'x'", ...).
std::string describe_problems(const CheckpointReport& report, size_t limit);

std::string shape_text(const std::vector<int64_t>& shape);  // "[4096, 512]"

}  // namespace beluga
