// Writes a safetensors file (format: safetensors.h) by streaming each
// tensor's bytes in order, so a multi-gigabyte file never sits in memory.
// The header is padded with spaces to a multiple of 8 bytes so that the data
// section is 8-byte aligned. The file appears atomically (temp + rename).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/base/files.h"
#include "engine/base/result.h"
#include "engine/model/dtype.h"

namespace beluga {

struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;

  uint64_t byte_count() const;
};

// produce(i, append) must append exactly tensors[i].byte_count() bytes; the
// writer checks it.
using ProduceTensorBytes = std::function<Status(size_t index, const AppendBytes& append)>;

Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata,
                         const ProduceTensorBytes& produce);

}  // namespace beluga
