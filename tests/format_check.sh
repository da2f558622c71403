#!/bin/sh
# Fails when a tracked .cpp or .h file differs from what clang-format makes of it with the
# project's .clang-format (Google style, 120 columns). The files were formatted with Debian 12's
# clang-format 14; other major versions format some constructs differently, so they are reported
# as skipped (exit 77) rather than as a failure. Fix a failure with:
#   git ls-files '*.cpp' '*.h' | xargs clang-format -i
set -eu
cd "$1"
if ! command -v clang-format > /dev/null; then
  echo "clang-format is not installed (apt-get install clang-format; .ci/build installs it)"
  exit 1
fi
major=$(clang-format --version | sed -n 's/.*version \([0-9]*\).*/\1/p')
if [ "$major" != "14" ]; then
  echo "skipped: clang-format $major; the code is formatted with Debian 12's clang-format 14"
  exit 77
fi
if ! command -v git > /dev/null || ! git rev-parse --git-dir > /dev/null 2>&1; then
  files=$(find core nn vit data hwmodel apps tests -name '*.cpp' -o -name '*.h')
else
  files=$(git ls-files '*.cpp' '*.h')
fi
bad=""
for f in $files; do
  clang-format "$f" | cmp -s - "$f" || bad="$bad $f"
done
if [ -n "$bad" ]; then
  echo "not formatted with .clang-format:$bad"
  echo "fix: git ls-files '*.cpp' '*.h' | xargs clang-format -i"
  exit 1
fi
echo "$(echo "$files" | wc -w) files formatted"
