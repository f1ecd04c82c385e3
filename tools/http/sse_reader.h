// Server-sent events (the text/event-stream format of the HTML standard),
// read incrementally from a response body in arbitrary pieces.
//
// Lines end with "\n", "\r\n" or "\r" (a "\r" at the end of a piece waits
// for the next piece to tell which). "data:" lines accumulate (joined by
// "\n"); "event:" sets the event's type; a blank line dispatches the event
// when it has data; lines starting with ":" are comments; "id:" and
// "retry:" are read and ignored (no reconnection here). One leading space
// after the colon is dropped. A line longer than `max_line_bytes` is an
// error (a server that never ends a line must not exhaust memory).
//
// Thread contract: one thread at a time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"

namespace beluga::http {

struct SseEvent {
  std::string type = "message";
  std::string data;
};

class SseReader {
 public:
  explicit SseReader(size_t max_line_bytes = size_t{16} << 20) : max_line_bytes_(max_line_bytes) {}

  // Appends the events `bytes` completes to `events`.
  Status feed(std::string_view bytes, std::vector<SseEvent>& events);
  // The body ended: an event not yet ended by a blank line is dispatched
  // (as browsers do not, but a server cut off mid-event is better reported
  // by the caller from what it holds).
  void finish(std::vector<SseEvent>& events);

 private:
  void line(std::string_view text, std::vector<SseEvent>& events);
  size_t max_line_bytes_;
  std::string partial_;         // the current line so far
  bool after_cr_ = false;       // the last byte seen was "\r"
  SseEvent event_;
  bool has_data_ = false;
};

}  // namespace beluga::http
