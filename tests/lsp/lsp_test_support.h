// The scene of the LSP bridge tests: a scratch home (private
// XDG_RUNTIME_DIR, XDG_STATE_HOME, XDG_DATA_HOME, XDG_CONFIG_HOME,
// XDG_CACHE_HOME, HOME and git configuration), a git workspace, a replay
// file, and an editor-side document that applies the server's edits the
// way an editor does (and reports them back with didChange).
#pragma once

#include <sys/stat.h>

#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lsp/documents.h"
#include "lsp/positions.h"
#include "tests/agent/agent_test_support.h"
#include "tests/lsp/lsp_client.h"

namespace beluga::testing {

class LspHome {
 public:
  LspHome()
      : runtime_("XDG_RUNTIME_DIR", home_.file("run")), state_("XDG_STATE_HOME", home_.file("state")),
        data_("XDG_DATA_HOME", home_.file("data")), config_("XDG_CONFIG_HOME", home_.file("config")),
        cache_("XDG_CACHE_HOME", home_.file("cache")) {
    ::mkdir(home_.file("run").c_str(), 0700);
  }
  ~LspHome() { stop_daemon(); }
  LspHome(const LspHome&) = delete;
  LspHome& operator=(const LspHome&) = delete;

  std::string file(const std::string& name) const { return home_.file(name); }
  void stop_daemon() { std::system((quote_arg(BELUGA_BINARY) + " daemon stop >/dev/null 2>&1").c_str()); }
  int beluga(const std::string& args) {
    return std::system((quote_arg(BELUGA_BINARY) + " " + args + " >>" + quote_arg(file("cli.log")) + " 2>&1").c_str());
  }
  static std::string quote_arg(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  }

 private:
  ScratchDir home_;
  IsolatedGitConfig git_;  // first: it sets XDG_CONFIG_HOME, which config_ replaces
  EnvOverride runtime_, state_, data_, config_, cache_;
};

// The editor's copy of one open document.
class EditorBuffer {
 public:
  EditorBuffer(LspClient& client, std::string uri, std::string text)
      : client_(client), uri_(std::move(uri)), text_(std::move(text)) {}
  void open(const std::string& language = "c") {
    client_.notify("textDocument/didOpen",
                   {{"textDocument", {{"uri", uri_}, {"languageId", language}, {"version", version_}, {"text", text_}}}});
  }
  // An incremental change, as an editor sends it (UTF-16 positions).
  void replace(lsp::Range range, const std::string& text) {
    std::lock_guard lock(mutex_);
    const size_t start = lsp::offset_of(text_, range.start, lsp::PositionEncoding::kUtf16);
    const size_t end = lsp::offset_of(text_, range.end, lsp::PositionEncoding::kUtf16);
    text_.replace(start, end - start, text);
    ++version_;
    client_.notify("textDocument/didChange",
                   {{"textDocument", {{"uri", uri_}, {"version", version_}}},
                    {"contentChanges", Json::array({{{"range", lsp::to_json(range)}, {"text", text}}})}});
  }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }
  int64_t version() {
    std::lock_guard lock(mutex_);
    return version_;
  }
  const std::string& uri() const { return uri_; }

 private:
  LspClient& client_;
  std::string uri_;
  std::mutex mutex_;
  std::string text_;
  int64_t version_ = 1;
};

inline Json client_capabilities(bool utf8 = false) {
  Json encodings = utf8 ? Json::array({"utf-8", "utf-16"}) : Json::array({"utf-16"});
  return {{"general", {{"positionEncodings", encodings}}},
          {"window", {{"workDoneProgress", true}, {"showMessage", Json::object()}}},
          {"workspace", {{"applyEdit", true}, {"workspaceEdit", {{"documentChanges", true}}}}}};
}

inline Json initialize_params(const std::string& root, bool utf8 = false, Json options = Json::object()) {
  return {{"processId", nullptr},
          {"rootUri", lsp::uri_from_path(root)},
          {"workspaceFolders", Json::array({{{"uri", lsp::uri_from_path(root)}, {"name", "ws"}}})},
          {"capabilities", client_capabilities(utf8)},
          {"initializationOptions", options}};
}

}  // namespace beluga::testing
