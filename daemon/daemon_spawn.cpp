#include "daemon/daemon_spawn.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace beluga::daemon {

Status start_daemon_process(const std::string& model) {
  char self[4096];
  ssize_t len = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return make_error("cannot find the beluga binary (/proc/self/exe)");
  self[len] = '\0';
  pid_t child = ::fork();
  if (child < 0) return make_error(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
    if (model.empty()) {
      ::execl(self, self, "daemon", "start", static_cast<char*>(nullptr));
    } else {
      ::execl(self, self, "daemon", "start", "--model", model.c_str(), static_cast<char*>(nullptr));
    }
    _exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return make_error("`beluga daemon start` failed");
  return {};
}

}  // namespace beluga::daemon
