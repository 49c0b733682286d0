#!/usr/bin/env bash
# Writes one Lotus release's API documents (full.json and the methods markdown of v1 and v0),
# taken from a Lotus git clone at the release's tag, into a directory in the layout
# `apigen bump --lotus <dir>` reads. Releases before v1.27 keep full.json gzipped.
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: scripts/lotus-release-docs.sh <lotus git clone> <tag, e.g. v1.20.0> <output dir>" >&2
  exit 2
fi
lotus=$1 tag=$2 out=$3

git -C "$lotus" rev-parse --verify --quiet "$tag^{commit}" >/dev/null \
  || { echo "$lotus: no tag or commit '$tag'" >&2; exit 1; }
has() { git -C "$lotus" cat-file -e "$tag:$1" 2>/dev/null; }

mkdir -p "$out"
if has build/openrpc/full.json; then
  git -C "$lotus" show "$tag:build/openrpc/full.json" >"$out/full.json"
elif has build/openrpc/full.json.gz; then
  git -C "$lotus" show "$tag:build/openrpc/full.json.gz" | gunzip >"$out/full.json"
else
  echo "$lotus@$tag: neither build/openrpc/full.json nor full.json.gz" >&2
  exit 1
fi

found=0
for name in api-methods-v1-stable.md api-v1-unstable-methods.md api-methods-v0-deprecated.md api-methods-v0.md api-v0-methods.md; do
  if has "documentation/en/$name"; then
    git -C "$lotus" show "$tag:documentation/en/$name" >"$out/$name"
    found=$((found + 1))
  fi
done
[ "$found" -gt 0 ] || { echo "$lotus@$tag: no FullNode methods markdown in documentation/en" >&2; exit 1; }
echo "$tag: full.json and $found methods document(s) in $out"
