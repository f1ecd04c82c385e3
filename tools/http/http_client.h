// A small HTTP/1.1 client for talking to model servers (and, later, MCP's
// streamable HTTP transport): one request per call on a fresh connection,
// http or https, with the response body streamed to the caller as it
// arrives.
//
//   - https verifies the server's certificate against the system's roots
//     (OpenSSL's default paths) and its host name; SNI is sent.
//   - Bodies framed by Content-Length, chunked transfer encoding or the end
//     of the connection are all read the same way (Boost.Beast's parser).
//   - Timeouts: connect (resolve + TCP + TLS handshake), first byte (from
//     the request written to the response head) and idle (between two
//     pieces of the body). A timeout is reported as such, never retried
//     here: retry policy belongs to the caller, which knows whether output
//     was already used.
//   - Cancellation: `keep_going` is polled about every 50 ms while waiting
//     on the network; false closes the connection and the call returns
//     kCancelled. on_body returning false does the same.
//   - Errors name the host and port, never the request's headers (they may
//     hold an API key) nor the URL's query.
//
// A connection is not kept for a later call: a model call lasts seconds to
// minutes, so a TCP (and TLS) handshake per call costs nothing measurable,
// and no pool means no stale-connection retries.
//
// Thread contract: pure functions; each call owns its own I/O context, so
// calls on different threads are independent. Callbacks run on the calling
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/result.h"

namespace beluga::http {

struct Url {
  bool tls = false;    // https
  std::string host;    // without brackets for IPv6 literals
  uint16_t port = 0;   // explicit or the scheme's default
  std::string target;  // path and query, at least "/"
};

// http://HOST[:PORT][/PATH][?QUERY] or https://...; user info ("user:pass@")
// is refused (a secret in a URL ends up in logs), as is a fragment.
Result<Url> parse_url(std::string_view text);
// "HOST:PORT" ("[::1]:PORT" for IPv6), for messages.
std::string host_port(const Url& url);

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "POST";
  Url url;
  std::vector<Header> headers;  // Host, Content-Length and User-Agent are added
  std::string body;
};

struct Timeouts {
  std::chrono::milliseconds connect{15'000};
  std::chrono::milliseconds first_byte{300'000};  // a long prompt's prefill may take minutes
  std::chrono::milliseconds idle{120'000};
};

struct ResponseHead {
  int status = 0;
  std::string reason;
  std::vector<Header> headers;
  // The first header of that name (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
};

enum class Failure {
  kNone,
  kConnect,    // resolve, TCP connect or TLS handshake failed (nothing was sent)
  kTimeout,    // a timeout ran out (`message` says which)
  kCancelled,  // keep_going or on_body said stop
  kProtocol,   // the connection broke or the server answered something that is not HTTP
};

struct Outcome {
  Failure failure = Failure::kNone;
  std::string message;      // why, when failure != kNone
  bool head_received = false;
  ResponseHead head;        // when head_received
};

struct Callbacks {
  std::function<bool()> keep_going;                  // optional
  std::function<bool(const ResponseHead& head)> on_head;  // optional; before any of the body
  std::function<bool(std::string_view bytes)> on_body;  // optional; the body in pieces
};

// Sends `request` and reads the response; the body goes to on_body as it
// arrives (also for error statuses: the caller decides what to keep).
Outcome send(const Request& request, const Timeouts& timeouts, const Callbacks& callbacks);

// send() with the body collected (at most `max_body_bytes`, else a
// kProtocol failure).
struct FullResponse {
  Outcome outcome;
  std::string body;
};
FullResponse send_collect(const Request& request, const Timeouts& timeouts, const std::function<bool()>& keep_going,
                          size_t max_body_bytes);

}  // namespace beluga::http
