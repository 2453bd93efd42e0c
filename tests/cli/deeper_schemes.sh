#!/usr/bin/env bash
# 'deepid train' with the deeper schemes on built-in synthetic identities:
# DeepID2+ (a 55x47 RGB patch) and DeepID3 net1 at reduced widths (a 47x47
# gray patch) train with every head supervised (the epoch lines show each
# head), write their model folders and resume from a checkpoint; the features
# of a head and in bits come from the saved nets.
# usage: deeper_schemes.sh WORK DEEPID
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$1 deepid=$2
dir="$work/deeper_schemes"
fresh_folder "$dir"
fail() { echo "FAIL: $*"; cat "$dir"/*.log 2>/dev/null | tail -40; exit 1; }

train() {  # scheme patch out log [options]
  local scheme=$1 patch=$2 out=$3 log=$4; shift 4
  "$deepid" train --scheme "$scheme" --patches "$patch" --synthetic 6:8 --batch 8 --lr 0.001 \
    --out "$dir/$out" --threads 2 "$@" > "$dir/$log.log" 2>&1
}

train deepid2plus face.s1.rgb deepid2plus d2plus --epochs 2 || fail "deepid2plus training failed"
grep -q "head fc1 (weight 1): ident" "$dir/d2plus.log" || fail "no fc1 line in the epoch report"
grep -q "head fc3 (weight 1): ident" "$dir/d2plus.log" || fail "no fc3 line in the epoch report"
[ "$(cat "$dir/deepid2plus/scheme.txt")" = deepid2plus ] || fail "scheme.txt is not deepid2plus"
ls "$dir/deepid2plus/checkpoints/"patch_*.ckpt > /dev/null || fail "no checkpoint"
head -1 "$dir/deepid2plus/logs/"patch_*.csv | grep -q "fc2_validation_top1_error" || fail "no head columns in the CSV"

# An output the nets do not have: one line naming the ones they have.
set +e
err=$("$deepid" features --models "$dir/deepid2plus" --head fc9 --lfw "$dir" --out "$dir/f.npy" 2>&1); status=$?
set -e
[ $status -eq 2 ] || fail "features --head fc9 exited with $status"
echo "$err" | grep -q "the nets of .* have the outputs fc1, fc2, fc3, fc4" || fail "unclear error: $err"

# Resume: a third epoch continues from the checkpoint of two.
train deepid2plus face.s1.rgb deepid2plus d2plus_more --epochs 3 || fail "resumed deepid2plus training failed"
grep -q "^epoch 3:" "$dir/d2plus_more.log" || fail "the resumed run did not run epoch 3"
if grep -q "^epoch 1:" "$dir/d2plus_more.log"; then fail "the resumed run started again from epoch 1"; fi

train deepid3-net1-reduced left_eye.s1.gray deepid3-net1-reduced d3 --epochs 2 || fail "deepid3-net1-reduced training failed"
grep -q "head fc2 (weight 1)" "$dir/d3.log" || fail "no fc2 line for DeepID3"
ls "$dir/deepid3-net1-reduced/"patch_*.net > /dev/null || fail "no DeepID3 model file"

# Head weights with a decay: epoch 2 reports the decayed weight.
train deepid2plus face.s1.rgb weighted weights --output-weights 0.5,1,1,1 --head-decay 0.5 --epochs 2 || fail "weighted training failed"
grep -q "head fc1 (weight 0.25)" "$dir/weights.log" || fail "the decayed weight of fc1 is not reported"
echo "deeper schemes: OK"
