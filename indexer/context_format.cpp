#include "indexer/context_format.h"

#include <git2.h>

#include <charconv>
#include <memory>

#include "tools/patch.h"

namespace beluga::indexer {
namespace {

bool needs_quotes(std::string_view path) {
  if (path.empty() || path.front() == '"' || path.substr(0, 4) == "=== ") return true;
  for (unsigned char c : path)
    if (c < 0x20 || c == 0x7f) return true;
  return path.find(" -> ") != std::string_view::npos || path.find(" (") != std::string_view::npos;
}

std::string json_quote(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Reads a path written by context_path_text from the front of `s`, leaving
// the rest in `s`.
Result<std::string> take_path(std::string_view& s, std::string_view stop) {
  if (s.empty() || s.front() != '"') {
    size_t end = stop.empty() ? s.size() : s.rfind(stop);
    if (end == std::string_view::npos) return make_error("no '" + std::string(stop) + "' after the path");
    std::string path(s.substr(0, end));
    s.remove_prefix(end);
    return path;
  }
  std::string out;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      s.remove_prefix(i + 1);
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= s.size()) break;
    switch (s[i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'u': {
        unsigned value = 0;
        if (i + 4 >= s.size() || std::from_chars(s.data() + i + 1, s.data() + i + 5, value, 16).ec != std::errc())
          return make_error("bad \\u escape in a quoted path");
        out += static_cast<char>(value);
        i += 4;
        break;
      }
      default: out += s[i];
    }
  }
  return make_error("unterminated quoted path");
}

std::string body_header(std::string_view kind, std::string_view path, int64_t lines, std::string_view extra) {
  return "=== " + std::string(kind) + " " + context_path_text(path) + " (" + std::to_string(lines) +
         (lines == 1 ? " line" : " lines") + std::string(extra) + ") ===\n";
}

struct LineReader {
  std::string_view text;
  size_t pos = 0;
  int64_t line = 0;
  bool done() const { return pos >= text.size(); }
  // The next line with its '\n' (if any).
  std::string_view next() {
    size_t end = text.find('\n', pos);
    end = end == std::string_view::npos ? text.size() : end + 1;
    std::string_view l = text.substr(pos, end - pos);
    pos = end;
    ++line;
    return l;
  }
};

std::string_view without_newline(std::string_view l) {
  if (!l.empty() && l.back() == '\n') l.remove_suffix(1);
  return l;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// "PATH (N lines[, ...])" → path and N.
Status parse_counted(std::string_view rest, std::string& path, int64_t& lines, bool& no_newline) {
  auto p = take_path(rest, " (");
  if (!p) return p.error();
  path = std::move(*p);
  if (!starts_with(rest, " (")) return make_error("expected ' (' after the path");
  rest.remove_prefix(2);
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), lines);
  if (ec != std::errc() || lines < 0) return make_error("expected a line count");
  rest.remove_prefix(static_cast<size_t>(end - rest.data()));
  no_newline = rest.find("no newline at end") != std::string_view::npos;
  return {};
}

}  // namespace

std::string context_path_text(std::string_view path) {
  return needs_quotes(path) ? json_quote(path) : std::string(path);
}

int64_t count_lines(std::string_view text) {
  int64_t lines = 0;
  for (char c : text) lines += c == '\n';
  if (!text.empty() && text.back() != '\n') ++lines;
  return lines;
}

std::string render_file_section(std::string_view path, std::string_view text) {
  bool no_newline = !text.empty() && text.back() != '\n';
  std::string out = body_header("FILE", path, count_lines(text), no_newline ? ", no newline at end" : "");
  out += text;
  if (no_newline) out += '\n';
  out += "=== END FILE " + context_path_text(path) + " ===\n";
  return out;
}

std::string render_diff_section(std::string_view path, std::string_view unified_diff) {
  std::string out = body_header("DIFF", path, count_lines(unified_diff), "");
  out += unified_diff;
  if (!unified_diff.empty() && unified_diff.back() != '\n') out += '\n';
  out += "=== END DIFF " + context_path_text(path) + " ===\n";
  return out;
}

std::string signature_lines(const std::vector<Definition>& defs, bool with_lines) {
  std::string out;
  for (const Definition& d : defs) {
    if (with_lines) out += std::to_string(d.start_line) + ": ";
    out += d.signature.empty() ? d.kind + " " + d.name : d.signature;
    out += '\n';
  }
  return out;
}

std::string render_signatures_section(std::string_view path, int64_t tokens, const std::vector<Definition>& defs) {
  std::string out = "=== SIGNATURES " + context_path_text(path) + " (" + std::to_string(tokens) +
                    " tokens, not shown whole) ===\n";
  out += signature_lines(defs, true);
  out += "=== END SIGNATURES " + context_path_text(path) + " ===\n";
  return out;
}

std::string render_deleted_section(std::string_view path) { return "=== DELETED " + context_path_text(path) + " ===\n"; }

std::string render_renamed_section(std::string_view from, std::string_view to) {
  return "=== RENAMED " + context_path_text(from) + " -> " + context_path_text(to) + " ===\n";
}

Result<std::string> unified_diff(std::string_view path, std::string_view before, std::string_view after) {
  if (before == after) return std::string();
  static const int libgit2_ready = git_libgit2_init();  // held for the process
  (void)libgit2_ready;
  git_diff_options options;
  git_diff_options_init(&options, GIT_DIFF_OPTIONS_VERSION);
  options.context_lines = 3;
  options.flags |= GIT_DIFF_FORCE_TEXT;
  git_patch* raw = nullptr;
  std::string name(path);
  if (git_patch_from_buffers(&raw, before.data(), before.size(), name.c_str(), after.data(), after.size(),
                             name.c_str(), &options) != 0) {
    const git_error* e = git_error_last();
    return make_error("cannot diff " + name + ": " + (e ? e->message : "libgit2 error"));
  }
  std::unique_ptr<git_patch, void (*)(git_patch*)> patch(raw, git_patch_free);
  git_buf buf = GIT_BUF_INIT;
  if (git_patch_to_buf(&buf, patch.get()) != 0) return make_error("cannot format the diff of " + name);
  std::string text(buf.ptr, buf.size);
  git_buf_dispose(&buf);
  // Keep from the "--- " line on: "diff --git" and "index" lines say nothing
  // the section header does not.
  size_t start = text.rfind("\n--- ", text.find("\n@@"));
  return start == std::string::npos ? text : text.substr(start + 1);
}

Result<std::string> apply_context_diff(std::string_view path, std::string_view before, std::string_view diff) {
  auto patches = tools::parse_patch(diff);
  if (!patches) return patches.error();
  if (patches->size() != 1) return make_error("the DIFF of " + std::string(path) + " is not one file's diff");
  return tools::apply_hunks(before, patches->front(), path);
}

Result<std::map<std::string, FileInContext>> read_context_text(const std::vector<std::string>& texts) {
  std::map<std::string, FileInContext> files;
  for (size_t t = 0; t < texts.size(); ++t) {
    LineReader reader{texts[t]};
    auto fail = [&](const std::string& what) {
      return make_error("context text " + std::to_string(t + 1) + ", line " + std::to_string(reader.line) + ": " +
                        what);
    };
    while (!reader.done()) {
      std::string_view line = without_newline(reader.next());
      if (!starts_with(line, "=== ") || line.size() < 8 || line.substr(line.size() - 4) != " ===") continue;
      std::string_view header = line.substr(4, line.size() - 8);
      std::string path;
      int64_t count = 0;
      bool no_newline = false;
      if (header == "MAP") {
        while (!reader.done() && without_newline(reader.next()) != "=== END MAP ===") {
        }
        continue;
      }
      if (starts_with(header, "FILE ") || starts_with(header, "DIFF ")) {
        bool is_file = header[0] == 'F';
        if (Status s = parse_counted(header.substr(5), path, count, no_newline); !s) return fail(s.message());
        std::string body;
        for (int64_t i = 0; i < count; ++i) {
          if (reader.done()) return fail("the body of " + path + " ends early");
          body += reader.next();
        }
        if (no_newline && !body.empty() && body.back() == '\n') body.pop_back();
        if (is_file) {
          files[path] = {FileInContext::Shown::kWhole, std::move(body)};
          continue;
        }
        auto it = files.find(path);
        if (it == files.end() || it->second.shown != FileInContext::Shown::kWhole)
          return fail("a DIFF of " + path + ", which was not shown whole before");
        auto applied = apply_context_diff(path, it->second.text, body);
        if (!applied) return fail(applied.message());
        it->second.text = std::move(*applied);
      } else if (starts_with(header, "SIGNATURES ")) {
        if (Status s = parse_counted(header.substr(11), path, count, no_newline); !s) return fail(s.message());
        std::string end = "=== END SIGNATURES " + context_path_text(path) + " ===";
        std::string body;
        for (;;) {
          if (reader.done()) return fail("no end to the signatures of " + path);
          std::string_view l = reader.next();
          if (without_newline(l) == end) break;
          body += l;
        }
        files[path] = {FileInContext::Shown::kSignatures, std::move(body)};
      } else if (starts_with(header, "DELETED ")) {
        std::string_view rest = header.substr(8);
        auto p = take_path(rest, "");
        if (!p) return fail(p.message());
        files[*p] = {FileInContext::Shown::kDeleted, ""};
      } else if (starts_with(header, "RENAMED ")) {
        std::string_view rest = header.substr(8);
        auto from = take_path(rest, " -> ");
        if (!from || !starts_with(rest, " -> ")) return fail("malformed RENAMED header");
        rest.remove_prefix(4);
        auto to = take_path(rest, "");
        if (!to) return fail(to.message());
        // A file known only from the map moves without a text.
        auto it = files.find(*from);
        if (it != files.end()) files[*to] = it->second;
        files[*from] = {FileInContext::Shown::kDeleted, ""};
      }
    }
  }
  return files;
}

}  // namespace beluga::indexer
