// daemon/rpc/rpc_server.h over real Unix sockets: dispatch, errors,
// oversized lines, requests to the client, backpressure and disconnects.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>

#include <sys/stat.h>

#include "daemon/rpc/rpc_server.h"
#include "tests/daemon/test_client.h"
#include "tests/test_support.h"

using namespace beluga;
using namespace beluga::testing;

namespace {

struct ServerFixture {
  explicit ServerFixture(rpc::ServerOptions options = {}) : server(options) {
    ::mkdir(dir.file("run").c_str(), 0700);
    socket = dir.file("run") + "/test.sock";
    server.add_method("echo", rpc::RunOn::kWorker,
                      [](const rpc::Call& call, rpc::Responder& reply) { reply.result(call.params); });
    server.add_method("fast", rpc::RunOn::kIoThread,
                      [](const rpc::Call&, rpc::Responder& reply) { reply.result("ok"); });
    server.add_method("typed", rpc::RunOn::kWorker, [](const rpc::Call& call, rpc::Responder& reply) {
      reply.result(call.params.at("n").get<int>() + 1);  // throws on a wrong type
    });
    server.add_method("silent", rpc::RunOn::kWorker, [](const rpc::Call&, rpc::Responder&) {});
    server.add_method("noted", rpc::RunOn::kIoThread, [this](const rpc::Call& call, rpc::Responder&) {
      notes.fetch_add(1);
      (void)call;
    });
    server.add_method("ask_client", rpc::RunOn::kWorker, [](const rpc::Call&, rpc::Responder& reply) {
      auto promise = std::make_shared<std::promise<Json>>();
      auto future = promise->get_future();
      reply.peer()->request("client/question", {{"q", 1}}, [promise](bool ok, const Json& value) {
        promise->set_value(Json{{"ok", ok}, {"value", value}});
      });
      reply.result(future.get());
    });
    server.add_method("flood", rpc::RunOn::kWorker, [](const rpc::Call& call, rpc::Responder& reply) {
      const std::string payload(call.params.at("bytes").get<size_t>(), 'x');
      for (int i = 0; i < call.params.at("count").get<int>(); ++i) reply.peer()->notify("flood/item", {{"p", payload}});
      reply.result("sent");
    });
    server.on_disconnect([this](rpc::Peer&) { disconnects.fetch_add(1); });
    auto listening = server.listen(socket);
    if (!listening) throw std::runtime_error(listening.message());
  }
  ScratchDir dir;
  std::string socket;
  rpc::RpcServer server;
  std::atomic<int> notes{0};
  std::atomic<int> disconnects{0};
};

}  // namespace

TEST_CASE("a request gets its result and the socket is private") {
  ServerFixture f;
  struct stat st {};
  REQUIRE(::stat(f.socket.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto client = TestClient::connect(f.socket);
  CHECK(client->result("echo", {{"a", 1}}) == Json{{"a", 1}});
  CHECK(client->result("fast", Json::object()) == "ok");
}

TEST_CASE("bad input gets standard errors and the connection survives") {
  ServerFixture f;
  auto client = TestClient::connect(f.socket);
  client->send_raw("{this is not json\n");
  client->send_raw("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}]\n");
  client->send_raw("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":7}\n");
  // Errors for lines without a usable id come back with id null, in order.
  Json parse = client->wait_response(nullptr);
  CHECK(parse["error"]["code"] == rpc::kParseError);
  Json batch = client->wait_response(nullptr);
  CHECK(batch["error"]["code"] == rpc::kInvalidRequest);
  Json bad_method = client->wait_response("x");
  CHECK(bad_method["error"]["code"] == rpc::kInvalidRequest);

  Json unknown = client->call("no/such/method", Json::object());
  CHECK(unknown["error"]["code"] == rpc::kMethodNotFound);
  CHECK(unknown["error"]["message"].get<std::string>().find("no/such/method") != std::string::npos);

  Json wrong_type = client->call("typed", {{"n", "not a number"}});
  CHECK(wrong_type["error"]["code"] == rpc::kInvalidParams);

  Json dropped = client->call("silent", Json::object());
  CHECK(dropped["error"]["code"] == rpc::kInternalError);

  // Notifications: to a known method they run, to an unknown one nothing answers.
  client->notify("noted", Json::object());
  client->notify("unknown/notification", Json::object());
  CHECK(client->result("echo", {5}) == Json::array({5}));
  CHECK(client->wait_until([&] { return f.notes.load() == 1; }));
  CHECK_FALSE(client->closed());
  CHECK(client->garbage().empty());
}

TEST_CASE("an oversized message is refused and the next one is served") {
  rpc::ServerOptions options;
  options.max_message_bytes = 4096;
  ServerFixture f(options);
  auto client = TestClient::connect(f.socket);
  std::string huge = R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"s":")" + std::string(100000, 'a') + "\"}}\n";
  client->send_raw(huge);
  Json refused = client->wait_response(nullptr);
  CHECK(refused["error"]["code"] == rpc::kInvalidRequest);
  CHECK(refused["error"]["message"].get<std::string>().find("4096") != std::string::npos);
  // Exactly at the limit still passes; the connection is intact.
  CHECK(client->result("echo", {{"s", std::string(3000, 'b')}})["s"].get<std::string>().size() == 3000);
  CHECK_FALSE(client->closed());
}

TEST_CASE("the server asks the client and gets its answer") {
  ServerFixture f;
  auto client = TestClient::connect(f.socket);
  client->on_request([](const Json& request) -> std::optional<Json> {
    if (request["method"] == "client/question") return Json{{"answer", 42}};
    return std::nullopt;
  });
  Json answer = client->result("ask_client", Json::object());
  CHECK(answer["ok"] == true);
  CHECK(answer["value"]["answer"] == 42);
}

TEST_CASE("a client that disconnects while asked fails the question cleanly") {
  ServerFixture f;
  auto client = TestClient::connect(f.socket);
  const int64_t id = client->send_request("ask_client", Json::object());
  Json question = client->wait_daemon_request();
  CHECK(question["method"] == "client/question");
  (void)id;
  client->hang_up();
  CHECK(client->wait_until([&] { return f.disconnects.load() == 1; }));
  // The server is still fine for others.
  auto other = TestClient::connect(f.socket);
  CHECK(other->result("fast", Json::object()) == "ok");
}

TEST_CASE("a client that never reads is dropped without blocking others") {
  rpc::ServerOptions options;
  options.max_queued_bytes = 1 << 20;
  options.write_timeout_s = 5;
  ServerFixture f(options);
  // The stalled client: asks for 64 MiB of notifications and reads nothing.
  auto stalled = daemon::connect_unix(f.socket);
  REQUIRE(stalled.ok());
  const std::string flood =
      Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "flood"}, {"params", {{"bytes", 65536}, {"count", 1024}}}}.dump() +
      "\n";
  REQUIRE(::send(*stalled, flood.data(), flood.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(flood.size()));
  // Meanwhile another client is served.
  auto other = TestClient::connect(f.socket);
  for (int i = 0; i < 20; ++i) CHECK(other->result("echo", {{"i", i}})["i"] == i);
  CHECK(other->wait_until([&] { return f.disconnects.load() >= 1; }));
  CHECK(other->result("fast", Json::object()) == "ok");
  ::close(*stalled);
}

TEST_CASE("stop closes every connection and returns") {
  auto f = std::make_unique<ServerFixture>();
  auto a = TestClient::connect(f->socket);
  auto b = TestClient::connect(f->socket);
  CHECK(a->result("fast", Json::object()) == "ok");
  CHECK(b->result("fast", Json::object()) == "ok");
  f->server.stop();
  CHECK(a->wait_until([&] { return a->closed(); }));
  CHECK(b->wait_until([&] { return b->closed(); }));
  CHECK(f->disconnects.load() == 2);
}
