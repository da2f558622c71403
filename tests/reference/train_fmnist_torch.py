#!/usr/bin/python3
"""The Fashion-MNIST preset trained with PyTorch (Debian's python3-torch), for a side-by-side
comparison with `vitality train --preset fmnist` (same model, same recipe, same epochs, same
thread count). Never run by the build or CI.

    /usr/bin/python3 tests/reference/train_fmnist_torch.py --attn softmax --threads 2

Model: DeiT as timm builds it (PatchEmbed conv kernel = stride = patch, cls token, learned
pos_embed, pre-norm blocks with LayerNorm eps 1e-6, qkv with bias, GELU MLP), init as timm
(trunc_normal .02 for Linear weights, pos_embed and cls_token; zero biases). Recipe: AdamW with
timm's no-decay groups, linear warmup then cosine stepped every update, label smoothing,
horizontal flip (and RandomCrop(28, padding) with --crop-padding), the dataset's own mean/std.
Defaults are the "fmnist" preset's: 7x7 patches, D 64, 4 blocks of 4 heads, MLP ratio 2, batch 128,
lr 4e-3 with 0.3 warmup epochs, 8 epochs. Taylor attention is
Algorithm 1 written with torch ops (its own autograd).
"""
import argparse
import gzip
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Attention(nn.Module):
    def __init__(self, dim, heads, kind):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.heads, self.kind = heads, kind

    def forward(self, x):
        B, N, D = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        d = q.shape[-1]
        if self.kind == "softmax":
            z = torch.softmax((q @ k.transpose(-2, -1)) * d ** -0.5, dim=-1) @ v
        else:  # taylor, Algorithm 1
            c = math.sqrt(d)
            khat = k - k.mean(dim=-2, keepdim=True)
            G = khat.transpose(-2, -1) @ v
            t_D = N * c + q @ khat.sum(dim=-2, keepdim=True).transpose(-2, -1)
            z = (c * v.sum(dim=-2, keepdim=True) + q @ G) / t_D
        return self.proj(z.transpose(1, 2).reshape(B, N, D))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, kind):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads, kind)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Deit(nn.Module):
    def __init__(self, img, patch, chans, dim, depth, heads, mlp_ratio, classes, kind):
        super().__init__()
        self.patch_embed = nn.Conv2d(chans, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (img // patch) ** 2 + 1, dim))
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio, kind) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x)[:, 0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attn", default="softmax", choices=["softmax", "taylor"])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--warmup-epochs", type=float, default=0.3)
    ap.add_argument("--embed-dim", type=int, default=64)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--num-heads", type=int, default=4)
    ap.add_argument("--mlp-ratio", type=float, default=2.0)
    ap.add_argument("--patch-size", type=int, default=7)
    ap.add_argument("--crop-padding", type=int, default=0)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    xtr = read_idx(os.path.join(DATA, "train-images-idx3-ubyte.gz"))
    ytr = torch.from_numpy(read_idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    xte = read_idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz"))
    yte = torch.from_numpy(read_idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    mean, std = 0.2860, 0.3530
    norm = lambda x: (torch.from_numpy(x).float().div(255).sub(mean).div(std)).unsqueeze(1)
    xtr_t, xte_t = norm(xtr), norm(xte)

    model = Deit(28, a.patch_size, 1, a.embed_dim, a.depth, a.num_heads, a.mlp_ratio, 10, a.attn)
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or n.endswith(".bias") or n in ("pos_embed", "cls_token") else decay).append(p)
    opt = torch.optim.AdamW([{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": 0.05}],
                            lr=a.lr, eps=1e-8)
    steps_per_epoch = len(xtr_t) // a.batch_size
    warmup_lr, min_lr = 1e-5, 1e-5

    def lr_at(step):
        t = step / steps_per_epoch
        if t < a.warmup_epochs:
            return warmup_lr + t * (a.lr - warmup_lr) / a.warmup_epochs
        return min_lr + 0.5 * (a.lr - min_lr) * (1 + math.cos(math.pi * t / a.epochs))

    step = 0
    for epoch in range(a.epochs):
        model.train()
        perm = torch.from_numpy(rng.permutation(len(xtr_t)))
        t0 = time.time()
        total, count = 0.0, 0
        n_steps = steps_per_epoch if not a.max_steps else min(a.max_steps, steps_per_epoch)
        for i in range(n_steps):
            idx = perm[i * a.batch_size:(i + 1) * a.batch_size]
            x = xtr_t[idx]
            # RandomCrop(28, padding) when asked, then a horizontal flip, per sample
            p = a.crop_padding
            if p:
                x = F.pad(x, (p, p, p, p), value=(0 - mean) / std)
                oy, ox = rng.integers(0, 2 * p + 1, size=len(idx)), rng.integers(0, 2 * p + 1, size=len(idx))
                x = torch.stack([x[j, :, oy[j]:oy[j] + 28, ox[j]:ox[j] + 28] for j in range(len(idx))])
            flip = torch.from_numpy(rng.random(len(idx)) < 0.5)
            x[flip] = x[flip].flip(-1)
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            loss = F.cross_entropy(model(x), ytr[idx], label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
            count += 1
            step += 1
        train_time = time.time() - t0
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(xte_t), 192):
                correct += (model(xte_t[i:i + 192]).argmax(-1) == yte[i:i + 192]).sum().item()
        print(f"epoch {epoch}: train loss {total / count:.4f}, {train_time:.1f} s ({count * a.batch_size / train_time:.0f} img/s), "
              f"test top-1 {100 * correct / len(xte_t):.2f}%", flush=True)


if __name__ == "__main__":
    main()
