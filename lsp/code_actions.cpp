#include "lsp/code_actions.h"

namespace beluga::lsp {
namespace {

struct ActionSpec {
  const char* command;
  const char* title;
  const char* kind;
};

constexpr ActionSpec kRangeActions[] = {
    {"beluga.explain", "Explain (beluga)", "refactor"},
    {"beluga.implement", "Implement / complete this (beluga)", "refactor.rewrite"},
    {"beluga.writeTests", "Write tests for this (beluga)", "source"},
    {"beluga.ask", "Ask beluga\xE2\x80\xA6", "refactor"},
};

// context.only: kinds the client wants; an action's kind matches a wanted
// kind equal to it or a prefix of it at a '.' ("refactor" admits "refactor.rewrite").
bool wanted(const nlohmann::json& only, const std::string& kind) {
  if (!only.is_array() || only.empty()) return true;
  for (const auto& want : only) {
    if (!want.is_string()) continue;
    const std::string w = want.get<std::string>();
    if (kind == w || (kind.size() > w.size() && kind.compare(0, w.size(), w) == 0 && kind[w.size()] == '.'))
      return true;
  }
  return false;
}

nlohmann::json action(const std::string& title, const std::string& kind, const std::string& command,
                      nlohmann::json argument) {
  return {{"title", title},
          {"kind", kind},
          {"command", {{"title", title}, {"command", command}, {"arguments", nlohmann::json::array({std::move(argument)})}}}};
}

std::string fence(const std::string& language, const std::string& text) {
  // A fence longer than any run of backticks in the text.
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string ticks(std::max<size_t>(3, longest + 1), '`');
  std::string out = ticks + language + "\n" + text;
  if (!text.empty() && text.back() != '\n') out += '\n';
  return out + ticks + "\n";
}

std::string where(const PromptInput& in) {
  std::string s = in.relative_path;
  if (in.has_range) {
    const int64_t first = in.range.start.line + 1;
    const int64_t last = in.range.end.line + 1;
    s += first == last ? " (line " + std::to_string(first) + ")" : " (lines " + std::to_string(first) + "-" + std::to_string(last) + ")";
  }
  return s;
}

std::string code_block(const PromptInput& in) {
  if (in.selected_text.empty()) return "";
  return "\nThe code, as the editor holds it (it may have unsaved changes):\n" + fence(in.language_id, in.selected_text);
}

std::string severity_name(const nlohmann::json& d) {
  switch (d.value("severity", 0)) {
    case 1: return "error";
    case 2: return "warning";
    case 3: return "information";
    case 4: return "hint";
    default: return "diagnostic";
  }
}

constexpr const char* kEditNote =
    "\nMake the change with your file tools (the editor shows your edits and can undo them); keep it to "
    "what is asked.";

}  // namespace

std::string command_title(const std::string& command) {
  if (command == "beluga.fix") return "Fix this diagnostic";
  for (const auto& spec : kRangeActions)
    if (command == spec.command) {
      std::string title = spec.title;
      if (auto cut = title.find(" (beluga)"); cut != std::string::npos) title.erase(cut);
      return title;
    }
  return command;
}

nlohmann::json code_actions(const std::string& uri, const Range& range, const nlohmann::json& context) {
  nlohmann::json actions = nlohmann::json::array();
  const nlohmann::json only = context.is_object() ? context.value("only", nlohmann::json()) : nlohmann::json();
  if (context.is_object() && context.contains("diagnostics") && context["diagnostics"].is_array() &&
      wanted(only, "quickfix")) {
    for (const auto& diagnostic : context["diagnostics"]) {
      if (!diagnostic.is_object() || !diagnostic.contains("range")) continue;
      nlohmann::json a = action("Fix this diagnostic (beluga)", "quickfix", "beluga.fix",
                                {{"uri", uri}, {"range", diagnostic["range"]}, {"diagnostic", diagnostic}});
      a["diagnostics"] = nlohmann::json::array({diagnostic});
      actions.push_back(std::move(a));
    }
  }
  for (const auto& spec : kRangeActions) {
    if (!wanted(only, spec.kind)) continue;
    nlohmann::json argument = {{"uri", uri}, {"range", to_json(range)}};
    // Ask needs the user's words: the editor (plugin) asks for them and adds "prompt".
    actions.push_back(action(spec.title, spec.kind, spec.command, std::move(argument)));
  }
  return actions;
}

Result<std::string> build_prompt(const PromptInput& in) {
  const std::string& c = in.command;
  const bool has_file = !in.relative_path.empty();
  if (c != "beluga.ask" && !has_file) return make_error("uri: a file URI is required");
  if (c == "beluga.explain") {
    return "Explain the code in " + where(in) + ": what it does, how, and anything surprising or wrong in it." +
           code_block(in) + "\nAnswer in prose; do not change any file.";
  }
  if (c == "beluga.fix") {
    if (!in.diagnostic.is_object() || !in.diagnostic.contains("message") || !in.diagnostic["message"].is_string())
      return make_error("diagnostic: an LSP Diagnostic with a message is required");
    const auto& d = in.diagnostic;
    std::string what = severity_name(d);
    if (d.contains("source") && d["source"].is_string()) what += " from " + d["source"].get<std::string>();
    if (d.contains("code") && (d["code"].is_string() || d["code"].is_number()))
      what += " [" + (d["code"].is_string() ? d["code"].get<std::string>() : d["code"].dump()) + "]";
    return "Fix this " + what + " in " + where(in) + ":\n" + d["message"].get<std::string>() + "\n" + code_block(in) +
           kEditNote;
  }
  if (c == "beluga.implement") {
    return "Implement or complete the code in " + where(in) +
           ": finish what is started or stubbed there, following the surrounding code's conventions." + code_block(in) +
           kEditNote;
  }
  if (c == "beluga.writeTests") {
    return "Write tests for the code in " + where(in) +
           ", in the project's existing test framework and layout (look at how its tests are written first)." +
           code_block(in) + kEditNote;
  }
  if (c == "beluga.ask") {
    if (in.user_prompt.empty()) return make_error("prompt: a non-empty string is required");
    if (!has_file) return in.user_prompt;
    return in.user_prompt + "\n\n(Asked about " + where(in) + ".)" + code_block(in);
  }
  return make_error("unknown command " + c);
}

}  // namespace beluga::lsp
