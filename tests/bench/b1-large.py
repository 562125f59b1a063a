#!/usr/bin/python3
"""docs/targets.md B1 and B1c: one large file (2 GiB) from nginx over loopback.

qmgrd (ResumeGroup → the group is COMPLETE, which includes its fsync, rename and
directory fsync) against `curl -o FILE URL` followed by `sync FILE` (the same
durability), side by side in one run, rounds in ABBA order, median of --runs.

B1  = median qmgrd wall / median (curl + sync) wall                ≤ 1.05
B1c = median qmgrd CPU / median curl CPU                           ≤ 1.10
      qmgrd CPU: user+sys of the daemon from /proc/PID/stat around the
      transfer (its fsync included); curl CPU: user+sys of curl and of the
      `sync FILE` that does the same fsync (rusage of both children).
      The curl-alone ratio is printed beside it.

nginx: config in a temp dir, random loopback port, sendfile on, no access log.
Every output's sha256 is checked against the source's.

--warmup rounds (default 1) run both tools first and are not counted: the
first 2 GiB written after the source makes the kernel take pages this VM has
not touched before, whose first touch costs the host's page faults (the first
timed round, whoever ran it, took 1.5-2x the CPU of the others).

Usage:
    /usr/bin/python3 tests/bench/b1-large.py [--qmgrd build/src/daemon/qmgrd] [--size 2G] [--runs 3] [--warmup 1]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qmgrbench as qb  # noqa: E402

from gi.repository import GLib  # noqa: E402


def parse_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().rstrip("IB")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def run_qmgrd(conn, daemon, url, dest, timeout_s):
    group, _ = qb.create_transfer(conn, [(url, dest)])
    watch = qb.CompletionWatch(conn, group)
    qb.drop_dirty()
    cpu0 = daemon.cpu_s()
    t0 = time.monotonic()
    qb.call(conn, group, "Group", "ResumeGroup")
    if not watch.wait(timeout_s):
        raise qb.BenchTimeout("qmgrd did not complete the group in time")
    wall = watch.done_at - t0
    cpu = daemon.cpu_s() - cpu0
    watch.close()
    if not watch.status & qb.GROUP_COMPLETE:
        sys.exit(f"qmgrd group ended in status {watch.status:#x}")
    return wall, cpu


def run_curl(url, dest, timeout_s):
    qb.drop_dirty()
    t0 = time.monotonic()
    w_curl, cpu_curl = qb.run_timed(["curl", "-sS", "-o", dest, url], timeout_s)
    w_sync, cpu_sync = qb.run_timed(["sync", dest], timeout_s)
    return time.monotonic() - t0, cpu_curl, cpu_curl + cpu_sync, (w_curl, w_sync)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmgrd", default=qb.DEFAULT_QMGRD)
    ap.add_argument("--size", default="2G", help="file size, e.g. 2G, 256M (default 2G)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1, help="uncounted rounds of both tools first")
    ap.add_argument("--time-limit", type=int, default=1800, help="whole benchmark, seconds")
    args = ap.parse_args()
    size = parse_size(args.size)
    qb.install_guards(args.time_limit)

    tmp = qb.tempdir("b1")
    srv, out, ngx = (os.path.join(tmp, d) for d in ("srv", "out", "nginx"))
    for d in (srv, out, ngx):
        os.makedirs(d)
        os.chmod(d, 0o755)
    src_sha = qb.make_random_file(os.path.join(srv, "big.bin"), size)
    nginx = qb.Nginx(srv, ngx).start()
    url = nginx.url("big.bin")
    # Warm the page cache of the source and the loopback path once.
    qb.run_timed(["curl", "-sS", "-o", "/dev/null", url], 600)

    bus = qb.Bus()
    daemon = qb.Daemon(os.path.abspath(args.qmgrd), os.path.join(tmp, "state"), bus.address)
    daemon.start()
    qb.wait_enum_groups(bus.conn)

    per_run_timeout = max(120, size / (20 << 20))   # never slower than 20 MiB/s
    q_wall, q_cpu, c_wall, c_cpu, cs_cpu, c_parts = [], [], [], [], [], []
    try:
        for r in range(-args.warmup, args.runs):
            order = ("q", "c") if r % 2 == 0 else ("c", "q")
            counted = r >= 0
            for who in order:
                if who == "q":
                    dest = os.path.join(out, f"qmgrd-{r}.bin")
                    w, c = run_qmgrd(bus.conn, daemon, url, dest, per_run_timeout)
                    if counted:
                        q_wall.append(w)
                        q_cpu.append(c)
                else:
                    dest = os.path.join(out, f"curl-{r}.bin")
                    w, c, cs, parts = run_curl(url, dest, per_run_timeout)
                    if counted:
                        c_parts.append(parts)
                        c_wall.append(w)
                        c_cpu.append(c)
                        cs_cpu.append(cs)
                if not counted:
                    print(f"warm-up {who}: {w:.3f} s, CPU {c:.3f} s", file=sys.stderr)
                if os.path.getsize(dest) != size or qb.sha256_file(dest) != src_sha:
                    sys.exit(f"FAIL: {dest} differs from the source (sha256)")
                os.unlink(dest)
        daemon.stop()
    except GLib.Error as e:
        sys.exit(f"D-Bus error: {e.message}")
    finally:
        nginx.stop()
        bus.down()

    med = qb.median
    b1 = med(q_wall) / med(c_wall)
    b1c = med(q_cpu) / med(cs_cpu)
    b1c_alone = med(q_cpu) / med(c_cpu) if med(c_cpu) > 0 else float("inf")
    mib = size / (1 << 20)
    fmt = lambda xs: ", ".join(f"{x:.3f}" for x in xs)  # noqa: E731
    print(f"| measure ({mib:.0f} MiB over loopback, {args.runs} runs after {args.warmup} warm-up, ABBA order) | qmgrd | curl -o + sync FILE | ratio |")
    print("|---|---|---|---|")
    print(f"| wall, runs (s) | {fmt(q_wall)} | {fmt(c_wall)} | |")
    print(f"| wall, median (s) | {med(q_wall):.3f} | {med(c_wall):.3f} | **{b1:.3f}** |")
    print(f"| of which curl / sync FILE, median (s) | | {med([p[0] for p in c_parts]):.3f} / "
          f"{med([p[1] for p in c_parts]):.3f} | |")
    print(f"| throughput, median (MiB/s) | {mib / med(q_wall):.0f} | {mib / med(c_wall):.0f} | |")
    print(f"| CPU user+sys, runs (s) | {fmt(q_cpu)} | {fmt(cs_cpu)} | |")
    print(f"| CPU user+sys, median (s) | {med(q_cpu):.3f} | {med(cs_cpu):.3f} | **{b1c:.3f}** |")
    print(f"| CPU, curl alone without its sync, median (s) | | {med(c_cpu):.3f} | {b1c_alone:.3f} |")
    print(f"| sha256 of every output | equal | equal | |")
    print(qb.verdict("B1", b1, 1.05))
    print(qb.verdict("B1c", b1c, 1.10))


if __name__ == "__main__":
    main()
