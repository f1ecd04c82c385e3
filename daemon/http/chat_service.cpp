#include "daemon/http/chat_service.h"

#include <ctime>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "daemon/http/wire_json.h"
#include "daemon/log.h"
#include "daemon/model_queue.h"

namespace beluga::daemon::http {
namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Compares without stopping at the first difference (the time says nothing about the token).
bool same_secret(const std::string& given, const std::string& expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ expected[i % (expected.empty() ? 1 : expected.size())]);
  return diff == 0 && !expected.empty();
}

std::string rfc3339(int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

}  // namespace

std::string served_model_name(const std::string& spec) {
  std::string path = spec.rfind("replay:", 0) == 0 ? spec.substr(7) : spec;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::filesystem::path p(path);
  std::string name = spec.rfind("replay:", 0) == 0 ? p.stem().string() : p.filename().string();
  return name.empty() ? "beluga" : name;
}

ChatService::ChatService(SharedModel& model, std::string token, GenerationOptions generation,
                         std::vector<std::unique_ptr<ApiFormat>> formats)
    : model_(model), token_(std::move(token)), model_name_(served_model_name(model.spec())),
      started_(static_cast<int64_t>(std::time(nullptr))), generator_(model, generation), formats_(std::move(formats)) {}

const ApiFormat* ChatService::format_for(const std::string& path) const {
  for (const auto& f : formats_)
    if (f->path() == path) return f.get();
  return nullptr;
}

namespace {
constexpr std::string_view kCountTokensPath = "/v1/messages/count_tokens";
}

void ChatService::handle(const HttpRequest& request, Exchange& exchange) {
  const bool counting = request.path == kCountTokensPath;
  const ApiFormat* format = format_for(counting ? "/v1/messages" : request.path);
  auto fail = [&](int status, std::string type, std::string message, std::map<std::string, std::string> headers = {}) {
    ApiError error{status, std::move(type), std::move(message)};
    exchange.respond(status, "application/json", dump(format ? format->error_body(error) : openai_error_body(error)),
                     headers);
  };
  if (!token_.empty()) {
    std::string given = request.header("x-api-key");
    const std::string authorization = request.header("authorization");
    if (authorization.rfind("Bearer ", 0) == 0) given = authorization.substr(7);
    if (!same_secret(given, token_))
      return fail(401, "authentication_error",
                  given.empty() ? "this server needs a bearer token (Authorization: Bearer ...)" : "the token is not valid",
                  {{"WWW-Authenticate", "Bearer"}});
  }
  if (request.refused_status != 0)
    return fail(request.refused_status, request.refused_status == 413 ? "request_too_large" : "invalid_request_error",
                request.refused_message);
  if (request.path == "/v1/models" || request.path.rfind("/v1/models/", 0) == 0) {
    if (request.method != "GET")
      return fail(405, "invalid_request_error", request.method + " " + request.path + ": use GET", {{"Allow", "GET"}});
    return models(request, exchange);
  }
  if (!format) return fail(404, "not_found_error", "no such path: " + request.path);
  if (request.method != "POST")
    return fail(405, "invalid_request_error", request.method + " " + request.path + ": use POST", {{"Allow", "POST"}});
  if (counting) return count_tokens(*format, request, exchange);
  chat(*format, request, exchange);
}

void ChatService::count_tokens(const ApiFormat& format, const HttpRequest& request, Exchange& exchange) {
  auto fail = [&](std::string message) {
    exchange.respond(400, "application/json",
                     dump(format.error_body(ApiError{400, "invalid_request_error", std::move(message)})));
  };
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded()) return fail("the request body is not valid JSON");
  // A count request has no max_tokens (the Messages parser requires one).
  if (body.is_object() && !body.contains("max_tokens")) body["max_tokens"] = 1;
  auto parsed = format.parse(body);
  if (!parsed) return fail(parsed.message());
  auto prepared = generator_.prepare(*parsed);
  if (!prepared) return fail(prepared.message());
  exchange.respond(200, "application/json", dump(json{{"input_tokens", model_.count_prompt_tokens(prepared->prompt)}}));
}

void ChatService::models(const HttpRequest& request, Exchange& exchange) {
  auto model = [&](const std::string& id) {
    return json{{"id", id},           {"object", "model"},        {"created", started_},
                {"owned_by", "beluga"}, {"type", "model"},         {"display_name", id},
                {"created_at", rfc3339(started_)}};
  };
  if (request.path.size() > std::string("/v1/models/").size()) {
    // Every name is served by the one model, so any id is "available".
    exchange.respond(200, "application/json", dump(model(request.path.substr(11))));
    return;
  }
  json list = {{"object", "list"},
               {"data", json::array({model(model_name_)})},
               {"has_more", false},
               {"first_id", model_name_},
               {"last_id", model_name_}};
  exchange.respond(200, "application/json", dump(list));
}

void ChatService::chat(const ApiFormat& format, const HttpRequest& request, Exchange& exchange) {
  auto fail = [&](int status, std::string type, std::string message) {
    exchange.respond(status, "application/json", dump(format.error_body(ApiError{status, std::move(type), std::move(message)})));
  };
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded()) return fail(400, "invalid_request_error", "the request body is not valid JSON");
  auto parsed = format.parse(body);
  if (!parsed) return fail(400, "invalid_request_error", parsed.message());
  ChatRequest chat = std::move(parsed).value();
  if (chat.model.empty()) chat.model = model_name_;
  auto prepared = generator_.prepare(chat);
  if (!prepared) return fail(400, "invalid_request_error", prepared.message());
  ChatOutcome head = generator_.head(chat, format);
  auto keep_going = [&exchange] { return !exchange.client_gone(); };

  if (!chat.stream) {
    auto outcome = generator_.run(chat, *prepared, format, head, exchange.name(),
                                  [&exchange](const ChatEvent&) { return !exchange.client_gone(); }, keep_going);
    if (!outcome) return fail(500, "api_error", "the model failed: " + outcome.message());
    if (outcome->finish == FinishReason::kCancelled) return;  // nobody to answer; the connection closes
    exchange.respond(200, "application/json", dump(format.response(*outcome)));
    return;
  }
  auto encoder = format.stream_for(chat);
  if (!exchange.begin_stream(200, "text/event-stream") || !exchange.write(encoder->begin(head))) return;
  auto outcome = generator_.run(chat, *prepared, format, head, exchange.name(),
                                [&](const ChatEvent& e) { return exchange.write(encoder->event(e)); }, keep_going);
  if (!outcome) {
    if (exchange.write(encoder->error(ApiError{500, "api_error", "the model failed: " + outcome.message()})))
      exchange.end_stream();
    return;
  }
  if (outcome->finish == FinishReason::kCancelled) return;
  if (exchange.write(encoder->end(*outcome))) exchange.end_stream();
}

Result<std::unique_ptr<HttpServing>> HttpServing::start(SharedModel& model, const ServingOptions& options) {
  std::unique_ptr<HttpServing> serving(new HttpServing());
  serving->service_ = std::make_unique<ChatService>(model, options.http.token, options.generation, api_formats());
  ChatService* service = serving->service_.get();
  auto server = HttpServer::start(options.http, [service](const HttpRequest& r, Exchange& e) { service->handle(r, e); });
  if (!server) return server.error();
  serving->server_ = std::move(server).value();
  serving->host_ = options.http.host.find(':') != std::string::npos ? "[" + options.http.host + "]" : options.http.host;
  const std::string where = serving->address();
  log_line("serving HTTP on " + where + (options.http.token.empty() ? " (no token)" : " (bearer token required)"));
  if (!is_loopback_host(options.http.host))
    log_line("warning: HTTP serving on " + where + " is reachable from other machines" +
             (options.http.token.empty() ? ", and no token is required" : ""));
  return serving;
}

HttpServing::~HttpServing() { stop(); }

void HttpServing::stop() {
  if (server_) server_->stop();
}

}  // namespace beluga::daemon::http
