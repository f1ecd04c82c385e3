// The editor's open documents: the source of truth for the files they
// show, unsaved changes included.
//
// didOpen stores the text, didChange applies full or incremental changes
// (ranges in the negotiated encoding, applied in order, LSP 3.17),
// didClose forgets. The daemon's agent reads through the bridge
// (fs/read_text_file): an open document answers with its buffer, any
// other file with the disk. After the bridge has asked the editor to apply
// an agent's write (workspace/applyEdit), the written text is "expected":
// reads answer it until the editor's didChange brings the buffer to it, so
// an agent that writes then reads sees its own write even if the editor's
// notification is still on its way. The expectation ends when a didChange
// brings the buffer to it, or after two didChanges that did not (the user
// typed meanwhile: the buffer is the truth again).
//
// file: URIs are converted to paths here (percent-decoding; other schemes
// are kept as documents but have no path).
//
// Thread contract: DocumentStore is guarded by its mutex (any thread); the
// free functions are pure.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"
#include "lsp/positions.h"

namespace beluga::lsp {

struct TextDocument {
  std::string uri;
  std::string path;  // empty for a non-file URI
  std::string language_id;
  int64_t version = 0;
  std::string text;
};

// Applies one TextDocumentContentChangeEvent ({text} or {range, text}).
Status apply_change(TextDocument& document, const nlohmann::json& change, PositionEncoding encoding);

// "file:///a/b%20c" → "/a/b c"; nullopt for other schemes or a bad URI.
std::optional<std::string> path_from_uri(const std::string& uri);
// `path` with symlinks resolved as far as it exists (the daemon's names for files).
std::string real_path(const std::string& path);
// "/a/b c" → "file:///a/b%20c".
std::string uri_from_path(const std::string& path);

class DocumentStore {
 public:
  void open(TextDocument document);
  // Applies didChange's contentChanges; an error leaves the document as it was.
  Status change(const std::string& uri, int64_t version, const nlohmann::json& changes, PositionEncoding encoding);
  void close(const std::string& uri);

  std::optional<TextDocument> by_uri(const std::string& uri) const;
  std::optional<TextDocument> by_path(const std::string& path) const;
  // The text an agent should see for `path`: expected write, buffer, or nullopt (use the disk).
  std::optional<std::string> text_for_agent(const std::string& path) const;
  void expect(const std::string& path, std::string text);
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, TextDocument> documents_;  // by URI
  struct Expected {
    std::string text;
    int changes_seen = 0;  // didChanges since, none bringing the buffer to `text`
  };
  std::map<std::string, Expected> expected_;  // by path
};

}  // namespace beluga::lsp
