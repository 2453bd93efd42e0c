#!/usr/bin/env bash
# The PyTorch interop check: scripts/make_torch_reference.py builds the net in
# PyTorch and writes weights, an input batch and PyTorch's features; deepid
# forward computes its features from the same files; they must agree within
# 1e-4 (max abs difference). Exits 77 (ctest: skipped) with the reason when
# the Python interpreter, torch or numpy is missing.
# usage: torch_interop.sh PYTHON DEEPID SOURCE_DIR WORK_DIR plain|paper MODEL
set -u
python=$1 deepid=$2 source=$3 work=$4 sharing=$5 model=$6
script=$source/scripts/make_torch_reference.py
if [ ! -x "$python" ]; then
  echo "SKIPPED: $python not found; the PyTorch interop check needs Debian's python3 with python3-torch and python3-numpy"
  exit 77
fi
if ! missing=$("$python" -c "import numpy, torch" 2>&1); then
  echo "SKIPPED: $python cannot import numpy and torch (${missing##*$'\n'}); install python3-torch and python3-numpy"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work" || exit 1
"$python" "$script" make --out "$work" --sharing "$sharing" || exit 1
"$deepid" forward --model "$model" --weights "$work/weights" --input "$work/input.npy" \
  --output "$work/features_deepid.npy" || exit 1
"$python" "$script" check --reference "$work" --features "$work/features_deepid.npy" --tolerance 1e-4
