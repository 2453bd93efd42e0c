#!/usr/bin/env bash
# 'mpirun -np N deepid train' (a tool built with MPI) on built-in synthetic
# identities: whole nets per rank give the one-process nets bit for bit;
# shared batches train every net on both ranks and rank 0 writes the folder;
# the other subcommands refuse to run on several ranks; a rank killed while
# training ends the job, and the other rank says why.
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

# A rank killed in the middle of training: the job ends within seconds and
# the rank left running says why in the tool's one-line error form.
"${mpiexec[@]}" -n 2 "$deepid" train --scheme deepid1 --patches 1 --synthetic 6:8 --epochs 100000 --batch 8 \
    --seed 5 --out killed > "$log" 2>&1 &
job=$!
rank_one=""
for _ in $(seq 600); do
  if grep -q "samples/s on 2 ranks" "$log"; then
    for pid in $(pgrep -P "$job"); do
      tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && rank_one=$pid
    done
  fi
  [ -n "$rank_one" ] && break
  sleep 0.1
done
[ -n "$rank_one" ] || { kill "$job"; fail "no epoch on 2 ranks within 60 s, or no rank 1 among mpirun's children"; }
kill -KILL "$rank_one"
killed_at=$SECONDS
for _ in $(seq 300); do kill -0 "$job" 2> /dev/null || break; sleep 0.1; done
kill -0 "$job" 2> /dev/null && { kill -KILL "$job"; fail "the job still ran 30 s after rank 1 was killed"; }
wait "$job" && fail "the job exited 0 after rank 1 was killed"
expect "rank 1 .*exited on signal 9"
expect "^deepid: error: rank 0 of 2: ended by SIGTERM"
echo "killed rank 1: the job ended in $((SECONDS - killed_at)) s"

echo "mpirun deepid train: nets mode equals one process; batches mode writes once; other commands refused;" \
     "a killed rank ends the job and the other rank says why"
