// What the parts of `beluga lsp` share: the editor channel, the daemon
// link, the open documents and what initialize negotiated.
//
// Thread contract: `settings` is written once by the main loop while
// handling initialize, before the daemon link starts and before any other
// thread reads it; afterwards it is read-only. DocumentStore, EditorChannel
// and DaemonLink are safe from any thread.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lsp/daemon_link.h"
#include "lsp/documents.h"
#include "lsp/editor_channel.h"
#include "lsp/positions.h"

namespace beluga::lsp {

struct ClientSettings {
  PositionEncoding encoding = PositionEncoding::kUtf16;
  bool work_done_progress = false;  // window.workDoneProgress
  bool apply_edit = false;          // workspace.applyEdit
  bool document_changes = false;    // workspace.workspaceEdit.documentChanges
  std::vector<std::string> roots;   // workspace folders, as paths
  std::string mode;                 // initializationOptions.mode: a permission mode for new sessions
  bool show_answers = true;         // initializationOptions.showAnswers
  int completion_max_tokens = 64;   // initializationOptions.completion.maxTokens
  int completion_debounce_ms = 75;  // initializationOptions.completion.debounceMs
  int completion_context_tokens = 2048;  // initializationOptions.completion.contextTokens
};

struct ServerContext {
  ServerContext(EditorChannel& e, DaemonLink& d) : editor(e), daemon(d) {}
  EditorChannel& editor;
  DaemonLink& daemon;
  DocumentStore documents;
  ClientSettings settings;

  // The workspace folder holding `path` (the longest root that contains
  // it), else the first root, else the path's folder.
  std::string workspace_for(const std::string& path) const;
  // The first root, else the server's working directory.
  std::string default_workspace() const;
  // Whether `path` (absolute, normalised) lies inside a workspace folder.
  bool inside_workspace(const std::string& path) const;
};

// The string form of a JSON-RPC id, for maps keyed by id.
inline std::string id_key(const nlohmann::json& id) { return id.dump(); }

}  // namespace beluga::lsp
