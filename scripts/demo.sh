#!/usr/bin/env bash
# The demo alliance's year, as a finance centre works through it:
#   Q1–Q3 run and approved with the payees file: stamped statements, payment lists, bank files;
#   after Q2 was paid, a keying error in its assessment is found (王村镇卫生院 T02 scored 85.3,
#   entered as 75.3): the corrected Q2 (inputs/demo/2026Q2-corrected) is re-run and approved with
#   --supersede, which pays only the differences (correction lists and bank files);
#   Q4 settles the year against the approved quarters (the corrected Q2 included) and is approved;
#   history verifies the whole archive.
# Usage: scripts/demo.sh P4P ARCHIVE
set -euo pipefail
P4P=$1
ARCHIVE=$2
PAYEES=inputs/demo/payees.csv   # made by scripts/demo_payees.py (made-up accounts)
BY=演示财务中心
rm -rf "$ARCHIVE"
for q in 1 2 3; do
  run=$("$P4P" run "inputs/demo/2026Q$q" --archive "$ARCHIVE" | tail -n 1)
  "$P4P" approve "$run" --by "$BY" --payees "$PAYEES"
done
fixed=$("$P4P" run inputs/demo/2026Q2-corrected --archive "$ARCHIVE" | tail -n 1)
"$P4P" approve "$fixed" --by "$BY" --payees "$PAYEES" --supersede \
  --reason "王村镇卫生院第二季度考核得分录入错误：应为85.3分，误录为75.3分"
q4=$("$P4P" run inputs/demo/2026Q4 --archive "$ARCHIVE" | tail -n 1)
"$P4P" approve "$q4" --by "$BY" --payees "$PAYEES"
"$P4P" history --archive "$ARCHIVE"
