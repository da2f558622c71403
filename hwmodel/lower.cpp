// Lowering a traced DeiT forward pass (or a GEMM table) to accelerator ops (see lower.h).
#include "hwmodel/lower.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/fileio.h"

namespace vt::hw {

namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

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
    for (const TraceRecord& r : records) {
      VT_CHECK(!r.backward, "hwmodel: trace record ", r.kind, " at ", r.scope,
               " was recorded in backward; trace a forward pass");
      if (r.step.empty()) lower_op(r);
      else lower_step(r);
    }
  }

 private:
  int cur_ = HwOp::kExternal;       // the op whose output is the current activation
  int residual_ = HwOp::kExternal;  // the op whose output is the residual stream
  // the fused op whose steps are being lowered: its scope, its input, its steps by id
  std::string fused_scope_;
  int fused_input_ = HwOp::kExternal;
  std::map<std::string, int> step_op_;

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
  // Makes `src` a dependency of `op` of kind `kind` (a barrier wins over a stream).
  void depend(int op, int src, EdgeKind kind) {
    if (src < 0) return;
    for (Dep& d : ops[static_cast<size_t>(op)].deps)
      if (d.op == src) {
        if (kind == EdgeKind::kBarrier) d.kind = kind;
        return;
      }
    ops[static_cast<size_t>(op)].deps.push_back({src, kind});
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

  // The op an operand of a step comes from: the fused op's input (its q, k, v all come from the
  // qkv projection) or an earlier step.
  int source(const TraceRecord& r, const TraceOperand& o) const {
    if (o.from == "q" || o.from == "k" || o.from == "v" || o.from == "input") return fused_input_;
    auto it = step_op_.find(o.from);
    VT_CHECK(it != step_op_.end(), "hwmodel: step ", r.step, " of ", r.step_of, " at ", r.scope, " reads '", o.from,
             "', which is neither an input nor an earlier step");
    return it->second;
  }

  // One step of a fused op (vit/attention_steps.h): the unit from its primitive, the
  // dependencies from its operands.
  void lower_step(const TraceRecord& r) {
    if (r.scope != fused_scope_ || step_op_.count(r.step)) {  // the first step of a new fused op
      fused_scope_ = r.scope;
      fused_input_ = cur_;
      step_op_.clear();
    }
    VT_CHECK(!r.operands.empty(), "hwmodel: step ", r.step, " of ", r.step_of, " at ", r.scope, " names no operands");
    const int64_t h = attr(r, "heads"), tokens = attr(r, "tokens");
    const int a = source(r, r.operands[0]);
    const int w = r.operands.size() > 1 ? source(r, r.operands[1]) : HwOp::kExternal;
    const std::string& k = r.kind;
    HwOp o;
    if (k == "gemm" || k == "predict") {
      // a matrix-vector product runs on SA-Diag (the P x 1 array); the rest on SA-General
      const int64_t N = attr(r, "N");
      const Unit unit = k == "predict" ? Unit::kPredictor : N == 1 ? Unit::kSaDiag : Unit::kSaGeneral;
      o = gemm(unit, attr(r, "M"), N, attr(r, "K"), h, a, w, tokens);
      if (k == "predict") o.kind = OpKind::kPredict;
    } else {
      const int64_t rows = attr(r, "rows"), cols = attr(r, "cols");
      if (k == "column_sum") {
        o = vec(OpKind::kColumnSum, Unit::kAccumulator, h, rows, cols, a, tokens);
      } else if (k == "add") {
        o = vec(OpKind::kElementwise, Unit::kAdder, h, rows, cols, a, tokens);
      } else if (k == "divide") {
        o = vec(attr(r, "divisors") == 1 ? OpKind::kDivideSingle : OpKind::kDivideMulti, Unit::kDivider, h, rows, cols,
                a, tokens);
      } else if (k == "softmax_rows") {
        o = vec(OpKind::kSoftmax, Unit::kSoftmax, h, rows, cols, a, tokens);
      } else if (k == "sddmm" || k == "sparse_softmax" || k == "spmm") {
        o = vec(k == "sddmm"  ? OpKind::kSddmm
                : k == "spmm" ? OpKind::kSpmm
                              : OpKind::kSparseSoftmax,
                Unit::kSparse, h, rows, cols, a, tokens);
        o.K = attr(r, "K");
        o.mask = r.mask;
        VT_CHECK(o.mask && o.mask->heads == h && o.mask->rows == rows, r.kind, " at ", r.scope,
                 ": a sparse step needs its mask for ", h, " heads x ", rows, " rows");
      } else {
        throw Error(
            str_cat("hwmodel: no lowering for step ", r.step, " (", k, ") of ", r.step_of, " at '", r.scope, "'"));
      }
      o.w_src = HwOp::kExternal;  // vector ops read `a`; their other operands are dependencies
    }
    o.step = r.step;
    o.step_name = r.step_name;
    const int i = add(o, r, r.step);
    for (const TraceOperand& operand : r.operands) {
      depend(i, source(r, operand), operand.use == TraceOperand::Use::kWhole ? EdgeKind::kBarrier : EdgeKind::kStream);
      // consumed in its producer's own pass: the two may share a unit within a pipeline segment
      if (operand.use == TraceOperand::Use::kFused) ops[static_cast<size_t>(i)].interleave = true;
    }
    step_op_[r.step] = i;
    cur_ = i;  // the last step's output is the fused op's
  }

  // An op of core/ or nn/ (linear, layer_norm, gelu, add, scale, layout ops).
  void lower_op(const TraceRecord& r) {
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
      return;
    }
    if (k == "matmul") {
      VT_CHECK(r.inputs.size() == 2 && r.inputs[0].size() >= 2 && r.inputs[1].size() >= 2, "hwmodel: matmul at ",
               r.scope, " without two matrix inputs");
      const Shape& a = r.inputs[0];
      int64_t batch = 1;
      for (size_t i = 0; i + 2 < r.output.size(); ++i) batch *= r.output[i];
      const int64_t M = r.output[r.output.size() - 2], N = r.output.back();
      const int64_t K = (r.attrs.count("trans_a") && r.attrs.at("trans_a") != 0) ? a[a.size() - 2] : a.back();
      cur_ = add(gemm(Unit::kSaGeneral, M, N, K, batch, cur_, HwOp::kExternal, M), r);
      return;
    }
    if (k == "layer_norm" || k == "gelu" || k == "add" || k == "mul_scalar") {
      const int64_t cols = r.output.back();
      int64_t numel = 1;
      for (int64_t v : r.output) numel *= v;
      const OpKind kind = k == "layer_norm" ? OpKind::kLayerNorm : k == "gelu" ? OpKind::kGelu : OpKind::kElementwise;
      const Unit unit = k == "layer_norm" ? Unit::kLayerNorm : k == "gelu" ? Unit::kGelu : Unit::kAdder;
      // residual additions are traced at the block's scope: name them
      // (a distilled model's two heads are averaged: an add and a scale by 1/2 on the adder array)
      const std::string step = k == "add"          ? (starts_with(r.scope, "blocks.") ? "residual" : "add")
                               : k == "mul_scalar" ? "scale"
                                                   : "";
      const int i = add(vec(kind, unit, 1, numel / cols, cols, cur_, numel / cols), r, step);
      if (k == "add" && !starts_with(r.scope, "head")) {  // not the average of two heads
        depend(i, residual_, EdgeKind::kStream);          // x + f(x): the block's input, still on chip
        residual_ = i;
      }
      cur_ = i;
      return;
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
  enum class Form { kUnknown, kGemm, kConv } form = Form::kUnknown;
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
    if (form == Form::kUnknown) {                         // the header says which of SCALE-Sim's two forms follows
      auto lower = [](std::string x) {
        for (char& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return x;
      };
      if (f.size() >= 4 && f[1] == "M" && f[2] == "N" && f[3] == "K") {
        form = Form::kGemm;
        continue;
      }
      if (f.size() >= 8 && lower(f[1]).find("ifmap") != std::string::npos &&
          lower(f[3]).find("filter") != std::string::npos) {
        form = Form::kConv;
        continue;
      }
      throw Error(str_cat(path, ":", line_no, ": expected a header 'Layer, M, N, K,' (GEMMs) or 'Layer name, IFMAP ",
                          "Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,' ",
                          "(convolutions), got '", line, "'"));
    }
    auto number = [&](size_t i, const char* what) {
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(f[i].c_str(), &end, 10);
      if (f[i].empty() || *end != '\0' || errno == ERANGE || v <= 0 || v > (1LL << 32))
        throw Error(str_cat(path, ":", line_no, ": ", what, " = '", f[i], "' must be a whole number in [1, 2^32]"));
      return static_cast<int64_t>(v);
    };
    auto gemm = [&](const std::string& name, int64_t M, int64_t N, int64_t K, int64_t batch) {
      HwOp o;
      o.name = o.layer = name;
      o.trace_kind = "gemm";
      o.kind = OpKind::kGemm;
      o.unit = Unit::kSaGeneral;
      o.M = M;
      o.N = N;
      o.K = K;
      o.batch = batch;
      o.tokens = o.M;
      ops.push_back(std::move(o));
    };
    const std::string name = f.empty() || f[0].empty() ? str_cat("row", line_no) : f[0];
    if (form == Form::kGemm) {
      if (f.size() != 4 && f.size() != 5)
        throw Error(str_cat(path, ":", line_no, ": expected 'name, M, N, K[, batch]', got ", f.size(), " fields"));
      gemm(name, number(1, "M"), number(2, "N"), number(3, "K"), f.size() == 5 ? number(4, "batch") : 1);
      continue;
    }
    // A convolution as SCALE-Sim lowers it: ofmap = ceil((ifmap - filter + stride) / stride) per
    // side (no padding), M = ofmap pixels, N = filters, K = filter h x w x channels. A layer whose
    // name contains "DP" is depthwise: one single-channel layer per channel, as SCALE-Sim splits it.
    if (f.size() != 8 && f.size() != 9)
      throw Error(str_cat(path, ":", line_no, ": expected 'name, IFMAP Height, IFMAP Width, Filter Height, Filter ",
                          "Width, Channels, Num Filter, Strides[, Stride width]', got ", f.size(), " fields"));
    const int64_t ih = number(1, "IFMAP Height"), iw = number(2, "IFMAP Width"), fh = number(3, "Filter Height"),
                  fw = number(4, "Filter Width"), ch = number(5, "Channels"), nf = number(6, "Num Filter"),
                  sh = number(7, "Strides"), sw = f.size() == 9 ? number(8, "Stride width") : sh;
    if (fh > ih || fw > iw)
      throw Error(str_cat(path, ":", line_no, ": the filter (", fh, " x ", fw, ") is larger than the ifmap (", ih,
                          " x ", iw, ")"));
    const int64_t oh = (ih - fh + sh + sh - 1) / sh, ow = (iw - fw + sw + sw - 1) / sw;
    if (name.find("DP") != std::string::npos) {
      for (int64_t c = 0; c < ch; ++c) gemm(str_cat(name, "Channel_", c), oh * ow, nf, fh * fw, 1);
    } else {
      gemm(name, oh * ow, nf, fh * fw * ch, 1);
    }
  }
  VT_CHECK(!ops.empty(), path, ": no layers");
  return ops;
}

std::vector<HwOp> load_gemm_workload(const std::string& path) { return parse_gemm_workload(read_file(path), path); }

}  // namespace vt::hw
