#include "engine/runtime/model.h"

#include <algorithm>

#include "engine/cpu/linear.h"
#include "engine/cpu/ops.h"
#include "engine/cpu/thread_scratch.h"

namespace beluga {

Result<std::unique_ptr<Model>> Model::load(const std::string& folder) {
  auto weights = ModelWeights::load(folder);
  if (!weights) return weights.error();
  auto model = std::unique_ptr<Model>(new Model());
  model->weights_ = std::move(weights).value();
  const ModelConfig& c = model->weights_->config();
  for (int64_t b = 0; b < c.num_blocks(); ++b) model->ropes_.emplace_back(c, c.compress_ratios[static_cast<size_t>(b)]);
  return model;
}

StackState Model::new_state() const { return make_stack_state(config(), 0, config().num_hidden_layers); }

StackState Model::new_mtp_state(int64_t mtp_index) const {
  return make_stack_state(config(), config().num_hidden_layers + mtp_index, 1);
}

Status Model::check_tokens(std::span<const int32_t> tokens) const {
  for (int32_t t : tokens)
    if (t < 0 || t >= config().vocab_size)
      return make_error("token id " + std::to_string(t) + " is outside the vocabulary [0, " +
                        std::to_string(config().vocab_size) + ")");
  return {};
}

void Model::logits_of(const HyperConnectionWeights& hc_head, const std::vector<float>& norm,
                      std::span<const float> streams, size_t rows, std::vector<float>& out) const {
  const ModelConfig& c = config();
  const size_t dim = static_cast<size_t>(c.hidden_size), width = dim * static_cast<size_t>(c.hc_mult);
  struct Reduced {
    std::vector<float> rows;
  };
  std::vector<float>& reduced = cpu::thread_scratch<Reduced>().rows;  // reused: no allocation per step once warm
  reduced.resize(rows * dim);
  for (size_t r = 0; r < rows; ++r) {
    std::span<float> y(reduced.data() + r * dim, dim);
    hyper_head(c, hc_head, streams.subspan(r * width, width), y);
    cpu::rms_norm(y, norm, static_cast<float>(c.rms_norm_eps), y);
  }
  out.resize(rows * static_cast<size_t>(c.vocab_size));
  cpu::linear(weights_->head(), reduced, static_cast<int64_t>(rows), out, cpu::ActivationQuant::kPlain);
}

Result<std::vector<ChunkResult>> Model::forward(std::span<const SequenceChunk> chunks,
                                                const ForwardOptions& options) const {
  const ModelConfig& c = config();
  const size_t dim = static_cast<size_t>(c.hidden_size), hc = static_cast<size_t>(c.hc_mult), width = hc * dim;
  // The step's buffers are the calling thread's, reused: a decode step
  // allocates nothing but the results it returns, once warm.
  struct Scratch {
    std::vector<size_t> first_row;
    std::vector<float> streams, embedding;
    std::vector<RowContext> contexts;
  };
  Scratch& scratch = cpu::thread_scratch<Scratch>();
  // Rows: the chunks' tokens, chunk after chunk.
  std::vector<size_t>& first_row = scratch.first_row;
  first_row.clear();
  size_t rows = 0;
  for (const auto& chunk : chunks) {
    if (Status s = check_tokens(chunk.tokens); !s) return s.error();
    if (chunk.state == nullptr || chunk.state->blocks.size() != static_cast<size_t>(c.num_hidden_layers))
      return make_error("internal: a chunk's state does not belong to this model");
    first_row.push_back(rows);
    rows += chunk.tokens.size();
  }
  std::vector<float>& streams = scratch.streams;
  std::vector<float>& embedding = scratch.embedding;
  std::vector<RowContext>& contexts = scratch.contexts;
  streams.resize(rows * width);  // every row is written from its embedding below
  embedding.resize(dim);
  contexts.assign(rows, RowContext{});
  for (size_t i = 0; i < chunks.size(); ++i)
    for (size_t t = 0; t < chunks[i].tokens.size(); ++t) {
      const size_t r = first_row[i] + t;
      weights_->embedding_row(chunks[i].tokens[t], embedding);
      for (size_t j = 0; j < hc; ++j) std::copy(embedding.begin(), embedding.end(), streams.begin() + r * width + j * dim);
      contexts[r].position = chunks[i].state->position + static_cast<int64_t>(t);
      contexts[r].token = chunks[i].tokens[t];
    }

  std::vector<ChunkResult> results(chunks.size());
  auto record_streams = [&] {
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (chunks[i].tokens.empty()) continue;
      const size_t last = first_row[i] + chunks[i].tokens.size() - 1;
      results[i].block_streams.emplace_back(streams.begin() + last * width, streams.begin() + (last + 1) * width);
    }
  };
  if (options.trace) record_streams();
  std::vector<BlockChoices> choices(options.trace ? rows : 0);
  for (int64_t b = 0; b < c.num_hidden_layers; ++b) {
    for (size_t i = 0; i < chunks.size(); ++i)
      for (size_t t = 0; t < chunks[i].tokens.size(); ++t)
        contexts[first_row[i] + t].state = &chunks[i].state->blocks[static_cast<size_t>(b)];
    BlockContext block{c, weights_->blocks()[static_cast<size_t>(b)], ropes_[static_cast<size_t>(b)]};
    block_forward(block, streams, contexts, options.trace ? &choices : nullptr);
    if (options.trace) {
      record_streams();
      for (size_t i = 0; i < chunks.size(); ++i)
        if (!chunks[i].tokens.empty()) results[i].block_choices.push_back(choices[first_row[i] + chunks[i].tokens.size() - 1]);
    }
  }

  for (size_t i = 0; i < chunks.size(); ++i) {
    const size_t count = chunks[i].tokens.size();
    chunks[i].state->position += static_cast<int64_t>(count);
    if (count == 0) continue;
    const bool every = options.logits_for_every_token || chunks[i].logits_for_every_token;
    const size_t first = every ? first_row[i] : first_row[i] + count - 1;
    const size_t wanted = every ? count : 1;
    logits_of(weights_->hc_head(), weights_->norm(), std::span<const float>(streams).subspan(first * width), wanted,
              results[i].logits);
    if (options.keep_hidden || chunks[i].keep_hidden)
      results[i].hidden.assign(streams.begin() + first_row[i] * width, streams.begin() + (first_row[i] + count) * width);
  }
  if (rows > cpu::kKeptRows) cpu::release_thread_scratch();  // a prefill chunk's buffers go
  return results;
}

Result<ChunkResult> Model::forward_mtp(StackState& state, std::span<const float> hidden,
                                       std::span<const int32_t> next_tokens, const ForwardOptions& options,
                                       int64_t mtp_index) const {
  const MtpChunk chunk{&state, hidden, next_tokens, true};
  auto out = forward_mtp(std::span<const MtpChunk>(&chunk, 1), options, mtp_index);
  if (!out) return out.error();
  return std::move(out->front());
}

Result<std::vector<ChunkResult>> Model::forward_mtp(std::span<const MtpChunk> chunks, const ForwardOptions& options,
                                                    int64_t mtp_index) const {
  const ModelConfig& c = config();
  if (mtp_index < 0 || mtp_index >= c.num_nextn_predict_layers)
    return make_error("this model has no MTP block " + std::to_string(mtp_index));
  const size_t dim = static_cast<size_t>(c.hidden_size), hc = static_cast<size_t>(c.hc_mult), width = hc * dim;
  // The calling thread's buffers, reused as in forward().
  struct MtpScratch {
    std::vector<size_t> first_row;
    std::vector<float> e, x, streams, projected_e;
    std::vector<RowContext> contexts;
  };
  MtpScratch& scratch = cpu::thread_scratch<MtpScratch>();
  // Rows: the chunks' tokens, chunk after chunk.
  std::vector<size_t>& first_row = scratch.first_row;
  first_row.clear();
  size_t rows = 0;
  for (const MtpChunk& chunk : chunks) {
    if (Status s = check_tokens(chunk.next_tokens); !s) return s.error();
    if (chunk.hidden.size() != chunk.next_tokens.size() * width)
      return make_error("internal: MTP hidden rows do not match its tokens");
    if (chunk.state == nullptr || chunk.state->blocks.size() != 1)
      return make_error("internal: an MTP chunk's state is not an MTP block's");
    first_row.push_back(rows);
    rows += chunk.next_tokens.size();
  }
  std::vector<ChunkResult> results(chunks.size());
  if (rows == 0) return results;  // nothing to run (the linear kernels want at least one row)
  const MtpWeights& mtp = weights_->mtp()[static_cast<size_t>(mtp_index)];
  const float eps = static_cast<float>(c.rms_norm_eps);

  // e = enorm(embed(next)), x_j = hnorm(h_j); input streams e_proj(e) + h_proj(x_j).
  std::vector<float>& e = scratch.e;
  std::vector<float>& x = scratch.x;
  std::vector<float>& streams = scratch.streams;
  std::vector<RowContext>& contexts = scratch.contexts;
  e.resize(rows * dim);  // every row of e, x and contexts is written below; streams by h_proj
  x.resize(rows * width);
  streams.resize(rows * width);
  contexts.resize(rows);
  for (size_t i = 0; i < chunks.size(); ++i)
    for (size_t t = 0; t < chunks[i].next_tokens.size(); ++t) {
      const size_t r = first_row[i] + t;
      std::span<float> er(e.data() + r * dim, dim);
      weights_->embedding_row(chunks[i].next_tokens[t], er);
      cpu::rms_norm(er, mtp.enorm, eps, er);
      for (size_t j = 0; j < hc; ++j) {
        std::span<const float> h = chunks[i].hidden.subspan(t * width + j * dim, dim);
        cpu::rms_norm(h, mtp.hnorm, eps, std::span<float>(x.data() + r * width + j * dim, dim));
      }
      contexts[r] = {&chunks[i].state->blocks[0], chunks[i].state->position + static_cast<int64_t>(t),
                     chunks[i].next_tokens[t]};
    }
  std::vector<float>& projected_e = scratch.projected_e;
  projected_e.resize(rows * dim);
  cpu::linear(mtp.e_proj, e, static_cast<int64_t>(rows), projected_e);
  cpu::linear(mtp.h_proj, x, static_cast<int64_t>(rows * hc), streams);
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < hc; ++j)
      for (size_t i = 0; i < dim; ++i) streams[r * width + j * dim + i] += projected_e[r * dim + i];

  const size_t block_index = static_cast<size_t>(c.num_hidden_layers + mtp_index);
  BlockContext block{c, mtp.block, ropes_[block_index]};
  std::vector<BlockChoices> choices(options.trace ? rows : 0);
  block_forward(block, streams, contexts, options.trace ? &choices : nullptr);

  for (size_t i = 0; i < chunks.size(); ++i) {
    const size_t count = chunks[i].next_tokens.size();
    chunks[i].state->position += static_cast<int64_t>(count);
    if (count == 0 || !chunks[i].logits) continue;
    const size_t last = first_row[i] + count - 1;
    if (options.trace) results[i].block_choices.push_back(choices[last]);
    const size_t first = options.logits_for_every_token ? first_row[i] : last;
    logits_of(mtp.hc_head, mtp.norm, std::span<const float>(streams).subspan(first * width),
              options.logits_for_every_token ? count : 1, results[i].logits);
    if (options.keep_hidden)
      results[i].hidden.assign(streams.begin() + first_row[i] * width, streams.begin() + (first_row[i] + count) * width);
  }
  if (rows > cpu::kKeptRows) cpu::release_thread_scratch();  // a prefill chunk's buffers go
  return results;
}

}  // namespace beluga
