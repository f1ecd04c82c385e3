// An HTTP/1.1 client written for the serving tests (Boost.Beast over a
// loopback TCP socket, keep-alive), and a reader of server-sent events.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tools/http/beast.h"
#include <nlohmann/json.hpp>

namespace beluga::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpTestClient {
 public:
  explicit HttpTestClient(uint16_t port) : socket_(io_) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  }

  HttpReply request(const std::string& method, const std::string& target, const std::string& body = "",
                    const std::map<std::string, std::string>& headers = {}) {
    send(method, target, body, headers);
    return read_reply();
  }
  HttpReply post(const std::string& target, const nlohmann::json& body,
                 const std::map<std::string, std::string>& headers = {}) {
    return request("POST", target, body.dump(), headers);
  }
  void send(const std::string& method, const std::string& target, const std::string& body,
            const std::map<std::string, std::string>& headers = {}) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(socket_, req);
  }
  HttpReply read_reply() {
    namespace http = boost::beast::http;
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 30);
    http::read(socket_, buffer_, parser);
    HttpReply out;
    out.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(field.value());
    }
    out.body = parser.get().body();
    return out;
  }
  // Raw bytes as they arrive (a stream read part way, then dropped).
  std::string read_some() {
    char data[4096];
    const size_t n = socket_.read_some(boost::asio::buffer(data));
    return std::string(data, n);
  }
  void write_raw(const std::string& bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }
  // Reads until the server closes; true if it did.
  bool closed_by_server() {
    boost::system::error_code ec;
    char data[4096];
    for (;;) {
      socket_.read_some(boost::asio::buffer(data), ec);
      if (ec) return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
    }
  }
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

// The "data:" payloads of an SSE body, in order; "[DONE]" stays a string.
inline std::vector<nlohmann::json> sse_data(const std::string& body) {
  std::vector<nlohmann::json> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    const std::string line = body.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("data: ", 0) != 0) continue;
    const std::string data = line.substr(6);
    out.push_back(data == "[DONE]" ? nlohmann::json("[DONE]") : nlohmann::json::parse(data));
  }
  return out;
}

}  // namespace beluga::testing
