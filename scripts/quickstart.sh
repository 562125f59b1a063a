#!/bin/sh
# The README's quick start.
#   scripts/quickstart.sh demo [URL DEST]
#                                install, build, run qmgrd on a private bus and download a
#                                file through it (by default a generated one from a local
#                                test server)
#   scripts/quickstart.sh test   install, build and run every test suite
set -eu

cd "$(dirname "$0")/.."
what=${1:-}
case "$what" in
    demo|test) shift ;;
    *) echo "usage: $0 demo [URL DEST] | test" >&2; exit 2 ;;
esac

# CI builds twice (plain and sanitized) through these two variables.
build=${QMGR_BUILD_DIR:-build}
suites=${QMGR_TEST_ARGS:-}

scripts/install-deps.sh
if [ ! -f "$build/build.ninja" ]; then
    # shellcheck disable=SC2086
    meson setup "$build" ${QMGR_MESON_ARGS:-}
fi
ninja -C "$build"

case "$what" in
    demo) exec dbus-run-session -- scripts/demo.sh "$build" "$@" ;;
    # shellcheck disable=SC2086
    test) exec meson test -C "$build" --print-errorlogs $suites ;;
esac
