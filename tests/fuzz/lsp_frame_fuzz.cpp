// Fuzzes the LSP frame reader (lsp/framing.h). Byte 0 picks a split
// stride; the rest is the stream. It may not crash; the events must be the
// same whether the stream arrives at once or in pieces; the reader's
// buffer stays within its bounds; and every frame it accepts re-encodes to
// a frame that reads back to the same body.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lsp/framing.h"

namespace {

using beluga::lsp::FrameEvent;
using beluga::lsp::FrameLimits;
using beluga::lsp::FrameReader;

std::vector<FrameEvent> read_all(std::string_view stream, size_t stride, const FrameLimits& limits) {
  FrameReader reader(limits);
  std::vector<FrameEvent> events;
  for (size_t at = 0; at < stream.size(); at += stride) {
    reader.feed(stream.substr(at, stride));
    if (reader.buffered_bytes() > limits.max_header_bytes + limits.max_body_bytes + stride) std::abort();
    while (auto e = reader.next()) events.push_back(std::move(*e));
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t stride = 1 + data[0] % 17;
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  FrameLimits limits;
  limits.max_header_bytes = 256;
  limits.max_body_bytes = 4096;
  auto whole = read_all(stream, stream.size() + 1, limits);
  auto pieces = read_all(stream, stride, limits);
  // A header cut by the limit differs only in where the error fires, so
  // compare the accepted bodies, which must agree.
  std::vector<std::string> a, b;
  for (auto& e : whole)
    if (e.ok) a.push_back(e.body);
  for (auto& e : pieces)
    if (e.ok) b.push_back(e.body);
  for (auto& e : whole)
    if (!e.ok && e.error.empty()) std::abort();
  if (a != b) std::abort();
  for (const auto& body : a) {
    if (body.size() > limits.max_body_bytes) std::abort();
    FrameReader again(limits);
    again.feed(beluga::lsp::encode_frame(body));
    auto e = again.next();
    if (!e || !e->ok || e->body != body) std::abort();
  }
  return 0;
}
