// From a workload to HwOps: the op trace of a DeiT forward pass (batch 1), or a GEMM table.
//
// Trace lowering, per traced kind (DESIGN.md section 7, the paper's unit mapping):
//   linear, softmax_qk, softmax_pv, matmul     GEMM on SA-General (weights from DRAM)
//   layer_norm, gelu                           the post-processors
//   add (residual, pos_embed)                  adder array
//   softmax_rows                               softmax unit (absent on the ViTALiTy accelerator)
//   taylor_* / vitality_lowrank                Algorithm 1, one op per step and unit:
//     1a+3v column sums of K and V (accumulator)  1b mean (divider, single divisor)
//     1c centre K (adder)   2 G = K^T V (SA-General)   3 k_sum (accumulator)
//     4a Q k_sum^T (SA-Diag)   5a Q G (SA-General)   4b+5b + n sqrt(d), + sqrt(d) v_sum (adder)
//     6 divide by t_D (divider, one divisor per row)
//   sparse_* / vitality_* (predict, sddmm, softmax, spmm)   SANGER: predictor, sparse engine,
//     and the row normalisation on the divider array
//   patchify, reshape, concat, slice, permute  layout: addressing only, no cost
// Dependencies follow the data: reductions over all tokens (the mean of K, G, k_sum, Q K^T's K)
// are barriers; everything else streams token chunks. Any other traced kind is an error.
#pragma once

#include <string>
#include <vector>

#include "core/trace.h"
#include "hwmodel/ir.h"

namespace vt::hw {

// `records`: a forward pass traced at batch 1 (backward records are refused).
std::vector<HwOp> lower_trace(const std::vector<TraceRecord>& records);

// A SCALE-Sim-style GEMM table: a header line, then `name,M,N,K` per row (an optional fifth
// column `batch`, trailing commas allowed). Every GEMM runs on SA-General with its operands in
// DRAM, one after another. Errors name the file, the line and the field.
std::vector<HwOp> parse_gemm_workload(const std::string& text, const std::string& path);
std::vector<HwOp> load_gemm_workload(const std::string& path);

}  // namespace vt::hw
