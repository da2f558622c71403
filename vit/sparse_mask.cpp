// SANGER's mask prediction (DESIGN.md section 5), per head:
//   1. fake-quantise Q and K to 4-bit symmetric integers: scale = max|x| / 7 over the head's
//      (n x d) matrix, x~ = clamp(round(x / scale), -7, 7) (round half to even, as torch.round)
//   2. S~ = s * scale_q * scale_k * (A B^T), with A, B the integer codes: products and sums of
//      codes are small integers, exact in float, so the GEMM is exact whatever its summation
//      order (as the accelerator's 4-bit integer MACs are)
//   3. P~ = softmax(S~) per row;  M = [P~ > threshold], plus each row's argmax
// The mask carries no gradient: it only selects which pairs the sparse products compute.
#include "vit/sparse_mask.h"

#include <algorithm>
#include <cmath>

#include "core/ops.h"
#include "core/vecmath.h"

namespace vt::vit {

namespace {
// Integer codes of x (m values) as floats, and the scale that maps them back.
float quantize_4bit(const float* x, int64_t m, float* codes) {
  float amax = 0.f;
  for (int64_t i = 0; i < m; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float scale = amax / 7.f;
  for (int64_t i = 0; i < m; ++i)
    codes[i] = scale > 0.f ? std::min(7.f, std::max(-7.f, std::nearbyint(x[i] / scale))) : 0.f;
  return scale;
}
}  // namespace

CsrMask predict_mask(const float* q, int64_t ldq, const float* k, int64_t ldk, int64_t n, int64_t d, const MaskOptions& opt) {
  return detail::predict_mask_with(q, ldq, k, ldk, n, d, opt, static_cast<detail::GemmFn>(gemm));
}

CsrMask detail::predict_mask_with(const float* q, int64_t ldq, const float* k, int64_t ldk, int64_t n, int64_t d,
                                  const MaskOptions& opt, GemmFn gemm_fn) {
  std::vector<float> qrows(n * d), krows(n * d), qa(n * d), kb(n * d), scores(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      qrows[i * d + j] = q[i * ldq + j];
      krows[i * d + j] = k[i * ldk + j];
    }
  const float sq = quantize_4bit(qrows.data(), n * d, qa.data());
  const float sk = quantize_4bit(krows.data(), n * d, kb.data());
  gemm_fn(false, true, n, n, d, 1.f, qa.data(), d, kb.data(), d, 0.f, scores.data(), n);  // exact integers
  const float factor = sq * sk / std::sqrt(static_cast<float>(d));
  CsrMask mask;
  mask.row_ptr.reserve(n + 1);
  mask.row_ptr.push_back(0);
  std::vector<float> p(n);
  for (int64_t i = 0; i < n; ++i) {
    const float* row = scores.data() + i * n;
    float m = row[0];
    int64_t arg = 0;
    for (int64_t j = 1; j < n; ++j)
      if (row[j] > m) {
        m = row[j];
        arg = j;
      }
    float sum = 0.f;
    for (int64_t j = 0; j < n; ++j) sum += (p[j] = vt::detail::exp_f32(factor * row[j] - factor * m));
    for (int64_t j = 0; j < n; ++j)
      if (p[j] / sum > opt.threshold || (opt.keep_row_max && j == arg)) mask.col.push_back(static_cast<int32_t>(j));
    mask.row_ptr.push_back(static_cast<int32_t>(mask.col.size()));
  }
  return mask;
}

namespace detail {

std::vector<CsrMask> predict_masks(const HeadView& q, const HeadView& k, const MaskOptions& opt) {
  std::vector<CsrMask> masks(q.heads());
  for_each_head(q.heads(), q.n, q.d, [&](int64_t h, GemmFn g) {
    masks[h] = predict_mask_with(q.head(h), q.row_stride, k.head(h), k.row_stride, q.n, q.d, opt, g);
  });
  return masks;
}

std::vector<CsrMask> full_masks(int64_t heads, int64_t n, bool keep_all) {
  CsrMask m;
  m.row_ptr.push_back(0);
  for (int64_t i = 0; i < n; ++i) {
    if (keep_all)
      for (int64_t j = 0; j < n; ++j) m.col.push_back(static_cast<int32_t>(j));
    m.row_ptr.push_back(static_cast<int32_t>(m.col.size()));
  }
  return std::vector<CsrMask>(heads, m);
}

SparseStats mask_stats(const std::vector<CsrMask>& masks, int64_t B, int64_t H, int64_t n) {
  SparseStats s;
  s.density.assign(H, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) s.density[h] += static_cast<double>(masks[b * H + h].nnz()) / (double(n) * n * B);
  for (int64_t h = 0; h < H; ++h) {
    std::vector<int32_t> rows(n);
    for (int64_t i = 0; i < n; ++i) rows[i] = masks[h].row_ptr[i + 1] - masks[h].row_ptr[i];
    s.row_nnz.push_back(std::move(rows));
  }
  return s;
}

void trace_sparse(const char* kind_prefix, const std::vector<CsrMask>& masks, const SparseStats& stats, int64_t B,
                  int64_t H, int64_t n, int64_t d) {
  if (!active_trace()) return;
  double nnz = 0;
  for (const CsrMask& m : masks) nnz += static_cast<double>(m.nnz());
  const double heads = double(B) * H, density = nnz / (heads * n * n);
  const std::string p = kind_prefix;
  std::vector<int32_t> rows;  // batch entry 0, all heads
  for (const auto& r : stats.row_nnz) rows.insert(rows.end(), r.begin(), r.end());
  struct Step {
    std::string kind;
    double flops, bytes_in, bytes_out;
  };
  const Step steps[] = {
      {p + "_predict", 2 * heads * n * n * d + 5 * heads * n * n, 2 * heads * n * d * 0.5, heads * n * n / 8.0},
      {p + "_sddmm", 2 * nnz * d, 8 * heads * n * d, 4 * nnz},
      {p + "_softmax", 5 * nnz, 4 * nnz, 4 * nnz},
      {p + "_spmm", 2 * nnz * d, 4 * (nnz + heads * n * d), 4 * heads * n * d},
  };
  for (const Step& s : steps) {
    OpTrace tr(s.kind.c_str());
    if (TraceRecord* r = tr.record({Shape{B, H, n, d}}, Shape{B, H, n, d}, s.flops, s.bytes_in, s.bytes_out)) {
      r->kind = s.kind;
      r->attrs = {{"heads", heads}, {"n", double(n)}, {"d", double(d)}, {"nnz", nnz}, {"density", density}};
      r->row_counts = rows;
    }
  }
}

}  // namespace detail
}  // namespace vt::vit
