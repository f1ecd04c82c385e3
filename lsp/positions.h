// LSP positions and the text they point into.
//
// A Position is (line, character): lines are split at "\n", "\r\n" or
// "\r" (LSP 3.17), and `character` counts code units of the negotiated
// encoding: UTF-16 (the default: an astral-plane character such as an
// emoji is two units) or UTF-8 (bytes), when the client offers it. beluga
// keeps documents as UTF-8 bytes, so every position crossing the wire is
// converted here and nowhere else.
//
// Out-of-range positions are clamped, as LSP asks: a character past the
// line's end means the line's end (before its line break); a line past the
// last means the end of the text; a character inside a UTF-16 surrogate
// pair or a UTF-8 sequence means the start of that character. Invalid
// UTF-8 bytes count as one unit each in either encoding.
//
// Thread contract: pure functions over values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"

namespace beluga::lsp {

enum class PositionEncoding { kUtf16, kUtf8 };

struct Position {
  int64_t line = 0;
  int64_t character = 0;
  bool operator==(const Position&) const = default;
};

struct Range {
  Position start;
  Position end;
  bool operator==(const Range&) const = default;
};

// Byte offset in `text` of `position` (clamped as above).
size_t offset_of(std::string_view text, Position position, PositionEncoding encoding);
// The position of byte `offset` (clamped to the text; an offset inside a
// multibyte character or between "\r" and "\n" moves back to its start).
Position position_of(std::string_view text, size_t offset, PositionEncoding encoding);

// A minimal replacement turning `before` into `after`: the common prefix
// and suffix are kept (never splitting a UTF-8 character or a "\r\n"), so
// an editor applying it keeps its cursors, marks and undo steps sane.
struct ByteEdit {
  size_t start = 0;  // in `before`
  size_t end = 0;    // in `before`
  std::string text;  // replaces [start, end)
};
ByteEdit minimal_edit(std::string_view before, std::string_view after);

// JSON forms ({"line":..,"character":..}, {"start":..,"end":..}); errors name the field.
Result<Position> position_from_json(const nlohmann::json& value, const std::string& field);
Result<Range> range_from_json(const nlohmann::json& value, const std::string& field);
nlohmann::json to_json(const Position& position);
nlohmann::json to_json(const Range& range);

}  // namespace beluga::lsp
