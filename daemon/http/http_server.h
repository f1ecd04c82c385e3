// The HTTP/1.1 transport of `beluga daemon --http`: a listening TCP socket,
// one thread per connection, Boost.Beast's request parser, keep-alive.
//
// Why a thread per connection: a request's work is a model call that
// blocks (waiting in the fair model queue, then generating), so each
// connection needs a thread while it generates anyway; the connection's
// own blocking reads and writes then make backpressure plain. Connections
// are capped (max_connections; one more is answered 503 and closed), so
// threads and buffers are bounded.
//
// Reading: bytes go into Beast's parser (header at most 64 KiB; a body
// longer than max_body_bytes is refused 413 and the connection closed,
// unread). A connection idle for idle_timeout_s between requests is closed.
// Writing: a whole response, or a stream (chunked transfer encoding) whose
// writes block while the client does not read: a slow reader slows the
// generation feeding it, and memory stays bounded by the kernel's socket
// buffer. A write making no progress for write_timeout_s fails, as does any
// write to a client that went away; the stream's producer then stops.
// Whether the client went away can be polled at any time (client_gone: the
// peer closed or reset its end), which is how a generation whose answer is
// not streamed notices a disconnect.
//
// Shutdown (stop): close the listener, wake every connection (reads and
// writes fail, client_gone turns true so generations cancel), join all.
//
// Thread contract: the handler runs on connection threads, many at once;
// an Exchange is used by its connection's thread only. stop() from any
// thread but a handler; it is idempotent.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "engine/base/result.h"

namespace beluga::daemon::http {

struct HttpOptions {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 literal, or "localhost"
  uint16_t port = 0;               // 0: any free port (tests)
  std::string token;               // "": no authentication
  size_t max_body_bytes = size_t{8} << 20;
  int max_connections = 64;
  int idle_timeout_s = 300;
  int write_timeout_s = 60;
};

// "HOST:PORT" ("[::1]:8080" for IPv6); errors say what is wrong.
Result<HttpOptions> parse_listen_address(const std::string& text, HttpOptions base = {});
bool is_loopback_host(const std::string& host);

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target without its query
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  // Set when the transport refused the request before its body was read
  // (413, or 400 for a malformed request): the handler answers it in the
  // API's shape, and the connection then closes.
  int refused_status = 0;
  std::string refused_message;
  std::string header(const std::string& name) const;
};

// One request's reply, from the handler.
class Exchange {
 public:
  virtual ~Exchange() = default;
  // A whole response; false when it could not be written.
  virtual bool respond(int status, std::string_view content_type, std::string_view body,
                       const std::map<std::string, std::string>& headers = {}) = 0;
  // A chunked stream: begin, write any number of times, end.
  virtual bool begin_stream(int status, std::string_view content_type) = 0;
  virtual bool write(std::string_view bytes) = 0;
  virtual bool end_stream() = 0;
  // The client closed its end or the server stops; cheap, call often.
  virtual bool client_gone() = 0;
  // "http-N": the connection's name (queue tickets, logs).
  virtual const std::string& name() const = 0;
};

using HttpHandler = std::function<void(const HttpRequest& request, Exchange& exchange)>;

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> start(const HttpOptions& options, HttpHandler handler);
  ~HttpServer();
  void stop();
  uint16_t port() const;
  size_t connection_count() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace beluga::daemon::http
