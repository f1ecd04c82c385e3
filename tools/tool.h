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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/base/result.h"

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
  // Added with the file and search tools (part A):
  uint64_t max_line_bytes = 2000;              // read: longer lines are cut, with a marker
  uint64_t max_ignore_file_bytes = 1024 * 1024;  // a .gitignore larger than this is skipped
  int64_t max_walk_entries = 200000;           // glob/list/grep: folder entries visited
  int max_walk_depth = 64;                     // glob/grep: folder nesting followed
  uint64_t max_grep_line_bytes = 4096;         // grep: only this prefix of a line is searched
  std::chrono::milliseconds search_timeout{10000};  // glob/grep: wall time before stopping
  unsigned search_threads = 0;                 // grep workers; 0 = hardware concurrency (max 8)
};

// Where the text tools (write, edit, apply_patch) read a file's current
// text and write the new one, when a front end keeps files of its own (an
// editor's unsaved buffers: the daemon routes them through ACP's
// fs/read_text_file and fs/write_text_file). Paths are absolute and
// already confined to the workspace. Either function may decline (nullopt,
// false): the tool then uses the disk. An error is the tool's error.
// Removing a file (apply_patch) always happens on the disk.
struct FileAccess {
  // An existing file's text as the front end has it.
  std::function<Result<std::optional<std::string>>(const std::filesystem::path& absolute)> read;
  // true: written by the front end; false: write the disk.
  std::function<Result<bool>(const std::filesystem::path& absolute, std::string_view text)> write;
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
  // Run shell commands under bubblewrap (read-only root, workspace roots
  // writable, private /tmp, no network). Off by default; set by the agent or
  // user per session/call, never by the model. When set and `bwrap` is not
  // installed, the shell tool returns an error instead of running unsandboxed.
  bool sandbox_shell = false;
  // Null: the disk. Set by a front end (see FileAccess); the stale-file rule
  // then compares hashes of the front end's text.
  std::shared_ptr<FileAccess> files;
};

struct ToolResult {
  bool ok = true;
  std::string text;                     // for the model
  std::shared_ptr<nlohmann::json> data; // structured form (may be null)

  static ToolResult error(std::string message);
  static ToolResult success(std::string text);
  // Same, with structured data attached.
  static ToolResult error(std::string message, nlohmann::json data);
  static ToolResult success(std::string text, nlohmann::json data);
  // {"ok": bool, "text": "...", "data": ... or null}; invalid UTF-8 replaced.
  std::string to_json_text() const;
};

struct ToolSpec {
  std::string name;
  std::string description;           // for the model's tool declaration
  std::string parameters_schema;     // JSON schema of the arguments, as JSON text
  std::function<ToolResult(const nlohmann::json& args, ToolContext& context)> run;
};

// All tools by name. Arguments are validated against the tool's schema
// (required keys, types, no unknown keys) before `run` is called.
// Checks `value` against a JSON schema (the subset tool schemas use: type
// string/integer/number/boolean/object/array/null, properties, required,
// additionalProperties false, enum, minimum/maximum, minLength/maxLength,
// items). Returns an empty string when valid, else a message naming the
// offending field ("argument 'offset' must be an integer, got a string").
std::string validate_against_schema(const nlohmann::json& schema, const nlohmann::json& value);

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
