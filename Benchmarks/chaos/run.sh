#!/usr/bin/env bash
# The chaos test's long mode (issue 13): `fpool chaos` for minutes, release build, 5 simulated
# daemons, a random fault every 1–3 s, the invariants table written to Benchmarks/chaos/latest.md.
# The CI test (Tests/fpoolTests/ChaosTests.swift) runs the same harness for 30 s. Everything runs
# in one process on 127.0.0.1. See Benchmarks/README.md ("Chaos test").
#
#   bash Benchmarks/chaos/run.sh                          # build (release), 10 minutes, write latest.md
#   bash Benchmarks/chaos/run.sh --no-build -- --duration 5m --seed 42   # options after -- go to fpool chaos
#
# Environment: OUT (report path, default Benchmarks/chaos/latest.md), SCRATCH (SwiftPM scratch
# path, default .build in the repository root), LOG (every log line of the pool and the daemons;
# default a temporary file, named at the end).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$(dirname "$here")")
scratch=${SCRATCH:-$root/.build}
out=${OUT:-$here/latest.md}
log=${LOG:-$(mktemp -t fpool-chaos-XXXXXX.log)}
build=1
extra=()
while (($#)); do
    case "$1" in
        --no-build) build=0 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

say() { printf '[run.sh] %s\n' "$*" >&2; }

if ((build)); then
    say "building fpool (release, scratch $scratch)"
    (cd "$root" && swift build -c release --scratch-path "$scratch" --product fpool >&2)
fi
bin=$(cd "$root" && swift build -c release --scratch-path "$scratch" --show-bin-path)
[ -x "$bin/fpool" ] || { say "missing $bin/fpool (run without --no-build)"; exit 1; }

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || echo unknown)
mem=$(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo 2>/dev/null || echo "? GB")
commit=$(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
note="Machine: $(nproc) cores ($cpu), $mem, $(uname -sr); $(swift --version 2>/dev/null | head -n 1 | sed 's/ (.*//'), release build; fpool $commit."

# Later options win: what follows -- overrides these defaults.
status=0
"$bin/fpool" chaos --duration 10m --nodes 5 --report "$out" --log "$log" --note "$note" "${extra[@]}" || status=$?
say "report: $out; log of the pool and the daemons: $log"
exit "$status"
