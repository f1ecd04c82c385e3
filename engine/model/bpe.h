// Byte-level BPE: the ids of one pre-tokenized piece.
//
// Works on raw bytes. tokenizer.json spells tokens in GPT-2's byte-to-
// unicode alphabet ("Ġthe" for " the"); the loader translates every
// vocabulary entry and merge into ids once, so encoding never touches that
// alphabet. A piece starts as one symbol per byte (the id of that byte's
// one-character token); then, as in Hugging Face `tokenizers`
// (models/bpe/word.rs, Word::merge_all), the adjacent pair with the lowest
// merge rank is merged, the leftmost first among equal ranks, until no
// adjacent pair has a merge.
//
// Two implementations of that rule: a quadratic scan for short pieces (most
// of them; no heap, cache-friendly) and a binary heap with lazy invalidation
// over a linked list for long ones (HF's algorithm: a stale heap entry is
// skipped unless its pair still merges into the same token). Both give the
// same result; encode_piece_reference() keeps the obvious version as the
// test oracle.
//
// A per-caller cache maps recent pieces to their ids (source code repeats
// its words), bounded and cleared when full.
//
// Thread contract: BpeModel is const after finish(); share freely. A
// BpeScratch belongs to one caller at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace beluga {

// Recent pieces -> ids: open addressing over two arenas (key bytes, ids).
class PieceCache {
 public:
  static constexpr size_t kMaxPieceBytes = 128;  // longer pieces are not cached
  static constexpr size_t kMaxEntries = 1u << 16;

  // The cached ids of `piece` (nullptr when absent); `count` receives their number.
  const int32_t* find(std::string_view piece, uint64_t hash, uint32_t& count) const;
  void insert(std::string_view piece, uint64_t hash, const int32_t* ids, uint32_t count);
  void clear();
  size_t size() const { return used_; }

  static uint64_t hash(std::string_view piece);

 private:
  struct Slot {
    uint64_t hash = 0;  // 0: empty (hash() never returns 0)
    uint32_t key_offset = 0, key_size = 0;
    uint32_t ids_offset = 0, ids_size = 0;
  };
  void grow();

  std::vector<Slot> slots_;
  std::string keys_;
  std::vector<int32_t> ids_;
  size_t used_ = 0;
};

struct BpeScratch {
  // Short pieces: symbols and the rank/result of each adjacent pair.
  std::vector<int32_t> symbols;
  std::vector<uint64_t> pairs;  // (rank << 32) | merged id; kNoMerge when none
  // Long pieces: linked list + heap.
  std::vector<int32_t> prev, next;
  struct HeapEntry {
    uint32_t rank;
    uint32_t pos;
    int32_t merged;
  };
  std::vector<HeapEntry> heap;
  PieceCache cache;
};

class BpeModel {
 public:
  static constexpr uint64_t kNoMerge = ~uint64_t{0};

  // Building (the tokenizer loader): the id of each single-byte token (-1:
  // none; such bytes are dropped, as HF does without an unknown token), then
  // the merges in rank order, then finish().
  void set_byte_token(uint8_t byte, int32_t id) { byte_token_[byte] = id; }
  int32_t byte_token(uint8_t byte) const { return byte_token_[byte]; }
  // A pair listed twice keeps its first (lowest) rank.
  void add_merge(int32_t left, int32_t right, int32_t merged);
  void finish();
  size_t merge_count() const { return merge_count_; }

  // Appends the ids of `piece` to `out`.
  void encode_piece(std::string_view piece, BpeScratch& scratch, std::vector<int32_t>& out) const;

  // Test oracle: the merge rule spelled out with no cleverness at all.
  std::vector<int32_t> encode_piece_reference(std::string_view piece) const;

  // Pieces of this many symbols or more use the heap (exposed for tests).
  static constexpr size_t kHeapFromSymbols = 48;
  void encode_symbols_with_heap(BpeScratch& scratch, std::vector<int32_t>& out) const;
  void encode_symbols_by_scan(BpeScratch& scratch, std::vector<int32_t>& out) const;
  // Fills scratch.symbols with the byte tokens of `piece`.
  void load_symbols(std::string_view piece, BpeScratch& scratch) const;

 private:
  struct MergeSlot {
    uint64_t key = kEmptyKey;
    uint32_t rank = 0;
    int32_t merged = -1;
  };
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};
  static uint64_t key_of(int32_t left, int32_t right) {
    return (uint64_t{static_cast<uint32_t>(left)} << 32) | static_cast<uint32_t>(right);
  }
  // (rank << 32) | merged, or kNoMerge.
  uint64_t lookup(int32_t left, int32_t right) const;
  void insert_slot(const MergeSlot& slot);

  int32_t byte_token_[256] = {};
  std::vector<MergeSlot> pending_;  // merges before finish()
  std::vector<MergeSlot> slots_;
  uint32_t shift_ = 64;
  size_t merge_count_ = 0;
};

}  // namespace beluga
