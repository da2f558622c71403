// AdamW, SGD, parameter groups, gradient clipping and model EMA, written as PyTorch computes
// them (same formulas, same order) so that fixture trajectories agree.
#include "nn/optim.h"

#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/threads.h"

namespace vt::nn {

std::vector<ParamGroup> param_groups_weight_decay(const Parameters& params, double weight_decay,
                                                  const std::set<std::string>& no_decay) {
  ParamGroup decay{{}, weight_decay}, plain{{}, 0.0};
  for (const NamedTensor& p : params) {
    const std::string& n = p.name;
    const bool is_bias = n.size() >= 5 && n.compare(n.size() - 5, 5, ".bias") == 0;
    if (p.tensor.dim() <= 1 || is_bias || no_decay.count(n)) plain.params.push_back(p);
    else decay.params.push_back(p);
  }
  return {plain, decay};  // timm's order: no-decay group first
}

Optimizer::Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {
  for (const ParamGroup& g : groups_)
    for (const NamedTensor& p : g.params)
      VT_CHECK(p.tensor.defined() && p.tensor.requires_grad(), "optimizer: parameter '", p.name,
               "' is undefined or does not require grad");
}

void Optimizer::zero_grad() {
  for (ParamGroup& g : groups_)
    for (NamedTensor& p : g.params) p.tensor.zero_grad();
}

namespace {
// Visits every (parameter, its state index) pair in group order.
template <class F>
void for_each_param(std::vector<ParamGroup>& groups, F&& f) {
  size_t k = 0;
  for (ParamGroup& g : groups)
    for (NamedTensor& p : g.params) f(g, p, k++);
}

void load_named(const Parameters& state, const std::string& name, Tensor& into) {
  for (const NamedTensor& s : state) {
    if (s.name != name) continue;
    VT_CHECK(s.tensor.shape() == into.shape(), "optimizer state '", name, "' has shape ", shape_str(s.tensor.shape()),
             ", the parameter has ", shape_str(into.shape()));
    std::copy(s.tensor.data(), s.tensor.data() + s.tensor.numel(), into.data());
    return;
  }
  throw Error(str_cat("optimizer state: tensor '", name, "' is missing"));
}
}  // namespace

// ---------------------------------------------------------------- AdamW
AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions opt) : Optimizer(std::move(groups)), opt_(opt) {
  for_each_param(groups_, [&](ParamGroup&, NamedTensor& p, size_t) {
    exp_avg_.push_back(zeros(p.tensor.shape()));
    exp_avg_sq_.push_back(zeros(p.tensor.shape()));
  });
}

void AdamW::step(double lr) {
  ++steps_;
  const double bc1 = 1 - std::pow(opt_.beta1, static_cast<double>(steps_));
  const double bc2 = 1 - std::pow(opt_.beta2, static_cast<double>(steps_));
  const float step_size = static_cast<float>(lr / bc1), bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float b1 = static_cast<float>(opt_.beta1), b2 = static_cast<float>(opt_.beta2);
  const float one_b1 = static_cast<float>(1 - opt_.beta1), one_b2 = static_cast<float>(1 - opt_.beta2);
  const float eps = static_cast<float>(opt_.eps);
  for_each_param(groups_, [&](ParamGroup& g, NamedTensor& p, size_t k) {
    Tensor grad = p.tensor.grad();
    if (!grad.defined()) return;  // as PyTorch: parameters without a gradient are left alone
    const float decay = static_cast<float>(1 - lr * g.weight_decay);
    float* w = p.tensor.data();
    float* m = exp_avg_[k].data();
    float* v = exp_avg_sq_[k].data();
    const float* gr = grad.data();
    parallel_for(p.tensor.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        w[i] *= decay;  // decoupled weight decay
        m[i] = m[i] * b1 + gr[i] * one_b1;
        v[i] = v[i] * b2 + gr[i] * gr[i] * one_b2;
        const float denom = std::sqrt(v[i]) / bc2_sqrt + eps;
        w[i] -= step_size * (m[i] / denom);
      }
    });
  });
}

Parameters AdamW::state() const {
  Parameters out;
  size_t k = 0;
  for (const ParamGroup& g : groups_)
    for (const NamedTensor& p : g.params) {
      out.push_back({"optimizer.exp_avg." + p.name, exp_avg_[k]});
      out.push_back({"optimizer.exp_avg_sq." + p.name, exp_avg_sq_[k]});
      ++k;
    }
  return out;
}

void AdamW::load_state(const Parameters& state) {
  for_each_param(groups_, [&](ParamGroup&, NamedTensor& p, size_t k) {
    load_named(state, "optimizer.exp_avg." + p.name, exp_avg_[k]);
    load_named(state, "optimizer.exp_avg_sq." + p.name, exp_avg_sq_[k]);
  });
}

// ---------------------------------------------------------------- SGD
SGD::SGD(std::vector<ParamGroup> groups, SgdOptions opt) : Optimizer(std::move(groups)), opt_(opt) {
  for_each_param(groups_,
                 [&](ParamGroup&, NamedTensor& p, size_t) { momentum_buf_.push_back(zeros(p.tensor.shape())); });
}

void SGD::step(double lr) {
  const bool first = steps_ == 0;
  ++steps_;
  const float mu = static_cast<float>(opt_.momentum), lrf = static_cast<float>(lr);
  for_each_param(groups_, [&](ParamGroup& g, NamedTensor& p, size_t k) {
    Tensor grad = p.tensor.grad();
    if (!grad.defined()) return;
    const float wd = static_cast<float>(g.weight_decay);
    float* w = p.tensor.data();
    float* buf = momentum_buf_[k].data();
    const float* gr = grad.data();
    parallel_for(p.tensor.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const float d = gr[i] + wd * w[i];
        buf[i] = first ? d : buf[i] * mu + d;
        w[i] -= lrf * (opt_.nesterov ? d + mu * buf[i] : buf[i]);
      }
    });
  });
}

Parameters SGD::state() const {
  Parameters out;
  size_t k = 0;
  for (const ParamGroup& g : groups_)
    for (const NamedTensor& p : g.params) out.push_back({"optimizer.momentum_buffer." + p.name, momentum_buf_[k++]});
  return out;
}

void SGD::load_state(const Parameters& state) {
  for_each_param(groups_, [&](ParamGroup&, NamedTensor& p, size_t k) {
    load_named(state, "optimizer.momentum_buffer." + p.name, momentum_buf_[k]);
  });
}

// ---------------------------------------------------------------- clipping and EMA
double clip_grad_norm(const Parameters& params, double max_norm) {
  VT_CHECK(max_norm > 0, "clip_grad_norm: max_norm ", max_norm, " must be positive");
  double total = 0;
  for (const NamedTensor& p : params) {
    Tensor g = p.tensor.grad();
    if (!g.defined()) continue;
    double s = 0;
    for (int64_t i = 0; i < g.numel(); ++i) s += static_cast<double>(g.data()[i]) * g.data()[i];
    total += s;
  }
  total = std::sqrt(total);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1) {
    for (const NamedTensor& p : params) {
      Tensor g = p.tensor.grad();
      if (!g.defined()) continue;
      float* d = g.data();
      for (int64_t i = 0; i < g.numel(); ++i) d[i] *= static_cast<float>(coef);
    }
  }
  return total;
}

ModelEma::ModelEma(const Parameters& params, double decay) : decay_(decay) {
  VT_CHECK(decay >= 0 && decay <= 1, "model EMA: decay ", decay, " outside [0, 1]");
  for (const NamedTensor& p : params) shadow_.push_back({p.name, p.tensor.detach().clone()});
}

void ModelEma::update(const Parameters& params) {
  VT_CHECK(params.size() == shadow_.size(), "model EMA: ", params.size(), " parameters for ", shadow_.size(),
           " shadows");
  const float d = static_cast<float>(decay_), one_d = static_cast<float>(1 - decay_);
  for (size_t k = 0; k < params.size(); ++k) {
    float* e = shadow_[k].tensor.data();
    const float* w = params[k].tensor.data();
    for (int64_t i = 0; i < params[k].tensor.numel(); ++i) e[i] = e[i] * d + w[i] * one_d;
  }
}

}  // namespace vt::nn
