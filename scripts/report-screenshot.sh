#!/usr/bin/env bash
# Regenerates docs/report-example.png, the README's picture of the HTML
# report: the demo's pair (dev → prod) rendered by headless Chromium.
# The browser's proxy is a closed loopback port, so nothing it asks for
# leaves the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
command -v chromium >/dev/null || { echo "needs chromium (apt-get install chromium)" >&2; exit 1; }
cargo build --release --quiet --bin tsmigrate
bin=$root/target/release/tsmigrate
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cp fixtures/demo-source.json "$work/dev.json"
"$bin" sim --state "$work/dev.json" --listen 127.0.0.1:18731 >/dev/null 2>&1 &
"$bin" sim --state "$work/prod.json" --listen 127.0.0.1:18732 >/dev/null 2>&1 &
cat >"$work/tsmigrate.toml" <<TOML
[clusters.dev]
url = "http://127.0.0.1:18731"
username = "admin"
password_env = "SIM_PASSWORD"

[clusters.prod]
url = "http://127.0.0.1:18732"
username = "admin"
password_env = "SIM_PASSWORD"
TOML
for _ in $(seq 50); do
  curl -s -o /dev/null http://127.0.0.1:18732/ 2>/dev/null && break || sleep 0.1
done
(cd "$work" && SIM_PASSWORD=admin "$bin" diff --source dev --target prod --format html >report.html)
chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
  --user-data-dir="$work/profile" --proxy-server=http://127.0.0.1:9 --proxy-bypass-list='<-loopback>' \
  --window-size=900,640 --screenshot="$work/shot.png" "file://$work/report.html" 2>/dev/null
cp "$work/shot.png" "$root/docs/report-example.png"
ls -l "$root/docs/report-example.png"
