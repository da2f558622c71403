// Lowering a traced DeiT forward pass (or a GEMM table) to accelerator ops (see lower.h).
#include "hwmodel/lower.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "core/error.h"
#include "core/fileio.h"

namespace vt::hw {

namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// "blocks.3.attn.qkv" -> "blocks.3"; the stem and the head are layers of their own.
std::string layer_of(const std::string& scope) {
  if (starts_with(scope, "blocks.")) {
    const size_t dot = scope.find('.', 7);
    return dot == std::string::npos ? scope : scope.substr(0, dot);
  }
  if (starts_with(scope, "patch_embed") || starts_with(scope, "pos_embed") || scope.empty()) return "patch_embed";
  return "head";
}

int64_t attr(const TraceRecord& r, const char* key) {
  auto it = r.attrs.find(key);
  VT_CHECK(it != r.attrs.end(), "trace record ", r.kind, " at ", r.scope, " lacks attribute '", key, "'");
  return static_cast<int64_t>(it->second);
}

class Lowering {
 public:
  std::vector<HwOp> ops;

  void run(const std::vector<TraceRecord>& records) {
    for (const TraceRecord& r : records) lower(r);
  }

 private:
  int cur_ = HwOp::kExternal;       // the op whose output is the current activation
  int residual_ = HwOp::kExternal;  // the op whose output is the residual stream
  int qkv_ = HwOp::kExternal;       // the last attention qkv projection
  int predict_ = -1, sparse_softmax_ = -1, sddmm_ = -1;                          // sparse steps

  int add(HwOp op, const TraceRecord& r, const std::string& step = "") {
    op.name = step.empty() ? (r.scope.empty() ? r.kind : r.scope) : r.scope + "." + step;
    op.layer = layer_of(r.scope);
    op.trace_kind = r.kind;
    op.attention = r.scope.find(".attn.core") != std::string::npos;
    auto dep = [&](int src, EdgeKind k) {
      if (src >= 0) op.deps.push_back({src, k});
    };
    dep(op.a_src, EdgeKind::kStream);
    if (op.w_src != op.a_src) dep(op.w_src, EdgeKind::kStream);
    ops.push_back(std::move(op));
    return static_cast<int>(ops.size()) - 1;
  }
  void barrier(int op, int src) {
    for (Dep& d : ops[static_cast<size_t>(op)].deps)
      if (d.op == src) {
        d.kind = EdgeKind::kBarrier;
        return;
      }
    ops[static_cast<size_t>(op)].deps.push_back({src, EdgeKind::kBarrier});
  }
  void also(int op, int src) {
    if (src >= 0) ops[static_cast<size_t>(op)].deps.push_back({src, EdgeKind::kStream});
  }

  static HwOp gemm(Unit unit, int64_t M, int64_t N, int64_t K, int64_t batch, int a_src, int w_src, int64_t tokens) {
    HwOp o;
    o.kind = OpKind::kGemm;
    o.unit = unit;
    o.M = M;
    o.N = N;
    o.K = K;
    o.batch = batch;
    o.a_src = a_src;
    o.w_src = w_src;
    o.tokens = tokens;
    return o;
  }
  static HwOp vec(OpKind kind, Unit unit, int64_t batch, int64_t rows, int64_t cols, int a_src, int64_t tokens) {
    HwOp o;
    o.kind = kind;
    o.unit = unit;
    o.batch = batch;
    o.rows = rows;
    o.cols = cols;
    o.a_src = a_src;
    o.tokens = tokens;
    return o;
  }

  // Algorithm 1 steps 1-5 (the Taylor kernel, and the low-rank part of ViTALiTy attention).
  void taylor_steps_1_to_5(const TraceRecord& r) {
    const int64_t h = attr(r, "heads"), n = attr(r, "n"), d = attr(r, "d");
    HwOp s1a = vec(OpKind::kColumnSum, Unit::kAccumulator, h, n, d, qkv_, n);  // 1a + 3v: 1^T K and 1^T V
    s1a.sums = 2;
    const int colsum = add(s1a, r, "step1a_3v_column_sums");
    const int s1b = add(vec(OpKind::kDivideSingle, Unit::kDivider, h, 1, d, colsum, 0), r, "step1b_mean");
    barrier(s1b, colsum);  // the mean needs every token
    const int s1c = add(vec(OpKind::kElementwise, Unit::kAdder, h, n, d, qkv_, n), r, "step1c_center");
    barrier(s1c, s1b);
    const int context = add(gemm(Unit::kSaGeneral, d, d, n, h, s1c, qkv_, n), r, "step2_context");  // G = Khat^T V
    const int ksum = add(vec(OpKind::kColumnSum, Unit::kAccumulator, h, n, d, s1c, n), r, "step3_ksum");
    const int normalizer = add(gemm(Unit::kSaDiag, n, 1, d, h, qkv_, ksum, n), r, "step4a_q_ksum");  // Q khat_sum^T
    barrier(normalizer, ksum);
    const int numerator = add(gemm(Unit::kSaGeneral, n, d, d, h, qkv_, context, n), r, "step5a_qg");  // Q G
    barrier(numerator, context);
    // 4b and 5b on the adder array: t_D = . + n sqrt(d) (n elements) and T_N = . + sqrt(d) v_sum
    const int s45b = add(vec(OpKind::kElementwise, Unit::kAdder, h, n, d + 1, numerator, n), r, "step4b_5b_add");
    also(s45b, normalizer);
    also(s45b, colsum);
    cur_ = s45b;
  }

  void step6(const TraceRecord& r, int numerator_src, const std::string& name = "step6_divide") {
    const int64_t h = attr(r, "heads"), n = attr(r, "n"), d = attr(r, "d");
    const int s6 = add(vec(OpKind::kDivideMulti, Unit::kDivider, h, n, d, numerator_src, n), r, name);
    cur_ = s6;
  }

  void sparse_step(const TraceRecord& r, const std::string& step) {
    const int64_t h = attr(r, "heads"), n = attr(r, "n"), d = attr(r, "d");
    if (step == "predict") {
      HwOp p = gemm(Unit::kPredictor, n, n, d, h, qkv_, qkv_, n);
      p.kind = OpKind::kPredict;
      predict_ = add(p, r, "predict");
      barrier(predict_, qkv_);  // every row of the mask needs all of K
      return;
    }
    HwOp o = vec(step == "sddmm" ? OpKind::kSddmm : step == "softmax" ? OpKind::kSparseSoftmax : OpKind::kSpmm,
                 Unit::kSparse, h, n, n, step == "sddmm" ? qkv_ : step == "softmax" ? sddmm_ : sparse_softmax_, n);
    o.K = d;
    o.interleave = step != "sddmm";  // the scores stay in the PEs between SDDMM, exp and SpMM
    o.row_nnz = r.row_counts;
    VT_CHECK(static_cast<int64_t>(o.row_nnz.size()) == h * n, r.kind, " at ", r.scope, ": ", o.row_nnz.size(),
             " row counts for ", h, " heads x ", n, " rows (trace at batch 1)");
    const int i = add(o, r, step);
    if (step == "sddmm") {
      also(i, predict_);
      sddmm_ = i;
    } else if (step == "softmax") {
      sparse_softmax_ = i;
    } else {
      also(i, qkv_);  // V
      cur_ = i;
    }
  }

  void lower(const TraceRecord& r) {
    VT_CHECK(!r.backward, "hwmodel: trace record ", r.kind, " at ", r.scope, " was recorded in backward; trace a forward pass");
    const std::string& k = r.kind;
    if (k == "patchify" || k == "reshape" || k == "concat" || k == "slice" || k == "permute") {
      HwOp o;
      o.kind = OpKind::kLayout;
      o.unit = Unit::kNone;
      o.a_src = HwOp::kExternal;
      add(o, r);
      if (k == "patchify") cur_ = HwOp::kExternal;  // the patch embedding reads the image from DRAM
      return;
    }
    if (k == "linear") {
      HwOp o = gemm(Unit::kSaGeneral, attr(r, "M"), attr(r, "N"), attr(r, "K"), 1, cur_, HwOp::kExternal, attr(r, "M"));
      if (r.attrs.count("bias") && r.attrs.at("bias") != 0) o.bias_elements = o.M * o.N;
      cur_ = add(o, r);
      if (ends_with(r.scope, "attn.qkv")) qkv_ = cur_;
      return;
    }
    if (k == "matmul") {
      VT_CHECK(r.inputs.size() == 2 && r.inputs[0].size() >= 2 && r.inputs[1].size() >= 2, "hwmodel: matmul at ", r.scope,
               " without two matrix inputs");
      const Shape& a = r.inputs[0];
      int64_t batch = 1;
      for (size_t i = 0; i + 2 < r.output.size(); ++i) batch *= r.output[i];
      const int64_t M = r.output[r.output.size() - 2], N = r.output.back();
      const int64_t K = (r.attrs.count("trans_a") && r.attrs.at("trans_a") != 0) ? a[a.size() - 2] : a.back();
      cur_ = add(gemm(Unit::kSaGeneral, M, N, K, batch, cur_, HwOp::kExternal, M), r);
      return;
    }
    if (k == "layer_norm" || k == "gelu" || k == "add") {
      const int64_t cols = r.output.back();
      int64_t numel = 1;
      for (int64_t v : r.output) numel *= v;
      const OpKind kind = k == "layer_norm" ? OpKind::kLayerNorm : k == "gelu" ? OpKind::kGelu : OpKind::kElementwise;
      const Unit unit = k == "layer_norm" ? Unit::kLayerNorm : k == "gelu" ? Unit::kGelu : Unit::kAdder;
      // residual additions are traced at the block's scope: name them
      const std::string step = k == "add" ? (starts_with(r.scope, "blocks.") ? "residual" : "add") : "";
      const int i = add(vec(kind, unit, 1, numel / cols, cols, cur_, numel / cols), r, step);
      if (k == "add") {
        also(i, residual_);  // x + f(x): the block's input, still on chip
        residual_ = i;
      }
      cur_ = i;
      return;
    }
    if (k == "softmax_qk") {
      const int64_t h = attr(r, "heads"), n = attr(r, "n"), d = attr(r, "d");
      cur_ = add(gemm(Unit::kSaGeneral, n, n, d, h, qkv_, qkv_, n), r, "qk");
      barrier(cur_, qkv_);  // every row of scores needs all of K
      return;
    }
    if (k == "softmax_rows") {
      const int64_t h = attr(r, "heads"), n = attr(r, "n");
      cur_ = add(vec(OpKind::kSoftmax, Unit::kSoftmax, h, n, n, cur_, n), r, "softmax");
      return;
    }
    if (k == "softmax_pv") {
      const int64_t h = attr(r, "heads"), n = attr(r, "n"), d = attr(r, "d");
      HwOp pv = gemm(Unit::kSaGeneral, n, d, n, h, cur_, qkv_, n);
      pv.interleave = true;  // chunk by chunk after Q K^T: the n x n scores stay on chip
      cur_ = add(pv, r, "pv");
      return;
    }
    if (k == "taylor_center" || k == "vitality_lowrank") return taylor_steps_1_to_5(r);
    if (k == "taylor_context" || k == "taylor_sums" || k == "taylor_normalizer" || k == "taylor_numerator")
      return;  // lowered with taylor_center (one op per unit, as the paper maps the steps)
    if (k == "taylor_divide") return step6(r, cur_);
    for (const char* prefix : {"sparse_", "vitality_"}) {
      if (!starts_with(k, prefix)) continue;
      const std::string step = k.substr(std::string(prefix).size());
      if (step == "predict" || step == "sddmm" || step == "softmax" || step == "spmm") {
        const int lowrank = cur_;
        sparse_step(r, step);
        if (step == "spmm") {
          if (std::string(prefix) == "vitality_") also(cur_, lowrank);
          // softmax rows renormalised by their exp sums (sparse) or divided by the combined
          // normaliser (ViTALiTy's step 6): one divisor per row
          step6(r, cur_, std::string(prefix) == "vitality_" ? "step6_divide" : "normalize");
        }
        return;
      }
    }
    throw Error(str_cat("hwmodel: no lowering for traced op '", k, "' at '", r.scope, "'"));
  }
};

}  // namespace

std::vector<HwOp> lower_trace(const std::vector<TraceRecord>& records) {
  Lowering l;
  l.run(records);
  VT_CHECK(!l.ops.empty(), "hwmodel: the trace is empty");
  return std::move(l.ops);
}

std::vector<HwOp> parse_gemm_workload(const std::string& text, const std::string& path) {
  std::vector<HwOp> ops;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  bool header = true;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t,") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, ',')) {
      const size_t b = field.find_first_not_of(" \t"), e = field.find_last_not_of(" \t");
      f.push_back(b == std::string::npos ? "" : field.substr(b, e - b + 1));
    }
    while (!f.empty() && f.back().empty()) f.pop_back();  // SCALE-Sim's trailing commas
    if (header) {  // "Layer,M,N,K," as SCALE-Sim writes it
      header = false;
      if (f.size() >= 4 && f[1] == "M" && f[2] == "N" && f[3] == "K") continue;
      throw Error(str_cat(path, ":", line_no, ": expected a header 'name,M,N,K[,batch]', got '", line, "'"));
    }
    if (f.size() != 4 && f.size() != 5)
      throw Error(str_cat(path, ":", line_no, ": expected 'name,M,N,K[,batch]', got ", f.size(), " fields"));
    auto number = [&](size_t i, const char* what) {
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(f[i].c_str(), &end, 10);
      if (f[i].empty() || *end != '\0' || errno == ERANGE || v <= 0 || v > (1LL << 32))
        throw Error(str_cat(path, ":", line_no, ": ", what, " = '", f[i], "' must be a whole number in [1, 2^32]"));
      return static_cast<int64_t>(v);
    };
    HwOp o;
    o.name = o.layer = f[0].empty() ? str_cat("row", line_no) : f[0];
    o.trace_kind = "gemm";
    o.kind = OpKind::kGemm;
    o.unit = Unit::kSaGeneral;
    o.M = number(1, "M");
    o.N = number(2, "N");
    o.K = number(3, "K");
    o.batch = f.size() == 5 ? number(4, "batch") : 1;
    o.tokens = o.M;
    ops.push_back(std::move(o));
  }
  VT_CHECK(!ops.empty(), path, ": no GEMM rows");
  return ops;
}

std::vector<HwOp> load_gemm_workload(const std::string& path) { return parse_gemm_workload(read_file(path), path); }

}  // namespace vt::hw
