#!/usr/bin/env bash
# 'deepid occlusion' on a small LFW-like folder of synthetic faces
# (deepid_test_fake_lfw) with a DeepID2+ net trained for one epoch:
# - every occlusion level gives one CSV row per feature line (the four
#   outputs and the baseline), and the plots and contact sheet are written;
# - its clean row equals 'deepid eval-lfw' on 'deepid features' of the same
#   net and output (the verifiers are fitted the same way);
# - the same seed gives the same blocks, another seed other blocks.
# usage: occlusion.sh WORK DEEPID FAKE_LFW
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$1 deepid=$2 fake_lfw=$3
dir="$work/occlusion"
fresh_folder "$dir"
fail() { echo "FAIL: $*"; tail -30 "$dir"/*.log 2>/dev/null; exit 1; }

"$fake_lfw" "$dir/lfw" 40 3 > "$dir/fake.log" || fail "no fake LFW folder"
"$deepid" train --scheme deepid2plus --patches face.s1.rgb --synthetic 6:8 --batch 8 --lr 0.001 --epochs 1 \
  --out "$dir/m" --threads 2 > "$dir/train.log" 2>&1 || fail "training failed"

run() {  # out [options]
  local out=$1; shift
  "$deepid" occlusion --models "$dir/m" --lfw "$dir/lfw" --out "$dir/$out" --verifier cosine --baseline lbp \
    --bar 0.5,1 --block 20,60 --sheet 2 --threads 2 "$@" > "$dir/$out.log" 2>&1
}
run o1 || fail "deepid occlusion failed"
csv="$dir/o1/occlusion.csv"
[ "$(head -1 "$csv")" = "occlusion,level,feature,accuracy,standard_error,auc" ] || fail "CSV header"
# 2 kinds x (clean + 2 levels) x (fc1..fc4 + lbp) = 30 rows.
[ "$(tail -n +2 "$csv" | wc -l)" -eq 30 ] || fail "expected 30 CSV rows, found $(tail -n +2 "$csv" | wc -l)"
for f in fc1 fc2 fc3 fc4 lbp; do
  [ "$(grep -c ",$f," "$csv")" -eq 6 ] || fail "feature $f does not have 6 rows"
done
for png in bar.png block.png occluded_faces.png; do [ -s "$dir/o1/$png" ] || fail "no $png"; done
grep -q "bar (of face)" "$dir/o1.log" || fail "no bar table printed"

# The clean row is eval-lfw's accuracy on the same features.
"$deepid" features --models "$dir/m" --head fc3 --lfw "$dir/lfw" --out "$dir/fc3.npy" > "$dir/features.log" 2>&1 ||
  fail "deepid features failed"
"$deepid" eval-lfw --features "$dir/fc3.npy" --lfw "$dir/lfw" --verifier cosine --out "$dir/e" > "$dir/eval.log" 2>&1 ||
  fail "deepid eval-lfw failed"
eval_acc=$(awk '$1 == "cosine" { sub("%", "", $2); print $2 }' "$dir/e/results.txt")
clean_acc=$(awk -F, '$1 == "bar" && $2 == 0 && $3 == "fc3" { printf "%.2f", 100 * $4 }' "$csv")
[ -n "$eval_acc" ] && [ "$eval_acc" = "$clean_acc" ] || fail "clean fc3 accuracy $clean_acc differs from eval-lfw's $eval_acc"

# Seeded blocks: the same seed repeats the study, another moves the blocks.
run o2 || fail "second run failed"
cmp -s "$csv" "$dir/o2/occlusion.csv" || fail "the same seed gave another CSV"
cmp -s "$dir/o1/occluded_faces.png" "$dir/o2/occluded_faces.png" || fail "the same seed gave other blocks"
run o3 --seed 7 || fail "run with --seed 7 failed"
! cmp -s "$dir/o1/occluded_faces.png" "$dir/o3/occluded_faces.png" || fail "another seed gave the same blocks"
echo "deepid occlusion: OK"
