#include "tools/output_cap.h"

#include <algorithm>

namespace beluga::tools {
namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Length of the head to show: up to the last newline when one lies in the
// second half, else backed off so a UTF-8 sequence is not split.
size_t head_cut(std::string_view head) {
  size_t newline = head.rfind('\n');
  if (newline != std::string_view::npos && newline + 1 >= head.size() / 2) return newline + 1;
  size_t n = head.size();
  // Back off over continuation bytes and their lead byte (at most 3 + 1).
  size_t back = 0;
  while (back < 4 && back < n && is_continuation(head[n - 1 - back])) ++back;
  if (back < n && back < 4 && static_cast<unsigned char>(head[n - 1 - back]) >= 0xC0) return n - 1 - back;
  return n;
}

// Offset in `tail` where the shown part starts: after the first newline
// when one lies in the first half, else past any continuation bytes.
size_t tail_cut(std::string_view tail) {
  size_t newline = tail.find('\n');
  if (newline != std::string_view::npos && newline < tail.size() / 2) return newline + 1;
  size_t start = 0;
  while (start < 4 && start < tail.size() && is_continuation(tail[start])) ++start;
  return start;
}

}  // namespace

HeadTailBuffer::HeadTailBuffer(uint64_t limit_bytes)
    : head_limit_(limit_bytes / 2), tail_limit_(limit_bytes - limit_bytes / 2) {}

void HeadTailBuffer::append(std::string_view bytes) {
  total_bytes_ += bytes.size();
  if (head_.size() < head_limit_) {
    size_t take = std::min<uint64_t>(bytes.size(), head_limit_ - head_.size());
    head_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
  }
  if (bytes.empty()) return;
  if (bytes.size() >= tail_limit_) {
    tail_.assign(bytes.substr(bytes.size() - tail_limit_));
    return;
  }
  tail_.append(bytes);
  // Trim lazily (amortised O(1) per byte): the window may grow to twice
  // its size before the oldest half is dropped.
  if (tail_.size() > 2 * tail_limit_) tail_.erase(0, tail_.size() - tail_limit_);
}

uint64_t HeadTailBuffer::dropped_bytes() const {
  uint64_t kept = head_.size() + std::min<uint64_t>(tail_.size(), tail_limit_);
  return total_bytes_ - kept;
}

std::string HeadTailBuffer::text() const {
  std::string_view tail(tail_);
  if (tail.size() > tail_limit_) tail.remove_prefix(tail.size() - tail_limit_);
  if (dropped_bytes() == 0) return head_ + std::string(tail);
  std::string_view head(head_);
  head = head.substr(0, head_cut(head));
  tail.remove_prefix(tail_cut(tail));
  uint64_t dropped = total_bytes_ - head.size() - tail.size();
  std::string out;
  out.reserve(head.size() + tail.size() + 96);
  out.append(head);
  if (!out.empty() && out.back() != '\n') out += '\n';
  out += "[... " + std::to_string(dropped) + " bytes dropped of " + std::to_string(total_bytes_) +
         " (head and tail kept) ...]\n";
  out.append(tail);
  return out;
}

std::string cap_text(std::string_view text, uint64_t limit_bytes) {
  if (text.size() <= limit_bytes) return std::string(text);
  HeadTailBuffer buffer(limit_bytes);
  buffer.append(text);
  return buffer.text();
}

}  // namespace beluga::tools
