#!/bin/bash
# libbert side by side with the peers of ../shared/bench (ONNX Runtime plain, fused and int8, PyTorch),
# on identical inputs and the same weights, in alternating rounds: within a round every tool runs
# once per model and thread count, in an order that rotates from round to round, so that a slow
# spell of this shared machine hits every tool alike. Then bench/compare_summary.py prints the
# medians over rounds and the ratios (the README table).
#
#   bench/compare_peers.sh [ROUNDS]        (default 3), from the project root, after the set-up of
#                                          ../shared/bench/README.md (models, inputs, npm/apt peers)
#   env: DEVWORK=/tmp/libbert-peers  MODELS="bert-base mini-sst2"  THREADS="2 1"  RUNS=10
#        PEERS="ort ort-fused ort-int8 torch"  PRECISIONS="f32 bf16 int8"  BUILD=build  SHARED=../shared
#        (ort-int8: make_ort_int8.py's model.int8.onnx, ONNX Runtime's dynamic quantisation, the
#        peer of --precision int8)
#        MAPPED=1 (also libbert f32 with --weights mapped: the weights read in place from the file)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
DEVWORK=${DEVWORK:-/tmp/libbert-peers}
BUILD=${BUILD:-$ROOT/build}
ROUNDS=${1:-3}
MODELS=${MODELS:-"bert-base mini-sst2"}
THREADS=${THREADS:-"2 1"}
RUNS=${RUNS:-10}
MAPPED=${MAPPED:-1}
PEERS=${PEERS:-"ort ort-fused ort-int8 torch"}
# The CPU decides: oneDNN 2.6 has no bf16 matmul without AVX-512 (libbert refuses bf16 there), and
# OpenBLAS's SkylakeX kernels (../shared/bench/README.md) would be illegal instructions on AVX2.
if grep -qw avx512bw /proc/cpuinfo; then
  PRECISIONS=${PRECISIONS:-"f32 bf16 int8"}; coretype=SkylakeX
else
  PRECISIONS=${PRECISIONS:-"f32 int8"}; coretype=Haswell
fi
export OPENBLAS_CORETYPE=${PEER_OPENBLAS_CORETYPE:-$coretype}
export NODE_PATH=${NODE_PATH:-$DEVWORK/peers/node_modules}
mkdir -p "$DEVWORK/results"
OUT=${OUT:-$DEVWORK/results/compare-$(date +%Y%m%d-%H%M%S).jsonl}
echo "results -> $OUT" >&2

run_tool() {  # tool model threads round
  local m="$DEVWORK/models/$2"
  case "$1" in
    libbert)
      for p in $PRECISIONS; do
        "$BUILD/bert-bench" model --model "$m" --inputs "$DEVWORK/inputs" --threads "$3" --reps "$RUNS" \
          --precision "$p" --round "$4" >> "$OUT"
      done
      if [ "$MAPPED" = 1 ]; then
        "$BUILD/bert-bench" model --model "$m" --inputs "$DEVWORK/inputs" --threads "$3" --reps "$RUNS" \
          --precision f32 --weights mapped --round "$4" >> "$OUT"
      fi ;;
    ort) node "$SHARED/bench/peer_ort.js" --model "$m" --inputs "$DEVWORK/inputs" --threads "$3" \
           --runs "$RUNS" --warmup 2 --round "$4" --out "$OUT" >/dev/null ;;
    ort-fused) node "$SHARED/bench/peer_ort.js" --onnx-file model.ort-fused.onnx --model "$m" \
           --inputs "$DEVWORK/inputs" --threads "$3" --runs "$RUNS" --warmup 2 --round "$4" --out "$OUT" >/dev/null ;;
    ort-int8) node "$SHARED/bench/peer_ort.js" --onnx-file model.int8.onnx --model "$m" \
           --inputs "$DEVWORK/inputs" --threads "$3" --runs "$RUNS" --warmup 2 --round "$4" --out "$OUT" >/dev/null ;;
    torch) /usr/bin/python3 "$SHARED/bench/peer_torch.py" --model "$m" --inputs "$DEVWORK/inputs" --threads "$3" \
           --runs "$RUNS" --warmup 2 --round "$4" --out "$OUT" >/dev/null ;;
    *) echo "unknown tool $1" >&2; return 1 ;;
  esac
}

read -r -a TOOLS <<< "libbert $PEERS"
n=${#TOOLS[@]}
for r in $(seq 1 "$ROUNDS"); do
  for m in $MODELS; do
    for t in $THREADS; do
      for ((i = 0; i < n; i++)); do
        tool=${TOOLS[$(( (i + r - 1) % n ))]}
        echo "round $r  $m  threads $t  $tool  $(date +%T)" >&2
        run_tool "$tool" "$m" "$t" "$r"
      done
    done
  done
done
/usr/bin/python3 "$ROOT/bench/compare_summary.py" "$OUT"
