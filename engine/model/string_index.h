// StringIndex: bytes -> id, open addressing over one key arena. Used for the
// tokenizer's vocabulary (raw bytes -> id, spelling -> id while loading) and
// added-token contents: ~4x faster to build and probe than
// std::unordered_map<std::string, int> for 128k short keys, which is most of
// the cost of loading tokenizer.json after the JSON itself.
//
// Thread contract: const after building; share freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace beluga {

// A fast 64-bit hash of short byte strings; never 0.
inline uint64_t hash_bytes(std::string_view s) {
  constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
  uint64_t h = kGolden ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * kGolden;
    h ^= h >> 29;
  }
  if (i < s.size()) {
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * kGolden;
  }
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return h | 1;
}

class StringIndex {
 public:
  void reserve(size_t keys) {
    size_t capacity = 16;
    while (capacity < keys * 2) capacity *= 2;
    if (capacity > slots_.size()) rehash(capacity);
  }

  // Adds key -> id; false (and no change) if the key is already there.
  bool insert(std::string_view key, int32_t id) {
    if ((used_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 16 : slots_.size() * 2);
    const uint64_t h = hash_bytes(key);
    size_t i = (h >> 1) & (slots_.size() - 1);
    for (; slots_[i].hash != 0; i = (i + 1) & (slots_.size() - 1))
      if (slots_[i].hash == h && key_of(slots_[i]) == key) return false;
    slots_[i] = {h, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(key.size()), id};
    keys_.append(key);
    ++used_;
    return true;
  }

  // The id of `key`, or -1.
  int32_t find(std::string_view key) const {
    if (slots_.empty()) return -1;
    const uint64_t h = hash_bytes(key);
    for (size_t i = (h >> 1) & (slots_.size() - 1); slots_[i].hash != 0; i = (i + 1) & (slots_.size() - 1))
      if (slots_[i].hash == h && key_of(slots_[i]) == key) return slots_[i].id;
    return -1;
  }

  size_t size() const { return used_; }

 private:
  struct Slot {
    uint64_t hash = 0;  // 0: empty
    uint32_t offset = 0, size = 0;
    int32_t id = -1;
  };
  std::string_view key_of(const Slot& s) const { return std::string_view(keys_).substr(s.offset, s.size); }
  void rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    for (const Slot& s : old) {
      if (s.hash == 0) continue;
      size_t i = (s.hash >> 1) & (capacity - 1);
      while (slots_[i].hash != 0) i = (i + 1) & (capacity - 1);
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::string keys_;
  size_t used_ = 0;
};

}  // namespace beluga
