#!/usr/bin/env bash
# Long runs of the randomized model test (tests/it/model.rs): as many
# seeds as fit in SECS seconds (default 600), each of STEPS planned steps
# (default 8), going on after a failing seed and listing every failure
# (seed, steps, replay line) at the end. The module's other switches pass
# through: TSMIGRATE_MODEL_ONLY, TSMIGRATE_MODEL_OFF,
# TSMIGRATE_MODEL_SAFETY_ONLY, and TSMIGRATE_MODEL_SEED to replay one seed.
#   scripts/model-test.sh                 # 10 minutes, every feature
#   SECS=120 TSMIGRATE_MODEL_OFF=ttl,competitor scripts/model-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export TSMIGRATE_MODEL_SECS=${SECS:-600}
export TSMIGRATE_MODEL_STEPS=${STEPS:-8}
export TSMIGRATE_MODEL_KEEP_GOING=1
exec cargo test --test it model:: -- --nocapture
