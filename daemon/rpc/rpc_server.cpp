// The Asio side of rpc_server.h: the acceptor, connections, the I/O thread
// and the worker pool. The design (framing, limits, backpressure,
// shutdown) is described in the header.
#include "daemon/rpc/rpc_server.h"

#include <sys/stat.h>

#include <array>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "daemon/log.h"
#include "daemon/rpc/asio.h"

namespace beluga::rpc {

namespace asio = boost::asio;
using Socket = asio::local::stream_protocol::socket;

struct Method {
  RunOn where = RunOn::kWorker;
  Handler handler;
};

class Connection;

struct RpcServer::Impl {
  ServerOptions options;
  // Shared with every connection so that a Peer kept by the protocol layer
  // after stop() still destroys its socket before the io_context.
  std::shared_ptr<asio::io_context> io = std::make_shared<asio::io_context>();
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::optional<asio::local::stream_protocol::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_retry;
  std::unique_ptr<asio::thread_pool> workers;
  std::thread io_thread;
  std::map<std::string, Method> methods;
  std::function<void(Peer&)> on_disconnect;
  mutable std::mutex mutex;
  std::map<uint64_t, std::weak_ptr<Connection>> connections;
  std::atomic<uint64_t> next_connection{1};
  bool started = false;
  bool stopped = false;

  void accept_next();
  void serve(Socket socket);
};

namespace {

std::string id_key(const Json& id) { return id.dump(); }

}  // namespace

// A connection: the socket, its read buffer and its write queue. All state
// below is touched only on the I/O thread; the Peer methods post there.
class Connection final : public Peer, public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<asio::io_context> io, RpcServer::Impl* server, Socket socket, uint64_t id)
      : io_(std::move(io)), server_(server), socket_(std::move(socket)), write_timer_(*io_), id_(id) {}

  void start() { read_next(); }

  uint64_t id() const override { return id_; }
  bool is_open() const override { return open_.load(); }

  void notify(std::string_view method, const Json& params) override { send_raw(encode_notification(method, params)); }

  void request(std::string_view method, const Json& params,
               std::function<void(bool, const Json&)> on_reply) override {
    const Json id = "b-" + std::to_string(next_request_.fetch_add(1));
    std::string line = encode_request(id, method, params);
    asio::post(*io_, [weak = weak_from_this(), id, line = std::move(line), on_reply = std::move(on_reply)]() mutable {
      auto self = weak.lock();
      if (!self || !self->open_) {
        on_reply(false, Json{{"code", kInternalError}, {"message", "the client disconnected"}});
        return;
      }
      self->pending_[id_key(id)] = std::move(on_reply);
      self->queue_line(std::move(line));
    });
  }

  void close() override {
    asio::post(*io_, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->shut("closed by the server");
    });
  }

  void send_raw(std::string line) override {
    asio::post(*io_, [weak = weak_from_this(), line = std::move(line)]() mutable {
      if (auto self = weak.lock()) self->queue_line(std::move(line));
    });
  }

  // I/O thread only.
  void shut(const std::string& why) {
    if (!open_.exchange(false)) return;
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
    write_timer_.cancel();
    write_queue_.clear();
    queued_bytes_ = 0;
    auto pending = std::move(pending_);
    pending_.clear();
    cancellable_.clear();  // their hooks may hold sessions that hold this connection
    for (auto& [key, callback] : pending)
      callback(false, Json{{"code", kInternalError}, {"message", "the client disconnected"}});
    daemon::log_line("connection " + std::to_string(id_) + " closed: " + why);
    {
      std::lock_guard lock(server_->mutex);
      server_->connections.erase(id_);
    }
    if (server_->on_disconnect) server_->on_disconnect(*this);
  }

 private:
  bool reading_should_pause() const {
    return in_flight_ >= server_->options.max_requests_in_flight ||
           queued_bytes_ > server_->options.max_queued_bytes / 4;
  }

  void read_next() {
    if (!open_ || read_pending_ || reading_should_pause()) return;
    read_pending_ = true;
    socket_.async_read_some(asio::buffer(read_buffer_), [self = shared_from_this()](
                                                            const boost::system::error_code& ec, size_t n) {
      self->read_pending_ = false;
      if (ec) {
        self->shut(ec == asio::error::eof ? "the client hung up" : "read failed: " + ec.message());
        return;
      }
      self->on_bytes(std::string_view(self->read_buffer_.data(), n));
      self->read_next();
    });
  }

  void on_bytes(std::string_view bytes) {
    const size_t limit = server_->options.max_message_bytes;
    while (!bytes.empty() && open_) {
      const size_t newline = bytes.find('\n');
      const std::string_view piece = bytes.substr(0, newline);
      if (skipping_) {
        if (newline != std::string_view::npos) skipping_ = false;
      } else if (line_.size() + piece.size() > limit) {
        // Too long: answer once and drop the rest of this line.
        line_.clear();
        line_.shrink_to_fit();
        skipping_ = newline == std::string_view::npos;
        queue_line(encode_error(nullptr, RpcError{kInvalidRequest,
                                                  "invalid request: message larger than " + std::to_string(limit) +
                                                      " bytes (the connection's limit); it was skipped",
                                                  nullptr}));
      } else {
        line_.append(piece);
        if (newline != std::string_view::npos) {
          std::string line = std::move(line_);
          line_.clear();
          if (!line.empty() && line.back() == '\r') line.pop_back();
          if (line.find_first_not_of(" \t") != std::string::npos) handle_line(line);
        }
      }
      if (newline == std::string_view::npos) break;
      bytes.remove_prefix(newline + 1);
    }
  }

  void handle_line(const std::string& line) {
    Message message = parse_message(line);
    switch (message.kind) {
      case MessageKind::kInvalid:
        queue_line(encode_error(message.id, *message.error));
        return;
      case MessageKind::kResponse: {
        auto it = pending_.find(id_key(message.id));
        if (it == pending_.end()) {
          daemon::log_line("connection " + std::to_string(id_) + ": a response to no request (id " +
                           message.id.dump() + ") ignored");
          return;
        }
        auto callback = std::move(it->second);
        pending_.erase(it);
        if (message.error)
          callback(false, Json{{"code", message.error->code}, {"message", message.error->message}});
        else
          callback(true, message.result);
        return;
      }
      case MessageKind::kRequest:
      case MessageKind::kNotification:
        dispatch(std::move(message));
        return;
    }
  }

  // $/cancel_request: marks the request, runs its hook. Unknown ids are ignored.
  void cancel_request(const Message& message) {
    if (message.params.is_object()) {
      auto id = message.params.find("requestId");
      if (id != message.params.end()) {
        auto it = cancellable_.find(id_key(*id));
        if (it != cancellable_.end()) {
          auto cancellation = it->second;
          cancellation->cancel();
        }
      }
    }
    if (message.kind == MessageKind::kRequest) queue_line(encode_result(message.id, nullptr));
  }

  void dispatch(Message message) {
    const bool is_request = message.kind == MessageKind::kRequest;
    if (message.method == "$/cancel_request") {
      cancel_request(message);
      return;
    }
    auto found = server_->methods.find(message.method);
    if (found == server_->methods.end()) {
      if (is_request)
        queue_line(encode_error(message.id, RpcError{kMethodNotFound, "method not found: " + message.method, nullptr}));
      return;
    }
    std::function<void()> on_done;
    auto cancellation = std::make_shared<Cancellation>();
    if (is_request) {
      ++in_flight_;
      const std::string key = id_key(message.id);
      cancellable_[key] = cancellation;
      on_done = [weak = weak_from_this(), io = io_, key, token = std::weak_ptr<Cancellation>(cancellation)] {
        asio::post(*io, [weak, key, token] {
          if (auto self = weak.lock()) {
            --self->in_flight_;
            // Only this request's entry: a client may reuse an id once answered.
            auto it = self->cancellable_.find(key);
            if (it != self->cancellable_.end() && it->second == token.lock()) self->cancellable_.erase(it);
            self->read_next();
          }
        });
      };
    }
    auto run = [self = shared_from_this(), handler = &found->second.handler,
                call = Call{std::move(message.method), std::move(message.params), !is_request},
                reply = Responder(shared_from_this(), message.id, is_request, std::move(on_done),
                                  std::move(cancellation))]() mutable {
      try {
        (*handler)(call, reply);
      } catch (const nlohmann::json::exception& e) {
        if (!reply.answered()) reply.error(kInvalidParams, std::string("invalid params: ") + e.what());
      } catch (const std::exception& e) {
        if (!reply.answered()) reply.error(kInternalError, std::string("internal error: ") + e.what());
      }
    };
    if (found->second.where == RunOn::kIoThread)
      run();
    else
      asio::post(*server_->workers, std::move(run));
  }

  void queue_line(std::string line) {
    if (!open_) return;
    if (queued_bytes_ + line.size() > server_->options.max_queued_bytes) {
      shut("the client reads too slowly (" + std::to_string(queued_bytes_) + " bytes queued)");
      return;
    }
    queued_bytes_ += line.size();
    write_queue_.push_back(std::move(line));
    if (!writing_) write_next();
  }

  void write_next() {
    if (!open_ || write_queue_.empty()) return;
    writing_ = true;
    write_timer_.expires_after(std::chrono::seconds(server_->options.write_timeout_s));
    write_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!ec && self && self->writing_) self->shut("a write made no progress in time");
    });
    asio::async_write(socket_, asio::buffer(write_queue_.front()),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        self->writing_ = false;
                        self->write_timer_.cancel();
                        if (!self->open_) return;
                        if (ec) {
                          self->shut("write failed: " + ec.message());
                          return;
                        }
                        self->queued_bytes_ -= self->write_queue_.front().size();
                        self->write_queue_.pop_front();
                        self->write_next();
                        self->read_next();
                      });
  }

  std::shared_ptr<asio::io_context> io_;  // first: destroyed after the socket
  RpcServer::Impl* server_;
  Socket socket_;
  asio::steady_timer write_timer_;
  const uint64_t id_;
  std::atomic<bool> open_{true};
  std::atomic<uint64_t> next_request_{1};
  std::array<char, 64 * 1024> read_buffer_{};
  std::string line_;
  bool skipping_ = false;
  bool read_pending_ = false;
  size_t in_flight_ = 0;
  std::deque<std::string> write_queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  std::map<std::string, std::function<void(bool, const Json&)>> pending_;
  std::map<std::string, std::shared_ptr<Cancellation>> cancellable_;  // requests not yet answered, by id
};

// ---- Cancellation ----

void Cancellation::on_cancel(std::function<void()> hook) {
  {
    std::lock_guard lock(mutex_);
    if (!cancelled_.load()) {
      hook_ = std::move(hook);
      return;
    }
  }
  if (hook) hook();
}

void Cancellation::cancel() {
  std::function<void()> hook;
  {
    std::lock_guard lock(mutex_);
    if (cancelled_.exchange(true)) return;
    hook = std::move(hook_);
    hook_ = nullptr;
  }
  if (hook) hook();
}

// ---- Responder ----

Responder::Responder(std::shared_ptr<Peer> peer, Json id, bool expects_reply, std::function<void()> on_done,
                     std::shared_ptr<Cancellation> cancellation)
    : peer_(std::move(peer)), id_(std::move(id)), expects_reply_(expects_reply), on_done_(std::move(on_done)),
      cancellation_(std::move(cancellation)) {}

Responder::Responder(Responder&& other) noexcept
    : peer_(std::move(other.peer_)), id_(std::move(other.id_)), expects_reply_(other.expects_reply_),
      answered_(other.answered_), on_done_(std::move(other.on_done_)), cancellation_(other.cancellation_) {
  other.answered_ = true;  // the moved-from Responder is inert
  other.on_done_ = nullptr;
}

Responder::~Responder() {
  if (!answered_) error(kInternalError, "internal error: the request was dropped without an answer");
}

void Responder::result(const Json& value) {
  if (answered_) return;
  send(encode_result(id_, value));
}

void Responder::error(int code, std::string message, Json data) {
  if (answered_) return;
  send(encode_error(id_, RpcError{code, std::move(message), std::move(data)}));
}

void Responder::send(std::string line) {
  answered_ = true;
  if (cancellation_) cancellation_->on_cancel(nullptr);  // drop the hook (and what it holds)
  if (expects_reply_ && peer_) peer_->send_raw(std::move(line));
  if (on_done_) {
    auto done = std::move(on_done_);
    on_done_ = nullptr;
    done();
  }
}

// ---- RpcServer ----

void RpcServer::Impl::accept_next() {
  acceptor->async_accept([this](const boost::system::error_code& ec, Socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      // EMFILE and the like: wait a little rather than spin.
      daemon::log_line("accept failed: " + ec.message());
      accept_retry->expires_after(std::chrono::milliseconds(100));
      accept_retry->async_wait([this](const boost::system::error_code& e) {
        if (!e && acceptor->is_open()) accept_next();
      });
      return;
    }
    serve(std::move(socket));
    accept_next();
  });
}

void RpcServer::Impl::serve(Socket socket) {
  const uint64_t id = next_connection.fetch_add(1);
  auto connection = std::make_shared<Connection>(io, this, std::move(socket), id);
  {
    std::lock_guard lock(mutex);
    connections[id] = connection;
  }
  connection->start();
}

RpcServer::RpcServer(ServerOptions options) : options_(options), impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}

RpcServer::~RpcServer() { stop(); }

void RpcServer::add_method(std::string name, RunOn where, Handler handler) {
  impl_->methods[std::move(name)] = Method{where, std::move(handler)};
}

void RpcServer::on_disconnect(std::function<void(Peer&)> callback) { impl_->on_disconnect = std::move(callback); }

Status RpcServer::listen(const std::string& socket_path) {
  boost::system::error_code ec;
  impl_->acceptor.emplace(*impl_->io);
  impl_->acceptor->open(asio::local::stream_protocol(), ec);
  if (!ec) impl_->acceptor->bind(asio::local::stream_protocol::endpoint(socket_path), ec);
  if (ec) return make_error("cannot bind " + socket_path + ": " + ec.message());
  if (::chmod(socket_path.c_str(), 0600) != 0) return make_error("cannot chmod 0600 " + socket_path);
  impl_->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("cannot listen on " + socket_path + ": " + ec.message());
  impl_->accept_retry.emplace(*impl_->io);
  start();
  asio::post(*impl_->io, [impl = impl_.get()] { impl->accept_next(); });
  return {};
}

void RpcServer::adopt(int fd) {
  asio::post(*impl_->io, [impl = impl_.get(), fd] {
    Socket socket(*impl->io);
    boost::system::error_code ec;
    socket.assign(asio::local::stream_protocol(), fd, ec);
    if (ec) {
      daemon::log_line("cannot adopt socket: " + ec.message());
      ::close(fd);
      return;
    }
    impl->serve(std::move(socket));
  });
}

void RpcServer::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->workers = std::make_unique<asio::thread_pool>(static_cast<size_t>(std::max(1, options_.worker_threads)));
  impl_->guard.emplace(impl_->io->get_executor());
  impl_->io_thread = std::thread([io = impl_->io] {
    for (;;) {
      try {
        io->run();
        return;
      } catch (const std::exception& e) {
        daemon::log_line(std::string("I/O thread: uncaught exception: ") + e.what());
      }
    }
  });
}

void RpcServer::stop() {
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  asio::post(*impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    if (impl->acceptor) impl->acceptor->close(ignored);
    if (impl->accept_retry) impl->accept_retry->cancel();
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(impl->mutex);
      for (auto& [id, weak] : impl->connections)
        if (auto c = weak.lock()) open.push_back(std::move(c));
    }
    for (auto& c : open) c->shut("the daemon is stopping");
  });
  impl_->guard.reset();
  if (impl_->io_thread.joinable()) impl_->io_thread.join();
  impl_->workers->join();
}

size_t RpcServer::connection_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->connections.size();
}

}  // namespace beluga::rpc
