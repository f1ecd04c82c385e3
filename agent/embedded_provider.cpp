// The embedded provider: DeepSeek V4 in this process (engine/engine.h).
//
// Prompts only grow within a session (the loop appends turns), so the KV
// cache is reused: the provider remembers the text its Session holds (the
// last prompt plus what the model generated, end-of-sentence included) and
// the ids behind it. When the next prompt starts with that text, only the
// rest is tokenized and prefilled; the model's own turn keeps the very ids
// it sampled, not a re-tokenization of their text. The seam is always an
// added token (EOS ends every assistant turn the loop renders), so
// tokenizing the suffix alone gives the ids a whole-prompt encode would.
// Anything else (a rewind, a compaction) re-encodes the prompt and
// Session::sync keeps whatever common prefix it can.
#include <chrono>
#include <filesystem>

#include "agent/model_provider.h"
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

class EmbeddedProvider final : public ModelProvider {
 public:
  EmbeddedProvider(std::string dir, std::unique_ptr<Engine> engine, Tokenizer tokenizer, int32_t eos,
                   std::string counter_identity)
      : dir_(std::move(dir)), engine_(std::move(engine)), tokenizer_(std::move(tokenizer)), eos_(eos),
        session_(engine_->open_session()), counter_identity_(std::move(counter_identity)) {}

  Result<Completion> complete(const CompletionRequest& request) override {
    Completion out;
    std::vector<int32_t> ids;
    if (!held_text_.empty() && request.prompt.size() >= held_text_.size() &&
        request.prompt.compare(0, held_text_.size(), held_text_) == 0) {
      ids = held_ids_;
      tokenizer_.encode_into(std::string_view(request.prompt).substr(held_text_.size()), true, ids);
    } else {
      ids = encode_with_known(request);
    }
    held_text_.clear();
    held_ids_.clear();
    const int64_t positions = engine_->info().max_positions;
    out.prompt_tokens = static_cast<int64_t>(ids.size());
    if (out.prompt_tokens >= positions)
      return make_error("the prompt is " + std::to_string(out.prompt_tokens) + " tokens, the model holds " +
                        std::to_string(positions));
    size_t common = 0;
    const auto& have = session_->tokens();
    while (common < have.size() && common < ids.size() && have[common] == ids[common]) ++common;
    out.prefilled_tokens = static_cast<int64_t>(ids.size() - (common == have.size() ? common : 0));
    SyncOptions sync;
    int64_t done = 0;
    sync.keep_going = [&] {
      if (request.on_prefill) request.on_prefill(done, out.prefilled_tokens);
      done += sync.chunk_tokens;
      return !request.keep_going || request.keep_going();
    };
    if (Status s = session_->sync(ids, sync); !s) {
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
    auto stats = session_->generate(room, sampling, [&](int32_t token) {
      if (token == eos_) {
        saw_eos = true;
        return false;
      }
      out.tokens.push_back(token);
      if (auto bytes = tokenizer_.token_bytes(token)) pending.append(*bytes);
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
      held_text_ = request.prompt + out.text;
      held_ids_ = std::move(ids);
      held_ids_.insert(held_ids_.end(), out.tokens.begin(), out.tokens.end());
      if (saw_eos) {
        held_text_ += dsv4::kEos;
        held_ids_.push_back(eos_);
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
      if (known.ids.empty() || tokenizer_.decode(known.ids) != known.text) continue;
      size_t found = std::string_view::npos, at = 0;  // where the marker starts, where the text starts
      for (std::string_view opening : {dsv4::kThinkStart, dsv4::kThinkEnd}) {
        const std::string marker = std::string(dsv4::kAssistant) + std::string(opening) + known.text;
        const size_t f = prompt.find(marker, pos);
        if (f < found) found = f, at = f + marker.size() - known.text.size();
      }
      if (found == std::string_view::npos) continue;
      tokenizer_.encode_into(prompt.substr(pos, at - pos), true, ids);
      ids.insert(ids.end(), known.ids.begin(), known.ids.end());
      pos = at + known.text.size();
    }
    tokenizer_.encode_into(prompt.substr(pos), true, ids);
    return ids;
  }

  int64_t count_tokens(std::string_view text) const override {
    return static_cast<int64_t>(tokenizer_.encode(text, false).size());
  }
  int64_t count_prompt_tokens(std::string_view prompt) const override {
    return static_cast<int64_t>(tokenizer_.encode(prompt, true).size());
  }
  int64_t context_tokens() const override { return engine_->info().max_positions; }
  std::string describe() const override { return "embedded:" + dir_; }
  std::string token_counter_identity() const override { return counter_identity_; }

 private:
  std::string dir_;
  std::unique_ptr<Engine> engine_;
  Tokenizer tokenizer_;
  int32_t eos_;
  std::unique_ptr<Session> session_;
  std::string held_text_;
  std::vector<int32_t> held_ids_;
  std::string counter_identity_;
};

}  // namespace

Result<std::unique_ptr<ModelProvider>> open_embedded_provider(const std::string& model_dir) {
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
  return std::unique_ptr<ModelProvider>(
      new EmbeddedProvider(model_dir, std::move(engine).value(), std::move(tokenizer).value(), *eos,
                           "tokenizer:" + indexer::content_hash(*tokenizer_bytes)));
}

}  // namespace beluga::agent
