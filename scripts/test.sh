#!/usr/bin/env bash
# The tests, as README and CI run them: every suite in parallel, then the CI-sized chaos test
# (fpool under load and random daemon faults, with a 2 s heartbeat) alone, with the suites named
# `…AloneTests`. Run beside the heaviest suites on a 2-core machine, the chaos test's heartbeats
# could starve all at once, and what it then measured was the machine, not fpool; a heap trim
# stalls every thread of the process for as long as it walks the heap, which the suites' timing
# tests would feel. Arguments go to both `swift test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build --skip 'ChaosTests|AloneTests' "$@"
swift test --skip-build --filter 'ChaosTests|AloneTests' "$@"
