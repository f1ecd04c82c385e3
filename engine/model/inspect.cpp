#include "engine/model/inspect.h"

#include <algorithm>
#include <unordered_set>

#include "engine/model/checkpoint_files.h"

namespace beluga {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

void compare_with_manifest(const ModelConfig& config, const CheckpointFiles& files, CheckpointReport& report) {
  std::unordered_set<std::string> expected;
  for_each_tensor(config, [&](const TensorSpec& spec) {
    expected.insert(spec.name);
    auto found = files.find(spec.name);
    if (!found) {
      report.missing.push_back(spec.name);
      return;
    }
    const TensorEntry& entry = *found->entry;
    const bool dtype_ok = entry.dtype == spec.dtype || (spec.dtype == DType::BF16 && entry.dtype == DType::F32);
    if (!dtype_ok || entry.shape != spec.shape)
      report.mismatched.push_back({spec.name, spec.dtype, spec.shape, entry.dtype, entry.shape});
  });
  for (const TensorView& t : files.all_tensors())
    if (!expected.count(t.entry->name)) report.unexpected.push_back(t.entry->name);
  std::sort(report.unexpected.begin(), report.unexpected.end());

}

std::string describe_problems(const CheckpointReport& report, size_t limit) {
  std::vector<std::string> lines;
  for (const auto& name : report.missing) lines.push_back("missing tensor '" + name + "'");
  for (const auto& m : report.mismatched)
    lines.push_back("tensor '" + m.name + "' is " + std::string(dtype_name(m.found_dtype)) + " " +
                    shape_text(m.found_shape) + ", expected " + std::string(dtype_name(m.expected_dtype)) + " " +
                    shape_text(m.expected_shape));
  for (const auto& name : report.unexpected) lines.push_back("unexpected tensor '" + name + "'");
  std::string text;
  for (size_t i = 0; i < lines.size() && i < limit; ++i) text += (i ? "\n  " : "  ") + lines[i];
  if (lines.size() > limit) text += "\n  ... and " + std::to_string(lines.size() - limit) + " more";
  return text;
}

Result<CheckpointReport> inspect_checkpoint(const std::string& folder) {
  auto config = load_model_config(folder + "/" + std::string(kConfigFileName));
  if (!config) return config.error();
  auto files = CheckpointFiles::open(folder);
  if (!files) return files.error();

  CheckpointReport report;
  report.path = folder;
  report.config = std::move(config).value();
  report.files = files->files().size();
  for (const TensorView& t : files->all_tensors()) {
    ++report.tensors;
    report.bytes += t.entry->byte_count();
    ++report.tensors_by_dtype[t.entry->dtype];
    report.bytes_by_dtype[t.entry->dtype] += t.entry->byte_count();
  }

  compare_with_manifest(report.config, *files, report);

  const ModelConfig& c = report.config;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    switch (c.attention_kind(i)) {
      case AttentionKind::kSlidingWindow: ++report.sliding_window_layers; break;
      case AttentionKind::kCSA: ++report.csa_layers; break;
      case AttentionKind::kHCA: ++report.hca_layers; break;
    }
  }
  report.parameters = count_parameters(c);
  return report;
}

}  // namespace beluga
