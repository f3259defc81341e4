#include "ops/cpu/matmul.h"

#include "ops/cpu/kernels.h"
#include "ops/cpu/parallel.h"

#include <omp.h>

#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <utility>

namespace trinity::cpu {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

// The weights layout is chosen once, for this representative M; every other M reuses it (the
// brgemm kernels accept their blocked layout for any M).
constexpr int64_t kLayoutM = 128;
// Distinct M values keep their primitive (kernels are JIT-compiled per shape); beyond this many
// the cache is cleared.
constexpr size_t kMaxPrimitives = 64;

}  // namespace

struct PackedMatmul::Impl {
  memory::desc weights_md;
  memory weights;
  std::mutex mu, split_mu;
  std::map<std::pair<int64_t, int64_t>, dnnl::matmul> prims;  // (m, ldd) -> primitive
  std::vector<uint16_t> split_src;                            // [2m, K] scratch of run_split
  std::vector<float> split_dst;                               // [2m, N]
};

PackedMatmul::~PackedMatmul() = default;

size_t PackedMatmul::packed_bytes() const {
  return impl_ptr_->weights_md.get_size();
}

Result<std::unique_ptr<PackedMatmul>> PackedMatmul::create(const std::vector<MatrixRef>& parts) {
  if (parts.empty()) return invalid_argument("PackedMatmul: no parts");
  const int64_t K = parts[0].cols;
  int64_t N = 0;
  bool all_bf16 = true;
  for (const auto& p : parts) {
    if (p.cols != K) return invalid_argument("PackedMatmul: parts disagree on the input dim");
    if (p.dtype != DType::kBF16 && p.dtype != DType::kF32 && p.dtype != DType::kF16)
      return unsupported(std::string("PackedMatmul: weight dtype ") + dtype_name(p.dtype));
    all_bf16 = all_bf16 && p.dtype == DType::kBF16;
    N += p.rows;
  }
  auto pm = std::unique_ptr<PackedMatmul>(new PackedMatmul());
  pm->k_ = K;
  pm->n_ = N;
  pm->act_ = all_bf16 ? DType::kBF16 : DType::kF32;
  pm->impl_ptr_ = std::make_unique<Impl>();
  const dt wdt = all_bf16 ? dt::bf16 : dt::f32;
  try {
    auto& eng = cpu_engine();
    // Plain [N, K] staging copy of the stacked parts (freed after the reorder).
    const size_t esize = all_bf16 ? 2 : 4;
    std::vector<uint8_t> plain(static_cast<size_t>(N * K) * esize);
    size_t off = 0;
    for (const auto& p : parts) {
      const size_t count = static_cast<size_t>(p.rows * p.cols);
      if (p.dtype == DType::kBF16 && all_bf16) {
        std::memcpy(plain.data() + off, p.data, count * 2);
      } else {
        float* dst = reinterpret_cast<float*>(plain.data() + off);
        const uint16_t* h = static_cast<const uint16_t*>(p.data);
        for (size_t i = 0; i < count; ++i) {
          if (p.dtype == DType::kF32)
            std::memcpy(dst + i, static_cast<const float*>(p.data) + i, 4);
          else if (p.dtype == DType::kBF16)
            dst[i] = bf16_to_f32(h[i]);
          else
            dst[i] = f16_to_f32(h[i]);
        }
      }
      off += count * esize;
    }
    const dt adt = all_bf16 ? dt::bf16 : dt::f32;
    memory::desc src_md({kLayoutM, K}, adt, tag::ab);
    memory::desc any_w({K, N}, wdt, tag::any);
    memory::desc dst_md({kLayoutM, N}, dt::f32, tag::ab);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, any_w, dst_md), eng);
    pm->impl_ = pd.impl_info_str();
    pm->impl_ptr_->weights_md = pd.weights_desc();
    memory staged(memory::desc({K, N}, wdt, tag::ba), eng, plain.data());
    pm->impl_ptr_->weights = memory(pm->impl_ptr_->weights_md, eng);
    dnnl::stream s(eng);
    dnnl::reorder(staged, pm->impl_ptr_->weights).execute(s, staged, pm->impl_ptr_->weights);
    s.wait();
  } catch (const dnnl::error& e) {
    return internal_error(std::string("oneDNN matmul setup: ") + e.what());
  }
  return pm;
}

Status PackedMatmul::run_split(const float* src, int64_t m, float* dst, int64_t ldd, int threads) {
  if (act_ != DType::kBF16) return run(src, m, dst, ldd, threads);
  if (m <= 0) return ok_status();
  Impl& im = *impl_ptr_;
  std::lock_guard<std::mutex> lk(im.split_mu);
  if (im.split_src.size() < static_cast<size_t>(2 * m * k_))
    im.split_src.resize(static_cast<size_t>(2 * m * k_));
  if (im.split_dst.size() < static_cast<size_t>(2 * m * n_))
    im.split_dst.resize(static_cast<size_t>(2 * m * n_));
  uint16_t* hi = im.split_src.data();
  uint16_t* lo = hi + m * k_;
  parallel_for(threads, m, [&](int64_t b, int64_t e) {
    split_bf16(src + b * k_, (e - b) * k_, hi + b * k_, lo + b * k_);
  });
  float* y = im.split_dst.data();
  TRINITY_RETURN_IF_ERROR(run(hi, 2 * m, y, n_, threads));
  parallel_for(threads, m, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) add_rows(y + r * n_, y + (m + r) * n_, n_, dst + r * ldd);
  });
  return ok_status();
}

Status PackedMatmul::run(const void* src, int64_t m, float* dst, int64_t ldd, int threads) {
  if (m <= 0) return ok_status();
  Impl& im = *impl_ptr_;
  std::lock_guard<std::mutex> lk(im.mu);
  try {
    auto& eng = cpu_engine();
    const dt adt = act_ == DType::kBF16 ? dt::bf16 : dt::f32;
    memory::desc src_md({m, k_}, adt, tag::ab);
    memory::desc dst_md({m, n_}, dt::f32, memory::dims{ldd, 1});
    auto key = std::make_pair(m, ldd);
    auto it = im.prims.find(key);
    if (it == im.prims.end()) {
      if (im.prims.size() >= kMaxPrimitives) im.prims.clear();
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, im.weights_md, dst_md), eng);
      it = im.prims.emplace(key, dnnl::matmul(pd)).first;
    }
    omp_set_num_threads(std::max(1, threads));
    dnnl::stream s(eng);
    memory a(src_md, eng, const_cast<void*>(src));
    memory c(dst_md, eng, dst);
    it->second.execute(s, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, im.weights}, {DNNL_ARG_DST, c}});
    s.wait();
  } catch (const dnnl::error& e) {
    return internal_error(std::string("oneDNN matmul: ") + e.what());
  }
  return ok_status();
}

std::string probe_bf16_matmul_impl() {
  try {
    memory::desc src({kLayoutM, 256}, dt::bf16, tag::ab), w({256, 256}, dt::bf16, tag::any),
        dst({kLayoutM, 256}, dt::f32, tag::ab);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, w, dst), cpu_engine());
    return pd.impl_info_str();
  } catch (const dnnl::error& e) {
    return std::string("unavailable: ") + e.what();
  }
}

}  // namespace trinity::cpu
