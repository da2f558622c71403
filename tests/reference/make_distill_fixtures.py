#!/usr/bin/python3
"""Golden fixtures for DeiT's distillation, computed with PyTorch (Debian's python3-torch).

The distilled model is written here from deit's DistilledVisionTransformer (models.py): a
distillation token after the cls token, position embeddings for both, a second head on it; in
training the model returns both heads' logits, in evaluation their mean. The loss is deit's
DistillationLoss (losses.py): the base criterion on the class head, plus on the distillation head
  soft: KL(log_softmax(teacher / T) || log_softmax(student / T)), summed, * T^2 / student.numel()
  hard: cross_entropy(student, teacher.argmax(1))
weighted (1 - alpha) and alpha. The DeiT blocks and attention kinds come from make_vit_fixtures.py.

Outputs:
  tests/vit/fixtures/distilled_weights.safetensors  a small distilled DeiT's weights (timm names)
  tests/vit/fixtures/distilled_<kind>.safetensors   softmax and taylor: train-mode logits of both
                        heads, eval logits (their mean), and for each distillation type (soft, hard)
                        the loss against fixed teacher logits and the gradient of every parameter
                        and of the input
  tests/vit/fixtures/distill_input.safetensors      the images, labels and teacher logits, and a
                        bilinear resize (F.interpolate, align_corners=False) up and down
  tests/vit/fixtures/tiny224_distilled_logits.safetensors  a full-size deit_tiny_distilled_patch16_224
                        (weights from make_vit_fixtures.formula_tensor over the sorted parameter
                        names) on one formula image, eval mode
  tests/nn/fixtures/distill_loss.safetensors        the loss alone on given logits: both types, two
                        temperatures, with the gradients of both heads' logits

Run:  /usr/bin/python3 tests/reference/make_distill_fixtures.py   (a few seconds)
Never run by the build or CI; the C++ tests read the committed fixture files.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_vit_fixtures as vf  # noqa: E402

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
VIT_OUT = os.path.join(HERE, "..", "vit", "fixtures")
NN_OUT = os.path.join(HERE, "..", "nn", "fixtures")
ALPHA, TAU = 0.5, 2.0


class DistilledDeit(vf.Deit):
    def __init__(self, img, patch, chans, dim, depth, heads, classes, kind, threshold=0.002):
        super().__init__(img, patch, chans, dim, depth, heads, classes, kind, threshold)
        tokens = (img // patch) ** 2 + 2
        self.dist_token = tnn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = tnn.Parameter(torch.zeros(1, tokens, dim))
        self.head_dist = tnn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x)
        B = x.shape[0]
        x = torch.cat([self.cls_token.expand(B, -1, -1), self.dist_token.expand(B, -1, -1), x], dim=1) + self.pos_embed
        for b in self.blocks:
            x = b(x)
        x = self.norm(x)
        x, x_dist = self.head(x[:, 0]), self.head_dist(x[:, 1])
        if self.training:
            return x, x_dist
        return (x + x_dist) / 2


def distillation_loss(outputs, outputs_kd, labels, teacher, kind, alpha, tau, smoothing):
    """deit's DistillationLoss.forward, with CrossEntropy(label_smoothing) as the base criterion."""
    base = F.cross_entropy(outputs, labels, label_smoothing=smoothing)
    if kind == "soft":
        T = tau
        dist = F.kl_div(F.log_softmax(outputs_kd / T, dim=1), F.log_softmax(teacher / T, dim=1), reduction="sum",
                        log_target=True) * (T * T) / outputs_kd.numel()
    else:
        dist = F.cross_entropy(outputs_kd, teacher.argmax(dim=1))
    return base * (1 - alpha) + dist * alpha


def small_model(kind):
    c = vf.SMALL
    return DistilledDeit(c["img"], c["patch"], c["chans"], c["dim"], c["depth"], c["heads"], c["classes"], kind,
                         vf.THRESHOLD)


def small_weights(seed):
    g = torch.Generator().manual_seed(seed)
    m = small_model("softmax")
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight":
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def run_kind(kind, weights, x, labels, teacher):
    m = small_model(kind)
    m.load_state_dict(weights)
    m.train()
    out = {}
    cls, dist = m(x)
    out["logits_cls"], out["logits_dist"] = cls.detach().numpy(), dist.detach().numpy()
    for dtype in ("soft", "hard"):
        m.zero_grad()
        xi = x.clone().requires_grad_(True)
        c, d = m(xi)
        loss = distillation_loss(c, d, labels, teacher, dtype, ALPHA, TAU, vf.SMOOTHING)
        loss.backward()
        out[f"{dtype}.loss"] = np.array([loss.item()], dtype=np.float32)
        out[f"{dtype}.grad.input"] = xi.grad.numpy()
        for name, p in m.named_parameters():
            out[f"{dtype}.grad.{name}"] = p.grad.numpy().copy()
    m.eval()
    with torch.no_grad():
        out["logits_eval"] = m(x).numpy()
    return out


def tiny224_distilled():
    m = DistilledDeit(224, 16, 3, 192, 12, 3, 1000, "softmax")
    names = sorted(n for n, _ in m.named_parameters())
    sd = {}
    for name, p in m.named_parameters():
        sd[name] = torch.from_numpy(vf.formula_tensor(names.index(name), tuple(p.shape), vf.formula_kind(name)))
    m.load_state_dict(sd)
    m.eval()
    img = torch.from_numpy(vf.formula_tensor(10_000, (1, 3, 224, 224), "image"))
    with torch.no_grad():
        return {"logits": m(img).numpy()}


def loss_alone():
    g = torch.Generator().manual_seed(7)
    B, K = 6, 9
    out = {"cls": 2 * torch.randn(B, K, generator=g), "kd": 2 * torch.randn(B, K, generator=g),
           "teacher": 3 * torch.randn(B, K, generator=g),
           "labels": torch.randint(0, K, (B,), generator=g)}
    res = {k: v.numpy().astype(np.float32) for k, v in out.items()}
    for dtype in ("soft", "hard"):
        for tau in (1.0, 3.0):
            cls = out["cls"].clone().requires_grad_(True)
            kd = out["kd"].clone().requires_grad_(True)
            loss = distillation_loss(cls, kd, out["labels"], out["teacher"], dtype, 0.3, tau, 0.1)
            loss.backward()
            key = f"{dtype}.tau{tau:g}"
            res[key + ".loss"] = np.array([loss.item()], dtype=np.float32)
            res[key + ".grad.cls"] = cls.grad.numpy()
            res[key + ".grad.kd"] = kd.grad.numpy()
    return res


def main():
    os.makedirs(VIT_OUT, exist_ok=True)
    os.makedirs(NN_OUT, exist_ok=True)
    c = vf.SMALL
    weights = small_weights(3)
    g = torch.Generator().manual_seed(1003)
    x = torch.randn(c["batch"], c["chans"], c["img"], c["img"], generator=g)
    labels = torch.randint(0, c["classes"], (c["batch"],), generator=g)
    teacher = 2 * torch.randn(c["batch"], c["classes"], generator=g)
    vf.save_safetensors(os.path.join(VIT_OUT, "distilled_weights.safetensors"),
                        {k: v.numpy() for k, v in weights.items()}, {"format": "pt"})
    # the teacher's input resizing (apps/teacher.h): F.interpolate bilinear, align_corners=False
    r = torch.randn(1, 2, 5, 7, generator=g)
    vf.save_safetensors(os.path.join(VIT_OUT, "distill_input.safetensors"),
                        {"input": x.numpy(), "labels": labels.numpy().astype(np.float32), "teacher": teacher.numpy(),
                         "resize.in": r.numpy(),
                         "resize.up9": F.interpolate(r, size=(9, 9), mode="bilinear", align_corners=False).numpy(),
                         "resize.down3": F.interpolate(r, size=(3, 3), mode="bilinear", align_corners=False).numpy()})
    for kind in ("softmax", "taylor"):
        out = run_kind(kind, weights, x, labels, teacher)
        vf.save_safetensors(os.path.join(VIT_OUT, f"distilled_{kind}.safetensors"), out)
        print(f"{kind:8s} soft {out['soft.loss'][0]:.6f}  hard {out['hard.loss'][0]:.6f}")
    vf.save_safetensors(os.path.join(VIT_OUT, "tiny224_distilled_logits.safetensors"), tiny224_distilled())
    vf.save_safetensors(os.path.join(NN_OUT, "distill_loss.safetensors"), loss_alone())
    print("wrote", VIT_OUT, "and", NN_OUT)


if __name__ == "__main__":
    main()
