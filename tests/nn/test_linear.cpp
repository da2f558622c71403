// The fused linear op: values, agreement with the composite matmul + add, gradient checks.
#include <doctest/doctest.h>

#include "core/ops.h"
#include "core/rng.h"
#include "core/trace.h"
#include "nn/linear.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::check_values;
using vt::testing::gradcheck;
using vt::testing::Inputs;
using vt::testing::max_abs_diff;

TEST_CASE("linear: values by hand and against the composite") {
  Tensor x = from_data({1, 2, 3, 4}, {2, 2});
  Tensor w = from_data({1, 0, 0, 1, 1, 1}, {3, 2});  // (out 3, in 2)
  Tensor b = from_data({10, 20, 30}, {3});
  check_values(nn::linear(x, w, b), {11, 22, 33, 13, 24, 37});
  check_values(nn::linear(x, w, Tensor()), {1, 2, 3, 3, 4, 7});
  Generator g(1);
  Tensor x3 = randn({2, 5, 7}, &g), w3 = randn({4, 7}, &g), b3 = randn({4}, &g);
  CHECK(max_abs_diff(nn::linear(x3, w3, b3), matmul(x3, w3, false, true) + b3) < 1e-5f);
  CHECK_THROWS_WITH_AS(nn::linear(zeros({2, 3}), zeros({4, 5}), Tensor()),
                       "linear: input of shape (2,3) does not end in 5 features (weight (4,5))", Error);
  CHECK_THROWS_AS(nn::linear(zeros({2, 5}), zeros({4, 5}), zeros({3})), Error);
}

TEST_CASE("linear: gradient checks with and without bias, 2-D and 3-D input") {
  Generator g(2);
  CHECK(gradcheck([](const Inputs& i) { return nn::linear(i[0], i[1], i[2]); },
                  {randn({3, 4}, &g), randn({2, 4}, &g), randn({2}, &g)}));
  CHECK(gradcheck([](const Inputs& i) { return nn::linear(i[0], i[1], Tensor()); },
                  {randn({2, 3, 4}, &g), randn({5, 4}, &g)}));
}

TEST_CASE("linear with GELU: equals gelu(linear), gradient check, two trace records") {
  Generator g(3);
  // 2100 rows: the GEMM runs in row panels and each panel gets bias and GELU in its epilogue.
  for (int64_t rows : {5, 2100}) {
    Tensor x = randn({rows, 12}, &g), w = randn({9, 12}, &g), b = randn({9}, &g);
    CHECK(max_abs_diff(nn::linear(x, w, b, nn::Activation::kGelu), gelu(nn::linear(x, w, b))) < 1e-6f);
    w.set_requires_grad();  // the path that keeps the pre-activation for backward
    CHECK(max_abs_diff(nn::linear(x, w, b, nn::Activation::kGelu), gelu(nn::linear(x, w, b))) < 1e-6f);
  }
  CHECK(gradcheck([](const Inputs& i) { return nn::linear(i[0], i[1], i[2], nn::Activation::kGelu); },
                  {randn({2, 3, 4}, &g), randn({5, 4}, &g), randn({5}, &g)}));
  Trace trace;
  trace.time_ops = true;
  {
    TraceSession on(trace);
    nn::linear(zeros({6, 4}), zeros({3, 4}), zeros({3}), nn::Activation::kGelu);
  }
  REQUIRE(trace.records.size() == 2);  // what the hardware model lowers: a GEMM, then GELU
  CHECK(trace.records[0].kind == "linear");
  CHECK(trace.records[1].kind == "gelu");
  CHECK(trace.records[1].output == Shape{6, 3});
  CHECK(trace.records[1].attrs.count("time_split_by_flops") == 1);
}

TEST_CASE("linear with a residual: equals r + linear, gradient check for all four inputs, an add record") {
  Generator g(4);
  for (int64_t rows : {5, 2100}) {  // one call, and row panels with the residual in each epilogue
    Tensor x = randn({rows, 12}, &g), w = randn({9, 12}, &g), b = randn({9}, &g), r = randn({rows, 9}, &g);
    CHECK(max_abs_diff(nn::linear(x, w, b, nn::Activation::kNone, r), r + nn::linear(x, w, b)) == 0.f);
    CHECK(max_abs_diff(nn::linear(x, w, b, nn::Activation::kGelu, r), r + gelu(nn::linear(x, w, b))) < 1e-6f);
  }
  CHECK(gradcheck([](const Inputs& i) { return nn::linear(i[0], i[1], i[2], nn::Activation::kNone, i[3]); },
                  {randn({2, 3, 4}, &g), randn({5, 4}, &g), randn({5}, &g), randn({2, 3, 5}, &g)}));
  CHECK(gradcheck([](const Inputs& i) { return nn::linear(i[0], i[1], i[2], nn::Activation::kGelu, i[3]); },
                  {randn({3, 4}, &g), randn({5, 4}, &g), randn({5}, &g), randn({3, 5}, &g)}));
  CHECK_THROWS_WITH_AS(nn::linear(zeros({2, 4}), zeros({3, 4}), Tensor(), nn::Activation::kNone, zeros({2, 4})),
                       "linear: residual of shape (2,4) for an output of shape (2,3)", Error);
  Trace trace;
  {
    TraceSession on(trace);
    nn::linear(zeros({6, 4}), zeros({3, 4}), zeros({3}), nn::Activation::kNone, zeros({6, 3}));
  }
  REQUIRE(trace.records.size() == 2);  // the GEMM, then the skip connection's add
  CHECK(trace.records[0].kind == "linear");
  CHECK(trace.records[1].kind == "add");
}

TEST_CASE("Linear module: timm names and a trace record") {
  nn::Linear l(4, 3);
  nn::Parameters p;
  l.parameters(p, "blocks.0.attn.proj");
  REQUIRE(p.size() == 2);
  CHECK(p[0].name == "blocks.0.attn.proj.weight");
  CHECK(p[0].tensor.shape() == Shape{3, 4});
  CHECK(p[1].name == "blocks.0.attn.proj.bias");
  Trace trace;
  {
    TraceSession on(trace);
    l.forward(zeros({6, 4}));
  }
  REQUIRE(trace.records.size() == 1);
  CHECK(trace.records[0].kind == "linear");
  CHECK(trace.records[0].attrs.at("M") == 6);
  CHECK(trace.records[0].flops == 2 * 6 * 3 * 4);
}
