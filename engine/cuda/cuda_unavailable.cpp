// The CUDA backend's entry points in a build without nvcc: every one says
// so, so callers (the CLI's --device cuda, tests, benchmarks) compile and
// report the same way in every build.
#include "engine/cuda/cuda_model.h"
#include "engine/cuda/kernel_check.h"

namespace beluga::cuda {
namespace {

Error not_built() {
  return make_error("this beluga was built without the CUDA backend (nvcc was not found at build time; "
                    "install the CUDA toolkit and rebuild to use --device cuda)");
}

}  // namespace

Status device_available() { return not_built(); }
std::string device_description() { return not_built().message; }

struct CudaState::Impl {};
CudaState::CudaState(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CudaState::~CudaState() = default;
int64_t CudaState::position() const { return 0; }

struct CudaModel::Impl {
  ModelConfig config;
};
CudaModel::CudaModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CudaModel::~CudaModel() = default;
const ModelConfig& CudaModel::config() const { return impl_->config; }
int64_t CudaModel::weight_bytes() const { return 0; }
void CudaModel::set_block_timing(bool) {}
std::vector<float> CudaModel::block_milliseconds() const { return {}; }
Result<std::unique_ptr<CudaModel>> CudaModel::load(const ModelWeights&) { return not_built(); }
Result<std::unique_ptr<CudaState>> CudaModel::new_state() { return not_built(); }
Result<std::unique_ptr<CudaState>> CudaModel::new_mtp_state(int64_t) { return not_built(); }
Result<std::vector<ChunkResult>> CudaModel::forward(std::span<const CudaChunk>, const ForwardOptions&) {
  return not_built();
}
Result<ChunkResult> CudaModel::forward_mtp(CudaState&, std::span<const float>, std::span<const int32_t>,
                                           const ForwardOptions&, int64_t) {
  return not_built();
}
Result<StackState> CudaModel::download(const CudaState&) { return not_built(); }
Status CudaModel::upload(const StackState&, CudaState&) { return not_built(); }

namespace kernel_check {
Result<std::vector<float>> linear(const LinearWeight&, std::span<const float>, int64_t, bool, int64_t) {
  return not_built();
}
Result<std::vector<float>> expert_linear(std::span<const LinearWeight>, std::span<const int32_t>,
                                         std::span<const float>, int64_t) {
  return not_built();
}
Result<std::vector<float>> quant_dequant(std::span<const float>, int64_t, int64_t, int64_t, bool) { return not_built(); }
Result<std::vector<float>> rms_norm(std::span<const float>, std::span<const float>, float, int64_t) {
  return not_built();
}
Result<std::vector<float>> hadamard(std::span<const float>, int64_t) { return not_built(); }
Result<std::vector<float>> rope(std::span<const float>, int64_t, int64_t, std::span<const int64_t>,
                                std::span<const float>, bool) {
  return not_built();
}
Result<HyperPre> hc_pre(const ModelConfig&, const HyperConnectionWeights&, std::span<const float>,
                        std::span<const float>, int64_t) {
  return not_built();
}
Result<std::vector<float>> hc_post(const ModelConfig&, std::span<const float>, std::span<const float>,
                                   std::span<const float>, int64_t) {
  return not_built();
}
Result<std::vector<float>> hc_head(const ModelConfig&, const HyperConnectionWeights&, std::span<const float>,
                                   std::span<const float>, int64_t) {
  return not_built();
}
Result<Routing> route(std::span<const float>, int64_t, int64_t, int, std::span<const float>, std::span<const int32_t>,
                      std::span<const int32_t>, float) {
  return not_built();
}
Result<std::vector<float>> swiglu(std::span<const float>, std::span<const float>, std::span<const float>, int64_t,
                                  float) {
  return not_built();
}
Result<std::vector<int32_t>> indexer_select(std::span<const float>, std::span<const float>, int64_t,
                                            std::span<const float>, int64_t, int64_t) {
  return not_built();
}
}  // namespace kernel_check

}  // namespace beluga::cuda
