#include "lsp/lsp_server.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>

#include "daemon/rpc/json_rpc.h"
#include "lsp/agent_turns.h"
#include "lsp/code_actions.h"
#include "lsp/completion.h"
#include "lsp/daemon_link.h"
#include "lsp/server_context.h"

#ifndef BELUGA_VERSION
#define BELUGA_VERSION "dev"
#endif

namespace beluga::lsp {
namespace {

constexpr int kServerNotInitialized = -32002;

// Roots as the daemon sees them: symlinks resolved (it confines and names
// files by their real paths).
std::string normal_root(const std::string& path) {
  std::error_code ec;
  std::filesystem::path real = std::filesystem::weakly_canonical(path, ec);
  std::string p = (ec ? std::filesystem::path(path) : real).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

bool json_true(const Json& object, std::initializer_list<const char*> keys) {
  const Json* at = &object;
  for (const char* key : keys) {
    if (!at->is_object() || !at->contains(key)) return false;
    at = &(*at)[key];
  }
  return at->is_boolean() && at->get<bool>();
}

class Server {
 public:
  Server(int out_fd, const LspOptions& options)
      : options_(options), editor_(out_fd, options.log_level), daemon_(options.model, link_handlers()),
        ctx_(editor_, daemon_), turns_(ctx_), completion_(ctx_) {}

  int run(int in_fd);

 private:
  DaemonLinkHandlers link_handlers();
  void handle(const std::string& body);
  void handle_request(const Json& id, const std::string& method, const Json& params);
  void handle_notification(const std::string& method, const Json& params);
  void initialize(const Json& id, const Json& params);
  void did_open(const Json& params);
  void did_change(const Json& params);
  void shutdown_threads();

  const LspOptions options_;
  EditorChannel editor_;
  DaemonLink daemon_;
  ServerContext ctx_;
  AgentTurns turns_;
  CompletionScheduler completion_;
  bool initialized_ = false;
  bool shutdown_requested_ = false;
  bool exit_ = false;
  bool link_started_ = false;
  std::atomic<bool> ever_up_{false};  // the daemon link has connected once
};

DaemonLinkHandlers Server::link_handlers() {
  DaemonLinkHandlers h;
  h.notification = [this](const std::string& method, const Json& params) {
    if (method == "session/update") turns_.session_update(params);
  };
  h.request = [this](const Json& id, const std::string& method, const Json& params) {
    if (method == "session/request_permission") {
      turns_.permission_request(id, params);
    } else if (method == "fs/read_text_file" || method == "fs/write_text_file") {
      turns_.file_request(id, method, params);
    } else {
      daemon_.respond_error(id, rpc::kMethodNotFound, "beluga lsp does not handle " + method);
    }
  };
  h.state = [this](LinkEvent event, const std::string& message) {
    editor_.log(message);
    const bool up = event == LinkEvent::kConnected || event == LinkEvent::kReconnected;
    turns_.daemon_state(up);
    if (up) {
      editor_.notify("beluga/status", {{"state", turns_.busy() ? "busy" : "ready"}, {"message", message}});
    } else {
      editor_.notify("beluga/status", {{"state", "disconnected"}, {"message", message}});
    }
    // Pop-ups only for what the user must know: a restart noticed and
    // healed, or no daemon at all before the first connection.
    if (event == LinkEvent::kReconnected) editor_.show_message(3, "beluga: " + message);
    if (event == LinkEvent::kLost) editor_.show_message(2, "beluga: " + message);
    if (event == LinkEvent::kUnreachable && !ever_up_) editor_.show_message(1, "beluga: " + message);
    if (up) ever_up_ = true;
  };
  h.log = [this](const std::string& line) { editor_.log(line); };
  return h;
}

void Server::shutdown_threads() {
  daemon_.stop();
  completion_.stop();
  editor_.fail_pending("the server is exiting");
}

int Server::run(int in_fd) {
  FrameReader reader(options_.limits);
  char buffer[65536];
  while (!exit_) {
    ssize_t n = ::read(in_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      editor_.log(shutdown_requested_ ? "end of input" : "end of input without shutdown/exit");
      break;
    }
    reader.feed(std::string_view(buffer, static_cast<size_t>(n)));
    while (auto event = reader.next()) {
      if (!event->ok) {
        editor_.log("bad frame from the editor: " + event->error);
        continue;
      }
      handle(event->body);
      if (exit_) break;
    }
  }
  shutdown_threads();
  return shutdown_requested_ ? 0 : 1;
}

void Server::handle(const std::string& body) {
  rpc::Message message = rpc::parse_message(body);
  switch (message.kind) {
    case rpc::MessageKind::kInvalid: {
      const std::string why = message.error ? message.error->message : "invalid message";
      // A malformed response is the editor's problem to log, not ours to answer.
      const bool response = message.error && message.error->message.rfind("invalid response", 0) == 0;
      if (!message.id.is_null() && message.error && !response) {
        editor_.respond_error(message.id, message.error->code, message.error->message);
      } else {
        editor_.log("unreadable message from the editor (" + why + "); ignored");
      }
      return;
    }
    case rpc::MessageKind::kResponse:
      try {
        if (!editor_.deliver_response(message.id, !message.error.has_value(),
                                      message.error ? Json{{"code", message.error->code}, {"message", message.error->message}}
                                                    : message.result))
          editor_.debug("response to an unknown request " + message.id.dump());
      } catch (const std::exception& e) {
        editor_.log(std::string("error handling a response: ") + e.what());
      }
      return;
    case rpc::MessageKind::kRequest:
      try {
        handle_request(message.id, message.method, message.params);
      } catch (const Json::exception& e) {
        editor_.respond_error(message.id, rpc::kInvalidParams, std::string("bad params: ") + e.what());
      } catch (const std::exception& e) {
        editor_.respond_error(message.id, rpc::kInternalError, e.what());
      }
      return;
    case rpc::MessageKind::kNotification:
      try {
        handle_notification(message.method, message.params);
      } catch (const std::exception& e) {
        editor_.log("error handling " + message.method + ": " + e.what());
      }
      return;
  }
}

void Server::handle_request(const Json& id, const std::string& method, const Json& raw_params) {
  const Json params = raw_params.is_null() ? Json::object() : raw_params;
  editor_.debug("request " + method + " " + id.dump());
  if (method == "initialize") {
    if (initialized_) {
      editor_.respond_error(id, rpc::kInvalidRequest, "initialize was already received");
      return;
    }
    initialize(id, params);
    return;
  }
  if (!initialized_) {
    editor_.respond_error(id, kServerNotInitialized, "the server is not initialized (send initialize first)");
    return;
  }
  if (shutdown_requested_) {
    editor_.respond_error(id, rpc::kInvalidRequest, "the server is shutting down (only exit is accepted)");
    return;
  }
  if (method == "shutdown") {
    shutdown_requested_ = true;
    editor_.respond(id, nullptr);
  } else if (method == "textDocument/codeAction") {
    turns_.code_action(id, params);
  } else if (method == "workspace/executeCommand") {
    turns_.execute_command(id, params);
  } else if (method == "textDocument/inlineCompletion") {
    completion_.request(id, true, params);
  } else if (method == "textDocument/completion") {
    completion_.request(id, false, params);
  } else if (method == "beluga/chat") {
    turns_.chat(id, params);
  } else if (method == "beluga/cancel") {
    turns_.cancel(id, params);
  } else if (method == "beluga/sessions") {
    turns_.sessions(id, params);
  } else if (method == "beluga/rewind") {
    turns_.rewind(id, params);
  } else {
    editor_.respond_error(id, rpc::kMethodNotFound, "unknown method " + method);
  }
}

void Server::handle_notification(const std::string& method, const Json& raw_params) {
  const Json params = raw_params.is_null() ? Json::object() : raw_params;
  if (method == "exit") {
    exit_ = true;
    return;
  }
  if (!initialized_) return;
  if (method == "textDocument/didOpen") {
    did_open(params);
  } else if (method == "textDocument/didChange") {
    did_change(params);
  } else if (method == "textDocument/didClose") {
    const Json document = params.value("textDocument", Json());
    if (document.is_object() && document.contains("uri") && document["uri"].is_string())
      ctx_.documents.close(document["uri"].get<std::string>());
  } else if (method == "$/cancelRequest") {
    const Json id = params.value("id", Json());
    if (!completion_.cancel(id)) turns_.cancel_request(id);
  } else if (method == "window/workDoneProgress/cancel") {
    turns_.progress_cancelled(params.value("token", Json()));
  } else {
    editor_.debug("notification " + method + " ignored");
  }
}

void Server::initialize(const Json& id, const Json& params) {
  ClientSettings& s = ctx_.settings;
  const Json capabilities = params.value("capabilities", Json::object());
  const Json general = capabilities.is_object() ? capabilities.value("general", Json()) : Json();
  if (general.is_object() && general.contains("positionEncodings") && general["positionEncodings"].is_array())
    for (const auto& e : general["positionEncodings"])
      if (e == "utf-8") s.encoding = PositionEncoding::kUtf8;
  s.work_done_progress = json_true(capabilities, {"window", "workDoneProgress"});
  s.apply_edit = json_true(capabilities, {"workspace", "applyEdit"});
  s.document_changes = json_true(capabilities, {"workspace", "workspaceEdit", "documentChanges"});
  if (params.contains("workspaceFolders") && params["workspaceFolders"].is_array()) {
    for (const auto& folder : params["workspaceFolders"])
      if (folder.is_object() && folder.contains("uri") && folder["uri"].is_string())
        if (auto path = path_from_uri(folder["uri"].get<std::string>())) s.roots.push_back(normal_root(*path));
  }
  if (s.roots.empty() && params.contains("rootUri") && params["rootUri"].is_string()) {
    if (auto path = path_from_uri(params["rootUri"].get<std::string>())) s.roots.push_back(normal_root(*path));
  }
  if (s.roots.empty() && params.contains("rootPath") && params["rootPath"].is_string())
    s.roots.push_back(normal_root(params["rootPath"].get<std::string>()));
  std::string model = options_.model;
  const Json init = params.value("initializationOptions", Json());
  if (init.is_object()) {
    if (model.empty() && init.contains("model") && init["model"].is_string()) model = init["model"].get<std::string>();
    if (init.contains("mode") && init["mode"].is_string()) {
      const std::string mode = init["mode"].get<std::string>();
      if (mode == "default" || mode == "auto-edit" || mode == "plan" || mode == "yolo") {
        s.mode = mode;
      } else {
        editor_.respond_error(id, rpc::kInvalidParams,
                              "initializationOptions.mode: one of default, auto-edit, plan, yolo is required");
        ctx_.settings = ClientSettings{};
        return;
      }
    }
    if (init.contains("showAnswers") && init["showAnswers"].is_boolean()) s.show_answers = init["showAnswers"].get<bool>();
    const Json completion = init.value("completion", Json());
    if (completion.is_object()) {
      auto bounded = [&](const char* key, int low, int high, int& into) {
        if (completion.contains(key) && completion[key].is_number_integer())
          into = std::clamp(completion[key].get<int>(), low, high);
      };
      bounded("maxTokens", 1, 1024, s.completion_max_tokens);
      bounded("debounceMs", 0, 5000, s.completion_debounce_ms);
      bounded("contextTokens", 0, 1 << 20, s.completion_context_tokens);
    }
  }
  initialized_ = true;
  Json commands = Json::array();
  for (const auto& name : command_names()) commands.push_back(name);
  editor_.respond(id, {{"capabilities",
                        {{"positionEncoding", s.encoding == PositionEncoding::kUtf8 ? "utf-8" : "utf-16"},
                         {"textDocumentSync", {{"openClose", true}, {"change", 2}}},
                         {"codeActionProvider", {{"codeActionKinds", {"quickfix", "refactor", "source"}}}},
                         {"executeCommandProvider", {{"commands", commands}}},
                         {"inlineCompletionProvider", true},
                         {"completionProvider", {{"triggerCharacters", Json::array()}}}}},
                       {"serverInfo", {{"name", "beluga"}, {"version", BELUGA_VERSION}}}});
  editor_.notify("beluga/status", {{"state", "starting"}, {"message", "connecting to the beluga daemon"}});
  daemon_.set_model(model);
  daemon_.start();
  link_started_ = true;
}

void Server::did_open(const Json& params) {
  const Json d = params.value("textDocument", Json());
  if (!d.is_object() || !d.contains("uri") || !d["uri"].is_string() || !d.contains("text") || !d["text"].is_string()) {
    editor_.log("didOpen without textDocument.uri/text; ignored");
    return;
  }
  TextDocument document;
  document.uri = d["uri"].get<std::string>();
  document.language_id = d.contains("languageId") && d["languageId"].is_string() ? d["languageId"].get<std::string>() : "";
  document.version = d.contains("version") && d["version"].is_number_integer() ? d["version"].get<int64_t>() : 0;
  document.text = d["text"].get<std::string>();
  ctx_.documents.open(std::move(document));
}

void Server::did_change(const Json& params) {
  const Json d = params.value("textDocument", Json());
  if (!d.is_object() || !d.contains("uri") || !d["uri"].is_string()) {
    editor_.log("didChange without textDocument.uri; ignored");
    return;
  }
  const int64_t version = d.contains("version") && d["version"].is_number_integer() ? d["version"].get<int64_t>() : 0;
  if (Status s = ctx_.documents.change(d["uri"].get<std::string>(), version, params.value("contentChanges", Json()),
                                       ctx_.settings.encoding);
      !s)
    editor_.log("didChange refused: " + s.message());
}

}  // namespace

int run_lsp_server(int in_fd, int out_fd, const LspOptions& options) {
  auto server = std::make_unique<Server>(out_fd, options);
  return server->run(in_fd);
}

}  // namespace beluga::lsp
