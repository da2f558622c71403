// Shared helpers for the attention tests: random (B,H,n,d) inputs and the composite references.
#pragma once

#include <cmath>

#include "core/ops.h"
#include "core/rng.h"

namespace vt::testing {

inline Tensor random_heads(Shape s, Generator& g, float scale = 1.f) { return randn(s, &g) * scale; }

// The quadratic form of Taylor attention (vit/README.md): Z = diag(A 1)^-1 A V, A = 1 1^T + s Q Khat^T.
inline Tensor taylor_quadratic(const Tensor& q, const Tensor& k, const Tensor& v) {
  const float s = 1.f / std::sqrt(static_cast<float>(q.size(-1)));
  Tensor khat = k - mean(k, {-2}, true);
  Tensor A = matmul(q, khat, false, true) * s + 1.f;  // (B,H,n,n)
  return matmul(A, v) / sum(A, {-1}, true);
}

// The closed form after centring: Z = 1 vbar + s Q (Khat^T V) / n.
inline Tensor taylor_closed_form(const Tensor& q, const Tensor& k, const Tensor& v) {
  const float s = 1.f / std::sqrt(static_cast<float>(q.size(-1)));
  const float n = static_cast<float>(q.size(-2));
  Tensor khat = k - mean(k, {-2}, true);
  Tensor G = matmul(khat, v, true, false);
  return mean(v, {-2}, true) + matmul(q, G) * (s / n);
}

}  // namespace vt::testing
