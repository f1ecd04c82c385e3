// A real HTTP server on loopback for the remote provider's tests: it
// listens on 127.0.0.1 (port chosen by the system), reads each request with
// Boost.Beast's parser, records it, and answers with the next scripted
// handler, which writes raw bytes to the socket (so a test controls status
// lines, chunked framing, SSE events, stalls and broken streams exactly).
// Connections are served one at a time, in order; a request beyond the
// script is answered 500 and recorded.
//
// Thread contract: the server runs on its own thread; requests() and
// count() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/http/beast.h"

namespace beluga::testing {

struct CapturedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers)
      if (boost::beast::iequals(k, name)) return v;
    return "";
  }
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class ScriptedConnection {
 public:
  ScriptedConnection(boost::asio::ip::tcp::socket& socket, const std::atomic<bool>& stopping)
      : socket_(socket), stopping_(stopping) {}
  // Writes bytes as they are; false when the client has gone.
  bool write(const std::string& bytes) {
    boost::system::error_code ec;
    boost::asio::write(socket_, boost::asio::buffer(bytes), ec);
    return !ec;
  }
  // A chunk of a chunked body.
  bool chunk(const std::string& bytes) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
    return write(size + bytes + "\r\n");
  }
  // Waits until the client closes the connection or the server stops; true
  // when the client closed it.
  bool wait_for_client_close(std::chrono::seconds limit = std::chrono::seconds(60)) {
    socket_.non_blocking(true);
    const auto until = std::chrono::steady_clock::now() + limit;
    char byte;
    while (!stopping_ && std::chrono::steady_clock::now() < until) {
      boost::system::error_code ec;
      const size_t n = socket_.read_some(boost::asio::buffer(&byte, 1), ec);
      if (ec == boost::asio::error::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      if (ec || n == 0) return true;
    }
    return false;
  }
  // Holds the connection open without answering, until the server stops or
  // the client leaves.
  void stall() { wait_for_client_close(std::chrono::seconds(120)); }

 private:
  boost::asio::ip::tcp::socket& socket_;
  const std::atomic<bool>& stopping_;
};

using ScriptedHandler = std::function<void(const CapturedRequest&, ScriptedConnection&)>;

// Handlers for the usual answers.
inline std::string sse_data(const nlohmann::json& chunk) { return "data: " + chunk.dump() + "\n\n"; }

// 200 with an event stream: each event in its own chunk (chunked encoding)
// or the whole stream with Content-Length when chunked is false.
inline ScriptedHandler stream_events(std::vector<std::string> events, bool chunked = true) {
  return [events = std::move(events), chunked](const CapturedRequest&, ScriptedConnection& c) {
    if (chunked) {
      c.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (const std::string& e : events) c.chunk(e);
      c.write("0\r\n\r\n");
    } else {
      std::string body;
      for (const std::string& e : events) body += e;
      c.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n\r\n" + body);
    }
  };
}

inline ScriptedHandler answer_status(int status, std::string body, std::string extra_headers = "") {
  return [=](const CapturedRequest&, ScriptedConnection& c) {
    c.write("HTTP/1.1 " + std::to_string(status) + " Scripted\r\nContent-Type: application/json\r\n" + extra_headers +
            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  };
}

class ScriptedHttpServer {
 public:
  explicit ScriptedHttpServer(std::vector<ScriptedHandler> script)
      : script_(std::move(script)), acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedHttpServer() {
    stopping_ = true;
    // Wake a blocked accept by connecting to it.
    boost::system::error_code ec;
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket poke(io);
    poke.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
  }
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  uint16_t port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::vector<CapturedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

 private:
  void serve() {
    namespace http = boost::beast::http;
    for (size_t next = 0; !stopping_;) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) break;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::read(socket, buffer, request, ec);
      if (ec) continue;
      CapturedRequest captured;
      captured.method = std::string(request.method_string());
      captured.target = std::string(request.target());
      for (const auto& field : request) captured.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      captured.body = request.body();
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(captured);
      }
      ScriptedConnection connection(socket, stopping_);
      if (next < script_.size())
        script_[next++](captured, connection);
      else
        answer_status(500, R"({"error": {"message": "the test script has no answer for this request"}})")(captured, connection);
      socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
      socket.close(ec);
    }
  }

  std::vector<ScriptedHandler> script_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<CapturedRequest> requests_;
  std::thread thread_;
};

// Chunks of a chat.completion.chunk stream.
inline std::string delta_event(const nlohmann::json& delta, const nlohmann::json& finish = nullptr) {
  return sse_data({{"id", "c1"}, {"object", "chat.completion.chunk"}, {"model", "m"},
                   {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}});
}
inline std::string usage_event(int64_t prompt, int64_t cached) {
  return sse_data({{"id", "c1"}, {"object", "chat.completion.chunk"}, {"choices", nlohmann::json::array()},
                   {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", 5}, {"total_tokens", prompt + 5},
                              {"prompt_tokens_details", {{"cached_tokens", cached}}}}}});
}
inline std::string done_event() { return "data: [DONE]\n\n"; }

}  // namespace beluga::testing
