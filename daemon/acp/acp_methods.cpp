// ACP v1, agent side (schema: ../shared/acp/schema.json; docs/protocol.md):
// initialize, authenticate, logout, session/new, session/load,
// session/resume, session/list, session/prompt, session/cancel,
// session/set_mode, session/set_config_option, session/close,
// session/delete ($/cancel_request is the transport's, rpc_server.h). The
// handlers only translate: sessions.h does the work.
//
// initialize advertises exactly these: loadSession, sessionCapabilities
// list/delete/resume/close, embedded context in prompts. beluga needs no
// authentication: authMethods is empty, so authenticate names no valid
// method (-32602), and logout (not advertised: auth.logout is absent) has
// nothing to end and answers {} for clients that send it anyway.
//
// A connection must call initialize before any session/ method (ACP's
// rule; the answer is -32600 otherwise). Prompt content: text blocks are
// the prompt; resource_link blocks are named in it; embedded resources
// (promptCapabilities.embeddedContext) are inlined with their URI; image
// and audio blocks are refused with -32602 (the capabilities say false).
#include <mutex>

#include "agent/session_store.h"
#include "engine/base/time_text.h"
#include "daemon/acp/acp_updates.h"
#include "daemon/acp/client_files.h"
#include "daemon/acp/daemon_server.h"
#include "daemon/acp/params.h"
#include "daemon/acp/session_admin.h"
#include "daemon/log.h"
#include "indexer/indexer.h"

#ifndef BELUGA_VERSION
#define BELUGA_VERSION "dev"
#endif

namespace beluga::daemon {
namespace {

constexpr int kProtocolVersion = 1;
constexpr size_t kListPage = 100;

std::shared_ptr<ClientState> client_state(rpc::Peer& peer) {
  return std::static_pointer_cast<ClientState>(peer.user_state());
}

void require_initialized(rpc::Responder& reply) {
  auto state = client_state(*reply.peer());
  bool ok = false;
  if (state) {
    std::lock_guard lock(state->mutex);
    ok = state->initialized;
  }
  if (!ok) throw std::logic_error("call initialize first");
}

std::shared_ptr<LiveSession> session_of(DaemonContext& c, rpc::Responder& reply, const Json& params) {
  const std::string id = required_string(params, "sessionId");
  auto session = c.sessions->open_on(*reply.peer(), id);
  if (!session)
    throw NotFound("session " + id + " is not open on this connection (session/new or session/load it first)");
  return session;
}

std::string iso8601(int64_t unix_s) { return format_unix_time(unix_s, "%Y-%m-%dT%H:%M:%SZ", TimeZone::kUtc); }

// The prompt's content blocks as the text the agent gets.
std::string prompt_text(const Json& blocks) {
  std::string text;
  auto add = [&](const std::string& piece) {
    if (!text.empty() && text.back() != '\n') text += "\n\n";
    text += piece;
  };
  for (const Json& block : blocks) {
    if (!block.is_object()) throw InvalidParams("prompt: each content block must be an object");
    const std::string type = block.value("type", "");
    if (type == "text") {
      auto it = block.find("text");
      if (it == block.end() || !it->is_string()) throw InvalidParams("prompt: a text block needs a string \"text\"");
      add(it->get<std::string>());
    } else if (type == "resource_link") {
      add("[" + block.value("name", std::string("resource")) + "](" + block.value("uri", std::string()) + ")");
    } else if (type == "resource") {
      auto resource = block.find("resource");
      if (resource == block.end() || !resource->is_object())
        throw InvalidParams("prompt: a resource block needs a \"resource\" object");
      const std::string uri = resource->value("uri", std::string());
      if (auto t = resource->find("text"); t != resource->end() && t->is_string())
        add("<context uri=\"" + uri + "\">\n" + t->get<std::string>() + "\n</context>");
      else
        throw InvalidParams("prompt: binary resources are not supported (" + uri + ")");
    } else if (type == "image" || type == "audio") {
      throw InvalidParams("prompt: " + type + " content is not supported (see promptCapabilities)");
    } else {
      throw InvalidParams("prompt: unknown content block type \"" + type + "\"");
    }
  }
  if (text.empty()) throw InvalidParams("prompt: no text");
  return text;
}

Json session_response(const std::shared_ptr<LiveSession>& s, const Json& mcp_servers) {
  Json out = {{"modes", mode_state(s->agent->policy().mode)}, {"configOptions", config_options(s->agent->policy().mode)}};
  if (mcp_servers.is_array() && !mcp_servers.empty()) {
    Json names = Json::array();
    for (const Json& m : mcp_servers) names.push_back(m.is_object() ? m.value("name", std::string()) : std::string());
    out["_meta"] = {{"beluga",
                     {{"mcpServersIgnored", names},
                      {"reason", "beluga has no MCP client yet: these servers' tools are not available"}}}};
  }
  return out;
}

// A session/ handler: initialize required, then InvalidParams/NotFound mapped.
rpc::Handler session_method(rpc::Handler handler) {
  return guarded([handler = std::move(handler)](const rpc::Call& call, rpc::Responder& reply) {
    try {
      require_initialized(reply);
    } catch (const std::logic_error& e) {
      reply.error(rpc::kInvalidRequest, std::string("invalid request: ") + e.what());
      return;
    }
    handler(call, reply);
  });
}

}  // namespace

void register_acp_methods(rpc::RpcServer& server, DaemonContext& c) {
  server.add_method("initialize", rpc::RunOn::kIoThread, guarded([](const rpc::Call& call, rpc::Responder& reply) {
    const Json& p = params_object(call.params);
    auto version = p.find("protocolVersion");
    if (version == p.end() || !version->is_number_integer() || version->get<int64_t>() < 0)
      throw InvalidParams("protocolVersion: a non-negative integer is required");
    auto state = std::make_shared<ClientState>();
    state->initialized = true;
    if (auto caps = p.find("clientCapabilities"); caps != p.end() && caps->is_object()) {
      if (auto fs = caps->find("fs"); fs != caps->end() && fs->is_object()) {
        state->fs_read = fs->value("readTextFile", false);
        state->fs_write = fs->value("writeTextFile", false);
      }
    }
    if (auto info = p.find("clientInfo"); info != p.end()) state->client_info = *info;
    reply.peer()->set_user_state(state);
    reply.result({{"protocolVersion", kProtocolVersion},
                  {"agentCapabilities",
                   {{"loadSession", true},
                    {"promptCapabilities", {{"image", false}, {"audio", false}, {"embeddedContext", true}}},
                    {"mcpCapabilities", {{"http", false}, {"sse", false}}},
                    {"sessionCapabilities",
                     {{"list", Json::object()},
                      {"delete", Json::object()},
                      {"resume", Json::object()},
                      {"close", Json::object()}}}}},
                  {"authMethods", Json::array()},
                  {"agentInfo", {{"name", "beluga"}, {"title", "beluga"}, {"version", BELUGA_VERSION}}}});
  }));

  server.add_method("authenticate", rpc::RunOn::kIoThread, guarded([](const rpc::Call& call, rpc::Responder&) {
    const std::string method = required_string(call.params, "methodId");
    throw InvalidParams("methodId: \"" + method +
                        "\" is not an authentication method of beluga, which needs none (initialize's authMethods "
                        "is empty)");
  }));

  // Nothing to log out of; not advertised (agentCapabilities.auth.logout is absent).
  server.add_method("logout", rpc::RunOn::kIoThread,
                    guarded([](const rpc::Call&, rpc::Responder& reply) { reply.result(Json::object()); }));

  server.add_method("session/new", rpc::RunOn::kWorker,
                    session_method([&c](const rpc::Call& call, rpc::Responder& reply) {
                      const std::string cwd = required_string(call.params, "cwd");
                      const Json& mcp = required_array(call.params, "mcpServers");
                      if (cwd.empty() || cwd.front() != '/') throw InvalidParams("cwd: must be an absolute path");
                      if (auto workspace = indexer::canonical_workspace(cwd); !workspace)
                        throw InvalidParams("cwd: " + workspace.message());
                      auto session = c.sessions->create(reply.peer(), cwd);
                      if (!session) throw std::runtime_error(session.message());
                      Json out = session_response(*session, mcp);
                      out["sessionId"] = (*session)->id;
                      reply.result(out);
                    }));

  server.add_method("session/load", rpc::RunOn::kWorker,
                    session_method([&c](const rpc::Call& call, rpc::Responder& reply) {
                      const std::string id = required_string(call.params, "sessionId");
                      required_string(call.params, "cwd");
                      const Json& mcp = required_array(call.params, "mcpServers");
                      auto session = c.sessions->load(reply.peer(), id);
                      if (!session) throw NotFound("session " + id + ": " + session.message());
                      // History first, then the answer (one connection: order is kept).
                      std::vector<Json> history;
                      {
                        // Not during a turn: a pipelined prompt waits for the copy.
                        std::lock_guard lock((*session)->mutex);
                        history = replay_transcript((*session)->agent->transcript());
                      }
                      for (const Json& update : history) (*session)->send_update(update);
                      reply.result(session_response(*session, mcp));
                    }));

  // session/load without the history (sessionCapabilities.resume).
  server.add_method("session/resume", rpc::RunOn::kWorker,
                    session_method([&c](const rpc::Call& call, rpc::Responder& reply) {
                      const std::string id = required_string(call.params, "sessionId");
                      required_string(call.params, "cwd");
                      const Json& p = params_object(call.params);
                      const Json mcp = p.contains("mcpServers") && p["mcpServers"].is_array() ? p["mcpServers"]
                                                                                              : Json::array();
                      auto session = c.sessions->load(reply.peer(), id);
                      if (!session) throw NotFound("session " + id + ": " + session.message());
                      reply.result(session_response(*session, mcp));
                    }));

  server.add_method("session/list", rpc::RunOn::kWorker,
                    session_method([&c](const rpc::Call& call, rpc::Responder& reply) {
                      std::string cwd = optional_string(call.params, "cwd").value_or("");
                      if (!cwd.empty()) {
                        auto canonical = indexer::canonical_workspace(cwd);
                        if (canonical) cwd = canonical->string();
                      }
                      size_t offset = 0;
                      if (auto cursor = optional_string(call.params, "cursor")) {
                        try {
                          offset = std::stoul(*cursor);
                        } catch (const std::exception&) {
                          throw InvalidParams("cursor: not a cursor this daemon gave out");
                        }
                      }
                      auto records = list_stored_sessions(*c.sessions, cwd);
                      if (!records) throw std::runtime_error(records.message());
                      Json sessions = Json::array();
                      for (size_t i = offset; i < records->size() && i < offset + kListPage; ++i) {
                        const auto& r = (*records)[i];
                        sessions.push_back({{"sessionId", r.id},
                                            {"cwd", r.workspace},
                                            {"title", r.title},
                                            {"updatedAt", iso8601(r.updated_unix_s)}});
                      }
                      Json out = {{"sessions", sessions}};
                      if (offset + kListPage < records->size()) out["nextCursor"] = std::to_string(offset + kListPage);
                      reply.result(out);
                    }));

  server.add_method("session/prompt", rpc::RunOn::kWorker,
                    session_method([&c](const rpc::Call& call, rpc::Responder& reply) {
                      auto session = session_of(c, reply, call.params);
                      std::string text = prompt_text(required_array(call.params, "prompt"));
                      c.sessions->prompt(session, std::move(text), reply);
                    }));

  // A notification in ACP; answered when a client sends it as a request.
  server.add_method("session/cancel", rpc::RunOn::kIoThread,
                    session_method([&c](const rpc::Call& call, rpc::Responder& reply) {
                      auto session = session_of(c, reply, call.params);
                      c.sessions->cancel(session);
                      reply.result(Json::object());
                    }));

  server.add_method("session/set_mode", rpc::RunOn::kWorker,
                    session_method([&c](const rpc::Call& call, rpc::Responder& reply) {
                      auto session = session_of(c, reply, call.params);
                      auto mode = agent::parse_permission_mode(required_string(call.params, "modeId"));
                      if (!mode) throw InvalidParams("modeId: " + mode.message());
                      if (Status s = c.sessions->set_mode(session, *mode); !s) throw std::runtime_error(s.message());
                      reply.result(Json::object());
                    }));

  // The session's one config option is its mode (configOptions in session/new's answer).
  server.add_method("session/set_config_option", rpc::RunOn::kWorker,
                    session_method([&c](const rpc::Call& call, rpc::Responder& reply) {
                      auto session = session_of(c, reply, call.params);
                      const std::string id = required_string(call.params, "configId");
                      if (id != "mode") throw InvalidParams("configId: beluga has no option \"" + id + "\" (only \"mode\")");
                      const Json& p = params_object(call.params);
                      auto value = p.find("value");
                      if (value == p.end() || !value->is_string())
                        throw InvalidParams("value: the mode's id (a string) is required");
                      auto mode = agent::parse_permission_mode(value->get<std::string>());
                      if (!mode) throw InvalidParams("value: " + mode.message());
                      if (Status s = c.sessions->set_mode(session, *mode); !s) throw std::runtime_error(s.message());
                      reply.result({{"configOptions", config_options(*mode)}});
                    }));

  // Cancels the turn and releases the session (sessionCapabilities.close).
  server.add_method("session/close", rpc::RunOn::kWorker,
                    session_method([&c](const rpc::Call& call, rpc::Responder& reply) {
                      auto session = session_of(c, reply, call.params);
                      c.sessions->close(session);
                      reply.result(Json::object());
                    }));

  server.add_method("session/delete", rpc::RunOn::kWorker,
                    session_method([&c](const rpc::Call& call, rpc::Responder& reply) {
                      const std::string id = required_string(call.params, "sessionId");
                      if (Status s = delete_session(*c.sessions, id); !s) throw NotFound(s.message());
                      reply.result(Json::object());
                    }));
}

}  // namespace beluga::daemon
