#!/usr/bin/env bash
# Apply benchmark: each figure against its round-trip lower bound, from one
# run. The simulator keeps its state on tmpfs where there is one (its own
# fsyncs are not the tool's cost); the apply journal stays on disk.
#
# The clusters come from the shared corpus (`examples/gen_corpus.rs`,
# `src/benchdata/corpus.rs`): 600 actions in each of three Orgs, two in
# three associated with answers or worksheets, half with user groups,
# non-ASCII names, secrets; the source changes N of the Primary Org's
# actions, associated ones first. Sections 1 and 2 run against the default
# simulator (a PUT keeps associations) and against one that clears them on
# a PUT and lists none (--put-replaces --list-omits-associations), and print
# the requests the simulator served per changed action beside each time.
#
# 1. apply: N changed actions (default 400), --latency-ms 20, --parallel 16.
#    Bound = (login + one read wave + ceil(W/16) write waves + one
#    verification wave) x latency, W the writes that cluster needs (N where
#    a PUT keeps associations; a PUT and a POST per associated action where
#    it clears them, the POST after its PUT). Goal <= 1.2x. A re-apply
#    sends nothing.
#    Beside it, the same bound at the round trip measured on each run's
#    simulator just before the apply (sequential GETs from a bare client),
#    and what the ratio leaves out: the logout at the end (the design
#    closes every session it opened: one more round trip).
# 2. rate-limited: 1,000 changed actions against --rate-limit 100 (the
#    ThoughtSpot Cloud limit: burst 10, then 429 without Retry-After).
#    Bound = the requests that cluster needs (every request the simulator
#    answered without a 429) / 100 per s. Goals: <= 1.15x, < 10% of
#    requests answered 429, and <= 1.2x of 1,000 / 100 = 10 s where a PUT
#    keeps associations.
# 3. undo: N+1 changed actions where the last write is refused: N writes,
#    the failure, then the undo of N writes. Bound = the apply's (login +
#    read + ceil((N+1)/16) waves) + the undo's (read + ceil(N/16) waves +
#    check read), x latency. Goal <= 1.5x.
# 4. rollback: the journal left by an apply to a cluster that refused every
#    write after the Nth (so the apply's own undo could not write either),
#    undone by `rollback` once the cluster takes writes again. Bound =
#    (login + read + ceil(N/16) waves + check read) x latency. Goal <= 1.5x.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n=${ACTIONS:-400}; latency=${LATENCY_MS:-20}; parallel=${PARALLEL:-16}; runs=${RUNS:-5}
limited=${LIMITED_WRITES:-1000}; rate=${RATE:-100}
orgs=${ORGS:-3}; sections=${SECTIONS:-"1 2 3 4"}
want() { [[ " $sections " == *" $1 "* ]]; }
cargo build --release --quiet --bin tsmigrate
bin=$root/target/release/tsmigrate
scratch=$(mktemp -d -p "${BENCH_DIR:-$root/target}")
simdir=$scratch/sim
[ -d /dev/shm ] && [ -w /dev/shm ] && simdir=$(mktemp -d -p /dev/shm tsmigrate-bench.XXXXXX)
mkdir -p "$simdir"
trap 'for p in "$simdir"/*.pid; do [ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$scratch" "$simdir"' EXIT
export TS_USERNAME=admin TS_PASSWORD=admin
# Journals and locks in the scratch directory, never the real home.
export XDG_STATE_HOME="$scratch/state"

cargo build --release --quiet --example gen_corpus
gen=$root/target/release/examples/gen_corpus
# make_pair NAME CHANGED [EXTRA]: NAME-target.json and NAME-source.json from
# the corpus (CHANGED changed actions per Org; EXTRA more actions to go with
# them); the corpus summary in NAME.summary.
make_pair() {
  local n=$2 extra=${3:-0}
  "$gen" "$simdir/$1" --orgs "$orgs" --actions $(( n + extra > 600 ? n + extra + 200 : 600 )) --changed $(( n + extra )) >"$simdir/$1.summary"
  mv "$simdir/$1/target.json" "$simdir/$1-target.json"; mv "$simdir/$1/source.json" "$simdir/$1-source.json"
}
# served STATE: "requests writes throttled" from the simulator's summary line.
served() {
  sed -n 's/^served \([0-9]*\) requests: [0-9]* logins, \([0-9]*\) writes, \([0-9]*\) answered 429.*/\1 \2 \3/p' "$1.err"
}
# Associated actions among the changed ones (those a clearing PUT costs a POST).
assoc_changed() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['changed_associated'])" "$simdir/$1.summary"; }
BEHAVIOURS=("" "--put-replaces --list-omits-associations")
behaviour_name() { [ -z "$1" ] && echo "keeps associations on PUT" || echo "clears them on PUT ($1)"; }
start_sim() { # state-file [flags...] -> prints URL; pid in state-file.pid, stderr in state-file.err
  local out; out=$(mktemp -p "$simdir")
  "$bin" sim --state "$1" --listen "${LISTEN:-127.0.0.1:0}" "${@:2}" >"$out" 2>"$1.err" &
  echo $! >"$1.pid"
  for _ in $(seq 200); do grep -q listening "$out" && break; sleep 0.05; done
  sed -n 's/^listening on //p' "$out"
}
stop_sim() { # state-file: stops it and waits for its summary line
  local pid; pid=$(cat "$1.pid"); kill -INT "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
  rm -f "$1.pid"
}
export_source() { # NAME -> snapshot dir $scratch/NAME-snap
  local url; url=$(start_sim "$simdir/$1-source.json")
  "$bin" export --cluster "$url" --out "$scratch/$1-snap" -q
  stop_sim "$simdir/$1-source.json"
}
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
ratio() { python3 -c "import sys; m, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{m/b:.2f}x')" "$1" "$2"; }
waves() { echo $(( ($1 + parallel - 1) / parallel )); }
# rtt URL: the median round trip (ms) of 15 sequential requests from a bare
# keep-alive client, logged in and out like the tool (the floor this
# simulator and this machine give any client right now).
rtt() {
  python3 - "$1" <<'PY'
import http.client, statistics, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
base = "/callosum/v1/tspublic/v1/session"
h = {"X-Requested-By": "ThoughtSpot", "Accept": "application/json"}
c.request("POST", f"{base}/login", body="username=admin&password=admin",
          headers={**h, "Content-Type": "application/x-www-form-urlencoded"})
r = c.getresponse(); r.read()
h["Cookie"] = r.getheader("Set-Cookie").split(";")[0]
times = []
for _ in range(15):
    t = time.perf_counter()
    c.request("GET", f"{base}/orgs", headers=h); c.getresponse().read()
    times.append((time.perf_counter() - t) * 1000)
c.request("POST", f"{base}/logout", headers=h); c.getresponse().read()
print(f"{statistics.median(times):.2f}")
PY
}
# measured_line ROUND_TRIPS MEDIAN_MS RTT_MS...: the bound at the measured
# round trip, and the ratio against it.
measured_line() {
  python3 - "$@" <<'PY'
import statistics, sys
trips, m, rtts = int(sys.argv[1]), float(sys.argv[2]), [float(x) for x in sys.argv[3:]]
rtt = statistics.median(rtts)
print(f"   at the round trip measured in this run ({rtt:.2f} ms, median of the runs): "
      f"bound {trips * rtt:.0f} ms; median = {m / (trips * rtt):.2f}x")
PY
}
check_restored() { # BEFORE AFTER: the actions of two state files are the same (GUIDs aside)
  python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
fn = lambda s: sorted(json.dumps({k: v for k, v in x.items() if k != "id"}, sort_keys=True) for x in s["actions"])
assert fn(a) == fn(b), "the target was not restored"
PY
}

echo "simulator state in $simdir; journals in $scratch"

# --- 1. apply -------------------------------------------------------------
if want 1; then
make_pair plain "$n"; export_source plain
echo
echo "== 1. apply: $n changed actions ($(assoc_changed plain) associated) of 600, --latency-ms $latency, --parallel $parallel"
echo "   corpus: $(cat "$simdir/plain.summary")"
for beh in "${BEHAVIOURS[@]}"; do
  writes=$n; [ -n "$beh" ] && writes=$(( n + $(assoc_changed plain) ))
  bound=$(( (1 + 1 + $(waves "$writes") + 1) * latency ))
  echo "-- cluster that $(behaviour_name "$beh")"
  echo "   bound: (1 login + 1 read wave + $(waves "$writes") write waves for $writes writes + 1 verification wave) x $latency ms = $bound ms"
  times=(); rtts=(); counts=()
  for r in $(seq "$runs"); do
    cp "$simdir/plain-target.json" "$simdir/t$r.json"
    # shellcheck disable=SC2086
    tgt=$(start_sim "$simdir/t$r.json" --latency-ms "$latency" $beh)
    rtts+=("$(rtt "$tgt")")
    t0=$(date +%s%N)
    "$bin" apply --target "$tgt" --source "$scratch/plain-snap" --yes --parallel "$parallel" -q --journal "$scratch/j$r.jsonl" >/dev/null
    times+=("$(ms_since "$t0")")
    if [ "$r" = 1 ]; then
      again=$("$bin" apply --target "$tgt" --source "$scratch/plain-snap" --yes -q)
      echo "   re-apply: $again"
    fi
    stop_sim "$simdir/t$r.json"
    # The rtt probe's requests aside (1 login, 15 reads, 1 logout), and the
    # re-apply's on the first run: what the apply itself was served.
    read -r req wr _ < <(served "$simdir/t$r.json")
    [ "$r" = 1 ] || counts+=("$(( req - 17 )) $wr")
  done
  m=$(median "${times[@]}")
  echo "   times (ms): $(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')"
  read -r req wr <<<"${counts[0]}"
  python3 -c "import sys; r, w, n = map(int, sys.argv[1:]); print(f'   requests per changed action: {r / n:.3f} ({r} requests, {w} of them writes, for {n} changes)')" "$req" "$wr" "$n"
  echo "   apply: median $m ms = $(ratio "$m" "$bound") the bound (goal <= 1.2x); with the logout counted: $(ratio "$m" $(( bound + latency )))"
  measured_line $(( bound / latency )) "$m" "${rtts[@]}"
  # The round trips the tool makes one after the other besides those: the
  # Org check (GET session/orgs), the look-up of the objects the actions
  # reference, the one GET that learns what a PUT does to associations,
  # the logout, and on a cluster with several Orgs the probe of where the
  # current Org is kept (a login, a switch, its proof, both sessions read).
  extra=4; [ "$orgs" -gt 1 ] && extra=8
  full=$(( bound + extra * latency ))
  echo "   with the $extra sequential round trips the design adds counted (bound $full ms): $(ratio "$m" "$full")"
done

fi

# --- 2. rate-limited ------------------------------------------------------
if want 2; then
make_pair limited "$limited"; export_source limited
echo
echo "== 2. rate-limited apply: $limited changed actions ($(assoc_changed limited) associated), --rate-limit $rate, --latency-ms $latency"
for beh in "${BEHAVIOURS[@]}"; do
  echo "-- cluster that $(behaviour_name "$beh")"
  cp "$simdir/limited-target.json" "$simdir/rl.json"
  # shellcheck disable=SC2086
  tgt=$(start_sim "$simdir/rl.json" --rate-limit "$rate" --latency-ms "$latency" $beh)
  t0=$(date +%s%N)
  "$bin" apply --target "$tgt" --source "$scratch/limited-snap" --yes --parallel "$parallel" -q --journal "$scratch/rl.jsonl" >/dev/null
  m=$(ms_since "$t0")
  stop_sim "$simdir/rl.json"
  read -r req wr thr < <(served "$simdir/rl.json")
  python3 - "$m" "$limited" "$rate" "$req" "$wr" "$thr" "$beh" <<'PY'
import sys
ms, n, rate = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
req, wr, thr, beh = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
needed = req - thr
bound = needed / rate * 1000
print(f"   simulator: {req} requests, {wr} writes, {thr} answered 429; needed {needed}: "
      f"{needed / n:.3f} requests per changed action")
print(f"   rate-limited apply: {ms:.0f} ms = {ms / bound:.2f}x the bound of {bound:.0f} ms "
      f"(goal <= 1.15x); {thr / req:.1%} of requests answered 429 (goal < 10%)")
if not beh:
    print(f"   against {n} writes / {rate:.0f} per s: {ms / (n / rate * 1000):.2f}x (goal <= 1.2x)")
PY
done

fi

# --- 3. undo after a failure ----------------------------------------------
if want 3 || want 4; then
make_pair undo "$n" 1; export_source undo
# The changed action whose name sorts last is refused: the tool writes in
# name order, so the others go first.
rejected=$(python3 - "$simdir/undo-target.json" "$simdir/undo-source.json" <<'PY'
import json, sys
t, s = (json.load(open(p)) for p in sys.argv[1:])
strip = lambda a: {k: v for k, v in a.items() if k != "id"}
before = {a["name"]: strip(a) for a in t["actions"]}
changed = [a["name"] for a in s["actions"] if before.get(a["name"]) != strip(a)]
print(max(changed, key=lambda n: n.encode()))
PY
)
fi
if want 3; then
ub=$(( (1 + 1 + $(waves $(( n + 1 )) ) + 1 + $(waves "$n") + 1) * latency ))
echo
echo "== 3. undo: $n writes, then \"$rejected\" refused; the $n are undone"
echo "   bound: apply (1 login + 1 read + $(waves $(( n + 1 ))) waves) + undo (1 read + $(waves "$n") waves + 1 check) x $latency ms = $ub ms"
times=(); rtts=()
for r in $(seq "$runs"); do
  cp "$simdir/undo-target.json" "$simdir/u$r.json"
  tgt=$(start_sim "$simdir/u$r.json" --latency-ms "$latency" --reject-action "$rejected")
  rtts+=("$(rtt "$tgt")")
  t0=$(date +%s%N)
  code=0
  "$bin" apply --target "$tgt" --source "$scratch/undo-snap" --yes --parallel "$parallel" -q --journal "$scratch/u$r.jsonl" >/dev/null 2>"$scratch/u$r.err" || code=$?
  times+=("$(ms_since "$t0")")
  [ "$code" = 4 ] || { echo "   expected exit 4 (restored), got $code:"; cat "$scratch/u$r.err"; exit 1; }
  stop_sim "$simdir/u$r.json"
  check_restored "$simdir/undo-target.json" "$simdir/u$r.json"
done
m=$(median "${times[@]}")
echo "   times (ms): $(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ') (exit 4, target restored: checked on the state file)"
echo "   failed apply + undo: median $m ms = $(ratio "$m" "$ub") the bound (goal <= 1.5x)"
measured_line $(( ub / latency )) "$m" "${rtts[@]}"

fi

# --- 4. rollback from a journal -------------------------------------------
if want 4; then
rb=$(( (1 + 1 + $(waves "$n") + 1) * latency ))
echo
echo "== 4. rollback: the journal of $n writes, after a cluster that refused the rest"
echo "   bound: (1 login + 1 read + $(waves "$n") waves + 1 check) x $latency ms = $rb ms"
times=(); rtts=()
for r in $(seq "$runs"); do
  cp "$simdir/undo-target.json" "$simdir/r$r.json"
  tgt=$(start_sim "$simdir/r$r.json" --fail-after "$n")
  code=0
  TSMIGRATE_RETRY_BASE_MS=5 "$bin" apply --target "$tgt" --source "$scratch/undo-snap" --yes --parallel "$parallel" -q --journal "$scratch/r$r.jsonl" >/dev/null 2>"$scratch/r$r.err" || code=$?
  [ "$code" = 5 ] || { echo "   expected exit 5 (journal left), got $code:"; cat "$scratch/r$r.err"; exit 1; }
  stop_sim "$simdir/r$r.json"
  # The same address: the journal names the cluster it was written for.
  tgt=$(LISTEN=${tgt#http://} start_sim "$simdir/r$r.json" --latency-ms "$latency")
  rtts+=("$(rtt "$tgt")")
  t0=$(date +%s%N)
  "$bin" rollback --journal "$scratch/r$r.jsonl" --parallel "$parallel" -q >/dev/null
  times+=("$(ms_since "$t0")")
  stop_sim "$simdir/r$r.json"
  check_restored "$simdir/undo-target.json" "$simdir/r$r.json"
done
m=$(median "${times[@]}")
echo "   times (ms): $(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ') (target restored: checked on the state file)"
echo "   rollback: median $m ms = $(ratio "$m" "$rb") the bound (goal <= 1.5x)"
measured_line $(( rb / latency )) "$m" "${rtts[@]}"
fi
