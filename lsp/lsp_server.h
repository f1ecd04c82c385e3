// `beluga lsp`: the Language Server the editor starts (LSP 3.17 on stdio).
//
// The main loop reads framed messages (framing.h) from the editor and
// dispatches them; nothing it calls blocks on the daemon or the editor:
// long work (agent turns, completions) is answered later from the daemon
// link's thread or the completion timer, through the EditorChannel.
//
// Lifecycle (LSP 3.17): before initialize, requests get -32002 (server not
// initialized) and notifications are dropped; initialize negotiates the
// position encoding (utf-8 when the client lists it in
// general.positionEncodings, else utf-16), reads the workspace folders
// and initializationOptions, answers the capabilities, then starts the
// daemon link (which starts a daemon if none runs). After shutdown,
// requests get -32600; exit ends the process with 0 after shutdown, 1
// otherwise; end of input counts as exit.
//
// Malformed input never ends the server: a bad frame (framing.h) is
// logged and skipped; a body that is not JSON or not a JSON-RPC message is
// answered -32700/-32600 when its id can be read, logged otherwise;
// unknown requests get -32601, unknown notifications are ignored; a
// handler that throws on ill-typed params answers -32602.
//
// Thread contract: run() on one thread (the main loop); the other threads
// are the daemon link's and the completion timer's.
#pragma once

#include <string>

#include "lsp/editor_channel.h"
#include "lsp/framing.h"

namespace beluga::lsp {

struct LspOptions {
  std::string model;  // --model: used if the daemon has to be started
  LogLevel log_level = LogLevel::kInfo;
  FrameLimits limits;
};

// Serves the editor on in_fd/out_fd until exit or end of input; returns the exit status.
int run_lsp_server(int in_fd, int out_fd, const LspOptions& options);

}  // namespace beluga::lsp
