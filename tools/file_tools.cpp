// read, write and edit: the file tools.
//
// The stale-file rule ties them together. read records the hash of the
// whole file it showed (ToolContext::seen_hashes, keyed by canonical path);
// write and edit record the hash of what they wrote. Then:
//   - write over an existing file needs a recorded hash equal to the file's
//     current one (the model has seen the exact content it replaces);
//   - write of a file that does not exist is allowed, unless the model read
//     it before and it has since been deleted (refused once, then allowed);
//   - edit needs no prior read (its exact-match rule already proves the model
//     knows the text it replaces) but refuses a file whose content changed
//     since it was last read or written by a tool.
//
// Files larger than ToolLimits::max_file_bytes are never loaded whole: read
// streams the requested window of lines (and records no hash, so write and
// edit refuse them).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tools/file_io.h"
#include "tools/paths.h"
#include "tools/registry.h"
#include "tools/text_edit.h"
#include "tools/tool_support.h"

namespace beluga::tools {
namespace {

using nlohmann::json;

constexpr const char* kReadSchema = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "description": "File to read, relative to the workspace root (or absolute inside it)."},
    "offset": {"type": "integer", "minimum": 1, "description": "1-based line to start at (default 1)."},
    "limit": {"type": "integer", "minimum": 1, "description": "Maximum number of lines to return (default and cap: 2000)."}
  },
  "required": ["path"],
  "additionalProperties": false
})";

constexpr const char* kWriteSchema = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "description": "File to create or overwrite, relative to the workspace root. Missing folders are created."},
    "content": {"type": "string", "description": "The complete new content of the file."}
  },
  "required": ["path", "content"],
  "additionalProperties": false
})";

constexpr const char* kEditSchema = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "description": "File to edit, relative to the workspace root."},
    "old": {"type": "string", "minLength": 1, "description": "Exact text to replace, including indentation; it must occur exactly once unless replace_all is true."},
    "new": {"type": "string", "description": "Replacement text."},
    "replace_all": {"type": "boolean", "description": "Replace every occurrence of old (default false)."}
  },
  "required": ["path", "old", "new"],
  "additionalProperties": false
})";

// The window of lines read returns, and what it left out.
struct LineWindow {
  std::string text;
  int64_t first = 0, last = 0;  // 1-based line numbers shown (last < first: none)
  bool more = false;            // lines after `last` exist
  bool cut_by_bytes = false;    // stopped by max_read_bytes rather than the line limit
  bool invalid_utf8 = false;
};

// Feeds lines one at a time into a window [offset, offset + limit) capped at
// max_read_bytes of output. Returns false when the window is full.
class WindowBuilder {
 public:
  WindowBuilder(int64_t offset, int64_t limit, const ToolLimits& limits)
      : offset_(offset), limit_(limit), limits_(limits) {
    window_.first = offset;
    window_.last = offset - 1;
  }
  bool add(int64_t number, std::string_view line) {
    if (number < offset_) return true;
    if (window_.last - window_.first + 1 >= limit_) {
      window_.more = true;
      return false;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string shown = numbered_line(number, line, limits_.max_line_bytes);
    if (window_.text.size() + shown.size() + 1 > limits_.max_read_bytes && window_.last >= window_.first) {
      window_.more = true;
      window_.cut_by_bytes = true;
      return false;
    }
    if (!window_.invalid_utf8 && !is_valid_utf8(line.substr(0, limits_.max_line_bytes))) window_.invalid_utf8 = true;
    window_.text += shown;
    window_.text += '\n';
    window_.last = number;
    return true;
  }
  LineWindow& window() { return window_; }

 private:
  int64_t offset_, limit_;
  const ToolLimits& limits_;
  LineWindow window_;
};

int64_t count_lines(std::string_view text) {
  if (text.empty()) return 0;
  return static_cast<int64_t>(std::count(text.begin(), text.end(), '\n')) + (text.back() == '\n' ? 0 : 1);
}

std::string window_footer(const LineWindow& w, int64_t total_lines, bool total_known) {
  std::string out;
  if (w.more) {
    out += "[truncated: showing lines " + std::to_string(w.first) + "-" + std::to_string(w.last) +
           (total_known ? " of " + std::to_string(total_lines) : std::string()) +
           (w.cut_by_bytes ? " (output size cap)" : "") + "; call read with offset=" + std::to_string(w.last + 1) +
           " to see more]\n";
  }
  if (w.invalid_utf8)
    out += "[note: the file is not valid UTF-8; invalid bytes are shown as U+FFFD, and edit leaves them as they are]\n";
  return out;
}

// Streams a file too large to load whole: only the window is kept.
ToolResult read_streamed(int fd, const ConfinedPath& where, int64_t offset, int64_t limit, uint64_t size,
                         ToolContext& context) {
  const ToolLimits& limits = context.limits;
  WindowBuilder builder(offset, limit, limits);
  Deadline deadline(limits.search_timeout);
  std::string pending, buffer(64 * 1024, '\0');
  int64_t number = 1;
  bool full = false, first_chunk = true, stopped = false;
  while (!full) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ToolResult::error("read: cannot read " + display_path(where) + ": " + std::strerror(errno));
    if (n == 0) break;
    std::string_view chunk(buffer.data(), static_cast<size_t>(n));
    if (first_chunk && looks_binary(chunk))
      return ToolResult::error("read: " + display_path(where) + " is a binary file (" + std::to_string(size) +
                               " bytes); it cannot be shown as text");
    first_chunk = false;
    for (size_t start = 0; start < chunk.size() && !full;) {
      size_t end = chunk.find('\n', start);
      if (end == std::string_view::npos) {
        // Keep at most one line's visible prefix of a partial line.
        if (pending.size() < limits.max_line_bytes + 1)
          pending.append(chunk.substr(start, std::min<size_t>(chunk.size() - start, limits.max_line_bytes + 1)));
        break;
      }
      if (pending.size() < limits.max_line_bytes + 1)
        pending.append(chunk.substr(start, std::min<size_t>(end - start, limits.max_line_bytes + 1)));
      full = !builder.add(number++, pending);
      pending.clear();
      start = end + 1;
    }
    if (deadline.passed() || !keep_going(context)) {
      stopped = true;
      break;
    }
  }
  if (!full && !stopped && !pending.empty()) full = !builder.add(number, pending);
  LineWindow& w = builder.window();
  if (stopped) w.more = true;
  if (w.last < w.first && !w.more)
    return ToolResult::error("read: " + display_path(where) + " has fewer than " + std::to_string(offset) +
                             " lines; offset is past the end");
  std::string text = w.text + window_footer(w, 0, false) + "[note: " + display_path(where) + " is " +
                     std::to_string(size) + " bytes, too large for write and edit (limit " +
                     std::to_string(limits.max_file_bytes) + ")]\n";
  return ToolResult::success(text, json{{"path", display_path(where)}, {"start_line", w.first}, {"end_line", w.last},
                                        {"truncated", w.more}, {"bytes", size}});
}

ToolResult run_read(const json& args, ToolContext& context) {
  const ToolLimits& limits = context.limits;
  std::string path_text = args.at("path").get<std::string>();
  int64_t offset = args.value("offset", int64_t{1});
  int64_t limit = std::min<int64_t>(args.value("limit", limits.max_read_lines), limits.max_read_lines);
  Result<ConfinedPath> where = resolve_in_workspace(context, path_text, PathUse::kRead);
  if (!where) return ToolResult::error(tool_error_text("read", where.message()));
  Result<int> opened = open_confined(*where, O_RDONLY | O_NONBLOCK);
  if (!opened) return ToolResult::error(tool_error_text("read", opened.message()));
  int fd = *opened;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    bool folder = S_ISDIR(st.st_mode);
    ::close(fd);
    return ToolResult::error("read: " + display_path(*where) +
                             (folder ? " is a folder; use list to see its entries, or glob to find files"
                                     : " is not a regular file"));
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > limits.max_file_bytes) {
    ToolResult result = read_streamed(fd, *where, offset, limit, size, context);
    ::close(fd);
    return result;
  }
  ::close(fd);
  Result<FileContent> file = read_confined(*where, limits.max_file_bytes);
  if (!file) return ToolResult::error(tool_error_text("read", file.message()));
  if (!file->exists) return ToolResult::error("read: " + display_path(*where) + " does not exist");
  const std::string& bytes = file->bytes;
  if (looks_binary(bytes))
    return ToolResult::error("read: " + display_path(*where) + " is a binary file (" + std::to_string(bytes.size()) +
                             " bytes); it cannot be shown as text");
  std::string hash = content_hash(bytes);
  context.seen_hashes[where->absolute] = hash;
  int64_t total = count_lines(bytes);
  json data = {{"path", display_path(*where)}, {"total_lines", total}, {"bytes", bytes.size()}, {"hash", hash}};
  if (total == 0) {
    data["truncated"] = false;
    return ToolResult::success("[" + display_path(*where) + " is empty]\n", data);
  }
  if (offset > total)
    return ToolResult::error("read: " + display_path(*where) + " has " + std::to_string(total) + " lines; offset " +
                             std::to_string(offset) + " is past the end");
  WindowBuilder builder(offset, limit, limits);
  int64_t number = 1;
  for (size_t start = 0; start < bytes.size();) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    if (!builder.add(number++, std::string_view(bytes).substr(start, end - start))) break;
    start = end + 1;
  }
  const LineWindow& w = builder.window();
  data["start_line"] = w.first;
  data["end_line"] = w.last;
  data["truncated"] = w.more;
  return ToolResult::success(w.text + window_footer(w, total, true), data);
}

// The stale-file rule for a file about to be replaced; empty when allowed.
std::string stale_problem(const char* tool, const ConfinedPath& where, const FileContent& current,
                          ToolContext& context, bool require_read) {
  auto seen = context.seen_hashes.find(where.absolute);
  std::string shown = display_path(where);
  if (!current.exists) {
    if (seen == context.seen_hashes.end()) return "";
    context.seen_hashes.erase(seen);  // refused once; a second call may create it
    return std::string(tool) + ": " + shown +
           " was deleted since you last read it; check whether that was intended, then call " + tool +
           " again to create it";
  }
  if (seen == context.seen_hashes.end()) {
    if (!require_read) return "";
    return std::string(tool) + ": " + shown +
           " already exists and has not been read in this session; read it first (or use edit for a partial "
           "change), then write";
  }
  if (seen->second != content_hash(current.bytes))
    return std::string(tool) + ": " + shown +
           " changed since you last read it (another program or the user modified it); read it again and redo "
           "the change against its current content";
  return "";
}

ToolResult run_write(const json& args, ToolContext& context) {
  const std::string& path_text = args.at("path").get_ref<const std::string&>();
  const std::string& content = args.at("content").get_ref<const std::string&>();
  Result<ConfinedPath> where = resolve_in_workspace(context, path_text, PathUse::kWrite);
  if (!where) return ToolResult::error(tool_error_text("write", where.message()));
  if (content.size() > context.limits.max_file_bytes)
    return ToolResult::error("write: the content is " + std::to_string(content.size()) + " bytes, more than the " +
                             std::to_string(context.limits.max_file_bytes) + "-byte limit");
  Result<FileContent> current = read_current(context, *where, context.limits.max_file_bytes);
  if (!current)
    return ToolResult::error(tool_error_text("write", current.message() + "; it cannot be checked, so it is not overwritten"));
  if (std::string problem = stale_problem("write", *where, *current, context, /*require_read=*/true); !problem.empty())
    return ToolResult::error(problem);
  if (Status s = write_current(context, *where, content, current->exists ? std::optional<mode_t>(current->mode)
                                                                        : std::nullopt);
      !s)
    return ToolResult::error(tool_error_text("write", s.message()));
  context.seen_hashes[where->absolute] = content_hash(content);
  std::string shown = display_path(*where);
  std::string verb = current->exists ? "Wrote " : "Created ";
  return ToolResult::success(verb + shown + " (" + std::to_string(count_lines(content)) + " lines, " +
                                 std::to_string(content.size()) + " bytes)",
                             json{{"path", shown}, {"bytes", content.size()}, {"created", !current->exists}});
}

// A few numbered lines of `content` around [first_line, first_line + lines).
std::string snippet(std::string_view content, int64_t first_line, int64_t lines, uint64_t max_line_bytes) {
  int64_t from = std::max<int64_t>(1, first_line - 2), to = first_line + std::max<int64_t>(lines, 1) + 1;
  to = std::min(to, from + 15);
  std::string out;
  int64_t number = 1;
  for (size_t start = 0; start < content.size() && number <= to; ++number) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (number >= from) out += numbered_line(number, line, std::min<uint64_t>(max_line_bytes, 200)) + "\n";
    start = end + 1;
  }
  return out;
}

ToolResult run_edit(const json& args, ToolContext& context) {
  const std::string& path_text = args.at("path").get_ref<const std::string&>();
  const std::string& old_text = args.at("old").get_ref<const std::string&>();
  const std::string& new_text = args.at("new").get_ref<const std::string&>();
  bool replace_all = args.value("replace_all", false);
  Result<ConfinedPath> where = resolve_in_workspace(context, path_text, PathUse::kWrite);
  if (!where) return ToolResult::error(tool_error_text("edit", where.message()));
  std::string shown = display_path(*where);
  Result<FileContent> current = read_current(context, *where, context.limits.max_file_bytes);
  if (!current) return ToolResult::error(tool_error_text("edit", current.message()));
  if (!current->exists) return ToolResult::error("edit: " + shown + " does not exist; to create a file, use write");
  if (looks_binary(current->bytes)) return ToolResult::error("edit: " + shown + " is a binary file; edit works on text files");
  if (std::string problem = stale_problem("edit", *where, *current, context, /*require_read=*/false); !problem.empty())
    return ToolResult::error(problem);
  Result<TextEdit> edit = edit_text(current->bytes, old_text, new_text, replace_all, shown);
  if (!edit) return ToolResult::error(edit.message());
  if (edit->content.size() > context.limits.max_file_bytes)
    return ToolResult::error("edit: the edited " + shown + " would be larger than the " +
                             std::to_string(context.limits.max_file_bytes) + "-byte limit");
  if (Status s = write_current(context, *where, edit->content, current->mode); !s)
    return ToolResult::error(tool_error_text("edit", s.message()));
  context.seen_hashes[where->absolute] = content_hash(edit->content);

  std::string lines;
  for (size_t i = 0; i < edit->lines.size() && i < 10; ++i) lines += (i ? ", " : "") + std::to_string(edit->lines[i]);
  if (edit->lines.size() > 10) lines += ", ...";
  std::string text = "Edited " + shown + ": replaced " +
                     (edit->replacements == 1 ? "1 occurrence at line " : std::to_string(edit->replacements) + " occurrences at lines ") +
                     lines + ".\n";
  // The first replacement starts on the same line in the new content.
  if (!edit->lines.empty()) {
    int64_t new_lines = count_lines(edit->new_text) + (edit->new_text.empty() ? 1 : 0);
    text += snippet(edit->content, edit->lines[0], new_lines, context.limits.max_line_bytes);
  }
  json data = {{"path", shown}, {"replacements", edit->replacements}, {"lines", edit->lines}};
  return ToolResult::success(text, data);
}

}  // namespace

void register_file_tools(ToolRegistry& registry) {
  registry.add({"read",
                "Read a text file of the workspace. Returns numbered lines (\"     1\\tcode\"), at most 2000 lines "
                "per call; use offset/limit to page through large files. Binary files are refused. Read a file "
                "before overwriting it with write.",
                kReadSchema, run_read});
  registry.add({"write",
                "Create a file, or replace a whole file, atomically (the file mode is kept, missing folders are "
                "created). Overwriting an existing file requires having read it in this session, unchanged since. "
                "Prefer edit or apply_patch for partial changes.",
                kWriteSchema, run_write});
  registry.add({"edit",
                "Replace exact text in a file: 'old' must occur exactly once (or pass replace_all). Line endings "
                "follow the file (LF text edits CRLF files correctly). Refused if the file changed since you last "
                "read it.",
                kEditSchema, run_edit});
  register_patch_tool(registry);
}

}  // namespace beluga::tools
