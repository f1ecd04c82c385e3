#include "engine/base/time_text.h"

#include <ctime>

namespace beluga {

std::string format_unix_time(int64_t unix_s, const char* format, TimeZone zone) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  if (zone == TimeZone::kUtc)
    gmtime_r(&t, &tm);
  else
    localtime_r(&t, &tm);
  char text[64];
  return std::string(text, std::strftime(text, sizeof text, format, &tm));
}

}  // namespace beluga
