#!/usr/bin/env bash
# Runs each cargo-fuzz target for SECONDS (default 600) from the seeds in
# fuzz/seeds. Only the stable toolchain exists here: RUSTC_BOOTSTRAP=1
# lets cargo-fuzz use the nightly flags it needs.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
secs=${SECONDS_EACH:-600}
for t in ${TARGETS:-snapshot_read plan_read diff}; do
  mkdir -p "corpus/$t"
  cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  echo "== $t for ${secs}s"
  cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -max_len=65536 2>&1 | grep -E "^#[0-9]+.*DONE|^Done|SUMMARY|panicked|ERROR" || true
done
