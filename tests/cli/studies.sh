#!/usr/bin/env bash
# 'deepid stats' and 'deepid identify-lfw' on the hand-made feature files of
# studies_fixtures.cpp: the printed numbers are the hand-computed ones and the
# files are written. It reads the fixtures in WORK and writes in WORK/studies.
# usage: studies.sh WORK DEEPID
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$1 deepid=$2
fresh_folder "$work/studies"
cd "$work/studies"

log=stats.log
"$deepid" stats --features ../stats.npy --out st > "$log" 2>&1 || fail "deepid stats failed"
# Active per image 2, 0, 2, 3: mean 1.75, s.d. 1.09; per neuron 3, 1, 3: mean 2.33, s.d. 0.94.
expect "active neurons per image: +1\.8 \+- 1\.1 of 3 neurons \(58\.3%\)"
expect "images that activate a neuron: +2\.3 \+- 0\.9 of 4 images \(58\.3%\)"
[ -s st/sparsity.png ] || fail "no st/sparsity.png"
grep -qx "active_neurons_per_image,2,2,2" st/sparsity.csv || fail "sparsity.csv lacks the bin of 2 active neurons"
grep -qx "images_per_neuron,3,3,2" st/sparsity.csv || fail "sparsity.csv lacks the bin of 3 images"

log=identify.log
"$deepid" identify-lfw --features ../ident.npy --open-gallery 3 --out id > "$log" 2>&1 || fail "deepid identify-lfw failed"
# Closed set: 3 gallery people, 4 probes, one of them (Alice_0003) tied with Bob and behind Dan.
expect "closed set: gallery 3 people \(first image each\), 4 probes"
expect "rank-1 identification rate  75\.00%"
# Open set: all three people in the gallery, Carol the one impostor (top score -0.707).
expect "gallery 3 people, 4 genuine probes, 1 impostor probes"
expect "DIR at FAR 1\.00%  75\.00%"
[ "$(sed -n 2p id/cmc.csv)" = "1,0.75" ] || fail "cmc.csv rank 1 is not 0.75"
[ "$(sed -n 4p id/cmc.csv)" = "3,1" ] || fail "cmc.csv rank 3 is not 1"
grep -q "rank-1 identification rate" id/results.txt || fail "results.txt lacks the table"

log=identify_bin.log
"$deepid" identify-lfw --features ../ident_bin.npy --open-gallery 3 --far 0.5 > "$log" 2>&1 || fail "identify-lfw on bits failed"
# Signs: Alice 10, Bob 01, Dan 11; both Alice probes are 11 (Dan scores higher), so 2 of 4.
expect "8 x 8 binary features"
expect "rank-1 identification rate  50\.00%"
expect "DIR at FAR 50\.00%  50\.00%"
echo "deepid stats and identify-lfw: OK"
