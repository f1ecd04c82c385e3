// format_unix_time (engine/base/time_text.h), in UTC where the answer is fixed.
#include <catch2/catch.hpp>

#include "engine/base/time_text.h"

using beluga::format_unix_time;
using beluga::TimeZone;

TEST_CASE("unix times format in UTC with the given pattern", "[base]") {
  CHECK(format_unix_time(0, "%Y-%m-%dT%H:%M:%SZ", TimeZone::kUtc) == "1970-01-01T00:00:00Z");
  CHECK(format_unix_time(1795392000, "%Y-%m-%d %H:%M", TimeZone::kUtc) == "2026-11-23 00:00");
  CHECK(format_unix_time(1795392000 + 3661, "%H:%M:%S", TimeZone::kUtc) == "01:01:01");
  CHECK(format_unix_time(0, "", TimeZone::kUtc).empty());
  CHECK(format_unix_time(0, "%Y", TimeZone::kLocal).size() == 4);
}
