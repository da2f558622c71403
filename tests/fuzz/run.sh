#!/bin/sh
# Builds the libFuzzer targets with clang (AddressSanitizer + UndefinedBehaviorSanitizer, coverage
# on every library) into build-fuzz/ and runs each for SECONDS (default 600), the committed corpus
# as seeds. New inputs go to build-fuzz/corpus/<target>/ (the tracked corpus is never written);
# crashes to build-fuzz/crashes/<target>/, which ends the run with their paths. A summary line per
# target gives the executions and the corpus size.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]      (Debian packages: clang, libclang-rt-14-dev)
set -eu
cd "$(dirname "$0")/../.."
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-"safetensors idx image hw_config workload class_map"}
out=build-fuzz
CC=clang CXX=clang++ cmake -S . -B $out -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVITALITY_FUZZ=ON -DVITALITY_MPI=OFF \
  -DVITALITY_OPENMP=OFF -DVITALITY_SANITIZE=address,undefined -DVITALITY_SANITIZE_IN_SUITE=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" > $out.log 2>&1 || { cat $out.log; exit 1; }
for t in $targets; do cmake --build $out -j "$(nproc)" --target fuzz_$t >> $out.log 2>&1 || { tail -n 40 $out.log; exit 1; }; done
status=0
for t in $targets; do
  mkdir -p $out/corpus/$t $out/crashes/$t
  log=$out/fuzz_$t.log
  ASAN_OPTIONS=detect_leaks=1 $out/fuzz_$t $out/corpus/$t tests/fuzz/corpus/$t -max_total_time="$seconds" -rss_limit_mb=2048 \
    -max_len=65536 -artifact_prefix=$out/crashes/$t/ -print_final_stats=1 > "$log" 2>&1 || status=1
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  crashes=$(ls $out/crashes/$t | wc -l)
  echo "$t: $execs executions in ${seconds}s, corpus $(ls $out/corpus/$t | wc -l) files, $crashes crash files"
  [ "$crashes" -eq 0 ] || { ls $out/crashes/$t/*; status=1; }
done
exit $status
