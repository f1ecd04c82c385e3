#include "engine/model/safetensors_writer.h"

#include <set>

#include <nlohmann/json.hpp>

#include "engine/model/safetensors.h"

namespace beluga {

uint64_t TensorToWrite::byte_count() const {
  uint64_t n = static_cast<uint64_t>(dtype_size_bytes(dtype));
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata,
                         const ProduceTensorBytes& produce) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::set<std::string> names;
  for (const auto& t : tensors) {
    if (t.name == "__metadata__" || !names.insert(t.name).second)
      return make_error(path + ": tensor name '" + t.name + "' is reserved or repeated");
    // The limits the reader enforces, so that whatever is written can be read.
    if (t.name.empty() || t.name.size() > kMaxTensorNameBytes)
      return make_error(path + ": tensor names must be 1 to " + std::to_string(kMaxTensorNameBytes) + " bytes");
    if (t.shape.size() > kMaxTensorRank)
      return make_error(path + ": tensor '" + t.name + "' has rank " + std::to_string(t.shape.size()) +
                        ", more than " + std::to_string(kMaxTensorRank));
    for (int64_t d : t.shape)
      if (d < 0) return make_error(path + ": tensor '" + t.name + "' has a negative dimension");
    const uint64_t end = offset + t.byte_count();
    header[t.name] = {{"dtype", std::string(dtype_name(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  return write_file_atomically(path, [&](const AppendBytes& append) -> Status {
    uint8_t length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(uint64_t{text.size()} >> (8 * i));
    if (Status s = append(length); !s) return s;
    if (Status s = append({reinterpret_cast<const uint8_t*>(text.data()), text.size()}); !s) return s;
    for (size_t i = 0; i < tensors.size(); ++i) {
      uint64_t written = 0;
      AppendBytes counted = [&](std::span<const uint8_t> bytes) -> Status {
        written += bytes.size();
        if (written > tensors[i].byte_count())
          return make_error(path + ": tensor '" + tensors[i].name + "' produced too many bytes");
        return append(bytes);
      };
      if (Status s = produce(i, counted); !s) return s;
      if (written != tensors[i].byte_count())
        return make_error(path + ": tensor '" + tensors[i].name + "' produced " + std::to_string(written) +
                          " bytes, expected " + std::to_string(tensors[i].byte_count()));
    }
    return {};
  });
}

}  // namespace beluga
