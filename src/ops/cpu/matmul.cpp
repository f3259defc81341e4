#include "ops/cpu/matmul.h"

#include "ops/cpu/kernels.h"
#include "ops/cpu/parallel.h"

#include <omp.h>

#include <chrono>
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

// The weights' memory descriptor a matmul is created with. bf16: `any`, so oneDNN blocks them for
// its brgemm kernels (chosen at kLayoutM, accepted for every M). f32: plain [N, K] rows (`ba` of
// the {K, N} weights): oneDNN 2.x's f32 brgemm picks a blocking (e.g. BA16a64b) that it only
// accepts for some M and falls back to the scalar `ref:any` kernel for the others (measured 100x
// slower on the tiny model's shapes), while its jit sgemm takes plain weights at every M.
memory::desc weights_request(int64_t k, int64_t n, dt wdt) {
  return memory::desc({k, n}, wdt, wdt == dt::f32 ? tag::ba : tag::any);
}

}  // namespace

struct PackedMatmul::Impl {
  memory::desc weights_md;
  memory weights;
  std::shared_ptr<const void> owner;  // keeps external packed weights alive (from_packed)
  std::mutex mu;
  std::map<std::pair<int64_t, int64_t>, dnnl::matmul> prims;  // (m, ldd) -> primitive
};

PackedMatmul::~PackedMatmul() = default;

size_t PackedMatmul::packed_bytes() const {
  return impl_ptr_->weights_md.get_size();
}

std::span<const uint8_t> PackedMatmul::packed_data() const {
  return {static_cast<const uint8_t*>(impl_ptr_->weights.get_data_handle()),
          impl_ptr_->weights_md.get_size()};
}

std::string PackedMatmul::layout_bytes() const {
  const dnnl_memory_desc_t& d = impl_ptr_->weights_md.data;
  return std::string(reinterpret_cast<const char*>(&d), sizeof(d));
}

Result<std::unique_ptr<PackedMatmul>> PackedMatmul::from_packed(int64_t k, int64_t n, DType act,
                                                                std::string_view layout,
                                                                std::span<const uint8_t> data,
                                                                std::shared_ptr<const void> owner) {
  if (act != DType::kBF16 && act != DType::kF32)
    return invalid_argument("PackedMatmul::from_packed: activation dtype must be bf16 or f32");
  auto pm = std::unique_ptr<PackedMatmul>(new PackedMatmul());
  pm->k_ = k;
  pm->n_ = n;
  pm->act_ = act;
  pm->impl_ptr_ = std::make_unique<Impl>();
  try {
    auto& eng = cpu_engine();
    const dt wdt = act == DType::kBF16 ? dt::bf16 : dt::f32;
    memory::desc src_md({kLayoutM, k}, wdt, tag::ab);
    memory::desc dst_md({kLayoutM, n}, dt::f32, tag::ab);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, weights_request(k, n, wdt), dst_md),
                                    eng);
    const memory::desc want = pd.weights_desc();
    if (layout.size() != sizeof(dnnl_memory_desc_t) ||
        std::memcmp(layout.data(), &want.data, sizeof(dnnl_memory_desc_t)) != 0)
      return mismatch("packed weights: oneDNN now wants another layout for [" + std::to_string(k) +
                      ", " + std::to_string(n) + "]");
    if (data.size() != want.get_size())
      return mismatch("packed weights: " + std::to_string(data.size()) + " bytes, layout needs " +
                      std::to_string(want.get_size()));
    pm->impl_ = pd.impl_info_str();
    pm->impl_ptr_->weights_md = want;
    pm->impl_ptr_->weights = memory(want, eng, const_cast<uint8_t*>(data.data()));
    pm->impl_ptr_->owner = std::move(owner);
  } catch (const dnnl::error& e) {
    return internal_error(std::string("oneDNN matmul setup: ") + e.what());
  }
  return pm;
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
    memory::desc dst_md({kLayoutM, N}, dt::f32, tag::ab);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, weights_request(K, N, wdt), dst_md),
                                    eng);
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

Status PackedMatmul::run_split(const float* src, int64_t m, float* dst, int64_t ldd, int threads,
                               SplitScratch& scratch) {
  if (act_ != DType::kBF16) return run(src, m, dst, ldd, threads);
  if (m <= 0) return ok_status();
  if (scratch.src.size() < static_cast<size_t>(2 * m * k_))
    scratch.src.resize(static_cast<size_t>(2 * m * k_));
  if (scratch.dst.size() < static_cast<size_t>(2 * m * n_))
    scratch.dst.resize(static_cast<size_t>(2 * m * n_));
  uint16_t* hi = scratch.src.data();
  uint16_t* lo = hi + m * k_;
  parallel_for(threads, m, [&](int64_t b, int64_t e) {
    split_bf16(src + b * k_, (e - b) * k_, hi + b * k_, lo + b * k_);
  });
  float* y = scratch.dst.data();
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

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " (" + v->hash + ")";
}

Result<double> measure_gemm_gflops(DType dtype, int threads, int repeats) {
  if (dtype != DType::kBF16 && dtype != DType::kF32)
    return invalid_argument(std::string("measure_gemm_gflops: dtype ") + dtype_name(dtype));
  constexpr int64_t M = 1024, K = 1024, N = 6144;
  const size_t es = dtype_size(dtype);
  // Small nonzero values (bf16 0x3c00 / f32 2^-7): no denormals, no overflow.
  std::vector<uint8_t> w(static_cast<size_t>(N * K) * es), a(static_cast<size_t>(M * K) * es);
  for (size_t i = 0; i < w.size(); i += es) {
    const uint32_t bits = 0x3c000000u;
    std::memcpy(&w[i], reinterpret_cast<const uint8_t*>(&bits) + (es == 2 ? 2 : 0), es);
  }
  a = std::vector<uint8_t>(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(a.size()));
  TRINITY_ASSIGN_OR_RETURN(auto pm, PackedMatmul::create({{dtype, w.data(), N, K}}));
  std::vector<float> y(static_cast<size_t>(M * N));
  double best = 0.0;
  for (int r = -1; r < std::max(1, repeats); ++r) {  // r = -1: warm-up
    const auto t0 = std::chrono::steady_clock::now();
    TRINITY_RETURN_IF_ERROR(pm->run(a.data(), M, y.data(), N, threads));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r >= 0) best = std::max(best, 2.0 * M * N * K / s / 1e9);
  }
  return best;
}

}  // namespace trinity::cpu
