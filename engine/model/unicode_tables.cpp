// Lookups over the generated class runs (unicode_tables_data.cpp).
//
// The Basic Multilingual Plane, where almost all text lives, gets a direct
// 64 KiB table built once from the runs; astral code points binary-search
// the ~2,300 runs (12 steps).
#include "engine/model/unicode_tables.h"

#include <algorithm>
#include <array>

namespace beluga::unicode {
namespace {

constexpr char32_t kMaxCodePoint = 0x10FFFF;
constexpr char32_t kBmpSize = 0x10000;

const std::array<uint8_t, kBmpSize>& bmp_table() {
  static const std::array<uint8_t, kBmpSize> table = [] {
    std::array<uint8_t, kBmpSize> t{};
    for (size_t i = 0; i < kClassRunCount; ++i) {
      const uint32_t first = kClassRuns[i] >> 8;
      if (first >= kBmpSize) break;
      const uint32_t end = i + 1 < kClassRunCount ? std::min<uint32_t>(kClassRuns[i + 1] >> 8, kBmpSize) : kBmpSize;
      std::fill(t.begin() + first, t.begin() + end, static_cast<uint8_t>(kClassRuns[i] & 0xFF));
    }
    return t;
  }();
  return table;
}

}  // namespace

uint8_t char_class_by_search(char32_t cp) {
  if (cp > kMaxCodePoint) return 0;
  // The last run whose first code point is <= cp. Entry 0 starts at U+0000.
  const uint32_t key = (static_cast<uint32_t>(cp) << 8) | 0xFF;
  const uint32_t* end = kClassRuns + kClassRunCount;
  const uint32_t* it = std::upper_bound(kClassRuns, end, key);
  return static_cast<uint8_t>(it[-1] & 0xFF);
}

uint8_t char_class(char32_t cp) {
  if (cp < kBmpSize) return bmp_table()[cp];
  return char_class_by_search(cp);
}

}  // namespace beluga::unicode
