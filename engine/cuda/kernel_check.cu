// kernel_check.h: each kernel run once on host data, for the CPU-twin tests.
#include "engine/cuda/kernel_check.h"

#include "engine/cuda/cuda_internal.cuh"

namespace beluga::cuda::kernel_check {
namespace {

template <typename T>
DeviceBuffer<T> up(std::span<const T> host) {
  return to_device(host);
}

// Runs `body` with device errors turned into a Result error.
template <typename F>
auto guarded(F&& body) -> decltype(body()) {
  if (Status s = device_available(); !s) return s.error();
  try {
    auto result = body();
    check(cudaDeviceSynchronize(), "kernel");
    return result;
  } catch (const CudaError& e) {
    return make_error(e.what());
  }
}

HyperWeights hyper_view(const ModelConfig& c, const DeviceBuffer<float>& fn, const DeviceBuffer<float>& base,
                        const DeviceBuffer<float>& scale) {
  return hyper_weights(c, fn.data(), base.data(), scale.data());
}

}  // namespace

Result<std::vector<float>> linear(const LinearWeight& w, std::span<const float> x, int64_t rows, bool plain,
                                  int64_t group_out) {
  return guarded([&]() -> Result<std::vector<float>> {
    DeviceStore store;
    LinearLaunch l;
    l.w = upload_linear(w, store);
    auto dx = up(x);
    const int64_t x_cols = static_cast<int64_t>(x.size()) / std::max<int64_t>(rows, 1);
    if (!plain && (l.w.storage == kStoreFP8 || l.w.storage == kStoreFP4))
      launch_quant_dequant(dx.data(), rows, w.in, x_cols, 128, false, nullptr);
    DeviceBuffer<float> y(static_cast<size_t>(rows * w.out));
    l.x = dx.data();
    l.x_stride = x_cols;
    l.y = y.data();
    l.y_stride = w.out;
    l.rows = rows;
    l.group_out = group_out;
    launch_linear(l, nullptr);
    return y.download(y.size());
  });
}

Result<std::vector<float>> expert_linear(std::span<const LinearWeight> experts, std::span<const int32_t> chosen,
                                         std::span<const float> x, int64_t x_divisor) {
  return guarded([&]() -> Result<std::vector<float>> {
    DeviceStore store;
    std::vector<const uint8_t*> weights, scales;
    LinearLaunch l;
    for (const LinearWeight& e : experts) {
      l.w = upload_linear(e, store);
      weights.push_back(l.w.weight);
      scales.push_back(l.w.scale);
    }
    auto dweights = up(std::span<const uint8_t* const>(weights));
    auto dscales = up(std::span<const uint8_t* const>(scales));
    auto dchosen = up(chosen);
    auto dx = up(x);
    const int64_t pairs = static_cast<int64_t>(chosen.size());
    DeviceBuffer<float> y(static_cast<size_t>(pairs * l.w.out));
    l.x = dx.data();
    l.x_stride = l.w.in;
    l.x_divisor = x_divisor;
    l.y = y.data();
    l.y_stride = l.w.out;
    l.rows = pairs;
    l.weight_table = dweights.data();
    l.scale_table = dscales.data();
    l.chosen = dchosen.data();
    launch_linear(l, nullptr);
    return y.download(y.size());
  });
}

Result<std::vector<float>> quant_dequant(std::span<const float> x, int64_t rows, int64_t cols, int64_t block, bool fp4) {
  return guarded([&]() -> Result<std::vector<float>> {
    auto d = up(x);
    launch_quant_dequant(d.data(), rows, cols, static_cast<int64_t>(x.size()) / rows, block, fp4, nullptr);
    return d.download(x.size());
  });
}

Result<std::vector<float>> rms_norm(std::span<const float> x, std::span<const float> weight, float eps, int64_t rows) {
  return guarded([&]() -> Result<std::vector<float>> {
    auto dx = up(x);
    auto dw = up(weight);
    const int64_t cols = static_cast<int64_t>(x.size()) / rows;
    DeviceBuffer<float> out(x.size());
    launch_rms_norm(dx.data(), cols, weight.empty() ? nullptr : dw.data(), eps, rows, cols, out.data(), cols, nullptr);
    return out.download(out.size());
  });
}

Result<std::vector<float>> hadamard(std::span<const float> x, int64_t rows) {
  return guarded([&]() -> Result<std::vector<float>> {
    auto d = up(x);
    const int64_t n = static_cast<int64_t>(x.size()) / rows;
    launch_hadamard(d.data(), rows, n, n, nullptr);
    return d.download(x.size());
  });
}

Result<std::vector<float>> rope(std::span<const float> x, int64_t rows, int64_t heads, std::span<const int64_t> positions,
                                std::span<const float> freqs, bool inverse) {
  return guarded([&]() -> Result<std::vector<float>> {
    auto d = up(x);
    auto dp = up(positions);
    auto df = up(freqs);
    const int64_t head_dim = static_cast<int64_t>(x.size()) / (rows * heads);
    const int64_t pairs = static_cast<int64_t>(freqs.size());
    launch_rope(d.data(), rows, heads, heads * head_dim, head_dim, head_dim - 2 * pairs, dp.data(), df.data(), pairs,
                inverse, nullptr);
    return d.download(x.size());
  });
}

Result<HyperPre> hc_pre(const ModelConfig& c, const HyperConnectionWeights& w, std::span<const float> streams,
                        std::span<const float> norm, int64_t rows) {
  return guarded([&]() -> Result<HyperPre> {
    auto fn = up(std::span<const float>(w.fn)), base = up(std::span<const float>(w.base)),
         scale = up(std::span<const float>(w.scale));
    auto ds = up(streams), dn = up(norm);
    const int64_t hc = c.hc_mult;
    DeviceBuffer<float> x(static_cast<size_t>(rows * c.hidden_size)), mix(static_cast<size_t>(rows * (hc + hc * hc)));
    DeviceBuffer<float> raw(static_cast<size_t>(rows * (2 + hc) * hc));
    launch_hc_pre(hyper_view(c, fn, base, scale), ds.data(), rows, dn.data(), x.data(), mix.data(), raw.data(), nullptr);
    return HyperPre{x.download(x.size()), mix.download(mix.size())};
  });
}

Result<std::vector<float>> hc_post(const ModelConfig& c, std::span<const float> streams, std::span<const float> y,
                                   std::span<const float> mix, int64_t rows) {
  return guarded([&]() -> Result<std::vector<float>> {
    auto ds = up(streams), dy = up(y), dm = up(mix);
    DeviceBuffer<float> none;
    launch_hc_post(hyper_view(c, none, none, none), ds.data(), dy.data(), dm.data(), rows, nullptr);
    return ds.download(streams.size());
  });
}

Result<std::vector<float>> hc_head(const ModelConfig& c, const HyperConnectionWeights& w, std::span<const float> streams,
                                   std::span<const float> norm, int64_t rows) {
  return guarded([&]() -> Result<std::vector<float>> {
    auto fn = up(std::span<const float>(w.fn)), base = up(std::span<const float>(w.base)),
         scale = up(std::span<const float>(w.scale));
    auto ds = up(streams), dn = up(norm);
    DeviceBuffer<float> out(static_cast<size_t>(rows * c.hidden_size));
    DeviceBuffer<float> raw(static_cast<size_t>(rows * c.hc_mult));
    launch_hc_head(hyper_view(c, fn, base, scale), ds.data(), rows, dn.data(), out.data(), raw.data(), nullptr);
    return out.download(out.size());
  });
}

Result<Routing> route(std::span<const float> logits, int64_t rows, int64_t experts, int k, std::span<const float> bias,
                      std::span<const int32_t> tid2eid, std::span<const int32_t> tokens, float scaling) {
  return guarded([&]() -> Result<Routing> {
    auto dl = up(logits), db = up(bias);
    auto dt = up(tid2eid), dtok = up(tokens);
    DeviceBuffer<int32_t> chosen(static_cast<size_t>(rows * k));
    DeviceBuffer<float> weights(static_cast<size_t>(rows * k));
    RouteLaunch r;
    r.logits = dl.data();
    r.rows = rows;
    r.experts = experts;
    r.k = k;
    r.bias = bias.empty() ? nullptr : db.data();
    r.tid2eid = tid2eid.empty() ? nullptr : dt.data();
    r.tokens = dtok.data();
    r.scaling = scaling;
    r.chosen = chosen.data();
    r.weights = weights.data();
    launch_route(r, nullptr);
    return Routing{chosen.download(chosen.size()), weights.download(weights.size())};
  });
}

Result<std::vector<float>> swiglu(std::span<const float> gate, std::span<const float> up_values,
                                  std::span<const float> weights, int64_t rows, float limit) {
  return guarded([&]() -> Result<std::vector<float>> {
    auto dg = up(gate), du = up(up_values), dw = up(weights);
    DeviceBuffer<float> out(gate.size());
    launch_swiglu(dg.data(), du.data(), weights.empty() ? nullptr : dw.data(), rows,
                  static_cast<int64_t>(gate.size()) / rows, limit, out.data(), nullptr);
    return out.download(out.size());
  });
}

Result<std::vector<int32_t>> indexer_select(std::span<const float> q, std::span<const float> head_weights, int64_t heads,
                                            std::span<const float> entries, int64_t available, int64_t keep) {
  return guarded([&]() -> Result<std::vector<int32_t>> {
    auto dq = up(q), dw = up(head_weights), de = up(entries);
    DeviceBuffer<float> scores(static_cast<size_t>(std::max<int64_t>(available, 1)));
    DeviceBuffer<int32_t> chosen(static_cast<size_t>(std::max<int64_t>(keep, 1)));
    const int64_t head_dim = static_cast<int64_t>(q.size()) / heads;
    launch_indexer_select(dq.data(), dw.data(), heads, head_dim, de.data(), available, keep, scores.data(),
                          chosen.data(), nullptr);
    return chosen.download(static_cast<size_t>(keep));
  });
}

}  // namespace beluga::cuda::kernel_check
