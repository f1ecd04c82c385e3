#include "lsp/agent_turns.h"

#include <filesystem>

#include "daemon/rpc/json_rpc.h"
#include "engine/base/files.h"
#include "lsp/agent_files.h"
#include "lsp/code_actions.h"

namespace beluga::lsp {
namespace {

constexpr size_t kMaxSelectionBytes = 64 * 1024;
constexpr size_t kMaxShownAnswerBytes = 4000;

std::string relative_to(const std::string& path, const std::string& root) {
  std::error_code ec;
  auto rel = std::filesystem::path(path).lexically_relative(root);
  if (rel.empty() || rel.native().rfind("..", 0) == 0) return path;
  return rel.string();
}

std::string error_message(const Json& error) {
  return error.is_object() ? error.value("message", std::string("error")) : std::string("error");
}

int error_code(const Json& error) {
  return error.is_object() && error.contains("code") && error["code"].is_number_integer() ? error["code"].get<int>()
                                                                                          : rpc::kInternalError;
}

std::string stop_reason(const Json& result) {
  if (result.is_object() && result.contains("stopReason") && result["stopReason"].is_string())
    return result["stopReason"].get<std::string>();
  return "end_turn";
}

// ACP update → the kind and payload of beluga/chatUpdate (null: not forwarded).
Json chat_update(const std::string& session_id, const Json& update) {
  const std::string kind = update.value("sessionUpdate", std::string());
  Json out = {{"sessionId", session_id}};
  auto text_of = [&](const Json& u) {
    const Json content = u.value("content", Json());
    return content.is_object() ? content.value("text", std::string()) : std::string();
  };
  if (kind == "agent_message_chunk") {
    out["kind"] = "message";
    out["text"] = text_of(update);
  } else if (kind == "agent_thought_chunk") {
    out["kind"] = "thought";
    out["text"] = text_of(update);
  } else if (kind == "tool_call" || kind == "tool_call_update") {
    out["kind"] = kind;
    Json call = update;
    call.erase("sessionUpdate");
    out["toolCall"] = std::move(call);
  } else if (kind == "plan") {
    out["kind"] = "plan";
    out["plan"] = {{"entries", update.value("entries", Json::array())}};
  } else if (kind == "usage_update") {
    out["kind"] = "usage";
    out["usage"] = {{"used", update.value("used", Json())}, {"size", update.value("size", Json())}};
  } else {
    return nullptr;
  }
  return out;
}

}  // namespace

bool AgentTurns::busy() const {
  std::lock_guard lock(mutex_);
  return !turns_.empty();
}

void AgentTurns::publish_status() {
  const bool running = busy();
  if (!ctx_.daemon.connected()) return;  // the link's state notifications speak then
  ctx_.editor.notify("beluga/status", {{"state", running ? "busy" : "ready"},
                                       {"message", running ? "beluga is working" : "beluga is ready"}});
}

std::string AgentTurns::session_workspace(const std::string& session_id) const {
  std::lock_guard lock(mutex_);
  for (const auto& [folder, w] : workspaces_)
    if (w.session_id == session_id) return folder;
  return "";
}

void AgentTurns::daemon_state(bool connected) {
  if (!connected) return;
  // The daemon's sessions of an older connection may be gone (a restart):
  // forget them; turns already failed when the link dropped.
  std::lock_guard lock(mutex_);
  for (auto it = workspaces_.begin(); it != workspaces_.end();) {
    if (!it->second.creating && it->second.generation != ctx_.daemon.generation()) {
      it = workspaces_.erase(it);
    } else {
      ++it;
    }
  }
}

void AgentTurns::with_session(const std::string& workspace, std::function<void(bool, const std::string&)> then) {
  {
    std::unique_lock lock(mutex_);
    Workspace& w = workspaces_[workspace];
    if (!w.session_id.empty() && w.generation == ctx_.daemon.generation()) {
      const std::string id = w.session_id;
      lock.unlock();
      then(true, id);
      return;
    }
    w.waiters.push_back(std::move(then));
    if (w.creating) return;
    w.creating = true;
  }
  const uint64_t generation = ctx_.daemon.generation();
  auto settle = [this, workspace, generation](bool ok, const std::string& value) {
    std::vector<std::function<void(bool, const std::string&)>> waiters;
    {
      std::lock_guard lock(mutex_);
      Workspace& w = workspaces_[workspace];
      w.creating = false;
      if (ok) {
        w.session_id = value;
        w.generation = generation;
      }
      waiters.swap(w.waiters);
    }
    for (auto& waiter : waiters) waiter(ok, value);
  };
  ctx_.daemon.request(
      "session/new", {{"cwd", workspace}, {"mcpServers", Json::array()}}, [this, settle](bool ok, const Json& value) {
        if (!ok || !value.is_object() || !value.contains("sessionId") || !value["sessionId"].is_string()) {
          settle(false, ok ? "session/new answered without a sessionId" : error_message(value));
          return;
        }
        const std::string id = value["sessionId"].get<std::string>();
        if (ctx_.settings.mode.empty()) {
          settle(true, id);
          return;
        }
        ctx_.daemon.request("session/set_mode", {{"sessionId", id}, {"modeId", ctx_.settings.mode}},
                            [this, settle, id](bool mode_ok, const Json& error) {
                              if (!mode_ok)
                                ctx_.editor.log_message(2, "beluga: cannot set mode " + ctx_.settings.mode + ": " +
                                                               error_message(error));
                              settle(true, id);
                            });
      });
}

void AgentTurns::start_turn(Turn turn, const std::string& prompt) {
  const std::string workspace = turn.workspace;
  with_session(workspace, [this, turn = std::move(turn), prompt](bool ok, const std::string& value) mutable {
    if (!ok) {
      ctx_.editor.respond_error(turn.editor_id, rpc::kInternalError, "beluga: cannot open a session: " + value);
      return;
    }
    const std::string session_id = value;
    turn.session_id = session_id;
    const bool create_token = turn.is_command && turn.progress_token.is_null() && ctx_.settings.work_done_progress;
    {
      std::lock_guard lock(mutex_);
      if (turns_.count(session_id)) {
        ctx_.editor.respond_error(turn.editor_id, rpc::kInvalidRequest,
                                  "a beluga turn is already running in " + turn.workspace +
                                      "; wait for it or cancel it (beluga/cancel)");
        return;
      }
      if (create_token) turn.progress_token = "beluga-progress-" + std::to_string(next_token_++);
      turns_[session_id] = turn;
    }
    publish_status();
    if (turn.is_command && !turn.progress_token.is_null()) {
      if (create_token) {
        ctx_.editor.request("window/workDoneProgress/create", {{"token", turn.progress_token}},
                            [this, session_id](bool created, const Json&) {
                              if (created) begin_progress(session_id);
                            });
      } else {
        begin_progress(session_id);
      }
    }
    ctx_.daemon.request("session/prompt",
                        {{"sessionId", session_id}, {"prompt", Json::array({{{"type", "text"}, {"text", prompt}}})}},
                        [this, session_id](bool prompt_ok, const Json& result) {
                          finish_turn(session_id, prompt_ok, result);
                        });
  });
}

void AgentTurns::begin_progress(const std::string& session_id) {
  // Under the lock, so that begin, reports and end keep their order.
  std::lock_guard lock(mutex_);
  auto it = turns_.find(session_id);
  if (it == turns_.end() || it->second.progress_begun) return;
  it->second.progress_begun = true;
  ctx_.editor.notify("$/progress", {{"token", it->second.progress_token},
                                    {"value",
                                     {{"kind", "begin"},
                                      {"title", "beluga: " + it->second.title},
                                      {"cancellable", true},
                                      {"message", "starting"}}}});
}

void AgentTurns::report(const std::string& session_id, const std::string& message) {
  std::lock_guard lock(mutex_);
  auto it = turns_.find(session_id);
  if (it == turns_.end() || !it->second.progress_begun || it->second.last_report == message) return;
  it->second.last_report = message;
  ctx_.editor.notify("$/progress", {{"token", it->second.progress_token},
                                    {"value", {{"kind", "report"}, {"cancellable", true}, {"message", message}}}});
}

void AgentTurns::finish_turn(const std::string& session_id, bool ok, const Json& value) {
  Turn turn;
  {
    std::lock_guard lock(mutex_);
    auto it = turns_.find(session_id);
    if (it == turns_.end()) return;
    turn = std::move(it->second);
    turns_.erase(it);
    const std::string stop = ok ? stop_reason(value) : "error: " + error_message(value);
    if (turn.progress_begun) {
      std::string message = stop;
      if (!turn.files_changed.empty()) {
        message += "; changed";
        for (const auto& f : turn.files_changed) message += " " + relative_to(f, turn.workspace);
      }
      ctx_.editor.notify("$/progress", {{"token", turn.progress_token}, {"value", {{"kind", "end"}, {"message", message}}}});
    }
  }
  if (ok && turn.cancelled_by_request) {
    // LSP: a request cancelled by the client is answered RequestCancelled.
    ctx_.editor.respond_error(turn.editor_id, rpc::kRequestCancelled, "request cancelled",
                              {{"sessionId", session_id}, {"stopReason", stop_reason(value)}});
  } else if (ok) {
    ctx_.editor.respond(turn.editor_id, {{"sessionId", session_id}, {"stopReason", stop_reason(value)}});
    if (turn.is_command && ctx_.settings.show_answers && !turn.answer.empty()) {
      std::string text = turn.answer;
      if (text.size() > kMaxShownAnswerBytes) text = text.substr(0, kMaxShownAnswerBytes) + "\xE2\x80\xA6";
      ctx_.editor.show_message(3, "beluga (" + turn.title + "): " + text);
    }
  } else {
    Json data = value.is_object() ? value.value("data", Json()) : Json();
    if (!data.is_object()) data = Json::object();
    data["sessionId"] = session_id;
    ctx_.editor.respond_error(turn.editor_id, error_code(value), "beluga: " + error_message(value), data);
  }
  publish_status();
}

void AgentTurns::session_update(const Json& params) {
  if (!params.is_object() || !params.contains("sessionId") || !params["sessionId"].is_string()) return;
  const std::string session_id = params["sessionId"].get<std::string>();
  const Json update = params.value("update", Json());
  if (!update.is_object()) return;
  const std::string kind = update.value("sessionUpdate", std::string());
  std::string progress;
  {
    std::lock_guard lock(mutex_);
    auto it = turns_.find(session_id);
    if (it == turns_.end()) return;  // e.g. a session/load replay
    Turn& turn = it->second;
    if (kind == "agent_message_chunk") {
      const Json content = update.value("content", Json());
      if (content.is_object()) turn.answer += content.value("text", std::string());
      progress = "writing the answer";
    } else if (kind == "agent_thought_chunk") {
      progress = "thinking";
    } else if (kind == "tool_call") {
      progress = update.value("title", std::string("running a tool"));
    }
  }
  Json forwarded = chat_update(session_id, update);
  if (!forwarded.is_null()) ctx_.editor.notify("beluga/chatUpdate", forwarded);
  if (!progress.empty()) report(session_id, progress);
}

void AgentTurns::permission_request(const Json& daemon_id, const Json& params) {
  const std::string session_id = params.value("sessionId", std::string());
  const Json tool_call = params.value("toolCall", Json());
  const Json options = params.value("options", Json::array());
  std::string title = tool_call.is_object() ? tool_call.value("title", std::string()) : std::string();
  if (title.empty()) title = "run a tool";
  std::string message = "beluga wants to: " + title;
  if (params.contains("_meta") && params["_meta"].is_object() && params["_meta"].contains("beluga") &&
      params["_meta"]["beluga"].is_object()) {
    const std::string reason = params["_meta"]["beluga"].value("reason", std::string());
    if (!reason.empty()) message += " (" + reason + ")";
  }
  report(session_id, "waiting for permission: " + title);
  ctx_.editor.request(
      "window/showMessageRequest",
      {{"type", 3},
       {"message", message},
       {"actions", Json::array({{{"title", "Allow once"}}, {{"title", "Allow always"}}, {{"title", "Deny"}}})}},
      [this, daemon_id, options, session_id](bool ok, const Json& choice) {
        std::string kind = "reject_once";
        if (ok && choice.is_object()) {
          const std::string picked = choice.value("title", std::string());
          if (picked == "Allow once") kind = "allow_once";
          if (picked == "Allow always") kind = "allow_always";
        }
        std::string option_id;
        if (options.is_array())
          for (const auto& option : options)
            if (option.is_object() && option.value("kind", std::string()) == kind)
              option_id = option.value("optionId", std::string());
        if (option_id.empty()) {
          ctx_.daemon.respond(daemon_id, {{"outcome", {{"outcome", "cancelled"}}}});
        } else {
          ctx_.daemon.respond(daemon_id, {{"outcome", {{"outcome", "selected"}, {"optionId", option_id}}}});
        }
        report(session_id, kind == "reject_once" ? "denied" : "allowed");
      });
}

void AgentTurns::file_request(const Json& daemon_id, const std::string& method, const Json& params) {
  const std::string session_id = params.is_object() ? params.value("sessionId", std::string()) : std::string();
  if (method == "fs/read_text_file") {
    answer_read_text_file(ctx_, daemon_id, params);
    return;
  }
  std::string workspace = session_workspace(session_id);
  answer_write_text_file(ctx_, daemon_id, params, workspace, [this, session_id](const std::string& path) {
    std::lock_guard lock(mutex_);
    if (auto it = turns_.find(session_id); it != turns_.end()) it->second.files_changed.insert(path);
  });
}

void AgentTurns::progress_cancelled(const Json& token) {
  std::string session_id;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, turn] : turns_)
      if (turn.progress_token == token) session_id = id;
  }
  if (!session_id.empty()) ctx_.daemon.notify("session/cancel", {{"sessionId", session_id}});
}

bool AgentTurns::cancel_request(const Json& id) {
  std::string session_id;
  {
    std::lock_guard lock(mutex_);
    for (auto& [sid, turn] : turns_)
      if (turn.editor_id == id) {
        session_id = sid;
        turn.cancelled_by_request = true;
      }
  }
  if (session_id.empty()) return false;
  // The turn stops as "cancelled" and the request is answered then.
  ctx_.daemon.notify("session/cancel", {{"sessionId", session_id}});
  return true;
}

void AgentTurns::code_action(const Json& id, const Json& params) {
  const Json document = params.value("textDocument", Json());
  if (!document.is_object() || !document.contains("uri") || !document["uri"].is_string()) {
    ctx_.editor.respond_error(id, rpc::kInvalidParams, "textDocument.uri: a string is required");
    return;
  }
  auto range = range_from_json(params.value("range", Json()), "range");
  if (!range) {
    ctx_.editor.respond_error(id, rpc::kInvalidParams, range.message());
    return;
  }
  ctx_.editor.respond(id, code_actions(document["uri"].get<std::string>(), *range, params.value("context", Json())));
}

void AgentTurns::execute_command(const Json& id, const Json& params) {
  const std::string command = params.value("command", std::string());
  const auto& names = command_names();
  if (std::find(names.begin(), names.end(), command) == names.end()) {
    ctx_.editor.respond_error(id, rpc::kInvalidParams, "unknown command \"" + command + "\"");
    return;
  }
  Json argument = Json::object();
  if (params.contains("arguments") && params["arguments"].is_array() && !params["arguments"].empty())
    argument = params["arguments"][0];
  if (!argument.is_object()) {
    ctx_.editor.respond_error(id, rpc::kInvalidParams, "arguments[0]: an object is required");
    return;
  }
  PromptInput input;
  input.command = command;
  std::string workspace = ctx_.default_workspace();
  if (argument.contains("uri") && argument["uri"].is_string()) {
    const std::string uri = argument["uri"].get<std::string>();
    auto document = ctx_.documents.by_uri(uri);
    auto path = path_from_uri(uri);
    if (path) path = real_path(*path);
    if (!path) {
      ctx_.editor.respond_error(id, rpc::kInvalidParams, "uri: only file: URIs are supported (" + uri + ")");
      return;
    }
    workspace = ctx_.workspace_for(*path);
    input.relative_path = relative_to(*path, workspace);
    std::string text;
    if (document) {
      text = document->text;
      input.language_id = document->language_id;
    } else if (auto disk = read_text_file(*path, 64u << 20)) {
      text = *disk;
    }
    if (argument.contains("range")) {
      auto range = range_from_json(argument["range"], "arguments[0].range");
      if (!range) {
        ctx_.editor.respond_error(id, rpc::kInvalidParams, range.message());
        return;
      }
      input.range = *range;
      input.has_range = true;
      size_t start = offset_of(text, range->start, ctx_.settings.encoding);
      size_t end = offset_of(text, range->end, ctx_.settings.encoding);
      if (end < start) std::swap(start, end);
      input.selected_text = text.substr(start, std::min(end - start, kMaxSelectionBytes));
      if (end - start > kMaxSelectionBytes) input.selected_text += "\n[... selection cut at 64 KiB ...]\n";
    }
  }
  input.diagnostic = argument.value("diagnostic", Json());
  if (argument.contains("prompt") && argument["prompt"].is_string()) input.user_prompt = argument["prompt"].get<std::string>();
  auto prompt = build_prompt(input);
  if (!prompt) {
    ctx_.editor.respond_error(id, rpc::kInvalidParams, prompt.message());
    return;
  }
  Turn turn;
  turn.workspace = workspace;
  turn.editor_id = id;
  turn.title = command_title(command);
  turn.is_command = true;
  turn.progress_token = params.value("workDoneToken", Json());
  start_turn(std::move(turn), *prompt);
}

void AgentTurns::chat(const Json& id, const Json& params) {
  if (!params.is_object() || !params.contains("text") || !params["text"].is_string() ||
      params["text"].get<std::string>().empty()) {
    ctx_.editor.respond_error(id, rpc::kInvalidParams, "text: a non-empty string is required");
    return;
  }
  std::string prompt = params["text"].get<std::string>();
  std::string workspace = ctx_.default_workspace();
  if (params.contains("uri") && params["uri"].is_string()) {
    if (auto path = path_from_uri(params["uri"].get<std::string>())) {
      path = real_path(*path);
      workspace = ctx_.workspace_for(*path);
      PromptInput input;
      input.command = "beluga.ask";
      input.user_prompt = prompt;
      input.relative_path = relative_to(*path, workspace);
      if (auto document = ctx_.documents.by_uri(params["uri"].get<std::string>())) {
        input.language_id = document->language_id;
        if (params.contains("range")) {
          if (auto range = range_from_json(params["range"], "range")) {
            input.range = *range;
            input.has_range = true;
            size_t start = offset_of(document->text, range->start, ctx_.settings.encoding);
            size_t end = std::max(start, offset_of(document->text, range->end, ctx_.settings.encoding));
            input.selected_text = document->text.substr(start, std::min(end - start, kMaxSelectionBytes));
          }
        }
      }
      if (auto built = build_prompt(input)) prompt = *built;
    }
  }
  Turn turn;
  turn.workspace = workspace;
  turn.editor_id = id;
  turn.title = "Chat";
  start_turn(std::move(turn), prompt);
}

void AgentTurns::cancel(const Json& id, const Json& params) {
  std::vector<std::string> sessions;
  {
    std::lock_guard lock(mutex_);
    if (params.is_object() && params.contains("sessionId") && params["sessionId"].is_string()) {
      sessions.push_back(params["sessionId"].get<std::string>());
    } else {
      for (const auto& [sid, turn] : turns_)
        if (turn.workspace == ctx_.default_workspace() || turns_.size() == 1) sessions.push_back(sid);
    }
  }
  for (const auto& sid : sessions) ctx_.daemon.notify("session/cancel", {{"sessionId", sid}});
  ctx_.editor.respond(id, nullptr);
}

void AgentTurns::sessions(const Json& id, const Json& params) {
  std::string cwd = ctx_.default_workspace();
  if (params.is_object() && params.contains("cwd") && params["cwd"].is_string()) cwd = params["cwd"].get<std::string>();
  ctx_.daemon.request("session/list", {{"cwd", cwd}}, [this, id](bool ok, const Json& value) {
    if (!ok) {
      ctx_.editor.respond_error(id, error_code(value), "beluga: " + error_message(value));
      return;
    }
    Json sessions = Json::array();
    for (const auto& s : value.value("sessions", Json::array())) {
      if (!s.is_object()) continue;
      sessions.push_back({{"sessionId", s.value("sessionId", std::string())},
                          {"title", s.value("title", std::string())},
                          {"cwd", s.value("cwd", std::string())},
                          {"updatedAt", s.value("updatedAt", std::string())}});
    }
    ctx_.editor.respond(id, {{"sessions", sessions}});
  });
}

void AgentTurns::rewind(const Json& id, const Json& params) {
  std::string session_id, checkpoint;
  if (params.is_object() && params.contains("sessionId") && params["sessionId"].is_string())
    session_id = params["sessionId"].get<std::string>();
  if (params.is_object() && params.contains("checkpointId") && params["checkpointId"].is_string())
    checkpoint = params["checkpointId"].get<std::string>();
  std::string workspace = session_id.empty() ? "" : session_workspace(session_id);
  if (workspace.empty()) workspace = ctx_.default_workspace();
  if (session_id.empty()) {
    std::lock_guard lock(mutex_);
    if (auto it = workspaces_.find(workspace); it != workspaces_.end()) session_id = it->second.session_id;
  }
  if (session_id.empty() && checkpoint.empty()) {
    ctx_.editor.respond_error(id, rpc::kResourceNotFound, "no beluga session in " + workspace + " to rewind");
    return;
  }
  auto restore = [this, id, workspace](const std::string& checkpoint_id) {
    ctx_.daemon.request(
        "beluga/checkpoints/restore", {{"cwd", workspace}, {"checkpoint", checkpoint_id}},
        [this, id, workspace](bool ok, const Json& value) {
          if (!ok) {
            ctx_.editor.respond_error(id, error_code(value), "beluga: " + error_message(value));
            return;
          }
          Json restored = Json::array();
          for (const char* key : {"written", "removed"})
            for (const auto& p : value.value(key, Json::array()))
              if (p.is_string()) {
                const std::string path = (std::filesystem::path(workspace) / p.get<std::string>()).lexically_normal().string();
                restored.push_back(path);
                // An open buffer follows the disk, as an undoable edit.
                if (auto text = read_text_file(path, 64u << 20)) sync_buffer_to(ctx_, path, *text);
              }
          ctx_.editor.respond(id, {{"restored", restored}});
        });
  };
  if (!checkpoint.empty()) {
    restore(checkpoint);
    return;
  }
  ctx_.daemon.request("beluga/checkpoints/list", {{"cwd", workspace}, {"sessionId", session_id}},
                      [this, id, session_id, restore](bool ok, const Json& value) {
                        if (!ok) {
                          ctx_.editor.respond_error(id, error_code(value), "beluga: " + error_message(value));
                          return;
                        }
                        int64_t best = -1;
                        std::string best_id;
                        for (const auto& c : value.value("checkpoints", Json::array())) {
                          if (!c.is_object() || c.value("session", std::string()) != session_id) continue;
                          const int64_t n = c.value("number", int64_t{-1});
                          if (n > best) {
                            best = n;
                            best_id = c.value("id", std::string());
                          }
                        }
                        if (best_id.empty()) {
                          ctx_.editor.respond_error(id, rpc::kResourceNotFound,
                                                    "session " + session_id + " has no checkpoint to rewind to");
                          return;
                        }
                        restore(best_id);
                      });
}

}  // namespace beluga::lsp
