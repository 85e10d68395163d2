#!/usr/bin/env bash
# Diff benchmark: `tsmigrate diff --format patch` on two snapshot directories
# against the peers a user would pick instead, each as a whole process on
# the same two documents: the json-patch crate's `diff`, npm
# fast-json-patch 3.1.1, npm json-diff-ts 4.10.4 (arrays keyed by `id`),
# npm jsondiffpatch 0.7.7 (objectHash by `id`) and Python jsonpatch 1.47
# (installed into a scratch directory). Then, at 1x, 4x and 16x the size,
# our time and the fastest peer's, taken in alternating pairs, and their
# ratio.
#
# Data (scale 1): 100,000 config leaves with 1% changed; an id-keyed array
# of 10,000 items with 100 changed, 50 inserted, 50 removed; 2,000 actions
# with 20 changed. Goal: exactly as many ops as real changes, and at least
# 3x faster than the fastest peer, at 1x and at 16x (linear cost).
# CORPUS=1: the Primary Org of the shared corpus instead (clusters shaped
# like real ones, `src/benchdata/corpus.rs`): at scale 1, 100,000 config
# leaves (1,000 changed) and 5,000 actions, two in three associated, with
# groups, non-ASCII names and secrets (50 changed, 10 of them in an
# association, 10 created).
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

if [ ! -d "$scratch/node_modules/jsondiffpatch" ]; then
  (cd "$scratch" && npm install --silent --no-audit --no-fund \
    fast-json-patch@3.1.1 json-diff-ts@4.10.4 jsondiffpatch@0.7.7 >/dev/null)
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
# json-diff-ts: arrays of objects matched by their `id`.
cat >"$scratch/peer-jdt.mjs" <<'JS'
import fs from 'fs';
import { createRequire } from 'module';
const require = createRequire(process.argv[4] + '/');
const { diff } = require('json-diff-ts');
const t = JSON.parse(fs.readFileSync(process.argv[2]));
const s = JSON.parse(fs.readFileSync(process.argv[3]));
const changes = diff(t, s, { embeddedObjKeys: { 'config.bigList': 'id' } });
// One change per leaf: count the leaves of the change tree.
let n = 0;
const walk = (c) => { if (c.changes) c.changes.forEach(walk); else n++; };
changes.forEach(walk);
process.stdout.write(JSON.stringify(new Array(n).fill(0)));
JS
# jsondiffpatch: objectHash by `id`, so moves and inserts are matched.
cat >"$scratch/peer-jdp.mjs" <<'JS'
import fs from 'fs';
import { createRequire } from 'module';
const require = createRequire(process.argv[4] + '/');
const t = JSON.parse(fs.readFileSync(process.argv[2]));
const s = JSON.parse(fs.readFileSync(process.argv[3]));
const jdp = await import(require.resolve('jsondiffpatch'));
const { create } = jdp;
const { format } = await import(require.resolve('jsondiffpatch/formatters/jsonpatch'));
const differ = create({ objectHash: (o, i) => (o && o.id) || '$$index:' + i, arrays: { detectMove: true } });
const patch = format(differ.diff(t, s));
process.stdout.write(JSON.stringify(patch));
JS
cat >"$scratch/peer.py" <<'PY'
import json, sys, jsonpatch
t = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
sys.stdout.write(jsonpatch.make_patch(t, s).to_string())
PY

ops() { python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$1"; }

# Ours and the fastest peer timed in alternating pairs (A B B A ...), so
# that a slow minute of a shared machine falls on both: the medians, their
# ratio, and the range of the ratio over the pairs.
paired() { # NAME_A CMD_A NAME_B CMD_B ROUNDS
  python3 - "$@" <<'PY'
import statistics as st, subprocess, sys, time
na, ca, nb, cb, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
def run(cmd):
    t = time.perf_counter()
    subprocess.run(cmd.split(), stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) * 1000
for _ in range(2):
    run(ca); run(cb)
ta, tb = [], []
for i in range(rounds):
    if i % 2 == 0:
        ta.append(run(ca)); tb.append(run(cb))
    else:
        tb.append(run(cb)); ta.append(run(ca))
ratios = sorted(b / a for a, b in zip(ta, tb))
ma, mb = st.median(ta), st.median(tb)
print(f"   paired over {rounds} rounds: {na} {ma:.1f} ms, {nb} {mb:.1f} ms: "
      f"{mb / ma:.2f}x faster (pairs {ratios[0]:.2f}x to {ratios[-1]:.2f}x; goal >= 3x)")
PY
}

for scale in $scales; do
  d="$scratch/x$scale"
  # shellcheck disable=SC2086
  real=$("$root/target/release/examples/gen_bench" "$d" "$scale" ${CORPUS:+--corpus})
  # The generator's writes reach the disk before anything is timed.
  sync
  ours="$root/target/release/tsmigrate diff --source $d/source --target $d/target --format patch"
  $ours >"$d/ours.json"
  echo
  echo "== scale ${scale}x: $real real changes; our patch: $(ops "$d/ours.json") ops"
  if [ "$scale" = 1 ]; then
    jpc="$root/target/release/examples/peer_json_patch $d/target.json $d/source.json"
    fjp="node $scratch/peer.js $d/target.json $d/source.json $scratch"
    jdt="node $scratch/peer-jdt.mjs $d/target.json $d/source.json $scratch"
    jdp="node $scratch/peer-jdp.mjs $d/target.json $d/source.json $scratch"
    pyj="$scratch/venv/bin/python $scratch/peer.py $d/target.json $d/source.json"
    $jpc >"$d/jpc.json"; $fjp >"$d/fjp.json"; $jdt >"$d/jdt.json"; $jdp >"$d/jdp.json"; $pyj >"$d/pyj.json"
    echo "   peer ops: json-patch crate $(ops "$d/jpc.json"), fast-json-patch $(ops "$d/fjp.json"), json-diff-ts $(ops "$d/jdt.json"), jsondiffpatch $(ops "$d/jdp.json"), python jsonpatch $(ops "$d/pyj.json")"
    hyperfine -N -w 2 -r "$runs" --export-json "$d/times.json" \
      -n tsmigrate "$ours" -n json-patch-crate "$jpc" -n fast-json-patch "$fjp" -n json-diff-ts "$jdt" \
      -n python-jsonpatch "$pyj" >/dev/null
    # jsondiffpatch takes seconds: fewer runs.
    hyperfine -N -w 1 -r 3 --export-json "$d/times-jdp.json" -n jsondiffpatch "$jdp" >/dev/null
    python3 - "$d/times.json" "$d/times-jdp.json" <<'PY'
import json, sys
rows = []
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        rows.append((r["command"], r["median"] * 1000, r["stddev"] * 1000 if r["stddev"] else 0.0))
ours = next(m for c, m, _ in rows if c == "tsmigrate")
# The peers a user would pick (the json-patch crate is our own dependency).
peers = [(c, m) for c, m, _ in rows if c not in ("tsmigrate", "json-patch-crate")]
fastest = min(peers, key=lambda p: p[1])
for c, m, sd in sorted(rows, key=lambda r: r[1]):
    print(f"   {c:18} {m:8.1f} ms  (sd {sd:5.1f})  {m / ours:5.2f}x ours")
print(f"   one after the other: {fastest[1] / ours:.2f}x faster than the fastest peer ({fastest[0]})")
open(sys.argv[1] + ".peer", "w").write(fastest[0])
PY
    peer_name=$(cat "$d/times.json.peer")
  fi
  # The fastest peer at this size (its cost is linear too: measured, not assumed).
  case "${peer_name:-fast-json-patch}" in
    json-diff-ts) pfast="node $scratch/peer-jdt.mjs $d/target.json $d/source.json $scratch" ;;
    python-jsonpatch) pfast="$scratch/venv/bin/python $scratch/peer.py $d/target.json $d/source.json" ;;
    jsondiffpatch) pfast="node $scratch/peer-jdp.mjs $d/target.json $d/source.json $scratch" ;;
    *) pfast="node $scratch/peer.js $d/target.json $d/source.json $scratch" ;;
  esac
  paired "tsmigrate-${scale}x" "$ours" "${peer_name:-fast-json-patch}-${scale}x" "$pfast" "$runs"
done
