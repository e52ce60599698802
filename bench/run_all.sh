#!/usr/bin/env bash
# bench/run_all.sh — Tandem against PyTorch, same machine, same run, same thread count.
#
#   usage: bench/run_all.sh [BUILD_DIR]      (`make bench` runs it)
#   BUILD_DIR: the CMake build folder; default $TANDEM_BUILD_DIR, else build
#   environment: THREADS (2), ROUNDS (3), PYTHON (/usr/bin/python3 if present, else python3)
#
# Each comparison runs the C++ bench and its PyTorch twin ROUNDS times, interleaved (T P T P ...),
# so that a burst of load from elsewhere on the machine hits both sides alike; the table quotes the
# median over rounds of each bench's own median. Every bench prints lines
#     RESULT <case> <value> <unit>
# and the table joins them on <case>. The ratio is Tandem's speed over PyTorch's (> 1: Tandem is
# faster): value_T / value_P for rates (a unit with "/s"), value_P / value_T for times.
#
# To add a benchmark: write bench/bench_<name>.cpp (CMake builds it) and bench/bench_<name>.py,
# both printing RESULT lines, and add a `compare` line at the bottom.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
BUILD="${1:-${TANDEM_BUILD_DIR:-build}}"
[[ "$BUILD" = /* ]] || BUILD="$ROOT/$BUILD"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-3}"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi

# Both libraries read these at start-up; the benches also set the count explicitly.
export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS"

gemm="Eigen's own GEMM"
if grep -q '^TANDEM_USE_BLAS:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null &&
   grep -q '^OPENBLAS_LIB:FILEPATH=/' "$BUILD/CMakeCache.txt" 2>/dev/null; then
  gemm="OpenBLAS through Eigen (EIGEN_USE_BLAS)"
fi
have_torch=1
"$PYTHON" -c "import torch" 2>/dev/null || have_torch=0

echo "Tandem vs PyTorch — $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
     "$THREADS threads, $ROUNDS rounds, median of medians"
echo "Tandem build: $BUILD (GEMM: $gemm)"
[[ $have_torch = 1 ]] || echo "PyTorch not found for $PYTHON: its column stays empty"

# compare TITLE CPP_EXE PY_SCRIPT [ARGS...]: interleaved rounds, then the table.
compare() {
  local title="$1" exe="$BUILD/$2" script="$ROOT/bench/$3"
  shift 3
  if [[ ! -x "$exe" ]]; then
    echo "$title: $exe not found; build it first (ninja -C $BUILD $(basename "$exe"))" >&2
    return 1
  fi
  local out
  out="$(mktemp)"
  for ((r = 1; r <= ROUNDS; ++r)); do
    "$exe" --threads "$THREADS" "$@" | sed -n 's/^RESULT /T /p' >>"$out"
    if [[ $have_torch = 1 ]]; then
      "$PYTHON" "$script" --threads "$THREADS" "$@" | sed -n 's/^RESULT /P /p' >>"$out"
    fi
  done
  echo
  "$PYTHON" - "$title" "$out" <<'PY'
import statistics, sys
title, path = sys.argv[1], sys.argv[2]
runs, order = {}, []            # (case, side) -> values; cases in first-seen order
unit = {}
for line in open(path):
    side, case, value, u = line.split(maxsplit=3)
    if case not in order:
        order.append(case)
    runs.setdefault((case, side), []).append(float(value))
    unit[case] = u.strip()
print(f"## {title}")
print(f"| case | Tandem | PyTorch | ratio (Tandem/PyTorch) |")
print(f"|---|---|---|---|")
for case in order:
    t = statistics.median(runs[(case, "T")]) if (case, "T") in runs else None
    p = statistics.median(runs[(case, "P")]) if (case, "P") in runs else None
    ratio = ""
    if t and p:
        ratio = f"{t / p:.2f}" if "/s" in unit[case] else f"{p / t:.2f}"
    fmt = lambda v: "" if v is None else f"{v:.1f} {unit[case]}"
    print(f"| {case} | {fmt(t)} | {fmt(p)} | {ratio} |")
PY
  rm -f "$out"
}

compare "matmul, float32, n x n · n x n (GFLOP/s = 2n³/t)" bench_matmul bench_matmul.py
compare "exp, log, tanh, sigmoid, softmax, log_softmax of float32 1024 x 1024: ms per call" \
  bench_unary bench_unary.py

# ---- one training step of an MLP: Tandem eager and graph, PyTorch, LibTorch ---------------------
# bench_mlp_step prints several Tandem variants (eager, graph with and without passes) and their
# peak memory; bench_mlp_step.py and bench_mlp_libtorch the same step in PyTorch from Python and
# from C++. LibTorch is optional: its program is built here, on first use, when CMake found
# LibTorch (Debian's libtorch-dev); otherwise its column stays empty.
compare_mlp_step() {
  local exe="$BUILD/bench_mlp_step" lt="$BUILD/bench_mlp_libtorch" script="$ROOT/bench/bench_mlp_step.py"
  if [[ ! -x "$exe" ]]; then
    echo "MLP step: $exe not found; build it first (ninja -C $BUILD bench_mlp_step)" >&2
    return 1
  fi
  if [[ ! -x "$lt" ]] && grep -q 'build bench_mlp_libtorch:' "$BUILD/build.ninja" 2>/dev/null; then
    echo "(building the LibTorch benchmark: ninja -C $BUILD bench_mlp_libtorch)"
    ninja -C "$BUILD" bench_mlp_libtorch >/dev/null || echo "LibTorch benchmark did not build; its column stays empty" >&2
  fi
  local out
  out="$(mktemp)"
  for ((r = 1; r <= ROUNDS; ++r)); do
    "$exe" --threads "$THREADS" "$@" | sed -n 's/^RESULT /T /p' >>"$out"
    if [[ $have_torch = 1 ]]; then
      "$PYTHON" "$script" --threads "$THREADS" "$@" | sed -n 's/^RESULT /P /p' >>"$out"
    fi
    if [[ -x "$lt" ]]; then "$lt" --threads "$THREADS" "$@" | sed -n 's/^RESULT /L /p' >>"$out"; fi
  done
  echo
  "$PYTHON" - "$out" <<'PY'
import collections, re, statistics, sys
vals = collections.defaultdict(list)   # (kind, batch, variant) -> values over rounds
batches = []
for line in open(sys.argv[1]):
    _, case, value, _unit = line.split(maxsplit=3)
    m = re.fullmatch(r"(step|peak)_b(\d+)_(\w+)", case)
    if not m:
        continue
    kind, b, variant = m.group(1), int(m.group(2)), m.group(3)
    vals[(kind, b, variant)].append(float(value))
    if b not in batches:
        batches.append(b)
med = lambda k: statistics.median(vals[k]) if vals.get(k) else None
fmt = lambda v, f="{:.3f}": "" if v is None else f.format(v)
ratio = lambda a, b: "" if a is None or b is None else f"{a / b:.2f}"
print("## MLP 784-256-128-10 training step (forward, cross-entropy, backward, SGD): ms per step")
print("| batch | Tandem eager | Tandem graph | graph, no passes | PyTorch | LibTorch "
      "| graph speed-up over eager | eager / LibTorch time | eager / PyTorch time |")
print("|---|---|---|---|---|---|---|---|---|")
for b in batches:
    e, g, n = (med(("step", b, v)) for v in ("eager", "graph", "graph_nopasses"))
    p, l = med(("step", b, "pytorch")), med(("step", b, "libtorch"))
    print(f"| {b} | {fmt(e)} | {fmt(g)} | {fmt(n)} | {fmt(p)} | {fmt(l)} "
          f"| {ratio(e, g)} | {ratio(e, l)} | {ratio(e, p)} |")
print()
print("## Peak tensor memory of one step, above the weights and the batch: KiB")
print("| batch | eager | graph | graph, no passes | graph / eager | graph, no passes / eager |")
print("|---|---|---|---|---|---|")
for b in batches:
    e, g, n = (med(("peak", b, v)) for v in ("eager", "graph", "graph_nopasses"))
    print(f"| {b} | {fmt(e, '{:.1f}')} | {fmt(g, '{:.1f}')} | {fmt(n, '{:.1f}')} | {ratio(g, e)} | {ratio(n, e)} |")
PY
  rm -f "$out"
}

compare_mlp_step
compare "one eager op call on a [1, 10] float32 tensor (chains of 64): ns per op" bench_op_cost bench_op_cost.py

# ---- the seed ConvNet on Fashion-MNIST (needs the dataset: Debian's dataset-fashion-mnist) -------
if [[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]]; then
  compare "seed ConvNet on Fashion-MNIST, batch 64, eager and graph: ms per step, s per epoch (938 steps)" \
    bench_convnet_epoch bench_convnet_epoch.py
  compare "MLP 784-256-128-10 on Fashion-MNIST, batch 64, SGD: one epoch (937 steps), s" \
    bench_mlp_epoch bench_mlp_epoch.py
  # The same networks written with layers/ and with raw ops (no PyTorch twin: two Tandem spellings,
  # their steps alternating in one run), then a ResNet written with layers against PyTorch's.
  if [[ -x "$BUILD/bench_layers_overhead" ]]; then
    echo
    echo "## layers/ against raw ops: median ms per training step (bench_layers_overhead.cpp)"
    echo "| case | raw ops | layers | layers / raw |"
    echo "|---|---|---|---|"
    "$BUILD/bench_layers_overhead" --threads "$THREADS" | awk '
      /^RESULT .*_raw / { sub(/_raw$/, "", $2); raw[$2] = $3; order[++n] = $2 }
      /^RESULT .*_layers / { sub(/_layers$/, "", $2); lay[$2] = $3 }
      END { for (i = 1; i <= n; ++i) { c = order[i]; printf "| %s | %.3f | %.3f | %.3f |\n", c, raw[c], lay[c], lay[c] / raw[c] } }'
  fi
  compare "ResNet 16-32-64 (layers/) on Fashion-MNIST, batch 64, SGD: ms per step, s per epoch (937 steps)" \
    bench_resnet_epoch bench_resnet_epoch.py
  compare "ResNet 16-32-64 in evaluation (eager; frozen graph), batch 64: ms per batch" \
    bench_resnet_eval bench_resnet_eval.py
  compare "DataLoader on Fashion-MNIST, batch 64, shuffle, Normalize (img/s); MLP epoch fed by hand or by the loader (s)" \
    bench_dataloader bench_dataloader.py
else
  echo "seed ConvNet: skipped, Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"
fi

# ---- the matmul ladder on the GPU (a CUDA build on a machine with a GPU; otherwise it says so) ---
# The epochs on the GPU compare with the CPU tables above (same programs, --device cpu) and with
# PyTorch on the same GPU where its build has CUDA.
if grep -q 'TANDEM_HAVE_CUDA' "$BUILD/build.ninja" 2>/dev/null; then
  compare "matmul ladder on the GPU, float32 (GFLOP/s = 2n³/t)" bench_cuda_ladder bench_cuda_ladder.py
  if [[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]]; then
    compare "seed ConvNet on the GPU: ms per step, s per epoch (938 steps)" \
      bench_convnet_epoch bench_convnet_epoch.py --device cuda --steps 0
    compare "MLP on the GPU: one epoch (937 steps), s" bench_mlp_epoch bench_mlp_epoch.py --device cuda
  fi
fi

# ---- the floor of a batch-1 eager step: three passes over the first weight, no framework ---------
if [[ -x "$BUILD/bench_step_floor" ]]; then
  echo
  echo "## Floor of a batch-1 step: plain loops over the 784 x 256 weight (bench_step_floor.cpp), µs"
  "$BUILD/bench_step_floor" | sed -n 's/^RESULT \([a-z_]*\) \([0-9.]*\) us/| \1 | \2 |/p'
fi

# ---- logging to TensorBoard every step: what it adds to an MLP step (no twin: it is Tandem alone) --
if [[ -x "$BUILD/bench_tensorboard" ]]; then
  echo
  echo "## Logging a scalar every step (bench_tensorboard.cpp): logged / plain step, and the call alone"
  "$BUILD/bench_tensorboard" --threads "$THREADS" | sed -n 's/^RESULT \([a-z0-9_]*\) \([0-9.e+-]*\) \(.*\)$/| \1 | \2 \3 |/p'
fi
