// The embedded provider: DeepSeek V4 in this process (engine/engine.h),
// and the pool of engine Sessions that serves it (embedded_pool.h).
//
// Prompts only grow within a conversation (the loop appends turns), so the
// KV cache is reused: each Session's record (a Conversation) remembers the
// text its Session holds (the last prompt plus what the model generated,
// end-of-sentence included) and the ids behind it. When the next prompt
// starts with that text, only the rest is tokenized and prefilled; the
// model's own turn keeps the very ids it sampled, not a re-tokenization of
// their text. The seam is always an added token (EOS ends every assistant
// turn the loop renders), so tokenizing the suffix alone gives the ids a
// whole-prompt encode would. Anything else (a rewind, a compaction, a
// Session dropped for the pool's limits) re-encodes the prompt and
// Session::sync keeps whatever common prefix it can.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <list>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "agent/embedded_pool.h"
#include "agent/model_provider.h"
#include "engine/batch_scheduler.h"
#include "engine/engine.h"
#include "engine/model/dsv4_tokens.h"
#include "engine/base/files.h"
#include "engine/model/tokenizer.h"
#include "indexer/content.h"

namespace beluga::agent {
namespace {

// Bytes of `bytes` that end on a whole UTF-8 character.
size_t complete_utf8_prefix(std::string_view bytes) {
  for (size_t back = 1; back <= 3 && back <= bytes.size(); ++back) {
    const unsigned char c = static_cast<unsigned char>(bytes[bytes.size() - back]);
    if ((c & 0xC0) == 0x80) continue;
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back ? bytes.size() - back : bytes.size();
  }
  return bytes.size();
}

// One engine Session and what it holds, as text and ids.
struct Conversation {
  std::unique_ptr<Session> session;
  std::string held_text;
  std::vector<int32_t> held_ids;
  bool busy = false;       // a call runs on it (only that call's thread touches the fields above)
  int64_t bytes = 0;       // session->state_bytes() after its last call
  uint64_t last_used = 0;  // the pool's clock at its last call's end
};

}  // namespace

struct EmbeddedPool::Parts {
  explicit Parts(Tokenizer t) : tokenizer(std::move(t)) {}
  std::string dir;
  std::unique_ptr<Engine> engine;
  Tokenizer tokenizer;
  int32_t eos = -1;
  std::string counter_identity;
  EmbeddedPoolLimits limits;
  // Destroyed in reverse: the Sessions, then the scheduler, then the engine.
  std::unique_ptr<BatchScheduler> scheduler;
  mutable std::mutex mutex;  // guards what follows
  std::map<std::string, Conversation> conversations;  // node-stable: a busy one's address holds
  uint64_t clock = 0;
  int64_t evicted = 0, temporary = 0;

  std::unique_ptr<Session> new_session() const {
    return scheduler ? scheduler->open_session() : engine->open_session();
  }

  // Under `mutex`: drops the least recently used idle conversations while
  // the kept ones exceed the limits.
  void trim() {
    for (;;) {
      int64_t bytes = 0;
      for (const auto& [key, c] : conversations) bytes += c.bytes;
      const bool over = static_cast<int64_t>(conversations.size()) > std::max<int64_t>(1, limits.max_sessions) ||
                        (limits.max_state_bytes > 0 && bytes > limits.max_state_bytes);
      if (!over) return;
      auto oldest = conversations.end();
      for (auto it = conversations.begin(); it != conversations.end(); ++it)
        if (!it->second.busy && (oldest == conversations.end() || it->second.last_used < oldest->second.last_used))
          oldest = it;
      if (oldest == conversations.end()) return;  // every one is busy: trimmed when they end
      conversations.erase(oldest);
      ++evicted;
    }
  }

  Result<Completion> run(Conversation& c, const CompletionRequest& request) {
    Completion out;
    std::vector<int32_t> ids;
    if (!c.held_text.empty() && request.prompt.size() >= c.held_text.size() &&
        request.prompt.compare(0, c.held_text.size(), c.held_text) == 0) {
      ids = c.held_ids;
      tokenizer.encode_into(std::string_view(request.prompt).substr(c.held_text.size()), true, ids);
    } else {
      ids = encode_with_known(request);
    }
    c.held_text.clear();
    c.held_ids.clear();
    const int64_t positions = engine->info().max_positions;
    out.prompt_tokens = static_cast<int64_t>(ids.size());
    if (out.prompt_tokens >= positions)
      return make_error("the prompt is " + std::to_string(out.prompt_tokens) + " tokens, the model holds " +
                        std::to_string(positions));
    size_t common = 0;
    const auto& have = c.session->tokens();
    while (common < have.size() && common < ids.size() && have[common] == ids[common]) ++common;
    out.prefilled_tokens = static_cast<int64_t>(ids.size() - (common == have.size() ? common : 0));
    SyncOptions sync;
    int64_t done = 0;
    sync.keep_going = [&] {
      if (request.on_prefill) request.on_prefill(done, out.prefilled_tokens);
      done += sync.chunk_tokens;
      return !request.keep_going || request.keep_going();
    };
    if (Status s = c.session->sync(ids, sync); !s) {
      if (request.keep_going && !request.keep_going()) {
        out.stop = CompletionStop::kCancelled;
        return out;
      }
      return s.error();
    }
    if (request.on_prefill) request.on_prefill(out.prefilled_tokens, out.prefilled_tokens);
    GenerateOptions options;
    options.keep_going = request.keep_going;
    std::string pending;  // decoded bytes ending inside a UTF-8 character
    bool stopped_by_callback = false, saw_eos = false;
    const int64_t room = std::min<int64_t>(request.max_tokens, positions - out.prompt_tokens);
    SamplingParams sampling;
    sampling.temperature = request.temperature;
    if (sampling.temperature > 0)
      sampling.seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    auto stats = c.session->generate(room, sampling, [&](int32_t token) {
      if (token == eos) {
        saw_eos = true;
        return false;
      }
      out.tokens.push_back(token);
      if (auto bytes = tokenizer.token_bytes(token)) pending.append(*bytes);
      const size_t ready = complete_utf8_prefix(pending);
      if (ready == 0) return true;
      std::string piece = pending.substr(0, ready);
      pending.erase(0, ready);
      out.text += piece;
      if (request.on_text && !request.on_text(piece)) {
        stopped_by_callback = true;
        return false;
      }
      return true;
    }, options);
    if (!stats) return stats.error();
    out.text += pending;  // an incomplete character at the very end, kept as bytes
    if (saw_eos)
      out.stop = CompletionStop::kEndOfTurn;
    else if (stopped_by_callback || stats->cancelled)
      out.stop = CompletionStop::kCancelled;
    else
      out.stop = CompletionStop::kMaxTokens;
    if (out.stop != CompletionStop::kCancelled) {
      c.held_text = request.prompt + out.text;
      c.held_ids = std::move(ids);
      c.held_ids.insert(c.held_ids.end(), out.tokens.begin(), out.tokens.end());
      if (saw_eos) {
        c.held_text += dsv4::kEos;
        c.held_ids.push_back(eos);
      }
    }
    return out;
  }

  // The prompt's ids, the model's own turns taken from `known`: each is
  // found after "<｜Assistant｜>" + <think> or </think> (added tokens, so the
  // text around it tokenizes the same on its own), in order.
  std::vector<int32_t> encode_with_known(const CompletionRequest& request) const {
    std::vector<int32_t> ids;
    std::string_view prompt = request.prompt;
    size_t pos = 0;
    for (const KnownTokens& known : request.known) {
      if (known.ids.empty() || tokenizer.decode(known.ids) != known.text) continue;
      size_t found = std::string_view::npos, at = 0;  // where the marker starts, where the text starts
      for (std::string_view opening : {dsv4::kThinkStart, dsv4::kThinkEnd}) {
        const std::string marker = std::string(dsv4::kAssistant) + std::string(opening) + known.text;
        const size_t f = prompt.find(marker, pos);
        if (f < found) found = f, at = f + marker.size() - known.text.size();
      }
      if (found == std::string_view::npos) continue;
      tokenizer.encode_into(prompt.substr(pos, at - pos), true, ids);
      ids.insert(ids.end(), known.ids.begin(), known.ids.end());
      pos = at + known.text.size();
    }
    tokenizer.encode_into(prompt.substr(pos), true, ids);
    return ids;
  }

};

namespace {

// A provider for one key of a pool.
class PoolProvider final : public ModelProvider {
 public:
  PoolProvider(std::shared_ptr<EmbeddedPool> pool, std::string key) : pool_(std::move(pool)), key_(std::move(key)) {}
  Result<Completion> complete(const CompletionRequest& request) override { return pool_->complete(key_, request); }
  int64_t count_tokens(std::string_view text) const override { return pool_->count_tokens(text); }
  int64_t count_prompt_tokens(std::string_view prompt) const override { return pool_->count_prompt_tokens(prompt); }
  int64_t context_tokens() const override { return pool_->context_tokens(); }
  std::string describe() const override { return pool_->describe(); }
  std::string token_counter_identity() const override { return pool_->token_counter_identity(); }

 private:
  std::shared_ptr<EmbeddedPool> pool_;
  std::string key_;
};

}  // namespace

EmbeddedPool::EmbeddedPool(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
EmbeddedPool::~EmbeddedPool() = default;

Result<Completion> EmbeddedPool::complete(const std::string& key, const CompletionRequest& request) {
  Parts& p = *parts_;
  Conversation* conversation = nullptr;
  std::unique_ptr<Conversation> temporary;
  {
    std::lock_guard lock(p.mutex);
    Conversation& kept = p.conversations[key];
    if (kept.busy) {
      temporary = std::make_unique<Conversation>();
      conversation = temporary.get();
      ++p.temporary;
    } else {
      kept.busy = true;
      conversation = &kept;
    }
  }
  if (!conversation->session) conversation->session = p.new_session();
  auto result = p.run(*conversation, request);
  if (!temporary) {
    const int64_t bytes = conversation->session->state_bytes();
    std::lock_guard lock(p.mutex);
    conversation->busy = false;
    conversation->bytes = bytes;
    conversation->last_used = ++p.clock;
    p.trim();
  }
  return result;
}

std::unique_ptr<ModelProvider> EmbeddedPool::provider(const std::string& key) {
  return std::make_unique<PoolProvider>(shared_from_this(), key);
}

int64_t EmbeddedPool::count_tokens(std::string_view text) const {
  return static_cast<int64_t>(parts_->tokenizer.encode(text, false).size());
}
int64_t EmbeddedPool::count_prompt_tokens(std::string_view prompt) const {
  return static_cast<int64_t>(parts_->tokenizer.encode(prompt, true).size());
}
int64_t EmbeddedPool::context_tokens() const { return parts_->engine->info().max_positions; }
std::string EmbeddedPool::describe() const { return "embedded:" + parts_->dir; }
std::string EmbeddedPool::token_counter_identity() const { return parts_->counter_identity; }
const EmbeddedPoolLimits& EmbeddedPool::limits() const { return parts_->limits; }

EmbeddedPoolStats EmbeddedPool::stats() const {
  EmbeddedPoolStats out;
  {
    std::lock_guard lock(parts_->mutex);
    out.sessions = static_cast<int64_t>(parts_->conversations.size());
    for (const auto& [key, c] : parts_->conversations) {
      out.busy += c.busy ? 1 : 0;
      out.state_bytes += c.bytes;
    }
    out.evicted = parts_->evicted;
    out.temporary = parts_->temporary;
  }
  if (parts_->scheduler) {
    const BatchStats b = parts_->scheduler->stats();
    out.steps = b.steps;
    out.chunks = b.chunks;
    out.rows = b.rows;
    out.largest_step = b.largest_step;
  }
  return out;
}

nlohmann::json stats_json(const EmbeddedPoolStats& s) {
  return {{"sessions", s.sessions}, {"busy", s.busy}, {"stateBytes", s.state_bytes}, {"evicted", s.evicted},
          {"temporary", s.temporary},
          {"batch", {{"steps", s.steps}, {"chunks", s.chunks}, {"rows", s.rows}, {"largestStep", s.largest_step}}}};
}

Result<std::shared_ptr<EmbeddedPool>> EmbeddedPool::open(const std::string& model_dir, const EmbeddedPoolLimits& limits) {
  const std::string tokenizer_path = model_dir + "/tokenizer.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(tokenizer_path, ec))
    return make_error("--model " + model_dir + ": no tokenizer.json in the checkpoint folder (the agent needs it)");
  auto tokenizer_bytes = read_text_file(tokenizer_path, uint64_t{1} << 30);
  if (!tokenizer_bytes) return tokenizer_bytes.error();
  auto tokenizer = Tokenizer::parse(*tokenizer_bytes, tokenizer_path);
  if (!tokenizer) return tokenizer.error();
  auto eos = tokenizer->token_id(dsv4::kEos);
  if (!eos) return make_error(tokenizer_path + ": has no " + std::string(dsv4::kEos) + " token (not a V4 tokenizer)");
  auto engine = Engine::load(model_dir);
  if (!engine) return engine.error();
  if (tokenizer->vocab_size() > (*engine)->info().vocab_size)
    return make_error(tokenizer_path + ": its ids reach " + std::to_string(tokenizer->vocab_size()) +
                      ", more than the model's vocab_size " + std::to_string((*engine)->info().vocab_size));
  auto parts = std::make_unique<Parts>(std::move(tokenizer).value());
  parts->dir = model_dir;
  parts->engine = std::move(engine).value();
  parts->eos = *eos;
  parts->counter_identity = "tokenizer:" + indexer::content_hash(*tokenizer_bytes);
  parts->limits = limits;
  if (limits.batch) {
    BatchOptions batch;
    batch.gather_wait = limits.gather_wait;
    parts->scheduler = std::make_unique<BatchScheduler>(parts->engine->model(), batch);
  }
  return std::shared_ptr<EmbeddedPool>(new EmbeddedPool(std::move(parts)));
}

Result<std::unique_ptr<ModelProvider>> open_embedded_provider(const std::string& model_dir) {
  // One caller: one Session, model calls on the caller's thread.
  auto pool = EmbeddedPool::open(model_dir, EmbeddedPoolLimits{1, 0, false, {}});
  if (!pool) return pool.error();
  return (*pool)->provider("");
}

}  // namespace beluga::agent
