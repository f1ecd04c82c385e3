#include "indexer/walk_cache.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <charconv>
#include <cstdio>

namespace beluga::indexer {
namespace {

constexpr int64_t kSettleNs = 2'000'000'000;  // indexer.h's racy-timestamp window
constexpr std::string_view kHeader = "beluga-walk 1";

int64_t ns_of(const struct timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

std::string identity_of(const struct stat& st) {
  char text[128];
  std::snprintf(text, sizeof text, "%llu %lld %lld %lld", static_cast<unsigned long long>(st.st_ino),
                static_cast<long long>(st.st_size), static_cast<long long>(ns_of(st.st_mtim)),
                static_cast<long long>(ns_of(st.st_ctim)));
  return text;
}

// Paths may hold any byte but NUL; the record is line- and tab-separated.
std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out;
}

std::optional<std::string> unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) return std::nullopt;
    if (text[i] == '\\') out += '\\';
    else if (text[i] == 'n') out += '\n';
    else if (text[i] == 't') out += '\t';
    else return std::nullopt;
  }
  return out;
}

std::optional<int64_t> to_int(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "PATH\tIDENTITY" into a Watched.
std::optional<WalkRecord::Watched> parse_watched(std::string_view text) {
  size_t tab = text.find('\t');
  if (tab == std::string_view::npos) return std::nullopt;
  auto path = unescape(text.substr(0, tab));
  if (!path) return std::nullopt;
  return WalkRecord::Watched{std::move(*path), std::string(text.substr(tab + 1))};
}

}  // namespace

std::string path_identity(const std::string& path, bool folder_by_inode) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "-";
  if (folder_by_inode && S_ISDIR(st.st_mode)) return "d " + std::to_string(st.st_ino);
  return identity_of(st);
}

std::string folder_identity_at(int dir_fd, const char* name) {
  struct stat st {};
  int rc = *name ? ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) : ::fstat(dir_fd, &st);
  if (rc != 0 || !S_ISDIR(st.st_mode)) return "-";
  return identity_of(st);
}

bool identity_settled(std::string_view identity, int64_t walked_ns) {
  if (identity == "-" || identity.starts_with("d ")) return true;
  // "<inode> <size> <mtime> <ctime>": the third field.
  size_t first = identity.find(' ');
  size_t second = first == std::string_view::npos ? first : identity.find(' ', first + 1);
  size_t third = second == std::string_view::npos ? second : identity.find(' ', second + 1);
  if (third == std::string_view::npos) return false;
  auto mtime = to_int(identity.substr(second + 1, third - second - 1));
  return mtime && *mtime + kSettleNs < walked_ns;
}

std::string serialize_walk_record(const WalkRecord& r) {
  // Appends only (no "literal" + string): GCC 12 warns falsely on those (-Wrestrict).
  std::string out;
  auto line = [&out](std::string_view a, std::string_view b, std::string_view c = {}, std::string_view d = {}) {
    out.append(a).append(b).append(c).append(d).append("\n");
  };
  line(kHeader, "");
  line("key ", escape(r.key));
  line("walked ", std::to_string(r.walked_ns));
  line("git ", r.git ? "1" : "0");
  line("ignored ", std::to_string(r.ignored));
  for (const auto& w : r.inputs) line("i ", escape(w.path), "\t", w.identity);
  for (const auto& w : r.folders) line("d ", escape(w.path), "\t", w.identity);
  for (const auto& e : r.entries) line(e.kind == WalkRecord::Kind::kFile ? "e f " : e.kind == WalkRecord::Kind::kSymlink ? "e l "
                                       : e.kind == WalkRecord::Kind::kOther ? "e o " : "e D ", escape(e.path));
  return out;
}

std::optional<WalkRecord> parse_walk_record(std::string_view text) {
  WalkRecord r;
  size_t at = 0;
  bool header = false;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) return std::nullopt;  // every line ends with '\n': a cut record is refused
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (!header) {
      if (line != kHeader) return std::nullopt;
      header = true;
      continue;
    }
    std::string_view rest = line.size() >= 2 && line[1] == ' ' ? line.substr(2) : std::string_view();
    if (line.starts_with("key ")) {
      auto key = unescape(line.substr(4));
      if (!key) return std::nullopt;
      r.key = std::move(*key);
    } else if (line.starts_with("walked ")) {
      auto v = to_int(line.substr(7));
      if (!v) return std::nullopt;
      r.walked_ns = *v;
    } else if (line.starts_with("git ")) {
      r.git = line.substr(4) == "1";
    } else if (line.starts_with("ignored ")) {
      auto v = to_int(line.substr(8));
      if (!v) return std::nullopt;
      r.ignored = *v;
    } else if (line.starts_with("i ") || line.starts_with("d ")) {
      auto w = parse_watched(rest);
      if (!w) return std::nullopt;
      (line[0] == 'i' ? r.inputs : r.folders).push_back(std::move(*w));
    } else if (line.starts_with("e ")) {
      if (rest.size() < 2 || rest[1] != ' ') return std::nullopt;
      char kind = rest[0];
      if (kind != 'f' && kind != 'l' && kind != 'o' && kind != 'D') return std::nullopt;
      auto path = unescape(rest.substr(2));
      if (!path || path->empty()) return std::nullopt;
      r.entries.push_back({static_cast<WalkRecord::Kind>(kind), std::move(*path)});
    } else {
      return std::nullopt;
    }
  }
  if (!header) return std::nullopt;
  return r;
}

}  // namespace beluga::indexer
