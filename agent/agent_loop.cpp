// The turn: model calls, tool calls, permissions, limits (agent_loop.h has
// the design). Sessions, rendering, rewind and compaction are in
// agent_session.cpp.
#include "agent/agent_loop.h"

#include <chrono>
#include <set>

#include <nlohmann/json.hpp>

#include "agent/edit_diff.h"
#include "engine/model/dsml_parser.h"
#include "tools/checkpoints.h"
#include "tools/file_io.h"
#include "tools/paths.h"

namespace beluga::agent {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// A file's content before or after an edit tool ran, for the diff.
struct FileVersion {
  bool exists = false;
  std::string bytes;
};

FileVersion read_version(const tools::ToolContext& context, const std::string& path) {
  auto where = tools::resolve_in_workspace(context, path, tools::PathUse::kWrite);
  if (!where) return {};
  auto content = tools::read_current(context, *where, context.limits.max_file_bytes);  // the editor's text, if it keeps it
  if (!content || !content->exists || tools::looks_binary(content->bytes)) return {};
  return {true, std::move(content->bytes)};
}

std::string argument(const std::string& args_json, const char* key) {
  auto args = nlohmann::json::parse(args_json, nullptr, false);
  if (!args.is_object()) return "";
  auto it = args.find(key);
  return it != args.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

TurnResult Agent::run_turn(const std::string& prompt) {
  cancelled_.store(false);
  if (tool_source_) refresh_tools();
  TurnResult result;
  auto finish = [&](StopReason reason, std::string message) {
    result.reason = reason;
    result.message = std::move(message);
  };
  auto turns = store_->turns(session_.id);
  if (!turns) {
    finish(StopReason::kError, turns.message());
  } else {
    result.turn = turns->empty() ? 1 : turns->back().number + 1;
    // A previous turn that failed between a model turn and its results (the
    // store refused a write) left calls unanswered: answer them so the
    // transcript renders.
    Status repaired;
    if (!transcript_.empty())
      repaired = answer_dangling_calls(transcript_.back().turn,
                                       "not run: the turn stopped before this call's result was recorded");
    auto start = Clock::now();
    auto checkpoint = tools::create_checkpoint(workspace_, session_.id, "before turn " + std::to_string(result.turn));
    result.checkpoint_ms += ms_since(start);
    if (checkpoint) {
      result.checkpoint = checkpoint->id;
    } else {
      AgentEvent w{EventKind::kWarning};
      w.text = "no checkpoint before this turn, so it cannot be rewound: " + checkpoint.message();
      emit(w);
    }
    Message user;
    user.role = Role::kUser;
    user.content = prompt;
    start = Clock::now();
    Status stored = repaired;
    if (stored) stored = store_->begin_turn(session_.id, TurnRecord{result.turn, result.checkpoint, prompt, "", 0});
    if (stored) stored = store_message(result.turn, std::move(user));
    result.store_ms += ms_since(start);
    if (!stored) {
      finish(StopReason::kError, stored.message());
    } else {
      AgentEvent e{EventKind::kTurnStarted};
      e.turn = result.turn;
      e.text = prompt;
      e.checkpoint = result.checkpoint;
      emit(e);
      int64_t malformed = 0;
      while (run_step(result.turn, malformed, result)) {
      }
    }
  }
  if (!result.checkpoint.empty()) {
    auto diff = tools::diff_checkpoints(workspace_, result.checkpoint, "", 0);
    if (diff) result.changed_files = diff->files;
  }
  if (result.turn > 0) {
    if (Status s = store_->end_turn(session_.id, result.turn, std::string(stop_reason_name(result.reason))); !s) {
      AgentEvent e{EventKind::kError};
      e.text = s.message();
      emit(e);
    }
  }
  AgentEvent done{EventKind::kDone};
  done.turn = result.turn;
  done.stop_reason = std::string(stop_reason_name(result.reason));
  done.text = result.message;
  done.steps = result.steps;
  done.changed_files = result.changed_files;
  done.tokens_generated = result.tokens_generated;
  done.model_calls = result.model_calls;
  done.timings_ms = {{"render", result.render_ms},         {"parse", result.parse_ms},
                     {"permission", result.permission_ms}, {"checkpoint", result.checkpoint_ms},
                     {"store", result.store_ms},           {"model", result.model_ms},
                     {"tools", result.tools_ms}};
  emit(done);
  return result;
}

int64_t Agent::prompt_tokens(const std::string& prompt) const {
  // The last model call's prompt plus its output is a prefix of this one
  // (the loop only appends): count only what was added since, rather than
  // tokenizing a context of up to a million tokens on every step.
  if (!counted_text_.empty() && prompt.size() >= counted_text_.size() &&
      prompt.compare(0, counted_text_.size(), counted_text_) == 0)
    return counted_tokens_ + provider_->count_tokens(std::string_view(prompt).substr(counted_text_.size()));
  return provider_->count_tokens(prompt);
}

Result<bool> Agent::maybe_compact(const std::string& prompt, TurnResult& result) {
  const int64_t tokens = prompt_tokens(prompt);
  const int64_t threshold = static_cast<int64_t>(static_cast<double>(options_.context_tokens) * options_.compact_at);
  if (tokens + options_.max_output_tokens / 4 <= threshold) return false;
  // Compact everything before the running turn's last keep_recent_turns turns.
  const int64_t keep_turn = result.turn - options_.keep_recent_turns;
  size_t keep_from = 0;
  while (keep_from < transcript_.size() && transcript_[keep_from].turn < keep_turn) ++keep_from;
  if (keep_from == 0) {
    if (tokens + 64 >= options_.context_tokens)
      return make_error("the conversation (" + std::to_string(tokens) + " tokens) no longer fits the context of " +
                        std::to_string(options_.context_tokens) + " tokens, and the running turn cannot be compacted");
    return false;
  }
  if (Status s = compact_through(keep_from); !s) return s.error();
  return true;
}

bool Agent::run_step(int64_t turn, int64_t& malformed, TurnResult& result) {
  auto stop = [&](StopReason reason, std::string message) {
    result.reason = reason;
    result.message = std::move(message);
    return false;
  };
  if (!keep_going()) return stop(StopReason::kCancelled, "cancelled");
  if (result.steps >= options_.max_steps)
    return stop(StopReason::kMaxSteps, "stopped after " + std::to_string(options_.max_steps) + " model calls (--max-steps)");
  const int64_t tokens_left = options_.max_turn_tokens - result.tokens_generated;
  if (tokens_left <= 0)
    return stop(StopReason::kOutputLimit, "the turn generated its limit of " + std::to_string(options_.max_turn_tokens) + " tokens");
  const ThinkingMode mode = session_.thinking ? ThinkingMode::kThinking : ThinkingMode::kChat;
  auto start = Clock::now();
  auto prepared = request_with({}, mode);
  result.render_ms += ms_since(start);
  if (!prepared) return stop(StopReason::kError, prepared.message());
  auto compacted = maybe_compact(prepared->prompt, result);
  if (!compacted) {
    if (!keep_going()) return stop(StopReason::kCancelled, "cancelled");
    return stop(StopReason::kContextFull, compacted.message());
  }
  if (*compacted) {
    start = Clock::now();
    prepared = request_with({}, mode);
    result.render_ms += ms_since(start);
    if (!prepared) return stop(StopReason::kError, prepared.message());
  }
  const int64_t step = ++result.steps;

  DsmlStreamParser parser(mode);
  std::vector<DsmlEvent> events;
  double parse_ms = 0;
  auto forward = [&] {
    for (DsmlEvent& ev : events) {
      if (ev.kind != DsmlEvent::Kind::kReasoningDelta && ev.kind != DsmlEvent::Kind::kContentDelta) continue;
      AgentEvent out{ev.kind == DsmlEvent::Kind::kReasoningDelta ? EventKind::kReasoning : EventKind::kAssistantText};
      out.step = step;
      out.text = std::move(ev.text);
      emit(out);
    }
    events.clear();
  };
  CompletionRequest request = std::move(prepared).value();
  for (const TranscriptEntry& entry : transcript_) {
    const Message& m = entry.message;
    if (m.role != Role::kAssistant || entry.tokens.empty() || !m.raw_completion) continue;
    std::string_view raw = *m.raw_completion;
    if (raw.starts_with(dsv4::kThinkStart))
      raw.remove_prefix(dsv4::kThinkStart.size());
    else if (raw.starts_with(dsv4::kThinkEnd))
      raw.remove_prefix(dsv4::kThinkEnd.size());
    request.known.push_back(KnownTokens{std::string(raw), entry.tokens});
  }
  request.max_tokens = std::min(options_.max_output_tokens, tokens_left);
  request.keep_going = [this] { return keep_going(); };
  request.on_text = [&](std::string_view text) {
    auto t = Clock::now();
    parser.feed(text, events);
    parse_ms += ms_since(t);
    forward();
    return true;
  };
  request.on_prefill = [&](int64_t done, int64_t total) {
    AgentEvent p{EventKind::kProgress};
    p.text = "prefill";
    p.done = std::min(done, total);
    p.total = total;
    emit(p);
  };
  start = Clock::now();
  auto completion = provider_->complete(request);
  result.model_ms += ms_since(start) - parse_ms;
  if (!completion) return stop(StopReason::kError, "model: " + completion.message());
  result.model_calls.push_back({completion->prompt_tokens, completion->prompt_tokens - completion->prefilled_tokens});
  result.tokens_generated += !completion->tokens.empty() ? static_cast<int64_t>(completion->tokens.size())
                             : completion->generated_tokens > 0 ? completion->generated_tokens
                                                                : provider_->count_tokens(completion->text);
  if (completion->stop == CompletionStop::kCancelled) return stop(StopReason::kCancelled, "cancelled");
  counted_text_ = request.prompt + completion->text;
  counted_tokens_ = prompt_tokens(request.prompt) + (completion->tokens.empty()
                                                         ? provider_->count_tokens(completion->text)
                                                         : static_cast<int64_t>(completion->tokens.size()));
  start = Clock::now();
  // Providers return the text without the end-of-sentence token; the
  // parser needs it to tell a finished answer from one cut off.
  if (completion->stop == CompletionStop::kEndOfTurn) parser.feed(dsv4::kEos, events);
  parser.finish(events);
  auto parsed = parser.result();
  result.parse_ms += parse_ms + ms_since(start);
  forward();

  const std::string opening(mode == ThinkingMode::kThinking ? dsv4::kThinkStart : dsv4::kThinkEnd);
  if (!parsed) {
    // Kept verbatim (the model's own tokens stay in its context), followed
    // by what was wrong, so it can correct itself.
    Message raw;
    raw.role = Role::kAssistant;
    raw.raw_completion = opening + completion->text;
    start = Clock::now();
    Status s = store_message(turn, std::move(raw), completion->tokens);
    result.store_ms += ms_since(start);
    if (!s) return stop(StopReason::kError, s.message());
    // Cut off by the token limit: not the model's mistake, and not worth
    // another call with the same limit.
    if (completion->stop == CompletionStop::kMaxTokens)
      return stop(StopReason::kOutputLimit, "the model's output was cut off by the token limit (" +
                                                std::to_string(request.max_tokens) + " tokens) before it could be read: " +
                                                parsed.message());
    Message note;
    note.role = Role::kUser;
    note.content = "[beluga] Your last reply could not be read, so none of it was acted on: " + parsed.message() +
                   "\nWrite the reply again: reasoning, then the answer, then tool calls exactly in the "
                   "<｜DSML｜tool_calls> format of the system message.";
    start = Clock::now();
    s = store_message(turn, std::move(note));
    result.store_ms += ms_since(start);
    if (!s) return stop(StopReason::kError, s.message());
    AgentEvent w{EventKind::kWarning};
    w.text = "malformed model output: " + parsed.message();
    emit(w);
    if (++malformed >= options_.max_malformed)
      return stop(StopReason::kMalformed, "the model's output could not be parsed " + std::to_string(malformed) +
                                              " times in a row; last error: " + parsed.message());
    return true;
  }

  Message message = to_assistant_message(*parsed, completion->text, mode);
  // The provider's ids when it has them for every call (a remote server's,
  // which its KV reuse keys on), else our own; either way unique in the turn.
  const std::vector<std::string>& given = completion->tool_call_ids;
  std::set<std::string> distinct(given.begin(), given.end());
  const bool use_given = given.size() == message.tool_calls.size() && distinct.size() == given.size() &&
                         !distinct.count("");
  for (size_t i = 0; i < message.tool_calls.size(); ++i)
    message.tool_calls[i].id = use_given ? given[i]
                                         : "call_" + std::to_string(turn) + "_" + std::to_string(step) + "_" +
                                               std::to_string(i + 1);
  const std::vector<ToolCall> calls = message.tool_calls;
  start = Clock::now();
  Status s = store_message(turn, std::move(message), completion->tokens);
  result.store_ms += ms_since(start);
  if (!s) return stop(StopReason::kError, s.message());
  if (!parsed->content.empty()) result.final_text = parsed->content;
  if (calls.empty()) {
    if (completion->stop == CompletionStop::kMaxTokens)
      return stop(StopReason::kOutputLimit, "the model's answer was cut off by the token limit (" +
                                                std::to_string(request.max_tokens) + " tokens)");
    return stop(StopReason::kCompleted, "the model finished");
  }

  bool any_malformed = false;
  for (size_t i = 0; i < calls.size(); ++i) {
    const ToolCall& call = calls[i];
    tools::ToolResult outcome;
    std::string diff;
    if (!keep_going()) {
      outcome = tools::ToolResult::error("not run: the user cancelled the turn");
    } else {
      ParsedCompletion single;
      single.tool_calls = {parsed->tool_calls[i]};
      if (Status valid = check_tool_calls(single); !valid) {
        any_malformed = true;
        outcome = tools::ToolResult::error(valid.message() + " The call was not run; write it again.");
        AgentEvent c{EventKind::kToolCall};
        c.step = step, c.call_id = call.id, c.tool = call.name, c.arguments = call.arguments;
        c.summary = summarize_call(call.name, call.arguments);
        emit(c);
      } else {
        outcome = run_call(call, step, result);
        diff = last_diff_;
      }
    }
    Message answer;
    answer.role = Role::kTool;
    answer.tool_call_id = call.id;
    answer.name = call.name;
    answer.content = outcome.text;
    start = Clock::now();
    Status stored = store_message(turn, std::move(answer));
    result.store_ms += ms_since(start);
    AgentEvent r{EventKind::kToolResult};
    r.step = step, r.call_id = call.id, r.tool = call.name, r.ok = outcome.ok, r.text = outcome.text, r.diff = diff;
    emit(r);
    if (call.name == "update_plan" && outcome.ok) {
      if (auto plan = plan_from_arguments(call.arguments)) {
        AgentEvent p{EventKind::kPlan};
        p.step = step, p.call_id = call.id, p.plan = std::move(*plan);
        emit(p);
      }
    }
    if (!stored) return stop(StopReason::kError, stored.message());
  }
  if (!keep_going()) return stop(StopReason::kCancelled, "cancelled while running tools");
  if (any_malformed) {
    if (++malformed >= options_.max_malformed)
      return stop(StopReason::kMalformed,
                  "the model wrote malformed tool calls " + std::to_string(malformed) + " times in a row");
  } else {
    malformed = 0;
  }
  if (completion->stop == CompletionStop::kMaxTokens && result.tokens_generated >= options_.max_turn_tokens)
    return stop(StopReason::kOutputLimit, "the turn generated its limit of " + std::to_string(options_.max_turn_tokens) + " tokens");
  return true;
}

tools::ToolResult Agent::run_call(const ToolCall& call, int64_t step, TurnResult& result) {
  last_diff_.clear();
  AgentEvent c{EventKind::kToolCall};
  c.step = step, c.call_id = call.id, c.tool = call.name, c.arguments = call.arguments;
  c.summary = summarize_call(call.name, call.arguments);
  emit(c);

  // An unknown tool is a mistake to report as such, not a permission question.
  if (registry_->find(call.name) == nullptr) return registry_->call(call.name, call.arguments, tool_context_);

  auto start = Clock::now();
  PermissionVerdict verdict = decide(policy_, call.name, call.arguments);
  if (verdict.decision == Decision::kAsk) {
    const std::string subject = permission_subject(call.name, call.arguments);
    for (const PermissionRule& grant : session_grants_)
      if (grant.tool == call.name && (grant.pattern.empty() || grant.pattern == subject))
        verdict = {Decision::kAllow, "allowed for this session by the user"};
  }
  result.permission_ms += ms_since(start);
  AgentEvent p{EventKind::kPermission};
  p.call_id = call.id, p.tool = call.name, p.summary = c.summary;
  p.decision = std::string(decision_name(verdict.decision));
  p.reason = verdict.reason;
  if (verdict.decision == Decision::kAsk) {
    PermissionAnswer answer = PermissionAnswer::kDeny;
    if (callbacks_.ask) {
      answer = callbacks_.ask(PermissionRequest{call.id, call.name, call.arguments, c.summary, verdict.reason});
    } else {
      p.reason += "; nobody can be asked (not interactive), so it is denied";
    }
    p.answer = std::string(permission_answer_name(answer));
    if (answer == PermissionAnswer::kAllowSession) {
      // Shell grants are per command line; other tools are granted whole.
      PermissionRule grant;
      grant.tool = call.name;
      if (call.name == "shell") grant.pattern = permission_subject(call.name, call.arguments);
      grant.source = "session";
      session_grants_.push_back(grant);
    }
    verdict.decision = answer == PermissionAnswer::kDeny ? Decision::kDeny : Decision::kAllow;
  }
  emit(p);
  if (verdict.decision == Decision::kDeny) {
    std::string why = p.answer == "deny" && callbacks_.ask ? "the user denied it" : p.reason;
    return tools::ToolResult::error("permission denied: " + why + ". The call was not run; do not repeat it "
                                    "unchanged: continue another way, or explain what you need and why.");
  }

  // Edits: the file before and after, for the diff shown to the user.
  const bool edit = call.name == "edit" || call.name == "write";
  const std::string path = edit ? argument(call.arguments, "path") : "";
  FileVersion before = edit ? read_version(tool_context_, path) : FileVersion{};
  start = Clock::now();
  tools::ToolResult out = registry_->call(call.name, call.arguments, tool_context_);
  result.tools_ms += ms_since(start);
  if (edit && out.ok) {
    FileVersion after = read_version(tool_context_, path);
    last_diff_ = unified_diff(path, before.bytes, before.exists, after.bytes);
  } else if (call.name == "apply_patch" && out.ok) {
    last_diff_ = argument(call.arguments, "patch");
  }
  if (!keep_going() && call.name == "shell") out.text += "\n[cancelled by the user]";
  return out;
}

}  // namespace beluga::agent
