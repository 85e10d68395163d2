#!/usr/bin/env bash
# Export and snapshot-read benchmark: a simulated cluster with 100,000
# config leaves and 5,000 actions; times `tsmigrate export` (live → files)
# and `tsmigrate show DIR` (files → canonical document).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
command -v hyperfine >/dev/null || { echo "installing hyperfine (Debian)"; apt-get install -y hyperfine >/dev/null; }
cargo build --release --quiet --bin tsmigrate
bin=$root/target/release/tsmigrate
scratch=$(mktemp -d -p "${BENCH_DIR:-$root/target}")
trap 'kill "$(cat "$scratch/sim.pid")" 2>/dev/null; rm -rf "$scratch"' EXIT
python3 - "$scratch/state.json" <<'PY'
import json, sys
state = json.load(open("fixtures/example-cluster.json"))
for s in range(1000):
    state["configinfo"][f"section{s}"] = {f"key{k}": f"value-{s}-{k}" for k in range(100)}
tmpl = state["actions"][0]
for i in range(5000 - len(state["actions"])):
    a = json.loads(json.dumps(tmpl)); a["name"] = f"Action {i:05d}"; a["id"] = f"00000000-0000-4000-8000-{i:012d}"
    state["actions"].append(a)
json.dump(state, open(sys.argv[1], "w"))
PY
"$bin" sim --state "$scratch/state.json" --listen 127.0.0.1:0 >"$scratch/sim.out" 2>/dev/null &
echo $! >"$scratch/sim.pid"
for _ in $(seq 100); do grep -q listening "$scratch/sim.out" && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$scratch/sim.out")
export TS_USERNAME=admin TS_PASSWORD=admin
"$bin" export --cluster "$url" --out "$scratch/snap" -q
echo "== 100,000 config leaves + 5,000 actions: $(du -sh "$scratch/snap" | cut -f1) in $(find "$scratch/snap" -type f | wc -l) files"
hyperfine -N -w 1 -r "${RUNS:-5}" \
  -n export "$bin export --cluster $url --out $scratch/snap -q" \
  -n "read snapshot (show)" "$bin show $scratch/snap" | grep -E "Time|^  [a-z]|Benchmark"
