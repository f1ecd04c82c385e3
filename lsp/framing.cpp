#include "lsp/framing.h"

#include <algorithm>
#include <cctype>
#include <limits>

namespace beluga::lsp {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Position of the first "content-" (any case) at or after `from`, or npos.
size_t find_header_start(std::string_view s, size_t from) {
  static constexpr std::string_view kStart = "content-";
  for (size_t i = from; i + kStart.size() <= s.size(); ++i)
    if (iequals(s.substr(i, kStart.size()), kStart)) return i;
  return std::string_view::npos;
}

// The end of the header block (the index just past its blank line) and
// where the block's text ends, or npos.
struct HeaderEnd {
  size_t text_end = std::string_view::npos;
  size_t block_end = std::string_view::npos;
};
HeaderEnd find_header_end(std::string_view s) {
  // A blank line: "\n\n" or "\n\r\n".
  for (size_t i = s.find('\n'); i != std::string_view::npos; i = s.find('\n', i + 1)) {
    if (i + 1 < s.size() && s[i + 1] == '\n') return {i + 1, i + 2};
    if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') return {i + 1, i + 3};
  }
  return {};
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (s.size() > 60) out += "...";
  return out;
}

}  // namespace

void FrameReader::feed(std::string_view bytes) {
  if (skip_bytes_ > 0) {
    const size_t n = std::min(skip_bytes_, bytes.size());
    skip_bytes_ -= n;
    bytes.remove_prefix(n);
  }
  buffer_.append(bytes);
  parse();
}

std::optional<FrameEvent> FrameReader::next() {
  if (ready_.empty()) return std::nullopt;
  FrameEvent event = std::move(ready_.front());
  ready_.pop_front();
  return event;
}

void FrameReader::resync() {
  // Keep a tail that could be the start of "Content-" split across reads.
  const size_t at = find_header_start(buffer_, 0);
  if (at == std::string::npos) {
    const size_t keep = std::min<size_t>(buffer_.size(), 7);
    buffer_.erase(0, buffer_.size() - keep);
    return;
  }
  buffer_.erase(0, at);
  resyncing_ = false;
}

void FrameReader::parse() {
  for (;;) {
    if (skip_bytes_ > 0) {
      const size_t n = std::min(skip_bytes_, buffer_.size());
      buffer_.erase(0, n);
      skip_bytes_ -= n;
      if (skip_bytes_ > 0) return;
    }
    if (in_body_) {
      if (buffer_.size() < body_bytes_) return;
      FrameEvent event;
      event.body = buffer_.substr(0, body_bytes_);
      buffer_.erase(0, body_bytes_);
      in_body_ = false;
      ready_.push_back(std::move(event));
      continue;
    }
    if (resyncing_) {
      resync();
      if (resyncing_) return;
    }
    // Blank lines between frames are tolerated.
    size_t lead = 0;
    while (lead < buffer_.size() && (buffer_[lead] == '\r' || buffer_[lead] == '\n')) ++lead;
    buffer_.erase(0, lead);
    if (buffer_.empty()) return;
    if (!parse_header()) return;
  }
}

// Parses one header block if complete; true when it consumed something.
bool FrameReader::parse_header() {
  const HeaderEnd end = find_header_end(buffer_);
  // Decided the same way however the bytes were split: a block ending past
  // the limit, or no end within the limit's worth of bytes.
  if (end.block_end == std::string::npos || end.block_end > limits_.max_header_bytes) {
    if (end.block_end == std::string::npos && buffer_.size() < limits_.max_header_bytes) return false;
    ready_.push_back({false, "", "header block larger than " + std::to_string(limits_.max_header_bytes) +
                                     " bytes without an empty line; skipping to the next header"});
    buffer_.erase(0, 1);
    resyncing_ = true;
    return true;
  }
  std::string_view block(buffer_.data(), end.text_end);
  std::optional<size_t> length;
  std::string error;
  size_t start = 0;
  while (start < block.size() && error.empty()) {
    size_t newline = block.find('\n', start);
    if (newline == std::string_view::npos) newline = block.size();
    std::string_view line = trim(block.substr(start, newline - start));
    start = newline + 1;
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      error = "header line without ':': \"" + printable(line) + "\"";
      break;
    }
    std::string_view name = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (!iequals(name, "content-length")) continue;
    if (length) {
      error = "Content-Length given twice";
      break;
    }
    if (value.empty() || value.size() > 19 ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      error = "bad Content-Length \"" + printable(value) + "\"";
      break;
    }
    size_t n = 0;
    for (char c : value) {
      if (n > (std::numeric_limits<size_t>::max() - 9) / 10) {
        error = "Content-Length too large";
        break;
      }
      n = n * 10 + static_cast<size_t>(c - '0');
    }
    length = n;
  }
  if (error.empty() && !length) error = "header block without Content-Length";
  if (!error.empty()) {
    buffer_.erase(0, end.block_end);
    ready_.push_back({false, "", error + "; skipping to the next header"});
    resyncing_ = true;
    return true;
  }
  buffer_.erase(0, end.block_end);
  if (*length > limits_.max_body_bytes) {
    ready_.push_back({false, "", "message of " + std::to_string(*length) + " bytes is larger than the limit of " +
                                     std::to_string(limits_.max_body_bytes) + " bytes; skipped"});
    skip_bytes_ = *length;
    return true;
  }
  in_body_ = true;
  body_bytes_ = *length;
  return true;
}

std::string encode_frame(std::string_view body) {
  std::string frame = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  frame.append(body);
  return frame;
}

}  // namespace beluga::lsp
