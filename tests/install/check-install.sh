#!/bin/sh
# Installs a build into a temporary DESTDIR and checks the result:
#   files       every file of expected-files is there (and nothing else), the
#               units and activation files name the installed daemon
#   units       `systemd-analyze verify` passes on both units
#   bus-policy  the system bus policy, loaded by a private dbus-daemon, lets
#               only root own the name and anyone call the interfaces (needs
#               root, to act as a second user; skipped otherwise)
#
#   check-install.sh [--debian] BUILD_DIR
#
# --debian also requires the paths Debian expects (the build must be set up
# with --prefix=/usr, as debhelper does).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
debian=no
if [ "${1:-}" = "--debian" ]; then
    debian=yes
    shift
fi
[ $# -eq 1 ] || { echo "usage: $0 [--debian] BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# shellcheck source=/dev/null
. "$build/tests/install/install-dirs.sh"
if [ "$debian" = yes ]; then
    multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
    # systemd's own answer: /lib/systemd/system on Debian 12, /usr/lib/... later.
    debian_system_units=$(pkg-config --variable=systemdsystemunitdir systemd)
    for pair in prefix=/usr bindir=/usr/bin libdir=/usr/lib/$multiarch \
                libexecdir=/usr/libexec includedir=/usr/include datadir=/usr/share \
                mandir=/usr/share/man localedir=/usr/share/locale sysconfdir=/etc \
                systemduserunitdir=/usr/lib/systemd/user \
                systemdsystemunitdir=$debian_system_units \
                dbussessionservicedir=/usr/share/dbus-1/services \
                dbussystemservicedir=/usr/share/dbus-1/system-services \
                dbussystempolicydir=/usr/share/dbus-1/system.d \
                dbusinterfacesdir=/usr/share/dbus-1/interfaces; do
        var=${pair%%=*}
        want=${pair#*=}
        eval "have=\$$var"
        [ "$have" = "$want" ] || fail "$var is $have; Debian expects $want"
    done
fi

destdir=$(mktemp -d)
trap 'rm -rf "$destdir"' EXIT
meson install -C "$build" --no-rebuild --quiet --destdir "$destdir" >"$destdir.log" 2>&1 || {
    cat "$destdir.log" >&2; rm -f "$destdir.log"; echo "FAIL: meson install" >&2; exit 1; }
rm -f "$destdir.log"

# ---- files ----
work=$(mktemp -d)
trap 'rm -rf "$destdir" "$work"' EXIT
grep -v -e '^#' -e '^[[:space:]]*$' "$here/expected-files" >"$work/list"
: >"$work/expected"
: >"$work/trees"
while read -r var path flags; do
    case " $flags " in
        *" man "*) [ "$man_enabled" = yes ] || continue ;;
    esac
    case " $flags " in
        *" gir "*) [ "$introspection_enabled" = yes ] || continue ;;
    esac
    case " $flags " in
        *" docs "*) [ "$docs_enabled" = yes ] || continue ;;
    esac
    eval "dir=\${$var:?unknown directory variable $var in expected-files}"
    file="$dir/$path"
    case " $flags " in
        *" tree "*)
            # A generated tree (the API reference): any files under it, not none.
            echo "$file/" >>"$work/trees"
            [ -n "$(find "$destdir$file" -type f 2>/dev/null | head -n 1)" ] ||
                fail "not installed: $file/"
            continue ;;
    esac
    echo "$file" >>"$work/expected"
    if [ ! -f "$destdir$file" ]; then
        fail "not installed: $file"
        continue
    fi
    case " $flags " in
        *" x "*) [ -x "$destdir$file" ] || fail "not executable: $file" ;;
    esac
done <"$work/list"
(cd "$destdir" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort) >"$work/installed"
while read -r file; do
    grep -qxF "$file" "$work/expected" && continue
    in_tree=no
    while read -r tree; do
        case "$file" in "$tree"*) in_tree=yes ;; esac
    done <"$work/trees"
    [ "$in_tree" = yes ] ||
        fail "installed but not listed in tests/install/expected-files: $file"
done <"$work/installed"

# The units and activation files start the installed daemon, under one name.
value() { sed -n "s/^$2=//p" "$destdir$1"; }
daemon="$libexecdir/qmgrd"
[ "$(value "$systemduserunitdir/qmgrd.service" ExecStart)" = "$daemon" ] ||
    fail "user unit: ExecStart is not $daemon"
[ "$(value "$systemdsystemunitdir/qmgrd.service" ExecStart)" = "$daemon --system" ] ||
    fail "system unit: ExecStart is not $daemon --system"
[ "$(value "$dbussessionservicedir/io.github.qmgrd.QMgr1.service" Exec)" = "$daemon" ] ||
    fail "session activation: Exec is not $daemon"
[ "$(value "$dbussystemservicedir/io.github.qmgrd.QMgr1.service" Exec)" = "$daemon --system" ] ||
    fail "system activation: Exec is not $daemon --system"
for f in "$systemduserunitdir/qmgrd.service" "$systemdsystemunitdir/qmgrd.service"; do
    [ "$(value "$f" BusName)" = io.github.qmgrd.QMgr1 ] || fail "$f: BusName"
done
for f in "$dbussessionservicedir/io.github.qmgrd.QMgr1.service" \
         "$dbussystemservicedir/io.github.qmgrd.QMgr1.service"; do
    [ "$(value "$f" Name)" = io.github.qmgrd.QMgr1 ] || fail "$f: Name"
    [ "$(value "$f" SystemdService)" = qmgrd.service ] || fail "$f: SystemdService"
done
[ "$(value "$dbussystemservicedir/io.github.qmgrd.QMgr1.service" User)" = root ] ||
    fail "system activation: User is not root"

# ---- units ----
# verify checks that ExecStart= is executable, so it is given copies that start
# the daemon inside DESTDIR; it runs without a running systemd.
verify_dir=$work/verify
mkdir -p "$verify_dir/user" "$verify_dir/system" "$verify_dir/runtime"
chmod 700 "$verify_dir/runtime"
sed "s|^ExecStart=$libexecdir/|ExecStart=$destdir$libexecdir/|" \
    "$destdir$systemduserunitdir/qmgrd.service" >"$verify_dir/user/qmgrd.service"
sed "s|^ExecStart=$libexecdir/|ExecStart=$destdir$libexecdir/|" \
    "$destdir$systemdsystemunitdir/qmgrd.service" >"$verify_dir/system/qmgrd.service"
if [ "$man_enabled" = yes ]; then
    man_check="--man=yes"   # Documentation=man:… must resolve, in DESTDIR
else
    man_check="--man=no"
fi
if ! MANPATH="$destdir$mandir" XDG_RUNTIME_DIR="$verify_dir/runtime" \
     systemd-analyze verify --user $man_check "$verify_dir/user/qmgrd.service" 2>"$verify_dir/out" ||
   [ -s "$verify_dir/out" ]; then
    cat "$verify_dir/out" >&2
    fail "systemd-analyze verify --user qmgrd.service"
fi
if ! MANPATH="$destdir$mandir" \
     systemd-analyze verify $man_check "$verify_dir/system/qmgrd.service" 2>"$verify_dir/out" ||
   [ -s "$verify_dir/out" ]; then
    cat "$verify_dir/out" >&2
    fail "systemd-analyze verify qmgrd.service (system)"
fi

# ---- bus-policy ----
if [ "$(id -u)" -eq 0 ]; then
    /usr/bin/python3 "$here/check-bus-policy.py" "$destdir$dbussystempolicydir/io.github.qmgrd.QMgr1.conf" ||
        fail "system bus policy"
else
    echo "SKIP: the bus policy check needs root (to act as a second user)"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures failures" >&2
    exit 1
fi
echo "installed files, units and bus policy are as expected"
