#!/bin/bash
# Starts the user unit (data/qmgrd-user.service, as installed, with ExecStart=
# pointing at the built daemon) under a real systemd user manager and works
# through it, to show that its sandbox lets qmgrd do its job and is in force:
# downloads land in the home directory (outside it the file system is
# read-only) and in /tmp, names resolve without AF_NETLINK, a destination
# outside the writable paths is refused with AccessDenied, the daemon runs with
# no_new_privs, a seccomp filter and no capabilities, and it stops cleanly.
#
# The manager runs as a throw-away uid in private mount and cgroup namespaces,
# inside one cgroup delegated to it: nothing outside them changes. Needs root,
# cgroup v2, user namespaces and dbus-user-session; exits 77 (skip) without.
#   user-unit-sandbox.sh BUILD_DIR
set -eu

skip() { echo "SKIP: $*"; exit 77; }
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
unit=$build/data/qmgrd-user.service
qmgrd=$build/src/daemon/qmgrd
httpd=$build/tests/common/qmgr-test-httpd

[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v setpriv >/dev/null || skip "needs setpriv"
[ -f /usr/lib/systemd/user/dbus.socket ] || skip "needs dbus-user-session"
[ -x /lib/systemd/systemd ] || skip "needs systemd"
unshare -C -m -U true 2>/dev/null || skip "needs cgroup and user namespaces"
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$cg2" ] || skip "needs cgroup v2"
own_cgroup=$(sed -n 's/^0:://p' /proc/self/cgroup)
cg=$cg2${own_cgroup%/}/qmgr-user-unit-$$
mkdir "$cg" 2>/dev/null || skip "cannot create a cgroup under $cg2$own_cgroup"

# A free uid for the throw-away user.
uid=61000
while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do
    uid=$((uid + 1))
done

setpriv --reuid="$uid" --regid="$uid" --clear-groups unshare -U true 2>/dev/null ||
    { rmdir "$cg"; skip "needs unprivileged user namespaces"; }
setpriv --reuid="$uid" --regid="$uid" --clear-groups test -x "$qmgrd" ||
    { rmdir "$cg"; skip "the build directory is not reachable by other users"; }

tmp=$(mktemp -d)
# Home: not under any of the unit's other writable paths (the build directory
# may well be under /tmp, which is one), so that only ReadWritePaths=%h makes
# it writable; /var/lib is read-only for the unit.
home=$(mktemp -d /var/lib/qmgrd-test-home.XXXXXX)
outside=$(mktemp -d /var/lib/qmgrd-test-outside.XXXXXX)
# Outside too, but added by a drop-in, as qmgrd(8) tells users to.
extra=$(mktemp -d /var/lib/qmgrd-test-extra.XXXXXX)
httpd_pid=
cleanup() {
    set +e
    # Only what runs in our own cgroup: the user manager and what it started.
    for _ in $(seq 50); do
        procs=$(cat $(find "$cg" -name cgroup.procs) 2>/dev/null)
        [ -z "$procs" ] && break
        kill $procs 2>/dev/null
        sleep 0.2
    done
    find "$cg" -depth -type d -exec rmdir {} \;
    [ -n "$httpd_pid" ] && kill "$httpd_pid" && wait "$httpd_pid"
    rm -rf "$tmp" "$home" "$outside" "$extra"
}
trap cleanup EXIT
trap "exit 1" INT TERM
chown "$uid:$uid" "$cg" "$cg/cgroup.procs" "$cg/cgroup.subtree_control" "$cg/cgroup.threads"

mkdir -p "$home/.config/systemd/user/qmgrd.service.d" "$home/Downloads" "$tmp/dest" "$tmp/log"
sed "s|^ExecStart=.*/qmgrd|ExecStart=$qmgrd|" "$unit" >"$home/.config/systemd/user/qmgrd.service"
# What the daemon prints, for a failure's diagnosis; a sanitized build's leak
# checker would need ptrace, which the unit forbids.
cat >"$home/.config/systemd/user/qmgrd.service.d/test.conf" <<EOF
[Service]
ReadWritePaths=$extra
StandardOutput=append:$tmp/log/qmgrd.log
StandardError=append:$tmp/log/qmgrd.log
Environment=ASAN_OPTIONS=detect_leaks=0
EOF
chown -R "$uid:$uid" "$home" "$outside" "$extra" "$tmp/dest" "$tmp/log"
chmod 755 "$tmp"
{ cat /etc/passwd; echo "qmgrtest:x:$uid:$uid::$home:/bin/sh"; } >"$tmp/passwd"
{ cat /etc/group; echo "qmgrtest:x:$uid:"; } >"$tmp/group"

"$httpd" --size $((4 * 1024 * 1024)) >"$tmp/httpd.out" 2>/dev/null &
httpd_pid=$!
for _ in $(seq 100); do [ -s "$tmp/httpd.out" ] && break; sleep 0.1; done
url=$(head -n 1 "$tmp/httpd.out")
[ -n "$url" ] || { echo "FAIL: the test HTTP server did not start"; exit 1; }

export uid home outside extra tmp url
(
    echo "$BASHPID" >"$cg/cgroup.procs"
    exec unshare -C -m --propagation private "$BASH" -c '
set -eu
# /run must be a mount point, or the unit would get an empty /run of its own.
mount --bind /run /run
mount -t tmpfs tmpfs /run/systemd
mkdir /run/systemd/system      # "booted with systemd", in here only
mkdir -p /run/user
mount -t tmpfs tmpfs /run/user
mkdir -m 700 /run/user/$uid
chown $uid:$uid /run/user/$uid
mount -t cgroup2 none /sys/fs/cgroup
mount --bind $tmp/passwd /etc/passwd
mount --bind $tmp/group /etc/group
export HOME=$home USER=qmgrtest LOGNAME=qmgrtest XDG_RUNTIME_DIR=/run/user/$uid
export DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus
as_user() { setpriv --reuid=$uid --regid=$uid --clear-groups "$@"; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

as_user /lib/systemd/systemd --user >$tmp/manager.log 2>&1 &
for _ in $(seq 300); do [ -S /run/user/$uid/systemd/private ] && break; sleep 0.1; done
as_user systemctl --user start qmgrd.service || {
    echo "FAIL: qmgrd.service did not start"
    as_user systemctl --user status qmgrd.service --no-pager || true
    cat $tmp/log/qmgrd.log
    exit 1
}

call() { as_user busctl --user call io.github.qmgrd.QMgr1 "$@"; }
group_prop() { as_user busctl --user get-property io.github.qmgrd.QMgr1 "$1" \
               io.github.qmgrd.QMgr1.Group "$2" | cut -d" " -f2-; }
path_of() { sed -n "s/^o \"\(.*\)\"$/\1/p"; }
# Downloads URL to DEST; prints the group status once it is no longer queued.
download() {
    local g j st
    g=$(call /io/github/qmgrd/QMgr1 io.github.qmgrd.QMgr1.Manager CreateGroup s "" | path_of)
    j=$(call "$g" io.github.qmgrd.QMgr1.Group CreateJob s "" | path_of)
    call "$j" io.github.qmgrd.QMgr1.Job AddFiles "a(sst)" 1 "$1" "$2" 0 >/dev/null 2>$tmp/err ||
        { echo "refused: $(cat $tmp/err)"; return 0; }
    call "$g" io.github.qmgrd.QMgr1.Group ResumeGroup
    for _ in $(seq 300); do
        st=$(group_prop "$g" Status)
        [ $((st & 0x100)) -ne 0 ] && break    # SUSPENDED again: complete or error
        sleep 0.1
    done
    echo "status $st, $(group_prop "$g" WaitReason)"
}
check_download() {
    local r
    r=$(download "$1" "$2")
    case "$r" in
        "status 320, \"complete\"") echo "ok: $1 -> $2" ;;
        *) fail "$1 -> $2: $r" ;;
    esac
    [ "$(stat -c %s "$2" 2>&1)" = 4194304 ] || fail "$2 is not the 4 MiB the server sent"
}
check_download "$url/file.bin" $home/Downloads/file.bin
check_download "$url/file.bin" $tmp/dest/file.bin
check_download "$(echo "$url" | sed s/127.0.0.1/localhost/)/file.bin" $home/by-name.bin
check_download "$url/file.bin" $extra/file.bin
r=$(download "$url/file.bin" $outside/file.bin)
case "$r" in
    *"Access denied"*) echo "ok: refused outside the writable paths ($r)" ;;
    *) fail "a destination outside the writable paths: $r" ;;
esac
[ -d $home/.local/state/qmgrd/groups ] || fail "no state directory in the home directory"

pid=$(as_user systemctl --user show qmgrd.service -p MainPID --value)
grep -q "^NoNewPrivs:[[:space:]]*1$" /proc/$pid/status || fail "no_new_privs is not set"
grep -q "^Seccomp:[[:space:]]*2$" /proc/$pid/status || fail "no seccomp filter"
grep -q "^CapEff:[[:space:]]*0*$" /proc/$pid/status || fail "has capabilities"
grep -q "^CapBnd:[[:space:]]*0*$" /proc/$pid/status || fail "capability bounding set not empty"
awk "\$5 == \"/\" { print \$6 }" /proc/$pid/mountinfo | grep -q "^ro" || fail "/ is writable"

as_user systemctl --user stop qmgrd.service
state=$(as_user systemctl --user show qmgrd.service -p Result -p ExecMainStatus | tr "\n" " ")
[ "$state" = "Result=success ExecMainStatus=0 " ] || fail "did not stop cleanly: $state"
as_user systemctl --user exit || true
if [ $failures -ne 0 ]; then
    echo "--- qmgrd"; cat $tmp/log/qmgrd.log
    exit 1
fi
'
)
echo "the user unit works, sandboxed"
