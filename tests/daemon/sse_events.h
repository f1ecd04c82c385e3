// Server-sent events read back for the HTTP format tests: the text a
// StreamEncoder wrote, split into events, each with its name and its data
// parsed as JSON. A malformed event (no data line, data that is not JSON,
// a line that is neither "event:" nor "data:") fails the test.
#pragma once

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace beluga::test {

struct SseEvent {
  std::string name;  // the "event:" line, empty when absent
  nlohmann::json data;
};

inline std::vector<SseEvent> parse_sse(const std::string& text) {
  std::vector<SseEvent> events;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\n\n", pos);
    INFO("an event must end with a blank line: " << text.substr(pos));
    REQUIRE(end != std::string::npos);
    std::string block = text.substr(pos, end - pos);
    pos = end + 2;
    SseEvent event;
    bool has_data = false;
    size_t line_start = 0;
    while (line_start <= block.size()) {
      size_t line_end = block.find('\n', line_start);
      if (line_end == std::string::npos) line_end = block.size();
      std::string line = block.substr(line_start, line_end - line_start);
      line_start = line_end + 1;
      if (line.rfind("event: ", 0) == 0) {
        event.name = line.substr(7);
      } else if (line.rfind("data: ", 0) == 0) {
        INFO("one data line per event: " << block);
        REQUIRE_FALSE(has_data);
        has_data = true;
        event.data = nlohmann::json::parse(line.substr(6));
      } else {
        FAIL("unexpected SSE line: " << line);
      }
    }
    REQUIRE(has_data);
    events.push_back(std::move(event));
  }
  return events;
}

inline std::vector<std::string> event_names(const std::vector<SseEvent>& events) {
  std::vector<std::string> names;
  for (const SseEvent& event : events) names.push_back(event.name);
  return names;
}

}  // namespace beluga::test

namespace beluga::test {

// Every JSON pointer in `value`, containers included, for tests that swap
// each member for a value of every other type.
inline void json_pointers(const nlohmann::json& value, const nlohmann::json::json_pointer& at,
                          std::vector<nlohmann::json::json_pointer>& out) {
  out.push_back(at);
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) json_pointers(it.value(), at / it.key(), out);
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) json_pointers(value[i], at / i, out);
  }
}

inline std::vector<nlohmann::json> json_of_every_type() {
  return {nullptr, true, 7, -3, 1.5, "text", nlohmann::json::array(), nlohmann::json::object(),
          nlohmann::json::array({1, "x"}), nlohmann::json{{"type", "text"}}};
}

}  // namespace beluga::test
