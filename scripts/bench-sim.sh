#!/usr/bin/env bash
# Simulator throughput on loopback: GET admin/configinfo and action PUTs,
# 16 concurrent connections (wrk). Goal: >= 5,000 GETs/s on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "installing wrk (Debian)"; apt-get install -y wrk >/dev/null; }
cargo build --release --quiet
scratch=$(mktemp -d)
trap 'kill $sim 2>/dev/null; rm -rf "$scratch"' EXIT
./target/release/tsmigrate sim --state "$scratch/state.json" --listen 127.0.0.1:0 --token bench >"$scratch/out" &
sim=$!
for _ in $(seq 50); do grep -q listening "$scratch/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$scratch/out")
api="$url/callosum/v1/tspublic/v1"
id=$(python3 -c "import json;print(json.load(open('$scratch/state.json'))['actions'][1]['id'])")
duration=${DURATION:-10s}

echo "== GET admin/configinfo, 16 connections, $duration"
wrk -t2 -c16 -d"$duration" -H 'X-Requested-By: bench' -H 'Authorization: Bearer bench' "$api/admin/configinfo" | grep -E 'Requests/sec|Latency|requests in|Non-2xx'

cat >"$scratch/put.lua" <<LUA
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-Requested-By"] = "bench"
wrk.headers["Authorization"] = "Bearer bench"
local n = 0
request = function()
  n = n + 1
  local body = '{"id":"$id","name":"Send to Slack","type":"APP","version":"v4","detail":{"function":"f' .. n .. '"}}'
  return wrk.format(nil, nil, nil, "embedaction=" .. body:gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
LUA
echo "== PUT admin/embed/actions/{id} (each saved with fsync before the answer), 16 connections, $duration"
wrk -t2 -c16 -d"$duration" -s "$scratch/put.lua" "$api/admin/embed/actions/$id" | grep -E 'Requests/sec|Latency|requests in|Non-2xx'
