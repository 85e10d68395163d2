#!/usr/bin/env bash
# Rollout benchmark: one source to every Org of one cluster. The cluster has
# ORGS Orgs (default 20: the Primary Org and 19 more), each with ACTIONS
# actions (default 50) that the source changes, and answers with
# --latency-ms 20 under ThoughtSpot Cloud's --rate-limit 100 (requests per
# second, burst 10, 429 without Retry-After). The bound: the writes alone
# at the rate limit, total writes / 100 s (reads, logins and the Org
# switches come on top). The goal is at most 1.2x that bound.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
orgs=${ORGS:-20}; n=${ACTIONS:-50}; latency=${LATENCY_MS:-20}; rate=${RATE:-100}
runs=${RUNS:-3}; targets=${PARALLEL_TARGETS:-4}
cargo build --release --quiet --bin tsmigrate
bin=$root/target/release/tsmigrate
scratch=$(mktemp -d -p "${BENCH_DIR:-$root/target}")
trap 'for p in "$scratch"/*.pid; do kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$scratch"' EXIT
python3 - "$scratch" "$orgs" "$n" <<'PY'
import json, sys
d, orgs, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
example = json.load(open("fixtures/example-cluster.json"))
tmpl = example["actions"][1]  # an APP action: one PUT per change
def bulk(org, changed):
    out = []
    for i in range(n):
        a = json.loads(json.dumps(tmpl))
        a["name"] = f"bulk {i:04d}"
        a["id"] = f"{org:08d}-0000-4000-8000-{i:012d}"
        if changed:
            a["detail"]["function"] = "changed"
        out.append(a)
    return out
target = json.loads(json.dumps(example))
target["actions"] = bulk(0, False)
target["orgs"] = [{"id": k, "name": f"Org {k:02d}", "actions": bulk(k, False), "objects": example["objects"]}
                  for k in range(1, orgs)]
json.dump(target, open(f"{d}/target.json", "w"))
source = json.loads(json.dumps(example))
source["actions"] = bulk(0, True)
json.dump(source, open(f"{d}/source.json", "w"))
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
kill "$(cat "$scratch/source.json.pid")"
writes=$(( orgs * n ))
echo "== rollout to $orgs Orgs x $n changed actions, --latency-ms $latency, --rate-limit $rate, --parallel-targets $targets, canary 1"
python3 -c "print(f'bound: {$writes} writes / {$rate} per s = {$writes/$rate:.2f} s')"
times=()
for r in $(seq "$runs"); do
  cp "$scratch/target.json" "$scratch/t$r.json"
  tgt=$(start_sim "$scratch/t$r.json" --latency-ms "$latency" --rate-limit "$rate")
  t0=$(date +%s%N)
  XDG_STATE_HOME="$scratch/state$r" "$bin" rollout --source "$scratch/snap" --target "$tgt" --all-orgs \
    --yes --parallel-targets "$targets" -q --format json >"$scratch/r$r.json"
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 )); times+=("$ms")
  python3 - "$scratch/r$r.json" "$orgs" "$writes" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1])); orgs, writes = int(sys.argv[2]), int(sys.argv[3])
results = {r["result"] for r in rows}
sent = sum(r["writes"] or 0 for r in rows)
assert len(rows) == orgs and results == {"applied"}, (len(rows), results)
assert sent == writes, (sent, writes)
PY
  # Converged: a second rollout finds nothing to write in any Org.
  if [ "$r" = 1 ]; then
    XDG_STATE_HOME="$scratch/state$r" "$bin" rollout --source "$scratch/snap" --target "$tgt" --all-orgs --yes -q --format json \
      | python3 -c "import json,sys; rows=json.load(sys.stdin); assert {r['result'] for r in rows} == {'unchanged'}; print(f're-rollout: {len(rows)} Orgs unchanged, 0 writes')"
  fi
  kill "$(cat "$scratch/t$r.json.pid")" 2>/dev/null || true
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
echo "rollout times (ms): $sorted"
python3 -c "b=$writes/$rate*1000; print(f'median {$median} ms = {$median/b:.2f}x the bound (goal <= 1.2x)')"
