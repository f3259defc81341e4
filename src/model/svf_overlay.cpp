#include "model/svf_overlay.h"

#include <cmath>
#include <string>

namespace trinity {

int64_t SvfOverlay::offset_count() const {
  int64_t n = embed.k;
  for (const SvfFactor& f : mats) n += f.k;
  return n;
}

namespace {

// s_i = (1 + z_i) * sum(S) / sum(S (1 + z)), formed in f64 and rounded once to f32.
Status factor_scales(const SvfFactor& f, const float* z, const char* name, std::vector<float>* s) {
  double sum_s = 0, sum_sp = 0;
  for (int64_t i = 0; i < f.k; ++i) {
    if (!std::isfinite(z[i]))
      return invalid_argument(std::string("svf offsets: ") + name + " offset " + std::to_string(i) +
                              " is not finite");
    sum_s += f.s[static_cast<size_t>(i)];
    sum_sp += f.s[static_cast<size_t>(i)] * (1.0 + static_cast<double>(z[i]));
  }
  if (!(sum_sp > 0))
    return invalid_argument(std::string("svf offsets: ") + name +
                            ": sum(S (1 + z)) = " + std::to_string(sum_sp) +
                            " is not positive (offsets below -1 flip singular values)");
  const double scale = sum_s / sum_sp;
  s->resize(static_cast<size_t>(f.k));
  for (int64_t i = 0; i < f.k; ++i)
    (*s)[static_cast<size_t>(i)] = static_cast<float>((1.0 + static_cast<double>(z[i])) * scale);
  return ok_status();
}

}  // namespace

Result<SvfScales> svf_scales(const SvfOverlay& overlay, std::span<const float> offsets) {
  if (static_cast<int64_t>(offsets.size()) < overlay.offset_count())
    return invalid_argument("svf offsets: expected at least " +
                            std::to_string(overlay.offset_count()) + " values, got " +
                            std::to_string(offsets.size()));
  static const char* const kNames[kSvfMatrixCount] = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                      "gate_proj", "up_proj", "down_proj"};
  SvfScales out;
  const float* z = offsets.data();
  TRINITY_RETURN_IF_ERROR(factor_scales(overlay.embed, z, "embed_tokens", &out.embed));
  z += overlay.embed.k;
  for (int i = 0; i < kSvfMatrixCount; ++i) {
    const SvfFactor& f = overlay.mats[static_cast<size_t>(i)];
    TRINITY_RETURN_IF_ERROR(factor_scales(f, z, kNames[i], &out.mats[static_cast<size_t>(i)]));
    z += f.k;
  }
  return out;
}

}  // namespace trinity
