#!/usr/bin/env bash
# Crash safety of 'deepid train': the same command, killed with SIGKILL again
# and again (at random moments, and right inside checkpoint writes) and
# re-run each time, ends with model files bitwise equal to those of a run
# that was never interrupted, and the same loss history. After every kill
# each checkpoint present (patch_<i>.ckpt and .prev) is whole, none that
# existed is lost or goes back in time, no log shrinks or is cut, and a file
# of the user's in the output folder is untouched.
# One thread (--threads 1): the kernels do not depend on the thread count,
# so this only keeps the test to one of the machine's cores.
# usage: kill_resume.sh WORK DEEPID CHECKPOINT_PROBE
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$1/kill_resume deepid=$2 probe=$3
fresh_folder "$work" && cd "$work" || exit 1
log=run.log
fail() { echo "FAIL: $1"; echo "--- last output:"; tail -5 "$log"; exit 1; }
min_kills=24
# 54 training faces, 6 batches of 8 pairs per epoch, a checkpoint every 2
# batches: 3 checkpoint writes per epoch, 30 in the run.
train=(train --scheme deepid1 --patches face.s1.rgb --synthetic 6:10 --epochs 10 --batch 8 --lr 0.02
       --threads 1 --checkpoint-every 2 --seed 5)
shopt -s nullglob dotglob

start=$SECONDS
"$deepid" "${train[@]}" --out reference > "$log" 2>&1 || fail "the uninterrupted run failed"
reference_seconds=$((SECONDS - start))

mkdir run
echo "notes the user keeps next to the nets" > run/notes.txt
cp run/notes.txt notes.orig

# Waits without a child process (read on a FIFO that never has data).
mkfifo tick && exec 9<> tick
declare -A position lines stale  # per checkpoint: last "epoch E batch B"; per log: rows; temporaries seen
kills=0 in_write=0 runs=0

# A checkpoint position as one number (epoch * 100000 + batch).
order() { local e b; read -r _ e _ b _ <<< "$1"; echo $((e * 100000 + b)); }

check_after_kill() {
  cmp -s notes.orig run/notes.txt || fail "kill $kills: run/notes.txt changed"
  local f new=0
  for f in run/checkpoints/.*.tmp-*; do  # a temporary a write left: the kill landed inside it
    [ -n "${stale[$f]:-}" ] || new=1
    stale[$f]=1
  done
  in_write=$((in_write + new))
  for f in "${!position[@]}"; do [ -e "$f" ] || fail "kill $kills: $f, present before, is gone"; done
  for f in run/checkpoints/*.ckpt run/checkpoints/*.ckpt.prev; do
    local state
    state=$("$probe" "$f") || fail "kill $kills: $f is damaged: $state"
    [[ $state == *" finite" ]] || fail "kill $kills: $f holds weights that are not finite"
    if [ -n "${position[$f]:-}" ] && [ "$(order "$state")" -lt "$(order "${position[$f]}")" ]; then
      fail "kill $kills: $f went back from '${position[$f]}' to '$state'"
    fi
    position[$f]=$state
  done
  local current previous
  for f in run/checkpoints/*.ckpt; do
    [ -e "$f.prev" ] || continue
    current=$(order "${position[$f]}") previous=$(order "${position[$f.prev]}")
    [ "$previous" -le "$current" ] || fail "kill $kills: $f.prev is newer than $f"
  done
  for f in "${!lines[@]}"; do [ -e "$f" ] || fail "kill $kills: $f, present before, is gone"; done
  for f in run/logs/*.csv; do
    [ -z "$(tail -c 1 "$f")" ] || fail "kill $kills: $f does not end with a whole line"
    local rows fields
    rows=$(wc -l < "$f")
    fields=$(awk -F, '{print NF}' "$f" | sort -u | wc -l)
    [ "$fields" -eq 1 ] || fail "kill $kills: $f has rows of different lengths"
    [ "$rows" -ge "${lines[$f]:-0}" ] || fail "kill $kills: $f shrank from ${lines[$f]} to $rows lines"
    lines[$f]=$rows
  done
}

# Kills `pid` once its checkpoint folder has seen `writes` new write
# temporaries (the kill lands inside that checkpoint write or just after it),
# or after `micros` microseconds, whichever comes first. At most one checkpoint a run
# gets past, so the run cannot end before the kills are done.
kill_run() {
  local pid=$1 writes=$2 micros=$3 t
  local -A seen=()
  for t in run/checkpoints/.patch_*.ckpt.tmp-*; do seen[$t]=1; done  # left by earlier kills
  writes=$((writes + ${#seen[@]}))
  local deadline=$((${EPOCHREALTIME/./} + micros))
  while kill -0 "$pid" 2> /dev/null; do
    for t in run/checkpoints/.patch_*.ckpt.tmp-*; do seen[$t]=1; done
    if [ ${#seen[@]} -ge "$writes" ] || [ "${EPOCHREALTIME/./}" -ge "$deadline" ]; then
      kill -KILL "$pid" 2> /dev/null
      return
    fi
    read -t 0.001 -u 9 || true
  done
}

while :; do
  runs=$((runs + 1))
  [ "$runs" -le $((3 * min_kills)) ] || fail "no end after $runs runs"
  "$deepid" "${train[@]}" --out run > "$log" 2>&1 &
  pid=$!
  if [ "$kills" -lt "$min_kills" ]; then
    if [ $((runs % 2)) -eq 0 ]; then
      kill_run "$pid" $((1 + RANDOM % 2)) 1000000000  # inside the first or second checkpoint write
    else  # at a random moment in 2 s (loading, training, a log), before the second write
      kill_run "$pid" 2 $((RANDOM * 61))
    fi
  fi
  wait "$pid" 2> /dev/null  # no "Killed" line from the shell
  status=$?
  if [ "$status" -eq 0 ]; then break; fi
  [ "$status" -eq 137 ] || fail "run $runs ended with status $status, not by the kill"
  kills=$((kills + 1))
  check_after_kill
done

cmp -s notes.orig run/notes.txt || fail "run/notes.txt changed"
for f in reference/*; do
  [ -f "$f" ] || continue
  name=${f#reference/}
  cmp -s "$f" "run/$name" || fail "run/$name differs from the uninterrupted run's"
done
# The loss history (without the timing columns) is the uninterrupted run's.
for f in reference/logs/*.csv; do
  cmp -s <(cut -d, -f1-7 "$f") <(cut -d, -f1-7 "run/${f#reference/}") || fail "run/${f#reference/} differs in its losses"
done
[ "$kills" -ge "$min_kills" ] || fail "only $kills kills landed"
echo "kill and resume: $kills kills ($in_write inside a checkpoint write), $runs runs, model files bitwise equal;" \
     "uninterrupted run ${reference_seconds} s, whole test $SECONDS s: OK"
