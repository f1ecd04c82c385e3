// Added-token lists and tokenizer.json assembly (see tokenizer_assembly.h).
//
// The assembled file is the base file's bytes with new entries spliced into
// its "added_tokens" array, written in the same layout Hugging Face uses
// (4-space indent), so a V4 file differs from V3 by one block of lines. The
// splice point is found by a small structural scan of the top-level object
// (strings skipped with their escapes, nesting counted), after the whole
// text has parsed as JSON, so the scan only ever sees valid JSON.
#include "engine/model/tokenizer_assembly.h"

#include <algorithm>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "engine/base/files.h"
#include "engine/model/tokenizer_json.h"

namespace beluga {

using nlohmann::json;

namespace {

constexpr uint64_t kMaxListBytes = 64ull << 20;
constexpr uint64_t kMaxTokenizerBytes = 256ull << 20;
constexpr int64_t kMaxTokenId = (1 << 24) - 1;

size_t skip_space(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// Past the string starting at s[i] == '"'; npos if unterminated.
size_t skip_string(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return std::string_view::npos;
}

// Past the value starting at s[i]; npos if malformed.
size_t skip_value(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        i = skip_string(s, i);
        if (i == std::string_view::npos) return i;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return std::string_view::npos;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n' && s[i] != '\t' &&
         s[i] != '\r')
    ++i;
  return i;
}

// [begin, end) of the top-level "added_tokens" value; nullopt if absent.
std::optional<std::pair<size_t, size_t>> find_added_tokens(std::string_view s) {
  size_t i = skip_space(s, 0);
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  i = skip_space(s, i + 1);
  while (i < s.size() && s[i] == '"') {
    const size_t key_end = skip_string(s, i);
    if (key_end == std::string_view::npos) return std::nullopt;
    const json key = json::parse(s.substr(i, key_end - i), nullptr, false);
    i = skip_space(s, key_end);
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    const size_t value_begin = skip_space(s, i + 1);
    const size_t value_end = skip_value(s, value_begin);
    if (value_end == std::string_view::npos) return std::nullopt;
    if (key.is_string() && key == "added_tokens") return std::make_pair(value_begin, value_end);
    i = skip_space(s, value_end);
    if (i < s.size() && s[i] == ',') i = skip_space(s, i + 1);
  }
  return std::nullopt;
}

std::string added_token_entry(const AddedToken& token) {
  const char* special = token.special ? "true" : "false";
  const char* normalized = token.special ? "false" : "true";
  return std::string("        {\n") +                                                   //
         "            \"id\": " + std::to_string(token.id) + ",\n" +                     //
         "            \"content\": " + json(token.content).dump() + ",\n" +             //
         "            \"single_word\": false,\n" +                                      //
         "            \"lstrip\": false,\n" +                                           //
         "            \"rstrip\": false,\n" +                                           //
         "            \"normalized\": " + normalized + ",\n" +                          //
         "            \"special\": " + special + "\n" +                                 //
         "        }";
}

}  // namespace

bool default_added_token_special(std::string_view content) {
  constexpr std::string_view kPrefix = "<|place_holder_mm_span_", kSuffix = "|>";
  return content.size() > kPrefix.size() + kSuffix.size() && content.substr(0, kPrefix.size()) == kPrefix &&
         content.substr(content.size() - kSuffix.size()) == kSuffix;
}

Result<std::vector<AddedToken>> parse_added_token_list(std::string_view json_text, std::string_view label) {
  const json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) return make_error(std::string(label) + ": not valid JSON");
  if (!doc.is_array()) return make_error(std::string(label) + ": must be a JSON array of {\"id\", \"content\"} objects");
  std::vector<AddedToken> tokens;
  tokens.reserve(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& e = doc[i];
    const std::string where = std::string(label) + ": entry " + std::to_string(i);
    if (!e.is_object()) return make_error(where + ": must be an object");
    if (!e.contains("id") || !e["id"].is_number_integer() || e["id"].get<int64_t>() < 0 ||
        e["id"].get<int64_t>() > kMaxTokenId)
      return make_error(where + ": key 'id' must be an integer in 0.." + std::to_string(kMaxTokenId));
    if (!e.contains("content") || !e["content"].is_string() || e["content"].get_ref<const std::string&>().empty())
      return make_error(where + ": key 'content' must be a non-empty string");
    if (e.contains("special") && !e["special"].is_boolean())
      return make_error(where + ": key 'special' must be a boolean");
    AddedToken token{static_cast<int32_t>(e["id"].get<int64_t>()), e["content"].get<std::string>(), false};
    token.special = e.contains("special") ? e["special"].get<bool>() : default_added_token_special(token.content);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

Result<std::vector<AddedToken>> load_added_token_list(const std::string& path) {
  auto text = read_text_file(path, kMaxListBytes);
  if (!text) return text.error();
  return parse_added_token_list(*text, path);
}

Result<AssembledTokenizer> assemble_tokenizer_json(std::string_view base_json, std::string_view base_label,
                                                   const std::vector<AddedToken>& added) {
  auto read = read_tokenizer_json(base_json, base_label);
  if (!read) return read.error();
  const json& base = read->rest;
  if (!base.is_object()) return make_error(std::string(base_label) + ": not a tokenizer.json (top level is not an object)");
  if (!base.contains("added_tokens") || !base["added_tokens"].is_array())
    return make_error(std::string(base_label) + ": key 'added_tokens': missing or not an array");
  std::unordered_map<int64_t, std::string> content_of_id;
  std::unordered_map<std::string, int64_t> id_of_content;
  for (const json& e : base["added_tokens"]) {
    if (!e.is_object() || !e.contains("id") || !e["id"].is_number_integer() || !e.contains("content") ||
        !e["content"].is_string())
      return make_error(std::string(base_label) + ": key 'added_tokens': an entry lacks an integer id or a string content");
    content_of_id[e["id"].get<int64_t>()] = e["content"].get<std::string>();
    id_of_content[e["content"].get<std::string>()] = e["id"].get<int64_t>();
  }

  std::vector<AddedToken> fresh;
  for (const AddedToken& token : added) {
    auto by_id = content_of_id.find(token.id);
    auto by_content = id_of_content.find(token.content);
    if (by_id != content_of_id.end() && by_id->second == token.content) continue;  // already there
    if (by_id != content_of_id.end())
      return make_error("added token id " + std::to_string(token.id) + " is '" + by_id->second + "' in " +
                        std::string(base_label) + ", cannot also be '" + token.content + "'");
    if (by_content != id_of_content.end())
      return make_error("added token '" + token.content + "' has id " + std::to_string(by_content->second) + " in " +
                        std::string(base_label) + ", cannot also be " + std::to_string(token.id));
    content_of_id[token.id] = token.content;
    id_of_content[token.content] = token.id;
    fresh.push_back(token);
  }
  std::sort(fresh.begin(), fresh.end(), [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });

  const auto span = find_added_tokens(base_json);
  if (!span || base_json[span->first] != '[' || base_json[span->second - 1] != ']')
    return make_error(std::string(base_label) + ": cannot locate the top-level \"added_tokens\" array");
  // Insert after the last element (or after '[' when empty), keeping the
  // whitespace that precedes ']'.
  size_t insert_at = span->second - 1;
  while (insert_at > span->first + 1 && std::string_view(" \t\r\n").find(base_json[insert_at - 1]) != std::string_view::npos)
    --insert_at;
  bool empty = insert_at == span->first + 1;
  std::string block;
  for (const AddedToken& token : fresh) {
    block += empty ? "\n" : ",\n";
    block += added_token_entry(token);
    empty = false;
  }
  std::string out;
  out.reserve(base_json.size() + block.size());
  out.append(base_json.substr(0, insert_at)).append(block).append(base_json.substr(insert_at));

  // Prove the result is a working tokenizer with every token at its id.
  auto check = Tokenizer::parse(out, "assembled tokenizer.json");
  if (!check) return check.error();
  for (const AddedToken& token : added) {
    auto id = check->token_id(token.content);
    if (!id || *id != token.id)
      return make_error("assembled tokenizer.json: '" + token.content + "' does not map to id " + std::to_string(token.id));
  }
  return AssembledTokenizer{std::move(out), fresh.size()};
}

Result<size_t> assemble_tokenizer_file(const std::string& base_path, const std::string& added_path,
                                       const std::string& out_path) {
  auto base = read_text_file(base_path, kMaxTokenizerBytes);
  if (!base) return base.error();
  auto added = load_added_token_list(added_path);
  if (!added) return added.error();
  auto assembled = assemble_tokenizer_json(*base, base_path, *added);
  if (!assembled) return assembled.error();
  if (Status s = write_text_file_atomically(out_path, assembled->json_text); !s) return s.error();
  return assembled->tokens_added;
}

}  // namespace beluga
