// One HTTP chat request on the daemon's shared model:
//
//   ChatRequest --prepare--> the V4 prompt (re-sent answers swapped for
//   what the model sampled, ReuseStore) --run--> SharedModel::complete_chat
//   (the fair queue, as every session's call) --DsmlStreamParser-->
//   ChatEvents (reasoning and content deltas; a tool call as soon as its
//   name is known, then its arguments in pieces) --> ChatOutcome with usage.
//
// Tool-call ids are made here: the format's prefix and 24 random letters
// and digits. Stop strings apply to the content: the text stops before the
// first one (held back while it could still be the start of one), and the
// model is stopped there. Text the parser cannot read (the model broke the
// DSML grammar) goes on to the client as content from that point on, so a
// malformed answer is delivered, not dropped. Every text handed out is
// valid UTF-8 (an invalid byte becomes U+FFFD), so a client re-sends
// exactly what it was given.
//
// KV reuse: every finished answer (not cancelled, not cut by a stop
// string) is put in the ReuseStore; prepare() finds the re-sent ones, and
// their Message::raw_completion and agent::KnownTokens make the prompt the
// model's own text and ids again, so the embedded engine prefills only
// what is new. usage.cached_prompt_tokens is prompt_tokens minus the
// tokens prefilled. One log line per request: prompt tokens, reused,
// generated, time.
//
// Thread contract: a ChatGenerator is shared by every connection; prepare
// and run are thread-safe (the model queue serialises the model).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/model_provider.h"
#include "daemon/http/chat_api.h"
#include "daemon/http/reuse_store.h"

namespace beluga::daemon {
class SharedModel;
}

namespace beluga::daemon::http {

struct GenerationOptions {
  int64_t default_max_tokens = 8192;  // when the request names no max_tokens
  size_t reuse_entries = 512;
  size_t reuse_bytes = size_t{64} << 20;
};

struct PreparedChat {
  std::string prompt;
  std::vector<agent::KnownTokens> known;
  int64_t reused_turns = 0;  // re-sent answers found in the store
};

class ChatGenerator {
 public:
  explicit ChatGenerator(SharedModel& model, GenerationOptions options = {});

  // The response's id (the format's prefix), creation time and model name.
  ChatOutcome head(const ChatRequest& request, const ApiFormat& format) const;
  // The prompt; an error is the client's (a conversation V4 cannot render).
  Result<PreparedChat> prepare(const ChatRequest& request);
  // Runs the prepared prompt in the queue as `who`. `on_event` gets each
  // event in order and returns false once the client is gone (generation
  // stops); `keep_going` is polled while waiting and between tokens. A
  // cancelled run answers finish kCancelled; an error is the model's.
  Result<ChatOutcome> run(const ChatRequest& request, const PreparedChat& prepared, const ApiFormat& format,
                          ChatOutcome head, const std::string& who,
                          const std::function<bool(const ChatEvent&)>& on_event,
                          const std::function<bool()>& keep_going);

  ReuseStore& store() { return store_; }

 private:
  SharedModel& model_;
  GenerationOptions options_;
  ReuseStore store_;
};

// `prefix` and `length` random letters and digits.
std::string random_id(std::string_view prefix, size_t length = 24);

// Holds back content that could be the start of a stop string; `hit`
// once one was found (the text before it is returned, nothing after).
class StopFilter {
 public:
  explicit StopFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  std::string feed(std::string_view text);
  std::string flush();
  bool hit() const { return hit_; }
  // The stop string that ended the text (the longest of those found at the
  // earliest position); empty until hit().
  const std::string& matched() const { return matched_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  std::string matched_;
  bool hit_ = false;
};

}  // namespace beluga::daemon::http
