// The distillation teacher (teacher.h).
#include "apps/teacher.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "apps/checkpointing.h"
#include "core/autograd.h"
#include "core/threads.h"

namespace vt::apps {

std::string weights_fingerprint(const vit::Deit& model) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 over every tensor's name and float bytes
  auto mix = [&h](const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ull;
    }
  };
  for (const nn::NamedTensor& t : model.parameters()) {
    mix(t.name.data(), t.name.size());
    mix(t.tensor.data(), sizeof(float) * static_cast<size_t>(t.tensor.numel()));
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

Teacher::Teacher(const std::string& path, const std::string& model_name) {
  LoadedModel m = load_model(path, model_name, "");
  model_ = std::move(m.model);
  transform_ = m.transform;
  label_ = path;
  fingerprint_ = weights_fingerprint(*model_);  // from the weights loaded, not a second read of the file
}

Teacher::Teacher(std::shared_ptr<vit::Deit> model, const data::TransformConfig& transform, std::string label)
    : model_(std::move(model)), transform_(transform), label_(std::move(label)) {
  VT_CHECK(model_, "teacher: no model");
  fingerprint_ = weights_fingerprint(*model_);
}

std::string Teacher::describe() const {
  const vit::DeitConfig& c = model_->cfg;
  return str_printf("teacher %s: %s, %s attention (runs as %s), %lld px, %lld classes, %.2fM parameters",
                    label_.c_str(), c.name.c_str(), c.attn.c_str(), model_->attention().deployed().name,
                    static_cast<long long>(c.img_size), static_cast<long long>(c.num_classes),
                    static_cast<double>(model_->num_parameters()) / 1e6);
}

Tensor resize_bilinear(const Tensor& x, int64_t size) {
  VT_CHECK(x.dim() == 4 && size > 0, "resize_bilinear: (B, C, H, W) images to a positive size, got ",
           shape_str(x.shape()), " to ", size);
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor out = empty({B, C, size, size});
  const double sy = double(H) / double(size), sx = double(W) / double(size);
  std::vector<int64_t> x0(size), x1(size);
  std::vector<float> fx(size);
  for (int64_t j = 0; j < size; ++j) {  // source column, as PyTorch: (j + 0.5) * scale - 0.5, clamped at 0
    const double src = std::max(0.0, (double(j) + 0.5) * sx - 0.5);
    x0[j] = std::min<int64_t>(static_cast<int64_t>(src), W - 1);
    x1[j] = std::min<int64_t>(x0[j] + 1, W - 1);
    fx[j] = static_cast<float>(src - double(x0[j]));
  }
  parallel_for(B * C, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane) {
      const float* in = x.data() + plane * H * W;
      float* o = out.data() + plane * size * size;
      for (int64_t i = 0; i < size; ++i) {
        const double src = std::max(0.0, (double(i) + 0.5) * sy - 0.5);
        const int64_t y0 = std::min<int64_t>(static_cast<int64_t>(src), H - 1), y1 = std::min<int64_t>(y0 + 1, H - 1);
        const float fy = static_cast<float>(src - double(y0));
        for (int64_t j = 0; j < size; ++j) {
          const float top = in[y0 * W + x0[j]] * (1 - fx[j]) + in[y0 * W + x1[j]] * fx[j];
          const float bottom = in[y1 * W + x0[j]] * (1 - fx[j]) + in[y1 * W + x1[j]] * fx[j];
          o[i * size + j] = top * (1 - fy) + bottom * fy;
        }
      }
    }
  });
  return out;
}

Tensor Teacher::logits(const Tensor& images, const data::TransformConfig& student) {
  VT_CHECK(images.dim() == 4, "teacher: images (B, C, S, S), got ", shape_str(images.shape()));
  const int64_t B = images.size(0), C = images.size(1), S = images.size(2);
  VT_CHECK(C == transform_.in_chans, "teacher ", label_, " takes ", transform_.in_chans,
           "-channel images, the student ", C, " (--in-chans)");
  NoGradGuard no_grad;
  Tensor x = images;
  const bool same_norm = student.mean == transform_.mean && student.std == transform_.std;
  if (!same_norm) {  // undo the student's Normalize, apply the teacher's
    x = empty(images.shape());
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c) {
        const float a = student.std[c] / transform_.std[c],
                    k = (student.mean[c] - transform_.mean[c]) / transform_.std[c];
        const float* in = images.data() + (b * C + c) * S * S;
        float* o = x.data() + (b * C + c) * S * S;
        for (int64_t i = 0; i < S * S; ++i) o[i] = in[i] * a + k;
      }
  }
  if (S != transform_.input_size) x = resize_bilinear(x, transform_.input_size);
  return model_->forward(x, nn::Context{});
}

}  // namespace vt::apps
