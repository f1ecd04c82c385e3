// glob, list and grep: finding things in the workspace.
//
// All three walk with walk_workspace (walk.h): confined, symlinks never
// followed, .gitignore honoured, .git skipped, bounded in entries, depth and
// time. Output is capped (ToolLimits::max_matches lines and
// max_output_bytes) with a closing marker saying how much was left out and
// how to narrow the search.
//
// grep reads files on a small pool of std::threads (files are independent;
// results are merged in walk order, so output is deterministic). Each line
// is matched by LineRegex (linear time: no pattern can hang), on at most
// max_grep_line_bytes of it. Workers poll a stop flag that the calling
// thread raises at the deadline or when the session cancels; keep_going is
// only ever called from the calling thread.
#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tools/file_io.h"
#include "tools/ignore_rules.h"
#include "tools/line_regex.h"
#include "tools/registry.h"
#include "tools/tool_support.h"
#include "tools/walk.h"

namespace beluga::tools {
namespace {

using nlohmann::json;

constexpr size_t kMaxBraceExpansions = 64;

constexpr const char* kGlobSchema = R"({
  "type": "object",
  "properties": {
    "pattern": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "Glob relative to the workspace root: '*' and '?' stay within a folder, '**' crosses folders, [abc] classes, {a,b} alternatives. E.g. 'src/**/*.cpp', '**/CMakeLists.txt', '*.{h,hpp}'."}
  },
  "required": ["pattern"],
  "additionalProperties": false
})";

constexpr const char* kListSchema = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "description": "Folder to list, relative to the workspace root ('.' for the root)."}
  },
  "required": ["path"],
  "additionalProperties": false
})";

constexpr const char* kGrepSchema = R"({
  "type": "object",
  "properties": {
    "regex": {"type": "string", "minLength": 1, "maxLength": 10000, "description": "Regular expression in ECMAScript (JavaScript) syntax, matched against each line: classes, \\d \\w \\s \\b, groups, alternation, quantifiers; no backreferences or lookaround. Escape literal special characters, e.g. 'foo\\(' to find 'foo('."},
    "path": {"type": "string", "description": "File or folder to search, relative to the workspace root (default: the whole workspace)."},
    "glob": {"type": "string", "maxLength": 1000, "description": "Only search files matching this glob: a name pattern like '*.cpp' (any folder) or a path pattern like 'src/**/*.h'; {a,b} alternatives allowed."},
    "context": {"type": "integer", "minimum": 0, "maximum": 20, "description": "Lines of context to show before and after each match (default 0)."},
    "ignore_case": {"type": "boolean", "description": "Match ASCII letters case-insensitively (default false)."}
  },
  "required": ["regex"],
  "additionalProperties": false
})";

// Expands {a,b} alternatives (nested allowed); an error past the cap.
Result<std::vector<std::string>> expand_braces(const std::string& pattern) {
  std::vector<std::string> done, work = {pattern};
  while (!work.empty()) {
    std::string p = std::move(work.back());
    work.pop_back();
    size_t open = std::string::npos, close = std::string::npos;
    std::vector<size_t> commas;
    int depth = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] == '\\') {
        ++i;
        continue;
      }
      if (p[i] == '{') {
        if (depth++ == 0) open = i, commas.clear();
      } else if (p[i] == '}' && depth > 0) {
        if (--depth == 0) {
          close = i;
          if (!commas.empty()) break;
          open = std::string::npos;  // "{x}" without a comma is literal
        }
      } else if (p[i] == ',' && depth == 1) {
        commas.push_back(i);
      }
    }
    if (open == std::string::npos || close == std::string::npos || commas.empty() || close < open) {
      done.push_back(std::move(p));
      if (done.size() > kMaxBraceExpansions) break;
      continue;
    }
    size_t from = open + 1;
    commas.push_back(close);
    for (size_t c : commas) {
      work.push_back(p.substr(0, open) + p.substr(from, c - from) + p.substr(close + 1));
      from = c + 1;
    }
    if (work.size() + done.size() > kMaxBraceExpansions) break;
  }
  if (done.size() + work.size() > kMaxBraceExpansions)
    return make_error("the {a,b} alternatives expand to more than " + std::to_string(kMaxBraceExpansions) + " patterns");
  std::sort(done.begin(), done.end());
  done.erase(std::unique(done.begin(), done.end()), done.end());
  return done;
}

bool has_glob_chars(std::string_view s) { return s.find_first_of("*?[\\{") != std::string_view::npos; }

// A glob made relative to the root: "./x" → "x"; absolute paths inside the
// root lose the root; ".." is refused.
Result<std::string> normalise_glob(std::string pattern, const ToolContext& context) {
  if (!pattern.empty() && pattern[0] == '/') {
    std::string root = context.roots.front().string();
    if (pattern.rfind(root + "/", 0) != 0)
      return make_error("the pattern '" + pattern + "' is outside the workspace; patterns are relative to its root");
    pattern = pattern.substr(root.size() + 1);
  }
  while (pattern.rfind("./", 0) == 0) pattern.erase(0, 2);
  size_t start = 0;
  while (start <= pattern.size()) {
    size_t end = pattern.find('/', start);
    if (end == std::string::npos) end = pattern.size();
    if (pattern.compare(start, end - start, "..") == 0)
      return make_error("'..' is not allowed in a pattern; patterns are relative to the workspace root");
    start = end + 1;
  }
  if (pattern.empty()) pattern = "*";
  return pattern;
}

std::string entry_text(const WalkEntry& e) {
  if (e.type == WalkEntry::Type::kFolder) return e.path + "/";
  if (e.type == WalkEntry::Type::kSymlink) return e.path + "@";
  return e.path;
}

std::string incomplete_note(const WalkResult& walk) {
  return walk.complete ? std::string()
                       : "[the walk stopped early at " + walk.stopped_because + "; results may be incomplete]\n";
}

ToolResult run_glob(const json& args, ToolContext& context) {
  const ToolLimits& limits = context.limits;
  Result<std::string> pattern = normalise_glob(args.at("pattern").get<std::string>(), context);
  if (!pattern) return ToolResult::error("glob: " + pattern.message());
  Result<std::vector<std::string>> patterns = expand_braces(*pattern);
  if (!patterns) return ToolResult::error("glob: " + patterns.message());

  // Walk from the longest literal folder prefix shared by the pattern.
  std::string prefix;
  int pattern_depth = 0;
  bool deep = false;
  {
    size_t start = 0;
    bool literal = true;
    while (start < pattern->size()) {
      size_t end = pattern->find('/', start);
      if (end == std::string::npos) end = pattern->size();
      std::string part = pattern->substr(start, end - start);
      deep = deep || part.find("**") != std::string::npos;
      if (literal && end < pattern->size() && !has_glob_chars(part)) prefix += (prefix.empty() ? "" : "/") + part;
      else literal = false, ++pattern_depth;
      start = end + 1;
    }
  }
  for (const std::string& p : *patterns) deep = deep || p.find("**") != std::string::npos;
  Result<ConfinedPath> where = resolve_in_workspace(context, prefix.empty() ? "." : prefix, PathUse::kAny);
  if (!where) return ToolResult::error("glob: " + where.message());
  json data = {{"pattern", *pattern}, {"matches", json::array()}};
  if (!std::filesystem::is_directory(where->absolute)) {
    data["total"] = 0;
    return ToolResult::success("No files match '" + *pattern + "'.", data);
  }
  WalkOptions options;
  options.max_depth = deep ? limits.max_walk_depth : std::max(1, pattern_depth);
  Deadline deadline(limits.search_timeout);
  Result<WalkResult> walk = walk_workspace(*where, context, options, deadline);
  if (!walk) return ToolResult::error("glob: " + walk.message());

  std::vector<const WalkEntry*> matches;
  for (const WalkEntry& e : walk->entries)
    for (const std::string& p : *patterns)
      if (wildmatch(p, e.path, true)) {
        matches.push_back(&e);
        break;
      }
  std::string text;
  int64_t shown = 0;
  for (const WalkEntry* e : matches) {
    if (shown >= limits.max_matches || text.size() >= limits.max_output_bytes) break;
    text += entry_text(*e) + "\n";
    data["matches"].push_back(entry_text(*e));
    ++shown;
  }
  int64_t total = static_cast<int64_t>(matches.size());
  data["total"] = total;
  data["complete"] = walk->complete;
  if (matches.empty()) {
    text = "No files match '" + *pattern + "'" +
           (walk->ignored ? " (" + std::to_string(walk->ignored) + " entries ignored by .gitignore were not searched)" : "") +
           ".\n";
  } else if (shown < total) {
    text += "[" + std::to_string(total - shown) + " more matches not shown (" + std::to_string(total) +
            " in all); use a narrower pattern]\n";
  }
  return ToolResult::success(text + incomplete_note(*walk), data);
}

ToolResult run_list(const json& args, ToolContext& context) {
  const ToolLimits& limits = context.limits;
  Result<ConfinedPath> where = resolve_in_workspace(context, args.at("path").get<std::string>(), PathUse::kRead);
  if (!where) return ToolResult::error("list: " + where.message());
  if (!std::filesystem::is_directory(std::filesystem::symlink_status(where->absolute)))
    return ToolResult::error("list: " + display_path(*where) + " is a file, not a folder; use read to see it");
  WalkOptions options;
  options.recursive = false;
  Deadline deadline(limits.search_timeout);
  Result<WalkResult> walk = walk_workspace(*where, context, options, deadline);
  if (!walk) return ToolResult::error("list: " + walk.message());
  // Folders first, then files; names relative to the listed folder.
  std::vector<const WalkEntry*> entries;
  for (const WalkEntry& e : walk->entries) entries.push_back(&e);
  std::stable_sort(entries.begin(), entries.end(), [](const WalkEntry* a, const WalkEntry* b) {
    return (a->type == WalkEntry::Type::kFolder) > (b->type == WalkEntry::Type::kFolder);
  });
  std::string base = walk_path(*where);
  std::string text = (base.empty() ? std::string(".") : base) + "/\n";
  json items = json::array();
  int64_t shown = 0;
  for (const WalkEntry* e : entries) {
    if (shown >= limits.max_matches || text.size() >= limits.max_output_bytes) break;
    std::string name = base.empty() ? e->path : e->path.substr(base.size() + 1);
    WalkEntry relative = *e;
    relative.path = name;
    std::string line = "  " + entry_text(relative);
    if (e->type == WalkEntry::Type::kFile) line += "  (" + std::to_string(e->size_bytes) + " bytes)";
    text += line + "\n";
    items.push_back({{"name", name},
                     {"type", e->type == WalkEntry::Type::kFolder ? "folder"
                              : e->type == WalkEntry::Type::kFile ? "file"
                              : e->type == WalkEntry::Type::kSymlink ? "symlink" : "other"},
                     {"bytes", e->size_bytes}});
    ++shown;
  }
  int64_t total = static_cast<int64_t>(entries.size());
  if (total == 0) text += "  (empty)\n";
  if (shown < total)
    text += "[" + std::to_string(total - shown) + " more entries not shown (" + std::to_string(total) +
            " in all); use glob to find specific files]\n";
  if (walk->ignored > 0)
    text += "[" + std::to_string(walk->ignored) + (walk->ignored == 1 ? " entry" : " entries") +
            " ignored by .gitignore (or .git) not shown]\n";
  return ToolResult::success(text + incomplete_note(*walk),
                             json{{"path", base.empty() ? "." : base}, {"entries", items}, {"total", total},
                                  {"ignored", walk->ignored}});
}

// What one worker found in one file.
struct FileHits {
  struct Line {
    int64_t number;
    std::string text;  // clipped for display
    bool match;
  };
  std::vector<Line> lines;   // kept matches and their context, in order
  int64_t matches = 0;       // matching lines, all counted
  bool searched = false, binary = false, too_large = false, unreadable = false;
};

void search_file(const ConfinedPath& file, const LineRegex& regex, int context_lines, const ToolLimits& limits,
                 const std::atomic<bool>& stop, FileHits& hits) {
  Result<FileContent> content = read_confined(file, limits.max_file_bytes);
  if (!content) {
    (content.message().find("more than the limit") != std::string::npos ? hits.too_large : hits.unreadable) = true;
    return;
  }
  const std::string& bytes = content->bytes;
  if (looks_binary(bytes)) {
    hits.binary = true;
    return;
  }
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < bytes.size();) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    std::string_view line(bytes.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  std::vector<char> is_match(lines.size(), 0);
  std::vector<size_t> kept;
  for (size_t i = 0; i < lines.size(); ++i) {
    if ((i & 1023) == 0 && stop.load(std::memory_order_relaxed)) return;
    if (!regex.search(lines[i].substr(0, limits.max_grep_line_bytes))) continue;
    is_match[i] = 1;
    ++hits.matches;
    if (static_cast<int64_t>(kept.size()) < limits.max_matches) kept.push_back(i);
  }
  hits.searched = true;
  int64_t last = -1;  // last line index emitted
  for (size_t m : kept) {
    int64_t from = std::max<int64_t>(last + 1, static_cast<int64_t>(m) - context_lines);
    int64_t to = std::min<int64_t>(static_cast<int64_t>(lines.size()) - 1, static_cast<int64_t>(m) + context_lines);
    for (int64_t k = from; k <= to; ++k) {
      size_t idx = static_cast<size_t>(k);
      hits.lines.push_back({k + 1, clip_line(lines[idx], limits.max_line_bytes), is_match[idx] != 0});
    }
    last = std::max(last, to);
  }
}

bool glob_filter(const std::vector<std::string>& globs, const std::string& path, const std::string& search_base) {
  if (globs.empty()) return true;
  std::string_view name = path;
  if (size_t slash = name.rfind('/'); slash != std::string_view::npos) name = name.substr(slash + 1);
  std::string below = !search_base.empty() && path.rfind(search_base + "/", 0) == 0 ? path.substr(search_base.size() + 1) : path;
  for (const std::string& g : globs) {
    if (g.find('/') == std::string::npos ? wildmatch(g, name, true) : (wildmatch(g, path, true) || wildmatch(g, below, true)))
      return true;
  }
  return false;
}

ToolResult run_grep(const json& args, ToolContext& context) {
  const ToolLimits& limits = context.limits;
  std::string pattern = args.at("regex").get<std::string>();
  int context_lines = static_cast<int>(args.value("context", int64_t{0}));
  Result<LineRegex> regex = LineRegex::compile(pattern, args.value("ignore_case", false));
  if (!regex)
    return ToolResult::error("grep: " + regex.message() +
                             "; grep takes ECMAScript (JavaScript) syntax: escape literal special characters such as "
                             "( [ . * + ? with a backslash");
  std::vector<std::string> globs;
  if (args.contains("glob")) {
    Result<std::string> g = normalise_glob(args.at("glob").get<std::string>(), context);
    if (!g) return ToolResult::error("grep: " + g.message());
    Result<std::vector<std::string>> expanded = expand_braces(*g);
    if (!expanded) return ToolResult::error("grep: " + expanded.message());
    globs = std::move(*expanded);
  }
  Result<ConfinedPath> where = resolve_in_workspace(context, args.value("path", std::string(".")), PathUse::kRead);
  if (!where) return ToolResult::error("grep: " + where.message());
  Deadline deadline(limits.search_timeout);
  WalkOptions options;
  Result<WalkResult> walk = walk_workspace(*where, context, options, deadline);
  if (!walk) return ToolResult::error("grep: " + walk.message());
  std::string base = walk_path(*where);
  std::vector<const WalkEntry*> files;
  for (const WalkEntry& e : walk->entries)
    if (e.type == WalkEntry::Type::kFile && glob_filter(globs, e.path, base)) files.push_back(&e);

  // Search on a pool of threads; results are merged in walk order.
  std::vector<FileHits> hits(files.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable finished;
  size_t workers_left = 0;
  unsigned wanted = limits.search_threads ? limits.search_threads : std::max(1u, std::thread::hardware_concurrency());
  size_t worker_count = std::min<size_t>({static_cast<size_t>(std::min(wanted, 8u)), files.size()});
  std::vector<std::thread> workers;
  workers_left = worker_count;
  for (size_t w = 0; w < worker_count; ++w) {
    workers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        size_t i = next.fetch_add(1);
        if (i >= files.size()) break;
        ConfinedPath file{where->root / files[i]->path, where->root, files[i]->path};
        search_file(file, *regex, context_lines, limits, stop, hits[i]);
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (--workers_left == 0) finished.notify_all();
    });
  }
  bool timed_out = false, cancelled = false;
  {
    std::unique_lock<std::mutex> lock(mutex);
    while (workers_left > 0) {
      finished.wait_for(lock, std::chrono::milliseconds(20));
      if (stop) continue;
      if (deadline.passed()) timed_out = true, stop = true;
      else if (!keep_going(context)) cancelled = true, stop = true;
    }
  }
  for (std::thread& t : workers) t.join();

  // Merge.
  std::string text;
  int64_t shown = 0, total = 0, files_with_matches = 0, binary = 0, too_large = 0, searched = 0;
  bool capped = false;
  json data_matches = json::array();
  for (size_t i = 0; i < files.size(); ++i) {
    const FileHits& h = hits[i];
    searched += h.searched;
    binary += h.binary;
    too_large += h.too_large;
    if (h.matches == 0) continue;
    total += h.matches;
    ++files_with_matches;
    int64_t previous = -1;
    for (const FileHits::Line& line : h.lines) {
      if (shown >= limits.max_matches || text.size() >= limits.max_output_bytes) {
        capped = true;
        break;
      }
      if (context_lines > 0 && !text.empty() && (previous < 0 || line.number != previous + 1)) text += "--\n";
      previous = line.number;
      text += files[i]->path + (line.match ? ":" : "-") + std::to_string(line.number) + (line.match ? ":" : "-") +
              line.text + "\n";
      if (line.match) {
        ++shown;
        if (data_matches.size() < 100)
          data_matches.push_back({{"path", files[i]->path}, {"line", line.number}, {"text", line.text}});
      }
    }
  }
  if (total == 0) {
    text = "No matches for /" + pattern + "/ in " + std::to_string(searched) + " file(s)" +
           (base.empty() ? std::string() : " under " + base) + ".\n";
  } else if (capped || shown < total) {
    text += "[" + std::to_string(total - shown) + " more matching lines not shown (" + std::to_string(total) +
            " in " + std::to_string(files_with_matches) + " files); narrow the search with path, glob or a more "
            "specific regex]\n";
  }
  if (timed_out || cancelled) {
    size_t done = static_cast<size_t>(std::count_if(hits.begin(), hits.end(), [](const FileHits& h) {
      return h.searched || h.binary || h.too_large || h.unreadable;
    }));
    text += "[search " + std::string(timed_out ? "stopped at the time limit" : "cancelled") + " after " +
            std::to_string(done) + " of " + std::to_string(files.size()) + " files; results are incomplete]\n";
  }
  if (too_large > 0)
    text += "[" + std::to_string(too_large) + " file(s) larger than " + std::to_string(limits.max_file_bytes) +
            " bytes were not searched]\n";
  text += incomplete_note(*walk);
  json data = {{"matches", data_matches}, {"total_matches", total}, {"files_with_matches", files_with_matches},
               {"files_searched", searched}, {"binary_files_skipped", binary}, {"complete", !timed_out && !cancelled && walk->complete}};
  return ToolResult::success(text, data);
}

}  // namespace

void register_search_tools(ToolRegistry& registry) {
  registry.add({"glob",
                "Find files and folders by glob pattern (relative to the workspace root), e.g. 'src/**/*.cpp'. "
                "Honours .gitignore; folders are shown with a trailing '/'.",
                kGlobSchema, run_glob});
  registry.add({"list",
                "List one folder's entries (folders first, with a trailing '/'; file sizes in bytes). Entries "
                "ignored by .gitignore are left out.",
                kListSchema, run_list});
  registry.add({"grep",
                "Search file contents with a regular expression (ECMAScript syntax), honouring .gitignore; prints "
                "'path:line:text' for matches and 'path-line-text' for context lines. Binary files are skipped.",
                kGrepSchema, run_grep});
}

}  // namespace beluga::tools
