#!/usr/bin/env bash
# The fuzz targets in fuzz/ (snapshot files, plan files, the diff).
#
#   scripts/fuzz.sh           fuzzes each target for SECONDS_EACH seconds
#                             (default 600) from its seeds in fuzz/seeds,
#                             with cargo-fuzz and AddressSanitizer
#                             (SANITIZER=none: without)
#   scripts/fuzz.sh --seeds   builds them on stable without cargo-fuzz and
#                             runs each once over its seeds (what CI runs)
#
# TARGETS="diff plan_read" picks targets. Only the stable toolchain exists
# here: RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the nightly flags it needs.
# A build error or a crash fails the script, with its output shown.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"
read -r -a targets <<<"${TARGETS:-snapshot_read pair_read plan_read diff}"

if [ "${1:-}" = "--seeds" ]; then
    # libFuzzer links without sanitizer flags, so a plain build works; in
    # the main target directory it reuses the main build's dependencies.
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
    cargo build --locked --bins
    for t in "${targets[@]}"; do
        seeds=(seeds/"$t"/*)
        # Given files, a libFuzzer binary runs each once and exits.
        if ! out=$("$CARGO_TARGET_DIR/debug/$t" "${seeds[@]}" 2>&1); then
            printf '%s\n' "$out" >&2
            echo "fuzz target $t failed on one of its seeds (above)" >&2
            exit 1
        fi
        echo "fuzz target $t: ${#seeds[@]} seeds, no failure"
    done
    exit 0
fi

secs=${SECONDS_EACH:-600}
# libFuzzer takes 0 for "no limit".
if ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
    echo "SECONDS_EACH must be a positive number of seconds, not '$secs'" >&2
    exit 2
fi
sanitizer=${SANITIZER:-address}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
# Every target is built before any runs: a build error stops here.
for t in "${targets[@]}"; do
    cargo fuzz build -O --sanitizer "$sanitizer" "$t"
done
mkdir -p artifacts
failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    log="artifacts/$t.log"
    echo "== $t for ${secs}s (log: fuzz/$log)"
    # New inputs go to corpus/ (not committed); the seeds are read only.
    if cargo fuzz run -O --sanitizer "$sanitizer" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -max_len=65536 >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+DONE|^Done' "$log" || true
    else
        # The crash report: from its first line to the end of the log,
        # where cargo-fuzz names the input and how to run it again (its
        # bytes, one number each, are left in the log).
        report=$(awk '/panicked at|==[0-9]+==|ERROR: libFuzzer|^error/ {p = 1}
            /^Output of `std::fmt::Debug`/ {skip = 1} /^Reproduce with/ {skip = 0}
            p && !skip' "$log")
        if [ -z "$report" ]; then report=$(tail -n 60 "$log"); fi
        printf '%s\n' "$report" >&2
        failed+=("$t")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzzing failed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
