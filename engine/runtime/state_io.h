// Saving and restoring a sequence's state (the KV cache), in memory and on
// disk, and undo marks for speculative decoding.
//
// On-disk format (all integers little-endian, floats IEEE-754 binary32 LE):
//
//   OFFSET  SIZE  MEANING
//   0       8     magic "BELUGAKV"
//   8       4     format version (1); other versions are refused
//   12      4     reserved, 0
//   16      8     model fingerprint: FNV-1a 64 over the shapes that define
//                 the state layout (see state_fingerprint); a mismatch means
//                 the file belongs to another model and is refused
//   24      8     payload length P in bytes
//   32      P     payload: position (u64), token count (u64) + tokens (i32),
//                 stack count (u64), then per stack: position (u64), block
//                 count (u64), per block: window floats, then compressor and
//                 indexer as (ratio u64, head_dim u64, kv floats, score
//                 floats, entry count u64, entries floats); every float array
//                 is preceded by its length (u64); last, the logits and the
//                 final residual streams of the last token (float arrays,
//                 empty before the first token)
//   32+P    8     FNV-1a 64 checksum of bytes [0, 32+P)
//
// A file that is truncated, has a bad checksum or inconsistent lengths is an
// error, never a crash. Files are written atomically (temp + rename).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/config.h"
#include "engine/runtime/state.h"

namespace beluga {

inline constexpr uint32_t kStateFormatVersion = 1;

uint64_t state_fingerprint(const ModelConfig& config);

// What a session persists: its token transcript and its stacks' states
// (the main model, then MTP blocks).
struct SavedState {
  std::vector<int32_t> tokens;
  std::vector<StackState> stacks;
  std::vector<float> last_logits;  // [vocab] after the last token
  std::vector<float> last_hidden;  // [hc*dim] final streams of the last token
};

std::vector<uint8_t> serialize_state(const ModelConfig& config, const SavedState& state);
Result<SavedState> deserialize_state(const ModelConfig& config, std::span<const uint8_t> bytes, const std::string& label);

Status save_state_file(const ModelConfig& config, const SavedState& state, const std::string& path);
Result<SavedState> load_state_file(const ModelConfig& config, const std::string& path);

// An undo mark: enough of a stack to roll back the tokens fed after it
// (windows and compressor pooling states are copied; finished compressed
// entries are only counted, since later tokens append to them).
struct StackMark {
  int64_t position = 0;
  struct Block {
    std::vector<float> window;
    std::vector<float> compressor_kv, compressor_score, indexer_kv, indexer_score;
    int64_t compressor_entries = 0, indexer_entries = 0;
  };
  std::vector<Block> blocks;
};
StackMark mark_stack(const StackState& state);
void rollback_stack(StackState& state, const StackMark& mark);

}  // namespace beluga
