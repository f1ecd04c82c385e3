// The remote provider (`--model remote:URL`): a DeepSeek V4 served
// elsewhere behind an OpenAI-compatible chat completions endpoint (vLLM,
// SGLang, the DeepSeek API, or beluga's own `beluga daemon --http`). See
// docs/remote.md.
//
// URL rule: URL is the API's base; requests go to URL + "/chat/completions"
// (and URL + "/models" to find the model name). A URL without a path
// (http://host:8000, https://api.deepseek.com) gets "/v1" added; a URL
// with a path is used as written (http://host:8000/v1, a proxy's
// https://gw.example/deepseek/v1). A trailing "/" or "/chat/completions"
// is dropped first.
//
// Settings, first found wins:
//   model    BELUGA_REMOTE_MODEL; [remote] model in the user's config.toml;
//            else GET URL/models, when the server lists exactly one model.
//   API key  BELUGA_REMOTE_API_KEY; the variable named by [remote]
//            api_key_env; DEEPSEEK_API_KEY when the host is
//            api.deepseek.com; else no Authorization header. The key is
//            only ever put in that header: errors, describe(), events and
//            session records never hold it (a server's error text that
//            echoes it has it replaced by "[redacted]").
//   others   [remote] context_tokens (1,048,576), slots (4: the daemon's
//            concurrent calls), max_attempts (5), connect_timeout_s (15),
//            first_byte_timeout_s (300), idle_timeout_s (120), tokenizer
//            (a tokenizer.json: count_tokens exact; else the bytes/3
//            estimate, which overestimates V4's tokens on code).
//
// The request needs the conversation the prompt was rendered from
// (CompletionRequest::conversation): a raw prompt (beluga/complete's FIM)
// is refused with an error saying FIM needs the embedded engine.
//
// Retries: a connection failure, HTTP 429 and 5xx are retried up to
// max_attempts tries in all, waiting Retry-After when the server sends it
// (at most 60 s), else 0.5 s, 1 s, 2 s ... (at most 30 s) times a random
// factor in [0.5, 1]; never once any of the answer was handed to on_text.
// Timeouts and malformed streams are reported, not retried.
//
// Thread contract: a provider serves one call at a time (ModelProvider);
// providers opened from one RemoteSettings are independent.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "agent/agent_config.h"
#include "agent/model_provider.h"
#include "engine/base/result.h"
#include "engine/model/tokenizer.h"
#include "tools/http/http_client.h"

namespace beluga::agent {

struct RemoteSettings {
  http::Url base;              // the API base (the URL rule applied)
  std::string display_url;     // the base as text, without any query
  std::string model;           // empty: ask the server (open_remote_provider)
  std::string api_key;         // empty: none sent; never logged
  std::string api_key_source;  // e.g. "BELUGA_REMOTE_API_KEY", for messages
  int64_t context_tokens = int64_t{1} << 20;
  int slots = 4;
  int max_attempts = 5;
  http::Timeouts timeouts;
  std::chrono::milliseconds backoff_first{500};
  std::chrono::milliseconds backoff_max{30'000};
  std::chrono::milliseconds retry_after_max{60'000};
  std::string tokenizer_path;  // empty: the bytes/3 estimate
  // Loaded from tokenizer_path by open_remote_provider (once; a copy
  // shares the tables).
  std::shared_ptr<const Tokenizer> tokenizer;
  std::string tokenizer_identity;
};

// Environment lookup (getenv by default; tests pass their own).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();

// The settings for `url` (what follows "remote:") from the config's
// [remote] table and the environment, by the precedence above.
Result<RemoteSettings> resolve_remote_settings(const std::string& url, const RemoteConfig& config, const EnvLookup& env);

// A provider on resolved settings: when the model is not named, asks the
// server's /models once (and fills settings.model for the next provider).
Result<std::unique_ptr<ModelProvider>> open_remote_provider(RemoteSettings& settings);

// "remote:URL": the user's config and the process environment.
Result<std::unique_ptr<ModelProvider>> open_remote_provider(const std::string& url);

}  // namespace beluga::agent
