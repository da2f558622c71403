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
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // max |x| in eight lanes: vectorises, and max is exact in any order
  int64_t i = 0;
  for (; i + 8 <= m; i += 8)
    for (int k = 0; k < 8; ++k) lane[k] = std::max(lane[k], std::fabs(x[i + k]));
  for (int k = 0; i < m; ++i, ++k) lane[k] = std::max(lane[k], std::fabs(x[i]));
  float amax = 0.f;
  for (float v : lane) amax = std::max(amax, v);
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
  // Per-thread scratch, reused from head to head (fresh vectors cost a zero fill and page faults).
  struct Scratch {
    std::vector<float> qrows, krows, qa, kb, scores, p;
    std::vector<int32_t> keep;  // int32 flags: the compare loop vectorises (a byte store did not)
    std::vector<int32_t> cols;
  };
  thread_local Scratch t;
  for (auto* v : {&t.qrows, &t.krows, &t.qa, &t.kb}) v->resize(n * d);
  t.scores.resize(n * n);
  t.p.resize(n);
  t.keep.resize(n);
  t.cols.resize(n * n);
  std::vector<float>&qrows = t.qrows, &krows = t.krows, &qa = t.qa, &kb = t.kb, &scores = t.scores, &p = t.p;
  std::vector<int32_t>& keep = t.keep;
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
  int64_t kept = 0;  // kept pairs so far, in t.cols (room for every pair)
  for (int64_t i = 0; i < n; ++i) {
    const float* row = scores.data() + i * n;
    // argmax, the first of equal maxima (the scores are exact small integers)
    const float m = vt::detail::max_f32(row, n);
    int64_t arg = 0;
    while (arg < n - 1 && !(row[arg] == m)) ++arg;
    // P~ = softmax row; each loop below vectorises (the sum in eight lanes, core/vecmath.h)
    for (int64_t j = 0; j < n; ++j) p[j] = vt::detail::exp_f32(factor * row[j] - factor * m);
    const float sum = vt::detail::sum_f32(p.data(), n);
    for (int64_t j = 0; j < n; ++j) keep[j] = p[j] / sum > opt.threshold ? 1 : 0;
    if (opt.keep_row_max) keep[arg] = 1;
    int32_t* out = t.cols.data() + kept;  // branch-free compaction: write always, advance if kept
    int64_t k = 0;
    for (int64_t j = 0; j < n; ++j) {
      out[k] = static_cast<int32_t>(j);
      k += keep[j];
    }
    kept += k;
    mask.row_ptr.push_back(static_cast<int32_t>(kept));
  }
  mask.col.assign(t.cols.begin(), t.cols.begin() + kept);
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
                  int64_t H, int64_t n, int64_t d, double predict_seconds, double sparse_seconds) {
  Trace* trace = active_trace();
  if (!trace) return;
  const size_t first = trace->records.size();
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
  // Measured: the prediction alone; the three sparse steps run fused, so their time is split.
  if (trace->time_ops && trace->records.size() == first + 4) {
    trace->records[first].seconds = predict_seconds;
    split_time_by_flops(*trace, first + 1, sparse_seconds);
  }
}

}  // namespace detail
}  // namespace vt::vit
