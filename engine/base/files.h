// Small file helpers shared by every layer: read a whole (bounded) file,
// and write a file atomically (temp file in the same folder, fsync, rename),
// so a crash never leaves a half-written config, index or checkpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "engine/base/result.h"

namespace beluga {

// Reads `path` into a string. Refuses files larger than `max_bytes`.
Result<std::string> read_text_file(const std::string& path, uint64_t max_bytes);

// Streams a file into place atomically: `fill` receives a writer callback
// that appends bytes; if `fill` fails or any write fails, the temp file is
// removed and `path` is untouched.
using AppendBytes = std::function<Status(std::span<const uint8_t>)>;
Status write_file_atomically(const std::string& path,
                             const std::function<Status(const AppendBytes&)>& fill);

Status write_text_file_atomically(const std::string& path, const std::string& text);

}  // namespace beluga
