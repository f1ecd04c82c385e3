// A light check of what the daemon sends against ACP's published schema
// (../shared/acp/schema.json): for a session/update, the variant named by
// "sessionUpdate" must exist and every property its definition requires
// must be present; "kind" and "status" must be among the schema's
// constants. Not a full JSON Schema validator; enough to catch a renamed
// or missing field.
#pragma once

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

namespace beluga::testing {

class AcpSchema {
 public:
  AcpSchema() {
    const std::string path = source_path("../shared/acp/schema.json");
    std::ifstream in(path);
    if (in) defs_ = nlohmann::json::parse(in)["$defs"];
  }
  bool available() const { return !defs_.is_null(); }

  // Problems with one session/update payload ("" when none).
  std::string check_update(const nlohmann::json& update) const {
    if (!available()) return "";
    const std::string kind = update.value("sessionUpdate", "");
    for (const auto& variant : defs_["SessionUpdate"]["oneOf"]) {
      if (variant["properties"]["sessionUpdate"]["const"] != kind) continue;
      std::string problems;
      for (const auto& ref : variant["allOf"]) problems += check_required(update, def_of(ref["$ref"]));
      if (update.contains("kind") && !in_consts("ToolKind", update["kind"])) problems += "bad kind; ";
      if (update.contains("status") && !in_consts("ToolCallStatus", update["status"])) problems += "bad status; ";
      return problems;
    }
    return "unknown sessionUpdate \"" + kind + "\"";
  }
  std::string check(const std::string& def, const nlohmann::json& value) const {
    if (!available()) return "";
    return check_required(value, defs_[def]);
  }

 private:
  const nlohmann::json& def_of(const std::string& ref) const { return defs_[ref.substr(ref.rfind('/') + 1)]; }
  std::string check_required(const nlohmann::json& value, const nlohmann::json& def) const {
    std::string problems;
    if (!def.contains("required")) return problems;
    for (const auto& key : def["required"])
      if (!value.contains(key.get<std::string>())) problems += "missing " + key.get<std::string>() + "; ";
    return problems;
  }
  bool in_consts(const std::string& def, const nlohmann::json& value) const {
    for (const auto& option : defs_[def]["oneOf"])
      if (option["const"] == value) return true;
    return false;
  }
  nlohmann::json defs_;
};

}  // namespace beluga::testing
