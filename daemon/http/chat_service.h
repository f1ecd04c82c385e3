// HTTP serving: the routes over the transport (http_server.h), the
// formats (chat_api.h) and the generation (generation.h).
//
//   GET  /v1/models, /v1/models/{id}   the served model (a list shape both
//                                      OpenAI's and Anthropic's SDKs parse)
//   POST <format path>                 a chat request in that API's format
//                                      (api_formats() lists them)
//
// Every request first passes the bearer token when one is configured
// ("Authorization: Bearer T" or Anthropic's "x-api-key: T"; else 401).
// Errors on a format's path are in that format's error shape, elsewhere in
// OpenAI's: 400 (a body that is not JSON or not a valid request), 401, 404
// (no such path), 405 (wrong method, with Allow), 413 (body over the
// limit), 500 (the model failed). Any model name a client sends is served
// by the daemon's one model and echoed back.
//
// Thread contract: handle() runs on many connection threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/http/chat_api.h"
#include "daemon/http/generation.h"
#include "daemon/http/http_server.h"

namespace beluga::daemon {
class SharedModel;
}

namespace beluga::daemon::http {

// Every API the server speaks, one line each (api_formats.cpp): the one
// place a new format is registered.
std::vector<std::unique_ptr<ApiFormat>> api_formats();

// The name /v1/models lists for a model spec: the checkpoint folder's
// name, or the replay file's name without its extension.
std::string served_model_name(const std::string& spec);

struct ServingOptions {
  HttpOptions http;
  GenerationOptions generation;
};

class ChatService {
 public:
  ChatService(SharedModel& model, std::string token, GenerationOptions generation,
              std::vector<std::unique_ptr<ApiFormat>> formats);
  void handle(const HttpRequest& request, Exchange& exchange);
  ChatGenerator& generator() { return generator_; }

 private:
  const ApiFormat* format_for(const std::string& path) const;
  void models(const HttpRequest& request, Exchange& exchange);
  void chat(const ApiFormat& format, const HttpRequest& request, Exchange& exchange);
  // POST /v1/messages/count_tokens: the prompt a Messages request renders
  // to, counted with the model's tokenizer (Claude Code asks before it
  // sends); nothing runs on the model.
  void count_tokens(const ApiFormat& format, const HttpRequest& request, Exchange& exchange);

  SharedModel& model_;
  std::string token_;
  std::string model_name_;
  int64_t started_;  // Unix seconds, the models' "created"
  ChatGenerator generator_;
  std::vector<std::unique_ptr<ApiFormat>> formats_;
};

// The service on a listening server: what the daemon starts with --http.
class HttpServing {
 public:
  static Result<std::unique_ptr<HttpServing>> start(SharedModel& model, const ServingOptions& options);
  ~HttpServing();
  void stop();
  uint16_t port() const { return server_->port(); }
  std::string address() const { return host_ + ":" + std::to_string(port()); }
  size_t connection_count() const { return server_->connection_count(); }
  ChatService& service() { return *service_; }

 private:
  HttpServing() = default;
  std::unique_ptr<ChatService> service_;
  std::unique_ptr<HttpServer> server_;
  std::string host_;
};

}  // namespace beluga::daemon::http
