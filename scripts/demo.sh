#!/usr/bin/env bash
# The demo alliance's year: Q1–Q3 run and approved, then Q4 settled against them, with statements.
# Usage: scripts/demo.sh P4P ARCHIVE
set -euo pipefail
P4P=$1
ARCHIVE=$2
rm -rf "$ARCHIVE"
for q in 1 2 3; do
  run=$("$P4P" run "inputs/demo/2026Q$q" --archive "$ARCHIVE" | tail -n 1)
  "$P4P" approve "$run" --by 演示财务中心
done
"$P4P" run inputs/demo/2026Q4 --archive "$ARCHIVE"
"$P4P" history --archive "$ARCHIVE"
