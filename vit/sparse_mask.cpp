// SANGER's mask prediction, per head:
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
#include "vit/attention_steps.h"

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

CsrMask predict_mask(const float* q, int64_t ldq, const float* k, int64_t ldk, int64_t n, int64_t d,
                     const MaskOptions& opt) {
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

std::vector<TraceRecord> sanger_steps(const StepContext& c, const std::vector<CsrMask>* masks,
                                      const SangerStepNames& s) {
  const int64_t n = c.n, d = c.d;
  // the masks of every head in one CSR (every pair kept without masks)
  auto mask = std::make_shared<TraceMask>();
  mask->heads = c.heads;
  mask->rows = mask->cols = n;
  mask->row_ptr.push_back(0);
  if (masks) {
    VT_CHECK(static_cast<int64_t>(masks->size()) == c.heads, "sanger_steps: ", masks->size(), " masks for ", c.heads,
             " heads");
    for (const CsrMask& m : *masks) {
      VT_CHECK(static_cast<int64_t>(m.row_ptr.size()) == n + 1, "sanger_steps: a mask of ", m.row_ptr.size() - 1,
               " rows, expected ", n);
      const int64_t base = mask->row_ptr.back();
      for (int64_t i = 1; i <= n; ++i) mask->row_ptr.push_back(base + m.row_ptr[i]);
      mask->col.insert(mask->col.end(), m.col.begin(), m.col.end());
    }
  } else {
    for (int64_t r = 0; r < c.heads * n; ++r) {
      for (int64_t j = 0; j < n; ++j) mask->col.push_back(static_cast<int32_t>(j));
      mask->row_ptr.push_back(static_cast<int64_t>(mask->col.size()));
    }
  }
  const double nnz = double(mask->nnz());
  const double h = double(c.heads), density = nnz / (h * n * n);
  TraceRecord predict = gemm_step(c, s.ids[0], s.names[0], n, n, d, {stream("q"), whole(s.keys)}, "predict");
  predict.flops += 5 * h * n * n;            // its row softmax and the threshold
  predict.bytes_read = 2 * h * n * d * 0.5;  // 4-bit codes
  predict.bytes_written = h * n * n / 8.0;   // one bit per pair
  auto on_mask = [&](const char* id, const char* name, const char* kind, std::vector<TraceOperand> in, double flops,
                     double bytes_in, double bytes_out) {
    TraceRecord r = step_base(c, id, name, kind, std::move(in), n);
    r.output = {c.heads, n, n};
    r.flops = flops;
    r.bytes_read = bytes_in;
    r.bytes_written = bytes_out;
    r.attrs["rows"] = double(n);
    r.attrs["cols"] = double(n);
    r.attrs["K"] = double(d);
    r.attrs["nnz"] = nnz;
    r.attrs["density"] = density;
    r.mask = mask;
    return r;
  };
  std::vector<TraceRecord> out;
  out.push_back(std::move(predict));
  out.push_back(on_mask(s.ids[1], s.names[1], "sddmm", {stream("q"), whole(s.keys), stream(s.ids[0])}, 2 * nnz * d,
                        8 * h * n * d, 4 * nnz));
  out.push_back(on_mask(s.ids[2], s.names[2], "sparse_softmax", {fused(s.ids[1])}, 5 * nnz, 4 * nnz, 4 * nnz));
  out.push_back(on_mask(s.ids[3], s.names[3], "spmm", {fused(s.ids[2]), stream("v")}, 2 * nnz * d,
                        4 * (nnz + h * n * d), 4 * h * n * d));
  return out;
}

void trace_sanger_timing(size_t first, size_t count, double predict_seconds, double sparse_seconds) {
  Trace* trace = active_trace();
  if (!trace || !trace->time_ops || first == SIZE_MAX) return;
  trace->records[first].seconds = predict_seconds;
  split_time_by_flops(*trace, first + 1, sparse_seconds, first + count);
}

}  // namespace detail
}  // namespace vt::vit