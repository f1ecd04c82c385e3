// `beluga daemon start|stop|status|restart` and `beluga acp`.
//
//   beluga daemon start [--model DIR|replay:FILE|remote:URL] [--foreground] [--max-message-bytes N]
//                       [--http HOST:PORT] [--http-max-body-bytes N]
//   beluga daemon stop
//   beluga daemon status [--json]
//   beluga daemon restart [--model ...]
//   beluga acp [--model DIR|replay:FILE|remote:URL]
//
// start detaches (fork, setsid, fork) and returns once the daemon listens
// (or failed: its error is printed); a second start finds the running one
// and says so (exit 0). The files (daemon_paths in socket_client.h): the
// socket folder must be ours and 0700, the socket is 0600; anything else
// is refused, never "fixed". The pid file is locked (flock) for the
// daemon's life: the lock, not the pid, says whether a daemon runs.
// SIGTERM (or SIGINT in the foreground) stops it cleanly (daemon_server.h),
// exit 0. Exit statuses: 0 ok, 1 failure, 3 `status` found no daemon.
//
// --http (or "http": {"listen": ...} in daemon.json) also serves the model
// over HTTP (daemon/http/chat_service.h; docs/protocol.md "HTTP serving"):
// the token comes from $BELUGA_HTTP_TOKEN, else daemon.json's
// "http": {"token"}; the body limit from --http-max-body-bytes, else
// "http": {"maxBodyBytes"}; the default answer length from
// "http": {"maxTokens"}.
//
// `beluga acp` bridges stdin/stdout to the socket for one ACP client,
// starting the daemon first when no socket answers (passing --model).
// stdout carries only the daemon's protocol messages; the bridge's own
// messages go to stderr.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace beluga {

struct DaemonCommand {
  std::string action;  // start, stop, status, restart, run
  std::string model;
  bool foreground = false;
  bool json = false;
  uint64_t max_message_bytes = 0;  // 0: the default (8 MiB)
  std::string http;                // HOST:PORT; "": daemon.json's "http"."listen", else no HTTP serving
  uint64_t http_max_body_bytes = 0;  // 0: daemon.json, else the default (8 MiB)
};

struct AcpCommand {
  std::string model;
};

CLI::App* add_daemon_command(CLI::App& app, DaemonCommand& cmd);
CLI::App* add_acp_command(CLI::App& app, AcpCommand& cmd);
int run_daemon_command(const DaemonCommand& cmd);
int run_acp_command(const AcpCommand& cmd);

}  // namespace beluga
