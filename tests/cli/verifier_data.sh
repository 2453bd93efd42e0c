#!/usr/bin/env bash
# A verifier learnt from training identities the nets never saw: 'deepid
# train --hold-out-identities' keeps them out and lists them, 'deepid features
# --folders' computes only their features, 'deepid eval-lfw --verifier-data'
# fits each verifier on them once and learns only thresholds from LFW; files
# from other nets are refused.
# usage: verifier_data.sh WORK DEEPID FAKE_LFW
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$1/verifier_data deepid=$2 fake_lfw=$3
fresh_folder "$work" && cd "$work"
log=run.log

"$fake_lfw" lfw 40 3 > /dev/null
"$fake_lfw" people 40 3 > /dev/null  # a training set of identity folders, people other than LFW's
for d in people/lfw/Person_*; do
  for f in "$d"/*.jpg; do mv "$f" "$d/$(basename "$f" | sed s/Person_/Someone_/)"; done
  mv "$d" "people/lfw/$(basename "$d" | sed s/Person_/Someone_/)"
done
sed -i s/Person_/Someone_/g people/landmarks_deepfunneled_yunet.txt
set_args="--folders people/lfw --landmarks people/landmarks_deepfunneled_yunet.txt"
train="train --scheme deepid1 --patches face.s1.rgb --epochs 1 --batch 8 $set_args --lfw lfw"
"$deepid" $train --hold-out 0-4 --hold-out-identities 10 --out m04 > "$log" 2>&1 || fail "training m04 failed"
expect "held out 10 of 40 folders identities for a verifier \(30 train\)"
[ "$(grep -vc '^#' m04/held_out_identities.txt)" -eq 10 ] || fail "m04/held_out_identities.txt does not list 10 identities"
grep -qx "hold-out-identities 10" m04/training_settings.txt || fail "the settings lack hold-out-identities 10"
"$deepid" $train --hold-out 5-9 --hold-out-identities 10 --out m59 > "$log" 2>&1 || fail "training m59 failed"
# Nets that trained on the held-out people would have printed more identities.
expect "on [0-9]+ faces of 50 identities"

"$deepid" features --models m04 $set_args --out v04.npy > "$log" 2>&1 || fail "held-out features of m04 failed"
expect "features of 30 images of 10 held-out people from 1 nets"
expect "wrote v04.npy \(30 x 320\)"
# Exactly the listed people, named <identity>/<image>.
grep -v '^#deepid-features' v04.names.txt | cut -d/ -f1 | sort -u | cmp -s - <(grep -v '^#' m04/held_out_identities.txt | sort) ||
  fail "v04.names.txt holds other identities than m04/held_out_identities.txt"
grep -qx "0,1,2,3,4" v04.held_out_folds.txt || fail "v04.held_out_folds.txt does not carry folds 0-4"
"$deepid" features --models m59 $set_args --out v59.npy > "$log" 2>&1 || fail "held-out features of m59 failed"
"$deepid" features --models m04 --lfw lfw --out f04.npy > "$log" 2>&1 || fail "LFW features of m04 failed"
"$deepid" features --models m59 --lfw lfw --out f59.npy > "$log" 2>&1 || fail "LFW features of m59 failed"

"$deepid" eval-lfw --features f04.npy,f59.npy --verifier-data v04.npy,v59.npy --lfw lfw --verifier cosine,jb-exact \
  --pca 8 --out e > "$log" 2>&1 || fail "eval-lfw --verifier-data failed"
expect "the verifiers learn from 30 images of 10 held-out training people \(v04.npy\); each fold learns only its threshold"
expect "^jb-exact +[0-9.]+% "

refuse "--verifier-data: 1 file(s) for 2 --features file(s)" \
  eval-lfw --features f04.npy,f59.npy --verifier-data v04.npy --lfw lfw --verifier cosine --out e
refuse "v59.npy: its nets held out LFW folds 5,6,7,8,9, those of f04.npy held out 0,1,2,3,4: not the same nets" \
  eval-lfw --features f04.npy,f59.npy --verifier-data v59.npy,v04.npy --lfw lfw --verifier cosine --out e
# LFW's own features cannot pass for held-out people, nor can LFW people among them.
refuse "f04.npy: no f04.held_out_identities.txt: not the features of held-out training people" \
  eval-lfw --features f04.npy,f59.npy --verifier-data f04.npy,f59.npy --lfw lfw --verifier cosine --out e
cp f04.npy lfw04.npy && cp f04.names.txt lfw04.names.txt && cp f04.held_out_folds.txt lfw04.held_out_folds.txt
cp v04.held_out_identities.txt lfw04.held_out_identities.txt
refuse "lfw04.npy: image 'Person_000/Person_000_0001.jpg' is of a person lfw04.held_out_identities.txt does not list" \
  eval-lfw --features f04.npy,f59.npy --verifier-data lfw04.npy,v59.npy --lfw lfw --verifier cosine --out e
sed -i 1,2d lfw04.held_out_identities.txt && grep -v '^#deepid-features' lfw04.names.txt | cut -d/ -f1 | sort -u >> lfw04.held_out_identities.txt
refuse "lfw04.npy: 'Person_000' is an LFW person; a verifier may learn only from people outside LFW" \
  eval-lfw --features f04.npy,f59.npy --verifier-data lfw04.npy,v59.npy --lfw lfw --verifier cosine --out e
"$deepid" train --scheme deepid1 --patches face.s1.rgb --epochs 1 --batch 8 --synthetic 4:3 --out all > "$log" 2>&1 ||
  fail "training on every identity failed"
refuse "all holds nets that learnt from every identity of their training set" features --models all $set_args --out x.npy
refuse "m04 holds nets trained with hold-out-identities 10, not none" $train --hold-out 0-4 --out m04
refuse "m04 holds nets trained with hold-out-identities 10, not 12" $train --hold-out 0-4 --hold-out-identities 12 --out m04
refuse "--hold-out-identities needs --celeba, --folders or --synthetic" \
  train --scheme deepid1 --patches 1 --lfw lfw --hold-out 0-4 --hold-out-identities 3 --out mx
refuse "'deepid features' needs one of --lfw, --celeba or --folders" features --models m04 --out x.npy
echo "verifier data: OK"
