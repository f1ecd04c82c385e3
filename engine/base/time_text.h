// Seconds since the Unix epoch as text, for listings and protocols.
#pragma once

#include <cstdint>
#include <string>

namespace beluga {

enum class TimeZone { kUtc, kLocal };

// strftime(`format`) of `unix_s` (at most 63 characters of output).
std::string format_unix_time(int64_t unix_s, const char* format, TimeZone zone);

}  // namespace beluga
