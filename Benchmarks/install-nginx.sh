#!/usr/bin/env bash
# Installs nginx from Debian's packages when `nginx` is missing (apt-get install nginx-light, with
# sudo when not root); a temporary policy-rc.d keeps the package from starting a system nginx.
# Used by proxy/run.sh and hostile/run.sh, which run nginx as their own child.
set -euo pipefail

command -v nginx >/dev/null 2>&1 && exit 0
say() { printf '[install-nginx] %s\n' "$*" >&2; }
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
say "installing nginx-light (apt-get)"
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
fi
install_nginx() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }
installed=1
if ! install_nginx; then
    $sudo apt-get update -qq || true
    install_nginx || installed=0
fi
if ((made_policy)); then $sudo rm -f /usr/sbin/policy-rc.d; fi
((installed)) || { say "could not install nginx-light"; exit 1; }
