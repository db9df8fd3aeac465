// Training-mode BatchNorm + LeakyReLU over a contiguous (rows, C) tensor: the (N, L, T, C) activations
// of the fast path seen as rows of C channels. Forward: one statistics pass, one normalise+activate
// pass. Backward: one reduction pass (sum g, sum g * (x - mean)) and one elementwise pass, where g is
// the upstream gradient through the LeakyReLU (its sign recomputed from x, so y need not be saved).
//
// Vectorisation with C anywhere in 1..64: the flat buffer is cut into chunks of W elements, W a
// multiple of both C and the block of two float vectors, so element j of every chunk belongs to
// channel j % C and per-channel vectors repeated W / C times line up with the data. The chunks are
// grouped into fixed blocks of 4 Ki elements whose float partial sums are added in double precision, which makes the
// statistics independent of the thread count and accurate to float32 rounding on a million rows.
#include <torch/extension.h>

#include <ATen/Parallel.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>

#include <cmath>
#include <numeric>
#include <vector>

namespace {

using at::vec::Vectorized;
using fVec = Vectorized<float>;
constexpr int64_t kF = fVec::size();
constexpr int64_t kB = 2 * kF;  // elements per step: two float vectors (one bf16 vector)
constexpr int64_t kBlockElems = 1 << 12;  // elements per partial-sum block (added in double)

template <typename scalar_t>
inline void load2(const scalar_t* p, fVec& a, fVec& b);

template <>
inline void load2<float>(const float* p, fVec& a, fVec& b) {
  a = fVec::loadu(p);
  b = fVec::loadu(p + kF);
}

template <>
inline void load2<at::BFloat16>(const at::BFloat16* p, fVec& a, fVec& b) {
  static_assert(Vectorized<at::BFloat16>::size() == kB, "bf16 vector holds two float vectors");
  auto v = Vectorized<at::BFloat16>::loadu(p);
  std::tie(a, b) = at::vec::convert_to_float<at::BFloat16>(v);
}

template <typename scalar_t>
inline void store2(scalar_t* p, const fVec& a, const fVec& b);

template <>
inline void store2<float>(float* p, const fVec& a, const fVec& b) {
  a.store(p);
  b.store(p + kF);
}

template <>
inline void store2<at::BFloat16>(at::BFloat16* p, const fVec& a, const fVec& b) {
  at::vec::convert_from_float<at::BFloat16>(a, b).store(p);
}

struct Layout {
  int64_t C, W, numel, chunks, tail_start, chunks_per_block, blocks;
};

Layout layout(const at::Tensor& x) {
  Layout l;
  l.C = x.size(1);
  l.W = std::lcm(l.C, kB);
  l.numel = x.numel();
  l.chunks = l.numel / l.W;
  l.tail_start = l.chunks * l.W;
  l.chunks_per_block = std::max<int64_t>(1, kBlockElems / l.W);
  l.blocks = (l.chunks + l.chunks_per_block - 1) / l.chunks_per_block;
  return l;
}

// per-channel values repeated to the chunk width W
std::vector<float> repeat(const std::vector<double>& v, int64_t W) {
  std::vector<float> out(W);
  const int64_t C = static_cast<int64_t>(v.size());
  for (int64_t j = 0; j < W; ++j) out[j] = static_cast<float>(v[j % C]);
  return out;
}

inline fVec leaky(const fVec& v, const fVec& slope) {
  return fVec::blendv(v * slope, v, v > fVec(0.f));
}

template <typename scalar_t>
void stats_kernel(const scalar_t* x, const Layout& l, std::vector<double>& mean, std::vector<double>& var) {
  const int64_t C = l.C, W = l.W;
  // sums shifted by the mean of the first rows keep E[x^2] - E[x]^2 accurate when |mean| >> std
  const int64_t rows = l.numel / C, head = std::min<int64_t>(rows, 64);
  std::vector<double> pivot_d(C, 0.0);
  for (int64_t i = 0; i < head * C; ++i) pivot_d[i % C] += static_cast<float>(x[i]);
  for (int64_t c = 0; c < C; ++c) pivot_d[c] = static_cast<float>(pivot_d[c] / head);
  const std::vector<float> pivot = repeat(pivot_d, W);
  std::vector<float> part1(l.blocks * W), part2(l.blocks * W);
  at::parallel_for(0, l.blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* s1 = part1.data() + b * W;
      float* s2 = part2.data() + b * W;
      const int64_t k0 = b * l.chunks_per_block, k1 = std::min(l.chunks, k0 + l.chunks_per_block);
      for (int64_t j = 0; j < W; j += kB) {
        fVec a1(0.f), b1v(0.f), a2(0.f), b2(0.f);
        const fVec p0 = fVec::loadu(pivot.data() + j), p1 = fVec::loadu(pivot.data() + j + kF);
        for (int64_t k = k0; k < k1; ++k) {
          fVec u, v;
          load2(x + k * W + j, u, v);
          u = u - p0;
          v = v - p1;
          a1 = a1 + u;
          b1v = b1v + v;
          a2 = at::vec::fmadd(u, u, a2);
          b2 = at::vec::fmadd(v, v, b2);
        }
        a1.store(s1 + j);
        b1v.store(s1 + j + kF);
        a2.store(s2 + j);
        b2.store(s2 + j + kF);
      }
    }
  });
  std::vector<double> s1(C, 0.0), s2(C, 0.0);
  for (int64_t b = 0; b < l.blocks; ++b)
    for (int64_t j = 0; j < W; ++j) {
      s1[j % C] += part1[b * W + j];
      s2[j % C] += part2[b * W + j];
    }
  for (int64_t i = l.tail_start; i < l.numel; ++i) {
    const int64_t c = i % C;
    const double u = static_cast<double>(static_cast<float>(x[i])) - pivot_d[c];
    s1[c] += u;
    s2[c] += u * u;
  }
  const double n = static_cast<double>(l.numel / C);
  mean.assign(C, 0.0);
  var.assign(C, 0.0);
  for (int64_t c = 0; c < C; ++c) {
    const double m = s1[c] / n;
    mean[c] = pivot_d[c] + m;
    var[c] = std::max(s2[c] / n - m * m, 0.0);
  }
}

template <typename scalar_t>
void affine_leaky_kernel(const scalar_t* x, scalar_t* y, const Layout& l, const std::vector<float>& scale_c,
                         const std::vector<float>& shift_c, float slope) {
  const int64_t C = l.C, W = l.W;
  std::vector<float> scale(W), shift(W);
  for (int64_t j = 0; j < W; ++j) {
    scale[j] = scale_c[j % C];
    shift[j] = shift_c[j % C];
  }
  const fVec vslope(slope);
  at::parallel_for(0, l.chunks, std::max<int64_t>(1, 4096 / W), [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      for (int64_t j = 0; j < W; j += kB) {
        fVec u, v;
        load2(x + k * W + j, u, v);
        u = at::vec::fmadd(u, fVec::loadu(scale.data() + j), fVec::loadu(shift.data() + j));
        v = at::vec::fmadd(v, fVec::loadu(scale.data() + j + kF), fVec::loadu(shift.data() + j + kF));
        store2(y + k * W + j, leaky(u, vslope), leaky(v, vslope));
      }
    }
  });
  for (int64_t i = l.tail_start; i < l.numel; ++i) {
    const int64_t c = i % C;
    const float v = std::fma(static_cast<float>(x[i]), scale_c[c], shift_c[c]);
    y[i] = static_cast<scalar_t>(v > 0.f ? v : v * slope);
  }
}

void check_input(const at::Tensor& x, const char* name) {
  TORCH_CHECK(x.device().is_cpu(), name, " must be a CPU tensor, got ", x.device());
  TORCH_CHECK(x.dim() == 2, name, " must be 2-D (rows, channels), got ", x.dim(), " dimensions");
  TORCH_CHECK(x.is_contiguous(), name, " must be contiguous");
  TORCH_CHECK(x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16, name,
              " must be float32 or bfloat16, got ", x.scalar_type());
}

std::vector<double> to_double(const at::Tensor& t) {
  auto c = t.detach().to(at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

at::Tensor from_double(const std::vector<double>& v) {
  auto t = at::empty({static_cast<int64_t>(v.size())}, at::kFloat);
  float* p = t.data_ptr<float>();
  for (size_t i = 0; i < v.size(); ++i) p[i] = static_cast<float>(v[i]);
  return t;
}

// returns y, mean, biased var, invstd, scale, shift (all but y: float32 per channel)
std::vector<at::Tensor> forward(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps,
                                double slope) {
  check_input(x, "x");
  TORCH_CHECK(x.size(0) > 0 && x.size(1) > 0, "x must not be empty, got shape ", x.sizes());
  const Layout l = layout(x);
  std::vector<double> mean, var;
  AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "fused_bn_leaky_stats",
                                 [&] {
                                   if constexpr (std::is_same_v<scalar_t, float> ||
                                                 std::is_same_v<scalar_t, at::BFloat16>) {
                                     stats_kernel<scalar_t>(x.data_ptr<scalar_t>(), l, mean, var);
                                   }
                                 });
  const std::vector<double> w = to_double(weight), b = to_double(bias);
  std::vector<double> invstd(l.C), scale_d(l.C), shift_d(l.C);
  std::vector<float> scale(l.C), shift(l.C);
  for (int64_t c = 0; c < l.C; ++c) {
    // float32 arithmetic, as ATen's batch_norm computes alpha = invstd * w, beta = b - mean * alpha
    const float is = 1.f / std::sqrt(static_cast<float>(var[c]) + static_cast<float>(eps));
    scale[c] = static_cast<float>(w[c]) * is;
    shift[c] = static_cast<float>(b[c]) - static_cast<float>(mean[c]) * scale[c];
    invstd[c] = is;
    scale_d[c] = scale[c];
    shift_d[c] = shift[c];
  }
  auto y = at::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "fused_bn_leaky_fwd", [&] {
    if constexpr (std::is_same_v<scalar_t, float> || std::is_same_v<scalar_t, at::BFloat16>) {
      affine_leaky_kernel<scalar_t>(x.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), l, scale, shift,
                                    static_cast<float>(slope));
    }
  });
  return {y, from_double(mean), from_double(var), from_double(invstd), from_double(scale_d), from_double(shift_d)};
}

template <typename scalar_t>
void backward_kernel(const scalar_t* gy, const scalar_t* x, scalar_t* gx, const Layout& l,
                     const std::vector<float>& scale_c, const std::vector<float>& shift_c,
                     const std::vector<float>& mean_c, const std::vector<float>& invstd_c, float slope,
                     std::vector<double>& sg_out, std::vector<double>& sgx_out) {
  const int64_t C = l.C, W = l.W;
  std::vector<float> scale(W), shift(W), mean(W);
  for (int64_t j = 0; j < W; ++j) {
    scale[j] = scale_c[j % C];
    shift[j] = shift_c[j % C];
    mean[j] = mean_c[j % C];
  }
  const fVec vslope(slope), one(1.f), zero(0.f);
  // reduction pass: sum g and sum g * (x - mean), g = gy * LeakyReLU'(x * scale + shift)
  std::vector<float> part1(l.blocks * W), part2(l.blocks * W);
  at::parallel_for(0, l.blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t k0 = b * l.chunks_per_block, k1 = std::min(l.chunks, k0 + l.chunks_per_block);
      for (int64_t j = 0; j < W; j += kB) {
        const fVec sc0 = fVec::loadu(scale.data() + j), sc1 = fVec::loadu(scale.data() + j + kF);
        const fVec sh0 = fVec::loadu(shift.data() + j), sh1 = fVec::loadu(shift.data() + j + kF);
        const fVec m0 = fVec::loadu(mean.data() + j), m1 = fVec::loadu(mean.data() + j + kF);
        fVec a1(0.f), b1v(0.f), a2(0.f), b2(0.f);
        for (int64_t k = k0; k < k1; ++k) {
          fVec u, v, gu, gv;
          load2(x + k * W + j, u, v);
          load2(gy + k * W + j, gu, gv);
          gu = fVec::blendv(gu * vslope, gu, at::vec::fmadd(u, sc0, sh0) > zero);
          gv = fVec::blendv(gv * vslope, gv, at::vec::fmadd(v, sc1, sh1) > zero);
          a1 = a1 + gu;
          b1v = b1v + gv;
          a2 = at::vec::fmadd(gu, u - m0, a2);
          b2 = at::vec::fmadd(gv, v - m1, b2);
        }
        a1.store(part1.data() + b * W + j);
        b1v.store(part1.data() + b * W + j + kF);
        a2.store(part2.data() + b * W + j);
        b2.store(part2.data() + b * W + j + kF);
      }
    }
  });
  std::vector<double> sg(C, 0.0), sgx(C, 0.0);
  for (int64_t b = 0; b < l.blocks; ++b)
    for (int64_t j = 0; j < W; ++j) {
      sg[j % C] += part1[b * W + j];
      sgx[j % C] += part2[b * W + j];
    }
  for (int64_t i = l.tail_start; i < l.numel; ++i) {
    const int64_t c = i % C;
    const float xv = static_cast<float>(x[i]);
    float g = static_cast<float>(gy[i]);
    if (!(std::fma(xv, scale_c[c], shift_c[c]) > 0.f)) g *= slope;
    sg[c] += g;
    sgx[c] += static_cast<double>(g) * static_cast<double>(xv - mean_c[c]);
  }
  // elementwise pass: gx = scale * (g - mean(g) - xhat * mean(g * xhat))
  //                     = a * g + b * (x - mean) + c
  const double n = static_cast<double>(l.numel / C);
  std::vector<float> ca(C), cb(C), cc(C);
  for (int64_t c = 0; c < C; ++c) {
    const double is = invstd_c[c], sc = scale_c[c];
    ca[c] = static_cast<float>(sc);
    cb[c] = static_cast<float>(-sc * is * is * sgx[c] / n);
    cc[c] = static_cast<float>(-sc * sg[c] / n);
  }
  std::vector<float> wa(W), wb(W), wc(W);
  for (int64_t j = 0; j < W; ++j) {
    wa[j] = ca[j % C];
    wb[j] = cb[j % C];
    wc[j] = cc[j % C];
  }
  at::parallel_for(0, l.chunks, std::max<int64_t>(1, 4096 / W), [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      for (int64_t j = 0; j < W; j += kB) {
        fVec u, v, gu, gv;
        load2(x + k * W + j, u, v);
        load2(gy + k * W + j, gu, gv);
        const fVec sc0 = fVec::loadu(scale.data() + j), sc1 = fVec::loadu(scale.data() + j + kF);
        const fVec sh0 = fVec::loadu(shift.data() + j), sh1 = fVec::loadu(shift.data() + j + kF);
        gu = fVec::blendv(gu * vslope, gu, at::vec::fmadd(u, sc0, sh0) > zero);
        gv = fVec::blendv(gv * vslope, gv, at::vec::fmadd(v, sc1, sh1) > zero);
        const fVec ou = at::vec::fmadd(fVec::loadu(wa.data() + j), gu,
                                       at::vec::fmadd(fVec::loadu(wb.data() + j), u - fVec::loadu(mean.data() + j),
                                                      fVec::loadu(wc.data() + j)));
        const fVec ov = at::vec::fmadd(
            fVec::loadu(wa.data() + j + kF), gv,
            at::vec::fmadd(fVec::loadu(wb.data() + j + kF), v - fVec::loadu(mean.data() + j + kF),
                           fVec::loadu(wc.data() + j + kF)));
        store2(gx + k * W + j, ou, ov);
      }
    }
  });
  for (int64_t i = l.tail_start; i < l.numel; ++i) {
    const int64_t c = i % C;
    const float xv = static_cast<float>(x[i]);
    float g = static_cast<float>(gy[i]);
    if (!(std::fma(xv, scale_c[c], shift_c[c]) > 0.f)) g *= slope;
    gx[i] = static_cast<scalar_t>(std::fma(ca[c], g, std::fma(cb[c], xv - mean_c[c], cc[c])));
  }
  sg_out = sg;
  sgx_out = sgx;
  (void)one;
}

std::vector<float> to_float(const at::Tensor& t) {
  auto c = t.detach().to(at::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// returns grad x, grad weight (sum g * xhat), grad bias (sum g), both float32
std::vector<at::Tensor> backward(const at::Tensor& gy_in, const at::Tensor& x, const at::Tensor& mean,
                                 const at::Tensor& invstd, const at::Tensor& scale, const at::Tensor& shift,
                                 double slope) {
  check_input(x, "x");
  const at::Tensor gy = gy_in.to(x.scalar_type()).contiguous();
  TORCH_CHECK(gy.sizes() == x.sizes(), "grad_output shape ", gy.sizes(), " differs from x shape ", x.sizes());
  const Layout l = layout(x);
  const std::vector<float> sc = to_float(scale), sh = to_float(shift), m = to_float(mean), is = to_float(invstd);
  std::vector<double> sg, sgx;
  auto gx = at::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "fused_bn_leaky_bwd", [&] {
    if constexpr (std::is_same_v<scalar_t, float> || std::is_same_v<scalar_t, at::BFloat16>) {
      backward_kernel<scalar_t>(gy.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(), gx.data_ptr<scalar_t>(), l, sc, sh, m,
                                is, static_cast<float>(slope), sg, sgx);
    }
  });
  std::vector<double> dw(l.C);
  for (int64_t c = 0; c < l.C; ++c) dw[c] = sgx[c] * is[c];
  return {gx, from_double(dw), from_double(sg)};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward, "BatchNorm (batch statistics) + LeakyReLU forward over (rows, C)");
  m.def("backward", &backward, "BatchNorm (batch statistics) + LeakyReLU backward over (rows, C)");
}
