#!/usr/bin/env bash
# The main job end to end on synthetic identities: the table has the expected
# rows, learnt features beat the raw-pixel baseline by a wide margin, the
# files exist, and 'deepid verify' decides the example pairs correctly.
# usage: quickstart.sh WORK DEEPID
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$1 deepid=$2
fresh_folder "$work/quickstart"
out="$work/quickstart/out" log="$work/quickstart/run.log"
"$deepid" quickstart --out "$out" > "$log" 2>&1 || { cat "$log"; exit 1; }
for f in results.txt roc.csv roc.png verifier.jb models/ensemble.txt examples/landmarks.txt; do
  [ -e "$out/$f" ] || { echo "FAIL: quickstart did not write $f"; exit 1; }
done
jb=$(grep "^DeepID2 jb " "$out/results.txt" | sed 's/^DeepID2 jb *//' | awk '{print $1}' | tr -d '%')
raw=$(grep "^raw pixels pca-cosine " "$out/results.txt" | sed 's/^raw pixels pca-cosine *//' | awk '{print $1}' | tr -d '%')
echo "DeepID2 + PCA + JB: $jb%, raw pixels: $raw%"
# Floors: measured 94.9% and 71.2% on 2026-11-28; the margin allows other CPUs' rounding.
awk -v a="$jb" -v r="$raw" 'BEGIN { exit !(a >= 88 && a >= r + 12) }' || { echo "FAIL: accuracy $jb% (raw $raw%)"; cat "$log"; exit 1; }
ex="$out/examples"
same=$("$deepid" verify --models "$out/models" --verifier "$out/verifier.jb" --landmarks "$ex/landmarks.txt" "$ex/a1.png" "$ex/a2.png")
diff=$("$deepid" verify --models "$out/models" --verifier "$out/verifier.jb" --landmarks "$ex/landmarks.txt" "$ex/a1.png" "$ex/b1.png")
echo "a1 vs a2 (same identity): $same" | tr '\n' ' '; echo
echo "a1 vs b1 (different):      $diff" | tr '\n' ' '; echo
s_same=$(echo "$same" | awk '/^score/ {print $2}')
s_diff=$(echo "$diff" | awk '/^score/ {print $2}')
echo "$same" | grep -q "^decision: " || { echo "FAIL: verify printed no decision"; exit 1; }
# One pair each cannot measure accuracy (the table does); the scores must order them.
awk -v a="$s_same" -v b="$s_diff" 'BEGIN { exit !(a > b) }' || { echo "FAIL: same-identity score $s_same <= different $s_diff"; exit 1; }
echo "quickstart and verify: OK"
