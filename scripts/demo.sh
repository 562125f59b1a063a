#!/bin/sh
# The README's demo: runs qmgrd on the current session bus with a throw-away
# state directory and downloads a file through it with qmgrctl, which creates a
# group, adds the file, resumes it and shows the progress until it completes.
#
#   scripts/demo.sh BUILDDIR [URL DEST]
#
# Without URL and DEST, the test server (qmgr-test-httpd) serves a generated
# 64 MiB file on loopback, paced so that the progress can be watched, and the
# download goes to a temporary directory.
set -eu

build=$1
QMGRD=$build/src/daemon/qmgrd
QMGRCTL=$build/src/qmgrctl/qmgrctl
HTTPD=$build/tests/common/qmgr-test-httpd
url=${2:-}
dest=${3:-}

state=$(mktemp -d)
work=$(mktemp -d)
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    rm -rf "$state" "$work"
}
trap cleanup EXIT INT TERM

if [ -z "$url" ]; then
    "$HTTPD" --size $((64 * 1024 * 1024)) --rate $((16 * 1024 * 1024)) >"$work/httpd.out" 2>/dev/null &
    pids="$pids $!"
    i=0
    until [ -s "$work/httpd.out" ]; do
        i=$((i + 1)); [ "$i" -le 100 ] || { echo "the test server did not start" >&2; exit 1; }
        sleep 0.1
    done
    url="$(head -n 1 "$work/httpd.out")/file.bin"
    dest="$work/file.bin"
fi
case "$dest" in
    /*) ;;
    *) dest="$(pwd)/$dest" ;;
esac

"$QMGRD" --state-dir "$state" &
pids="$pids $!"
i=0
until busctl --user status io.github.qmgrd.QMgr1 >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -le 100 ] || { echo "qmgrd did not start" >&2; exit 1; }
    sleep 0.1
done
"$QMGRCTL" --version

echo "\$ qmgrctl transfer --name 'qmgrd demo' $url $dest"
"$QMGRCTL" transfer --name "qmgrd demo" "$url" "$dest"
ls -l "$dest"
sha256sum "$dest"
