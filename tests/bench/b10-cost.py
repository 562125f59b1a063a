#!/usr/bin/python3
"""docs/targets.md B10: what one change costs a big group, on disk and in time.

One group of 100,000 files (2,200-byte URLs; 4,095-byte paths, in a directory
tree made under a temp dir so that each path is absolute, normalized, with
components of at most 255 bytes and an existing, writable parent), built
through the daemon in AddFiles calls of 1,000; then AddFiles of 1,000 more
such files, and one SetProp(DisplayName).

For each of those two calls: its reply time, and the bytes the daemon wrote
(write_bytes of /proc/PID/io, all of them to the state directory: the group is
suspended, nothing is downloaded) from just before the call until the journal
it wrote to has been folded. The fold runs 30 s after a journal's first
record, so the window ends 35 s after the reply at the earliest, once the
journal holds no record and the daemon has written nothing for 3 s.

Targets: AddFiles <= 3x the bytes of the URLs and paths it adds; SetProp <=
64 KiB; each reply <= 50 ms (client-side: marshalling the 6 MB AddFiles
message and the bus's copies included). The replies to the build-up's calls,
the same AddFiles into a growing group, are shown too (median, max): one
reply on a shared machine is a noisy figure.

Then the daemon is stopped (its exit folds the journal too) and started
again: the time each takes, the bytes the stop wrote, and that the group came
back with every file and its new name.

Not a meson test: it writes a few GB and takes minutes (the build-up). Runs
on a private dbus-daemon. Usage:
    /usr/bin/python3 tests/bench/b10-cost.py [--qmgrd build/src/daemon/qmgrd]
        [--files 100000] [--added 1000] [--batch 1000]
Prints a markdown table and PASS/FAIL lines.
"""
import argparse
import atexit
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmgrbench import (DEFAULT_QMGRD, MANAGER, Bus, Daemon, BenchTimeout, call,  # noqa: E402
                       get_prop, install_guards, median, tempdir, untrack, verdict,
                       wait_enum_groups)

from gi.repository import GLib  # noqa: E402

URL_LEN = 2200
PATH_LEN = 4095
NAME_MAX = 255
DISPLAYNAME = 11
FOLD_AFTER_S = 35       # the daemon folds 30 s after a journal's first record
QUIET_S = 3


def deep_dir(base, length):
    """A directory under base whose path is exactly length bytes, made of
    components of at most 200 bytes."""
    d = base
    while len(d) < length:
        room = length - len(d) - 1
        n = min(200, room)
        if length - (len(d) + 1 + n) == 1:
            n -= 1      # never leave a single byte: it would need a slash too
        d += "/" + "d" * n
    os.makedirs(d, exist_ok=True)
    return d


class Specs:
    """The (url, path, size hint) of file i: both unique to i, exactly URL_LEN
    and PATH_LEN bytes."""

    def __init__(self, files_base):
        self.dir = deep_dir(files_base, PATH_LEN - 1 - NAME_MAX)

    def url(self, i):
        u = f"http://127.0.0.1:9/{i:08d}/"
        return u + "u" * (URL_LEN - len(u))

    def path(self, i):
        name = f"f{i:08d}"
        return f"{self.dir}/{name}{'p' * (NAME_MAX - len(name))}"

    def batch(self, first, n):
        specs = [(self.url(i), self.path(i), 0) for i in range(first, first + n)]
        text = sum(len(u) + len(p) for u, p, _ in specs)
        assert all(len(u) == URL_LEN and len(p) == PATH_LEN for u, p, _ in specs)
        return GLib.Variant("(a(sst))", (specs,)), text


def write_bytes(pid):
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    raise RuntimeError("no write_bytes in /proc/PID/io (no block I/O accounting?)")


def journal_empty(groups_dir):
    """Whether no journal holds a record (only zeros: the room written
    ahead) and no temp file is left: everything has been folded."""
    for name in os.listdir(groups_dir):
        if name.endswith(".tmp"):
            return False
        if name.startswith("journal.") and len(name) == len("journal.") + 16:
            with open(os.path.join(groups_dir, name), "rb") as f:
                while True:
                    block = f.read(1 << 20)
                    if not block:
                        break
                    if block.count(0) != len(block):
                        return False
    return True


def settle(pid, groups_dir, since, timeout_s=900):
    """Waits until the fold of what was written since `since` is done;
    returns write_bytes then."""
    last, last_change = write_bytes(pid), time.monotonic()
    end = since + timeout_s
    while True:
        time.sleep(0.5)
        now = time.monotonic()
        wb = write_bytes(pid)
        if wb != last:
            last, last_change = wb, now
        if (now - since >= FOLD_AFTER_S and now - last_change >= QUIET_S and
                journal_empty(groups_dir)):
            return wb
        if now > end:
            raise BenchTimeout("the journal was not folded in time")


def group_files(groups_dir):
    """{name: (inode, size)} of the group and parts files."""
    out = {}
    for name in os.listdir(groups_dir):
        if name.endswith(".group") or name.endswith(".parts"):
            st = os.stat(os.path.join(groups_dir, name))
            out[name] = (st.st_ino, st.st_size)
    return out


def measure(daemon, groups_dir, conn, path, iface, method, args):
    """(reply s, bytes written by the reply, bytes written with the fold,
    group and parts files before, after)."""
    before_files = group_files(groups_dir)
    wb0 = write_bytes(daemon.pid)
    t0 = time.monotonic()
    call(conn, path, iface, method, args)
    reply = time.monotonic() - t0
    wb_reply = write_bytes(daemon.pid)
    wb_end = settle(daemon.pid, groups_dir, t0 + reply)
    return reply, wb_reply - wb0, wb_end - wb0, before_files, group_files(groups_dir)


def bus_floor(conn, args, runs=9):
    """Median seconds for the same AddFiles arguments sent to a job that does
    not exist: the message through the bus both ways and the daemon's refusal,
    with no work behind it, the least such a reply can take."""
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        try:
            call(conn, MANAGER + "/job/00000000000000000000000000000000", "Job", "AddFiles", args)
            raise SystemExit("AddFiles on a job that does not exist succeeded")
        except GLib.Error:
            pass
        times.append(time.monotonic() - t0)
    return median(times)


def stop(daemon):
    """SIGTERM; (seconds until it exited, bytes it wrote from the signal on)."""
    wb0 = write_bytes(daemon.pid)
    t0 = time.monotonic()
    daemon.proc.terminate()
    # Not reaped yet: its /proc/PID/io still holds what it wrote.
    os.waitid(os.P_PID, daemon.pid, os.WEXITED | os.WNOWAIT)
    took = time.monotonic() - t0
    try:
        wrote = write_bytes(daemon.pid) - wb0
    except (OSError, RuntimeError):
        wrote = None
    code = daemon.proc.wait(timeout=60)
    untrack(daemon.proc)
    if code != 0:
        sys.exit(f"qmgrd exited with {code}")
    return took, wrote


def describe(files):
    return ", ".join(f"{n[-6:] if n.endswith('.parts') else 'group file'} {s:,} B"
                     for n, (_, s) in sorted(files.items())) or "none"


def rewritten(before, after):
    return any(n.endswith(".group") and n in before and before[n][0] != ino
               for n, (ino, _) in after.items())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmgrd", default=DEFAULT_QMGRD)
    ap.add_argument("--files", type=int, default=100000)
    ap.add_argument("--added", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    install_guards(3 * 3600)

    tmp = tempdir("b10")
    state = os.path.join(tmp, "state")
    groups_dir = os.path.join(state, "groups")
    conf = os.path.join(tmp, "qmgrd.conf")
    with open(conf, "w") as f:
        f.write(f"[Manager]\nMaxFilesPerJob={args.files + args.added}\n")
    specs = Specs(os.path.join(tmp, "files"))

    bus = Bus()
    conn = bus.conn
    daemon = Daemon(os.path.abspath(args.qmgrd), state, bus.address, ["--config", conf])
    # Run before the temp dir's removal (atexit runs the last registered first).
    atexit.register(lambda: daemon.proc.poll() is None and daemon.kill9())
    daemon.start()
    wait_enum_groups(conn)

    group = call(conn, MANAGER, "Manager", "CreateGroup", GLib.Variant("(s)", ("",)), "(o)")[0]
    job = call(conn, group, "Group", "CreateJob", GLib.Variant("(s)", ("",)), "(o)")[0]
    t = time.monotonic()
    wb0 = write_bytes(daemon.pid)
    build_replies = []
    for first in range(0, args.files, args.batch):
        v, _ = specs.batch(first, min(args.batch, args.files - first))
        t_call = time.monotonic()
        call(conn, job, "Job", "AddFiles", v)
        build_replies.append(time.monotonic() - t_call)
        if (first // args.batch) % 10 == 9:
            print(f"  {first + args.batch:,} files, {time.monotonic() - t:.0f} s", file=sys.stderr)
    build_s = time.monotonic() - t
    build_wb = settle(daemon.pid, groups_dir, time.monotonic()) - wb0
    built = group_files(groups_dir)

    v, added_text = specs.batch(args.files, args.added)
    add = measure(daemon, groups_dir, conn, job, "Job", "AddFiles", v)
    floor = bus_floor(conn, v)
    v = GLib.Variant("(uv)", (DISPLAYNAME, GLib.Variant("s", "B10 renamed")))
    setp = measure(daemon, groups_dir, conn, group, "Group", "SetProp", v)

    stop_s, stop_wb = stop(daemon)
    stopped = group_files(groups_dir)
    t0 = daemon.start()
    ids = wait_enum_groups(conn)
    start_s = time.monotonic() - t0
    count = get_prop(conn, job, "Job", "FileCount") if len(ids) == 1 else None
    name = get_prop(conn, group, "Group", "DisplayName") if len(ids) == 1 else None
    stop(daemon)
    bus.down()

    total = args.files + args.added
    add_ratio = add[2] / added_text
    print("| measure | value |")
    print("|---|---|")
    print(f"| build-up: {args.files:,} files in AddFiles of {args.batch:,} | {build_s:.0f} s, "
          f"{build_wb / 1e9:.2f} GB written; then {describe(built)} |")
    print(f"| … replies to those AddFiles: median, max | {median(build_replies) * 1000:.0f} ms, "
          f"{max(build_replies) * 1000:.0f} ms |")
    print(f"| AddFiles of {args.added:,} ({added_text:,} B of URLs and paths): reply | "
          f"{add[0] * 1000:.1f} ms |")
    print(f"| … bytes written by the reply; with the fold | {add[1]:,} B; {add[2]:,} B "
          f"({add_ratio:.2f} x the URLs and paths) |")
    print(f"| … group file written anew by the fold | {'yes' if rewritten(add[3], add[4]) else 'no'}"
          f"; then {describe(add[4])} |")
    print(f"| SetProp(DisplayName): reply | {setp[0] * 1000:.1f} ms |")
    print(f"| … bytes written by the reply; with the fold | {setp[1]:,} B; {setp[2]:,} B |")
    print(f"| … group file written anew by the fold | {'yes' if rewritten(setp[3], setp[4]) else 'no'}"
          f"; then {describe(setp[4])} |")
    print(f"| stop (SIGTERM → exit; its fold included) | {stop_s:.2f} s, "
          f"{'n/a' if stop_wb is None else f'{stop_wb:,} B'} written; then {describe(stopped)} |")
    print(f"| start → first EnumGroups answer | {start_s:.2f} s |")
    print(f"| after the restart: files, name | {count}, {name!r} |")
    ok_back = count == total and name == "B10 renamed"
    print(f"INFO B10-bus-floor {floor * 1000:.1f}ms for the same AddFiles to a job that does not "
          f"exist (the message through the bus and a refusal: no reply can be faster)")
    print(verdict("B10-addfiles-bytes", add_ratio, 3.0, "{:.2f}x"))
    print(verdict("B10-setprop-bytes", setp[2], 64 << 10, "{:,}B"))
    print(verdict("B10-addfiles-reply", add[0] * 1000, 50, "{:.1f}ms"))
    print(verdict("B10-setprop-reply", setp[0] * 1000, 50, "{:.1f}ms"))
    print(f"{'PASS' if ok_back else 'FAIL'} B10-restart {count} files, {name!r}")


if __name__ == "__main__":
    main()
