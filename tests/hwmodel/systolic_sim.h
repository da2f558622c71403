// A register-level systolic array simulator, the independent reference for hwmodel/systolic.h.
// It steps every PE of an R x C array cycle by cycle (operand registers passing right and down,
// partial sums passing down or accumulating in place), runs the folds of a GEMM one after another
// from an empty array, and returns the cycles and the product, which the tests compare with the
// closed forms and with a plain triple loop.
//
// Conventions (the same physical array the closed forms describe):
//   OS  A enters the left edge of row i skewed by i, W the top of column j skewed by j; PE (i, j)
//       accumulates in place; after the last MAC the results shift down and leave the bottom edge
//       (R cycles: row 0 crosses all R rows), or leave in the shadow of the next fold (overlapped).
//   WS  the W tile shifts in from the top (one row per cycle); A enters the left edge of row k
//       skewed by k; partial sums flow down and leave the bottom edge of the array.
//   IS  as WS with A stationary (transposed: PE (k, m)) and W streamed.
#pragma once

#include <cstdint>
#include <vector>

#include "hwmodel/config.h"

namespace vt::hw::test {

struct SimResult {
  int64_t cycles = 0;
  std::vector<double> out;  // M x N
};

struct Reg {
  double v = 0;
  bool valid = false;
};

// One output-stationary fold: rows [m0, m0+r) of A, columns [n0, n0+c) of W.
inline int64_t sim_os_fold(int64_t R, int64_t C, bool drain_explicit, int64_t m0, int64_t r, int64_t n0, int64_t c,
                           int64_t K, int64_t N, const std::vector<double>& A, const std::vector<double>& W,
                           std::vector<double>& O) {
  std::vector<Reg> a(R * C), w(R * C);
  std::vector<double> acc(R * C, 0.0);
  int64_t t = 0, last_mac = -1;
  for (;; ++t) {
    bool any_input_left = false;
    // shift right / down from the far end so each register moves once per cycle
    for (int64_t i = R - 1; i >= 0; --i)
      for (int64_t j = C - 1; j >= 0; --j) {
        Reg na, nw;
        if (j == 0) {
          const int64_t k = t - i;
          if (i < r && k >= 0 && k < K) na = {A[(m0 + i) * K + k], true};
          if (i < r && k < K) any_input_left = true;
        } else {
          na = a[i * C + j - 1];
        }
        if (i == 0) {
          const int64_t k = t - j;
          if (j < c && k >= 0 && k < K) nw = {W[k * N + n0 + j], true};
          if (j < c && k < K) any_input_left = true;
        } else {
          nw = w[(i - 1) * C + j];
        }
        a[i * C + j] = na;
        w[i * C + j] = nw;
        if (na.valid && nw.valid) {
          acc[i * C + j] += na.v * nw.v;
          last_mac = t;
        }
      }
    // done when no operand is left to enter and every register has emptied
    bool busy = any_input_left;
    for (int64_t p = 0; p < R * C && !busy; ++p) busy = a[p].valid || w[p].valid;
    if (!busy) break;
  }
  const int64_t compute = last_mac + 1;
  // drain: outputs shift down one row per cycle and leave at the bottom edge
  int64_t drain = 0;
  if (drain_explicit) {
    std::vector<int64_t> row_of(R);  // where the results of row i are now
    for (int64_t i = 0; i < R; ++i) row_of[i] = i;
    bool left = false;
    while (!left) {
      ++drain;
      left = true;
      for (int64_t i = 0; i < r; ++i) {
        if (row_of[i] < R) ++row_of[i];
        if (row_of[i] < R) left = false;
      }
    }
  }
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) O[(m0 + i) * N + n0 + j] += acc[i * C + j];
  return compute + drain;
}

// One WS/IS fold: `stat` is the r x c stationary tile (row k, column j), `stream(s, k)` the
// streamed operand's element for stream step s and array row k, `emit(s, j, value)` takes each
// finished partial sum. Returns the fold's cycles: preload, stream, and until the last partial sum
// has left the bottom edge.
template <class Stream, class Emit>
int64_t sim_stationary_fold(int64_t R, int64_t C, int64_t r, int64_t c, int64_t T, const std::vector<double>& stat,
                            Stream stream, Emit emit) {
  std::vector<Reg> w(R * C);
  // preload: the tile shifts in from the top, last row first, one row per cycle
  int64_t t = 0;
  for (int64_t p = 0; p < r; ++p, ++t) {
    for (int64_t i = R - 1; i > 0; --i)
      for (int64_t j = 0; j < C; ++j) w[i * C + j] = w[(i - 1) * C + j];
    for (int64_t j = 0; j < C; ++j) w[j] = j < c ? Reg{stat[(r - 1 - p) * c + j], true} : Reg{};
  }
  std::vector<Reg> a(R * C), ps(R * C);
  int64_t emitted = 0;
  const int64_t expected = T * c;
  for (int64_t s = 0; emitted < expected; ++s, ++t) {
    // the bottom row's partial sums leave the array at the start of the cycle
    for (int64_t j = 0; j < c; ++j) {
      const Reg& out = ps[(R - 1) * C + j];
      if (out.valid) {
        // which stream step produced it: it entered row 0 of column j at step m + j
        emit(s - (R - 1) - j - 1, j, out.v);
        ++emitted;
      }
    }
    for (int64_t i = R - 1; i >= 0; --i)
      for (int64_t j = C - 1; j >= 0; --j) {
        Reg na;
        if (j == 0) {
          const int64_t m = s - i;
          if (i < r && m >= 0 && m < T) na = {stream(m, i), true};
        } else {
          na = a[i * C + j - 1];
        }
        a[i * C + j] = na;
        Reg above = i == 0 ? Reg{} : ps[(i - 1) * C + j];
        Reg np = above;
        if (na.valid && j < c) {
          np.v = (above.valid ? above.v : 0.0) + na.v * (i < r ? w[i * C + j].v : 0.0);
          np.valid = true;
        }
        ps[i * C + j] = np;
      }
    if (emitted == expected) return t;  // this cycle only emitted
  }
  return t;
}

inline SimResult simulate_gemm(Dataflow df, int64_t R, int64_t C, bool drain_explicit, int64_t M, int64_t N, int64_t K,
                               const std::vector<double>& A, const std::vector<double>& W) {
  SimResult res;
  res.out.assign(M * N, 0.0);
  std::vector<double>& O = res.out;
  if (df == Dataflow::kOS) {
    for (int64_t n0 = 0; n0 < N; n0 += C)  // column folds outer
      for (int64_t m0 = 0; m0 < M; m0 += R)
        res.cycles +=
            sim_os_fold(R, C, drain_explicit, m0, std::min(R, M - m0), n0, std::min(C, N - n0), K, N, A, W, O);
    return res;
  }
  if (df == Dataflow::kWS) {  // rows: K, columns: N, stream: M
    for (int64_t n0 = 0; n0 < N; n0 += C)
      for (int64_t k0 = 0; k0 < K; k0 += R) {
        const int64_t r = std::min(R, K - k0), c = std::min(C, N - n0);
        std::vector<double> stat(r * c);
        for (int64_t i = 0; i < r; ++i)
          for (int64_t j = 0; j < c; ++j) stat[i * c + j] = W[(k0 + i) * N + n0 + j];
        res.cycles += sim_stationary_fold(
            R, C, r, c, M, stat, [&](int64_t m, int64_t i) { return A[m * K + k0 + i]; },
            [&](int64_t m, int64_t j, double v) { O[m * N + n0 + j] += v; });
      }
    return res;
  }
  // IS: rows: K, columns: M, stream: N
  for (int64_t m0 = 0; m0 < M; m0 += C)
    for (int64_t k0 = 0; k0 < K; k0 += R) {
      const int64_t r = std::min(R, K - k0), c = std::min(C, M - m0);
      std::vector<double> stat(r * c);
      for (int64_t i = 0; i < r; ++i)
        for (int64_t j = 0; j < c; ++j) stat[i * c + j] = A[(m0 + j) * K + k0 + i];
      res.cycles += sim_stationary_fold(
          R, C, r, c, N, stat, [&](int64_t n, int64_t i) { return W[(k0 + i) * N + n]; },
          [&](int64_t n, int64_t j, double v) { O[(m0 + j) * N + n] += v; });
    }
  return res;
}

}  // namespace vt::hw::test
