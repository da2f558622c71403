// Tensor: a float32, row-major, always-contiguous array behind a cheap shared handle.
//
//   Tensor x = vt::randn({2, 3});          // creation
//   x.set_requires_grad(true);             // a leaf that collects .grad()
//   Tensor y = vt::sum(x * x);             // ops build the autograd graph (core/ops.h)
//   y.backward();                          // x.grad() == 2x
//
// View rules (core/README.md): reshape and slices of leading dimensions share storage;
// everything else (permute, transpose, other slices) makes a contiguous copy, so every kernel is
// a plain loop over contiguous memory and matmul takes transpose flags instead of strided views.
// Handles are shallow: copying a Tensor copies the handle, not the data (use clone()).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace vt {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& s);                               // "(2,3)", "()" for a scalar, "(5,)" for rank 1
int64_t shape_numel(const Shape& s);                                 // product of the sizes, 1 for a scalar
int64_t normalize_axis(int64_t axis, int64_t rank, const char* op);  // -1 -> rank-1, checked

// One 64-byte-aligned float buffer. Its contents start uninitialised; creation functions fill it.
struct Storage {
  explicit Storage(int64_t numel);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  float* ptr = nullptr;
  int64_t numel = 0;
};

// Bytes held by all live Storage buffers, their high-water mark since the last reset, and the
// idle buffers kept for reuse (large buffers are recycled by size; see tensor.cpp).
struct MemoryStats {
  int64_t live_bytes;
  int64_t peak_bytes;
  int64_t cached_bytes;
};
MemoryStats memory_stats();
void reset_peak_memory();

struct Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (no storage); defined() is false

  // ---- shape queries ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const;

  // ---- raw data (contiguous, row-major) ----
  float* data();
  const float* data() const;
  std::vector<float> to_vector() const;
  float item() const;                                    // the value of a one-element tensor
  float at(std::initializer_list<int64_t> index) const;  // element access, bounds-checked
  float& at(std::initializer_list<int64_t> index);

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on = true);  // only on leaves (tensors no op produced)
  bool is_leaf() const;                       // not produced by a recorded op
  Tensor grad() const;                        // accumulated gradient of a leaf, or undefined
  void set_grad(const Tensor& g);             // replace (or clear, with Tensor()) the gradient
  void zero_grad();                           // drop the accumulated gradient
  Tensor detach() const;                      // same storage, no history, no requires_grad
  const char* op_name() const;                // name of the op that produced it, "" for a leaf
  void backward() const;                      // d(this)/d(leaves), this must have one element
  void backward(const Tensor& seed) const;    // vector-Jacobian product with seed (same shape)

  // ---- views and copies ----
  Tensor reshape(Shape shape) const;  // a view; one size may be -1
  Tensor clone() const;               // differentiable deep copy

  // Two handles to the same storage region (identity, not equality of values).
  bool same_storage(const Tensor& other) const;
  // True when no other handle or view shares this tensor's buffer (safe to modify in place).
  bool exclusive() const;

  // Internal: the implementation, for autograd and kernels.
  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in floats, into storage
  Shape shape;
  int64_t numel = 0;
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;  // set on outputs of recorded ops; null for leaves
  Tensor grad;                    // leaves only: the accumulated gradient
};

// ---- creation ----
class Generator;
Tensor empty(const Shape& shape);  // uninitialised
Tensor zeros(const Shape& shape);
Tensor ones(const Shape& shape);
Tensor full(const Shape& shape, float value);
Tensor scalar(float value);                                  // shape ()
Tensor arange(int64_t n);                                    // 0, 1, ..., n-1
Tensor arange(double start, double end, double step = 1.0);  // as numpy/torch
Tensor from_data(std::vector<float> values, const Shape& shape);
Tensor zeros_like(const Tensor& t);
// Random tensors draw from `gen`, or from the default generator (core/rng.h) when omitted.
Tensor randn(const Shape& shape, Generator* gen = nullptr);                           // N(0, 1)
Tensor uniform(const Shape& shape, float low, float high, Generator* gen = nullptr);  // U[low, high)
// timm's trunc_normal_: N(mean, std^2) restricted to [a, b]; a and b are absolute values, as in
// timm (trunc_normal_(std=.02) keeps the default a=-2, b=2, i.e. practically untruncated).
Tensor trunc_normal(const Shape& shape, float std, float a = -2.f, float b = 2.f, float mean = 0.f,
                    Generator* gen = nullptr);

// Prints like PyTorch: tensor([[1.0000, 2.0000], ...], shape=(2,2), grad_fn=<mul>).
// Large tensors are summarised (first and last 3 entries per dimension).
std::ostream& operator<<(std::ostream& os, const Tensor& t);
std::string to_string(const Tensor& t);

}  // namespace vt
