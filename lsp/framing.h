// LSP's base protocol: messages framed by HTTP-like headers on a byte
// stream (stdio), as LSP 3.17 specifies:
//
//   Content-Length: 52\r\n
//   Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n   (optional)
//   \r\n
//   {"jsonrpc":"2.0","id":1,"method":"initialize",...}
//
// The reader is incremental (feed bytes as they arrive, take frames out)
// and never trusts its input:
// - a header block longer than max_header_bytes, a header line without a
//   colon, a missing, repeated, non-numeric or overflowing Content-Length
//   is an error event; the reader then resynchronises by dropping bytes up
//   to the next "Content-" (the start of the next header block), so one
//   bad frame costs that frame only;
// - a body longer than max_body_bytes is an error event and its bytes are
//   skipped as they arrive (memory stays bounded);
// - bare "\n" line ends are accepted as well as "\r\n" (some clients);
//   header names are case-insensitive; other headers are ignored.
// The body is handed out as bytes: JSON and JSON-RPC checks are the
// server's (lsp_server.cpp, through daemon/rpc/json_rpc.h).
//
// Thread contract: a FrameReader belongs to one thread; encode_frame is pure.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace beluga::lsp {

struct FrameLimits {
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 64u << 20;
};

struct FrameEvent {
  bool ok = true;      // false: `error` says what was wrong with the input
  std::string body;    // the message (ok)
  std::string error;   // one line for the log (!ok)
};

class FrameReader {
 public:
  explicit FrameReader(FrameLimits limits = {}) : limits_(limits) {}

  void feed(std::string_view bytes);
  // The next complete frame or error, in input order; nullopt: more bytes needed.
  std::optional<FrameEvent> next();
  // Bytes held (bounded by max_header_bytes plus one body).
  size_t buffered_bytes() const { return buffer_.size(); }

 private:
  void parse();
  bool parse_header();
  void resync();

  FrameLimits limits_;
  std::string buffer_;
  size_t body_bytes_ = 0;        // while in_body_
  bool in_body_ = false;
  size_t skip_bytes_ = 0;        // a too-large body still arriving
  bool resyncing_ = false;       // after a bad header: drop until "Content-"
  std::deque<FrameEvent> ready_;
};

// "Content-Length: N\r\n\r\n" + body.
std::string encode_frame(std::string_view body);

}  // namespace beluga::lsp
