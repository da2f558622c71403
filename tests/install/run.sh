#!/bin/sh
# Installs the build tree into a fresh prefix (cmake --install), then configures, builds and runs
# tests/install/consumer against it with find_package(vitality): the package works for a project
# that has nothing but the installed tree.
#   tests/install/run.sh <source dir> <build dir>
set -eu
src=$1
build=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/vitality_install.XXXXXX")
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
test -x "$work/prefix/bin/vitality"
"$work/prefix/bin/vitality" hw --help > /dev/null
cmake -S "$src/tests/install/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/consumer" -j 2 > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
"$work/consumer/consumer"
