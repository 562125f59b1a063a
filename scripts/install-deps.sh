#!/bin/sh
# Installs the Debian 12 packages qmgrd needs to build, run its tests and
# benchmarks. Safe to run again. Uses sudo when not run as root.
set -eu

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi

PACKAGES="
    build-essential meson ninja-build pkg-config gettext scdoc
    libglib2.0-dev libglib2.0-bin libsystemd-dev libcurl4-openssl-dev zlib1g-dev
    dbus dbus-daemon dbus-user-session systemd man-db
    libsoup-3.0-dev glib-networking libgnutls28-dev
    python3 python3-gi python3-dbusmock
    gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0 gi-docgen
    libjson-glib-dev bash-completion locales
"

$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PACKAGES
