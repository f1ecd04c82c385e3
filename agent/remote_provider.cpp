// The remote provider (remote_provider.h): settings, the model lookup, and
// one model call with its retries. The JSON of the API lives in
// openai_chat.cpp, the transport in tools/http.
#include "agent/remote_provider.h"

#include <algorithm>
#include <cstdlib>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/openai_chat.h"
#include "engine/base/files.h"
#include "indexer/content.h"
#include "indexer/token_count.h"
#include "tools/http/sse_reader.h"

namespace beluga::agent {

using Clock = std::chrono::steady_clock;

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value || !*value) return std::nullopt;
    return std::string(value);
  };
}

namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr size_t kMaxModelsBody = 1 << 20;

bool ends_with(std::string_view text, std::string_view tail) { return text.size() >= tail.size() && text.ends_with(tail); }

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Every error leaves through here: a server that echoes the key in its
// error text must not put it in our messages.
std::string redact(std::string text, const std::string& secret) {
  if (secret.size() < 4) return text;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
    text.replace(at, secret.size(), "[redacted]");
  return text;
}

// Sleeps `wait` in slices, polling keep_going; false when cancelled.
bool sleep_polling(std::chrono::milliseconds wait, const std::function<bool()>& keep_going) {
  const auto until = Clock::now() + wait;
  while (Clock::now() < until) {
    if (keep_going && !keep_going()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(50), until - Clock::now()));
  }
  return !keep_going || keep_going();
}

// Retry-After in seconds (the HTTP-date form is not honoured: backoff).
std::optional<std::chrono::milliseconds> retry_after(const http::ResponseHead& head) {
  auto value = head.header("Retry-After");
  if (!value || value->empty() || value->size() > 9) return std::nullopt;
  int64_t seconds = 0;
  for (char c : *value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::milliseconds(seconds * 1000);
}

bool retryable_status(int status) { return status == 429 || (status >= 500 && status <= 599); }

class RemoteProvider final : public ModelProvider {
 public:
  explicit RemoteProvider(RemoteSettings settings) : settings_(std::move(settings)), random_(std::random_device{}()) {}

  Result<Completion> complete(const CompletionRequest& request) override;
  int64_t count_tokens(std::string_view text) const override {
    if (settings_.tokenizer) return static_cast<int64_t>(settings_.tokenizer->encode(text, false).size());
    return indexer::estimate_tokens(text);
  }
  int64_t context_tokens() const override { return settings_.context_tokens; }
  std::string describe() const override { return "remote:" + settings_.display_url + " model " + settings_.model; }
  std::string token_counter_identity() const override {
    return settings_.tokenizer ? settings_.tokenizer_identity : indexer::estimated_token_counter().identity;
  }

 private:
  // One try: the outcome, and whether another try may follow.
  struct Attempt {
    std::optional<Completion> completion;  // success or a cancelled call
    std::string error;
    bool retry = false;
    std::optional<std::chrono::milliseconds> wait;  // the server's Retry-After
  };
  Attempt attempt(const CompletionRequest& request, const http::Request& http_request);
  std::string status_error(int status, std::string_view body) const;

  RemoteSettings settings_;
  std::mt19937_64 random_;
};

std::string RemoteProvider::status_error(int status, std::string_view body) const {
  std::string code;
  const std::string said = error_body_message(body, &code);
  const std::string http = "HTTP " + std::to_string(status) + (said.empty() ? "" : ": " + said);
  if (status == 401 || status == 403) {
    const std::string key = settings_.api_key.empty()
                                ? "no API key was sent (set BELUGA_REMOTE_API_KEY, or name a variable with [remote] api_key_env)"
                                : "the key came from " + settings_.api_key_source;
    return "the remote server refused the API key (" + http + "); " + key;
  }
  const std::string said_lower = lower(said);
  const bool model_unknown = said_lower.find("model") != std::string::npos &&
                             (said_lower.find("not exist") != std::string::npos || said_lower.find("not found") != std::string::npos);
  if (status == 404 || code == "model_not_found" || (status == 400 && model_unknown))
    return "the remote server does not know the model '" + settings_.model + "' or has no " + settings_.base.target +
           "/chat/completions (" + http + "); check the model name (BELUGA_REMOTE_MODEL, [remote] model) and the URL";
  if (status == 429) return "the remote server is rate limiting (" + http + ")";
  if (status >= 500) return "the remote server failed (" + http + ")";
  return "the remote server rejected the request (" + http + ")";
}

RemoteProvider::Attempt RemoteProvider::attempt(const CompletionRequest& request, const http::Request& http_request) {
  Attempt result;
  ChatStreamDecoder decoder(request.render_options.thinking_mode, request.on_text);
  http::SseReader sse;
  std::vector<http::SseEvent> events;
  int status = 0;
  bool event_stream = false;
  std::string error_body, stream_error;
  auto take_events = [&] {
    for (const http::SseEvent& event : events) {
      if (Status s = decoder.feed(event.data); !s) {
        stream_error = s.message();
        break;
      }
      if (decoder.stopped()) break;
    }
    events.clear();
    return stream_error.empty() && !decoder.stopped();
  };
  http::Callbacks callbacks;
  callbacks.keep_going = request.keep_going;
  callbacks.on_head = [&](const http::ResponseHead& head) {
    status = head.status;
    event_stream = lower(head.header("Content-Type").value_or("")).find("text/event-stream") != std::string::npos;
    return true;
  };
  callbacks.on_body = [&](std::string_view bytes) {
    if (status != 200 || !event_stream) {
      if (error_body.size() < kMaxErrorBody) error_body.append(bytes.substr(0, kMaxErrorBody - error_body.size()));
      return true;
    }
    if (Status s = sse.feed(bytes, events); !s) {
      stream_error = s.message();
      return false;
    }
    return take_events();
  };
  const http::Outcome outcome = http::send(http_request, settings_.timeouts, callbacks);

  auto completion_so_far = [&](CompletionStop stop) {
    Completion c;
    c.text = decoder.text();
    c.tool_call_ids = decoder.tool_call_ids();
    c.generated_tokens = decoder.completion_tokens().value_or(0);
    c.stop = stop;
    c.prompt_tokens = decoder.prompt_tokens().value_or(count_tokens(request.prompt));
    c.prefilled_tokens = std::max<int64_t>(0, c.prompt_tokens - decoder.cached_tokens().value_or(0));
    return c;
  };
  if (!stream_error.empty()) {
    result.error = stream_error;
    return result;
  }
  if (decoder.stopped() || (outcome.failure == http::Failure::kCancelled)) {
    result.completion = completion_so_far(CompletionStop::kCancelled);
    return result;
  }
  switch (outcome.failure) {
    case http::Failure::kNone: break;
    case http::Failure::kCancelled: break;  // handled above
    case http::Failure::kConnect:
      result.error = outcome.message;
      result.retry = true;
      return result;
    case http::Failure::kTimeout:
      result.error = outcome.message;
      return result;
    case http::Failure::kProtocol:
      result.error = outcome.message;
      result.retry = !decoder.emitted_any();
      return result;
  }
  if (status != 200) {
    result.error = status_error(status, error_body);
    result.retry = retryable_status(status);
    if (result.retry) result.wait = retry_after(outcome.head);
    return result;
  }
  if (!event_stream) {
    result.error = "the remote server answered with " + outcome.head.header("Content-Type").value_or("no Content-Type") +
                   ", not an event stream (text/event-stream) as a streamed chat completion";
    return result;
  }
  sse.finish(events);
  if (!take_events()) {
    if (!stream_error.empty()) result.error = stream_error;
    else result.completion = completion_so_far(CompletionStop::kCancelled);
    return result;
  }
  if (Status s = decoder.finish(); !s) {
    result.error = s.message();
    return result;
  }
  if (decoder.stopped()) {
    result.completion = completion_so_far(CompletionStop::kCancelled);
    return result;
  }
  result.completion = completion_so_far(decoder.finish_reason() == ChatFinish::kLength ? CompletionStop::kMaxTokens
                                                                                        : CompletionStop::kEndOfTurn);
  return result;
}

Result<Completion> RemoteProvider::complete(const CompletionRequest& request) {
  const std::string who = "remote model " + settings_.display_url + ": ";
  if (!request.conversation)
    return make_error(who + "this call has only prompt text (fill-in-the-middle completion); a remote model is sent "
                            "chat messages, so fill-in-the-middle needs the embedded engine (--model DIR)");
  ChatRequestOptions options;
  options.model = settings_.model;
  options.max_tokens = request.max_tokens;
  options.temperature = request.temperature;
  options.template_kwargs = lower(settings_.base.host) != "api.deepseek.com";
  auto body = chat_request_body(*request.conversation, request.render_options, options);
  if (!body) return make_error(redact(who + body.message(), settings_.api_key));
  http::Request http_request;
  http_request.url = settings_.base;
  http_request.url.target = settings_.base.target + "/chat/completions";
  http_request.headers.push_back({"Content-Type", "application/json"});
  http_request.headers.push_back({"Accept", "text/event-stream"});
  if (!settings_.api_key.empty()) http_request.headers.push_back({"Authorization", "Bearer " + settings_.api_key});
  http_request.body = std::move(body).value();

  std::chrono::milliseconds backoff = settings_.backoff_first;
  for (int attempt_number = 1;; ++attempt_number) {
    Attempt a = attempt(request, http_request);
    if (a.completion) return std::move(*a.completion);
    if (!a.retry || attempt_number >= settings_.max_attempts) {
      std::string message = who + a.error;
      if (a.retry) message += " (gave up after " + std::to_string(attempt_number) + " attempts)";
      return make_error(redact(std::move(message), settings_.api_key));
    }
    std::chrono::milliseconds wait;
    if (a.wait) {
      wait = std::min(*a.wait, settings_.retry_after_max);
    } else {
      std::uniform_real_distribution<double> jitter(0.5, 1.0);
      wait = std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(backoff.count()) * jitter(random_)));
      backoff = std::min(backoff * 2, settings_.backoff_max);
    }
    if (!sleep_polling(wait, request.keep_going)) {
      Completion cancelled;
      cancelled.stop = CompletionStop::kCancelled;
      return cancelled;
    }
  }
}

// The base URL rule of remote_provider.h.
Result<http::Url> api_base(std::string text) {
  auto url = http::parse_url(text);
  if (!url) return url.error();
  std::string& target = url->target;
  if (target.find('?') != std::string::npos)
    return make_error("remote:URL must not have a query (?...): give the API's base, e.g. http://host:8000/v1");
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  if (ends_with(target, "/chat/completions")) target.resize(target.size() - std::string_view("/chat/completions").size());
  while (!target.empty() && target.back() == '/') target.pop_back();
  if (target.empty()) target = "/v1";
  return url;
}

}  // namespace

Result<RemoteSettings> resolve_remote_settings(const std::string& url, const RemoteConfig& config, const EnvLookup& env) {
  if (url.empty())
    return make_error("--model remote:URL needs the server's API base after 'remote:' (e.g. remote:http://127.0.0.1:8000/v1)");
  auto base = api_base(url);
  if (!base) return make_error("--model remote:" + std::string(url.find('@') == std::string::npos ? url : "URL") + ": " + base.message());
  RemoteSettings s;
  s.base = std::move(base).value();
  s.display_url = (s.base.tls ? "https://" : "http://") + http::host_port(s.base) + s.base.target;
  if (auto model = env("BELUGA_REMOTE_MODEL")) s.model = *model;
  else if (config.model) s.model = *config.model;
  if (auto key = env("BELUGA_REMOTE_API_KEY")) {
    s.api_key = *key, s.api_key_source = "BELUGA_REMOTE_API_KEY";
  } else if (config.api_key_env) {
    auto key = env(*config.api_key_env);
    if (!key)
      return make_error("[remote] api_key_env names " + *config.api_key_env + ", which is not set in the environment");
    s.api_key = *key, s.api_key_source = *config.api_key_env + " ([remote] api_key_env)";
  } else if (lower(s.base.host) == "api.deepseek.com") {
    if (auto key = env("DEEPSEEK_API_KEY")) s.api_key = *key, s.api_key_source = "DEEPSEEK_API_KEY";
  }
  for (char c : s.api_key)
    if (c == '\r' || c == '\n' || c == '\0') return make_error("the API key from " + s.api_key_source + " holds a line break");
  auto positive = [](std::optional<int64_t> value, int64_t fallback, const char* key) -> Result<int64_t> {
    if (!value) return fallback;
    if (*value < 1) return make_error(std::string("[remote] ") + key + " must be at least 1");
    return *value;
  };
  auto context = positive(config.context_tokens, s.context_tokens, "context_tokens");
  auto slots = positive(config.slots, s.slots, "slots");
  auto attempts = positive(config.max_attempts, s.max_attempts, "max_attempts");
  auto connect = positive(config.connect_timeout_s, s.timeouts.connect.count() / 1000, "connect_timeout_s");
  auto first = positive(config.first_byte_timeout_s, s.timeouts.first_byte.count() / 1000, "first_byte_timeout_s");
  auto idle = positive(config.idle_timeout_s, s.timeouts.idle.count() / 1000, "idle_timeout_s");
  for (const auto* r : {&context, &slots, &attempts, &connect, &first, &idle})
    if (!*r) return r->error();
  s.context_tokens = *context;
  s.slots = static_cast<int>(std::min<int64_t>(*slots, 256));
  s.max_attempts = static_cast<int>(std::min<int64_t>(*attempts, 100));
  s.timeouts.connect = std::chrono::seconds(*connect);
  s.timeouts.first_byte = std::chrono::seconds(*first);
  s.timeouts.idle = std::chrono::seconds(*idle);
  if (config.tokenizer) s.tokenizer_path = *config.tokenizer;
  return s;
}

Result<std::unique_ptr<ModelProvider>> open_remote_provider(RemoteSettings& settings) {
  if (!settings.tokenizer_path.empty() && !settings.tokenizer) {
    auto bytes = read_text_file(settings.tokenizer_path, uint64_t{1} << 30);
    if (!bytes) return make_error("[remote] tokenizer: " + bytes.message());
    auto tokenizer = Tokenizer::parse(*bytes, settings.tokenizer_path);
    if (!tokenizer) return make_error("[remote] tokenizer: " + tokenizer.message());
    settings.tokenizer = std::make_shared<const Tokenizer>(std::move(tokenizer).value());
    settings.tokenizer_identity = "tokenizer:" + indexer::content_hash(*bytes);
  }
  if (settings.model.empty()) {
    const std::string who = "remote model " + settings.display_url + ": ";
    http::Request request;
    request.method = "GET";
    request.url = settings.base;
    request.url.target = settings.base.target + "/models";
    if (!settings.api_key.empty()) request.headers.push_back({"Authorization", "Bearer " + settings.api_key});
    http::Timeouts timeouts = settings.timeouts;
    timeouts.first_byte = std::min<std::chrono::milliseconds>(timeouts.first_byte, std::chrono::seconds(60));
    auto response = http::send_collect(request, timeouts, nullptr, kMaxModelsBody);
    const auto& outcome = response.outcome;
    auto fail = [&](std::string message) { return make_error(redact(who + message, settings.api_key)); };
    if (outcome.failure != http::Failure::kNone) return fail(outcome.message);
    if (outcome.head.status == 401 || outcome.head.status == 403)
      return fail("the remote server refused the API key (HTTP " + std::to_string(outcome.head.status) + ": " +
                  error_body_message(response.body) + ")" +
                  (settings.api_key.empty() ? "; no API key was sent (set BELUGA_REMOTE_API_KEY)" : ""));
    const std::string name_it = "name the model with BELUGA_REMOTE_MODEL or [remote] model in config.toml";
    if (outcome.head.status != 200)
      return fail("no model name is configured and GET " + request.url.target + " answered HTTP " +
                  std::to_string(outcome.head.status) + ": " + name_it);
    auto listing = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    std::vector<std::string> ids;
    if (listing.is_object() && listing.contains("data") && listing["data"].is_array())
      for (const auto& entry : listing["data"])
        if (entry.is_object() && entry.contains("id") && entry["id"].is_string()) ids.push_back(entry["id"]);
    if (ids.size() != 1) {
      std::string list;
      for (const std::string& id : ids) list += (list.empty() ? "" : ", ") + id;
      return fail("no model name is configured and the server lists " +
                  (ids.empty() ? std::string("no model") : std::to_string(ids.size()) + " models (" + list + ")") + ": " +
                  name_it);
    }
    settings.model = ids[0];
  }
  return std::unique_ptr<ModelProvider>(new RemoteProvider(settings));
}

Result<std::unique_ptr<ModelProvider>> open_remote_provider(const std::string& url) {
  auto config = load_user_agent_config();
  if (!config) return config.error();
  auto settings = resolve_remote_settings(url, config->remote, process_environment());
  if (!settings) return settings.error();
  return open_remote_provider(*settings);
}

}  // namespace beluga::agent
