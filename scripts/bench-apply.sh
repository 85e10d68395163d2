#!/usr/bin/env bash
# Apply benchmark: N changed actions (default 400) against a simulator with
# --latency-ms 20, --parallel 16. The round-trip lower bound is
# (login + one wave of reads + ceil(N/16) write waves + one wave of
# verification reads) x 20 ms; the goal is at most 1.5x that. Also checks
# that a re-apply with nothing to change sends zero writes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n=${ACTIONS:-400}; latency=${LATENCY_MS:-20}; parallel=${PARALLEL:-16}; runs=${RUNS:-5}
cargo build --release --quiet --bin tsmigrate
bin=$root/target/release/tsmigrate
scratch=$(mktemp -d -p "${BENCH_DIR:-$root/target}")
trap 'for p in "$scratch"/*.pid; do kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$scratch"' EXIT
python3 - "$scratch" "$n" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
state = json.load(open("fixtures/example-cluster.json"))
tmpl = state["actions"][1]
for i in range(n):
    a = json.loads(json.dumps(tmpl)); a["name"] = f"bulk {i:04d}"; a["id"] = f"00000000-0000-4000-8000-{i:012d}"
    state["actions"].append(a)
json.dump(state, open(f"{d}/target.json", "w"))
for a in state["actions"][3:]:
    a["detail"]["function"] = "changed"
json.dump(state, open(f"{d}/source.json", "w"))
PY
start_sim() { # state-file [flags...] -> prints URL; pid in state-file.pid
  local out; out=$(mktemp -p "$scratch")
  "$bin" sim --state "$1" --listen 127.0.0.1:0 "${@:2}" >"$out" 2>/dev/null &
  echo $! >"$1.pid"
  for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
  sed -n 's/^listening on //p' "$out"
}
export TS_USERNAME=admin TS_PASSWORD=admin
src=$(start_sim "$scratch/source.json")
"$bin" export --cluster "$src" --out "$scratch/snap" -q
waves=$(( (n + parallel - 1) / parallel ))
bound=$(( (1 + 1 + waves + 1) * latency ))
echo "== $n changed actions, --latency-ms $latency, --parallel $parallel: lower bound (1 login + 1 read wave + $waves write waves + 1 verify wave) x $latency ms = $bound ms"
times=()
for r in $(seq "$runs"); do
  cp "$scratch/target.json" "$scratch/t$r.json"
  tgt=$(start_sim "$scratch/t$r.json" --latency-ms "$latency")
  t0=$(date +%s%N)
  "$bin" apply --target "$tgt" --source "$scratch/snap" --yes --parallel "$parallel" -q --journal "$scratch/j$r.jsonl" >/dev/null
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 )); times+=("$ms")
  if [ "$r" = 1 ]; then
    again=$("$bin" apply --target "$tgt" --source "$scratch/snap" --yes -q)
    echo "re-apply: $again"
  fi
  kill "$(cat "$scratch/t$r.json.pid")" 2>/dev/null || true
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
echo "apply times (ms): $sorted"
python3 -c "print(f'median {$median} ms = {$median/$bound:.2f}x the lower bound (goal <= 1.5x)')"
