#include "agent/permissions.h"

#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

namespace beluga::agent {

std::string_view permission_mode_name(PermissionMode mode) {
  switch (mode) {
    case PermissionMode::kDefault: return "default";
    case PermissionMode::kAutoEdit: return "auto-edit";
    case PermissionMode::kPlan: return "plan";
    case PermissionMode::kYolo: return "yolo";
  }
  return "?";
}

Result<PermissionMode> parse_permission_mode(std::string_view text) {
  for (PermissionMode m : {PermissionMode::kDefault, PermissionMode::kAutoEdit, PermissionMode::kPlan, PermissionMode::kYolo})
    if (permission_mode_name(m) == text) return m;
  return make_error("unknown permission mode '" + std::string(text) + "' (expected default, auto-edit, plan or yolo)");
}

std::string_view decision_name(Decision decision) {
  switch (decision) {
    case Decision::kAllow: return "allow";
    case Decision::kAsk: return "ask";
    case Decision::kDeny: return "deny";
  }
  return "?";
}

Result<PermissionRule> parse_rule(std::string_view text, Decision action, std::string source) {
  PermissionRule rule;
  rule.action = action;
  rule.source = std::move(source);
  const size_t open = text.find('(');
  if (open == std::string_view::npos) {
    rule.tool = std::string(text);
  } else {
    if (text.back() != ')')
      return make_error("permission rule '" + std::string(text) + "': expected TOOL or TOOL(PATTERN)");
    rule.tool = std::string(text.substr(0, open));
    rule.pattern = std::string(text.substr(open + 1, text.size() - open - 2));
    if (rule.pattern.empty()) return make_error("permission rule '" + std::string(text) + "': empty pattern");
  }
  if (rule.tool.empty()) return make_error("permission rule '" + std::string(text) + "': no tool name");
  for (char c : rule.tool)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '*'))
      return make_error("permission rule '" + std::string(text) + "': '" + rule.tool + "' is not a tool name");
  return rule;
}

std::string rule_text(const PermissionRule& rule) {
  return rule.pattern.empty() ? rule.tool : rule.tool + "(" + rule.pattern + ")";
}

namespace {

constexpr std::array kReadOnlyTools = {"read", "glob", "list", "grep", "git_status", "git_diff", "git_log", "git_show",
                                       "git_blame", "checkpoint_list", "checkpoint_diff", "update_plan"};
constexpr std::array kEditTools = {"write", "edit", "apply_patch"};

bool rule_matches(const PermissionRule& rule, std::string_view tool, const std::string& subject) {
  if (rule.tool != "*" && rule.tool != tool) return false;
  return rule.pattern.empty() || glob_match(rule.pattern, subject);
}

std::string describe(const PermissionRule& rule) {
  return std::string(decision_name(rule.action)) + " rule " + rule_text(rule) +
         (rule.source.empty() ? "" : " (" + rule.source + ")");
}

}  // namespace

bool is_read_only_tool(std::string_view tool) {
  for (const char* t : kReadOnlyTools)
    if (tool == t) return true;
  return false;
}

bool is_edit_tool(std::string_view tool) {
  for (const char* t : kEditTools)
    if (tool == t) return true;
  return false;
}

std::string permission_subject(std::string_view tool, const std::string& args_json) {
  auto args = nlohmann::json::parse(args_json, nullptr, false);
  auto field = [&](const char* key) -> std::string {
    if (!args.is_object()) return args_json;
    auto it = args.find(key);
    return it != args.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (tool == "shell") return field("command");
  if (tool == "read" || tool == "write" || tool == "edit" || tool == "git_blame") return field("path");
  if (tool == "glob" || tool == "grep") return field("pattern");
  if (tool == "git_commit") return field("message");
  return args_json;
}

// Iterative glob with single backtracking point for '*' (linear in practice,
// never exponential).
bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p, ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

PermissionVerdict decide(const PermissionPolicy& policy, std::string_view tool, const std::string& args_json) {
  const std::string subject = permission_subject(tool, args_json);
  const PermissionRule* ask = nullptr;
  const PermissionRule* allow = nullptr;
  for (const PermissionRule& rule : policy.rules) {
    if (!rule_matches(rule, tool, subject)) continue;
    if (rule.action == Decision::kDeny) return {Decision::kDeny, describe(rule)};
    if (rule.action == Decision::kAsk && !ask) ask = &rule;
    if (rule.action == Decision::kAllow && !allow) allow = &rule;
  }
  const bool read_only = is_read_only_tool(tool);
  if (policy.mode == PermissionMode::kPlan && !read_only)
    return {Decision::kDeny, "plan mode is read-only: " + std::string(tool) + " is not allowed"};
  if (policy.mode == PermissionMode::kYolo) return {Decision::kAllow, "yolo mode"};
  if (ask) return {Decision::kAsk, describe(*ask)};
  if (allow) return {Decision::kAllow, describe(*allow)};
  if (read_only) return {Decision::kAllow, "read-only tool"};
  if (is_edit_tool(tool) && policy.mode == PermissionMode::kAutoEdit) return {Decision::kAllow, "auto-edit mode"};
  return {Decision::kAsk, std::string(permission_mode_name(policy.mode)) + " mode asks before " + std::string(tool)};
}

}  // namespace beluga::agent
