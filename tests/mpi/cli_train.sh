#!/usr/bin/env bash
# 'mpirun -np N deepid train' (a tool built with MPI) on built-in synthetic
# identities: whole nets per rank give the one-process nets bit for bit;
# shared batches train every net on both ranks and rank 0 writes the folder;
# the other subcommands refuse to run on several ranks.
# usage: cli_train.sh WORK DEEPID MPIEXEC [MPIEXEC FLAGS...]
set -u
work=$1 deepid=$2
shift 2
mpiexec=("$@")
source "$(dirname "$0")/../cli/lib.sh"
fresh_folder "$work/mpi_cli"
cd "$work/mpi_cli" || exit 1
log=$PWD/log.txt
train=(train --scheme deepid1 --patches 3 --synthetic 6:8 --epochs 2 --batch 8 --seed 5)

"$deepid" "${train[@]}" --out alone > "$log" 2>&1 || fail "one-process training failed"
"${mpiexec[@]}" -n 2 "$deepid" "${train[@]}" --distribute nets --out nets > "$log" 2>&1 || fail "mpirun -n 2 --distribute nets failed"
expect "on 2 ranks \(whole nets\)"
expect "rank 1: net 2/3"
# The nets and their normalisation; logs and checkpoints hold timings.
diff -r -x logs -x checkpoints alone nets > diff.txt 2>&1 || { cat diff.txt >> "$log"; fail "the nets trained on 2 ranks differ from one process's"; }

"${mpiexec[@]}" -n 2 "$deepid" "${train[@]}" --out batches > "$log" 2>&1 || fail "mpirun -n 2 (shared batches) failed"
expect "on 2 ranks \(shared batches\)"
expect "samples/s on 2 ranks"
expect "^wrote batches \(3 nets"
[ "$(grep -c '^wrote' "$log")" -eq 1 ] || fail "more than one rank wrote the folder"
[ -f batches/scheme.txt ] || fail "no batches/scheme.txt"

"${mpiexec[@]}" -n 2 "$deepid" info > "$log" 2>&1 && fail "mpirun -n 2 deepid info succeeded"
expect "only 'deepid train' runs on several ranks"
"${mpiexec[@]}" -n 2 "$deepid" "${train[@]}" --distribute everything --out x > "$log" 2>&1 && fail "--distribute everything was accepted"
expect "--distribute 'everything' is neither batches nor nets"
echo "mpirun deepid train: nets mode equals one process; batches mode writes once; other commands refused"
