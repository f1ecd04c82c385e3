#include "indexer/context_records.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "engine/base/files.h"

namespace beluga::indexer {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kRecordVersion = 1;
constexpr uint64_t kMaxRecordBytes = 256u << 20;

const char* shown_name(Shown s) {
  switch (s) {
    case Shown::kWhole: return "whole";
    case Shown::kSignatures: return "signatures";
    case Shown::kListed: break;
  }
  return "listed";
}

bool is_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Status ensure_folder(const std::string& folder) {
  std::error_code ec;
  fs::create_directories(fs::path(folder) / "texts", ec);
  if (ec) return make_error("cannot create " + folder + ": " + ec.message());
  return {};
}

Result<ContextRecord> from_json(const json& j, const std::string& id) {
  if (!j.is_object() || j.value("version", 0) != kRecordVersion)
    return make_error("context " + id + " was recorded by another version of beluga");
  ContextRecord r;
  r.id = j.at("id").get<std::string>();
  r.parent = j.at("parent").is_null() ? "" : j.at("parent").get<std::string>();
  r.base = j.at("base").get<std::string>();
  r.workspace = j.at("workspace").get<std::string>();
  r.counter = j.at("counter").get<std::string>();
  r.budget = j.at("budget").get<int64_t>();
  r.reserve_tokens = j.at("reserve_tokens").get<int64_t>();
  r.tokens = j.at("tokens").get<int64_t>();
  if (r.id != id) return make_error("context record " + id + " names itself " + r.id);
  for (const auto& [path, entry] : j.at("files").items()) {
    ViewEntry v;
    v.hash = entry.at(0).get<std::string>();
    std::string shown = entry.at(1).get<std::string>();
    v.shown = shown == "whole" ? Shown::kWhole : shown == "signatures" ? Shown::kSignatures : Shown::kListed;
    if (shown != shown_name(v.shown)) return make_error("context " + id + ": unknown display '" + shown + "'");
    v.signature_digest = entry.at(2).get<std::string>();
    r.files.emplace(path, std::move(v));
  }
  return r;
}

}  // namespace

bool is_context_id(const std::string& id) {
  if (id.size() != 16) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Status save_context_record(const std::string& folder, const ContextRecord& record) {
  if (Status s = ensure_folder(folder); !s) return s;
  json files = json::object();
  for (const auto& [path, v] : record.files) files[path] = {v.hash, shown_name(v.shown), v.signature_digest};
  json j = {{"version", kRecordVersion},
            {"id", record.id},
            {"parent", record.parent.empty() ? json(nullptr) : json(record.parent)},
            {"base", record.base},
            {"workspace", record.workspace},
            {"counter", record.counter},
            {"budget", record.budget},
            {"reserve_tokens", record.reserve_tokens},
            {"tokens", record.tokens},
            {"files", std::move(files)}};
  // Paths are valid UTF-8 in the index; replace rather than throw if one is not.
  return write_text_file_atomically(folder + "/" + record.id + ".json",
                                    j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
}

Result<ContextRecord> load_context_record(const std::string& folder, const std::string& id) {
  if (!is_context_id(id)) return make_error("'" + id + "' is not a context id (16 hex digits)");
  std::string path = folder + "/" + id + ".json";
  std::error_code ec;
  if (!fs::exists(path, ec))
    return make_error("no context " + id + " is recorded for this workspace (" + path +
                      " is missing); pack a new context without --since");
  auto text = read_text_file(path, kMaxRecordBytes);
  if (!text) return text.error();
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return make_error("context record " + path + " is not valid JSON");
  try {
    return from_json(j, id);
  } catch (const json::exception& e) {
    return make_error("context record " + path + " is malformed: " + e.what());
  }
}

Status save_shown_text(const std::string& folder, const std::string& hash, const std::string& text) {
  if (!is_hash(hash)) return make_error("bad content hash '" + hash + "'");
  if (Status s = ensure_folder(folder); !s) return s;
  std::string path = folder + "/texts/" + hash;
  std::error_code ec;
  if (fs::exists(path, ec)) return {};  // content-addressed: already there
  return write_text_file_atomically(path, text);
}

Result<std::string> load_shown_text(const std::string& folder, const std::string& hash) {
  if (!is_hash(hash)) return make_error("bad content hash '" + hash + "'");
  auto text = read_text_file(folder + "/texts/" + hash, kMaxRecordBytes);
  if (!text) return make_error("the text shown for content " + hash + " is missing from " + folder + ": " +
                               text.message());
  return text;
}

}  // namespace beluga::indexer
