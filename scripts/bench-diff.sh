#!/usr/bin/env bash
# Diff benchmark: `tsmigrate diff --format patch` on two snapshot directories
# against the peers a user would pick instead, each as a whole process on
# the same two documents: the json-patch crate's `diff`, npm
# fast-json-patch 3.1.1 and Python jsonpatch 1.47 (installed into a scratch
# directory). Then our times at 1x, 4x and 16x the size.
#
# Data (scale 1): 100,000 config leaves with 1% changed; an id-keyed array
# of 10,000 items with 100 changed, 50 inserted, 50 removed; 2,000 actions
# with 20 changed. Goal: exactly as many ops as real changes, and at least
# 2x faster than the fastest peer.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${RUNS:-10}
scales=${SCALES:-"1 4 16"}
command -v hyperfine >/dev/null || { echo "installing hyperfine (Debian)"; apt-get install -y hyperfine >/dev/null; }
cargo build --release --quiet --bin tsmigrate --example gen_bench --example peer_json_patch
scratch=${SCRATCH:-$(mktemp -d)}
mkdir -p "$scratch"
echo "scratch: $scratch"

if [ ! -d "$scratch/node_modules/fast-json-patch" ]; then
  (cd "$scratch" && npm install --silent --no-audit --no-fund fast-json-patch@3.1.1 >/dev/null)
fi
if [ ! -x "$scratch/venv/bin/python" ]; then
  python3 -m venv "$scratch/venv" && "$scratch/venv/bin/pip" install --quiet jsonpatch==1.47
fi
cat >"$scratch/peer.js" <<'JS'
const fs = require('fs');
const jp = require(process.argv[4] + '/node_modules/fast-json-patch');
const t = JSON.parse(fs.readFileSync(process.argv[2]));
const s = JSON.parse(fs.readFileSync(process.argv[3]));
process.stdout.write(JSON.stringify(jp.compare(t, s)));
JS
cat >"$scratch/peer.py" <<'PY'
import json, sys, jsonpatch
t = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
sys.stdout.write(jsonpatch.make_patch(t, s).to_string())
PY

ops() { python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$1"; }

for scale in $scales; do
  d="$scratch/x$scale"
  real=$("$root/target/release/examples/gen_bench" "$d" "$scale")
  ours="$root/target/release/tsmigrate diff --source $d/source --target $d/target --format patch"
  $ours >"$d/ours.json"
  echo
  echo "== scale ${scale}x: $real real changes; our patch: $(ops "$d/ours.json") ops"
  if [ "$scale" = 1 ]; then
    jpc="$root/target/release/examples/peer_json_patch $d/target.json $d/source.json"
    fjp="node $scratch/peer.js $d/target.json $d/source.json $scratch"
    pyj="$scratch/venv/bin/python $scratch/peer.py $d/target.json $d/source.json"
    $jpc >"$d/jpc.json"; $fjp >"$d/fjp.json"; $pyj >"$d/pyj.json"
    echo "   peer ops: json-patch crate $(ops "$d/jpc.json"), fast-json-patch $(ops "$d/fjp.json"), python jsonpatch $(ops "$d/pyj.json")"
    hyperfine -N -w 2 -r "$runs" --export-markdown "$d/times.md" \
      -n tsmigrate "$ours" -n json-patch-crate "$jpc" -n fast-json-patch "$fjp" -n python-jsonpatch "$pyj" | grep -E "±|faster|^ +[0-9.]+ ±"
  else
    hyperfine -N -w 1 -r "$(( runs < 5 ? runs : 5 ))" -n "tsmigrate-${scale}x" "$ours" | grep -E "Time"
  fi
done
