#!/usr/bin/env bash
# The PyTorch interop check: scripts/make_torch_reference.py builds the model
# in PyTorch and writes weights, an input batch and PyTorch's value of every
# output (each head and the main one); deepid forward --head all computes its
# outputs from the same files; each must agree within 1e-4 (max abs
# difference). Exits 77 (ctest: skipped) with the reason when the Python
# interpreter, torch or numpy is missing.
# usage: torch_interop.sh PYTHON DEEPID SOURCE_DIR WORK_DIR MODEL BATCH
set -u
python=$1 deepid=$2 source=$3 work=$4 model=$5 batch=$6
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
"$python" "$script" make --out "$work" --model "$model" --batch "$batch" || exit 1
"$deepid" forward --model "$model" --weights "$work/weights" --input "$work/input.npy" \
  --output "$work/deepid.npy" --head all || exit 1
"$python" "$script" check --reference "$work" --features "$work/deepid.npy" --tolerance 1e-4
status=$?
rm -rf "$work/weights"  # up to 260 MB per model
exit $status
