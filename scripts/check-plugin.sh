#!/usr/bin/env bash
# End-to-end check of RouteTablePlugin through a real `swift build`: editing api-spec/ regenerates
# the route table, and a malformed spec line fails the build with that file and line.
# It edits api-spec/v1.spec temporarily and always restores it.
set -euo pipefail
cd "$(dirname "$0")/.."

spec=api-spec/v1.spec
backup=$(mktemp)
cp "$spec" "$backup"
restore() { cp "$backup" "$spec"; }
trap 'restore; rm -f "$backup"' EXIT

fail() { echo "plugin check FAILED: $*" >&2; exit 1; }
generated() { find .build -path '*RouteTablePlugin/GeneratedSources/Routes_v1.swift' -print -quit; }

swift build --target GeneratedRoutes >/dev/null

# 1. A new method in the spec is in the table after the next build.
probe="FpoolPluginProbe cat=common perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=()"
echo "$probe" >> "$spec"
swift build --target GeneratedRoutes >/dev/null || fail "a valid spec edit did not build"
grep -q 'case fpoolPluginProbe' "$(generated)" || fail "editing the spec did not regenerate Routes_v1.swift"

# 2. A malformed line fails the build, pointing at the spec line.
line=$(( $(wc -l < "$spec") + 1 ))
echo "FpoolPluginBroken cat=common perm=root effect=read result=plain policy=default filter=all nohang=false timeout=0s params=()" >> "$spec"
if output=$(swift build --target GeneratedRoutes 2>&1); then
  fail "a malformed spec built"
fi
echo "$output" | grep -q "v1.spec:$line: error: FpoolPluginBroken: field 'perm': unknown perm 'root'" \
  || { echo "$output" | tail -20 >&2; fail "the build error does not name v1.spec:$line"; }

# 3. Restoring the spec restores the table.
restore
swift build --target GeneratedRoutes >/dev/null || fail "the restored spec did not build"
if grep -q 'fpoolPluginProbe' "$(generated)"; then fail "the restored spec left the probe in the table"; fi
echo "plugin check: ok (a spec edit regenerates; a spec error fails the build at v1.spec:$line)"
