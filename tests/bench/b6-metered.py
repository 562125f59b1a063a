#!/usr/bin/python3
"""docs/targets.md B6: the network turns metered during a background transfer.

NetworkManager is python-dbusmock's template on a private system bus (the
daemon's DBUS_SYSTEM_BUS_ADDRESS), as the integration tests run it. One
background group (TransferPolicy left at its default, which excludes metered
networks) downloads a large file from nginx over loopback, nginx's
limit_rate making "full speed" a steady --rate. After --settle s the mock
says Metered=yes; the temp file's size is sampled every ~2 ms: the time from
the mock's PropertiesChanged to the last byte written is the stop time. After
--pause s it says Metered=no again: the time until the rate over
--window-ms reaches 90 % of the rate before the flip is the time back to
full speed. --flips times; the worst of each is the figure.

B6-stop    = Metered=yes → last byte written (worst flip)        <= 0.5 s
B6-resume  = Metered=no → 90 % of the rate before (worst flip)   <= 1 s

Usage:
    /usr/bin/python3 tests/bench/b6-metered.py [--qmgrd build/src/daemon/qmgrd]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qmgrbench as qb  # noqa: E402

from gi.repository import GLib  # noqa: E402


def sample(dest, seconds, out):
    """Appends (monotonic time, bytes) every ~2 ms for @seconds."""
    end = time.monotonic() + seconds
    while True:
        now = time.monotonic()
        out.append((now, qb.part_size(dest)))
        if now >= end:
            return
        time.sleep(0.002)


def rate_between(samples, t0, t1):
    before = [b for t, b in samples if t <= t0]
    after = [b for t, b in samples if t <= t1]
    if not before or not after:
        return 0.0
    return (after[-1] - before[-1]) / (t1 - t0)


def last_growth(samples, since):
    """Time of the last sample whose size grew after @since (or @since)."""
    last, prev = since, None
    for t, b in samples:
        if prev is not None and b > prev and t >= since:
            last = t
        prev = b
    return last


def back_to_speed(samples, since, full, window):
    """The first time after @since from which the rate over the next @window
    s is 90 % of @full or more; None if never."""
    end = samples[-1][0]
    for t, _ in samples:
        if since <= t <= end - window and rate_between(samples, t, t + window) >= 0.9 * full:
            return t
    return None


def first_growth(samples, since):
    prev = None
    for t, b in samples:
        if prev is not None and b > prev and t >= since:
            return t
        prev = b
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmgrd", default=qb.DEFAULT_QMGRD)
    ap.add_argument("--rate", type=int, default=20, help="nginx limit_rate, MiB/s: full speed")
    ap.add_argument("--flips", type=int, default=3)
    ap.add_argument("--settle", type=float, default=3.0, help="s at full speed before each flip")
    ap.add_argument("--pause", type=float, default=2.0, help="s metered")
    ap.add_argument("--window-ms", type=int, default=200, help="rate window for full speed")
    ap.add_argument("--time-limit", type=int, default=600)
    args = ap.parse_args()
    qb.install_guards(args.time_limit)
    window = args.window_ms / 1000

    tmp = qb.tempdir("b6")
    srv, out, ngx = (os.path.join(tmp, d) for d in ("srv", "out", "nginx"))
    for d in (srv, out, ngx):
        os.makedirs(d)
        os.chmod(d, 0o755)
    with open(os.path.join(srv, "big.bin"), "wb") as f:
        f.truncate(16 << 30)        # never finished; zeros cost no disk
    os.chmod(os.path.join(srv, "big.bin"), 0o644)
    nginx = qb.Nginx(srv, ngx, limit_rate=f"{args.rate}m").start()
    dest = os.path.join(out, "big.bin")

    system_bus = qb.PathBus(tmp, name="system")
    nm = qb.NmMock(system_bus, tmp, metered=qb.NM_METERED_NO)
    bus = qb.Bus()
    daemon = qb.Daemon(os.path.abspath(args.qmgrd), os.path.join(tmp, "state"), bus.address,
                       env={"DBUS_SYSTEM_BUS_ADDRESS": system_bus.address})
    daemon.start()
    qb.wait_enum_groups(bus.conn)
    group, _ = qb.create_transfer(bus.conn, [(nginx.url("big.bin"), dest)])
    qb.call(bus.conn, group, "Group", "ResumeGroup")

    rows = []
    for i in range(args.flips):
        samples = []
        sample(dest, args.settle, samples)
        full = rate_between(samples, samples[-1][0] - 2.0, samples[-1][0])
        t_flip = time.monotonic()
        nm.set_metered(qb.NM_METERED_YES)
        call_s = time.monotonic() - t_flip
        sample(dest, args.pause, samples)
        stopped = last_growth(samples, t_flip) - t_flip
        reason = qb.get_prop(bus.conn, group, "Group", "WaitReason")
        t_back = time.monotonic()
        nm.set_metered(qb.NM_METERED_NO)
        sample(dest, 3.0, samples)
        back = back_to_speed(samples, t_back, full, window)
        first = first_growth(samples, t_back)
        rows.append((full, stopped, call_s, reason, None if first is None else first - t_back,
                     None if back is None else back - t_back))

    qb.call(bus.conn, group, "Group", "CancelGroup")
    daemon.stop()
    nm.stop()
    nginx.stop()

    print(f"\n### B6: metered flips during a background transfer at {args.rate} MiB/s\n")
    print("| flip | rate before | Metered=yes → last byte | (the flip call's own time) | WaitReason then "
          f"| Metered=no → first byte | → 90 % of the rate before, over {args.window_ms} ms |")
    print("|---|---|---|---|---|---|---|")
    for i, (full, stopped, call_s, reason, first, back) in enumerate(rows, 1):
        shown = "never" if back is None else f"{back * 1000:.0f} ms"
        first_shown = "never" if first is None else f"{first * 1000:.0f} ms"
        print(f"| {i} | {full / 1048576:.1f} MiB/s | {stopped * 1000:.0f} ms | {call_s * 1000:.1f} ms "
              f"| {reason} | {first_shown} | {shown} |")
    print()
    print("A stop time of 0 ms means no byte was written after the call that flipped the mock had")
    print("returned: the stop came within that call's own time (the mock sends PropertiesChanged")
    print("before it replies). The figures below are bounds: the stop time or the call's time,")
    print("whichever is longer; full speed no earlier than the first byte.\n")
    worst_stop = max(max(r[1], r[2]) for r in rows)
    backs = [None if r[5] is None else max(r[4], r[5]) for r in rows]
    worst_back = None if None in backs else max(backs)
    print(qb.verdict("B6-stop", worst_stop, 0.5, fmt="{:.3f}s"))
    print(qb.verdict("B6-resume", worst_back, 1.0, fmt="{:.3f}s"))


if __name__ == "__main__":
    try:
        main()
    except qb.BenchTimeout as e:
        sys.exit(f"FAIL B6 {e}")
