// SANGER's pack & split (see sparse_engine.h).
#include "hwmodel/sparse_engine.h"

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace vt::hw {

double SangerPack::occupancy() const { return blocks > 0 ? nnz / (double(blocks) * double(R) * double(C)) : 1.0; }

SangerPack sanger_pack(const TraceMask& m, int64_t R, int64_t C) {
  VT_CHECK(R > 0 && C > 0, "sanger_pack: an engine of ", R, " x ", C, " PEs");
  VT_CHECK(m.heads > 0 && m.rows > 0 && m.cols > 0 && static_cast<int64_t>(m.row_ptr.size()) == m.heads * m.rows + 1,
           "sparse mask: ", m.row_ptr.size(), " row offsets for ", m.heads, " heads x ", m.rows, " rows");
  VT_CHECK(m.row_ptr.front() == 0 && m.row_ptr.back() == m.nnz(), "sparse mask: offsets do not cover its ", m.nnz(),
           " entries");
  SangerPack p;
  p.R = R;
  p.C = C;
  p.nnz = double(m.nnz());
  std::vector<int32_t> used(static_cast<size_t>(R));            // per row of the group: PEs filled in the current block
  std::vector<uint8_t> row_in(static_cast<size_t>(R));          // per row: holds an entry of the current block
  std::vector<uint8_t> row_any(static_cast<size_t>(R));         // per row: holds an entry of any block
  std::vector<int64_t> start(static_cast<size_t>(m.cols) + 1);  // the group's entries bucketed by column
  std::vector<int32_t> rows_of;
  for (int64_t h = 0; h < m.heads; ++h)
    for (int64_t g = 0; g < m.rows; g += R) {
      const int64_t rows = std::min(R, m.rows - g);
      const int64_t* ptr = m.row_ptr.data() + h * m.rows + g;
      // counting sort of the group's entries by column: rows_of[start[j] .. start[j+1]) keep column j
      std::fill(start.begin(), start.end(), 0);
      for (int64_t r = 0; r < rows; ++r) {
        VT_CHECK(ptr[r] <= ptr[r + 1], "sparse mask: row ", g + r, " of head ", h, " has a negative length");
        for (int64_t e = ptr[r]; e < ptr[r + 1]; ++e) {
          VT_CHECK(m.col[e] >= 0 && m.col[e] < m.cols, "sparse mask: column ", m.col[e], " of head ", h,
                   " outside [0, ", m.cols, ")");
          ++start[static_cast<size_t>(m.col[e]) + 1];
        }
        used[r] = 0;
        row_in[r] = row_any[r] = 0;
      }
      for (int64_t j = 0; j < m.cols; ++j) start[j + 1] += start[j];
      rows_of.assign(static_cast<size_t>(start[m.cols]), 0);
      std::vector<int64_t> fill(start.begin(), start.end() - 1);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t e = ptr[r]; e < ptr[r + 1]; ++e) rows_of[fill[m.col[e]]++] = static_cast<int32_t>(r);
      int64_t block_cols = 0;
      auto close = [&] {
        if (block_cols == 0) return;
        ++p.blocks;
        p.col_loads += double(block_cols);
        for (int64_t r = 0; r < rows; ++r) {
          p.row_loads += row_in[r];
          used[r] = 0;
          row_in[r] = 0;
        }
        block_cols = 0;
      };
      // the columns in order; a block is emitted when an entry finds its row's C PEs full
      for (int64_t j = 0; j < m.cols; ++j) {
        if (start[j] == start[j + 1]) continue;
        for (int64_t e = start[j]; e < start[j + 1]; ++e)
          if (used[rows_of[e]] == C) {
            close();
            break;
          }
        for (int64_t e = start[j]; e < start[j + 1]; ++e) {
          const int32_t r = rows_of[e];
          ++used[r];
          row_in[r] = row_any[r] = 1;
        }
        ++block_cols;
      }
      close();
      for (int64_t r = 0; r < rows; ++r) p.rows_kept += row_any[r];
    }
  return p;
}

}  // namespace vt::hw
