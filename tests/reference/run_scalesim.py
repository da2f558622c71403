#!/usr/bin/python3
"""Golden table for tests/hwmodel/test_scalesim.cpp, produced by SCALE-Sim v2 itself.

SCALE-Sim's code is not part of this repository: fetch its public source
(https://github.com/scalesim-project/scale-sim-v2) and pass its directory. It runs with Debian's
python3-numpy, python3-tqdm, python3-pandas and python3-absl.

For every architecture below, the script writes a SCALE-Sim .cfg and two topology files (GEMMs in
the "Layer, M, N, K," form and convolutions in the conv form), runs SCALE-Sim on each, and copies
the three reports' columns, as SCALE-Sim printed them, into one row per layer:

  tests/hwmodel/fixtures/scalesim_v2_golden.csv

Columns: the architecture (array, dataflow, SRAM sizes, bandwidth mode and value), the layer as
given (name, form, the conv fields or M,N,K), then COMPUTE_REPORT's, BANDWIDTH_REPORT's and
DETAILED_ACCESS_REPORT's columns under their own names (prefixed compute:, bandwidth:, detail:).

Run:  /usr/bin/python3 tests/reference/run_scalesim.py /path/to/scale-sim-v2   (about 25 minutes)
Never run by the build or CI.
"""
import csv
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "hwmodel", "fixtures", "scalesim_v2_golden.csv")

# DeiT-Tiny's GEMMs at 224 px (197 tokens, D = 192, head dim 64), Taylor attention's two, and the head.
GEMMS = [
    ("patch_embed", 196, 192, 768), ("qkv", 197, 576, 192), ("attn_qk", 197, 197, 64), ("attn_pv", 197, 64, 197),
    ("proj", 197, 192, 192), ("fc1", 197, 768, 192), ("fc2", 197, 192, 768), ("head", 1, 1000, 192),
    ("taylor_g", 64, 64, 197), ("taylor_qg", 197, 64, 64),
]
# Convolutions with strides, odd and non-square sizes: name, ifmap h, ifmap w, filter h, filter w,
# channels, filters, stride.
CONVS = [
    ("odd_s2", 31, 31, 3, 3, 16, 32, 2), ("resnet_3x3", 28, 28, 3, 3, 32, 64, 1), ("pointwise", 14, 14, 1, 1, 128, 256, 1),
    ("nonsquare_5x5_s2", 17, 13, 5, 5, 8, 24, 2), ("deep_3x3", 7, 7, 3, 3, 256, 512, 1), ("stem_7x7_s2", 56, 56, 7, 7, 3, 64, 2),
]
# name, rows, cols, dataflow, ifmap KiB, filter KiB, ofmap KiB, bandwidth mode, bandwidth (words/cycle),
# topology forms. Under USER bandwidth SCALE-Sim simulates every DRAM request in Python: the GEMMs
# take minutes, the convolutions over half an hour each, so that architecture runs the GEMMs only.
ARCHS = [
    ("os32", 32, 32, "os", 64, 64, 64, "CALC", 10, ("gemm", "conv")),
    ("ws32", 32, 32, "ws", 64, 64, 64, "CALC", 10, ("gemm", "conv")),
    ("is32", 32, 32, "is", 64, 64, 64, "CALC", 10, ("gemm", "conv")),
    ("ws16", 16, 16, "ws", 32, 32, 32, "CALC", 10, ("gemm", "conv")),
    ("os128x32", 128, 32, "os", 256, 256, 128, "CALC", 10, ("gemm", "conv")),
    ("is8", 8, 8, "is", 16, 16, 16, "CALC", 10, ("gemm", "conv")),
    ("ws32_user_bw4_small", 32, 32, "ws", 8, 8, 8, "USER", 4, ("gemm",)),
]

RUNNER = """
import sys
sys.path.insert(0, sys.argv[1])
from scalesim.scale_sim import scalesim
s = scalesim(save_disk_space=True, verbose=False, config=sys.argv[2], topology=sys.argv[3],
             input_type_gemm=(sys.argv[4] == 'gemm'))
s.run_scale(top_path=sys.argv[5])
"""


def write_cfg(path, arch):
    name, rows, cols, df, ikb, fkb, okb, mode, bw, _ = arch
    with open(path, "w") as f:
        f.write(f"[general]\nrun_name = {name}\n\n[architecture_presets]\nArrayHeight:    {rows}\nArrayWidth:     {cols}\n"
                f"IfmapSramSzkB:   {ikb}\nFilterSramSzkB:  {fkb}\nOfmapSramSzkB:   {okb}\nIfmapOffset:    0\n"
                f"FilterOffset:   10000000\nOfmapOffset:    20000000\nBandwidth : {bw}\nDataflow : {df}\n"
                f"MemoryBanks:   1\n\n[run_presets]\nInterfaceBandwidth: {mode}\n")


def read_report(path):
    with open(path) as f:
        rows = [[c.strip() for c in line.rstrip("\n").split(",")] for line in f if line.strip()]
    header = [h for h in rows[0] if h]
    return header, [r[:len(header)] for r in rows[1:]]


def main():
    if len(sys.argv) != 2 or not os.path.isdir(os.path.join(sys.argv[1], "scalesim")):
        sys.exit("usage: run_scalesim.py /path/to/scale-sim-v2 (a checkout of its public source)")
    scalesim_dir = os.path.abspath(sys.argv[1])
    out_rows, header_out = [], None
    with tempfile.TemporaryDirectory() as tmp:
        runner = os.path.join(tmp, "runner.py")
        with open(runner, "w") as f:
            f.write(RUNNER)
        gemm_topo, conv_topo = os.path.join(tmp, "gemm.csv"), os.path.join(tmp, "conv.csv")
        with open(gemm_topo, "w") as f:
            f.write("Layer, M, N, K,\n" + "".join(f"{n}, {m}, {nn}, {k},\n" for n, m, nn, k in GEMMS))
        with open(conv_topo, "w") as f:
            f.write("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n")
            f.write("".join(", ".join(str(x) for x in c) + ",\n" for c in CONVS))
        for arch in ARCHS:
            cfg = os.path.join(tmp, arch[0] + ".cfg")
            write_cfg(cfg, arch)
            for form, topo, layers in (("gemm", gemm_topo, GEMMS), ("conv", conv_topo, CONVS)):
                if form not in arch[9]:
                    continue
                top = os.path.join(tmp, f"{arch[0]}_{form}")
                print(f"{arch[0]} {form} ...", flush=True)
                subprocess.run([sys.executable, runner, scalesim_dir, cfg, topo, form, top], check=True,
                               stdout=subprocess.DEVNULL)
                reports = {}
                for key, fname in (("compute", "COMPUTE_REPORT.csv"), ("bandwidth", "BANDWIDTH_REPORT.csv"),
                                   ("detail", "DETAILED_ACCESS_REPORT.csv")):
                    reports[key] = read_report(os.path.join(top, arch[0], fname))
                for i, layer in enumerate(layers):
                    row = {"arch": arch[0], "rows": arch[1], "cols": arch[2], "dataflow": arch[3], "ifmap_kb": arch[4],
                           "filter_kb": arch[5], "ofmap_kb": arch[6], "bw_mode": arch[7], "bandwidth": arch[8],
                           "layer": layer[0], "form": form}
                    if form == "gemm":
                        row.update({"M": layer[1], "N": layer[2], "K": layer[3]})
                    else:
                        row.update(dict(zip(("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "filters",
                                             "stride"), layer[1:])))
                    for key, (hdr, vals) in reports.items():
                        assert vals[i][0] == str(i), (key, vals[i])
                        for h, v in zip(hdr[1:], vals[i][1:]):
                            row[f"{key}:{h}"] = v
                    out_rows.append(row)
    fields = ["arch", "rows", "cols", "dataflow", "ifmap_kb", "filter_kb", "ofmap_kb", "bw_mode", "bandwidth", "layer",
              "form", "M", "N", "K", "ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "filters", "stride"]
    fields += [k for k in out_rows[0] if ":" in k]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in out_rows:
            w.writerow(r)
    print(f"wrote {len(out_rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
