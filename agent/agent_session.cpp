// The Agent's session management: creating and resuming sessions,
// rendering the prompt, rewind and compaction. The turn itself is in
// agent_loop.cpp.
#include <chrono>
#include <ctime>
#include <random>

#include "agent/agent_loop.h"
#include "engine/model/dsml_parser.h"
#include "tools/checkpoints.h"

namespace beluga::agent {

std::string_view stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kCompleted: return "completed";
    case StopReason::kMaxSteps: return "max_steps";
    case StopReason::kOutputLimit: return "output_limit";
    case StopReason::kContextFull: return "context_full";
    case StopReason::kCancelled: return "cancelled";
    case StopReason::kMalformed: return "malformed";
    case StopReason::kError: return "error";
  }
  return "?";
}

std::string_view permission_answer_name(PermissionAnswer answer) {
  switch (answer) {
    case PermissionAnswer::kAllowOnce: return "allow_once";
    case PermissionAnswer::kAllowSession: return "allow_session";
    case PermissionAnswer::kDeny: return "deny";
  }
  return "?";
}

std::string new_session_id() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  std::random_device device;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06x", static_cast<unsigned>(device()) & 0xFFFFFFu);
  return std::string(stamp) + "-" + suffix;
}

Agent::Agent(AgentSetup setup, SessionRecord session)
    : provider_(std::move(setup.provider)), store_(setup.store), workspace_(std::move(setup.workspace)),
      registry_(setup.registry), tool_source_(std::move(setup.tool_source)), policy_(std::move(setup.policy)),
      options_(setup.options),
      callbacks_(std::move(setup.callbacks)), repo_context_(std::move(setup.repo_context)), session_(std::move(session)) {
  if (tool_source_) refresh_tools();
  tools_ = tool_declarations(*registry_);
  tool_context_.roots = {workspace_};
  tool_context_.session_id = session_.id;
  tool_context_.keep_going = [this] { return keep_going(); };
  tool_context_.files = std::move(setup.files);
  if (options_.context_tokens <= 0) options_.context_tokens = provider_->context_tokens();
}

Agent::~Agent() = default;

void Agent::refresh_tools() {
  std::shared_ptr<const tools::ToolRegistry> current = tool_source_();
  if (!current || current == live_registry_) return;
  live_registry_ = std::move(current);
  registry_ = live_registry_.get();
  tools_ = tool_declarations(*registry_);
}

namespace {

Status check_setup(const AgentSetup& setup) {
  if (!setup.provider) return make_error("agent: no model provider");
  if (!setup.store) return make_error("agent: no session store");
  if (!setup.registry && !(setup.tool_source && setup.tool_source())) return make_error("agent: no tool registry");
  if (setup.options.max_steps < 1) return make_error("--max-steps must be at least 1");
  return {};
}

}  // namespace

Result<std::unique_ptr<Agent>> Agent::create(AgentSetup setup) {
  if (Status s = check_setup(setup); !s) return s.error();
  SessionRecord record;
  record.id = new_session_id();
  record.workspace = setup.workspace.string();
  record.model = setup.provider->describe();
  record.mode = std::string(permission_mode_name(setup.policy.mode));
  record.thinking = setup.options.thinking == ThinkingMode::kThinking;
  // The repository context gets a quarter of the context, at most 32k
  // tokens: the rest is the conversation's.
  const int64_t context = setup.options.context_tokens > 0 ? setup.options.context_tokens : setup.provider->context_tokens();
  const int64_t budget = std::min<int64_t>(context / 4, 32768);
  RepoContextSource source = setup.repo_context;
  if (!source) {
    ModelProvider* provider = setup.provider.get();
    // Indexing progress, for long indexing only: nothing in the first
    // 200 ms (an up-to-date index says nothing), then ten times a second.
    auto on_event = setup.callbacks.on_event;
    auto started = std::chrono::steady_clock::now();
    auto last = started;
    auto progress = [on_event, started, last](size_t done, size_t total) mutable {
      auto now = std::chrono::steady_clock::now();
      if (!on_event || now - started < std::chrono::milliseconds(200)) return;
      if (done != total && now - last < std::chrono::milliseconds(100)) return;
      last = now;
      AgentEvent p{EventKind::kProgress};
      p.text = "indexing";
      p.done = static_cast<int64_t>(done);
      p.total = static_cast<int64_t>(total);
      on_event(p);
    };
    source = packed_context([provider](std::string_view text) { return provider->count_tokens(text); },
                            provider->token_counter_identity(), progress);
  }
  auto repo = source(setup.workspace, budget);
  if (!repo) return make_error("repository context: " + repo.message());
  record.system_prompt = system_prompt_text(setup.workspace, *repo);
  if (Status s = setup.store->create_session(record); !s) return s.error();
  std::unique_ptr<Agent> agent(new Agent(std::move(setup), record));
  AgentEvent e{EventKind::kSession};
  e.session_id = record.id;
  e.text = record.model;
  agent->emit(e);
  return agent;
}

Result<std::unique_ptr<Agent>> Agent::resume(AgentSetup setup, const std::string& session_id) {
  if (Status s = check_setup(setup); !s) return s.error();
  auto record = setup.store->load_session(session_id);
  if (!record) return record.error();
  if (record->workspace != setup.workspace.string())
    return make_error("session " + session_id + " belongs to the workspace " + record->workspace + ", not " +
                      setup.workspace.string());
  setup.options.thinking = record->thinking ? ThinkingMode::kThinking : ThinkingMode::kChat;
  auto messages = setup.store->active_messages(session_id);
  if (!messages) return messages.error();
  auto compaction = setup.store->latest_compaction(session_id);
  if (!compaction) return compaction.error();
  auto turns = setup.store->turns(session_id);
  if (!turns) return turns.error();
  std::unique_ptr<Agent> agent(new Agent(std::move(setup), *record));
  agent->transcript_ = std::move(messages).value();
  if (*compaction) agent->summary_ = (*compaction)->summary;
  AgentEvent e{EventKind::kSession};
  e.session_id = record->id;
  e.text = agent->provider_->describe();
  e.resumed = true;
  agent->emit(e);
  if (!turns->empty() && turns->back().stop_reason.empty()) {
    const int64_t turn = turns->back().number;
    if (Status s = agent->answer_dangling_calls(turn, "interrupted: beluga stopped before this call's result was "
                                                      "recorded; check the workspace before relying on it");
        !s)
      return s.error();
    if (Status s = agent->store_->end_turn(session_id, turn, "interrupted"); !s) return s.error();
  }
  return agent;
}

Status Agent::set_mode(PermissionMode mode) {
  policy_.mode = mode;
  session_.mode = std::string(permission_mode_name(mode));
  return store_->set_mode(session_.id, session_.mode);
}

void Agent::emit(AgentEvent event) const {
  if (event.session_id.empty()) event.session_id = session_.id;
  if (callbacks_.on_event) callbacks_.on_event(event);
}

Status Agent::store_message(int64_t turn, Message message, const std::vector<int32_t>& tokens) {
  auto seq = store_->append_message(session_.id, turn, message, tokens);
  if (!seq) return seq.error();
  transcript_.push_back(TranscriptEntry{*seq, turn, std::move(message), tokens});
  return {};
}

Status Agent::answer_dangling_calls(int64_t turn, const std::string& why) {
  // The last assistant turn with calls, and the ids already answered after it.
  for (size_t i = transcript_.size(); i-- > 0;) {
    const Message& m = transcript_[i].message;
    if (m.role != Role::kAssistant) continue;
    std::vector<ToolCall> calls = m.tool_calls;
    for (size_t j = i + 1; j < transcript_.size(); ++j)
      std::erase_if(calls, [&](const ToolCall& c) { return c.id == transcript_[j].message.tool_call_id; });
    for (const ToolCall& call : calls) {
      Message result;
      result.role = Role::kTool;
      result.tool_call_id = call.id;
      result.name = call.name;
      result.content = why;
      if (Status s = store_message(turn, std::move(result)); !s) return s;
    }
    break;
  }
  return {};
}

Result<CompletionRequest> Agent::request_with(const std::vector<Message>& extra, ThinkingMode mode) const {
  auto conversation = std::make_shared<Conversation>();
  Message system;
  system.role = Role::kSystem;
  system.content = session_.system_prompt;
  system.tools = tools_;
  conversation->messages.push_back(std::move(system));
  if (!summary_.empty()) {
    Message summary;
    summary.role = Role::kUser;
    summary.content = "[Summary of the earlier part of this session, written when it was compacted]\n" + summary_;
    conversation->messages.push_back(std::move(summary));
  }
  for (const TranscriptEntry& entry : transcript_) conversation->messages.push_back(entry.message);
  conversation->messages.insert(conversation->messages.end(), extra.begin(), extra.end());
  if (Status s = check_tool_results(*conversation); !s) return make_error("transcript: " + s.message());
  CompletionRequest request;
  request.render_options.thinking_mode = mode;
  auto prompt = render_prompt(*conversation, request.render_options);
  if (!prompt) return prompt.error();
  request.prompt = std::move(prompt).value();
  request.conversation = std::move(conversation);
  return request;
}

Result<std::string> Agent::render_with(const std::vector<Message>& extra, ThinkingMode mode) const {
  auto request = request_with(extra, mode);
  if (!request) return request.error();
  return std::move(request->prompt);
}

Result<std::string> Agent::render() const {
  return render_with({}, session_.thinking ? ThinkingMode::kThinking : ThinkingMode::kChat);
}

Result<RewindResult> Agent::rewind(int64_t count) {
  auto turns = store_->turns(session_.id);
  if (!turns) return turns.error();
  if (count < 1) return make_error("rewind needs a number of turns, at least 1");
  if (count > static_cast<int64_t>(turns->size()))
    return make_error("cannot rewind " + std::to_string(count) + " turns: the session has " +
                      std::to_string(turns->size()));
  const TurnRecord& target = (*turns)[turns->size() - static_cast<size_t>(count)];
  if (target.checkpoint.empty())
    return make_error("turn " + std::to_string(target.number) + " has no checkpoint (the workspace was not a git "
                      "repository, or the checkpoint failed), so its files cannot be restored");
  RewindResult out;
  out.to_turn = target.number;
  out.checkpoint = target.checkpoint;
  auto saved = tools::create_checkpoint(workspace_, session_.id, "before rewinding to turn " + std::to_string(target.number));
  if (!saved) return make_error("rewind: cannot save the current state first: " + saved.message());
  out.saved_checkpoint = saved->id;
  auto restored = tools::restore_checkpoint(workspace_, target.checkpoint);
  if (!restored) return restored.error();
  out.written = restored->written;
  out.removed = restored->removed;
  out.conflicts = restored->conflicts;
  if (Status s = store_->truncate_turns(session_.id, target.number); !s) return s.error();
  auto messages = store_->active_messages(session_.id);
  if (!messages) return messages.error();
  transcript_ = std::move(messages).value();
  auto compaction = store_->latest_compaction(session_.id);
  if (!compaction) return compaction.error();
  summary_ = *compaction ? (*compaction)->summary : "";
  tool_context_.seen_hashes.clear();  // files changed under the model: it must read them again
  return out;
}

Status Agent::compact() {
  // Keep the last keep_recent_turns turns verbatim.
  int64_t last_turn = transcript_.empty() ? 0 : transcript_.back().turn;
  const int64_t keep_turn = last_turn - options_.keep_recent_turns + 1;
  size_t keep_from = 0;
  while (keep_from < transcript_.size() && transcript_[keep_from].turn < keep_turn) ++keep_from;
  if (keep_from == 0) return make_error("nothing to compact: the session holds only its recent turns");
  return compact_through(keep_from);
}

Status Agent::compact_through(size_t keep_from) {
  // The model summarises everything before keep_from (chat mode: no
  // reasoning needed for a summary). A dangling call cannot occur at a turn
  // boundary, so the summarised part renders on its own.
  std::vector<Message> request;
  Message ask;
  ask.role = Role::kUser;
  ask.content =
      "[beluga] The conversation is getting long. Summarise it so far for your own later use: the task, what was "
      "done (files read and changed, commands run, results), decisions and their reasons, and what remains. Be "
      "specific (paths, names, errors). Answer with the summary only, no tool calls.";
  std::vector<TranscriptEntry> kept(transcript_.begin() + static_cast<std::ptrdiff_t>(keep_from), transcript_.end());
  std::vector<TranscriptEntry> all = std::move(transcript_);
  transcript_.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep_from));
  request.push_back(ask);
  auto prepared = request_with(request, ThinkingMode::kChat);
  transcript_ = std::move(all);
  if (!prepared) return prepared.error();
  CompletionRequest call = std::move(prepared).value();
  call.max_tokens = options_.summary_tokens;
  call.keep_going = [this] { return keep_going(); };
  auto completion = provider_->complete(call);
  if (!completion) return make_error("compaction: " + completion.message());
  if (completion->stop == CompletionStop::kCancelled) return make_error("compaction cancelled");
  auto parsed = parse_completion(completion->text, ThinkingMode::kChat);
  std::string summary = parsed ? parsed->content : completion->text;
  if (summary.find_first_not_of(" \n\t") == std::string::npos) return make_error("compaction: the model wrote an empty summary");
  // The request rendered the previous summary too, so this one replaces it.
  const int64_t through = transcript_[keep_from - 1].seq;
  if (Status s = store_->add_compaction(session_.id, through, summary); !s) return s;
  summary_ = summary;
  transcript_ = std::move(kept);
  AgentEvent e{EventKind::kCompaction};
  e.text = summary_;
  e.through_seq = through;
  emit(e);
  return {};
}

}  // namespace beluga::agent
