// A JSON-RPC 2.0 server on a Unix socket: one line per message, methods in
// a dispatch table, requests in both directions.
//
// Connections. Each accepted socket becomes a connection that owns itself
// (kept alive by its pending handlers, as in Beast's servers). Everything a
// connection does happens on the server's I/O thread; other threads reach
// it through Peer, whose methods only post work there.
//
// Reading. Bytes accumulate until '\n'; each complete line is parsed
// (json_rpc.h) and dispatched. A line longer than max_message_bytes is
// answered with -32600 ("message too large", id null, since the id inside
// it was never parsed) and the rest of it is skipped up to its newline: the
// connection survives, and a client that keeps sending without newlines
// costs a bounded buffer. Reading pauses while the connection has
// max_requests_in_flight requests unanswered or its outgoing queue holds
// more than a quarter of its byte limit (backpressure: a client that sends
// faster than it reads stops being read).
//
// Writing. One write in flight, the rest queued. Messages that the daemon
// produces on its own (session/update from a running turn) are not gated by
// reading, so the queue is bounded by bytes: a client whose queue passes
// max_queued_bytes, or whose write makes no progress for write_timeout_s,
// is disconnected. A slow or dead client therefore costs a bounded amount
// of memory and never blocks another connection or a turn.
//
// Requests to the client (Peer::request) get ids "b-N"; the reply, an error
// reply, or the disconnect calls the callback exactly once.
//
// Cancelling a request. `$/cancel_request` {"requestId": id} (ACP's
// CancelRequestNotification, LSP's $/cancelRequest under another name) is
// handled here, for every method: it marks the request's Cancellation (the
// Responder carries it) and runs the hook its handler registered. A
// handler that can stop early polls cancelled() or registers a hook and
// answers -32800 (or what its method documents); one that cannot simply
// answers as usual (the race is inherent: a result may cross the cancel).
// Unknown or already answered ids are ignored. The connection forgets a
// request's Cancellation when it is answered, and every one when it closes.
//
// Handlers. A method runs either on the I/O thread (cheap, non-blocking
// methods) or on the server's worker pool (anything that touches disk or
// waits). A handler answers through its Responder exactly once; a
// Responder destroyed without answering sends -32603 so a client is never
// left waiting. Notifications to unknown methods are ignored (JSON-RPC);
// requests to unknown methods get -32601.
//
// Shutdown (stop): close the acceptor, close every connection (pending
// client requests fail), let the I/O thread run out of work, join it and
// the workers.
//
// Thread contract: configure (add_method, on_disconnect) before listen();
// Peer and Responder are safe from any thread; stop() from any thread but
// a handler.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "daemon/rpc/json_rpc.h"
#include "engine/base/result.h"

namespace beluga::rpc {

struct ServerOptions {
  size_t max_message_bytes = 8u << 20;     // one incoming line
  size_t max_queued_bytes = 32u << 20;     // outgoing, per connection
  size_t max_requests_in_flight = 64;      // per connection, before reading pauses
  int write_timeout_s = 30;                // a write making no progress this long drops the client
  int worker_threads = 4;
};

// The far end of a connection, as handlers and the protocol layer see it.
class Peer {
 public:
  virtual ~Peer() = default;
  virtual uint64_t id() const = 0;
  virtual bool is_open() const = 0;
  virtual void notify(std::string_view method, const Json& params) = 0;
  // `on_reply` gets the result, or the client's error, or a "disconnected"
  // error; called exactly once, on the I/O thread (keep it short).
  virtual void request(std::string_view method, const Json& params,
                       std::function<void(bool ok, const Json& result_or_error)> on_reply) = 0;
  virtual void close() = 0;
  // One encoded message (ending in '\n'), queued as it is (Responder uses it).
  virtual void send_raw(std::string line) = 0;

  // Per-connection state of the protocol layer (e.g. negotiated capabilities).
  void set_user_state(std::shared_ptr<void> state) {
    std::lock_guard lock(user_state_mutex_);
    user_state_ = std::move(state);
  }
  std::shared_ptr<void> user_state() const {
    std::lock_guard lock(user_state_mutex_);
    return user_state_;
  }

 private:
  mutable std::mutex user_state_mutex_;
  std::shared_ptr<void> user_state_;
};

// Whether the client cancelled a request. Thread-safe.
class Cancellation {
 public:
  bool cancelled() const { return cancelled_.load(); }
  // `hook` runs once when the request is cancelled (at once, on this
  // thread, if it already was), on the cancelling thread (the I/O
  // thread): keep it short. A later hook replaces an earlier one.
  void on_cancel(std::function<void()> hook);
  void cancel();

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::function<void()> hook_;
};

// Answers one request exactly once (a notification's Responder answers nothing).
class Responder {
 public:
  Responder(std::shared_ptr<Peer> peer, Json id, bool expects_reply, std::function<void()> on_done,
            std::shared_ptr<Cancellation> cancellation = std::make_shared<Cancellation>());
  Responder(Responder&&) noexcept;
  Responder& operator=(Responder&&) = delete;
  Responder(const Responder&) = delete;
  ~Responder();

  void result(const Json& value);
  void error(int code, std::string message, Json data = nullptr);
  bool answered() const { return answered_; }
  const std::shared_ptr<Peer>& peer() const { return peer_; }
  // Set by $/cancel_request for this request's id (never for a notification).
  const std::shared_ptr<Cancellation>& cancellation() const { return cancellation_; }
  const Json& id() const { return id_; }

 private:
  void send(std::string line);
  std::shared_ptr<Peer> peer_;
  Json id_;
  bool expects_reply_ = true;
  bool answered_ = false;
  std::function<void()> on_done_;
  std::shared_ptr<Cancellation> cancellation_;
};

struct Call {
  std::string method;
  Json params;  // null when absent
  bool is_notification = false;
};

// A handler answers through `reply`, now or later: to answer later it moves
// the Responder out (std::move(reply)). An exception escaping a handler is
// answered for it: nlohmann::json errors (a param of the wrong type) with
// -32602, anything else with -32603.
using Handler = std::function<void(const Call& call, Responder& reply)>;
enum class RunOn { kIoThread, kWorker };

class RpcServer {
 public:
  explicit RpcServer(ServerOptions options = {});
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  void add_method(std::string name, RunOn where, Handler handler);
  // Called on the I/O thread once per connection that closes, for whatever reason.
  void on_disconnect(std::function<void(Peer& peer)> callback);

  // Binds and listens on `socket_path` (which must not exist) and starts
  // the I/O thread and the workers.
  Status listen(const std::string& socket_path);
  // Serves an already connected socket (a socketpair end in tests); the
  // server must be started (listen, or start() without a socket).
  void adopt(int fd);
  void start();
  void stop();

  size_t connection_count() const;
  const ServerOptions& options() const { return options_; }

  struct Impl;

 private:
  ServerOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace beluga::rpc
