// The register-level simulator (systolic_sim.h) against the closed forms: every dataflow, both
// OS drain conventions, full and edge folds, arrays up to 16x16; and the simulator's product
// against a triple loop, so that its timing is that of an array that really computes the GEMM.
#include <doctest/doctest.h>

#include <cmath>

#include "core/rng.h"
#include "hwmodel/systolic.h"
#include "hwmodel_test_util.h"
#include "systolic_sim.h"

using namespace vt;
using namespace vt::hw;
using namespace vt::hw::test;

TEST_CASE("the simulator computes the GEMM and takes the closed form's cycles") {
  const ArchConfig arch = load_arch_config("vitality");  // buffers large enough: one pass
  Generator gen(7);
  struct Case {
    int64_t R, C, M, N, K;
  };
  const Case cases[] = {{4, 4, 4, 4, 4},    {4, 4, 5, 3, 7},      {4, 4, 9, 9, 9},      {2, 3, 7, 5, 4},
                        {8, 8, 17, 10, 23}, {16, 16, 16, 16, 16}, {16, 16, 40, 33, 21}, {16, 8, 3, 50, 35},
                        {1, 1, 3, 2, 5},    {5, 16, 12, 1, 40}};
  for (const Case& c : cases)
    for (Dataflow d : {Dataflow::kOS, Dataflow::kWS, Dataflow::kIS})
      for (bool drain : {true, false}) {
        if (d != Dataflow::kOS && !drain) continue;
        CAPTURE(c.R);
        CAPTURE(c.C);
        CAPTURE(c.M);
        CAPTURE(c.N);
        CAPTURE(c.K);
        CAPTURE(dataflow_name(d));
        CAPTURE(drain);
        std::vector<double> A(c.M * c.K), W(c.K * c.N);
        for (double& v : A) v = std::round(gen.uniform(-4, 4));
        for (double& v : W) v = std::round(gen.uniform(-4, 4));
        const SimResult sim = simulate_gemm(d, c.R, c.C, drain, c.M, c.N, c.K, A, W);
        for (int64_t m = 0; m < c.M; ++m)
          for (int64_t n = 0; n < c.N; ++n) {
            double ref = 0;
            for (int64_t k = 0; k < c.K; ++k) ref += A[m * c.K + k] * W[k * c.N + n];
            REQUIRE(sim.out[m * c.N + n] == ref);
          }
        ArrayConfig a;
        a.rows = c.R;
        a.cols = c.C;
        a.dataflow = d;
        a.os_drain_explicit = drain;
        const GemmTiming t = systolic_gemm({c.M, c.N, c.K, 1}, a, GemmOperands{}, arch);
        REQUIRE(t.passes == 1);
        CHECK(sim.cycles == t.compute_cycles);
      }
}
