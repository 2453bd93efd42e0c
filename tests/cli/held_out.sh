#!/usr/bin/env bash
# Nets trained on LFW people test only the folds whose people they never saw:
# 'deepid train --lfw --hold-out' records the folds, 'deepid features' carries
# them, 'deepid eval-lfw' joins two model sets fold by fold and refuses any
# file set that would test a fold with nets that learnt its people; the LFW
# studies that test every fold refuse such nets outright.
# usage: held_out.sh WORK DEEPID FAKE_LFW
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$1/held_out deepid=$2 fake_lfw=$3
fresh_folder "$work"
cd "$work"
log=run.log

"$fake_lfw" lfw 40 3 > /dev/null
train="train --scheme deepid1 --patches face.s1.rgb --epochs 1 --batch 8 --lfw lfw"
"$deepid" $train --hold-out 0-4 --out m04 > "$log" 2>&1 || fail "training with folds 0-4 held out failed"
# 40 people, 4 per fold, 3 images each: the 20 of folds 5-9 train.
expect "LFW: 20 people \(60 faces\) outside held-out folds 0,1,2,3,4"
grep -qx "0,1,2,3,4" m04/lfw_held_out_folds.txt || fail "m04/lfw_held_out_folds.txt does not list 0,1,2,3,4"
"$deepid" $train --hold-out 5-9 --out m59 > "$log" 2>&1 || fail "training with folds 5-9 held out failed"
"$deepid" features --models m04 --lfw lfw --out f04.npy > "$log" 2>&1 || fail "features of m04 failed"
expect "the nets may test LFW folds 0,1,2,3,4 only"
grep -qx "0,1,2,3,4" f04.held_out_folds.txt || fail "f04.held_out_folds.txt does not list 0,1,2,3,4"
"$deepid" features --models m59 --lfw lfw --out f59.npy > "$log" 2>&1 || fail "features of m59 failed"

"$deepid" eval-lfw --features f04.npy,f59.npy --lfw lfw --verifier cosine,l2 --out e > "$log" 2>&1 ||
  fail "eval-lfw with both model sets failed"
expect "LFW View 2, folds 0,1,2,3,4, 120 x 320 features from f04.npy"
expect "LFW View 2, folds 5,6,7,8,9, 120 x 320 features from f59.npy"
expect "^cosine +[0-9.]+% "
[ -s e/roc.png ] && [ -s e/results.txt ] || fail "eval-lfw wrote no results"
# Verifiers that learn only from the people their nets never saw.
"$deepid" eval-lfw --features f04.npy,f59.npy --lfw lfw --verifier cosine --unseen-people --out u > "$log" 2>&1 ||
  fail "eval-lfw --unseen-people failed"
expect "each fold's verifier learns from the other folds of 0,1,2,3,4 only \(people its nets never saw\)"
expect "^cosine +[0-9.]+% "

# DeepID1's 100-patch scheme: a patch of its fifth scale trains, saves and extracts.
"$deepid" train --scheme deepid1-100 --patches face.s4.gray --epochs 1 --batch 8 --synthetic 4:3 --out m100 > "$log" 2>&1 ||
  fail "training a deepid1-100 net failed"
expect "training 1 deepid1-100 net"
grep -q "face.s4.gray" m100/ensemble.txt || fail "m100/ensemble.txt lacks face.s4.gray"
"$deepid" features --models m100 --lfw lfw --out f100.npy > "$log" 2>&1 || fail "features of m100 failed"
expect "wrote f100.npy \(120 x 320\)"
# A random subset of the identities, for curves over the identity count.
"$deepid" train --scheme deepid1 --patches face.s1.rgb --epochs 1 --batch 8 --synthetic 6:3 --identities 4 --out m4 \
  > "$log" 2>&1 || fail "training on 4 of 6 identities failed"
expect "kept 4 of 6 identities \(12 faces\), drawn with seed 1"
expect "on 12 faces of 4 identities"
refuse "--identities '7' is not an integer from 2 to 6" train --scheme deepid1 --patches 1 --synthetic 6:3 --identities 7 --out m
refuse "--patches: 'face.s4.gray' is neither" train --scheme deepid1 --patches face.s4.gray --synthetic 4:3 --out m
refuse "no file may test fold 5: every file's nets learnt from its people" \
  eval-lfw --features f04.npy --lfw lfw --verifier cosine --out e
refuse "fold 0 is held out by two feature files" eval-lfw --features f04.npy,f04.npy --lfw lfw --verifier cosine --out e
refuse "holds nets trained with LFW folds 0,1,2,3,4 held out, not 0,1,2,3" $train --hold-out 0-3 --out m04
refuse "continue it with --lfw and --hold-out 0,1,2,3,4" train --scheme deepid1 --patches face.s1.rgb --synthetic 4:3 --out m04
refuse "--lfw needs --hold-out FOLDS" $train --out m
refuse "--hold-out: fold list '3-12'" $train --hold-out 3-12 --out m
refuse "LFW identification tests every LFW person" identify-lfw --features f04.npy --open-gallery 3
refuse "the occlusion study tests all ten folds" occlusion --models m04 --lfw lfw --out o
echo "held-out folds: OK"
