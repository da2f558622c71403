#!/bin/sh
# Builds the whole project with AddressSanitizer + UndefinedBehaviorSanitizer into $2 and runs the
# test suite there; any report fails. The main suite runs this as its test "sanitize/suite"
# (CMake option VITALITY_SANITIZE_IN_SUITE), so CI covers it. VITALITY_TEST_QUICK=1 asks the
# slowest tests for smaller inputs (the sanitizers cost 2-3x in time). MPI is left out of this
# build: Open MPI's own allocations would be reported as leaks.
#   tests/run_sanitized.sh <source dir> <build dir>
set -eu
src=$1
build=$2
log="$build.log"
mkdir -p "$build"
# UBSan's checks are the ones that catch real defects in this code (shifts, overflow, float->int
# casts, out-of-bounds array indexing, null, null passed where a function declares nonnull (stb's
# memcpy into a null buffer, data/image.cpp), bool/enum loads, missing return); the remaining
# -fsanitize=undefined checks (alignment, pointer-overflow, object-size, vptr) made GCC compile
# 3-6x slower for code that does not use them (all unaligned reads go through memcpy).
ubsan=shift,signed-integer-overflow,integer-divide-by-zero,float-cast-overflow,bounds,vla-bound,null,nonnull-attribute,return,bool,enum,unreachable
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=None -DVITALITY_SANITIZE="address,$ubsan" \
  -DVITALITY_MPI=OFF -DVITALITY_SANITIZE_IN_SUITE=OFF > "$log" 2>&1 || { cat "$log"; exit 1; }
cmake --build "$build" -j "$(nproc)" >> "$log" 2>&1 || { tail -n 60 "$log"; exit 1; }
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export VITALITY_TEST_QUICK=1
ctest --test-dir "$build" -j "$(nproc)" --output-on-failure -E "^format/"  # formatting is checked once, in the main suite
