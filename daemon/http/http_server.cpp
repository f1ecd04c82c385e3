#include "daemon/http/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <thread>

#include "tools/http/beast.h"  // Asio and Beast, <utility> first

#include "daemon/log.h"

namespace beluga::daemon::http {
namespace beast_http = boost::beast::http;
using Clock = std::chrono::steady_clock;

constexpr size_t kHeaderLimit = 64 * 1024;

std::string HttpRequest::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

Result<HttpOptions> parse_listen_address(const std::string& text, HttpOptions base) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size())
    return make_error("--http " + text + ": expected HOST:PORT (127.0.0.1:8080, [::1]:8080)");
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return make_error("--http " + text + ": no host (127.0.0.1 serves this machine only)");
  const std::string port = text.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
    return make_error("--http " + text + ": the port must be a number from 0 to 65535");
  in_addr v4{};
  in6_addr v6{};
  if (host != "localhost" && ::inet_pton(AF_INET, host.c_str(), &v4) != 1 && ::inet_pton(AF_INET6, host.c_str(), &v6) != 1)
    return make_error("--http " + text + ": the host must be an IP address or localhost");
  base.host = host;
  base.port = static_cast<uint16_t>(std::stoul(port));
  return base;
}

struct HttpServer::Impl {
  HttpOptions options;
  HttpHandler handler;
  int listen_fd = -1;
  int wake_fd = -1;  // an eventfd, written once at stop and never read: every poll wakes
  uint16_t port = 0;
  std::atomic<bool> stopping{false};
  std::thread listener;
  struct Conn {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  mutable std::mutex mutex;
  std::list<Conn> conns;
  uint64_t next_id = 0;

  void listen_loop();
  void reap(bool all);
  void serve(int fd, uint64_t id);
};

namespace {

class Connection final : public Exchange {
 public:
  Connection(HttpServer::Impl& server, int fd, uint64_t id)
      : server_(server), fd_(fd), name_("http-" + std::to_string(id)) {}
  ~Connection() override { ::close(fd_); }

  enum class Read { kRequest, kClosed, kRefused };

  Read read_request(HttpRequest& out) {
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(server_.options.max_body_bytes);
    parser.eager(true);
    bool any = !pending_.empty();
    bool continued = false;
    auto fill_head = [&] {
      if (!parser.is_header_done()) return;
      out.method = std::string(parser.get().method_string());
      std::string target(parser.get().target());
      out.path = target.substr(0, target.find('?'));
      for (const auto& field : parser.get()) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(field.value());
      }
    };
    auto refuse = [&](int status, std::string message) {
      fill_head();
      out.refused_status = status;
      out.refused_message = std::move(message);
      keep_alive_ = false;
      return Read::kRefused;
    };
    for (;;) {
      if (!pending_.empty()) {
        boost::beast::error_code ec;
        const size_t used = parser.put(boost::asio::buffer(pending_), ec);
        pending_.erase(0, used);
        if (ec == beast_http::error::body_limit)
          return refuse(413, "the request body is larger than " + std::to_string(server_.options.max_body_bytes) +
                                 " bytes (the server's limit)");
        if (ec == beast_http::error::header_limit) return refuse(431, "the request header is too large");
        if (ec && ec != beast_http::error::need_more) return refuse(400, "malformed HTTP request: " + ec.message());
        if (parser.is_done()) break;
        // curl and others wait for "100 Continue" before sending a large body.
        if (parser.is_header_done() && !continued) {
          continued = true;
          auto expect = parser.get().find(beast_http::field::expect);
          if (expect != parser.get().end() && boost::beast::iequals(expect->value(), "100-continue") &&
              !send_all("HTTP/1.1 100 Continue\r\n\r\n"))
            return Read::kClosed;
        }
        if (used > 0 && !ec) continue;
      }
      char buffer[16384];
      const int wait_ms = server_.options.idle_timeout_s * 1000;
      if (!wait(POLLIN, wait_ms)) return Read::kClosed;
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        if (!any) return Read::kClosed;
        boost::beast::error_code ec;
        parser.put_eof(ec);
        if (ec || !parser.is_done()) return Read::kClosed;
        break;
      }
      any = true;
      pending_.append(buffer, static_cast<size_t>(n));
    }
    fill_head();
    out.body = std::move(parser.get().body());
    keep_alive_ = parser.get().keep_alive();
    return Read::kRequest;
  }

  bool respond(int status, std::string_view content_type, std::string_view body,
               const std::map<std::string, std::string>& headers) override {
    std::string head = status_line(status);
    head += "Content-Type: " + std::string(content_type) + "\r\n";
    head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& [k, v] : headers) head += k + ": " + v + "\r\n";
    if (!keep_alive_) head += "Connection: close\r\n";
    head += "\r\n";
    complete_ = send_all(head) && send_all(body);
    return complete_;
  }
  bool begin_stream(int status, std::string_view content_type) override {
    std::string head = status_line(status);
    head += "Content-Type: " + std::string(content_type) + "\r\n";
    head += "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n";
    if (!keep_alive_) head += "Connection: close\r\n";
    head += "\r\n";
    return send_all(head);
  }
  bool write(std::string_view bytes) override {
    if (bytes.empty()) return !broken_;
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
    return send_all(std::string(size) + std::string(bytes) + "\r\n");
  }
  bool end_stream() override {
    complete_ = send_all("0\r\n\r\n");
    return complete_;
  }
  bool client_gone() override {
    if (broken_ || server_.stopping.load()) return true;
    pollfd p{fd_, POLLRDHUP, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) broken_ = true;
    return broken_;
  }
  const std::string& name() const override { return name_; }

  bool keep_alive() const { return keep_alive_ && complete_ && !broken_; }
  // After refusing a request whose body was not read: closing at once with
  // unread bytes would reset the connection and could destroy the answer
  // before the client reads it, so say we are done writing and discard
  // what still arrives, for a while (a bounded amount of time and bytes).
  void linger_close() {
    ::shutdown(fd_, SHUT_WR);
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    size_t discarded = 0;
    char buffer[16384];
    while (!broken_ && !server_.stopping.load() && discarded < (size_t{64} << 20) && Clock::now() < deadline) {
      if (!wait(POLLIN, 250)) continue;
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) break;
      discarded += static_cast<size_t>(n);
    }
  }
  void start_request() { complete_ = false; }
  void set_keep_alive(bool keep) { keep_alive_ = keep; }

 private:
  static std::string status_line(int status) {
    const auto reason = beast_http::obsolete_reason(static_cast<beast_http::status>(status));
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  }
  // Waits until `events` on the socket, the stop or `timeout_ms`; false unless the socket is ready.
  bool wait(short events, int timeout_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (server_.stopping.load()) return false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p[2] = {{fd_, events, 0}, {server_.wake_fd, POLLIN, 0}};
      const int n = ::poll(p, 2, static_cast<int>(std::min<int64_t>(left, 1000)));
      if (n < 0 && errno != EINTR) return false;
      if (n > 0 && p[1].revents) return false;
      if (n > 0 && p[0].revents) return true;
    }
  }
  bool send_all(std::string_view data) {
    while (!broken_ && !data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      // A full socket buffer: the client reads slower than we write. Wait,
      // at most write_timeout_s without progress.
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait(POLLOUT, server_.options.write_timeout_s * 1000))
        continue;
      broken_ = true;
    }
    return !broken_;
  }

  HttpServer::Impl& server_;
  int fd_;
  std::string name_;
  std::string pending_;  // received, not yet parsed (a pipelined next request)
  bool keep_alive_ = true;
  bool complete_ = false;
  bool broken_ = false;
};

}  // namespace

void HttpServer::Impl::serve(int fd, uint64_t id) {
  Connection conn(*this, fd, id);
  for (;;) {
    HttpRequest request;
    const Connection::Read read = conn.read_request(request);
    if (read == Connection::Read::kClosed) return;
    conn.start_request();
    try {
      handler(request, conn);
    } catch (const std::exception& e) {
      log_line(conn.name() + ": request failed: " + e.what());
      conn.set_keep_alive(false);
      conn.respond(500, "application/json", R"({"error":{"message":"internal error","type":"api_error"}})", {});
    }
    if (read == Connection::Read::kRefused) return conn.linger_close();
    if (!conn.keep_alive() || stopping.load()) return;
  }
}

void HttpServer::Impl::reap(bool all) {
  std::list<Conn> finished;
  {
    std::lock_guard lock(mutex);
    for (auto it = conns.begin(); it != conns.end();) {
      if (all || it->done->load()) {
        auto next = std::next(it);
        finished.splice(finished.end(), conns, it);
        it = next;
      } else {
        ++it;
      }
    }
  }
  for (Conn& c : finished) c.thread.join();
}

void HttpServer::Impl::listen_loop() {
  std::deque<std::pair<int, Clock::time_point>> refused;  // answered 503, closing soon (at most 256)
  auto close_refused = [&refused](bool all) {
    while (!refused.empty() &&
           (all || refused.size() > 256 || Clock::now() - refused.front().second > std::chrono::seconds(1))) {
      ::close(refused.front().first);
      refused.pop_front();
    }
  };
  while (!stopping.load()) {
    pollfd p[2] = {{listen_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    const int n = ::poll(p, 2, refused.empty() ? 1000 : 250);
    reap(false);
    close_refused(false);
    if (stopping.load()) break;
    if (n <= 0 || !(p[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mutex);
    if (static_cast<int>(conns.size()) >= options.max_connections) {
      const std::string body = R"({"error":{"message":"too many connections","type":"api_error","param":null,"code":null}})";
      const std::string busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      (void)!::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL);
      // Closed a little later, not now: closing with the client's request
      // unread would reset the connection and could destroy the answer.
      ::shutdown(fd, SHUT_WR);
      refused.emplace_back(fd, Clock::now());
      continue;
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    const uint64_t id = ++next_id;
    conns.push_back(Conn{std::thread([this, fd, id, done] {
                           serve(fd, id);
                           done->store(true);
                         }),
                         done});
  }
  close_refused(true);
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpOptions& options, HttpHandler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  const std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return make_error("http: " + host + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, ::freeaddrinfo);
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return make_error(std::string("http: socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return make_error("http: cannot listen on " + host + ":" + port + ": " + why);
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  impl->port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  impl->listen_fd = fd;
  impl->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->wake_fd < 0) {
    ::close(fd);
    return make_error(std::string("http: eventfd: ") + std::strerror(errno));
  }
  Impl* raw = impl.get();
  impl->listener = std::thread([raw] { raw->listen_loop(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  const uint64_t one = 1;
  (void)!::write(impl_->wake_fd, &one, sizeof one);
  if (impl_->listener.joinable()) impl_->listener.join();
  impl_->reap(true);
  ::close(impl_->listen_fd);
  ::close(impl_->wake_fd);
}

uint16_t HttpServer::port() const { return impl_->port; }

size_t HttpServer::connection_count() const {
  std::lock_guard lock(impl_->mutex);
  size_t open = 0;
  for (const Impl::Conn& c : impl_->conns) open += c.done->load() ? 0 : 1;
  return open;
}

}  // namespace beluga::daemon::http
