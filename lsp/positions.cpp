#include "lsp/positions.h"

#include <algorithm>

namespace beluga::lsp {
namespace {

// Length of the UTF-8 sequence starting at text[i] (1 for an invalid byte).
size_t sequence_length(std::string_view text, size_t i) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  if (n == 1 || i + n > text.size()) return 1;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 1;
  return n;
}

// Code units of the sequence at text[i] of length n.
int64_t units(size_t n, PositionEncoding encoding) {
  if (encoding == PositionEncoding::kUtf8) return static_cast<int64_t>(n);
  return n == 4 ? 2 : 1;
}

// Byte offset where line `line` starts, or npos when the text has fewer lines.
size_t line_start(std::string_view text, int64_t line) {
  size_t at = 0;
  for (int64_t l = 0; l < line; ++l) {
    size_t i = at;
    while (i < text.size() && text[i] != '\n' && text[i] != '\r') ++i;
    if (i >= text.size()) return std::string_view::npos;
    at = (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? i + 2 : i + 1;
  }
  return at;
}

bool is_continuation(std::string_view text, size_t i) {
  return i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
}

}  // namespace

size_t offset_of(std::string_view text, Position position, PositionEncoding encoding) {
  if (position.line < 0) return 0;
  size_t at = line_start(text, position.line);
  if (at == std::string_view::npos) return text.size();
  int64_t left = std::max<int64_t>(position.character, 0);
  while (at < text.size() && text[at] != '\n' && text[at] != '\r' && left > 0) {
    const size_t n = sequence_length(text, at);
    const int64_t u = units(n, encoding);
    if (u > left) break;  // inside a surrogate pair: the character's start
    left -= u;
    at += n;
  }
  return at;
}

Position position_of(std::string_view text, size_t offset, PositionEncoding encoding) {
  offset = std::min(offset, text.size());
  // Never inside a character or a "\r\n".
  if (offset < text.size() && is_continuation(text, offset)) {
    size_t start = offset;
    while (start > 0 && offset - start < 3 && is_continuation(text, start)) --start;
    if (!is_continuation(text, start) && start + sequence_length(text, start) > offset) offset = start;
  }
  if (offset > 0 && offset < text.size() && text[offset] == '\n' && text[offset - 1] == '\r') --offset;
  Position p;
  size_t line_begin = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n' || (text[i] == '\r' && !(i + 1 < text.size() && text[i + 1] == '\n'))) {
      ++p.line;
      line_begin = i + 1;
    }
  }
  for (size_t i = line_begin; i < offset;) {
    const size_t n = sequence_length(text, i);
    p.character += units(n, encoding);
    i += n;
  }
  return p;
}

ByteEdit minimal_edit(std::string_view before, std::string_view after) {
  size_t prefix = 0;
  const size_t shorter = std::min(before.size(), after.size());
  while (prefix < shorter && before[prefix] == after[prefix]) ++prefix;
  // Back off to a character boundary and out of a "\r\n".
  while (prefix > 0 && (is_continuation(before, prefix) || is_continuation(after, prefix))) --prefix;
  if (prefix > 0 && before[prefix - 1] == '\r') --prefix;
  size_t suffix = 0;
  while (suffix < shorter - prefix && before[before.size() - 1 - suffix] == after[after.size() - 1 - suffix]) ++suffix;
  while (suffix > 0 && (is_continuation(before, before.size() - suffix) || is_continuation(after, after.size() - suffix)))
    --suffix;
  auto splits_crlf = [&](std::string_view s) {
    const size_t at = s.size() - suffix;
    return suffix > 0 && at > 0 && s[at] == '\n' && s[at - 1] == '\r';
  };
  if (splits_crlf(before) || splits_crlf(after)) --suffix;
  ByteEdit edit;
  edit.start = prefix;
  edit.end = before.size() - suffix;
  edit.text = std::string(after.substr(prefix, after.size() - suffix - prefix));
  return edit;
}

Result<Position> position_from_json(const nlohmann::json& value, const std::string& field) {
  if (!value.is_object()) return make_error(field + ": a Position object is required");
  const auto line = value.find("line");
  const auto character = value.find("character");
  if (line == value.end() || !line->is_number_integer()) return make_error(field + ".line: an integer is required");
  if (character == value.end() || !character->is_number_integer())
    return make_error(field + ".character: an integer is required");
  return Position{line->get<int64_t>(), character->get<int64_t>()};
}

Result<Range> range_from_json(const nlohmann::json& value, const std::string& field) {
  if (!value.is_object()) return make_error(field + ": a Range object is required");
  auto start = position_from_json(value.value("start", nlohmann::json()), field + ".start");
  if (!start) return start.error();
  auto end = position_from_json(value.value("end", nlohmann::json()), field + ".end");
  if (!end) return end.error();
  return Range{*start, *end};
}

nlohmann::json to_json(const Position& p) { return {{"line", p.line}, {"character", p.character}}; }
nlohmann::json to_json(const Range& r) { return {{"start", to_json(r.start)}, {"end", to_json(r.end)}}; }

}  // namespace beluga::lsp
