// From a workload to HwOps: the op trace of a DeiT forward pass (batch 1), or a GEMM table.
//
// Trace lowering. Ops of core/ and nn/, by traced kind:
//   linear, matmul                              GEMM on SA-General (weights from DRAM)
//   layer_norm, gelu                            the post-processors
//   add (residual, pos_embed)                   adder array
//   patchify, reshape, concat, slice, permute   layout: addressing only, no cost
// Steps of a fused op (the attention kinds' steps, vit/attention_steps.h), by primitive, with no
// list of attention kinds: each step becomes one op named `<scope>.<step id>` ("blocks.3.attn.core.4a"):
//   gemm            SA-General; a matrix-vector product (N = 1) on SA-Diag
//   column_sum      accumulator array          add      adder array
//   divide          divider array (one shared divisor, or one per row)
//   softmax_rows    softmax unit (absent on the ViTALiTy accelerator)
//   predict         SANGER's low-precision predictor
//   sddmm, sparse_softmax, spmm   SANGER's sparse engine, on the mask's kept entries per row
// A step's operands give its dependencies: an operand it needs whole (a reduction over all
// tokens: the mean of K, G, k_sum; all of K for Q K^T) is a barrier, the others stream token
// chunks, and a fused one lets the step share its producer's unit. Anything else is an error.
#pragma once

#include <string>
#include <vector>

#include "core/trace.h"
#include "hwmodel/ir.h"

namespace vt::hw {

// `records`: a forward pass traced at batch 1 (backward records are refused).
std::vector<HwOp> lower_trace(const std::vector<TraceRecord>& records);

// A SCALE-Sim v2 topology file, either of its forms, told apart by the header: GEMMs
// (`Layer, M, N, K,`; an optional fifth column `batch`) or convolutions (`Layer name, IFMAP Height,
// IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,` with an optional stride
// width), lowered to GEMMs as SCALE-Sim does (no padding; "DP" layers split per channel). Trailing
// commas allowed. Every GEMM runs on SA-General with its operands in DRAM, one after another.
// Errors name the file, the line and the field.
std::vector<HwOp> parse_gemm_workload(const std::string& text, const std::string& path);
std::vector<HwOp> load_gemm_workload(const std::string& path);

}  // namespace vt::hw
