// Starting the daemon from a bridge (`beluga acp`, `beluga lsp`): runs this
// binary as `beluga daemon start [--model M]` and waits for it to report
// (start returns once the daemon listens or has failed). The child's
// stdout goes to our stderr: a bridge's stdout belongs to its protocol.
//
// Thread contract: any thread (fork + exec + waitpid on that child only).
#pragma once

#include <string>

#include "engine/base/result.h"

namespace beluga::daemon {

Status start_daemon_process(const std::string& model);

}  // namespace beluga::daemon
