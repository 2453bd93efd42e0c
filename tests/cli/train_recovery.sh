#!/usr/bin/env bash
# 'deepid train' when a checkpoint or the numbers go bad: a damaged newest
# checkpoint is skipped for the previous one with one warning line naming it,
# and the run still ends bitwise where an undamaged one does; with both
# damaged the run fails with one line naming the files and leaves them as
# they were; a diverging run (learning rate 1e6) exits non-zero with one line
# naming the step and the layer, and every checkpoint it leaves is finite.
# usage: train_recovery.sh WORK DEEPID CHECKPOINT_PROBE
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$1/train_recovery deepid=$2 probe=$3
fresh_folder "$work" && cd "$work" || exit 1
log=run.log
train=(train --scheme deepid1 --patches face.s1.rgb --synthetic 6:10 --batch 8 --threads 1 --seed 5)

flip_byte() {  # flip_byte FILE: the middle byte, xor 0x5a
  local size offset old
  size=$(wc -c < "$1") offset=$(($(wc -c < "$1") / 2))
  old=$(od -An -tu1 -j "$offset" -N1 "$1" | tr -d ' ')
  printf "\\$(printf %03o $((old ^ 0x5a)))" | dd of="$1" bs=1 seek="$offset" conv=notrunc status=none
}

"$deepid" "${train[@]}" --checkpoint-every 2 --epochs 3 --out reference > "$log" 2>&1 || fail "the reference run failed"

# Two epochs, then a third from a damaged checkpoint.
"$deepid" "${train[@]}" --checkpoint-every 2 --epochs 2 --out m > "$log" 2>&1 || fail "the first two epochs failed"
ckpt=m/checkpoints/patch_2.ckpt
[ -f "$ckpt.prev" ] || fail "no previous checkpoint $ckpt.prev was kept"
"$probe" "$ckpt.prev" > probe.txt || fail "$ckpt.prev is damaged: $(cat probe.txt)"
grep -qx "epoch 1 batch 4 finite" probe.txt || fail "$ckpt.prev is at '$(cat probe.txt)', not epoch 1 batch 4"
flip_byte "$ckpt"
"$probe" "$ckpt" > /dev/null && fail "flipping a byte of $ckpt went unnoticed"
"$deepid" "${train[@]}" --checkpoint-every 2 --epochs 3 --out m > "$log" 2> err.log || { cat err.log >> "$log"; fail "resuming past a damaged checkpoint failed"; }
cat err.log >> "$log"
warnings=$(grep -c "^deepid: warning: " err.log)
[ "$warnings" -eq 1 ] || fail "$warnings warning lines, not one"
grep -qxF "deepid: warning: $ckpt: checksum mismatch (the file is corrupt); resuming from the previous checkpoint $ckpt.prev" err.log ||
  fail "the warning does not name $ckpt and $ckpt.prev"
cmp -s reference/patch_2.net m/patch_2.net || fail "the run resumed from $ckpt.prev differs from the reference"

# Both damaged: one error line naming both, and the files stay as they were.
"$deepid" "${train[@]}" --checkpoint-every 2 --epochs 2 --out both > "$log" 2>&1 || fail "the first two epochs (both) failed"
flip_byte both/checkpoints/patch_2.ckpt
flip_byte both/checkpoints/patch_2.ckpt.prev
cp both/checkpoints/patch_2.ckpt damaged.ckpt && cp both/checkpoints/patch_2.ckpt.prev damaged.prev
cp both/patch_2.net two_epochs.net
"$deepid" "${train[@]}" --checkpoint-every 2 --epochs 3 --out both > out.log 2> "$log" && fail "resuming from two damaged checkpoints succeeded"
[ "$(grep -c "^deepid: " "$log")" -eq 1 ] || fail "not one 'deepid:' line on stderr"
grep -qF "deepid: error: both/checkpoints/patch_2.ckpt: checksum mismatch (the file is corrupt); the previous checkpoint is damaged too: both/checkpoints/patch_2.ckpt.prev: checksum mismatch" "$log" ||
  fail "the error does not name both damaged files"
cmp -s damaged.ckpt both/checkpoints/patch_2.ckpt && cmp -s damaged.prev both/checkpoints/patch_2.ckpt.prev ||
  fail "a refused run changed the damaged checkpoints"
cmp -s two_epochs.net both/patch_2.net || fail "a refused run changed the model of the first two epochs"

# Divergence: a learning rate of 1e6 and a checkpoint after every batch.
"$deepid" "${train[@]}" --epochs 2 --lr 1e6 --checkpoint-every 1 --out diverged > out.log 2> "$log" &&
  fail "a run with learning rate 1e6 succeeded"
# stderr holds the progress lines and one message.
[ "$(grep -c "^deepid: " "$log")" -eq 1 ] || fail "the diverged run printed not one 'deepid:' line on stderr"
grep -qE "^deepid: error: training diverged at step [0-9]+ \(epoch 1, batch [0-9]+\): .*; first non-finite values in .*; learning rate 1e\+06" "$log" ||
  fail "the error does not name the step, the layer and the learning rate"
[ ! -e diverged/patch_2.net ] || fail "a diverged run wrote a model"
for f in diverged/checkpoints/*; do
  "$probe" "$f" > probe.txt || fail "$f is damaged: $(cat probe.txt)"
  grep -q " finite$" probe.txt || fail "$f holds weights that are not finite"
done
echo "train recovery: OK ($(ls diverged/checkpoints | wc -l) checkpoint(s) kept by the diverged run)"
