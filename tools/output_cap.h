// Bounded capture of command and tool output: the first and last bytes are
// kept, the middle is dropped and replaced by a marker saying how much went.
//
// Why head and tail: a build or test run prints what it is doing first and
// its verdict (the error, the summary) last; the middle is the least useful
// part. Memory stays bounded by `limit_bytes` however much is appended (a
// command printing 100 MB costs about `limit_bytes`), because the tail is a
// window that is trimmed as bytes arrive.
//
// Thread contract: a plain value; one writer at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace beluga::tools {

class HeadTailBuffer {
 public:
  // Keeps at most `limit_bytes` in all: half at the head, half at the tail.
  explicit HeadTailBuffer(uint64_t limit_bytes);

  void append(std::string_view bytes);

  uint64_t total_bytes() const { return total_bytes_; }
  uint64_t dropped_bytes() const;
  bool truncated() const { return dropped_bytes() > 0; }

  // Head + marker + tail. Cuts are moved to line starts when a newline is
  // near, and never split a UTF-8 sequence, so the model sees whole lines.
  std::string text() const;

 private:
  uint64_t head_limit_;
  uint64_t tail_limit_;
  std::string head_;
  std::string tail_;  // the last bytes seen, up to 2 × tail_limit_ before trimming
  uint64_t total_bytes_ = 0;
};

// Caps `text` as if it had been appended to a HeadTailBuffer.
std::string cap_text(std::string_view text, uint64_t limit_bytes);

}  // namespace beluga::tools
