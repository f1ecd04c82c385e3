// The tool interface: a named operation the agent can call, with a JSON
// schema for its arguments, validation, and a result written for the model.
//
// A tool returns a ToolResult, never throws across this boundary: a refusal
// (path outside the workspace, stale file, bad arguments) is an error
// result whose text tells the model what went wrong and what to do instead.
// `data` carries the same result in structured form for clients (ACP
// tool-call updates, `beluga tool --json`).
//
// Thread contract: a ToolRegistry is const after construction; a
// ToolContext belongs to one session and is used by one call at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace beluga::tools {

// Size, count and time limits every tool honours.
struct ToolLimits {
  uint64_t max_read_bytes = 256 * 1024;        // read: bytes of text returned
  int64_t max_read_lines = 2000;               // read: lines returned
  uint64_t max_file_bytes = 64 * 1024 * 1024;  // any file a tool loads whole
  uint64_t max_output_bytes = 64 * 1024;       // shell/grep output kept (head + tail)
  int64_t max_matches = 500;                   // grep/glob results
  std::chrono::seconds shell_timeout{120};     // default shell timeout
  std::chrono::seconds shell_timeout_max{600};
};

// What a session's tools share: where they may act, and what they have seen.
struct ToolContext {
  std::vector<std::filesystem::path> roots;  // workspace roots (canonical); the first is the default cwd
  std::string session_id = "cli";
  ToolLimits limits;
  // Content hash of each file as last returned by read (or written by a
  // tool), keyed by canonical path: write/edit refuse a file that changed
  // since (the stale-file check).
  std::map<std::filesystem::path, std::string> seen_hashes;
  // Environment variables never passed to shell commands.
  std::vector<std::string> secret_env_vars = {"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN",
                                              "AWS_SECRET_ACCESS_KEY", "DEEPSEEK_API_KEY"};
  // Polled by long-running tools; returns false to stop.
  std::function<bool()> keep_going;
};

struct ToolResult {
  bool ok = true;
  std::string text;                     // for the model
  std::shared_ptr<nlohmann::json> data; // structured form (may be null)

  static ToolResult error(std::string message);
  static ToolResult success(std::string text);
};

struct ToolSpec {
  std::string name;
  std::string description;           // for the model's tool declaration
  std::string parameters_schema;     // JSON schema of the arguments, as JSON text
  std::function<ToolResult(const nlohmann::json& args, ToolContext& context)> run;
};

// All tools by name. Arguments are validated against the tool's schema
// (required keys, types, no unknown keys) before `run` is called.
class ToolRegistry {
 public:
  void add(ToolSpec spec);
  const ToolSpec* find(const std::string& name) const;
  std::vector<const ToolSpec*> all() const;
  // Validates `args` (JSON text) and runs the tool; bad JSON, unknown tools
  // and schema violations are error results naming the problem.
  ToolResult call(const std::string& name, const std::string& args_json, ToolContext& context) const;

 private:
  std::map<std::string, ToolSpec> tools_;
};

}  // namespace beluga::tools
