// The daemon's log: one timestamped line per event on stderr, which the
// detached daemon points at $XDG_STATE_HOME/beluga/daemon.log and `beluga
// acp` leaves on the terminal (stdout carries only protocol messages).
//
// Thread contract: log_line may be called from any thread (one write per line).
#pragma once

#include <string_view>

namespace beluga::daemon {

void log_line(std::string_view text);

}  // namespace beluga::daemon
