#!/bin/sh
# Regenerates every picture the READMEs show, with the commands that make them, from a built tree
# (about 10 minutes on 2 cores, nearly all of it the main job):
#   apps/readme_images.sh [build dir, default build]
# writes apps/images/fmnist_training.svg (the main job's chart), apps/images/fmnist_confusion.svg
# (its ViTALiTy model, eval --per-class), hwmodel/compare_latency.svg and compare_energy.svg
# (hw --compare), hwmodel/sweep_density.svg (hw --sweep-density) and hwmodel/sweep_tokens.svg
# (hw --sweep-tokens), hwmodel/sweep_rows_size.svg (hw --sweep). The main job's summary is printed
# at the end, for the README's Quick start.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
work=$(mktemp -d "${TMPDIR:-/tmp}/vitality_images.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/vitality" train --output_dir "$work/fmnist" > "$work/train.log"
cp "$work/fmnist/training.svg" apps/images/fmnist_training.svg
"$build/vitality" eval --checkpoint "$work/fmnist/vitality/checkpoint.safetensors" --per-class \
  --output_dir "$work/eval" > "$work/eval.log"
cp "$work/eval/confusion.svg" apps/images/fmnist_confusion.svg
"$build/vitality" hw --compare --output "$work/compare" > /dev/null
cp "$work/compare/compare_latency.svg" "$work/compare/compare_energy.svg" hwmodel/
"$build/vitality" hw --sweep-density --output "$work/density" > /dev/null
cp "$work/density/sweep_density.svg" hwmodel/sweep_density.svg
"$build/vitality" hw --sweep-tokens --output "$work/tokens" > /dev/null
cp "$work/tokens/sweep.svg" hwmodel/sweep_tokens.svg
"$build/vitality" hw --sweep sa_general_rows=8,16,32,64 --sweep input_size=224,384 --output "$work/grid" > /dev/null
cp "$work/grid/sweep.svg" hwmodel/sweep_rows_size.svg
sed -n '/^Summary/,$p' "$work/train.log"
echo "per class (ViTALiTy):"
sed -n '/^Per-class/,/^wrote/p' "$work/eval.log"
