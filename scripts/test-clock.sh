#!/usr/bin/env bash
# The whole suite with the clock moved ahead (default: 400 days), so a test that hard-codes a date that is about
# to pass fails here first, not on CI the day it passes. Uses Debian's libfaketime (scripts/setup.sh test installs
# it). Options after the script name go to vitest, e.g. `npm run test:clock -- control-plane`.
#   LOA_TEST_CLOCK_OFFSET   faketime offset, default +400d (e.g. -30d, +3y)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v faketime >/dev/null 2>&1; then
  echo "faketime không có / faketime is missing: run scripts/setup.sh test (apt-get install -y faketime)" >&2
  exit 1
fi
offset="${LOA_TEST_CLOCK_OFFSET:-+400d}"
echo "Clock moved by ${offset}: $(faketime -f "${offset}" date -u +%Y-%m-%dT%H:%M:%SZ)"
exec faketime -f "${offset}" npx vitest run "$@"
