#include "lsp/documents.h"

#include <cctype>
#include <filesystem>

namespace beluga::lsp {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Status apply_change(TextDocument& document, const nlohmann::json& change, PositionEncoding encoding) {
  if (!change.is_object()) return make_error("contentChanges: objects are required");
  const auto text = change.find("text");
  if (text == change.end() || !text->is_string()) return make_error("contentChanges.text: a string is required");
  const auto range_json = change.find("range");
  if (range_json == change.end() || range_json->is_null()) {
    document.text = text->get<std::string>();
    return {};
  }
  auto range = range_from_json(*range_json, "contentChanges.range");
  if (!range) return range.error();
  size_t start = offset_of(document.text, range->start, encoding);
  size_t end = offset_of(document.text, range->end, encoding);
  if (end < start) std::swap(start, end);
  document.text.replace(start, end - start, text->get<std::string>());
  return {};
}

std::optional<std::string> path_from_uri(const std::string& uri) {
  static constexpr std::string_view kScheme = "file://";
  if (uri.size() < kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(uri[i])) != kScheme[i]) return std::nullopt;
  std::string rest = uri.substr(kScheme.size());
  // file://host/path: only an empty host or localhost name this machine.
  const size_t slash = rest.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const std::string host = rest.substr(0, slash);
  if (!host.empty() && host != "localhost") return std::nullopt;
  rest.erase(0, slash);
  if (const size_t cut = rest.find_first_of("?#"); cut != std::string::npos) rest.erase(cut);
  std::string path;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%') {
      if (i + 2 >= rest.size()) return std::nullopt;
      const int hi = hex_value(rest[i + 1]), lo = hex_value(rest[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      const char c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') return std::nullopt;
      path += c;
      i += 2;
    } else {
      path += rest[i];
    }
  }
  return path;
}

std::string real_path(const std::string& path) {
  std::error_code ec;
  std::filesystem::path real = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : real.string();
}

std::string uri_from_path(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    }
  }
  return uri;
}

void DocumentStore::open(TextDocument document) {
  std::lock_guard lock(mutex_);
  // The real path, as the daemon names files (an editor may open a file through a symlink).
  if (auto path = path_from_uri(document.uri)) document.path = real_path(*path);
  if (!document.path.empty()) expected_.erase(document.path);
  documents_[document.uri] = std::move(document);
}

Status DocumentStore::change(const std::string& uri, int64_t version, const nlohmann::json& changes,
                             PositionEncoding encoding) {
  std::lock_guard lock(mutex_);
  auto it = documents_.find(uri);
  if (it == documents_.end()) return make_error("didChange for a document that is not open: " + uri);
  if (!changes.is_array()) return make_error("contentChanges: an array is required");
  TextDocument copy = it->second;
  for (const auto& change : changes)
    if (Status s = apply_change(copy, change, encoding); !s) return s;
  copy.version = version;
  it->second = std::move(copy);
  if (auto e = expected_.find(it->second.path); e != expected_.end()) {
    if (e->second.text == it->second.text || ++e->second.changes_seen >= 2) expected_.erase(e);
  }
  return {};
}

void DocumentStore::close(const std::string& uri) {
  std::lock_guard lock(mutex_);
  auto it = documents_.find(uri);
  if (it == documents_.end()) return;
  expected_.erase(it->second.path);
  documents_.erase(it);
}

std::optional<TextDocument> DocumentStore::by_uri(const std::string& uri) const {
  std::lock_guard lock(mutex_);
  auto it = documents_.find(uri);
  if (it == documents_.end()) return std::nullopt;
  return it->second;
}

std::optional<TextDocument> DocumentStore::by_path(const std::string& path) const {
  std::lock_guard lock(mutex_);
  for (const auto& [uri, document] : documents_)
    if (!document.path.empty() && document.path == path) return document;
  return std::nullopt;
}

std::optional<std::string> DocumentStore::text_for_agent(const std::string& path) const {
  std::lock_guard lock(mutex_);
  if (auto e = expected_.find(path); e != expected_.end()) return e->second.text;
  for (const auto& [uri, document] : documents_)
    if (!document.path.empty() && document.path == path) return document.text;
  return std::nullopt;
}

void DocumentStore::expect(const std::string& path, std::string text) {
  std::lock_guard lock(mutex_);
  for (const auto& [uri, document] : documents_)
    if (document.path == path && document.text == text) {
      expected_.erase(path);
      return;  // the editor's didChange came first
    }
  expected_[path] = Expected{std::move(text), 0};
}

size_t DocumentStore::size() const {
  std::lock_guard lock(mutex_);
  return documents_.size();
}

}  // namespace beluga::lsp
