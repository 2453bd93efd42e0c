#!/usr/bin/env bash
# Fixtures for the CLI tests: seeded weights, damaged copies, inputs.
# usage: setup.sh WORK_DIR DEEPID NPY_TOOL
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$1 deepid=$2 tool=$3
fresh_folder "$work"
cd "$work"
"$deepid" export --model deepid1-39x31x3 --seed 1 --out w
"$deepid" export --model deepid1-39x31x1 --seed 1 --out w_gray
cp -r w w_missing && rm w_missing/4.bias.npy
cp -r w w_shape && cp w_gray/1.weight.npy w_shape/1.weight.npy
cp -r w w_nan && "$tool" write w_nan/7.bias.npy f32 2x2x60 nan
cp -r w w_truncated && head -c 300 w/14.weight.npy > w_truncated/14.weight.npy
cp -r w w_manifest && echo "format deepid-weights 7" > w_manifest/model.txt
# Finite weights whose outputs overflow float32 (no manifest: a file from another tool).
cp -r w w_huge && rm w_huge/model.txt && "$tool" write w_huge/14.weight.npy f32 160x520 huge
# A tensor file from another export beside the manifest of this one.
"$deepid" export --model deepid1-39x31x3 --seed 2 --out w_other
cp -r w w_mixed && cp w_other/14.weight.npy w_mixed/14.weight.npy
"$tool" write x.npy f32 4x3x39x31 ramp
"$tool" write x64.npy f64 4x3x39x31 ramp
"$tool" write x_gray.npy f32 4x1x39x31 ramp
"$tool" write x_rank3.npy f32 3x39x31 ramp
"$tool" write x_nan.npy f32 2x3x39x31 nan
"$tool" write x_inf.npy f32 2x3x39x31 inf
"$tool" write x_empty.npy f32 0x3x39x31 ramp
head -c 1000 x.npy > x_truncated.npy
printf 'this is a text file, not numpy data\n' > x_text.npy
"$tool" write existing.npy f32 2x2 ramp
