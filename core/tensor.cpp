// Tensor storage, creation, element access and printing. Autograd entry points (backward,
// detach, grads) live in core/autograd.cpp; ops live in core/ops_*.cpp.
#include "core/tensor.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <mutex>
#include <ostream>
#include <sstream>
#include <unordered_map>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"

namespace vt {

// ---------------------------------------------------------------- shapes
std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(s[i]);
  }
  if (s.size() == 1) out += ",";
  return out + ")";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const char* op) {
  int64_t a = axis < 0 ? axis + rank : axis;
  VT_CHECK(a >= 0 && a < rank, op, ": axis ", axis, " is out of range for a tensor of rank ", rank);
  return a;
}

// ---------------------------------------------------------------- storage
// Large buffers are recycled through a pool keyed by exact size: a training step allocates the
// same activation shapes every iteration, and handing a freed buffer back saves the page faults
// (and the kernel's zeroing) of a fresh mmap, which otherwise cost 5-40% of a GEMM's time.
// Small buffers go straight to malloc, which recycles them well on its own.
namespace {
std::atomic<int64_t> g_live_bytes{0};
std::atomic<int64_t> g_peak_bytes{0};

void note_alloc(int64_t bytes) {
  int64_t live = g_live_bytes.fetch_add(bytes) + bytes;
  int64_t peak = g_peak_bytes.load();
  while (live > peak && !g_peak_bytes.compare_exchange_weak(peak, live)) {
  }
}

size_t rounded_bytes(int64_t numel) {
  return (static_cast<size_t>(std::max<int64_t>(numel, 1)) * sizeof(float) + 63) / 64 * 64;
}

class BufferPool {
 public:
  static constexpr size_t kMinPooled = 256 * 1024;

  void* take(size_t bytes) {
    if (bytes >= kMinPooled) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= bytes;
        return p;
      }
    }
    return std::aligned_alloc(64, bytes);
  }

  void give(void* p, size_t bytes) {
    if (bytes >= kMinPooled) {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_ + bytes <= limit_) {
        free_[bytes].push_back(p);
        cached_ += bytes;
        return;
      }
    }
    std::free(p);
  }

  size_t cached() {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_;
  }

 private:
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0;
  size_t limit_ = size_t{4} << 30;  // never keep more than 4 GiB of idle buffers
};

BufferPool& pool() {
  static BufferPool* p = new BufferPool();  // never destroyed: tensors may outlive main's statics
  return *p;
}
}  // namespace

Storage::Storage(int64_t n) : numel(n) {
  VT_CHECK(n >= 0, "tensor: negative element count ", n);
  const size_t bytes = rounded_bytes(n);
  ptr = static_cast<float*>(pool().take(bytes));
  if (!ptr) throw Error(str_cat("tensor: out of memory allocating ", bytes, " bytes"));
  note_alloc(static_cast<int64_t>(bytes));
}

Storage::~Storage() {
  const size_t bytes = rounded_bytes(numel);
  g_live_bytes.fetch_sub(static_cast<int64_t>(bytes));
  pool().give(ptr, bytes);
}

MemoryStats memory_stats() { return {g_live_bytes.load(), g_peak_bytes.load(), static_cast<int64_t>(pool().cached())}; }
void reset_peak_memory() { g_peak_bytes.store(g_live_bytes.load()); }

// ---------------------------------------------------------------- handle basics
const Shape& Tensor::shape() const {
  VT_CHECK(defined(), "tensor: shape() of an undefined tensor");
  return impl_->shape;
}

int64_t Tensor::size(int64_t axis) const { return shape()[normalize_axis(axis, dim(), "size")]; }
int64_t Tensor::numel() const { return defined() ? impl_->numel : 0; }

float* Tensor::data() {
  VT_CHECK(defined(), "tensor: data() of an undefined tensor");
  return impl_->storage->ptr + impl_->offset;
}
const float* Tensor::data() const {
  VT_CHECK(defined(), "tensor: data() of an undefined tensor");
  return impl_->storage->ptr + impl_->offset;
}

std::vector<float> Tensor::to_vector() const {
  const float* p = data();
  return std::vector<float>(p, p + numel());
}

float Tensor::item() const {
  VT_CHECK(numel() == 1, "item: tensor of shape ", shape_str(shape()), " has ", numel(), " elements, expected 1");
  return data()[0];
}

namespace {
int64_t flat_index(const Shape& shape, std::initializer_list<int64_t> index) {
  VT_CHECK(index.size() == shape.size(), "at: ", index.size(), " indices for a tensor of shape ", shape_str(shape));
  int64_t flat = 0, d = 0;
  for (int64_t i : index) {
    VT_CHECK(i >= 0 && i < shape[d], "at: index ", i, " out of range for dimension ", d, " of size ", shape[d],
             " in shape ", shape_str(shape));
    flat = flat * shape[d] + i;
    ++d;
  }
  return flat;
}
}  // namespace

float Tensor::at(std::initializer_list<int64_t> index) const { return data()[flat_index(shape(), index)]; }
float& Tensor::at(std::initializer_list<int64_t> index) { return data()[flat_index(shape(), index)]; }

bool Tensor::same_storage(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage && impl_->offset == other.impl_->offset;
}

bool Tensor::exclusive() const { return defined() && impl_.use_count() == 1 && impl_->storage.use_count() == 1; }

// ---------------------------------------------------------------- creation
Tensor empty(const Shape& shape) {
  for (int64_t d : shape) VT_CHECK(d >= 0, "empty: negative size in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->numel = shape_numel(shape);
  impl->storage = std::make_shared<Storage>(impl->numel);
  impl->shape = shape;
  return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  std::fill_n(t.data(), t.numel(), value);
  return t;
}
Tensor zeros(const Shape& shape) { return full(shape, 0.f); }
Tensor ones(const Shape& shape) { return full(shape, 1.f); }
Tensor scalar(float value) { return full({}, value); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape()); }

Tensor arange(int64_t n) { return arange(0.0, static_cast<double>(n), 1.0); }

Tensor arange(double start, double end, double step) {
  VT_CHECK(step != 0 && std::isfinite(start) && std::isfinite(end) && std::isfinite(step),
           "arange: invalid range start=", start, " end=", end, " step=", step);
  int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((end - start) / step)));
  Tensor t = empty({n});
  for (int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<float>(start + step * i);
  return t;
}

Tensor from_data(std::vector<float> values, const Shape& shape) {
  VT_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_data: ", values.size(),
           " values do not fill shape ", shape_str(shape), " (", shape_numel(shape), " elements)");
  Tensor t = empty(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor randn(const Shape& shape, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  Tensor t = empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(g.normal());
  return t;
}

Tensor uniform(const Shape& shape, float low, float high, Generator* gen) {
  VT_CHECK(low <= high, "uniform: low ", low, " > high ", high);
  Generator& g = gen ? *gen : default_generator();
  Tensor t = empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = static_cast<float>(low + (static_cast<double>(high) - low) * g.uniform());
  return t;
}

Tensor trunc_normal(const Shape& shape, float std, float a, float b, float mean, Generator* gen) {
  VT_CHECK(std > 0 && a < b, "trunc_normal: need std > 0 and a < b, got std=", std, " a=", a, " b=", b);
  Generator& g = gen ? *gen : default_generator();
  Tensor t = empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(g.trunc_normal(mean, std, a, b));
  return t;
}

// ---------------------------------------------------------------- printing
namespace {
void print_rec(std::ostream& os, const float* p, const Shape& s, size_t d, int indent) {
  const int64_t n = s[d];
  const int64_t edge = 3;
  const bool summarise = n > 2 * edge + 1;
  int64_t inner = 1;
  for (size_t k = d + 1; k < s.size(); ++k) inner *= s[k];
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (summarise && i == edge) {
      os << (d + 1 == s.size() ? "..., " : "...,\n" + std::string(indent + 1, ' '));
      i = n - edge;
    }
    if (d + 1 == s.size()) {
      os << std::fixed << std::setprecision(4) << p[i];
    } else {
      print_rec(os, p + i * inner, s, d + 1, indent + 1);
    }
    if (i + 1 < n) os << (d + 1 == s.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
  }
  os << ']';
}
}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  std::ios_base::fmtflags flags = os.flags();
  std::streamsize prec = os.precision();
  os << "tensor(";
  if (t.dim() == 0) {
    os << std::fixed << std::setprecision(4) << t.data()[0];
  } else {
    print_rec(os, t.data(), t.shape(), 0, 7);
  }
  os << ", shape=" << shape_str(t.shape());
  if (!t.is_leaf()) os << ", grad_fn=<" << t.op_name() << ">";
  else if (t.requires_grad()) os << ", requires_grad=true";
  os << ")";
  os.flags(flags);
  os.precision(prec);
  return os;
}

std::string to_string(const Tensor& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

}  // namespace vt
