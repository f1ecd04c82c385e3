// Model providers: the one small interface the agent loop talks to.
//
// The loop renders the whole conversation to V4's prompt text and asks a
// provider to continue it; the provider streams back the completion text
// (what the model generates after the prompt, without the end-of-sentence
// token) and says why it stopped. The agent never knows which provider it
// has:
//
//   embedded   the in-process V4 engine on a checkpoint folder (`--model
//              DIR`): the prompt is tokenized, Session::sync prefills only
//              what the KV cache does not hold yet, tokens are sampled
//              greedily and decoded to text as they come.
//   replay     recorded completions played back in order (`--model
//              replay:FILE`), through the same rendering, parsing and tool
//              path as the real model. FILE is JSONL, one line per model
//              call: {"completion": "..."}; blank lines are skipped. An
//              optional "stop": "max_tokens" marks a completion the token
//              limit cut off ("end_of_turn", the default, one the model
//              ended), so a recorded session replays the same way.
//   remote     a V4 served elsewhere behind OpenAI-compatible chat
//              completions (`--model remote:URL`, remote_provider.h): the
//              request's structured conversation is sent as messages and
//              the streamed answer comes back as V4 completion text.
//   recording  wraps another provider and appends each completion it
//              returns to a JSONL file in the replay format (`--record`).
//
// Token counts (context budget, compaction) come from count_tokens(): the
// real tokenizer for the embedded engine, bytes/3 (an overestimate, see
// indexer/token_count.h) for replay.
//
// Thread contract: a provider serves one session and one call at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/chat_template.h"

namespace beluga::agent {

// Text of the prompt that a model generated, with the ids it sampled: an
// engine that must tokenize the prompt again (a new process, a rewind)
// uses these ids for that text, so the model sees its own tokens rather
// than a re-tokenization of their text (which BPE need not reproduce).
struct KnownTokens {
  std::string text;            // what follows "<｜Assistant｜><think>" (or "</think>")
  std::vector<int32_t> ids;    // decode(ids) == text, else it is ignored
};

struct CompletionRequest {
  std::string prompt;         // the rendered V4 prompt, BOS included
  // The conversation `prompt` was rendered from, and how: what a provider
  // that speaks structured messages (remote) sends instead of the text.
  // Null for a raw prompt of the caller's own (beluga/complete's FIM);
  // providers that take the prompt text ignore both.
  std::shared_ptr<const Conversation> conversation;
  RenderOptions render_options;
  // The model's earlier turns in the prompt, in order (optional).
  std::vector<KnownTokens> known;
  int64_t max_tokens = 4096;  // tokens to generate at most
  // Sampling temperature: 0 (the agent's default) is greedy; above 0 the
  // embedded engine samples (and does not draft ahead). Replay ignores it.
  float temperature = 0.0f;
  // Polled between tokens (and prefill chunks): false cancels the call.
  std::function<bool()> keep_going;
  // Receives the completion text as it is generated (never a split UTF-8
  // character); returning false stops generation like a cancel.
  std::function<bool(std::string_view text)> on_text;
  // Progress of the prompt's prefill (tokens done, tokens to do); optional.
  std::function<void(int64_t done, int64_t total)> on_prefill;
};

enum class CompletionStop {
  kEndOfTurn,  // the model emitted its end-of-sentence token
  kMaxTokens,  // max_tokens (or the context) ran out first
  kCancelled,  // keep_going or on_text said stop
};
std::string_view completion_stop_name(CompletionStop stop);

struct Completion {
  std::string text;             // without the end-of-sentence token
  std::vector<int32_t> tokens;  // the sampled ids (embedded only; EOS excluded)
  // How many tokens were generated when the provider knows it without the
  // ids (a remote server's usage); 0: count `tokens`, or estimate the text.
  int64_t generated_tokens = 0;
  CompletionStop stop = CompletionStop::kEndOfTurn;
  int64_t prompt_tokens = 0;    // the prompt's length in tokens
  int64_t prefilled_tokens = 0; // of those, how many had to be prefilled (not in the KV cache)
  // The ids a remote server gave the completion's tool calls, in order
  // (remote only; empty otherwise). The agent keeps them, so the history it
  // sends back names each call as the server did: beluga's own HTTP serving
  // finds its sampled text by those ids and reuses the KV cache.
  std::vector<std::string> tool_call_ids;
};

class ModelProvider {
 public:
  virtual ~ModelProvider() = default;
  virtual Result<Completion> complete(const CompletionRequest& request) = 0;
  virtual int64_t count_tokens(std::string_view text) const = 0;
  // Tokens of a rendered prompt, whose special tokens (<｜User｜>, ...)
  // count one each as the model sees them; count_tokens() reads them as
  // plain text (an overestimate there).
  virtual int64_t count_prompt_tokens(std::string_view prompt) const { return count_tokens(prompt); }
  // The model's context window in tokens.
  virtual int64_t context_tokens() const = 0;
  // "embedded:DIR", "replay:FILE" (for events and the session record).
  virtual std::string describe() const = 0;
  // Names the counting rule of count_tokens() the way the index records
  // its counter (indexer/token_count.h): "tokenizer:<git blob id of
  // tokenizer.json>" or "estimate:bytes/3", so `beluga index --tokenizer`
  // and the agent share one index instead of recounting each other's.
  virtual std::string token_counter_identity() const = 0;
};

// Replays a JSONL file (see above). Errors name the file and line: a
// missing file, a line that is not a JSON object with a string
// "completion". Running out of lines is an error from complete().
Result<std::unique_ptr<ModelProvider>> open_replay_provider(const std::string& path);

// The in-process engine on a checkpoint folder holding tokenizer.json.
Result<std::unique_ptr<ModelProvider>> open_embedded_provider(const std::string& model_dir);

// Appends {"completion": text} per call of `inner` to `path` (created or
// truncated now), flushed line by line so a crash keeps what was recorded.
// Cancelled calls are not recorded (they would not replay the same way).
Result<std::unique_ptr<ModelProvider>> wrap_recording(std::unique_ptr<ModelProvider> inner, const std::string& path);

// `--model`: "replay:FILE", "remote:URL" or a checkpoint folder.
Result<std::unique_ptr<ModelProvider>> open_model_provider(const std::string& spec);

}  // namespace beluga::agent
