#include "daemon/http/generation.h"

#include <chrono>
#include <ctime>
#include <mutex>
#include <random>

#include "daemon/http/wire_json.h"
#include "daemon/log.h"
#include "daemon/model_queue.h"
#include "engine/model/dsml_parser.h"

namespace beluga::daemon::http {
namespace {

using Clock = std::chrono::steady_clock;

ChatEvent make_event(ChatEvent::Kind kind, std::string text = {}) {
  ChatEvent e;
  e.kind = kind;
  e.text = std::move(text);
  return e;
}

// One answer being generated: the parser, the stop filter and what the
// client has been given so far.
class AnswerBuilder {
 public:
  AnswerBuilder(const ChatRequest& request, const ApiFormat& format, ChatOutcome& outcome,
                const std::function<bool(const ChatEvent&)>& on_event)
      : format_(format), outcome_(outcome), on_event_(on_event), parser_(request.render.thinking_mode),
        stop_(request.stop) {}

  // The model's next piece of text; false: stop generating.
  bool text(std::string_view piece) {
    if (failed_) {
      content(piece);
    } else {
      parser_.feed(piece, events_);
      handle();
    }
    return go_on();
  }
  void finish(bool ended_with_eos) {
    if (!failed_ && !stop_.hit()) {
      if (ended_with_eos) parser_.feed(dsv4::kEos, events_);
      parser_.finish(events_);
      handle();
    }
    flush_content();
  }
  bool go_on() const { return !client_gone_ && !stop_.hit(); }
  bool client_gone() const { return client_gone_; }
  bool stopped_by_string() const { return stop_.hit(); }
  const std::string& stop_string() const { return stop_.matched(); }
  bool parse_failed() const { return failed_; }
  const std::string& parse_error() const { return parse_error_; }

 private:
  void emit(ChatEvent event) {
    if (!client_gone_ && !on_event_(event)) client_gone_ = true;
  }
  void content(std::string_view text) {
    std::string ready = stop_.feed(text);
    if (ready.empty()) return;
    ready = valid_utf8(ready);
    outcome_.content += ready;
    emit(make_event(ChatEvent::Kind::kContentDelta, std::move(ready)));
  }
  void flush_content() {
    std::string rest = valid_utf8(stop_.flush());
    if (rest.empty()) return;
    outcome_.content += rest;
    emit(make_event(ChatEvent::Kind::kContentDelta, std::move(rest)));
  }
  void handle() {
    for (DsmlEvent& ev : events_) {
      switch (ev.kind) {
        case DsmlEvent::Kind::kReasoningDelta: {
          std::string text = valid_utf8(ev.text);
          outcome_.reasoning += text;
          emit(make_event(ChatEvent::Kind::kReasoningDelta, std::move(text)));
          break;
        }
        case DsmlEvent::Kind::kContentDelta:
          if (!stop_.hit()) content(ev.text);
          break;
        case DsmlEvent::Kind::kToolCallStarted: {
          flush_content();
          OutcomeToolCall call{random_id(format_.call_id_prefix()), valid_utf8(ev.text), ""};
          ChatEvent e = make_event(ChatEvent::Kind::kToolCallStarted);
          e.call_index = outcome_.tool_calls.size();
          e.call_id = call.id;
          e.name = call.name;
          outcome_.tool_calls.push_back(std::move(call));
          emit(std::move(e));
          break;
        }
        case DsmlEvent::Kind::kArgumentsDelta: {
          if (ev.call_index >= outcome_.tool_calls.size()) break;
          ChatEvent e = make_event(ChatEvent::Kind::kArgumentsDelta, valid_utf8(ev.text));
          e.call_index = ev.call_index;
          outcome_.tool_calls[ev.call_index].arguments += e.text;
          emit(std::move(e));
          break;
        }
        case DsmlEvent::Kind::kToolCallComplete: {
          if (ev.call_index >= outcome_.tool_calls.size()) break;
          OutcomeToolCall& call = outcome_.tool_calls[ev.call_index];
          ChatEvent e = make_event(ChatEvent::Kind::kToolCallDone, call.arguments);
          e.call_index = ev.call_index;
          e.call_id = call.id;
          e.name = call.name;
          emit(std::move(e));
          break;
        }
        case DsmlEvent::Kind::kFailed:
          failed_ = true;
          parse_error_ = ev.text;
          break;
        case DsmlEvent::Kind::kParameterComplete:
        case DsmlEvent::Kind::kEnd:
          break;
      }
    }
    events_.clear();
  }

  const ApiFormat& format_;
  ChatOutcome& outcome_;
  const std::function<bool(const ChatEvent&)>& on_event_;
  DsmlStreamParser parser_;
  std::vector<DsmlEvent> events_;
  StopFilter stop_;
  bool failed_ = false;
  std::string parse_error_;
  bool client_gone_ = false;
};

}  // namespace

std::string random_id(std::string_view prefix, size_t length) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::string out(prefix);
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  for (size_t i = 0; i < length; ++i) out += kAlphabet[pick(random)];
  return out;
}

std::string StopFilter::feed(std::string_view text) {
  if (hit_) return "";
  held_.append(text);
  size_t first = std::string::npos;
  for (const std::string& s : stops_) {
    const size_t at = held_.find(s);
    if (at == std::string::npos) continue;
    if (at < first || (at == first && s.size() > matched_.size())) first = at, matched_ = s;
  }
  if (first != std::string::npos) {
    hit_ = true;
    std::string out = held_.substr(0, first);
    held_.clear();
    return out;
  }
  // Keep the longest tail that begins some stop string, on a character boundary.
  size_t keep = 0;
  for (const std::string& s : stops_)
    for (size_t k = std::min(s.size() - 1, held_.size()); k > keep; --k)
      if (held_.compare(held_.size() - k, k, s, 0, k) == 0) {
        keep = k;
        break;
      }
  while (keep < held_.size() && (static_cast<unsigned char>(held_[held_.size() - keep]) & 0xC0) == 0x80) ++keep;
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopFilter::flush() {
  if (hit_) return "";
  return std::exchange(held_, "");
}

ChatGenerator::ChatGenerator(SharedModel& model, GenerationOptions options)
    : model_(model), options_(options), store_(options.reuse_entries, options.reuse_bytes) {}

ChatOutcome ChatGenerator::head(const ChatRequest& request, const ApiFormat& format) const {
  ChatOutcome head;
  head.id = random_id(format.id_prefix());
  head.created = static_cast<int64_t>(std::time(nullptr));
  head.model = request.model;
  return head;
}

Result<PreparedChat> ChatGenerator::prepare(const ChatRequest& request) {
  PreparedChat out;
  Conversation conversation = request.conversation;
  for (Message& m : conversation.messages) {
    if (request.tool_choice == "none") m.tools.clear();
    if (m.role != Role::kAssistant || m.raw_completion) continue;
    auto sampled = store_.find(m);
    if (!sampled) continue;
    m.raw_completion = sampled->raw_completion;
    ++out.reused_turns;
    if (sampled->tokens.empty()) continue;
    std::string_view text = sampled->raw_completion;
    for (std::string_view opening : {dsv4::kThinkStart, dsv4::kThinkEnd})
      if (text.starts_with(opening)) {
        text.remove_prefix(opening.size());
        break;
      }
    out.known.push_back(agent::KnownTokens{std::string(text), sampled->tokens});
  }
  auto prompt = render_prompt(conversation, request.render);
  if (!prompt) return prompt.error();
  out.prompt = std::move(prompt).value();
  return out;
}

Result<ChatOutcome> ChatGenerator::run(const ChatRequest& request, const PreparedChat& prepared, const ApiFormat& format,
                                       ChatOutcome head, const std::string& who,
                                       const std::function<bool(const ChatEvent&)>& on_event,
                                       const std::function<bool()>& keep_going) {
  const auto started = Clock::now();
  ChatOutcome outcome = std::move(head);
  AnswerBuilder answer(request, format, outcome, on_event);
  agent::CompletionRequest call;
  call.prompt = prepared.prompt;
  call.known = prepared.known;
  call.max_tokens = request.max_tokens.value_or(options_.default_max_tokens);
  call.temperature = request.temperature;
  call.keep_going = keep_going;
  call.on_text = [&answer](std::string_view piece) { return answer.text(piece); };
  auto completion = model_.complete_chat(who, call);
  if (!completion) {
    log_line("http " + who + ": model error: " + completion.message());
    return completion.error();
  }
  const bool cancelled = completion->stop == agent::CompletionStop::kCancelled && !answer.stopped_by_string();
  if (!cancelled) answer.finish(completion->stop == agent::CompletionStop::kEndOfTurn);

  if (cancelled || answer.client_gone()) outcome.finish = FinishReason::kCancelled;
  else if (answer.stopped_by_string()) outcome.finish = FinishReason::kStop, outcome.stop_sequence = answer.stop_string();
  else if (completion->stop == agent::CompletionStop::kMaxTokens) outcome.finish = FinishReason::kLength;
  else if (!outcome.tool_calls.empty()) outcome.finish = FinishReason::kToolCalls;
  else outcome.finish = FinishReason::kStop;

  ChatUsage& usage = outcome.usage;
  usage.prompt_tokens = completion->prompt_tokens;
  usage.cached_prompt_tokens = std::max<int64_t>(0, completion->prompt_tokens - completion->prefilled_tokens);
  usage.completion_tokens = completion->tokens.empty() ? model_.count_tokens(completion->text)
                                                       : static_cast<int64_t>(completion->tokens.size());
  if (!outcome.reasoning.empty())
    usage.reasoning_tokens = std::min(usage.completion_tokens, model_.count_tokens(outcome.reasoning) + 1);  // + </think>

  if (outcome.finish != FinishReason::kCancelled && !answer.stopped_by_string()) {
    const std::string_view opening =
        request.render.thinking_mode == ThinkingMode::kThinking ? dsv4::kThinkStart : dsv4::kThinkEnd;
    store_.put(SampledTurn{std::string(opening) + completion->text, completion->tokens, outcome.reasoning,
                           outcome.content, outcome.tool_calls});
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  log_line("http " + who + " " + outcome.id + ": prompt " + std::to_string(usage.prompt_tokens) + " tokens, reused " +
           std::to_string(usage.cached_prompt_tokens) + " (" + std::to_string(prepared.reused_turns) +
           " answers matched), generated " + std::to_string(usage.completion_tokens) + ", " + std::to_string(ms) +
           " ms, " + (outcome.finish == FinishReason::kCancelled ? "cancelled" : "done") +
           (answer.parse_failed() && completion->stop == agent::CompletionStop::kEndOfTurn
                ? " (the model's DSML did not parse: " + answer.parse_error() + ")" : ""));
  return outcome;
}

}  // namespace beluga::daemon::http
