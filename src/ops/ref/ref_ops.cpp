#include "ops/ref/ref_ops.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace trinity::ref {

void rms_norm(const float* x, int64_t rows, int64_t dim, const float* w, double eps, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    double ss = 0.0;
    for (int64_t i = 0; i < dim; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(dim) + eps));
    for (int64_t i = 0; i < dim; ++i) y[r * dim + i] = w[i] * (xr[i] * inv);
  }
}

void rope(float* x, int64_t heads, int64_t hd, const float* cos, const float* sin) {
  const int64_t half = hd / 2;
  for (int64_t h = 0; h < heads; ++h) {
    float* v = x + h * hd;
    for (int64_t i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * cos[i] - b * sin[i];
      v[i + half] = b * cos[i] + a * sin[i];
    }
  }
}

void silu_mul(const float* gu, int64_t rows, int64_t inter, float* out) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < inter; ++i) {
      const float g = gu[r * 2 * inter + i], u = gu[r * 2 * inter + inter + i];
      out[r * inter + i] = g / (1.0f + std::exp(-g)) * u;
    }
}

void matmul(const float* x, int64_t m, int64_t k, const void* w, DType wdtype, int64_t n,
            float* y) {
  std::vector<double> row(static_cast<size_t>(k));
  for (int64_t o = 0; o < n; ++o) {
    for (int64_t i = 0; i < k; ++i) {
      const size_t idx = static_cast<size_t>(o * k + i);
      if (wdtype == DType::kF32) {
        row[i] = static_cast<const float*>(w)[idx];
      } else {
        const uint16_t h = static_cast<const uint16_t*>(w)[idx];
        row[i] = wdtype == DType::kBF16 ? bf16_to_f32(h) : f16_to_f32(h);
      }
    }
    for (int64_t t = 0; t < m; ++t) {
      double acc = 0.0;
      for (int64_t i = 0; i < k; ++i) acc += static_cast<double>(x[t * k + i]) * row[i];
      y[t * n + o] = static_cast<float>(acc);
    }
  }
}

void convert_f32(const float* src, int64_t n, void* dst, DType dtype) {
  for (int64_t i = 0; i < n; ++i) {
    if (dtype == DType::kBF16)
      static_cast<uint16_t*>(dst)[i] = f32_to_bf16(src[i]);
    else
      static_cast<float*>(dst)[i] = src[i];
  }
}

void split_bf16(const float* x, int64_t n, uint16_t* hi, uint16_t* lo) {
  for (int64_t i = 0; i < n; ++i) {
    hi[i] = f32_to_bf16(x[i]);
    lo[i] = f32_to_bf16(x[i] - bf16_to_f32(hi[i]));
  }
}

void add(const float* a, const float* b, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void gram_f64(const float* x, int64_t rows, int64_t cols, double* g) {
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      double s = 0.0;
      for (int64_t r = 0; r < rows; ++r)
        s += static_cast<double>(x[r * cols + i]) * static_cast<double>(x[r * cols + j]);
      g[i * cols + j] = s;
    }
}

void attention(const float* q, const float* k, const float* v, int64_t n_q, int64_t q_pos0,
               int64_t H, int64_t KV, int64_t hd, float* out) {
  const int64_t group = H / KV;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  std::vector<double> p(static_cast<size_t>(q_pos0 + n_q));
  for (int64_t t = 0; t < n_q; ++t) {
    const int64_t pos = q_pos0 + t;
    for (int64_t h = 0; h < H; ++h) {
      const int64_t g = h / group;
      const float* qt = q + (t * H + h) * hd;
      double mx = -INFINITY;
      for (int64_t s = 0; s <= pos; ++s) {
        double acc = 0.0;
        for (int64_t i = 0; i < hd; ++i)
          acc += static_cast<double>(qt[i]) * k[(s * KV + g) * hd + i];
        p[s] = acc * scale;
        mx = std::max(mx, p[s]);
      }
      double sum = 0.0;
      for (int64_t s = 0; s <= pos; ++s) {
        p[s] = std::exp(p[s] - mx);
        sum += p[s];
      }
      for (int64_t i = 0; i < hd; ++i) {
        double acc = 0.0;
        for (int64_t s = 0; s <= pos; ++s) acc += p[s] * v[(s * KV + g) * hd + i];
        out[(t * H + h) * hd + i] = static_cast<float>(acc / sum);
      }
    }
  }
}

}  // namespace trinity::ref
