#!/usr/bin/env bash
# The test examples.verify_two_faces: the example program on two LFW faces of
# the data folder named by DEEPID_DATA (laid out like ../shared/data).
# Unset: skipped (exit status 77). Set but without LFW: fails with one line.
# usage: verify_two_faces_lfw.sh PROGRAM SCRATCH_DIR
set -euo pipefail
program=$1 work=$2
if [ -z "${DEEPID_DATA:-}" ]; then
  echo "SKIPPED: DEEPID_DATA is not set; set it to a folder laid out like ../shared/data to verify two LFW faces" >&2
  exit 77
fi
lfw=$DEEPID_DATA/lfw
landmarks=$lfw/landmarks_deepfunneled_yunet.txt
faces=(AJ_Cook/AJ_Cook_0001.jpg Zico/Zico_0003.jpg)
if [ ! -r "$landmarks" ]; then
  echo "verify_two_faces: DEEPID_DATA=$DEEPID_DATA has no readable lfw/landmarks_deepfunneled_yunet.txt" >&2
  exit 1
fi
# The images: from an extracted lfw-deepfunneled/ folder, else out of the tar.
rm -rf "$work" && mkdir -p "$work"
if [ -d "$lfw/lfw-deepfunneled" ]; then
  images=$lfw/lfw-deepfunneled
elif tar -xf "$lfw/lfw-deepfunneled.tar" -C "$work" "${faces[@]/#/lfw-deepfunneled/}" 2>/dev/null; then
  images=$work/lfw-deepfunneled
else
  echo "verify_two_faces: cannot read ${faces[*]} from $lfw/lfw-deepfunneled.tar" >&2
  exit 1
fi
# Named as in the landmark list, relative to the image folder.
cd "$images"
exec "$program" "${faces[@]}" "$landmarks"
