#!/usr/bin/env bash
# deepid forward on the fixtures: N x 160 float32 features, the same bytes
# for 1 and 2 threads and for float32 and float64 input files. It reads the
# fixtures in WORK_DIR and writes in WORK_DIR/forward.
# usage: forward_ok.sh WORK_DIR DEEPID NPY_TOOL
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$1 deepid=$2 tool=$3
fresh_folder "$work/forward"
cd "$work/forward"
"$deepid" forward --model deepid1-39x31x3 --weights ../w --input ../x.npy --output y1.npy --threads 1
"$deepid" forward --model deepid1-39x31x3 --weights ../w --input ../x.npy --output y2.npy --threads 2
"$deepid" forward --model deepid1-39x31x3 --weights ../w --input ../x64.npy --output y64.npy
described=$("$tool" describe y1.npy)
[ "$described" = "float32 4x160" ] || { echo "FAIL: output is '$described', expected 'float32 4x160'"; exit 1; }
cmp y1.npy y2.npy || { echo "FAIL: features differ between 1 and 2 threads"; exit 1; }
cmp y1.npy y64.npy || { echo "FAIL: features differ between float32 and float64 input files"; exit 1; }
ls -a | grep -q '\.tmp-' && { echo "FAIL: temporary files left behind"; exit 1; }
echo "ok: $described, identical for 1 and 2 threads and for float64 input"
