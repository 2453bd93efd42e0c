#!/usr/bin/env bash
# A model folder keeps the settings its nets learn with: a run that continues
# its checkpoints with other settings is refused with one line naming the
# setting, the file is untouched, and the same settings (more epochs, more
# patches) continue.
# usage: train_settings.sh WORK DEEPID
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$1/train_settings deepid=$2
fresh_folder "$work" && cd "$work"
log=run.log
train="train --scheme deepid1 --patches face.s1.rgb --synthetic 4:3 --batch 8 --out m"

"$deepid" $train --epochs 1 --jitter 1 > "$log" 2>&1 || fail "training with --jitter 1 failed"
grep -qx "jitter 1" m/training_settings.txt || fail "m/training_settings.txt lacks 'jitter 1'"
grep -qx "lambda 0.05" m/training_settings.txt || fail "m/training_settings.txt lacks the default lambda 0.05"
cp m/training_settings.txt before.txt
cp m/checkpoints/patch_2.ckpt before.ckpt
refuse_change() {  # refuse_change EXPECTED ARGS...: one line naming EXPECTED, nothing changed
  local expected=$1; shift
  "$deepid" $train --epochs 2 "$@" > "$log" 2>&1 && fail "continuing with '$*' succeeded"
  without_archer_banner "$log"
  [ "$(wc -l < "$log")" -eq 1 ] || fail "continuing with '$*': more than one line"
  grep -qF -- "$expected" "$log" || fail "continuing with '$*': no '$expected'"
  cmp -s before.txt m/training_settings.txt || fail "a refused run changed m/training_settings.txt"
  cmp -s before.ckpt m/checkpoints/patch_2.ckpt || fail "a refused run changed the checkpoint"
}
refuse_change "m holds nets trained with jitter 1, not 0 (m/training_settings.txt); continue with the same settings"
refuse_change "trained with lambda 0.05, not 0.1" --jitter 1 --lambda 0.1
refuse_change "trained with seed 1, not 2" --jitter 1 --seed 2
refuse_change "trained with identities all, not 3" --jitter 1 --identities 3
"$deepid" train --scheme deepid1 --patches face.s1.rgb,face.s2.rgb --synthetic 4:3 --batch 8 --out m --epochs 2 \
  --jitter 1 --threads 1 > "$log" 2>&1 || fail "continuing with more epochs and patches failed"
echo "training settings: OK"
