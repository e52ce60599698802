#!/usr/bin/env bash
# bench/under_load.sh — the training steps on a quiet machine and beside one busy process.
#
# What core/threads.h promises: with one other CPU-bound process running (here `yes > /dev/null`),
# a step takes about its one-thread time instead of collapsing. This script times the ConvNet
# step (examples/06_convnet, eager and graph) and the MLP step (bench_mlp_step, batch 1 and 64,
# eager and graph) with 2 threads, quiet and loaded, in ROUNDS interleaved rounds, for each build
# given (to compare before and after), and prints the median of each.
#
#   bench/under_load.sh [ROUNDS (5)] BUILD_DIR[:VAR=VALUE] ...
#   bench/under_load.sh 5 /tmp/before/build build build:OMP_WAIT_POLICY=passive
#
# On a machine shared with other work, start it with `setsid` as root: it then moves its own
# session to the front (autogroup nice -20), so that other sessions' processes get a few percent
# of the CPU and "quiet" means quiet, while its `yes` runs in the same session, at the same
# priority as the steps, as a user's other program would.
set -euo pipefail
ROUNDS=5
if [[ ${1:-} =~ ^[0-9]+$ ]]; then ROUNDS=$1; shift; fi
(($# > 0)) || { sed -n '2,16p' "$0"; exit 2; }
if [[ $(ps -o sid= -p $$ | tr -d ' ') == "$$" ]] && echo -20 > /proc/self/autogroup 2>/dev/null; then
  echo "# this session's autogroup at nice -20: other sessions get a few percent of the CPU"
else
  echo "# other sessions' processes compete at equal priority (start with setsid, as root, to avoid it)"
fi
LOG=$(mktemp)
trap 'rm -f "$LOG"; [[ -n ${YES:-} ]] && kill "$YES" 2>/dev/null' EXIT

for round in $(seq "$ROUNDS"); do
  for load in quiet loaded; do
    YES=""
    if [[ $load == loaded ]]; then
      yes > /dev/null &
      YES=$!
      sleep 0.3
    fi
    for spec in "$@"; do
      build=${spec%%:*} vars=""
      [[ $spec == *:* ]] && vars=${spec#*:}
      run() { env $vars OMP_NUM_THREADS=2 "$@" 2>&1; }
      conv=$(run "$build/06_convnet" | sed -n 's/.*time per step: eager \([0-9.]*\) ms, graph \([0-9.]*\) ms.*/\1 \2/p')
      mlp=$(for mode in eager graph; do
        run "$build/bench_mlp_step" --threads 2 --min-time 0.3 --min-reps 50 --only $mode 1 64 |
          awk '/^RESULT step_/ {printf "%s ", $3}'
      done)
      echo "$load $spec $conv $mlp" | tee -a "$LOG"
    done
    [[ -n $YES ]] && { kill "$YES"; wait "$YES" 2>/dev/null || true; }
    YES=""
  done
done

echo
echo "# medians over $ROUNDS rounds, ms per step"
printf '%-7s %-40s %10s %10s %9s %9s %9s %9s\n' "" build "conv eager" "conv graph" \
  "mlp e b1" "mlp e b64" "mlp g b1" "mlp g b64"
python3 - "$LOG" <<'EOF'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 8:
        rows[(f[0], f[1])].append([float(x) for x in f[2:]])
for (load, spec), runs in sorted(rows.items(), key=lambda kv: (kv[0][0] != "quiet", kv[0][1])):
    med = [statistics.median(r[i] for r in runs) for i in range(6)]
    print(f"{load:7s} {spec:40s} " + " ".join(f"{m:10.4g}" for m in med))
EOF
