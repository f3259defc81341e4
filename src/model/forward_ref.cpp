// Reference Qwen3 forward: read it top to bottom next to transformers' modeling_qwen3.py.
#include <cmath>
#include <vector>

#include "model/forward.h"

namespace trinity {

namespace {

// y[t, o] = sum_i x[t, i] * W[o, i]   (nn.Linear without bias; W is [out, in])
void linear(const float* x, int64_t n, const Weight& W, float* y) {
  const int64_t out = W.rows(), in = W.cols();
  std::vector<float> row(static_cast<size_t>(in));
  for (int64_t o = 0; o < out; ++o) {
    W.row_to_f32(o, row.data());
    for (int64_t t = 0; t < n; ++t) {
      const float* xt = x + t * in;
      double acc = 0.0;
      for (int64_t i = 0; i < in; ++i) acc += static_cast<double>(xt[i]) * row[i];
      y[t * out + o] = static_cast<float>(acc);
    }
  }
}

// y = ((x P) * s) Q^T for x [n, in]: P [in, k], Q [out, k] (svf_overlay.h); the k-space
// values and the outputs are each one f64 dot product rounded once to f32.
void linear_factored(const float* x, int64_t n, int64_t in, const float* P, int64_t k,
                     const std::vector<float>& s, const float* Q, int64_t out, float* y) {
  std::vector<float> t(static_cast<size_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = x + r * in;
    for (int64_t j = 0; j < k; ++j) {
      double acc = 0.0;
      for (int64_t i = 0; i < in; ++i) acc += static_cast<double>(xr[i]) * P[i * k + j];
      t[static_cast<size_t>(j)] = static_cast<float>(acc) * s[static_cast<size_t>(j)];
    }
    for (int64_t o = 0; o < out; ++o) {
      double acc = 0.0;
      for (int64_t j = 0; j < k; ++j)
        acc += static_cast<double>(t[static_cast<size_t>(j)]) * Q[o * k + j];
      y[r * out + o] = static_cast<float>(acc);
    }
  }
}

// Qwen3RMSNorm over the last dim of [rows, dim]: w * (x / sqrt(mean(x^2) + eps)), in f32.
void rms_norm(const float* x, int64_t rows, int64_t dim, const Weight& w, double eps, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    double ss = 0.0;
    for (int64_t i = 0; i < dim; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(dim) + eps));
    for (int64_t i = 0; i < dim; ++i) y[r * dim + i] = w.at(i) * (xr[i] * inv);
  }
}

// apply_rotary_pos_emb with rotate_half: x' = x * cos + rotate_half(x) * sin, where
// rotate_half pairs element i with i + d/2.
void rope(float* x, int64_t n, int64_t heads, int64_t d, const std::vector<float>& cos_t,
          const std::vector<float>& sin_t) {
  const int64_t half = d / 2;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t h = 0; h < heads; ++h) {
      float* v = x + (t * heads + h) * d;
      for (int64_t i = 0; i < half; ++i) {
        const float c = cos_t[t * half + i], s = sin_t[t * half + i];
        const float a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
      }
    }
  }
}

// Causal grouped-query attention, softmax in f32 with the max subtracted.
// q [n, H, d], k/v [n, KV, d] -> out [n, H, d]
void attention(const float* q, const float* k, const float* v, int64_t n, int64_t H, int64_t KV,
               int64_t d, float* out) {
  const int64_t group = H / KV;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  std::vector<float> p(static_cast<size_t>(n));
  for (int64_t h = 0; h < H; ++h) {
    const int64_t kvh = h / group;
    for (int64_t t = 0; t < n; ++t) {
      const float* qt = q + (t * H + h) * d;
      float mx = -INFINITY;
      for (int64_t s = 0; s <= t; ++s) {
        const float* ks = k + (s * KV + kvh) * d;
        double acc = 0.0;
        for (int64_t i = 0; i < d; ++i) acc += static_cast<double>(qt[i]) * ks[i];
        p[s] = static_cast<float>(acc) * scale;
        mx = std::max(mx, p[s]);
      }
      float sum = 0.0f;
      for (int64_t s = 0; s <= t; ++s) {
        p[s] = std::exp(p[s] - mx);
        sum += p[s];
      }
      float* o = out + (t * H + h) * d;
      for (int64_t i = 0; i < d; ++i) {
        double acc = 0.0;
        for (int64_t s = 0; s <= t; ++s)
          acc += static_cast<double>(p[s]) * v[(s * KV + kvh) * d + i];
        o[i] = static_cast<float>(acc / sum);
      }
    }
  }
}

float silu(float x) {
  return x / (1.0f + std::exp(-x));
}

}  // namespace

Status check_token_ids(const Qwen3Config& c, std::span<const int32_t> ids) {
  for (size_t p = 0; p < ids.size(); ++p) {
    if (ids[p] < 0 || ids[p] >= c.vocab_size)
      return invalid_argument("token id " + std::to_string(ids[p]) + " at position " +
                              std::to_string(p) + " is outside [0, " +
                              std::to_string(c.vocab_size) + ")");
  }
  return ok_status();
}

void rope_tables(const Qwen3Config& c, int64_t start, int64_t n_pos, std::vector<float>* cos_t,
                 std::vector<float>* sin_t) {
  const int64_t half = c.head_dim / 2;
  std::vector<float> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    // transformers: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all in f32
    const float expo = static_cast<float>(2 * i) / static_cast<float>(c.head_dim);
    inv_freq[i] = 1.0f / std::pow(static_cast<float>(c.rope_theta), expo);
  }
  cos_t->resize(static_cast<size_t>(n_pos * half));
  sin_t->resize(static_cast<size_t>(n_pos * half));
  for (int64_t t = 0; t < n_pos; ++t) {
    for (int64_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(start + t) * inv_freq[i];  // f32 product
      (*cos_t)[t * half + i] = static_cast<float>(std::cos(static_cast<double>(angle)));
      (*sin_t)[t * half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
  }
}

Status forward_reference(const Qwen3Weights& w, std::span<const int32_t> ids, float* out,
                         const DumpHook* hook, const SvfApplied* svf) {
  const Qwen3Config& c = w.config;
  TRINITY_RETURN_IF_ERROR(check_token_ids(c, ids));
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n == 0) return ok_status();
  const int64_t D = c.hidden_size, H = c.num_attention_heads, KV = c.num_key_value_heads;
  const int64_t hd = c.head_dim, I = c.intermediate_size;
  auto dump = [&](const char* name, int layer, const std::vector<float>& v, int64_t cols) {
    if (hook) (*hook)(name, layer, v.data(), static_cast<int64_t>(v.size()) / cols, cols);
  };
  auto buf = [](int64_t size) { return std::vector<float>(static_cast<size_t>(size)); };

  // inputs_embeds = embed_tokens(input_ids)
  std::vector<float> x = buf(n * D);
  for (int64_t t = 0; t < n; ++t) w.embed.row_to_f32(ids[t], x.data() + t * D);
  const SvfOverlay* ov = svf ? svf->overlay : nullptr;
  if (ov) {  // adapted rows ((E[t] P) * s) P^T
    const SvfFactor& f = ov->embed;
    std::vector<float> e = x;
    linear_factored(e.data(), n, D, f.p.data(), f.k, svf->scales->embed, f.p.data(), D, x.data());
  }
  // nn.Linear, or its factored form in the overlay layer.
  auto proj = [&](int64_t l, const float* in, const Weight& W, int m, float* y) {
    if (!ov || l != ov->layer) return linear(in, n, W, y);
    const SvfFactor& f = ov->mats[static_cast<size_t>(m)];
    linear_factored(in, n, f.cols, f.p.data(), f.k, svf->scales->mats[static_cast<size_t>(m)],
                    f.q.data(), f.rows, y);
  };
  dump("embed", -1, x, D);

  std::vector<float> cos_t, sin_t;
  rope_tables(c, 0, n, &cos_t, &sin_t);

  std::vector<float> h = buf(n * D), q = buf(n * H * hd), k = buf(n * KV * hd),
                     v = buf(n * KV * hd), attn = buf(n * H * hd), o = buf(n * D);
  std::vector<float> gate = buf(n * I), up = buf(n * I), down = buf(n * D);
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const Qwen3Layer& L = w.layers[static_cast<size_t>(l)];
    const int li = static_cast<int>(l);
    // --- self-attention block ---
    rms_norm(x.data(), n, D, L.input_norm, c.rms_norm_eps, h.data());  // input_layernorm
    dump("attn_norm", li, h, D);
    proj(l, h.data(), L.q_proj, kSvfQ, q.data());
    proj(l, h.data(), L.k_proj, kSvfK, k.data());
    proj(l, h.data(), L.v_proj, kSvfV, v.data());
    dump("q", li, q, H * hd);
    dump("k", li, k, KV * hd);
    dump("v", li, v, KV * hd);
    rms_norm(q.data(), n * H, hd, L.q_norm, c.rms_norm_eps, q.data());   // q_norm per head
    rms_norm(k.data(), n * KV, hd, L.k_norm, c.rms_norm_eps, k.data());  // k_norm per head
    dump("q_normed", li, q, H * hd);
    dump("k_normed", li, k, KV * hd);
    rope(q.data(), n, H, hd, cos_t, sin_t);
    rope(k.data(), n, KV, hd, cos_t, sin_t);
    dump("q_rope", li, q, H * hd);
    dump("k_rope", li, k, KV * hd);
    attention(q.data(), k.data(), v.data(), n, H, KV, hd, attn.data());
    dump("attn_out", li, attn, H * hd);
    proj(l, attn.data(), L.o_proj, kSvfO, o.data());  // o_proj
    dump("o_proj", li, o, D);
    for (int64_t i = 0; i < n * D; ++i) x[i] += o[i];  // residual
    dump("resid_attn", li, x, D);
    // --- MLP block ---
    rms_norm(x.data(), n, D, L.post_norm, c.rms_norm_eps, h.data());  // post_attention_layernorm
    dump("mlp_norm", li, h, D);
    proj(l, h.data(), L.gate_proj, kSvfGate, gate.data());
    proj(l, h.data(), L.up_proj, kSvfUp, up.data());
    dump("gate", li, gate, I);
    dump("up", li, up, I);
    for (int64_t i = 0; i < n * I; ++i) gate[i] = silu(gate[i]) * up[i];  // act_fn(gate) * up
    dump("act", li, gate, I);
    proj(l, gate.data(), L.down_proj, kSvfDown, down.data());
    dump("down", li, down, D);
    for (int64_t i = 0; i < n * D; ++i) x[i] += down[i];  // residual
    dump("resid_mlp", li, x, D);
  }
  rms_norm(x.data(), n, D, w.final_norm, c.rms_norm_eps, out);  // model.norm
  if (hook) (*hook)("final_norm", -1, out, n, D);
  return ok_status();
}

}  // namespace trinity
