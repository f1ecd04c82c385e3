#include "engine/model/bpe.h"

#include "engine/model/string_index.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace beluga {
namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

}  // namespace

// --- PieceCache -------------------------------------------------------------

uint64_t PieceCache::hash(std::string_view piece) { return hash_bytes(piece); }

const int32_t* PieceCache::find(std::string_view piece, uint64_t hash, uint32_t& count) const {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t i = (hash >> 1) & mask;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.hash == 0) return nullptr;
    if (slot.hash == hash && slot.key_size == piece.size() &&
        std::memcmp(keys_.data() + slot.key_offset, piece.data(), piece.size()) == 0) {
      count = slot.ids_size;
      return ids_.data() + slot.ids_offset;
    }
  }
}

void PieceCache::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.hash == 0) continue;
    size_t i = (slot.hash >> 1) & mask;
    while (slots_[i].hash != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

void PieceCache::insert(std::string_view piece, uint64_t hash, const int32_t* ids, uint32_t count) {
  if (piece.size() > kMaxPieceBytes) return;
  if (used_ >= kMaxEntries) clear();  // bounded: start over rather than evict
  if ((used_ + 1) * 2 > slots_.size()) grow();
  const size_t mask = slots_.size() - 1;
  size_t i = (hash >> 1) & mask;
  while (slots_[i].hash != 0) i = (i + 1) & mask;
  Slot& slot = slots_[i];
  slot.hash = hash;
  slot.key_offset = static_cast<uint32_t>(keys_.size());
  slot.key_size = static_cast<uint32_t>(piece.size());
  slot.ids_offset = static_cast<uint32_t>(ids_.size());
  slot.ids_size = count;
  keys_.append(piece);
  ids_.insert(ids_.end(), ids, ids + count);
  ++used_;
}

void PieceCache::clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  keys_.clear();
  ids_.clear();
  used_ = 0;
}

// --- BpeModel ---------------------------------------------------------------

void BpeModel::add_merge(int32_t left, int32_t right, int32_t merged) {
  assert(slots_.empty());
  pending_.push_back({key_of(left, right), static_cast<uint32_t>(pending_.size()), merged});
}

void BpeModel::insert_slot(const MergeSlot& slot) {
  const size_t mask = slots_.size() - 1;
  size_t i = (slot.key * kGolden) >> shift_;
  while (slots_[i].key != kEmptyKey) {
    if (slots_[i].key == slot.key) return;  // a repeated pair: the first (lowest rank) wins
    i = (i + 1) & mask;
  }
  slots_[i] = slot;
  ++merge_count_;
}

void BpeModel::finish() {
  size_t capacity = 16;
  while (capacity < pending_.size() * 2) capacity *= 2;
  shift_ = 64;
  for (size_t c = capacity; c > 1; c /= 2) --shift_;
  slots_.assign(capacity, MergeSlot{});
  merge_count_ = 0;
  for (const MergeSlot& slot : pending_) insert_slot(slot);
  pending_.clear();
  pending_.shrink_to_fit();
}

uint64_t BpeModel::lookup(int32_t left, int32_t right) const {
  const uint64_t key = key_of(left, right);
  const size_t mask = slots_.size() - 1;
  for (size_t i = (key * kGolden) >> shift_;; i = (i + 1) & mask) {
    const MergeSlot& slot = slots_[i];
    if (slot.key == key) return (uint64_t{slot.rank} << 32) | static_cast<uint32_t>(slot.merged);
    if (slot.key == kEmptyKey) return kNoMerge;
  }
}

void BpeModel::load_symbols(std::string_view piece, BpeScratch& scratch) const {
  scratch.symbols.clear();
  for (char ch : piece) {
    const int32_t id = byte_token_[static_cast<uint8_t>(ch)];
    if (id >= 0) scratch.symbols.push_back(id);
  }
}

void BpeModel::encode_symbols_by_scan(BpeScratch& scratch, std::vector<int32_t>& out) const {
  std::vector<int32_t>& sym = scratch.symbols;
  std::vector<uint64_t>& pairs = scratch.pairs;
  size_t count = sym.size();
  if (count > 1) {
    pairs.resize(count - 1);
    for (size_t i = 0; i + 1 < count; ++i) pairs[i] = lookup(sym[i], sym[i + 1]);
    while (count > 1) {
      // The lowest rank, leftmost among equals: the rank is the high word,
      // so comparing whole entries orders by rank first.
      size_t best = 0;
      for (size_t i = 1; i + 1 < count; ++i)
        if ((pairs[i] >> 32) < (pairs[best] >> 32)) best = i;
      if (pairs[best] == kNoMerge) break;
      sym[best] = static_cast<int32_t>(pairs[best] & 0xFFFFFFFFu);
      std::copy(sym.begin() + static_cast<std::ptrdiff_t>(best) + 2, sym.begin() + static_cast<std::ptrdiff_t>(count),
                sym.begin() + static_cast<std::ptrdiff_t>(best) + 1);
      std::copy(pairs.begin() + static_cast<std::ptrdiff_t>(best) + 1,
                pairs.begin() + static_cast<std::ptrdiff_t>(count) - 1,
                pairs.begin() + static_cast<std::ptrdiff_t>(best));
      --count;
      if (best > 0) pairs[best - 1] = lookup(sym[best - 1], sym[best]);
      if (best + 1 < count) pairs[best] = lookup(sym[best], sym[best + 1]);
    }
  }
  out.insert(out.end(), sym.begin(), sym.begin() + static_cast<std::ptrdiff_t>(count));
}

void BpeModel::encode_symbols_with_heap(BpeScratch& scratch, std::vector<int32_t>& out) const {
  std::vector<int32_t>& sym = scratch.symbols;
  const size_t count = sym.size();
  if (count < 2) {
    out.insert(out.end(), sym.begin(), sym.end());
    return;
  }
  // prev/next: the linked list of live symbols; a merged-away symbol gets
  // prev = -2.
  scratch.prev.resize(count);
  scratch.next.resize(count);
  for (size_t i = 0; i < count; ++i) {
    scratch.prev[i] = static_cast<int32_t>(i) - 1;
    scratch.next[i] = i + 1 < count ? static_cast<int32_t>(i) + 1 : -1;
  }
  auto later = [](const BpeScratch::HeapEntry& a, const BpeScratch::HeapEntry& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;  // min-heap on (rank, pos)
  };
  auto& heap = scratch.heap;
  heap.clear();
  auto push = [&](size_t pos) {
    const uint64_t m = lookup(sym[pos], sym[static_cast<size_t>(scratch.next[pos])]);
    if (m == kNoMerge) return;
    heap.push_back({static_cast<uint32_t>(m >> 32), static_cast<uint32_t>(pos), static_cast<int32_t>(m & 0xFFFFFFFFu)});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (size_t i = 0; i + 1 < count; ++i) push(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const BpeScratch::HeapEntry top = heap.back();
    heap.pop_back();
    const size_t pos = top.pos;
    if (scratch.prev[pos] == -2 || scratch.next[pos] < 0) continue;
    const auto right = static_cast<size_t>(scratch.next[pos]);
    // A stale entry: the pair at `pos` changed since it was pushed.
    const uint64_t m = lookup(sym[pos], sym[right]);
    if (m == kNoMerge || static_cast<int32_t>(m & 0xFFFFFFFFu) != top.merged) continue;
    sym[pos] = top.merged;
    scratch.next[pos] = scratch.next[right];
    if (scratch.next[right] >= 0) scratch.prev[static_cast<size_t>(scratch.next[right])] = static_cast<int32_t>(pos);
    scratch.prev[right] = -2;
    if (scratch.prev[pos] >= 0) push(static_cast<size_t>(scratch.prev[pos]));
    if (scratch.next[pos] >= 0) push(pos);
  }
  for (int32_t i = 0; i >= 0; i = scratch.next[static_cast<size_t>(i)]) out.push_back(sym[static_cast<size_t>(i)]);
}

void BpeModel::encode_piece(std::string_view piece, BpeScratch& scratch, std::vector<int32_t>& out) const {
  if (piece.size() == 1) {
    const int32_t id = byte_token_[static_cast<uint8_t>(piece[0])];
    if (id >= 0) out.push_back(id);
    return;
  }
  const bool cacheable = piece.size() <= PieceCache::kMaxPieceBytes;
  uint64_t hash = 0;
  if (cacheable) {
    hash = PieceCache::hash(piece);
    uint32_t count = 0;
    if (const int32_t* ids = scratch.cache.find(piece, hash, count)) {
      out.insert(out.end(), ids, ids + count);
      return;
    }
  }
  const size_t start = out.size();
  load_symbols(piece, scratch);
  if (scratch.symbols.size() >= kHeapFromSymbols) encode_symbols_with_heap(scratch, out);
  else encode_symbols_by_scan(scratch, out);
  if (cacheable)
    scratch.cache.insert(piece, hash, out.data() + start, static_cast<uint32_t>(out.size() - start));
}

std::vector<int32_t> BpeModel::encode_piece_reference(std::string_view piece) const {
  std::vector<int32_t> sym;
  for (char ch : piece)
    if (byte_token_[static_cast<uint8_t>(ch)] >= 0) sym.push_back(byte_token_[static_cast<uint8_t>(ch)]);
  for (;;) {
    size_t best = sym.size();
    uint64_t best_merge = kNoMerge;
    for (size_t i = 0; i + 1 < sym.size(); ++i) {
      const uint64_t m = lookup(sym[i], sym[i + 1]);
      if (m != kNoMerge && (best_merge == kNoMerge || (m >> 32) < (best_merge >> 32))) {
        best = i;
        best_merge = m;
      }
    }
    if (best_merge == kNoMerge) return sym;
    sym[best] = static_cast<int32_t>(best_merge & 0xFFFFFFFFu);
    sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
}

}  // namespace beluga
