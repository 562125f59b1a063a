#!/bin/sh
# The core is the QMGR model on GLib alone: its unit test (and the store's,
# which adds only the store) must link neither libcurl nor libsystemd.
# Arguments: the test programs to inspect.
set -u
n=0
echo "1..$#"
for exe in "$@"; do
    n=$((n + 1))
    libs=$(ldd "$exe") || { echo "not ok $n - ldd $exe failed"; continue; }
    bad=$(printf '%s\n' "$libs" | grep -E 'libcurl|libsystemd' || true)
    if [ -n "$bad" ]; then
        echo "not ok $n - $(basename "$exe") links: $bad"
    else
        echo "ok $n - $(basename "$exe") links neither libcurl nor libsystemd"
    fi
done
