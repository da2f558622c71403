// The backward engine: topological order without recursion, gradient accumulation with shape
// checks, and freeing of the graph. The per-op backward closures live beside their forwards.
#include "core/autograd.h"

#include <chrono>
#include <unordered_set>

#include "core/ops.h"
#include "core/threads.h"
#include "core/trace.h"

namespace vt {

namespace {
thread_local bool t_grad_enabled = true;
thread_local bool t_in_backward = false;
}  // namespace

bool grad_enabled() { return t_grad_enabled; }
bool in_backward() { return t_in_backward; }
NoGradGuard::NoGradGuard() : prev_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = prev_; }

// Tearing down a long chain recursively (node -> input tensor -> its node -> ...) would use one
// stack frame per op; instead, nodes that only we own are unlinked onto an explicit stack.
Node::~Node() {
  std::vector<std::shared_ptr<Node>> pending;
  auto unlink = [&pending](std::vector<Tensor>& ins) {
    for (Tensor& t : ins) {
      const auto& impl = t.impl();
      if (impl && impl.use_count() == 1 && impl->grad_fn && impl->grad_fn.use_count() == 1)
        pending.push_back(std::move(impl->grad_fn));
    }
    ins.clear();
  };
  backward = nullptr;
  unlink(inputs);
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    n->backward = nullptr;
    unlink(n->inputs);
  }  // each n is destroyed here with no inputs left, so its own destructor does not recurse
}

void record_op(Tensor& out, const char* op, std::vector<Tensor> inputs, BackwardFn fn) {
  VT_ASSERT(out.defined() && !out.impl()->grad_fn);
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->backward = std::move(fn);
  node->out_shape = out.shape();
  if (const Trace* t = active_trace()) node->scope = t->scope_name();  // for profiles of backward
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
}

// ---------------------------------------------------------------- Tensor's autograd members
bool Tensor::requires_grad() const { return defined() && impl_->requires_grad; }
bool Tensor::is_leaf() const { return !defined() || !impl_->grad_fn; }
const char* Tensor::op_name() const { return is_leaf() ? "" : impl_->grad_fn->op; }

Tensor& Tensor::set_requires_grad(bool on) {
  VT_CHECK(defined(), "set_requires_grad: undefined tensor");
  VT_CHECK(is_leaf(), "set_requires_grad: only leaves can be marked; this tensor was produced by '", op_name(),
           "' (use detach() to start a new leaf)");
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return defined() ? impl_->grad : Tensor(); }

void Tensor::set_grad(const Tensor& g) {
  VT_CHECK(defined(), "set_grad: undefined tensor");
  VT_CHECK(!g.defined() || g.shape() == shape(), "set_grad: gradient of shape ", shape_str(g.shape()),
           " for a tensor of shape ", shape_str(shape()));
  impl_->grad = g;
}

void Tensor::zero_grad() {
  if (defined()) impl_->grad = Tensor();
}

Tensor Tensor::detach() const {
  VT_CHECK(defined(), "detach: undefined tensor");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = impl_->shape;
  impl->numel = impl_->numel;
  return Tensor(std::move(impl));
}

// ---------------------------------------------------------------- the engine
namespace {

// slot += g, without ever writing into a buffer somebody else can see.
void accumulate(Tensor& slot, Tensor g) {
  if (!slot.defined()) {
    slot = g.exclusive() ? std::move(g) : g.detach().clone();
  } else if (slot.exclusive()) {
    float* s = slot.data();
    const float* x = g.data();
    parallel_for(slot.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) s[i] += x[i];
    });
  } else {
    slot = add(slot, g);
  }
}

// Nodes reachable from root, each after every node that consumes its output (reverse post-order
// of an iterative depth-first search). Reused nodes appear once, after all their consumers.
std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root) {
  std::vector<std::shared_ptr<Node>> post;
  std::unordered_set<Node*> seen{root.get()};
  std::vector<std::pair<Node*, size_t>> stack{{root.get(), 0}};
  std::vector<std::shared_ptr<Node>> owners{root};  // parallel to stack
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const Tensor& in = node->inputs[next++];
      if (!in.defined() || !in.impl()->grad_fn) continue;
      const std::shared_ptr<Node>& child = in.impl()->grad_fn;
      if (!seen.insert(child.get()).second) continue;
      stack.emplace_back(child.get(), 0);
      owners.push_back(child);
    } else {
      post.push_back(std::move(owners.back()));
      owners.pop_back();
      stack.pop_back();
    }
  }
  return {post.rbegin(), post.rend()};
}

struct BackwardFlag {
  BackwardFlag() { t_in_backward = true; }
  ~BackwardFlag() { t_in_backward = false; }
};

void run_backward(const Tensor& root, Tensor seed) {
  VT_CHECK(root.requires_grad(),
           "backward: this tensor does not require grad (no input had "
           "requires_grad set, or it was computed under NoGradGuard)");
  VT_CHECK(seed.shape() == root.shape(), "backward: seed gradient of shape ", shape_str(seed.shape()),
           " for a tensor of shape ", shape_str(root.shape()));
  NoGradGuard no_grad;
  if (root.is_leaf()) {
    accumulate(root.impl()->grad, seed.detach());
    return;
  }
  const std::shared_ptr<Node>& root_node = root.impl()->grad_fn;
  VT_CHECK(!root_node->released,
           "backward: the graph behind this tensor was already freed by an "
           "earlier backward(); run the forward pass again");
  BackwardFlag flag;
  Trace* trace = active_trace();
  const bool timing = trace && trace->time_ops;  // profile: one record per backward closure
  std::vector<std::shared_ptr<Node>> order = topological_order(root_node);
  root_node->grad = seed.detach();
  for (const std::shared_ptr<Node>& node : order) {
    VT_CHECK(!node->released,
             "backward: part of this graph was already freed by an earlier "
             "backward() (op '",
             node->op, "'); run the forward pass again");
    Tensor grad_out = std::move(node->grad);
    if (grad_out.defined()) {
      const auto t0 = timing ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      Grads grads = node->backward(grad_out);
      if (timing) {
        TraceRecord r;
        r.kind = node->op;
        r.scope = node->scope;
        r.output = node->out_shape;
        r.backward = true;
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        r.attrs["closure"] = 1;  // the whole closure (ops it calls may add records of their own)
        trace->records.push_back(std::move(r));
      }
      grad_out = Tensor();
      VT_ASSERT(grads.size() == node->inputs.size());
      for (size_t i = 0; i < grads.size(); ++i) {
        Tensor g = std::move(grads[i]);
        const Tensor& in = node->inputs[i];
        if (!g.defined() || !in.defined() || !in.requires_grad()) continue;
        VT_CHECK(g.shape() == in.shape(), "backward of '", node->op, "': gradient of shape ", shape_str(g.shape()),
                 " for input ", i, " of shape ", shape_str(in.shape()));
        if (in.impl()->grad_fn) accumulate(in.impl()->grad_fn->grad, std::move(g));
        else accumulate(in.impl()->grad, std::move(g));
      }
    }
    // Free what this node held: saved activations (in the closure) and its links.
    node->backward = nullptr;
    node->inputs.clear();
    node->released = true;
  }
}

}  // namespace

void Tensor::backward() const {
  VT_CHECK(defined(), "backward: undefined tensor");
  VT_CHECK(numel() == 1, "backward: implicit seed needs a one-element tensor, this one has shape ", shape_str(shape()),
           "; pass a seed gradient of the same shape");
  run_backward(*this, ones(shape()));
}

void Tensor::backward(const Tensor& seed) const {
  VT_CHECK(defined() && seed.defined(), "backward: undefined tensor or seed");
  run_backward(*this, seed);
}

}  // namespace vt
