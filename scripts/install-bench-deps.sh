#!/bin/sh
# Installs the peers and tools the benchmarks in tests/bench/ need on Debian 12:
# nginx (the loopback HTTP server the scripts configure in a temp dir), aria2
# and curl (the peers qmgrd is measured against), python3-gi (the D-Bus client
# the scripts use), dbus (the private test bus), coreutils' sync,
# python3-dbusmock (NetworkManager for B6 and B7), strace (B7) and iproute2
# (network namespaces and tc for B9).
# Profiling helpers (valgrind, linux-perf) are installed too, for the analysis
# of missed targets. Safe to run again. Uses sudo when not run as root.
set -eu

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi

PACKAGES="
    nginx-light
    aria2
    curl
    python3 python3-gi gir1.2-glib-2.0
    dbus dbus-daemon
    coreutils procps
    python3-dbusmock strace iproute2
    valgrind
"

$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# nginx-light is a transitional package on some releases; fall back to nginx.
# shellcheck disable=SC2086
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PACKAGES; then
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        $(echo "$PACKAGES" | sed 's/nginx-light/nginx/')
fi
# linux-perf is optional: perf counters are often unavailable in VMs.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-perf || true
# The Debian package enables and starts a system nginx on port 80; the
# benchmarks run their own instance and do not need it.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
fi
