// Small helpers the tool implementations share (not part of the public tool
// interface): cancellation polling, deadlines, and line formatting.
//
// Thread contract: stateless helpers; a Deadline is used by one thread, or
// read-only by several.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "tools/file_io.h"
#include "tools/tool.h"

namespace beluga::tools {

// The session's cancel hook, or "keep going" when none is set.
inline bool keep_going(const ToolContext& context) { return !context.keep_going || context.keep_going(); }

class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds budget) : end_(std::chrono::steady_clock::now() + budget) {}
  bool passed() const { return std::chrono::steady_clock::now() >= end_; }

 private:
  std::chrono::steady_clock::time_point end_;
};

// "tool: message", unless the message already names the tool.
inline std::string tool_error_text(std::string_view tool, const std::string& message) {
  std::string prefix = std::string(tool) + ": ";
  return message.rfind(prefix, 0) == 0 ? message : prefix + message;
}

// `line` as shown to the model: valid UTF-8, cut at `max_bytes` (on a
// character boundary) with a marker saying how much was left out.
inline std::string clip_line(std::string_view line, uint64_t max_bytes) {
  if (line.size() <= max_bytes) return to_valid_utf8(line);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
  return to_valid_utf8(line.substr(0, cut)) + " ... [line truncated: " + std::to_string(line.size() - cut) +
         " more bytes]";
}

// "    12\tline" as read shows lines (the number right-aligned in 6 columns).
inline std::string numbered_line(int64_t number, std::string_view line, uint64_t max_bytes, char separator = '\t') {
  std::string out = std::to_string(number);
  if (out.size() < 6) out.insert(0, 6 - out.size(), ' ');
  out += separator;
  out += clip_line(line, max_bytes);
  return out;
}

}  // namespace beluga::tools
