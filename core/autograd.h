// Reverse-mode autograd (core/README.md). Every op output that needs a gradient carries a
// Node: the op's inputs, and a backward closure written directly under the op's forward that maps
// the output's gradient to one gradient per input. Tensor::backward() orders the nodes
// topologically without recursion, runs the closures once each, accumulates gradients with a
// shape check, and frees the graph as it goes.
//
// How an op records itself (see core/ops_unary.cpp for many examples):
//
//   Tensor out = ...forward...;
//   if (needs_grad(x)) {
//     record_op(out, "exp", {x}, [y = out.detach()](const Tensor& g) -> Grads {
//       return {g * y};                      // d exp(x)/dx = exp(x)
//     });
//   }
//
// Closures capture what backward needs as detached handles (never the output itself, which
// would make a reference cycle), and return an undefined Tensor for inputs without a gradient.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace vt {

using Grads = std::vector<Tensor>;
using BackwardFn = std::function<Grads(const Tensor& grad_out)>;

struct Node {
  const char* op = "";
  std::vector<Tensor> inputs;  // as given to record_op; undefined entries are allowed
  BackwardFn backward;         // grad of the output -> grads of the inputs (same order)
  Tensor grad;                 // gradient of the output, accumulated during backward()
  Shape out_shape;
  std::string scope;      // the op trace's scope when recorded under a Trace (profiles), else empty
  bool released = false;  // set once backward() has run through this node
  ~Node();                // iterative teardown: a 10^6-op chain must not overflow the stack
};

// Grad mode is per thread, on by default; NoGradGuard turns it off for a scope (evaluation,
// optimiser updates, and the backward pass itself).
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// True when grad mode is on and any argument requires a gradient.
template <class... Ts>
bool needs_grad(const Ts&... ts) {
  return grad_enabled() && (... || (ts.defined() && ts.requires_grad()));
}

// Attach `fn` to `out` as the op `op` with the given inputs.
void record_op(Tensor& out, const char* op, std::vector<Tensor> inputs, BackwardFn fn);

// True while Tensor::backward() is running closures on this thread (the op trace uses it).
bool in_backward();

}  // namespace vt
