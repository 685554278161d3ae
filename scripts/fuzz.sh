#!/usr/bin/env bash
# Runs libFuzzer targets from a fuzz build for a bounded time each.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]   (default: every *_fuzz)
# New inputs that grow coverage go to a scratch dir, not into the repo's
# corpora; a crash leaves its reproducer in the current directory and fails.
set -euo pipefail
build=$1
seconds=$2
shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for binary in "$build"/*_fuzz; do targets+=("$(basename "$binary" _fuzz)"); done
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target"
  echo "fuzz: $target for ${seconds}s"
  options=(-max_total_time="$seconds" -max_len=8192)
  # A target's dictionary (fuzz/<target>.dict) steers mutations to its syntax.
  if [[ -f "$repo/fuzz/$target.dict" ]]; then options+=(-dict="$repo/fuzz/$target.dict"); fi
  status=0
  "$build/${target}_fuzz" "${options[@]}" \
    "$scratch/$target" "$repo/fuzz/corpus/$target" > "$scratch/$target.log" 2>&1 || status=$?
  grep -E '^Done|ERROR|SUMMARY' "$scratch/$target.log" || true
  if [[ $status -ne 0 ]]; then
    tail -40 "$scratch/$target.log"
    echo "fuzz: $target failed (exit $status)"
    exit 1
  fi
done
