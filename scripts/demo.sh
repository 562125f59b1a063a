#!/bin/sh
# The README's demo: runs qmgrd on the current session bus with a throw-away
# state directory and downloads a file through it the way a client would
# (a group, a job, a file, resume), showing the progress until it completes.
#
#   scripts/demo.sh QMGRD HTTPD [URL DEST]
#
# Without URL and DEST, HTTPD (qmgr-test-httpd) serves a generated 64 MiB file
# on loopback, paced so that the progress can be watched, and the download goes
# to a temporary directory.
set -eu

QMGRD=$1
HTTPD=$2
url=${3:-}
dest=${4:-}

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

call() { busctl --user call io.github.qmgrd.QMgr1 "$@"; }
get() { busctl --user get-property io.github.qmgrd.QMgr1 "$1" io.github.qmgrd.QMgr1.Group "$2" | cut -d' ' -f2-; }
path_of() { sed -n 's/^o "\(.*\)"$/\1/p'; }

group=$(call /io/github/qmgrd/QMgr1 io.github.qmgrd.QMgr1.Manager CreateGroup s "" | path_of)
call "$group" io.github.qmgrd.QMgr1.Group SetProp uv 11 s "qmgrd demo" >/dev/null
job=$(call "$group" io.github.qmgrd.QMgr1.Group CreateJob s "" | path_of)
call "$job" io.github.qmgrd.QMgr1.Job AddFiles 'a(sst)' 1 "$url" "$dest" 0 >/dev/null
call "$group" io.github.qmgrd.QMgr1.Group ResumeGroup >/dev/null
echo "group $group"
echo "downloading $url"
echo "       to $dest"

# Progress, from the group's properties, until the group leaves the queue.
while :; do
    status=$(get "$group" Status)
    done_bytes=$(get "$group" BytesTransferred)
    total=$(get "$group" BytesTotal)
    reason=$(get "$group" WaitReason | tr -d '"')
    if [ "$total" -gt 0 ]; then
        pct=$((done_bytes * 100 / total))
        bar=$(printf '%*s' $((pct / 4)) '' | tr ' ' '#')
        printf '\r[%-25s] %3d%%  %d / %d bytes  %-12s' "$bar" "$pct" "$done_bytes" "$total" "$reason"
    else
        printf '\r%d bytes  %-12s' "$done_bytes" "$reason"
    fi
    [ $((status & 0x80)) -ne 0 ] && [ $((status & 0x100)) -eq 0 ] || break
    sleep 0.2
done
echo
printf 'Status:     0x%x (%s)\n' "$status" "$reason"
if [ $((status & 0x40)) -ne 0 ]; then
    ls -l "$dest"
    sha256sum "$dest"
else
    busctl --user get-property io.github.qmgrd.QMgr1 "$job" io.github.qmgrd.QMgr1.Job LastError
    exit 1
fi
