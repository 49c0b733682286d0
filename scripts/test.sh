#!/usr/bin/env bash
# The tests, as README and CI run them: every suite in parallel, then the CI-sized chaos test
# (fpool under load and random daemon faults, with a 2 s heartbeat) alone, with the suites named
# `…AloneTests`. Run beside the heaviest suites on a 2-core machine, the chaos test's heartbeats
# could starve all at once, and what it then measured was the machine, not fpool; a heap trim
# stalls every thread of the process for as long as it walks the heap, which the suites' timing
# tests would feel. Arguments go to both `swift test` runs.
#
# A test that fails in the parallel run is run once more on its own, and the run passes only if
# it passes there; at most three, since more is a breakage, and a crash is never retried (the
# report it would leave is missing). Many tests race real sockets and timers against hundreds
# of others on two cores; when one loses, the retry tells a race lost to the load from a
# defect, and the log names it FLAKY so that it is fixed, not forgotten.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
# Swift Testing writes its report beside the path given, as …-swift-testing.xml.
report=.build/test-report retry=.build/test-retry
rm -f "$report-swift-testing.xml" "$retry-swift-testing.xml"
if ! swift test --skip-build --skip 'ChaosTests|AloneTests' --xunit-output "$report.xml" "$@"; then
  failed=$(python3 scripts/failed-tests.py names "$report-swift-testing.xml" --max 3) || {
    echo "test.sh: the parallel run failed; not retried" >&2
    exit 1
  }
  echo "test.sh: running again alone, after they failed in the parallel run: $failed" >&2
  swift test --skip-build --filter "$failed" --xunit-output "$retry.xml" "$@"
  # Each name starts with ^: as many tests must have run again, and passed.
  python3 scripts/failed-tests.py confirm "$retry-swift-testing.xml" "$(tr -cd '^' <<<"$failed" | wc -c)"
  echo "test.sh: FLAKY: failed in the parallel run, passed alone: $failed" >&2
fi
swift test --skip-build --filter 'ChaosTests|AloneTests' "$@"
