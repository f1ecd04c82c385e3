// What the model sampled for recent HTTP answers, so a client that re-sends
// the whole history gets the very prompt (and token ids) the model saw.
//
// A client gets back parsed pieces (reasoning, content, tool calls with ids
// the server made) and re-sends them on its next turn; rendering those
// pieces again need not reproduce the model's text byte for byte (JSON
// arguments re-serialised, a cut-off tool block closed, an invalid UTF-8
// byte replaced), and tokenizing the text again need not give the ids the
// model sampled. Each answer is kept here as its raw completion ("<think>"
// or "</think>", then the text) and its ids, found again by any of its
// tool-call ids, or, for an answer without calls, by its content. A
// candidate is used only when the re-sent turn says what was answered: the
// same content, the same calls (names, ids, arguments as JSON values) and,
// when the client sends reasoning back, the same reasoning.
//
// Bounded: least recently used answers go first once `max_entries` or
// `max_bytes` (raw text, ids, parsed pieces) is passed.
//
// Thread contract: all methods are thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/http/chat_api.h"

namespace beluga::daemon::http {

struct SampledTurn {
  std::string raw_completion;   // Message::raw_completion: the opening, then the model's text
  std::vector<int32_t> tokens;  // the sampled ids of the text (empty for a replayed model)
  // What the client was given.
  std::string reasoning;
  std::string content;
  std::vector<OutcomeToolCall> tool_calls;
};

class ReuseStore {
 public:
  explicit ReuseStore(size_t max_entries = 512, size_t max_bytes = size_t{64} << 20)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  void put(SampledTurn turn);
  // The answer `assistant` (a re-sent assistant turn) repeats, or null.
  std::shared_ptr<const SampledTurn> find(const Message& assistant);

  size_t size() const;
  size_t bytes() const;

 private:
  struct Entry {
    std::shared_ptr<const SampledTurn> turn;
    std::vector<std::string> keys;
    size_t bytes = 0;
  };
  using Lru = std::list<Entry>;
  void evict_locked();

  const size_t max_entries_;
  const size_t max_bytes_;
  mutable std::mutex mutex_;
  Lru lru_;  // most recent first
  std::unordered_map<std::string, Lru::iterator> by_key_;
  size_t bytes_ = 0;
};

// Whether two JSON texts hold the same value (texts that are not JSON
// compare as text).
bool same_json_text(const std::string& a, const std::string& b);

}  // namespace beluga::daemon::http
