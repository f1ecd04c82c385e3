#include "daemon/http/reuse_store.h"

#include <functional>

#include <nlohmann/json.hpp>

namespace beluga::daemon::http {
namespace {

std::string content_key(const std::string& content) {
  return "content:" + std::to_string(std::hash<std::string>{}(content)) + ":" + std::to_string(content.size());
}

std::string call_key(const std::string& id) { return "call:" + id; }

// The keys a turn is found by: its call ids, else its content (an empty
// answer is not worth finding: every empty answer would share the key).
std::vector<std::string> keys_of(const SampledTurn& turn) {
  std::vector<std::string> keys;
  for (const OutcomeToolCall& c : turn.tool_calls)
    if (!c.id.empty()) keys.push_back(call_key(c.id));
  if (turn.tool_calls.empty() && !turn.content.empty()) keys.push_back(content_key(turn.content));
  return keys;
}

bool repeats(const SampledTurn& turn, const Message& m) {
  if (m.content.value_or("") != turn.content) return false;
  if (m.reasoning_content && !m.reasoning_content->empty() && *m.reasoning_content != turn.reasoning) return false;
  if (m.tool_calls.size() != turn.tool_calls.size()) return false;
  for (size_t i = 0; i < m.tool_calls.size(); ++i) {
    const ToolCall& a = m.tool_calls[i];
    const OutcomeToolCall& b = turn.tool_calls[i];
    if (a.id != b.id || a.name != b.name || !same_json_text(a.arguments, b.arguments)) return false;
  }
  return true;
}

}  // namespace

bool same_json_text(const std::string& a, const std::string& b) {
  if (a == b) return true;
  auto x = nlohmann::json::parse(a, nullptr, false);
  auto y = nlohmann::json::parse(b, nullptr, false);
  if (x.is_discarded() || y.is_discarded()) return false;
  return x == y;
}

void ReuseStore::put(SampledTurn turn) {
  std::vector<std::string> keys = keys_of(turn);
  if (keys.empty()) return;
  size_t bytes = turn.raw_completion.size() + turn.tokens.size() * sizeof(int32_t) + turn.reasoning.size() +
                 turn.content.size();
  for (const OutcomeToolCall& c : turn.tool_calls) bytes += c.id.size() + c.name.size() + c.arguments.size();
  std::lock_guard lock(mutex_);
  // A key held by an older answer now names this one (a client that reuses
  // ids, or the same content answered twice): the older loses that key.
  for (const std::string& key : keys) {
    auto found = by_key_.find(key);
    if (found == by_key_.end()) continue;
    Entry& old = *found->second;
    std::erase(old.keys, key);
    by_key_.erase(found);
  }
  lru_.push_front(Entry{std::make_shared<const SampledTurn>(std::move(turn)), keys, bytes});
  bytes_ += bytes;
  for (const std::string& key : keys) by_key_[key] = lru_.begin();
  evict_locked();
}

void ReuseStore::evict_locked() {
  // Entries whose keys all went to newer answers are unreachable: drop them too.
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->keys.empty()) {
      bytes_ -= it->bytes;
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
  while (!lru_.empty() && (lru_.size() > max_entries_ || bytes_ > max_bytes_)) {
    Entry& last = lru_.back();
    for (const std::string& key : last.keys) by_key_.erase(key);
    bytes_ -= last.bytes;
    lru_.pop_back();
  }
}

std::shared_ptr<const SampledTurn> ReuseStore::find(const Message& assistant) {
  std::string key;
  if (!assistant.tool_calls.empty()) key = call_key(assistant.tool_calls.front().id);
  else if (assistant.content && !assistant.content->empty()) key = content_key(*assistant.content);
  else return nullptr;
  std::lock_guard lock(mutex_);
  auto found = by_key_.find(key);
  if (found == by_key_.end() || !repeats(*found->second->turn, assistant)) return nullptr;
  lru_.splice(lru_.begin(), lru_, found->second);  // iterators stay valid
  return found->second->turn;
}

size_t ReuseStore::size() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

size_t ReuseStore::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace beluga::daemon::http
