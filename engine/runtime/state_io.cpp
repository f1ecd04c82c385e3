#include "engine/runtime/state_io.h"

#include <bit>
#include <cstring>

#include "engine/base/files.h"
#include "engine/base/mapped_file.h"

namespace beluga {
namespace {

static_assert(std::endian::native == std::endian::little, "state files assume a little-endian host");

constexpr char kMagic[8] = {'B', 'E', 'L', 'U', 'G', 'A', 'K', 'V'};
constexpr size_t kHeaderBytes = 32;

uint64_t fnv1a(std::span<const uint8_t> bytes, uint64_t h = 0xCBF29CE484222325ull) {
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001B3ull;
  return h;
}

class Writer {
 public:
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void floats(const std::vector<float>& v) {
    u64(v.size());
    raw(v.data(), v.size() * 4);
  }
  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
  }
  std::vector<uint8_t> bytes;
};

class Reader {
 public:
  Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  bool u64(uint64_t& v) { return raw(&v, 8); }
  bool floats(std::vector<float>& v, uint64_t max_count) {
    uint64_t n = 0;
    if (!u64(n) || n > max_count || n * 4 > bytes_.size() - offset_) return false;
    v.resize(static_cast<size_t>(n));
    return raw(v.data(), static_cast<size_t>(n) * 4);
  }
  bool raw(void* p, size_t n) {
    if (n > bytes_.size() - offset_) return false;
    if (n > 0) std::memcpy(p, bytes_.data() + offset_, n);  // an empty vector's data() may be null
    offset_ += n;
    return true;
  }
  bool done() const { return offset_ == bytes_.size(); }

 private:
  std::span<const uint8_t> bytes_;
  size_t offset_ = 0;
};

void write_compressor(Writer& w, const CompressorState& c) {
  w.u64(static_cast<uint64_t>(c.ratio));
  w.u64(static_cast<uint64_t>(c.head_dim));
  w.floats(c.kv);
  w.floats(c.score);
  w.u64(static_cast<uint64_t>(c.entry_count()));
  w.floats(c.entries);
}

// Reads a compressor and checks it has the layout `expected` (a fresh state
// of this block) has.
bool read_compressor(Reader& r, CompressorState& c, const CompressorState& expected) {
  uint64_t ratio = 0, head_dim = 0, entries = 0;
  if (!r.u64(ratio) || !r.u64(head_dim)) return false;
  if (ratio != static_cast<uint64_t>(expected.ratio) || head_dim != static_cast<uint64_t>(expected.head_dim)) return false;
  c = expected;
  if (!r.floats(c.kv, expected.kv.size()) || c.kv.size() != expected.kv.size()) return false;
  if (!r.floats(c.score, expected.score.size()) || c.score.size() != expected.score.size()) return false;
  if (!r.u64(entries)) return false;
  if (!r.floats(c.entries, uint64_t{1} << 40) || c.entries.size() != entries * head_dim) return false;
  return true;
}

}  // namespace

uint64_t state_fingerprint(const ModelConfig& c) {
  Writer w;
  for (int64_t v : {c.num_hidden_layers, c.num_nextn_predict_layers, c.hidden_size, c.head_dim, c.qk_rope_head_dim,
                    c.sliding_window, c.index_head_dim, c.vocab_size, c.hc_mult})
    w.u64(static_cast<uint64_t>(v));
  for (int64_t r : c.compress_ratios) w.u64(static_cast<uint64_t>(r));
  return fnv1a(w.bytes);
}

std::vector<uint8_t> serialize_state(const ModelConfig& config, const SavedState& state) {
  Writer payload;
  payload.u64(state.tokens.size());
  payload.raw(state.tokens.data(), state.tokens.size() * 4);
  payload.u64(state.stacks.size());
  for (const StackState& s : state.stacks) {
    payload.u64(static_cast<uint64_t>(s.position));
    payload.u64(s.blocks.size());
    for (const BlockState& b : s.blocks) {
      payload.floats(b.window);
      write_compressor(payload, b.compressor);
      write_compressor(payload, b.indexer);
    }
  }
  payload.floats(state.last_logits);
  payload.floats(state.last_hidden);
  Writer file;
  file.raw(kMagic, 8);
  file.u32(kStateFormatVersion);
  file.u32(0);
  file.u64(state_fingerprint(config));
  file.u64(payload.bytes.size());
  file.raw(payload.bytes.data(), payload.bytes.size());
  file.u64(fnv1a(file.bytes));
  return std::move(file.bytes);
}

Result<SavedState> deserialize_state(const ModelConfig& config, std::span<const uint8_t> bytes, const std::string& label) {
  auto fail = [&](const std::string& why) { return make_error(label + ": " + why); };
  if (bytes.size() < kHeaderBytes + 8) return fail("too short to be a beluga state file");
  if (std::memcmp(bytes.data(), kMagic, 8) != 0) return fail("not a beluga state file (bad magic)");
  uint32_t version = 0;
  std::memcpy(&version, bytes.data() + 8, 4);
  if (version != kStateFormatVersion)
    return fail("state format version " + std::to_string(version) + " is not supported (this build reads " +
                std::to_string(kStateFormatVersion) + ")");
  uint64_t fingerprint = 0, payload_bytes = 0, checksum = 0;
  std::memcpy(&fingerprint, bytes.data() + 16, 8);
  std::memcpy(&payload_bytes, bytes.data() + 24, 8);
  if (payload_bytes != bytes.size() - kHeaderBytes - 8) return fail("truncated or padded (payload length mismatch)");
  std::memcpy(&checksum, bytes.data() + bytes.size() - 8, 8);
  if (checksum != fnv1a(bytes.first(bytes.size() - 8))) return fail("checksum mismatch: the file is corrupt");
  if (fingerprint != state_fingerprint(config)) return fail("the state belongs to a model of other shapes");

  Reader r(bytes.subspan(kHeaderBytes, static_cast<size_t>(payload_bytes)));
  SavedState state;
  uint64_t token_count = 0, stacks = 0;
  if (!r.u64(token_count) || token_count > payload_bytes / 4) return fail("bad token count");
  state.tokens.resize(static_cast<size_t>(token_count));
  if (!r.raw(state.tokens.data(), state.tokens.size() * 4)) return fail("truncated tokens");
  for (int32_t t : state.tokens)
    if (t < 0 || t >= config.vocab_size) return fail("token id " + std::to_string(t) + " outside the vocabulary");
  if (!r.u64(stacks) || stacks < 1 || stacks > static_cast<uint64_t>(1 + config.num_nextn_predict_layers))
    return fail("bad stack count");
  for (uint64_t i = 0; i < stacks; ++i) {
    const bool main = i == 0;
    StackState expected = main ? make_stack_state(config, 0, config.num_hidden_layers)
                               : make_stack_state(config, config.num_hidden_layers + static_cast<int64_t>(i) - 1, 1);
    uint64_t position = 0, blocks = 0;
    if (!r.u64(position) || !r.u64(blocks) || blocks != expected.blocks.size()) return fail("bad block count");
    StackState s = expected;
    s.position = static_cast<int64_t>(position);
    for (size_t b = 0; b < s.blocks.size(); ++b) {
      BlockState& block = s.blocks[b];
      if (!r.floats(block.window, expected.blocks[b].window.size()) || block.window.size() != expected.blocks[b].window.size())
        return fail("bad window of block " + std::to_string(b));
      if (!read_compressor(r, block.compressor, expected.blocks[b].compressor) ||
          !read_compressor(r, block.indexer, expected.blocks[b].indexer))
        return fail("bad compressor state of block " + std::to_string(b));
      const int64_t ratio = config.compress_ratios[static_cast<size_t>(main ? static_cast<int64_t>(b) : config.num_hidden_layers + static_cast<int64_t>(i) - 1)];
      if (ratio > 0 && block.compressor.entry_count() != s.position / ratio)
        return fail("compressed entries of block " + std::to_string(b) + " do not match the position");
    }
    state.stacks.push_back(std::move(s));
  }
  const uint64_t width = static_cast<uint64_t>(config.hc_mult * config.hidden_size);
  if (!r.floats(state.last_logits, static_cast<uint64_t>(config.vocab_size)) ||
      !r.floats(state.last_hidden, width))
    return fail("bad last-token logits or streams");
  const bool has_last = !state.tokens.empty();
  if (state.last_logits.size() != (has_last ? static_cast<size_t>(config.vocab_size) : 0))
    return fail("last-token logits do not match the transcript");
  if (!state.last_hidden.empty() && state.last_hidden.size() != width)
    return fail("last-token streams have the wrong size");
  if (!r.done()) return fail("trailing bytes in the payload");
  if (state.stacks[0].position != static_cast<int64_t>(state.tokens.size()))
    return fail("the main state's position does not match its token count");
  return state;
}

Status save_state_file(const ModelConfig& config, const SavedState& state, const std::string& path) {
  const std::vector<uint8_t> bytes = serialize_state(config, state);
  return write_file_atomically(path, [&](const AppendBytes& append) { return append(bytes); });
}

Result<SavedState> load_state_file(const ModelConfig& config, const std::string& path) {
  auto file = MappedFile::open(path);
  if (!file) return file.error();
  return deserialize_state(config, file->bytes(), path);
}

StackMark mark_stack(const StackState& state) {
  StackMark mark;
  mark.position = state.position;
  for (const BlockState& b : state.blocks)
    mark.blocks.push_back({b.window, b.compressor.kv, b.compressor.score, b.indexer.kv, b.indexer.score,
                           b.compressor.entry_count(), b.indexer.entry_count()});
  return mark;
}

void rollback_stack(StackState& state, const StackMark& mark) {
  state.position = mark.position;
  for (size_t i = 0; i < state.blocks.size(); ++i) {
    BlockState& b = state.blocks[i];
    const StackMark::Block& m = mark.blocks[i];
    b.window = m.window;
    b.compressor.kv = m.compressor_kv;
    b.compressor.score = m.compressor_score;
    b.compressor.entries.resize(static_cast<size_t>(m.compressor_entries * b.compressor.head_dim));
    b.indexer.kv = m.indexer_kv;
    b.indexer.score = m.indexer_score;
    b.indexer.entries.resize(static_cast<size_t>(m.indexer_entries * b.indexer.head_dim));
  }
}

}  // namespace beluga
