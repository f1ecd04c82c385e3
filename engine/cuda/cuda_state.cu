// Sequence state on the GPU, its growth, and its crossing to and from host
// memory in the CPU backend's StackState layout; device discovery.
#include <limits>

#include "engine/cuda/cuda_internal.cuh"

namespace beluga::cuda {
namespace {

void reset_compressor(DeviceCompressorState& s, int64_t ratio, int64_t head_dim, cudaStream_t stream) {
  s.ratio = ratio;
  s.head_dim = head_dim;
  s.overlap = ratio == 4;
  const int64_t coff = s.overlap ? 2 : 1;
  const size_t size = static_cast<size_t>(coff * ratio * coff * head_dim);
  const std::vector<float> zeros(size, 0.0f), empty(size, -std::numeric_limits<float>::infinity());
  s.kv.upload(std::span<const float>(zeros), stream);
  s.score.upload(std::span<const float>(empty), stream);
}

void download_compressor(const DeviceCompressorState& d, int64_t position, CompressorState& h, cudaStream_t stream) {
  if (d.ratio == 0) return;
  h.reset(d.ratio, d.head_dim);
  h.kv = d.kv.download(h.kv.size(), stream);
  h.score = d.score.download(h.score.size(), stream);
  h.entries = d.entries.download(static_cast<size_t>(position / d.ratio * d.head_dim), stream);
}

bool same_shape(const DeviceCompressorState& d, const CompressorState& h, int64_t position) {
  if (d.ratio != h.ratio) return false;
  if (d.ratio == 0) return true;
  return d.head_dim == h.head_dim && h.kv.size() == d.kv.size() && h.score.size() == d.score.size() &&
         h.entry_count() == position / d.ratio;
}

}  // namespace

std::unique_ptr<CudaState::Impl> make_device_state(const ModelConfig& c, int64_t first, int64_t count,
                                                   const void* owner, cudaStream_t stream) {
  auto s = std::make_unique<CudaState::Impl>();
  s->owner = owner;
  s->first_block = first;
  const std::vector<float> window(static_cast<size_t>(c.sliding_window * c.head_dim), 0.0f);
  for (int64_t b = first; b < first + count; ++b) {
    DeviceBlockState block;
    block.window.upload(std::span<const float>(window), stream);
    const int64_t ratio = c.compress_ratios[static_cast<size_t>(b)];
    if (ratio > 0) reset_compressor(block.compressor, ratio, c.head_dim, stream);
    if (ratio == 4) reset_compressor(block.indexer, 4, c.index_head_dim, stream);
    s->blocks.push_back(std::move(block));
  }
  check(cudaStreamSynchronize(stream), "new state");
  return s;
}

void reserve_entries(CudaState::Impl& state, int64_t positions, cudaStream_t stream) {
  for (DeviceBlockState& b : state.blocks)
    for (DeviceCompressorState* s : {&b.compressor, &b.indexer}) {
      if (s->ratio == 0) continue;
      const size_t needed = static_cast<size_t>((positions / s->ratio) * s->head_dim);
      if (needed > s->entries.size()) s->entries.grow_keeping(std::max(needed, 2 * s->entries.size()), stream);
    }
}

StackState download_state(const CudaState::Impl& d, cudaStream_t stream) {
  StackState h;
  h.position = d.position;
  for (const DeviceBlockState& b : d.blocks) {
    BlockState block;
    block.window = b.window.download(b.window.size(), stream);
    download_compressor(b.compressor, d.position, block.compressor, stream);
    download_compressor(b.indexer, d.position, block.indexer, stream);
    h.blocks.push_back(std::move(block));
  }
  return h;
}

Status upload_state(const StackState& h, CudaState::Impl& d, cudaStream_t stream) {
  if (h.blocks.size() != d.blocks.size()) return make_error("state has " + std::to_string(h.blocks.size()) +
                                                            " blocks; this stack has " + std::to_string(d.blocks.size()));
  for (size_t i = 0; i < h.blocks.size(); ++i) {
    const BlockState& hb = h.blocks[i];
    const DeviceBlockState& db = d.blocks[i];
    if (hb.window.size() != db.window.size() || !same_shape(db.compressor, hb.compressor, h.position) ||
        !same_shape(db.indexer, hb.indexer, h.position))
      return make_error("state block " + std::to_string(i) + " does not match this model's shapes");
  }
  d.position = h.position;
  reserve_entries(d, h.position, stream);
  for (size_t i = 0; i < h.blocks.size(); ++i) {
    const BlockState& hb = h.blocks[i];
    DeviceBlockState& db = d.blocks[i];
    db.window.upload(std::span<const float>(hb.window), stream);
    for (auto [hc, dc] : {std::pair{&hb.compressor, &db.compressor}, std::pair{&hb.indexer, &db.indexer}}) {
      if (dc->ratio == 0) continue;
      dc->kv.upload(std::span<const float>(hc->kv), stream);
      dc->score.upload(std::span<const float>(hc->score), stream);
      if (!hc->entries.empty())
        check(cudaMemcpyAsync(dc->entries.data(), hc->entries.data(), hc->entries.size() * sizeof(float),
                              cudaMemcpyHostToDevice, stream),
              "state upload");
    }
  }
  check(cudaStreamSynchronize(stream), "state upload");
  return {};
}

Status device_available() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess)
    return make_error(std::string("no usable CUDA device: ") + cudaGetErrorString(status));
  if (count == 0) return make_error("no CUDA device found");
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return make_error("cannot read the CUDA device's properties");
  if (prop.major < 8)
    return make_error(std::string("CUDA device ") + prop.name + " (sm_" + std::to_string(prop.major) +
                      std::to_string(prop.minor) + ") is older than sm_80, the oldest this build supports");
  return {};
}

std::string device_description() {
  if (Status s = device_available(); !s) return s.message();
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "device properties");
  char memory[32];
  std::snprintf(memory, sizeof memory, "%.1f GiB", static_cast<double>(prop.totalGlobalMem) / (1u << 30));
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " + memory +
         ")";
}

CudaState::CudaState(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CudaState::~CudaState() = default;
int64_t CudaState::position() const { return impl_->position; }

}  // namespace beluga::cuda
