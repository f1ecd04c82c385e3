// Internal to the context packer (context_packer.cpp): the recorded
// contexts of a workspace, in a folder next to its index.
//
//   <folder>/<id>.json     one recorded context (version 1):
//     {"version": 1, "id", "parent" (null for a base), "base", "workspace",
//      "counter", "budget", "reserve_tokens", "tokens" (the whole context:
//      base plus deltas), "files": {path: [hash, "whole"|"signatures"|"listed",
//      signature digest]}}
//   <folder>/texts/<hash>  the text shown for a file shown whole (valid
//                          UTF-8), named by the git blob id of its bytes
//
// Written atomically (engine/base/files.h); a record is written after its
// texts, so a record never names a text that is missing. A record that is
// missing, unreadable or of another version is an error naming the id:
// contexts are never guessed at.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "engine/base/result.h"

namespace beluga::indexer {

enum class Shown { kListed, kSignatures, kWhole };

struct ViewEntry {
  std::string hash;              // git blob id of the file as last described
  Shown shown = Shown::kListed;
  std::string signature_digest;  // of signature_lines(defs, false), when shown by signatures
};

struct ContextRecord {
  std::string id, parent, base, workspace, counter;
  int64_t budget = 0, reserve_tokens = 0, tokens = 0;
  std::map<std::string, ViewEntry> files;
};

bool is_context_id(const std::string& id);  // 16 lower-case hex digits

Status save_context_record(const std::string& folder, const ContextRecord& record);
Result<ContextRecord> load_context_record(const std::string& folder, const std::string& id);
Status save_shown_text(const std::string& folder, const std::string& hash, const std::string& text);
Result<std::string> load_shown_text(const std::string& folder, const std::string& hash);

}  // namespace beluga::indexer
