// Engine and Session: see engine.h.
//
// Session keeps two stacks: the main model's state and, when the model has
// an MTP block, the MTP block's state. Invariant after every call: the MTP
// block has consumed one row for each position p < last (the main streams
// of p paired with token p+1), so drafting the token after next costs one
// MTP row.

#include "engine/engine.h"

#include <algorithm>

#include "engine/batch_scheduler.h"
#include "engine/runtime/model.h"
#include "engine/runtime/state_io.h"

namespace beluga {

struct Session::State {
  StackState main;
  bool has_mtp = false;
  StackState mtp;
  std::vector<float> last_hidden;  // final streams of the last token
};

Result<std::unique_ptr<Engine>> Engine::load(const std::string& model_folder) {
  auto model = Model::load(model_folder);
  if (!model) return model.error();
  auto engine = std::unique_ptr<Engine>(new Engine());
  engine->model_ = std::move(model).value();
  return engine;
}

Engine::~Engine() = default;

ModelInfo Engine::info() const {
  const ModelConfig& c = model_->config();
  return {c.vocab_size, c.hidden_size, c.num_hidden_layers, c.num_nextn_predict_layers, c.max_position_embeddings,
          c.bos_token_id.value_or(-1), c.eos_token_id.value_or(-1)};
}

std::unique_ptr<Session> Engine::open_session() const { return std::make_unique<Session>(*model_); }

Session::Session(const Model& model, BatchScheduler* scheduler) : model_(model), scheduler_(scheduler) { reset(); }
Session::~Session() = default;

void Session::reset() {
  state_ = std::make_unique<State>();
  state_->main = model_.new_state();
  state_->has_mtp = model_.config().num_nextn_predict_layers > 0;
  if (state_->has_mtp) state_->mtp = model_.new_mtp_state();
  tokens_.clear();
  last_logits_.clear();
}

Result<ChunkResult> Session::run_main(const SequenceChunk& chunk) {
  if (scheduler_) return scheduler_->forward(chunk);
  auto out = model_.forward(std::span<const SequenceChunk>(&chunk, 1), {});
  if (!out) return out.error();
  return std::move(out->front());
}

Result<ChunkResult> Session::run_mtp(std::span<const float> hidden, std::span<const int32_t> next_tokens,
                                     bool logits) {
  if (scheduler_) return scheduler_->forward_mtp(state_->mtp, hidden, next_tokens, logits);
  const MtpChunk chunk{&state_->mtp, hidden, next_tokens, logits};
  auto out = model_.forward_mtp(std::span<const MtpChunk>(&chunk, 1), {});
  if (!out) return out.error();
  return std::move(out->front());
}

namespace {

// Membership of a scheduler's batch for the length of a sync() or generate().
struct BatchMembership {
  BatchScheduler* scheduler;
  explicit BatchMembership(BatchScheduler* s) : scheduler(s) {
    if (scheduler) scheduler->join();
  }
  ~BatchMembership() {
    if (scheduler) scheduler->leave();
  }
  BatchMembership(const BatchMembership&) = delete;
  BatchMembership& operator=(const BatchMembership&) = delete;
};

}  // namespace

Status Session::append(std::span<const int32_t> tokens, int64_t chunk_tokens, const KeepGoing& keep_going) {
  const size_t width = static_cast<size_t>(model_.config().hc_mult * model_.config().hidden_size);
  const size_t step = static_cast<size_t>(std::max<int64_t>(1, chunk_tokens));
  for (size_t begin = 0; begin < tokens.size(); begin += step) {
    if (keep_going && !keep_going())
      return make_error("cancelled after " + std::to_string(begin) + " of " + std::to_string(tokens.size()) + " new tokens");
    std::span<const int32_t> chunk = tokens.subspan(begin, std::min(step, tokens.size() - begin));
    SequenceChunk sequence{&state_->main, chunk};
    sequence.keep_hidden = state_->has_mtp;
    auto result = run_main(sequence);
    if (!result) return result.error();
    ChunkResult& out = *result;
    if (state_->has_mtp) {
      // MTP rows: (streams of the previous last token, first new token), then
      // (streams of new token i, new token i+1).
      std::vector<float> rows;
      std::vector<int32_t> next;
      if (!state_->last_hidden.empty()) {
        rows.insert(rows.end(), state_->last_hidden.begin(), state_->last_hidden.end());
        next.push_back(chunk[0]);
      }
      rows.insert(rows.end(), out.hidden.begin(), out.hidden.end() - static_cast<std::ptrdiff_t>(width));
      next.insert(next.end(), chunk.begin() + 1, chunk.end());
      if (!next.empty()) {
        auto mtp = run_mtp(rows, next, false);
        if (!mtp) return mtp.error();
      }
      state_->last_hidden.assign(out.hidden.end() - static_cast<std::ptrdiff_t>(width), out.hidden.end());
    }
    last_logits_ = std::move(out.logits);
    tokens_.insert(tokens_.end(), chunk.begin(), chunk.end());
  }
  return {};
}

Status Session::sync(std::span<const int32_t> tokens, const SyncOptions& options) {
  BatchMembership member(scheduler_);
  return sync_now(tokens, options);
}

Status Session::sync_now(std::span<const int32_t> tokens, const SyncOptions& options) {
  const bool extends = tokens.size() >= tokens_.size() && std::equal(tokens_.begin(), tokens_.end(), tokens.begin());
  if (!extends) reset();
  if (tokens.size() > static_cast<size_t>(model_.config().max_position_embeddings))
    return make_error("the transcript has " + std::to_string(tokens.size()) + " tokens, more than the model's " +
                      std::to_string(model_.config().max_position_embeddings) + " positions");
  return append(tokens.subspan(tokens_.size()), options.chunk_tokens, options.keep_going);
}

Result<GenerateStats> Session::generate(int64_t max_tokens, const SamplingParams& sampling,
                                        const std::function<bool(int32_t)>& on_token, const GenerateOptions& options) {
  BatchMembership member(scheduler_);
  return generate_now(max_tokens, sampling, on_token, options);
}

Result<GenerateStats> Session::generate_now(int64_t max_tokens, const SamplingParams& sampling,
                                            const std::function<bool(int32_t)>& on_token,
                                            const GenerateOptions& options) {
  if (Status s = validate(sampling); !s) return s.error();
  if (tokens_.empty()) return make_error("generate needs at least one token in the session (a prompt)");
  GenerateStats stats;
  Sampler sampler(sampling);
  const bool greedy = sampling.temperature == 0.0f;
  const bool speculate = options.speculative && greedy && (state_->has_mtp || options.drafter);
  const int64_t limit = model_.config().max_position_embeddings;
  auto emit = [&](int32_t token) {
    ++stats.tokens;
    return on_token ? on_token(token) : true;
  };

  while (stats.tokens < max_tokens) {
    if (options.keep_going && !options.keep_going()) {
      stats.cancelled = true;
      break;
    }
    if (static_cast<int64_t>(tokens_.size()) >= limit) break;
    const int32_t next = sampler.sample(last_logits_);
    const bool room_for_two = stats.tokens + 2 <= max_tokens && static_cast<int64_t>(tokens_.size()) + 2 <= limit;
    if (!speculate || !room_for_two) {
      ++stats.forward_passes;
      if (Status s = append(std::span<const int32_t>(&next, 1), 1, nullptr); !s) return s.error();
      if (!emit(next)) break;
      continue;
    }

    // Draft: the MTP row (streams of the last token, next) predicts the
    // token after `next`. It is the row the MTP invariant needs anyway.
    int32_t draft = -1;
    if (state_->has_mtp) {
      auto drafted = run_mtp(state_->last_hidden, std::span<const int32_t>(&next, 1), true);
      if (!drafted) return drafted.error();
      draft = argmax(drafted->logits);
    }
    if (options.drafter) draft = options.drafter(tokens_, next);
    if (draft < 0 || draft >= model_.config().vocab_size) {
      // Nothing to verify: append `next` alone (its MTP row is already fed).
      SequenceChunk single{&state_->main, std::span<const int32_t>(&next, 1)};
      single.keep_hidden = true;
      auto plain = run_main(single);
      if (!plain) return plain.error();
      ++stats.forward_passes;
      tokens_.push_back(next);
      last_logits_ = std::move(plain->logits);
      state_->last_hidden = std::move(plain->hidden);
      if (!emit(next)) break;
      continue;
    }
    ++stats.drafted;

    // Verify: feed [next, draft] in one pass.
    const StackMark mark = mark_stack(state_->main);
    const int32_t pair[2] = {next, draft};
    SequenceChunk sequence{&state_->main, std::span<const int32_t>(pair, 2)};
    sequence.logits_for_every_token = true;
    sequence.keep_hidden = true;
    auto checked = run_main(sequence);
    if (!checked) return checked.error();
    ++stats.forward_passes;
    ChunkResult& out = *checked;
    const size_t vocab = static_cast<size_t>(model_.config().vocab_size);
    const size_t width = out.hidden.size() / 2;
    const bool accepted = argmax(std::span<const float>(out.logits).first(vocab)) == draft;
    if (accepted) {
      ++stats.accepted;
      if (state_->has_mtp) {  // MTP row for `next`'s position: (its streams, draft)
        auto row = run_mtp(std::span<const float>(out.hidden).first(width), std::span<const int32_t>(&draft, 1), false);
        if (!row) return row.error();
      }
      tokens_.push_back(next);
      tokens_.push_back(draft);
      last_logits_.assign(out.logits.begin() + static_cast<std::ptrdiff_t>(vocab), out.logits.end());
      state_->last_hidden.assign(out.hidden.begin() + static_cast<std::ptrdiff_t>(width), out.hidden.end());
      if (!emit(next) || !emit(draft)) break;
    } else {
      // Undo both rows and feed `next` alone; its results are bit-identical
      // to the first row of the verify pass.
      rollback_stack(state_->main, mark);
      SequenceChunk single{&state_->main, std::span<const int32_t>(&next, 1)};
      single.keep_hidden = true;
      auto redo = run_main(single);
      if (!redo) return redo.error();
      ++stats.forward_passes;
      tokens_.push_back(next);
      last_logits_ = std::move(redo->logits);
      state_->last_hidden = std::move(redo->hidden);
      if (!emit(next)) break;
    }
  }
  return stats;
}

namespace {

int64_t stack_bytes(const StackState& stack) {
  size_t floats = 0;
  for (const BlockState& b : stack.blocks)
    floats += b.window.size() + b.compressor.kv.size() + b.compressor.score.size() + b.compressor.entries.size() +
              b.indexer.kv.size() + b.indexer.score.size() + b.indexer.entries.size();
  return static_cast<int64_t>(floats * sizeof(float));
}

}  // namespace

int64_t Session::state_bytes() const {
  int64_t bytes = stack_bytes(state_->main) + (state_->has_mtp ? stack_bytes(state_->mtp) : 0);
  bytes += static_cast<int64_t>((last_logits_.size() + state_->last_hidden.size()) * sizeof(float));
  return bytes + static_cast<int64_t>(tokens_.size() * sizeof(int32_t));
}

std::shared_ptr<const SavedState> Session::snapshot() const {
  auto saved = std::make_shared<SavedState>();
  saved->tokens = tokens_;
  saved->stacks.push_back(state_->main);
  if (state_->has_mtp) saved->stacks.push_back(state_->mtp);
  saved->last_logits = last_logits_;
  saved->last_hidden = state_->last_hidden;
  return saved;
}

void Session::restore(const SavedState& saved) {
  reset();
  tokens_ = saved.tokens;
  state_->main = saved.stacks.at(0);
  if (state_->has_mtp && saved.stacks.size() > 1) state_->mtp = saved.stacks[1];
  last_logits_ = saved.last_logits;
  state_->last_hidden = saved.last_hidden;
}

Status Session::save(const std::string& path) const {
  return save_state_file(model_.config(), *snapshot(), path);
}

Status Session::load(const std::string& path) {
  auto saved = load_state_file(model_.config(), path);
  if (!saved) return saved.error();
  if (state_->has_mtp && saved->stacks.size() < 2) return make_error(path + ": the state has no MTP block state");
  restore(*saved);
  return {};
}

}  // namespace beluga
