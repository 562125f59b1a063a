#!/bin/sh
# Runs qmgrd on the current session bus with a throw-away state directory, then
# drives it with busctl the way a client would: a group, a job, a file, resume.
set -eu

QMGRD=${1:-qmgrd}
state=$(mktemp -d)
files=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$state" "$files"' EXIT

"$QMGRD" --state-dir "$state" &
pid=$!

# Wait (at most 10 s) for the daemon to own its name.
i=0
until busctl --user status io.github.qmgrd.QMgr1 >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "qmgrd did not start" >&2
        exit 1
    fi
    sleep 0.1
done

call() { busctl --user call io.github.qmgrd.QMgr1 "$@"; }
path_of() { sed -n 's/^o "\(.*\)"$/\1/p'; }

group=$(call /io/github/qmgrd/QMgr1 io.github.qmgrd.QMgr1.Manager CreateGroup s "" | path_of)
call "$group" io.github.qmgrd.QMgr1.Group SetProp uv 11 s "qmgrd demo" >/dev/null
job=$(call "$group" io.github.qmgrd.QMgr1.Group CreateJob s "" | path_of)
call "$job" io.github.qmgrd.QMgr1.Job AddFiles 'a(sst)' 1 \
    "https://example.org/README" "$files/README" 0 >/dev/null
call "$group" io.github.qmgrd.QMgr1.Group ResumeGroup >/dev/null

echo "group:       $group"
echo "job:         $job"
printf 'Status:      '
busctl --user get-property io.github.qmgrd.QMgr1 "$group" io.github.qmgrd.QMgr1.Group Status
printf 'WaitReason:  '
busctl --user get-property io.github.qmgrd.QMgr1 "$group" io.github.qmgrd.QMgr1.Group WaitReason
printf 'FilesTotal:  '
busctl --user get-property io.github.qmgrd.QMgr1 "$group" io.github.qmgrd.QMgr1.Group FilesTotal
