#!/usr/bin/env bash
# Scale benchmark: show, export, diff, plan and apply at 1x, 2x and 4x of
# 100,000 config leaves and 5,000 actions per Org in three Orgs, from the
# shared corpus (`examples/gen_corpus.rs`: two in three actions associated,
# user groups, non-ASCII names, secrets) (SCALES to change), each timed as
# a whole process (median of RUNS) with its peak resident memory (the
# kernel's rusage maximum, what `/usr/bin/time -v` prints).
#
# Printed per operation: time at each scale and its ratio to the 1x time
# (linear cost: 2.0 and 4.0), peak memory, and for diff the peak memory
# against the bytes of the two snapshots it reads (goal <= 3x), in all and
# above the process's floor (a diff of two empty snapshots); plan's time
# against diff's at the same scale, the two timed in alternating pairs
# (goal <= 1.5x).
#
# The source differs from the target in 1% of the config leaves and 1% of
# the Primary Org's actions (associated ones). The simulator answers at once (no --latency-ms): what is
# measured is the tool's own cost, not round trips; its state is on tmpfs
# where there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scales=${SCALES:-"1 2 4"}; runs=${RUNS:-3}
cargo build --release --quiet --bin tsmigrate --example gen_corpus
bin=$root/target/release/tsmigrate
gen=$root/target/release/examples/gen_corpus
scratch=$(mktemp -d -p "${BENCH_DIR:-$root/target}")
simdir=$scratch/sim
[ -d /dev/shm ] && [ -w /dev/shm ] && simdir=$(mktemp -d -p /dev/shm tsmigrate-bench.XXXXXX)
mkdir -p "$simdir"
trap 'for p in "$simdir"/*.pid; do [ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$scratch" "$simdir"' EXIT
export TS_USERNAME=admin TS_PASSWORD=admin
# Journals and locks in the scratch directory, never the real home.
export XDG_STATE_HOME="$scratch/state"

start_sim() { # state-file -> prints URL; pid in state-file.pid
  local out; out=$(mktemp -p "$simdir")
  "$bin" sim --state "$1" --listen 127.0.0.1:0 >"$out" 2>/dev/null &
  echo $! >"$1.pid"
  for _ in $(seq 600); do grep -q listening "$out" && break; sleep 0.05; done
  sed -n 's/^listening on //p' "$out"
}
stop_sim() {
  local pid; pid=$(cat "$1.pid"); kill -INT "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
  rm -f "$1.pid"
}

# measure LABEL SCALE CMD...: median wall time of RUNS runs and the largest
# peak RSS, appended to $scratch/results. One run first is not counted
# (WARMUP=0 to skip it): this VM's page cache drops files it has not read
# lately, and a cold read would measure the disk, not the tool.
measure() {
  local label=$1 scale=$2; shift 2
  python3 - "$scratch/results" "$label" "$scale" "${MRUNS:-$runs}" "${WARMUP:-1}" "$@" <<'PY'
import os, subprocess, sys, time, statistics
out, label, scale, runs, warmup, cmd = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:]
for _ in range(warmup):
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
times, peak = [], 0
for _ in range(runs):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    times.append((time.monotonic() - t0) * 1000)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        sys.exit(f"{label}: exit {code}: {p.stderr.read().decode()}")
    peak = max(peak, usage.ru_maxrss)
with open(out, "a") as f:
    f.write(f"{label} {scale} {statistics.median(times):.1f} {peak}\n")
PY
}

# measure_pair LABEL_A LABEL_B SCALE CMD_A CMD_B (each quoted for the
# shell, as `printf %q` quotes): as `measure` for both,
# timed in alternating pairs (A B B A ...) so that a slow spell of this
# shared machine falls on both; the ratio B/A of the medians and its range
# over the pairs go to $scratch/ratios.
measure_pair() {
  python3 - "$scratch" "$@" "${MRUNS:-$runs}" <<'PY'
import os, shlex, subprocess, sys, time, statistics
scratch, la, lb, scale, ca, cb, runs = sys.argv[1:8]
runs = max(int(runs), 5)
def run(label, cmd):
    t0 = time.monotonic()
    p = subprocess.Popen(shlex.split(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    ms = (time.monotonic() - t0) * 1000
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        sys.exit(f"{label}: exit {code}: {p.stderr.read().decode()}")
    return ms, usage.ru_maxrss
run(la, ca); run(lb, cb)
ta, tb = [], []
for i in range(runs):
    order = [(ta, la, ca), (tb, lb, cb)]
    for out, label, cmd in (order if i % 2 == 0 else order[::-1]):
        out.append(run(label, cmd))
with open(f"{scratch}/results", "a") as f:
    for label, t in ((la, ta), (lb, tb)):
        f.write(f"{label} {scale} {statistics.median(m for m, _ in t):.1f} {max(k for _, k in t)}\n")
ratios = sorted(b[0] / a[0] for a, b in zip(ta, tb))
ma, mb = statistics.median(m for m, _ in ta), statistics.median(m for m, _ in tb)
with open(f"{scratch}/ratios", "a") as f:
    f.write(f"{lb} {la} {scale} {mb / ma:.3f} {ratios[0]:.3f} {ratios[-1]:.3f} {runs}\n")
PY
}

for scale in $scales; do
  "$gen" "$simdir/corpus-$scale" --actions $((5000 * scale)) --changed $((50 * scale)) \
    --config-sections $((1000 * scale)) --orgs "${ORGS:-3}" >"$scratch/summary-$scale"
  mv "$simdir/corpus-$scale/target.json" "$simdir/target-$scale.json"
  mv "$simdir/corpus-$scale/source.json" "$simdir/source-$scale.json"
  src=$(start_sim "$simdir/source-$scale.json")
  "$bin" export --cluster "$src" --out "$scratch/src-$scale" -q
  stop_sim "$simdir/source-$scale.json"
  tgt=$(start_sim "$simdir/target-$scale.json")
  "$bin" export --cluster "$tgt" --out "$scratch/tgt-$scale" -q
  bytes=$(( $(du -sb "$scratch/src-$scale" | cut -f1) + $(du -sb "$scratch/tgt-$scale" | cut -f1) ))
  echo "$bytes" >"$scratch/bytes-$scale"
  echo "== ${scale}x: $((100000 * scale)) config leaves, $((5000 * scale)) actions; the two snapshots: $((bytes / 1024 / 1024)) MiB"
  echo "   corpus: $(cat "$scratch/summary-$scale")"
  measure export "$scale" "$bin" export --cluster "$tgt" --out "$scratch/exp-$scale" -q
  measure show "$scale" "$bin" show "$scratch/tgt-$scale"
  measure_pair diff plan "$scale" \
    "$(printf '%q ' "$bin" diff --source "$scratch/src-$scale" --target "$scratch/tgt-$scale" --format patch)" \
    "$(printf '%q ' "$bin" plan --source "$scratch/src-$scale" --target "$scratch/tgt-$scale" --out "$scratch/plan-$scale.json")"
  stop_sim "$simdir/target-$scale.json"
  # apply changes the target: a fresh copy of it for every run.
  cat >"$scratch/apply-$scale.sh" <<SH
#!/usr/bin/env bash
set -e
cp "$simdir/target-$scale.json" "$simdir/apply-$scale.json"; rm -f "$simdir/apply-$scale.json.log"
SH
  chmod +x "$scratch/apply-$scale.sh"
  for r in $(seq "$runs"); do
    "$scratch/apply-$scale.sh"
    url=$(start_sim "$simdir/apply-$scale.json")
    MRUNS=1 WARMUP=0 measure apply "$scale" "$bin" apply --target "$url" --source "$scratch/src-$scale" --yes -q --journal "$scratch/aj-$scale-$r.jsonl"
    stop_sim "$simdir/apply-$scale.json"
  done
done

# The process's own floor: the peak RSS of a diff of two empty snapshots
# (the binary's pages, the runtime). What a diff holds beyond it is what
# it holds for the snapshots.
for side in empty-a empty-b; do
  mkdir -p "$scratch/$side/actions"
  echo '{"format": "tsmigrate-snapshot", "version": 1, "source": ""}' >"$scratch/$side/tsmigrate.json"
  echo '{}' >"$scratch/$side/config.json"
done
measure floor 0 "$bin" diff --source "$scratch/empty-a" --target "$scratch/empty-b" --format patch

python3 - "$scratch/results" "$scratch" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    label, scale, ms, kb = line.split()
    rows[label][int(scale)].append((float(ms), int(kb)))
floor = max(k for _, k in rows.pop("floor")[0]) * 1024
scales = sorted({s for r in rows.values() for s in r})
bytes_ = {s: int(open(f"{sys.argv[2]}/bytes-{s}").read()) for s in scales}
print()
head = "".join(f"{str(s) + 'x':>22}" for s in scales)
print(f"{'operation':10}{head}")
for label in ["export", "show", "diff", "plan", "apply"]:
    cells = []
    base = None
    for s in scales:
        ms = statistics.median(m for m, _ in rows[label][s])
        kb = max(k for _, k in rows[label][s])
        base = base or ms
        cells.append(f"{ms:8.0f} ms {ms / base:4.1f}x {kb / 1024:5.0f}M")
    print(f"{label:10}" + "".join(f"{c:>22}" for c in cells))
print("(each cell: median time, its ratio to 1x (linear: the scale), peak RSS)")
ratios = {}
for line in open(f"{sys.argv[2]}/ratios"):
    b, a, s, r, lo, hi, n = line.split()
    ratios[int(s)] = (float(r), float(lo), float(hi), int(n))
for s in scales:
    r, lo, hi, n = ratios[s]
    mem = max(k for _, k in rows["diff"][s]) * 1024
    print(f"{s}x: plan {r:.2f}x diff, paired over {n} rounds ({lo:.2f}x to {hi:.2f}x; goal <= 1.5x); "
          f"diff peak memory {mem / bytes_[s]:.2f}x "
          f"the {bytes_[s] / 2**20:.1f} MiB of snapshots it reads, {(mem - floor) / bytes_[s]:.2f}x "
          f"above the process floor of {floor / 2**20:.1f} MiB (goal <= 3x)")
    amem = max(k for _, k in rows["apply"][s]) * 1024
    print(f"{s}x: apply peak memory {amem / 2**20:.0f} MiB = {amem / bytes_[s]:.2f}x the snapshots' bytes "
          f"({(amem - floor) / bytes_[s]:.2f}x above the floor; goal <= 3x at 4x)")
PY
