// The accelerator IR: one HwOp per operation a unit executes. The lowering (lower.h) turns the op
// trace of a forward pass, or a GEMM table, into a list of HwOps with their dependencies; the
// model (model.h) times each op on its unit and schedules them through the intra-layer pipeline.
//
// Dimensions: a GEMM is O (M x N) = A (M x K) . W (K x N), `batch` independent copies (heads).
// A vector op works on `rows` x `cols` elements per batch entry.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/trace.h"

namespace vt::hw {

enum class Unit {
  kSaGeneral,    // the P x P systolic array: linear layers and the attention GEMMs
  kSaDiag,       // the P x 1 array: Q k_sum^T (Algorithm 1, step 4)
  kAccumulator,  // column (token) sums: steps 1 and 3
  kDivider,      // single-divisor (the mean) and multiple-divisor (step 6) division
  kAdder,        // element-wise additions: centring, steps 4 and 5, residual connections
  kSoftmax,      // row softmax post-processor (softmax attention only)
  kLayerNorm,
  kGelu,
  kSparse,     // SANGER's sparse PE array: SDDMM, exp, SpMM on the kept entries
  kPredictor,  // SANGER's low-precision Q K^T for the mask
  kNone,       // layout only: addressing, no work
};
const char* unit_name(Unit u);

enum class OpKind {
  kGemm,           // systolic GEMM (M, N, K, batch)
  kColumnSum,      // rows x cols -> 1 x cols per sum (cols lanes accumulate over rows)
  kElementwise,    // rows x cols additions
  kDivideSingle,   // cols elements divided by one shared divisor
  kDivideMulti,    // rows x cols elements, one divisor per row
  kSoftmax,        // row softmax over rows x cols
  kLayerNorm,      // row layernorm over rows x cols
  kGelu,           // rows x cols
  kPredict,        // SANGER prediction: low-precision (M=n, N=n, K=d) GEMM + exp pass over n x n
  kSddmm,          // scores on the kept entries (mask), K = d
  kSparseSoftmax,  // exp of the kept scores in the PEs and their row sums
  kSpmm,           // kept scores times V (mask), N = d
  kLayout,         // reshape / concat / slice / patch extraction: addressing only
};
const char* op_kind_name(OpKind k);

// How a consumer waits for its producer: chunk by chunk (the intra-layer pipeline streams tokens),
// or for all of it (a reduction over all tokens: the mean of K, G = K^T V, k_sum, Q K^T's K).
enum class EdgeKind { kStream, kBarrier };

struct Dep {
  int op = -1;  // index of the producer in the op list
  EdgeKind kind = EdgeKind::kStream;
};

struct HwOp {
  std::string name;             // "blocks.3.attn.core.2" (a step of a fused op: its scope and step id)
  std::string layer;            // "patch_embed", "blocks.3", "head": ops of one layer share a pipeline
  std::string trace_kind;       // the traced op or step primitive it came from ("linear", "gemm", ...)
  std::string step, step_name;  // a fused op's step, as the kernel names it ("4a", "Q khat_sum^T")
  OpKind kind = OpKind::kGemm;
  Unit unit = Unit::kNone;
  bool attention = false;  // part of the attention core (between qkv and proj)
  int64_t M = 0, N = 0, K = 0, batch = 1;
  int64_t rows = 0, cols = 0, sums = 1;   // vector ops (sums: column sums computed in one pass)
  int64_t tokens = 0;                     // tokens streamed through the op (chunking)
  std::shared_ptr<const TraceMask> mask;  // sparse ops: the kept entries of every head
  int64_t bias_elements = 0;              // GEMM: bias added at the array's output (adds, no time)
  // Shares its unit chunk by chunk with an earlier op of its pipeline segment: P V after Q K^T on
  // SA-General, SpMM after SDDMM on SANGER's engine. The scores then never leave the chip.
  bool interleave = false;
  // Where the operands come from: an earlier op (its index), or kExternal (weights, the image:
  // always in DRAM). Vector and sparse ops read `a` only. Every source is also in `deps`.
  static constexpr int kExternal = -1;
  int a_src = kExternal, w_src = kExternal;
  std::vector<Dep> deps;
  // Where the operands live, set by the model before timing: read from DRAM or already on chip.
  bool a_in_dram = false, w_in_dram = false, out_to_dram = false;
  double in_bytes = 0, out_bytes = 0;  // vector ops: bytes of their inputs and outputs
};

}  // namespace vt::hw
