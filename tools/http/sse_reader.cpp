#include "tools/http/sse_reader.h"

namespace beluga::http {

Status SseReader::feed(std::string_view bytes, std::vector<SseEvent>& events) {
  for (char c : bytes) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // the "\n" of a "\r\n"
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      line(partial_, events);
      partial_.clear();
      continue;
    }
    if (partial_.size() >= max_line_bytes_)
      return make_error("event stream: a line longer than " + std::to_string(max_line_bytes_) + " bytes");
    partial_ += c;
  }
  return {};
}

void SseReader::finish(std::vector<SseEvent>& events) {
  if (!partial_.empty()) line(partial_, events);
  partial_.clear();
  line("", events);
}

void SseReader::line(std::string_view text, std::vector<SseEvent>& events) {
  if (text.empty()) {
    if (has_data_) events.push_back(std::move(event_));
    event_ = SseEvent{};
    has_data_ = false;
    return;
  }
  if (text[0] == ':') return;
  const size_t colon = text.find(':');
  std::string_view field = text.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  if (value.starts_with(' ')) value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) event_.data += '\n';
    event_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.type = value.empty() ? "message" : std::string(value);
  }
}

}  // namespace beluga::http
