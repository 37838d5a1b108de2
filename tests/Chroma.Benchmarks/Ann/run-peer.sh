#!/usr/bin/env bash
# Side-by-side ANN benchmark: Chroma HnswIndex and hnswlib, same files and parameters, back to back.
# Usage: tests/Chroma.Benchmarks/Ann/run-peer.sh [mnist|synthetic|all] [extra ann options, e.g. --limit 100000]
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=/usr/bin/python3   # Debian's python with python3-hnswlib, not the pyenv python3 first on PATH
OUT=artifacts/ann
WHICH=${1:-all}; shift || true

if ! $PY -c 'import hnswlib, numpy' 2>/dev/null; then
  apt-get install -y python3-hnswlib python3-numpy || { apt-get update && apt-get install -y python3-hnswlib python3-numpy; }
fi

dotnet build tests/Chroma.Benchmarks -c Release -v q -nologo
BENCH=tests/Chroma.Benchmarks/bin/Release/net10.0/Chroma.Benchmarks
[ -f $OUT/mnist-notmnist-base.fvecs ] || $BENCH make-data --out $OUT

run() {
  local name=$1; shift
  local common=(--base $OUT/$name-base.fvecs --queries $OUT/$name-queries.fvecs --groundtruth $OUT/$name-groundtruth.ivecs
                --k 10 --m 16 --ef-construction 200 --ef 10,20,40,80,160 --metric l2 "$@")
  echo "== $name: Chroma HnswIndex"
  $BENCH ann "${common[@]}" --json $OUT/$name-ours.json
  echo "== $name: hnswlib"
  $PY tests/Chroma.Benchmarks/Ann/hnswlib_peer.py "${common[@]}" --json $OUT/$name-hnswlib.json
  $PY tests/Chroma.Benchmarks/Ann/compare.py $OUT/$name-ours.json $OUT/$name-hnswlib.json | tee $OUT/$name-table.md
}

case $WHICH in
  mnist) run mnist-notmnist "$@" ;;
  synthetic) run synthetic-200k-128 "$@" ;;
  all) run mnist-notmnist "$@"; run synthetic-200k-128 "$@" ;;
  *) echo "usage: $0 [mnist|synthetic|all] [ann options]" >&2; exit 2 ;;
esac
