// `beluga acp`: the stdio bridge an ACP client spawns (daemon_command.h).
//
// Bytes are copied both ways without being parsed: the daemon speaks ACP
// on its socket exactly as an agent speaks it on stdio (one JSON-RPC
// message per line), so the bridge adds no latency or failure of its own.
// Flow control is the pipes': while the client does not read stdout the
// bridge stops reading the socket, and the daemon's bounded queue decides
// (a client that never reads is dropped there).
//
// Ending: stdin closed by the client → the bridge closes the socket (the
// daemon cancels that connection's turns) and exits 0; the daemon closing
// the socket → exit 1 with a message on stderr.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "daemon/command_output.h"
#include "daemon/daemon_command.h"
#include "daemon/daemon_spawn.h"
#include "daemon/socket_client.h"

namespace beluga {
namespace {

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = fd == STDOUT_FILENO ? ::write(fd, data, size) : ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

CLI::App* add_acp_command(CLI::App& app, AcpCommand& cmd) {
  CLI::App* acp = app.add_subcommand(
      "acp", "Agent Client Protocol on stdio, bridged to the daemon (the command to configure in an ACP client)");
  acp->add_option("--model", cmd.model, "Checkpoint folder, replay:FILE or remote:URL, used if the daemon has to be started");
  return acp;
}

int run_acp_command(const AcpCommand& cmd) {
  ::signal(SIGPIPE, SIG_IGN);
  auto paths = daemon::daemon_paths();
  if (!paths) return fail(paths.message());
  auto fd = daemon::connect_unix(paths->socket);
  if (!fd) {
    std::fprintf(stderr, "beluga acp: no daemon answers on %s; starting one\n", paths->socket.c_str());
    if (Status s = daemon::start_daemon_process(cmd.model); !s) return fail(s.message());
    fd = daemon::connect_unix(paths->socket);
    if (!fd) return fail(fd.message());
  }
  const int sock = *fd;
  std::string to_socket, to_stdout;
  bool stdin_open = true;
  char buffer[65536];
  for (;;) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {sock, POLLIN, 0}};
    if (!stdin_open) fds[0].fd = -1;
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return fail(std::string("poll: ") + std::strerror(errno));
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // The client is done: closing the socket cancels this connection's turns.
        ::close(sock);
        return 0;
      }
      if (!write_all(sock, buffer, static_cast<size_t>(n))) return fail("the daemon closed the connection");
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(sock, buffer, sizeof buffer, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(sock);
        return fail("the daemon closed the connection");
      }
      if (!write_all(STDOUT_FILENO, buffer, static_cast<size_t>(n))) {
        ::close(sock);
        return 0;  // the client stopped reading for good
      }
    }
  }
}

}  // namespace beluga
