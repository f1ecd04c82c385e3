#include "engine/cpu/linear.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/cpu/linear_kernels.h"
#include "engine/cpu/linear_pairs.h"
#include "engine/cpu/quant_sim.h"
#include "engine/cpu/thread_pool.h"
#include "engine/model/dtype.h"

namespace beluga::cpu {
namespace {

// Decoding tables: every e4m3 byte and every e2m1 nibble, as float. Exact
// (built from the scalar conversions in dtype.h, which tests pin).
struct DecodeTables {
  float fp8[256];
  float fp4[16];
  DecodeTables() {
    for (int i = 0; i < 256; ++i) fp8[i] = fp8_e4m3_to_f32(static_cast<uint8_t>(i));
    for (int i = 0; i < 16; ++i) fp4[i] = fp4_e2m1_to_f32(static_cast<uint8_t>(i));
  }
};
const DecodeTables& tables() {
  static const DecodeTables t;
  return t;
}

}  // namespace

void dequantize_rows(const LinearWeight& w, int64_t row_begin, int64_t row_end, std::span<float> out) {
  const int64_t in = w.in;
  for (int64_t r = row_begin; r < row_end; ++r) {
    float* dst = out.data() + (r - row_begin) * in;
    switch (w.storage) {
      case WeightStorage::kBF16:
        if (w.dtype == DType::F32) {
          std::memcpy(dst, w.weight.data() + r * in * 4, static_cast<size_t>(in) * 4);
        } else {
          const uint8_t* src = w.weight.data() + r * in * 2;
          for (int64_t c = 0; c < in; ++c) dst[c] = bf16_to_f32(static_cast<uint16_t>(src[2 * c] | (src[2 * c + 1] << 8)));
        }
        break;
      case WeightStorage::kFP8: {
        const int64_t scale_cols = (in + w.fp8_block.cols - 1) / w.fp8_block.cols;
        const uint8_t* scales = w.scale.data() + (r / w.fp8_block.rows) * scale_cols;
        const uint8_t* src = w.weight.data() + r * in;
        const float* decode = tables().fp8;
        for (int64_t c0 = 0; c0 < in; c0 += w.fp8_block.cols) {
          const float scale = e8m0_to_f32(scales[c0 / w.fp8_block.cols]);
          const int64_t c1 = std::min(in, c0 + w.fp8_block.cols);
          for (int64_t c = c0; c < c1; ++c) dst[c] = decode[src[c]] * scale;
        }
        break;
      }
      case WeightStorage::kFP4: {
        const int64_t scale_cols = (in + 31) / 32;
        const uint8_t* scales = w.scale.data() + r * scale_cols;
        const uint8_t* src = w.weight.data() + r * (in / 2);
        const float* decode = tables().fp4;
        for (int64_t c0 = 0; c0 < in; c0 += 32) {
          const float scale = e8m0_to_f32(scales[c0 / 32]);
          const int64_t c1 = std::min(in, c0 + 32);
          for (int64_t c = c0; c < c1; c += 2) {  // in is even: pairs never straddle a block
            const uint8_t byte = src[c / 2];
            dst[c] = decode[byte & 0xF] * scale;
            dst[c + 1] = decode[byte >> 4] * scale;
          }
        }
        break;
      }
    }
  }
}

namespace {

void linear_reference(const LinearWeight& w, int64_t row_begin, int64_t out, std::span<const float> input,
                      int64_t rows, std::span<float> y) {
  const int64_t in = w.in;
  // Parallel over output rows: each task dequantises a few weight rows once
  // and applies them to every input row.
  constexpr int64_t kRowsPerStep = 16;
  parallel_for(out, 64, [&](int64_t begin, int64_t end) {
    std::vector<float> weights(static_cast<size_t>(kRowsPerStep * in));
    for (int64_t o0 = begin; o0 < end; o0 += kRowsPerStep) {
      const int64_t o1 = std::min(end, o0 + kRowsPerStep);
      dequantize_rows(w, row_begin + o0, row_begin + o1, weights);
      for (int64_t r = 0; r < rows; ++r) {
        const float* xr = input.data() + r * in;
        for (int64_t o = o0; o < o1; ++o) {
          const float* wr = weights.data() + (o - o0) * in;
          float sum = 0.0f;
          for (int64_t c = 0; c < in; ++c) sum += wr[c] * xr[c];
          y[static_cast<size_t>(r * out + o)] = sum;
        }
      }
    }
  });
}

kernels::LinearArgs kernel_args(const LinearWeight& w, const float* x, int64_t rows, float* y) {
  kernels::LinearArgs a;
  a.storage = w.storage;
  a.f32 = w.storage == WeightStorage::kBF16 && w.dtype == DType::F32;
  a.in = w.in;
  a.out = w.out;
  a.weight = w.weight.data();
  a.scale = w.scale.data();
  switch (w.storage) {
    case WeightStorage::kFP8:
      a.block_rows = w.fp8_block.rows;
      a.block_cols = w.fp8_block.cols;
      break;
    case WeightStorage::kFP4:
      a.block_cols = 32;
      break;
    case WeightStorage::kBF16:
      a.block_cols = 128;
      break;
  }
  a.scale_cols = (w.in + a.block_cols - 1) / a.block_cols;
  a.x = x;
  a.rows = rows;
  a.y = y;
  return a;
}

bool simd_shape(const kernels::LinearArgs& a) { return a.block_cols % 16 == 0 && a.in % a.block_cols == 0; }

// Which kernel runs, by summation order:
//   pairs (linear_pairs.h): FP8/FP4/BF16 weights on CPUs with AVX-512 BF16
//     and VBMI, or the same order in plain C++;
//   lanes (linear.h): everything else, with AVX-512, AVX2 or plain C++.
// kFast takes the pairs order where this CPU runs it in SIMD, so kPortable
// (kFast's order without SIMD) does too; kAvx2 and kPortableLanes always
// take the lanes order.
enum class Path { kPairsSimd, kPairsPortable, kAvx512, kAvx2, kPortable };

Path choose_path(const kernels::LinearArgs& a, LinearKernel kernel) {
  const bool pairs = kernels::pairs_shape(a.storage, a.f32, a.in, a.block_cols) && kernels::avx512_bf16_available();
  const bool simd = kernels::avx2_available() && simd_shape(a);
  switch (kernel) {
    case LinearKernel::kFast:
      if (pairs) return Path::kPairsSimd;
      if (simd) return kernels::avx512_available() ? Path::kAvx512 : Path::kAvx2;
      return Path::kPortable;
    case LinearKernel::kPortable: return pairs ? Path::kPairsPortable : Path::kPortable;
    case LinearKernel::kAvx2: return simd ? Path::kAvx2 : Path::kPortable;
    case LinearKernel::kPortableLanes:
    case LinearKernel::kReference: break;
  }
  return Path::kPortable;
}

}  // namespace

bool linear_uses_simd(const LinearWeight& w) {
  return kernels::avx2_available() && simd_shape(kernel_args(w, nullptr, 0, nullptr));
}

bool linear_uses_pairs(const LinearWeight& w) {
  return choose_path(kernel_args(w, nullptr, 0, nullptr), LinearKernel::kFast) == Path::kPairsSimd;
}

void linear(const LinearWeight& w, std::span<const float> x, int64_t rows, std::span<float> y, ActivationQuant mode,
            LinearKernel kernel) {
  linear_row_range(w, 0, w.out, x, rows, y, mode, kernel);
}

void linear_row_range(const LinearWeight& w, int64_t row_begin, int64_t row_count, std::span<const float> x,
                      int64_t rows, std::span<float> y, ActivationQuant mode, LinearKernel kernel) {
  std::span<const float> input = x;
  // The calling thread's input buffers (FP8-rounded rows; the same arranged
  // for the pairs order), reused: no allocation per call once warm. Workers
  // only read them, within this call (no task of a linear calls linear, so a
  // thread helping with queued tasks never reassigns its own while another
  // reads them). After a call of many rows (prefill) they are freed again:
  // kept, they would hold a chunk's worth of memory for the thread's life
  // (engine/runtime/scratch.h does the same for the forward).
  struct InputScratch {
    std::vector<float> quantised, arranged_f32;
    std::vector<uint16_t> arranged;
  };
  thread_local InputScratch scratch;
  constexpr int64_t kKeptRows = 16;
  struct Release {
    int64_t rows;
    InputScratch& scratch;
    ~Release() {
      if (rows > kKeptRows) scratch = InputScratch();
    }
  } release{rows, scratch};
  if (mode == ActivationQuant::kAsWeight && w.storage != WeightStorage::kBF16) {
    scratch.quantised.assign(x.begin(), x.begin() + rows * w.in);
    for (int64_t r = 0; r < rows; ++r)
      fp8_quant_dequant(std::span<float>(scratch.quantised).subspan(r * w.in, w.in), 128);
    input = scratch.quantised;
  }
  if (kernel == LinearKernel::kReference) return linear_reference(w, row_begin, row_count, input, rows, y);

  kernels::LinearArgs base = kernel_args(w, input.data(), rows, y.data());
  base.row0 = row_begin;
  base.out = row_count;
  const Path path = choose_path(base, kernel);
  if (path == Path::kPairsSimd) {
    // A few rows of bf16 values (e4m3-rounded inputs): vdpbf16ps, weights
    // decoded once per tile in registers; more rows: float32 FMAs.
    constexpr int64_t kDotRows = 4;
    if (rows <= kDotRows && mode == ActivationQuant::kAsWeight && w.storage != WeightStorage::kBF16) {
      scratch.arranged.resize(std::max(scratch.arranged.size(), static_cast<size_t>(rows * w.in)));
      kernels::arrange_pairs_inputs(w.storage, input.data(), rows, w.in, scratch.arranged.data());
      base.xb = scratch.arranged.data();
    } else {
      scratch.arranged_f32.resize(std::max(scratch.arranged_f32.size(), static_cast<size_t>(rows * w.in)));
      kernels::arrange_pairs_inputs_f32(w.storage, input.data(), rows, w.in, scratch.arranged_f32.data());
      base.xf = scratch.arranged_f32.data();
    }
  }
  struct Call {
    kernels::LinearArgs base;
    Path path;
  } call{base, path};
  // One reference captured: the closure fits std::function's local storage,
  // so the call allocates nothing once the scratch buffers are warm.
  parallel_for(row_count, 64, [&call](int64_t begin, int64_t end) {
    // Scratch: on the stack for a few input rows (decode), else the
    // thread's own buffers, grown and never shrunk.
    constexpr int64_t kStackRows = 16, kStackBlockCols = 256;
    float acc_stack[kStackRows * kernels::kTileRows * kernels::kLanes];
    float wbuf_stack[kernels::kTileRows * kStackBlockCols];
    const kernels::LinearArgs& base = call.base;
    kernels::LinearArgs a = base;
    if (base.rows <= kStackRows && base.block_cols <= kStackBlockCols) {
      a.acc = acc_stack;
      a.wbuf = wbuf_stack;
    } else {
      thread_local std::vector<float> acc, wbuf;
      acc.resize(std::max(acc.size(), static_cast<size_t>(base.rows * kernels::kTileRows * kernels::kLanes)));
      wbuf.resize(std::max(wbuf.size(), static_cast<size_t>(kernels::kTileRows * base.block_cols)));
      a.acc = acc.data();
      a.wbuf = wbuf.data();
    }
    switch (call.path) {
      case Path::kPairsSimd:
        return kernels::linear_rows_avx512_bf16(a, begin, end);
      case Path::kPairsPortable: return kernels::linear_rows_pairs_portable(a, begin, end);
      case Path::kAvx512: return kernels::linear_rows_avx512(a, begin, end);
      case Path::kAvx2: return kernels::linear_rows_avx2(a, begin, end);
      case Path::kPortable: return kernels::linear_rows_portable(a, begin, end);
    }
  });
}

}  // namespace beluga::cpu
