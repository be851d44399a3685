#!/usr/bin/env bash
# Runs every test suite. Checks lint and formatting first (biome.json), then provisions
# what the suites need (each script under scripts/provision/ prints `export NAME=value`
# lines on stdout and logs on stderr), runs vitest once with a JSON report, then tears
# everything down.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
# A stale report would give .ci/run's tally the last run's numbers when this one stops early.
rm -f test-results/vitest.json
echo "== biome ci (lint + format check; npm run format rewrites, npm run lint explains)" >&2
# Plain text when not on a terminal (CI logs).
colors=(); [ -t 1 ] || colors=(--colors=off)
npx --no-install biome ci --error-on-warnings "${colors[@]}" .
started=()
cleanup() {
  for ((i=${#started[@]}-1; i>=0; i--)); do bash "${started[$i]}" stop >&2 || true; done
}
trap cleanup EXIT
shopt -s nullglob
for script in scripts/provision/*.sh; do
  echo "== provisioning: $script" >&2
  started+=("$script")
  exports=$(bash "$script" start)
  eval "$exports"
done
node --version >&2
npx --no-install vitest run --reporter=default --reporter=json \
  --outputFile.json=test-results/vitest.json "$@"
