#!/usr/bin/env bash
# The release binary operators copy to a miner host: one self-contained executable, the Swift
# runtime linked in (--static-swift-stdlib), checked to start with no Swift toolchain on the
# library path. Usage: scripts/release-build.sh [output directory, default .build/release-dist]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.build/release-dist}"

swift build -c release --static-swift-stdlib --product fpool
binary="$(swift build -c release --show-bin-path)/fpool"

# Only the C library and its kin may remain dynamic: nothing of Swift, nothing from /opt/swift.
if ldd "$binary" | grep -E 'libswift|libFoundation|libdispatch|/opt/swift' >&2; then
  echo "release-build: $binary still loads the Swift libraries above" >&2
  exit 1
fi
# It starts with an empty environment (no PATH, no LD_LIBRARY_PATH into a toolchain).
env -i "$binary" --version

mkdir -p "$out"
install -m 0755 "$binary" "$out/fpool"
install -m 0644 scripts/fpool.service scripts/fpool.env.example "$out/"
echo "release-build: $out/fpool ($(du -h "$out/fpool" | cut -f1)), its systemd unit and environment file"
