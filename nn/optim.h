// Optimisers as timm/PyTorch define them, parameter groups, gradient clipping, model EMA.
//
//   auto groups = param_groups_weight_decay(model_params, 0.05);  // no decay for 1-D, biases,
//   AdamW opt(groups, {});                                          // pos_embed, cls_token
//   loss.backward(); clip_grad_norm(model_params, 1.0); opt.step(lr); opt.zero_grad();
//
// Optimiser state is exposed as named tensors ("optimizer.exp_avg.<param>") for checkpoints.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "nn/module.h"

namespace vt::nn {

struct ParamGroup {
  Parameters params;
  double weight_decay = 0;
};

// timm's param_groups_weight_decay: parameters with one dimension, names ending in ".bias", and
// names in `no_decay` go to a group without weight decay; everything else decays.
std::vector<ParamGroup> param_groups_weight_decay(const Parameters& params, double weight_decay,
                                                  const std::set<std::string>& no_decay = {"pos_embed", "cls_token"});

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step(double lr) = 0;  // one update of every parameter that has a gradient
  void zero_grad();
  // Named state tensors (for checkpoints) and the step count.
  virtual Parameters state() const = 0;
  virtual void load_state(const Parameters& state) = 0;  // throws naming a missing/mismatched tensor
  int64_t steps() const { return steps_; }
  void set_steps(int64_t s) { steps_ = s; }
  const std::vector<ParamGroup>& groups() const { return groups_; }

 protected:
  explicit Optimizer(std::vector<ParamGroup> groups);
  std::vector<ParamGroup> groups_;
  int64_t steps_ = 0;
};

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

// torch.optim.AdamW: p -= lr * wd * p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
class AdamW : public Optimizer {
 public:
  AdamW(std::vector<ParamGroup> groups, AdamWOptions opt);
  void step(double lr) override;
  Parameters state() const override;
  void load_state(const Parameters& state) override;

 private:
  AdamWOptions opt_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;  // one per parameter, in group order
};

struct SgdOptions {
  double momentum = 0.9;
  bool nesterov = false;
};

// torch.optim.SGD with weight decay added to the gradient: g += wd * p; buf = mu * buf + g
// (buf = g on the first step); p -= lr * (nesterov ? g + mu * buf : buf).
class SGD : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, SgdOptions opt);
  void step(double lr) override;
  Parameters state() const override;
  void load_state(const Parameters& state) override;

 private:
  SgdOptions opt_;
  std::vector<Tensor> momentum_buf_;
};

// torch.nn.utils.clip_grad_norm_: scales every gradient by max_norm / (total_norm + 1e-6) when
// the global L2 norm exceeds max_norm. Returns the norm before clipping.
double clip_grad_norm(const Parameters& params, double max_norm);

// timm's ModelEma: ema = decay * ema + (1 - decay) * param after each step.
class ModelEma {
 public:
  ModelEma(const Parameters& params, double decay);
  void update(const Parameters& params);
  const Parameters& shadow() const { return shadow_; }  // names as the model's
  Parameters& shadow() { return shadow_; }
  double decay() const { return decay_; }

 private:
  Parameters shadow_;
  double decay_;
};

}  // namespace vt::nn
