// The LSP bridge's connection to the daemon: an ACP client on the daemon's
// Unix socket (one JSON-RPC message per line, docs/protocol.md).
//
// The link owns one thread. It connects (starting the daemon with
// `beluga daemon start [--model M]` when no socket answers), sends ACP
// initialize offering fs.readTextFile and fs.writeTextFile (the bridge
// answers both from the editor's buffers), then reads: responses go to
// the callbacks of the requests they answer, daemon requests
// (session/request_permission, fs/...) and notifications (session/update)
// go to the handlers. When the daemon goes away (stopped, restarted,
// crashed), every pending request fails with "disconnected", the state
// handler hears it, and the thread reconnects with a growing pause
// (0.25 s to 5 s), starting a daemon again after 2 s without one.
// Requests made while the link is down (the daemon still starting, or
// restarting) wait for the connection, up to 60 s, then fail with the
// reason the daemon could not be reached.
// Each successful connection increments generation(): ACP sessions belong
// to a connection's daemon, so callers drop theirs when it changes.
//
// A handler or callback that throws is logged, never fatal to the link.
//
// Thread contract: request/notify/respond from any thread (writes are
// serialised by a mutex; the daemon's socket never blocks us for long:
// the daemon reads independently of its writes). Callbacks and handlers
// run on the link's thread, except that request() on a disconnected link
// calls its callback at once on the caller's thread; handlers must not
// block (they post editor requests and answer later).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <chrono>

#include <nlohmann/json.hpp>

#include "daemon/rpc/json_rpc.h"

namespace beluga::lsp {

using Json = nlohmann::json;
// ok: `value` is the result; otherwise the error object {code, message, data?}.
using ReplyCallback = std::function<void(bool ok, const Json& value)>;

enum class LinkEvent {
  kConnected,    // the first connection
  kReconnected,  // up again after a loss (a daemon restart)
  kLost,         // the connection closed
  kUnreachable,  // an attempt failed (said once per distinct reason)
};

struct DaemonLinkHandlers {
  std::function<void(const std::string& method, const Json& params)> notification;
  // Answer with DaemonLink::respond/respond_error, exactly once, from any thread.
  std::function<void(const Json& id, const std::string& method, const Json& params)> request;
  // What happened to the link, with a sentence for the user.
  std::function<void(LinkEvent event, const std::string& message)> state;
  std::function<void(const std::string& line)> log;
};

class DaemonLink {
 public:
  DaemonLink(std::string model, DaemonLinkHandlers handlers);
  ~DaemonLink();
  DaemonLink(const DaemonLink&) = delete;
  DaemonLink& operator=(const DaemonLink&) = delete;

  // The model passed to `beluga daemon start` when the link has to start one; before start().
  void set_model(std::string model) { model_ = std::move(model); }
  void start();
  void stop();

  // Returns the request's id (for $/cancel_request).
  Json request(const std::string& method, const Json& params, ReplyCallback on_reply);
  void notify(const std::string& method, const Json& params);
  void respond(const Json& id, const Json& result);
  void respond_error(const Json& id, int code, const std::string& message);

  bool connected() const { return connected_.load(); }
  uint64_t generation() const { return generation_.load(); }

 private:
  void run();
  int connect_once(bool may_start_daemon, std::string& why);
  bool initialize(int fd, std::string& why);
  void read_loop(int fd);
  void dispatch(const std::string& line);
  void dispatch_message(const rpc::Message& message);
  bool send_line(const std::string& line);
  void fail_pending(const std::string& why);
  void flush_unsent();                           // caller holds pending_mutex_; the link is up
  void expire_unsent(const std::string& why);    // requests waited too long for a connection

  std::string model_;
  DaemonLinkHandlers handlers_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> generation_{0};

  std::mutex write_mutex_;
  int fd_ = -1;  // guarded by write_mutex_

  std::mutex pending_mutex_;
  int64_t next_id_ = 1;
  std::map<int64_t, ReplyCallback> pending_;
  struct Unsent {
    int64_t id;
    std::string line;
    std::chrono::steady_clock::time_point deadline;
  };
  std::vector<Unsent> unsent_;  // guarded by pending_mutex_
};

}  // namespace beluga::lsp
