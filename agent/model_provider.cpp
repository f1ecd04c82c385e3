// Replay and recording providers, and `--model` parsing. The embedded
// engine lives in embedded_provider.cpp.
#include "agent/model_provider.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "agent/remote_provider.h"
#include "indexer/token_count.h"

namespace beluga::agent {

std::string_view completion_stop_name(CompletionStop stop) {
  switch (stop) {
    case CompletionStop::kEndOfTurn: return "end_of_turn";
    case CompletionStop::kMaxTokens: return "max_tokens";
    case CompletionStop::kCancelled: return "cancelled";
  }
  return "?";
}

namespace {

// V4's context window; replay has no model, so it assumes the real one.
constexpr int64_t kReplayContextTokens = 1 << 20;

class ReplayProvider final : public ModelProvider {
 public:
  struct Recorded {
    std::string text;
    CompletionStop stop = CompletionStop::kEndOfTurn;
  };
  ReplayProvider(std::string path, std::vector<Recorded> completions)
      : path_(std::move(path)), completions_(std::move(completions)) {}

  Result<Completion> complete(const CompletionRequest& request) override {
    if (next_ >= completions_.size())
      return make_error("replay " + path_ + ": no recorded completion left for model call " +
                        std::to_string(next_ + 1) + " (the file has " + std::to_string(completions_.size()) + ")");
    Completion out;
    out.prompt_tokens = count_tokens(request.prompt);
    out.prefilled_tokens = out.prompt_tokens;
    const std::string& text = completions_[next_].text;
    const CompletionStop recorded_stop = completions_[next_++].stop;
    // Streamed in small pieces, as a model would, so the streaming parser
    // and cancellation see the same seams as with the engine.
    constexpr size_t kPiece = 16;
    for (size_t i = 0; i < text.size();) {
      if (request.keep_going && !request.keep_going()) {
        out.stop = CompletionStop::kCancelled;
        return out;
      }
      size_t end = std::min(text.size(), i + kPiece);
      while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
      std::string_view piece(text.data() + i, end - i);
      out.text.append(piece);
      i = end;
      if (request.on_text && !request.on_text(piece)) {
        out.stop = CompletionStop::kCancelled;
        return out;
      }
    }
    out.stop = recorded_stop;
    return out;
  }
  int64_t count_tokens(std::string_view text) const override { return indexer::estimate_tokens(text); }
  int64_t context_tokens() const override { return kReplayContextTokens; }
  std::string describe() const override { return "replay:" + path_; }
  std::string token_counter_identity() const override { return indexer::estimated_token_counter().identity; }

 private:
  std::string path_;
  std::vector<Recorded> completions_;
  size_t next_ = 0;
};

class RecordingProvider final : public ModelProvider {
 public:
  RecordingProvider(std::unique_ptr<ModelProvider> inner, std::string path, std::ofstream out)
      : inner_(std::move(inner)), path_(std::move(path)), out_(std::move(out)) {}

  Result<Completion> complete(const CompletionRequest& request) override {
    auto result = inner_->complete(request);
    if (!result || result->stop == CompletionStop::kCancelled) return result;
    nlohmann::json line = {{"completion", result->text}};
    if (result->stop == CompletionStop::kMaxTokens) line["stop"] = "max_tokens";
    out_ << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    out_.flush();
    if (!out_) return make_error("--record " + path_ + ": cannot write the recorded completion");
    return result;
  }
  int64_t count_tokens(std::string_view text) const override { return inner_->count_tokens(text); }
  int64_t context_tokens() const override { return inner_->context_tokens(); }
  std::string describe() const override { return inner_->describe(); }
  std::string token_counter_identity() const override { return inner_->token_counter_identity(); }

 private:
  std::unique_ptr<ModelProvider> inner_;
  std::string path_;
  std::ofstream out_;
};

}  // namespace

Result<std::unique_ptr<ModelProvider>> open_replay_provider(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return make_error("replay file " + path + " does not exist (or is not a file)");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot open replay file " + path);
  std::vector<ReplayProvider::Recorded> completions;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const std::string where = "replay file " + path + " line " + std::to_string(number);
    if (parsed.is_discarded()) return make_error(where + ": not valid JSON");
    if (!parsed.is_object()) return make_error(where + ": expected a JSON object {\"completion\": \"...\"}");
    auto it = parsed.find("completion");
    if (it == parsed.end()) return make_error(where + ": missing the \"completion\" member");
    if (!it->is_string()) return make_error(where + ": \"completion\" must be a string");
    ReplayProvider::Recorded recorded{it->get<std::string>()};
    if (auto stop = parsed.find("stop"); stop != parsed.end()) {
      if (*stop == "max_tokens")
        recorded.stop = CompletionStop::kMaxTokens;
      else if (*stop != "end_of_turn")
        return make_error(where + ": \"stop\" must be \"end_of_turn\" or \"max_tokens\"");
    }
    completions.push_back(std::move(recorded));
  }
  return std::unique_ptr<ModelProvider>(new ReplayProvider(path, std::move(completions)));
}

Result<std::unique_ptr<ModelProvider>> wrap_recording(std::unique_ptr<ModelProvider> inner, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error("--record: cannot create " + path);
  return std::unique_ptr<ModelProvider>(new RecordingProvider(std::move(inner), path, std::move(out)));
}

Result<std::unique_ptr<ModelProvider>> open_model_provider(const std::string& spec) {
  constexpr std::string_view kReplay = "replay:";
  if (spec.rfind(kReplay, 0) == 0) {
    std::string path = spec.substr(kReplay.size());
    if (path.empty()) return make_error("--model replay:FILE needs a file name after 'replay:'");
    return open_replay_provider(path);
  }
  constexpr std::string_view kRemote = "remote:";
  if (spec.rfind(kRemote, 0) == 0) return open_remote_provider(spec.substr(kRemote.size()));
  if (spec.empty()) return make_error("--model needs a checkpoint folder, replay:FILE or remote:URL");
  std::error_code ec;
  if (!std::filesystem::is_directory(spec, ec))
    return make_error("--model " + spec + ": not a checkpoint folder (for recorded outputs use replay:FILE, for a served model remote:URL)");
  return open_embedded_provider(spec);
}

}  // namespace beluga::agent
