// BatchScheduler: see batch_scheduler.h.
//
// A call is a stack object of the session's thread, queued by pointer; the
// session's thread sleeps on done_ until the scheduler's thread fills in its
// result. The scheduler touches a call's state (StackState) only while the
// session's thread is blocked in that call, so states need no lock.

#include "engine/batch_scheduler.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace beluga {

struct BatchScheduler::Call {
  bool mtp = false;
  SequenceChunk chunk;  // a main-model call
  MtpChunk mtp_chunk;   // an MTP call
  std::chrono::steady_clock::time_point arrived;
  std::optional<Result<ChunkResult>> result;  // set by the scheduler's thread
};

BatchScheduler::BatchScheduler(const Model& model, BatchOptions options)
    : model_(model), options_(options), thread_([this] { run(); }) {}

BatchScheduler::~BatchScheduler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  thread_.join();
}

std::unique_ptr<Session> BatchScheduler::open_session() { return std::make_unique<Session>(model_, this); }

BatchStats BatchScheduler::stats() const {
  std::lock_guard lock(mutex_);
  BatchStats s = stats_;
  s.members = members_;
  return s;
}

void BatchScheduler::join() {
  std::lock_guard lock(mutex_);
  ++members_;
}

void BatchScheduler::leave() {
  {
    std::lock_guard lock(mutex_);
    --members_;
  }
  work_.notify_all();  // the members still waiting may now be all of them
}

// Model::forward and forward_mtp check these too, but for the whole batch:
// a bad chunk must fail alone, not take its step's other sessions with it.
Status BatchScheduler::check_tokens(std::span<const int32_t> tokens) const {
  const int64_t vocab = model_.config().vocab_size;
  for (int32_t t : tokens)
    if (t < 0 || t >= vocab)
      return make_error("token id " + std::to_string(t) + " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
  return {};
}

Result<ChunkResult> BatchScheduler::submit(Call& call) {
  std::unique_lock lock(mutex_);
  if (stopping_) return make_error("the batch scheduler is shutting down");
  call.arrived = std::chrono::steady_clock::now();
  (call.mtp ? mtp_calls_ : main_calls_).push_back(&call);
  work_.notify_all();
  done_.wait(lock, [&] { return call.result.has_value(); });
  return std::move(*call.result);
}

Result<ChunkResult> BatchScheduler::forward(const SequenceChunk& chunk) {
  if (Status s = check_tokens(chunk.tokens); !s) return s.error();
  if (chunk.state == nullptr || chunk.state->blocks.size() != static_cast<size_t>(model_.config().num_hidden_layers))
    return make_error("internal: a chunk's state does not belong to this model");
  Call call;
  call.chunk = chunk;
  return submit(call);
}

Result<ChunkResult> BatchScheduler::forward_mtp(StackState& state, std::span<const float> hidden,
                                                std::span<const int32_t> next_tokens, bool logits) {
  if (Status s = check_tokens(next_tokens); !s) return s.error();
  const ModelConfig& c = model_.config();
  if (c.num_nextn_predict_layers < 1) return make_error("this model has no MTP block 0");
  if (hidden.size() != next_tokens.size() * static_cast<size_t>(c.hc_mult * c.hidden_size))
    return make_error("internal: MTP hidden rows do not match its tokens");
  if (state.blocks.size() != 1) return make_error("internal: an MTP chunk's state is not an MTP block's");
  Call call;
  call.mtp = true;
  call.mtp_chunk = MtpChunk{&state, hidden, next_tokens, logits};
  return submit(call);
}

void BatchScheduler::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_.wait(lock, [&] { return stopping_ || !main_calls_.empty() || !mtp_calls_.empty(); });
    if (main_calls_.empty() && mtp_calls_.empty()) return;  // stopping, nothing in flight

    // Gather: every member has a call waiting, or the oldest has waited long enough.
    auto oldest = std::chrono::steady_clock::time_point::max();
    for (const auto* queue : {&main_calls_, &mtp_calls_})
      if (!queue->empty()) oldest = std::min(oldest, queue->front()->arrived);
    work_.wait_until(lock, oldest + options_.gather_wait, [&] {
      return stopping_ || static_cast<int64_t>(main_calls_.size() + mtp_calls_.size()) >= members_;
    });

    // MTP rows first: their members' main chunks follow, and join this step's.
    const bool mtp = !mtp_calls_.empty();
    std::deque<Call*>& queue = mtp ? mtp_calls_ : main_calls_;
    std::vector<Call*> calls(queue.begin(), queue.end());
    queue.clear();
    int64_t rows = 0;
    for (Call* call : calls) rows += static_cast<int64_t>(mtp ? call->mtp_chunk.next_tokens.size() : call->chunk.tokens.size());
    if (mtp) {
      ++stats_.mtp_steps;
      stats_.mtp_calls += static_cast<int64_t>(calls.size());
    } else {
      ++stats_.steps;
      stats_.chunks += static_cast<int64_t>(calls.size());
      stats_.rows += rows;
      stats_.largest_step = std::max<int64_t>(stats_.largest_step, static_cast<int64_t>(calls.size()));
    }
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    Result<std::vector<ChunkResult>> results = std::vector<ChunkResult>();
    if (mtp) {
      std::vector<MtpChunk> chunks;
      for (Call* call : calls) chunks.push_back(call->mtp_chunk);
      results = model_.forward_mtp(chunks, {});
    } else {
      std::vector<SequenceChunk> chunks;
      for (Call* call : calls) chunks.push_back(call->chunk);
      results = model_.forward(chunks, {});
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    lock.lock();  // the results and the time land together: stats() never sees one without the other
    (mtp ? stats_.mtp_seconds : stats_.forward_seconds) += seconds;
    for (size_t i = 0; i < calls.size(); ++i) {
      if (results.ok())
        calls[i]->result.emplace(std::move((*results)[i]));
      else
        calls[i]->result.emplace(results.error());
    }
    done_.notify_all();
  }
}

}  // namespace beluga
