#include <mutex>

#include "model/engine.h"
#include "model/forward.h"

namespace trinity {

namespace {

class ReferenceEngine final : public ForwardEngine {
 public:
  explicit ReferenceEngine(std::shared_ptr<const Qwen3Weights> w) : ForwardEngine(std::move(w)) {}
  std::string profile() const override { return "reference"; }
  std::string backend_label() const override { return "reference:scalar-f32"; }

  Status forward_all(std::span<const int32_t> ids, float* out) override {
    const SvfApplied a{overlay_.get(), scales_.get()};
    return forward_reference(*weights_, ids, out, nullptr, overlay_ ? &a : nullptr);
  }

  Status set_svf_overlay(std::shared_ptr<const SvfOverlay> overlay) override {
    overlay_ = std::move(overlay);
    scales_.reset();
    if (!overlay_) return ok_status();
    std::vector<float> zeros(static_cast<size_t>(overlay_->offset_count()), 0.0f);
    return set_svf_offsets(zeros);
  }
  Status set_svf_offsets(std::span<const float> offsets) override {
    if (!overlay_) return invalid_argument("set_svf_offsets: no overlay installed");
    TRINITY_ASSIGN_OR_RETURN(SvfScales s, svf_scales(*overlay_, offsets));
    scales_ = std::make_unique<SvfScales>(std::move(s));
    return ok_status();
  }

  Status forward_rows(const std::vector<std::span<const int32_t>>& seqs,
                      const std::vector<int64_t>& rows, float* out) override {
    if (seqs.size() != rows.size()) return internal_error("forward_rows: seqs/rows size mismatch");
    const int64_t D = weights_->config.hidden_size;
    std::vector<float> all;
    for (size_t s = 0; s < seqs.size(); ++s) {
      const int64_t n = static_cast<int64_t>(seqs[s].size());
      if (rows[s] < 0 || rows[s] >= n)
        return invalid_argument("requested row " + std::to_string(rows[s]) + " of a sequence of " +
                                std::to_string(n) + " tokens");
      all.assign(static_cast<size_t>(n * D), 0.0f);
      const SvfApplied a{overlay_.get(), scales_.get()};
      TRINITY_RETURN_IF_ERROR(
          forward_reference(*weights_, seqs[s], all.data(), nullptr, overlay_ ? &a : nullptr));
      std::copy(all.begin() + rows[s] * D, all.begin() + (rows[s] + 1) * D, out + s * D);
    }
    return ok_status();
  }

 private:
  std::shared_ptr<const SvfOverlay> overlay_;
  std::unique_ptr<SvfScales> scales_;
};

}  // namespace

std::unique_ptr<ForwardEngine> make_reference_engine(std::shared_ptr<const Qwen3Weights> w) {
  return std::make_unique<ReferenceEngine>(std::move(w));
}

}  // namespace trinity
