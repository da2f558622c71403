#!/usr/bin/python3
"""vitality bench beside PyTorch: the same DeiT, attention kind, batch, image size and thread count.

Runs `vitality bench` and a PyTorch twin (the model of tests/reference/make_vit_fixtures.py,
timm's DeiT written out in PyTorch with every attention kind) alternately, each in its own
process so that peak memory is measured per framework, --repeats times, and prints the medians
and our/PyTorch ratios. Needs Debian's python3-torch; nothing in the build or CI runs it.

  /usr/bin/python3 apps/bench_vs_torch.py --attn softmax -b 32 --threads 2 --repeats 3
  /usr/bin/python3 apps/bench_vs_torch.py --attn taylor --bench inference --input-size 448

The PyTorch side mirrors timm's benchmark.py: inference under torch.inference_mode(), training
as zero_grad, forward, cross-entropy with label smoothing 0.1, backward and AdamW (weight decay
0.05 on matrices only), no dropout or drop-path (as timm's benchmark creates models); random
inputs and labels.
"""
import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {  # (dim, depth, heads)
    "deit_tiny_patch16_224": (192, 12, 3),
    "deit_small_patch16_224": (384, 12, 6),
    "deit_base_patch16_224": (768, 12, 12),
}


def torch_worker(args):
    """One PyTorch benchmark in this process; prints one JSON line."""
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(args.threads)
    spec = importlib.util.spec_from_file_location("fixtures", os.path.join(ROOT, "tests", "reference", "make_vit_fixtures.py"))
    fx = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fx)
    dim, depth, heads = MODELS[args.model]
    size = args.input_size or 224
    torch.manual_seed(0)
    model = fx.Deit(size, 16, 3, dim, depth, heads, 1000, args.attn)
    x = torch.randn(args.batch_size, 3, size, size)
    y = torch.randint(0, 1000, (args.batch_size,))
    out = {"model": args.model, "threads": torch.get_num_threads(), "torch": torch.__version__}

    def timed(step):
        for _ in range(args.num_warm_iter):
            step()
        total, t_run = 0.0, time.perf_counter()
        for _ in range(args.num_bench_iter):
            t0 = time.perf_counter()
            step()
            total += time.perf_counter() - t0
        run = time.perf_counter() - t_run
        return args.batch_size * args.num_bench_iter / run, 1000 * total / args.num_bench_iter

    if args.bench in ("inference", "both"):
        model.eval()

        def infer():
            with torch.inference_mode():
                model(x)
        out["infer_samples_per_sec"], out["infer_step_time"] = timed(infer)
    if args.bench in ("train", "both"):
        model.train()
        decay = [p for n, p in model.named_parameters() if p.ndim > 1 and "pos_embed" not in n and "cls_token" not in n]
        rest = [p for n, p in model.named_parameters() if not (p.ndim > 1 and "pos_embed" not in n and "cls_token" not in n)]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}], lr=5e-4)

        def train():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            loss.backward()
            opt.step()
        out["train_samples_per_sec"], out["train_step_time"] = timed(train)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def ours(args):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        cmd = [args.binary, "bench", "--model", args.model, "--attn", args.attn, "--bench", args.bench,
               "--batch-size", str(args.batch_size), "--threads", str(args.threads),
               "--num-warm-iter", str(args.num_warm_iter), "--num-bench-iter", str(args.num_bench_iter),
               "--results-file", f.name, "--results-format", "json"]
        if args.input_size:
            cmd += ["--input-size", str(args.input_size)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return json.load(open(f.name))


def theirs(args):
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-worker"] + sys.argv[1:]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    res = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="deit_tiny_patch16_224", choices=sorted(MODELS))
    ap.add_argument("--attn", default="softmax", choices=["softmax", "taylor", "sparse", "vitality"])
    ap.add_argument("--bench", default="both", choices=["inference", "train", "both"])
    ap.add_argument("-b", "--batch-size", type=int, default=32)
    ap.add_argument("--input-size", type=int, default=0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--num-warm-iter", type=int, default=3)
    ap.add_argument("--num-bench-iter", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "vitality"))
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        return torch_worker(args)
    runs = {"vitality": [], "pytorch": []}
    for r in range(args.repeats):  # alternate, so both see the same machine state
        runs["vitality"].append(ours(args))
        runs["pytorch"].append(theirs(args))
        print(f"repeat {r + 1}/{args.repeats} done", file=sys.stderr)
    keys = [k for k in ("infer_samples_per_sec", "infer_step_time", "train_samples_per_sec", "train_step_time", "peak_rss_mb")
            if k in runs["vitality"][0] and k in runs["pytorch"][0]]
    print(f"{args.model} {args.attn}, batch {args.batch_size}, {args.input_size or 224} px, {args.threads} threads, "
          f"medians of {args.repeats} alternating runs (PyTorch {runs['pytorch'][0]['torch']})")
    print(f"{'metric':28s} {'vitality':>12s} {'pytorch':>12s} {'ratio':>8s}")
    for k in keys:
        a = statistics.median(x[k] for x in runs["vitality"])
        b = statistics.median(x[k] for x in runs["pytorch"])
        better = "higher" if "per_sec" in k else "lower"
        print(f"{k:28s} {a:12.2f} {b:12.2f} {a / b:7.2f}x  ({better} is better)")
    for k in ("infer_roofline_fraction", "train_roofline_fraction"):
        if k in runs["vitality"][0]:
            print(f"{k:28s} {statistics.median(x[k] for x in runs['vitality']):12.3f}")


if __name__ == "__main__":
    main()
