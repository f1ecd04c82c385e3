// MCP messages and their readings (see mcp_protocol.h).
#include "tools/mcp/mcp_protocol.h"

#include <algorithm>

namespace beluga::tools::mcp {
namespace {

constexpr const char* kVersionKey = "io.modelcontextprotocol/protocolVersion";
constexpr const char* kCapabilitiesKey = "io.modelcontextprotocol/clientCapabilities";
constexpr const char* kClientInfoKey = "io.modelcontextprotocol/clientInfo";
constexpr size_t kMaxToolNameChars = 64;

Json client_info() { return {{"name", "beluga"}, {"version", BELUGA_VERSION}}; }

std::string text_of(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_modern_error(int64_t code) { return code <= -32020 && code >= -32099; }

std::string dump(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

// One non-text content item, as a line the model can read.
std::string summarise_item(const Json& item) {
  const std::string type = text_of(item, "type");
  if (type == "image" || type == "audio") {
    const std::string mime = text_of(item, "mimeType");
    const size_t base64 = text_of(item, "data").size();
    return "[" + type + " content (" + (mime.empty() ? "unknown type" : mime) + ", about " +
           std::to_string(base64 / 4 * 3) + " bytes) omitted: beluga shows the model text only]";
  }
  if (type == "resource") {
    auto res = item.find("resource");
    if (res != item.end() && res->is_object()) {
      const std::string uri = text_of(*res, "uri");
      if (auto t = res->find("text"); t != res->end() && t->is_string())
        return "[resource " + uri + "]\n" + t->get<std::string>();
      return "[binary resource " + uri + " (" + text_of(*res, "mimeType") + ") omitted: text only]";
    }
    return "[resource item without content]";
  }
  if (type == "resource_link") {
    std::string line = "[resource link: " + text_of(item, "uri");
    if (std::string name = text_of(item, "name"); !name.empty()) line += " (" + name + ")";
    if (std::string d = text_of(item, "description"); !d.empty()) line += ": " + d;
    return line + "]";
  }
  return "[content of type '" + type + "' omitted: beluga does not know it]";
}

}  // namespace

Json discover_params(const std::string& version) { return with_modern_meta(Json::object(), version); }

Json with_modern_meta(Json params, const std::string& version) {
  if (!params.is_object()) params = Json::object();
  Json& meta = params["_meta"];
  if (!meta.is_object()) meta = Json::object();
  meta[kVersionKey] = version;
  meta[kCapabilitiesKey] = Json::object();
  meta[kClientInfoKey] = client_info();
  return params;
}

ProbeDecision classify_probe(const RpcOutcome& outcome) {
  ProbeDecision d;
  if (outcome.kind == RpcOutcome::Kind::kResult) {
    const Json& r = outcome.result;
    auto versions = r.is_object() ? r.find("supportedVersions") : r.end();
    if (!r.is_object() || versions == r.end() || !versions->is_array()) {
      // Not a DiscoverResult: some legacy servers answer unknown methods
      // with an empty result. Legacy, as "any other answer" says.
      return d;
    }
    d.era = Era::kModern;
    if (auto caps = r.find("capabilities"); caps != r.end() && caps->is_object()) d.capabilities = *caps;
    if (auto meta = r.find("_meta"); meta != r.end() && meta->is_object())
      if (auto info = meta->find("io.modelcontextprotocol/serverInfo"); info != meta->end() && info->is_object())
        d.server_info = text_of(*info, "name") + " " + text_of(*info, "version");
    for (const Json& v : *versions)
      if (v.is_string() && v.get<std::string>() == kModernVersion) d.version = kModernVersion;
    if (d.version.empty()) d.error = "the server supports only " + dump(*versions) + "; beluga speaks " + kModernVersion;
    return d;
  }
  if (outcome.kind == RpcOutcome::Kind::kError && is_modern_error(outcome.code)) {
    d.era = Era::kModern;
    if (outcome.code == kUnsupportedProtocolVersion) {
      auto supported = outcome.data.is_object() ? outcome.data.find("supported") : outcome.data.end();
      if (outcome.data.is_object() && supported != outcome.data.end() && supported->is_array())
        for (const Json& v : *supported)
          if (v.is_string() && v.get<std::string>() == kModernVersion) d.version = kModernVersion;
      if (d.version.empty())
        d.error = "the server is of the stateless era but supports none of beluga's versions (" + std::string(kModernVersion) +
                  "); it offers " + (outcome.data.is_object() && outcome.data.contains("supported")
                                         ? dump(outcome.data["supported"]) : std::string("nothing it named"));
    } else {
      d.error = "server/discover failed with a stateless-era error: " + outcome.message;
    }
    return d;
  }
  // Any other error (whatever its code), a timeout, a closed pipe: legacy.
  return d;
}

Json initialize_params() {
  return {{"protocolVersion", kLegacyVersions.front()}, {"capabilities", Json::object()}, {"clientInfo", client_info()}};
}

Result<std::string> negotiated_version(const Json& result) {
  if (!result.is_object()) return make_error("initialize: the result is not an object");
  const std::string version = text_of(result, "protocolVersion");
  if (version.empty()) return make_error("initialize: the result has no protocolVersion");
  if (std::find(kLegacyVersions.begin(), kLegacyVersions.end(), version) == kLegacyVersions.end()) {
    std::string ours;
    for (const std::string& v : kLegacyVersions) ours += (ours.empty() ? "" : ", ") + v;
    return make_error("initialize: the server speaks protocol " + version + ", beluga speaks " + ours);
  }
  return version;
}

Result<ToolPage> parse_tools_page(const Json& result) {
  if (!result.is_object()) return make_error("tools/list: the result is not an object");
  auto tools = result.find("tools");
  if (tools == result.end() || !tools->is_array()) return make_error("tools/list: the result has no tools array");
  ToolPage page;
  for (const Json& t : *tools) {
    if (!t.is_object() || text_of(t, "name").empty()) {
      page.skipped.push_back("an entry without a name");
      continue;
    }
    McpTool tool;
    tool.name = text_of(t, "name");
    tool.title = text_of(t, "title");
    tool.description = text_of(t, "description");
    auto schema = t.find("inputSchema");
    if (schema == t.end() || !schema->is_object()) {
      page.skipped.push_back(tool.name + " (no input schema object)");
      continue;
    }
    tool.input_schema = *schema;
    page.tools.push_back(std::move(tool));
  }
  if (auto cursor = result.find("nextCursor"); cursor != result.end() && cursor->is_string())
    page.next_cursor = cursor->get<std::string>();
  return page;
}

bool is_input_required(const Json& result) {
  return result.is_object() && text_of(result, "resultType") == "input_required";
}

ToolResult render_call_result(const Json& result, const std::string& label) {
  if (!result.is_object()) return ToolResult::error(label + ": the server's result is not an object");
  std::string text;
  bool has_text = false;
  int omitted = 0;
  if (auto content = result.find("content"); content != result.end() && content->is_array()) {
    for (const Json& item : *content) {
      if (!item.is_object()) continue;
      std::string piece;
      if (text_of(item, "type") == "text") {
        piece = text_of(item, "text");
        has_text = true;
      } else {
        piece = summarise_item(item);
        ++omitted;
      }
      text += (text.empty() ? "" : "\n") + piece;
    }
  }
  Json data = {{"content", result.value("content", Json::array())}};
  if (auto structured = result.find("structuredContent"); structured != result.end() && !structured->is_null()) {
    data["structuredContent"] = *structured;
    // Servers SHOULD repeat structured content as text; when one does not,
    // the model still needs to see it.
    if (!has_text) text += (text.empty() ? "" : "\n") + dump(*structured);
  }
  if (omitted > 0)
    text += "\n(note: " + std::to_string(omitted) + " non-text item" + (omitted == 1 ? " was" : "s were") +
            " summarised above)";
  if (text.empty()) text = "(the tool returned no content)";
  const bool is_error = result.value("isError", false);
  if (is_error) return ToolResult::error(label + " failed: " + text, data);
  return ToolResult::success(text, data);
}

std::string model_tool_name(const std::string& server, const std::string& tool) {
  std::string name = server + "__" + tool;
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (name.size() > kMaxToolNameChars) name.resize(kMaxToolNameChars);
  return name;
}

Status check_server_name(const std::string& name) {
  if (name.empty()) return make_error("an MCP server needs a name");
  if (name.size() > 32) return make_error("MCP server name '" + name + "' is longer than 32 characters");
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return make_error("MCP server name '" + name + "': use letters, digits, '_' and '-' only (it prefixes tool names)");
  if (name.find("__") != std::string::npos)
    return make_error("MCP server name '" + name + "' must not contain \"__\" (it separates server and tool)");
  return {};
}

}  // namespace beluga::tools::mcp
