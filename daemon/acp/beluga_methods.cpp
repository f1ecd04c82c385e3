// beluga's own methods, under "beluga/" (docs/protocol.md has each one's
// params and result schema). They need no initialize. Everything that
// touches disk runs on the worker pool; model/info and daemon/status are
// answered on the I/O thread (they read counters only), which makes them
// the cheap methods the load test times.
#include <unistd.h>

#include <filesystem>

#include "agent/system_prompt.h"
#include "daemon/acp/daemon_server.h"
#include "daemon/acp/params.h"
#include "daemon/acp/session_admin.h"
#include "indexer/index_store.h"
#include "indexer/indexer.h"
#include "tools/checkpoints.h"

#ifndef BELUGA_VERSION
#define BELUGA_VERSION "dev"
#endif

namespace beluga::daemon {
namespace {

std::filesystem::path workspace_param(const Json& params) {
  const std::string cwd = required_string(params, "cwd");
  auto workspace = indexer::canonical_workspace(cwd);
  if (!workspace) throw InvalidParams("cwd: " + workspace.message());
  return *workspace;
}

Json report_json(const indexer::IndexReport& r) {
  Json languages = Json::object();
  for (const auto& [name, totals] : r.totals.languages)
    languages[name] = {{"files", totals.files}, {"tokens", totals.tokens}};
  Json skipped = Json::array();
  for (const auto& s : r.skipped) skipped.push_back({{"path", s.path}, {"reason", s.reason}});
  return {{"workspace", r.workspace},
          {"database", r.database},
          {"files", r.totals.files},
          {"symbols", r.totals.symbols},
          {"references", r.totals.references},
          {"tokens", r.totals.tokens},
          {"tokensEstimated", r.tokens_estimated},
          {"languages", languages},
          {"changes",
           {{"added", r.added}, {"updated", r.updated}, {"removed", r.removed}, {"renamed", r.renamed},
            {"unchanged", r.unchanged}}},
          {"skipped", skipped},
          {"seconds", r.seconds}};
}

Json checkpoint_json(const tools::Checkpoint& c) {
  return {{"id", c.id},         {"session", c.session}, {"number", c.number}, {"commit", c.commit},
          {"head", c.head},     {"label", c.label},     {"files", c.files},   {"createdUnixS", c.created_unix_s}};
}

}  // namespace

void register_beluga_methods(rpc::RpcServer& server, DaemonContext& c) {
  server.add_method("beluga/model/info", rpc::RunOn::kIoThread,
                    guarded([&c](const rpc::Call&, rpc::Responder& reply) { reply.result(c.model->info()); }));

  server.add_method("beluga/daemon/status", rpc::RunOn::kIoThread,
                    guarded([&c](const rpc::Call&, rpc::Responder& reply) {
                      const auto up = std::chrono::steady_clock::now() - c.started;
                      reply.result({{"pid", static_cast<int64_t>(::getpid())},
                                    {"version", BELUGA_VERSION},
                                    {"socket", c.socket_path},
                                    {"uptimeS", std::chrono::duration_cast<std::chrono::seconds>(up).count()},
                                    {"connections", c.server->connection_count()},
                                    {"liveSessions", c.sessions->live_count()},
                                    {"runningTurns", c.sessions->running_count()},
                                    {"model", c.model->info()},
                                    {"http", c.http ? Json{{"address", c.http->address()},
                                                           {"connections", c.http->connection_count()}}
                                                    : Json()}});
                    }));

  // Checked here, run on the completion service's thread (completions.h).
  server.add_method("beluga/complete", rpc::RunOn::kWorker,
                    guarded([&c](const rpc::Call& call, rpc::Responder& reply) {
                      CompletionParams params = parse_completion_params(call.params, c.model->context_tokens());
                      if (!c.model->embedded()) {
                        reply.error(rpc::kInternalError, "completion needs an embedded model: fill-in-the-middle "
                                                         "runs on the embedded engine, and the daemon's model is " +
                                                             c.model->spec());
                        return;
                      }
                      c.completions->submit(std::move(params), reply);
                    }));

  server.add_method("beluga/sessions/list", rpc::RunOn::kWorker,
                    guarded([&c](const rpc::Call& call, rpc::Responder& reply) {
                      std::string cwd = optional_string(call.params, "cwd").value_or("");
                      if (!cwd.empty()) cwd = workspace_param(call.params).string();
                      auto records = list_stored_sessions(*c.sessions, cwd);
                      if (!records) throw std::runtime_error(records.message());
                      Json out = Json::array();
                      for (const auto& r : *records)
                        out.push_back({{"sessionId", r.id},
                                       {"cwd", r.workspace},
                                       {"model", r.model},
                                       {"mode", r.mode},
                                       {"title", r.title},
                                       {"createdUnixS", r.created_unix_s},
                                       {"updatedUnixS", r.updated_unix_s},
                                       {"live", c.sessions->find(r.id) != nullptr}});
                      reply.result({{"sessions", out}});
                    }));

  server.add_method("beluga/sessions/delete", rpc::RunOn::kWorker,
                    guarded([&c](const rpc::Call& call, rpc::Responder& reply) {
                      const std::string id = required_string(call.params, "sessionId");
                      if (Status s = delete_session(*c.sessions, id); !s) throw NotFound(s.message());
                      reply.result({{"deleted", id}});
                    }));

  server.add_method("beluga/index/status", rpc::RunOn::kWorker,
                    guarded([](const rpc::Call& call, rpc::Responder& reply) {
                      const auto workspace = workspace_param(call.params);
                      auto db = indexer::default_index_path(workspace);
                      if (!db) throw std::runtime_error(db.message());
                      auto meta = indexer::IndexStore::read_meta(*db);
                      Json out = {{"workspace", workspace.string()}, {"database", *db}, {"indexed", !meta.empty()}};
                      if (!meta.empty()) {
                        Json m = Json::object();
                        for (const auto& [k, v] : meta) m[k] = v;
                        out["meta"] = m;
                        std::string rebuilt;
                        auto store = indexer::IndexStore::open(*db, meta["token_counter"], rebuilt);
                        if (store && rebuilt.empty()) {
                          if (auto totals = (*store)->totals()) {
                            out["files"] = totals->files;
                            out["symbols"] = totals->symbols;
                            out["references"] = totals->references;
                            out["tokens"] = totals->tokens;
                          }
                        }
                      }
                      reply.result(out);
                    }));

  server.add_method("beluga/index/refresh", rpc::RunOn::kWorker,
                    guarded([](const rpc::Call& call, rpc::Responder& reply) {
                      indexer::IndexOptions options;
                      options.workspace = workspace_param(call.params);
                      options.threads = 1;  // the daemon shares its cores with turns
                      auto report = indexer::update_index(options);
                      if (!report) throw std::runtime_error(report.message());
                      reply.result(report_json(*report));
                    }));

  server.add_method(
      "beluga/context/render", rpc::RunOn::kWorker, guarded([&c](const rpc::Call& call, rpc::Responder& reply) {
        if (auto id = optional_string(call.params, "sessionId")) {
          auto session = c.sessions->find(*id);
          if (!session) throw NotFound("session " + *id + " is not live (session/load it first)");
          std::unique_lock lock(session->mutex);  // a prompt waits until the render is done
          if (session->turn_running)
            throw InvalidParams("session " + *id + " is running a turn; render it when the turn ends");
          auto prompt = session->agent->render();
          lock.unlock();
          if (!prompt) throw std::runtime_error(prompt.message());
          reply.result({{"text", *prompt}, {"tokens", c.model->count_tokens(*prompt)},
                        {"contextTokens", c.model->context_tokens()}});
          return;
        }
        const auto workspace = workspace_param(call.params);
        const int64_t budget = optional_int(call.params, "budgetTokens").value_or(c.model->context_tokens() / 2);
        if (budget <= 0) throw InvalidParams("budgetTokens: must be positive");
        SharedModel* model = c.model;
        auto source = agent::file_list_context([model](std::string_view text) { return model->count_tokens(text); });
        auto text = source(workspace, budget);
        if (!text) throw std::runtime_error(text.message());
        reply.result({{"text", *text}, {"tokens", c.model->count_tokens(*text)}, {"budgetTokens", budget}});
      }));

  server.add_method("beluga/checkpoints/list", rpc::RunOn::kWorker,
                    guarded([](const rpc::Call& call, rpc::Responder& reply) {
                      const auto workspace = workspace_param(call.params);
                      auto list = tools::list_checkpoints(workspace, optional_string(call.params, "sessionId").value_or(""));
                      if (!list) throw std::runtime_error(list.message());
                      Json out = Json::array();
                      for (const auto& cp : *list) out.push_back(checkpoint_json(cp));
                      reply.result({{"checkpoints", out}});
                    }));

  server.add_method("beluga/checkpoints/diff", rpc::RunOn::kWorker,
                    guarded([](const rpc::Call& call, rpc::Responder& reply) {
                      const auto workspace = workspace_param(call.params);
                      const std::string from = required_string(call.params, "from");
                      const std::string to = optional_string(call.params, "to").value_or("");
                      auto diff = tools::diff_checkpoints(workspace, from, to);
                      if (!diff) throw NotFound(diff.message());
                      reply.result({{"files", diff->files}, {"patch", diff->patch}});
                    }));

  server.add_method("beluga/checkpoints/restore", rpc::RunOn::kWorker,
                    guarded([&c](const rpc::Call& call, rpc::Responder& reply) {
                      const auto workspace = workspace_param(call.params);
                      const std::string id = required_string(call.params, "checkpoint");
                      if (c.sessions->running_in(workspace))
                        throw InvalidParams("a turn is running in " + workspace.string() + "; cancel it first");
                      auto report = tools::restore_checkpoint(workspace, id);
                      if (!report) throw NotFound(report.message());
                      reply.result({{"written", report->written},
                                    {"modes", report->modes},
                                    {"removed", report->removed},
                                    {"conflicts", report->conflicts},
                                    {"unchanged", report->unchanged}});
                    }));
}

}  // namespace beluga::daemon
