#!/bin/sh
# The session-end sequence of docs/BENCHMARKS.md: B1, B2 (twice), B3, B4, B8
# (uncapped and at 32 MiB/s) and B10, one after the other, each line headed by
# the time and the load average. B5, B6, B7 and B9 have their own needs (see
# docs/BENCHMARKS.md) and are run apart.
#
#   tests/bench/run-all.sh QMGRD B3_CLIENT
#
# Copy the binaries aside first (a rebuild during the run must not change them).
set -eu
[ $# -eq 2 ] || { echo "usage: $0 QMGRD B3_CLIENT" >&2; exit 2; }
Q=$1 C=$2
cd "$(dirname "$0")/../.."
stamp() { echo "=== $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) :: $*"; }
for cmd in "b1-large.py --qmgrd $Q" \
           "b2-many.py --qmgrd $Q --runs 5" "b2-many.py --qmgrd $Q --runs 5" \
           "b3-create.py --qmgrd $Q --client $C --runs 5" \
           "b4-startup.py --qmgrd $Q" \
           "b8-kill.py --qmgrd $Q" "b8-kill.py --qmgrd $Q --rate 32M" \
           "b10-cost.py --qmgrd $Q"; do
    stamp "$cmd"
    # shellcheck disable=SC2086
    /usr/bin/python3 tests/bench/$cmd
done
stamp done
