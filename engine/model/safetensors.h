// Safetensors: the file format of DeepSeek V4 checkpoints.
//
//   OFFSET   SIZE  MEANING
//   0        8     N, little-endian u64: length of the JSON header
//   8        N     JSON object, UTF-8, may be padded with trailing spaces:
//                    "__metadata__": {string: string}            (optional)
//                    "<tensor name>": {"dtype": "BF16",
//                                      "shape": [d0, d1, ...],
//                                      "data_offsets": [begin, end]}
//   8+N      ...   the data section; offsets are relative to its start
//
// The parser trusts nothing: the header length is bounded (100 MiB) and must
// fit in the file, the JSON is parsed with a depth limit, duplicate names are
// refused, every dtype must be known, shape x dtype size must equal the byte
// length, and the tensors must tile the data section exactly (no overlap, no
// hole, nothing past the end) — the rules of the reference implementation.
// Every error names the file and, where there is one, the tensor.
//
// Tensors are used in place from a read-only memory map; nothing is copied.
//
// Thread contract: SafetensorsFile is const after open(); share freely.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/mapped_file.h"
#include "engine/base/result.h"
#include "engine/model/dtype.h"

namespace beluga {

inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100u << 20;
inline constexpr size_t kMaxTensorNameBytes = 4096;
inline constexpr size_t kMaxTensorRank = 16;

struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t data_begin = 0;  // relative to the data section
  uint64_t data_end = 0;

  int64_t element_count() const;
  uint64_t byte_count() const { return data_end - data_begin; }
};

struct SafetensorsLayout {
  uint64_t header_bytes = 0;   // N above
  uint64_t data_offset = 0;    // 8 + N: where the data section starts in the file
  std::vector<TensorEntry> tensors;  // in header order
  std::map<std::string, std::string> metadata;
};

// Parses and validates the header of a whole safetensors file held in
// `file_bytes`. `label` (usually the path) prefixes every message.
Result<SafetensorsLayout> parse_safetensors(std::span<const uint8_t> file_bytes,
                                            std::string_view label);

// A tensor's description plus its bytes inside a mapped file.
struct TensorView {
  const TensorEntry* entry = nullptr;
  std::span<const uint8_t> bytes;
  const std::string* file = nullptr;  // path of the file holding it
};

// One mapped, validated safetensors file.
class SafetensorsFile {
 public:
  static Result<SafetensorsFile> open(const std::string& path);

  const std::string& path() const { return file_.path(); }
  const SafetensorsLayout& layout() const { return layout_; }
  const std::vector<TensorEntry>& tensors() const { return layout_.tensors; }
  TensorView view(const TensorEntry& entry) const;

 private:
  MappedFile file_;
  SafetensorsLayout layout_;
};

}  // namespace beluga
