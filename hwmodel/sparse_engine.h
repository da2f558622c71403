// SANGER's sparse engine (MICRO 2021): its pack & split of a mask into blocks, and what a block
// costs. The engine is an R x C array of PEs (sparse_pe_rows x sparse_pe_cols, 64 x 16 in
// SANGER's cost models); each PE row serves one query row, each PE holds one kept score.
//
// Pack & split, as SANGER's pack unit does it (pack.scala): the query rows are taken R at a time;
// the mask of those rows is scanned column by column, each kept entry going to its row's next
// free PE; when an entry finds its row's C PEs full, the block is emitted and a new one starts.
// A dense mask therefore packs into blocks of C columns, exactly an R x C output-stationary
// tiling of Q K^T; a sparse one into blocks that span more columns, with rows that leave PEs idle.
//
// Per block (counted by the same rule as every systolic GEMM, hwmodel/README.md "Counting"):
//   SDDMM   each row with an entry in the block loads its q (d elements), each distinct column
//           its k (d elements); the scores stay in the PEs (score-stationary): no writes.
//           Time d + (R - 1) + (C - 1): d operand pairs stream, skewed along rows and columns.
//   exp     in the PEs, then the row sums shift along the row: C cycles (+ the exp latency once).
//   SpMM    each distinct column loads its v (d); each row with entries produces a partial
//           d-vector (the sum along its PEs), written out and, from the row's second block on,
//           read back and accumulated (partial-sum width; the last write at output width).
//           Time d + (R - 1) + (C - 1).
// On a dense mask these reads and writes equal an output-stationary GEMM Q K^T on the R x C
// array (SDDMM) and an input-stationary GEMM P V with P already in the PEs (SpMM); the tests
// check both.
#pragma once

#include <cstdint>

#include "core/trace.h"

namespace vt::hw {

struct SangerPack {
  int64_t blocks = 0;        // waves of the R x C array, over every head
  double nnz = 0;            // kept entries
  double row_loads = 0;      // sum over blocks of the rows holding an entry in it
  double col_loads = 0;      // sum over blocks of the distinct columns in it
  double rows_kept = 0;      // rows with at least one entry (their results are written at output width)
  double occupancy() const;  // nnz / (blocks R C): the share of PEs holding a score
  int64_t R = 0, C = 0;
};

// Packs every head of `mask` onto an R x C engine. Throws naming the mask when its offsets are
// inconsistent or a column lies outside [0, cols).
SangerPack sanger_pack(const TraceMask& mask, int64_t R, int64_t C);

}  // namespace vt::hw
