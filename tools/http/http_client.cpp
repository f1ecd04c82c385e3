// The HTTP client (http_client.h). Every network step is an asynchronous
// Asio operation on a private io_context, run in 50 ms slices so that the
// caller's keep_going and the step's deadline are checked between slices;
// either one closes the connection, which ends the pending operation.
#include "tools/http/http_client.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include <openssl/ssl.h>

#define BELUGA_HTTP_TLS
#include "tools/http/beast.h"

namespace beluga::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<std::string> ResponseHead::header(std::string_view name) const {
  for (const Header& h : headers)
    if (iequals(h.name, name)) return h.value;
  return std::nullopt;
}

Result<Url> parse_url(std::string_view text) {
  Url url;
  std::string_view rest;
  if (text.size() >= 7 && iequals(text.substr(0, 7), "http://")) {
    rest = text.substr(7);
  } else if (text.size() >= 8 && iequals(text.substr(0, 8), "https://")) {
    url.tls = true;
    rest = text.substr(8);
  } else {
    return make_error("URL '" + std::string(text) + "' must start with http:// or https://");
  }
  const size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos)
    return make_error("the URL must not hold a user name or password (give the API key through the configuration "
                      "or the environment)");
  if (tail.find('#') != std::string_view::npos) return make_error("the URL must not have a #fragment");
  std::string_view port_text;
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return make_error("URL host: unclosed '[' in an IPv6 address");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return make_error("URL host: unexpected text after the IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return make_error("URL '" + std::string(text) + "' has no host");
  url.port = url.tls ? 443 : 80;
  if (!port_text.empty()) {
    uint32_t port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port > 65535) return make_error("URL port '" + std::string(port_text) + "' is not a number 1-65535");
      port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (port == 0 || port > 65535) return make_error("URL port '" + std::string(port_text) + "' is not a number 1-65535");
    url.port = static_cast<uint16_t>(port);
  }
  url.target = tail.empty() ? "/" : std::string(tail);
  if (url.target[0] == '?') url.target.insert(0, "/");
  return url;
}

std::string host_port(const Url& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

namespace {

// Runs the io_context until the operation started before marks `done`,
// checking the caller's keep_going and the deadline every slice; either
// one calls `close`, which must make the operation complete.
class Waiter {
 public:
  explicit Waiter(const std::function<bool()>& keep_going) : keep_going_(keep_going) {}
  asio::io_context& io() { return io_; }

  template <class Close>
  void wait(const bool& done, Clock::time_point deadline, Close close) {
    while (!done) {
      if (io_.stopped()) io_.restart();
      io_.run_for(std::chrono::milliseconds(50));
      if (done) break;
      if (!cancelled_ && !timed_out_ && keep_going_ && !keep_going_()) {
        cancelled_ = true;
        close();
      } else if (!cancelled_ && !timed_out_ && Clock::now() >= deadline) {
        timed_out_ = true;
        close();
      }
    }
  }
  bool cancelled() const { return cancelled_; }
  bool timed_out() const { return timed_out_; }

 private:
  asio::io_context io_;
  const std::function<bool()>& keep_going_;
  bool cancelled_ = false, timed_out_ = false;
};

std::string seconds_text(std::chrono::milliseconds ms) {
  const auto s = ms.count() / 1000.0;
  std::string text = std::to_string(s);
  text.erase(text.find_last_not_of('0') + 1);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text + " s";
}

Outcome fail(Failure failure, std::string message, Outcome out = {}) {
  out.failure = failure;
  out.message = std::move(message);
  return out;
}

// Writes the request and reads the response over an open stream.
template <class Stream>
Outcome exchange(Waiter& waiter, Stream& stream, const Request& request, const Timeouts& timeouts,
                 const Callbacks& callbacks) {
  const std::string where = host_port(request.url);
  auto close = [&] {
    error_code ignored;
    beast::get_lowest_layer(stream).socket().close(ignored);
  };
  auto stopped = [&](Outcome out, std::string_view waiting_for, std::chrono::milliseconds limit) {
    if (waiter.cancelled()) return fail(Failure::kCancelled, "cancelled", std::move(out));
    return fail(Failure::kTimeout,
                "timed out waiting for " + std::string(waiting_for) + " from " + where + " (" + seconds_text(limit) + ")",
                std::move(out));
  };

  bhttp::request<bhttp::string_body> req;
  req.method_string(request.method);
  req.target(request.url.target);
  req.version(11);
  const bool default_port = request.url.port == (request.url.tls ? 443 : 80);
  const bool v6 = request.url.host.find(':') != std::string::npos;
  std::string host_field = v6 ? "[" + request.url.host + "]" : request.url.host;
  if (!default_port) host_field += ":" + std::to_string(request.url.port);
  req.set(bhttp::field::host, host_field);
  req.set(bhttp::field::user_agent, "beluga");
  for (const Header& h : request.headers) req.set(h.name, h.value);
  req.body() = request.body;
  req.prepare_payload();

  error_code ec;
  bool done = false;
  bhttp::async_write(stream, req, [&](error_code e, size_t) { ec = e, done = true; });
  waiter.wait(done, Clock::now() + timeouts.idle, close);
  if (waiter.cancelled() || waiter.timed_out()) return stopped({}, "the request to be sent", timeouts.idle);
  if (ec) return fail(Failure::kProtocol, "the connection to " + where + " broke while sending the request: " + ec.message());

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(std::numeric_limits<uint64_t>::max());
  done = false;
  bhttp::async_read_header(stream, buffer, parser, [&](error_code e, size_t) { ec = e, done = true; });
  waiter.wait(done, Clock::now() + timeouts.first_byte, close);
  if (waiter.cancelled() || waiter.timed_out()) return stopped({}, "the response", timeouts.first_byte);
  if (ec) return fail(Failure::kProtocol, "no valid HTTP response from " + where + ": " + ec.message());

  Outcome out;
  out.head_received = true;
  const auto& message = parser.get();
  out.head.status = static_cast<int>(message.result_int());
  out.head.reason = std::string(message.reason());
  for (const auto& field : message) out.head.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  if (callbacks.on_head && !callbacks.on_head(out.head)) {
    close();
    return fail(Failure::kCancelled, "cancelled", std::move(out));
  }

  char piece[16 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = piece;
    parser.get().body().size = sizeof piece;
    done = false;
    // read_some: hand on whatever arrived (async_read would wait for the
    // piece buffer to fill, holding back a slow stream's events).
    bhttp::async_read_some(stream, buffer, parser, [&](error_code e, size_t) { ec = e, done = true; });
    waiter.wait(done, Clock::now() + timeouts.idle, close);
    if (waiter.cancelled() || waiter.timed_out()) return stopped(std::move(out), "more of the response", timeouts.idle);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) return fail(Failure::kProtocol, "the connection to " + where + " broke while reading the response: " + ec.message(), std::move(out));
    const size_t got = sizeof piece - parser.get().body().size;
    if (got > 0 && callbacks.on_body && !callbacks.on_body(std::string_view(piece, got))) {
      close();
      return fail(Failure::kCancelled, "cancelled", std::move(out));
    }
  }
  error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

}  // namespace

Outcome send(const Request& request, const Timeouts& timeouts, const Callbacks& callbacks) {
  const Url& url = request.url;
  const std::string where = host_port(url);
  Waiter waiter(callbacks.keep_going);
  const auto connect_deadline = Clock::now() + timeouts.connect;
  auto connect_stopped = [&] {
    if (waiter.cancelled()) return fail(Failure::kCancelled, "cancelled");
    return fail(Failure::kTimeout, "cannot connect to " + where + ": timed out (" + seconds_text(timeouts.connect) + ")");
  };

  tcp::resolver resolver(waiter.io());
  tcp::resolver::results_type endpoints;
  error_code ec;
  bool done = false;
  resolver.async_resolve(url.host, std::to_string(url.port), [&](error_code e, tcp::resolver::results_type r) {
    ec = e, endpoints = std::move(r), done = true;
  });
  waiter.wait(done, connect_deadline, [&] { resolver.cancel(); });
  if (waiter.cancelled() || waiter.timed_out()) return connect_stopped();
  if (ec) return fail(Failure::kConnect, "cannot connect to " + where + ": cannot resolve " + url.host + ": " + ec.message());

  beast::tcp_stream tcp_stream(waiter.io());
  done = false;
  tcp_stream.async_connect(endpoints, [&](error_code e, const tcp::endpoint&) { ec = e, done = true; });
  waiter.wait(done, connect_deadline, [&] { tcp_stream.close(); });
  if (waiter.cancelled() || waiter.timed_out()) return connect_stopped();
  if (ec) return fail(Failure::kConnect, "cannot connect to " + where + ": " + ec.message());

  if (!url.tls) return exchange(waiter, tcp_stream, request, timeouts, callbacks);

  ssl::context context(ssl::context::tls_client);
  context.set_default_verify_paths(ec);
  if (ec) return fail(Failure::kConnect, "cannot load the system's certificate authorities: " + ec.message());
  context.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), context);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str()))
    return fail(Failure::kConnect, "cannot connect to " + where + ": cannot set the TLS server name");
  stream.set_verify_callback(ssl::host_name_verification(url.host));
  done = false;
  stream.async_handshake(ssl::stream_base::client, [&](error_code e) { ec = e, done = true; });
  waiter.wait(done, connect_deadline, [&] { beast::get_lowest_layer(stream).close(); });
  if (waiter.cancelled() || waiter.timed_out()) return connect_stopped();
  if (ec) return fail(Failure::kConnect, "cannot connect to " + where + ": TLS handshake failed: " + ec.message());
  return exchange(waiter, stream, request, timeouts, callbacks);
}

FullResponse send_collect(const Request& request, const Timeouts& timeouts, const std::function<bool()>& keep_going,
                          size_t max_body_bytes) {
  FullResponse full;
  bool too_big = false;
  Callbacks callbacks;
  callbacks.keep_going = keep_going;
  callbacks.on_body = [&](std::string_view bytes) {
    if (full.body.size() + bytes.size() > max_body_bytes) {
      too_big = true;
      return false;
    }
    full.body.append(bytes);
    return true;
  };
  full.outcome = send(request, timeouts, callbacks);
  if (too_big)
    full.outcome = fail(Failure::kProtocol, "the response from " + host_port(request.url) + " is larger than " +
                                                std::to_string(max_body_bytes) + " bytes", std::move(full.outcome));
  return full;
}

}  // namespace beluga::http
