#!/usr/bin/env bash
# bench/dist/scaling.sh — data-parallel scaling on this machine: one epoch of the MLP and of the
# seed ConvNet on 1 rank and on 2 ranks (one thread each), both modes, MPI_Allreduce and the ring.
#
#   bash bench/dist/scaling.sh [BUILD_DIR]      (needs Open MPI and the full Fashion-MNIST)
#
# The global batch is 64 in every run (one rank × 64, or two × 32): the same work per epoch, so the
# speed-up is strong scaling. Configurations are interleaved, ROUNDS (3) rounds; the table gives
# medians of the slowest rank's epoch and of the share of it spent inside all-reduces (waiting for
# the other rank included). Results go to bench/RESULTS.md by hand, with the machine's load.
set -euo pipefail
BUILD=${1:-build}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
ROUNDS=${ROUNDS:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
CONFIGS=("mlp 12000 1 64 mpi" "mlp 12000 2 32 mpi" "mlp 12000 2 32 ring"
         "convnet 3000 1 64 mpi" "convnet 3000 2 32 mpi" "convnet 3000 2 32 ring")
RAW=$(mktemp)
trap 'rm -f "$RAW"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 1; round <= ROUNDS; ++round)); do
  for config in "${CONFIGS[@]}"; do
    read -r model images ranks batch algo <<<"$config"
    # The epoch row: "1  <eager loss> <graph loss> <eager s> (<comm>%) <graph s> (<comm>%)".
    row=$(mpirun -np "$ranks" "$BUILD/18_data_parallel" --data "$DATA" --model "$model" --images "$images" \
      --batch "$batch" --allreduce "$algo" | sed -n 's/^ *1  *[0-9.]*  *[0-9.]*  *//p' | tr -d '(%)')
    echo "$config $row" >>"$RAW"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# model images ranks batch algo eager_s eager_comm graph_s graph_comm -> medians per configuration
python3 - "$RAW" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault(tuple(f[:5]), []).append([float(x) for x in f[5:9]])
one = {}
print("| model (images) | ranks, all-reduce | eager epoch (comm) | graph epoch (comm) | speed-up, eager / graph |")
print("|---|---|---|---|---|")
for key, runs in rows.items():
    model, images, ranks, batch, algo = key
    es, ec, gs, gc = (statistics.median(r[i] for r in runs) for i in range(4))
    if ranks == "1":
        one[model] = (es, gs)
        speed = ""
    else:
        speed = "%.2fx / %.2fx" % (one[model][0] / es, one[model][1] / gs)
    print("| %s (%s) | %s, %s | %.3f s (%.0f %%) | %.3f s (%.0f %%) | %s |" %
          (model, images, ranks, "MPI_Allreduce" if algo == "mpi" else "ring", es, ec, gs, gc, speed))
PY
