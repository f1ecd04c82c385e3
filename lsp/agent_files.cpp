#include "lsp/agent_files.h"

#include <filesystem>

#include "daemon/rpc/json_rpc.h"
#include "engine/base/files.h"

namespace beluga::lsp {
namespace {

constexpr uint64_t kMaxFileBytes = 64u << 20;

// ACP's line (1-based) and limit.
std::string select_lines(const std::string& text, int64_t line, int64_t limit) {
  if (line <= 1 && limit < 0) return text;
  size_t start = 0;
  for (int64_t l = 1; l < line && start < text.size(); ++l) {
    const size_t newline = text.find('\n', start);
    start = newline == std::string::npos ? text.size() : newline + 1;
  }
  if (limit < 0) return text.substr(start);
  size_t end = start;
  for (int64_t n = 0; n < limit && end < text.size(); ++n) {
    const size_t newline = text.find('\n', end);
    end = newline == std::string::npos ? text.size() : newline + 1;
  }
  return text.substr(start, end - start);
}

bool inside(const std::string& root, const std::string& path) {
  if (root.empty()) return false;
  const std::string prefix = root.back() == '/' ? root : root + "/";
  return path.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

void answer_read_text_file(ServerContext& ctx, const Json& daemon_id, const Json& params) {
  if (!params.is_object() || !params.contains("path") || !params["path"].is_string()) {
    ctx.daemon.respond_error(daemon_id, rpc::kInvalidParams, "path: a string is required");
    return;
  }
  const std::string path = std::filesystem::path(params["path"].get<std::string>()).lexically_normal().string();
  if (path.empty() || path[0] != '/') {
    ctx.daemon.respond_error(daemon_id, rpc::kInvalidParams, "path: an absolute path is required");
    return;
  }
  std::string text;
  if (auto buffer = ctx.documents.text_for_agent(path)) {
    text = std::move(*buffer);
  } else {
    auto disk = read_text_file(path, kMaxFileBytes);
    if (!disk) {
      ctx.daemon.respond_error(daemon_id, rpc::kResourceNotFound, disk.message());
      return;
    }
    text = std::move(*disk);
  }
  const int64_t line = params.contains("line") && params["line"].is_number_integer() ? params["line"].get<int64_t>() : 1;
  const int64_t limit =
      params.contains("limit") && params["limit"].is_number_integer() ? params["limit"].get<int64_t>() : -1;
  ctx.daemon.respond(daemon_id, {{"content", select_lines(text, line, limit)}});
}

void sync_buffer_to(ServerContext& ctx, const std::string& path, const std::string& text,
                    std::function<void(bool, const std::string&)> done) {
  auto document = ctx.documents.by_path(path);
  if (!document || document->text == text) {
    if (done) done(true, "");
    return;
  }
  if (!ctx.settings.apply_edit) {
    if (done) done(false, "the editor does not support workspace/applyEdit");
    return;
  }
  const ByteEdit edit = minimal_edit(document->text, text);
  const Range range{position_of(document->text, edit.start, ctx.settings.encoding),
                    position_of(document->text, edit.end, ctx.settings.encoding)};
  const Json text_edit = {{"range", to_json(range)}, {"newText", edit.text}};
  Json workspace_edit;
  if (ctx.settings.document_changes) {
    workspace_edit = {{"documentChanges",
                       Json::array({{{"textDocument", {{"uri", document->uri}, {"version", document->version}}},
                                     {"edits", Json::array({text_edit})}}})}};
  } else {
    workspace_edit = {{"changes", {{document->uri, Json::array({text_edit})}}}};
  }
  ctx.editor.request("workspace/applyEdit", {{"label", "beluga"}, {"edit", workspace_edit}},
                     [&ctx, path, text, done](bool ok, const Json& result) {
                       if (ok && result.is_object() && result.value("applied", false)) {
                         ctx.documents.expect(path, text);
                         if (done) done(true, "");
                         return;
                       }
                       std::string why = ok ? "the editor did not apply the edit" : "workspace/applyEdit failed";
                       if (ok && result.is_object() && result.contains("failureReason") && result["failureReason"].is_string())
                         why += ": " + result["failureReason"].get<std::string>();
                       if (!ok && result.is_object()) why += ": " + result.value("message", std::string());
                       if (done) done(false, why);
                     });
}

void answer_write_text_file(ServerContext& ctx, const Json& daemon_id, const Json& params,
                            const std::string& session_workspace, std::function<void(const std::string&)> on_written) {
  if (!params.is_object() || !params.contains("path") || !params["path"].is_string() || !params.contains("content") ||
      !params["content"].is_string()) {
    ctx.daemon.respond_error(daemon_id, rpc::kInvalidParams, "path and content: strings are required");
    return;
  }
  const std::string path = std::filesystem::path(params["path"].get<std::string>()).lexically_normal().string();
  const std::string content = params["content"].get<std::string>();
  if (path.empty() || path[0] != '/') {
    ctx.daemon.respond_error(daemon_id, rpc::kInvalidParams, "path: an absolute path is required");
    return;
  }
  if (!ctx.inside_workspace(path) && !inside(session_workspace, path)) {
    ctx.daemon.respond_error(daemon_id, rpc::kInvalidParams, path + " is outside the editor's workspace folders");
    return;
  }
  if (ctx.documents.by_path(path)) {
    sync_buffer_to(ctx, path, content, [&ctx, daemon_id, path, on_written](bool ok, const std::string& why) {
      if (!ok) {
        ctx.daemon.respond_error(daemon_id, rpc::kInternalError, "cannot change the open editor buffer of " + path + ": " + why);
        return;
      }
      if (on_written) on_written(path);
      ctx.daemon.respond(daemon_id, Json::object());
    });
    return;
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (Status s = write_text_file_atomically(path, content); !s) {
    ctx.daemon.respond_error(daemon_id, rpc::kInternalError, s.message());
    return;
  }
  if (on_written) on_written(path);
  ctx.editor.log_message(3, "beluga wrote " + path);
  ctx.daemon.respond(daemon_id, Json::object());
}

}  // namespace beluga::lsp
