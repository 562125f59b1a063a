#!/usr/bin/python3
"""docs/targets.md B2 and B2b: one job of 2,000 files × 16 KiB from nginx over
loopback, every tool at 16 concurrent transfers, side by side in one run.

qmgrd:  one group, one job holding all the files, MaxConcurrentTransfers = 16;
        timed from ResumeGroup until the group is COMPLETE (every file fsynced,
        renamed into place, its directory fsynced, the store updated), as the
        group's PropertiesChanged tells. With --file-signals the harness also
        decodes the OnStatus sent for each file (the daemon sends them either
        way), which costs it CPU the peers' runs do not share.
aria2c: `aria2c -j16 -i LIST -d DIR` then `sync -f DIR`.
curl:   `curl -Z --parallel-max 16 -K CONFIG` (url/output pairs) then `sync -f DIR`.

B2  = median qmgrd wall / median aria2c wall    ≤ 0.80
B2b = median qmgrd wall / median curl wall      ≤ 1.00

Rounds rotate the order of the three tools; the median of --runs is taken.
Every output file's sha256 is checked. The outputs go to a fresh ext4 made for
the run on a loop device (--fs loop, the default as root; qmgrbench.LoopFs),
and are removed only at the end: ext4 without a journal (this machine's root)
skips inodes freed in the last minutes when it allocates one, reading each
from the inode table, so files deleted earlier (between rounds, or by the
previous benchmark's cleanup) made whichever tool's directory landed near
them pay for scanning past them: up to two thirds of a tool's CPU in a round,
and times that moved 3x between runs. --fs tmp writes to the temp dir.

Usage:
    /usr/bin/python3 tests/bench/b2-many.py [--qmgrd build/src/daemon/qmgrd] [--files 2000] [--file-size 16384] [--runs 3] [--file-signals] [--fs loop|tmp]
"""
import argparse
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qmgrbench as qb  # noqa: E402

from gi.repository import GLib  # noqa: E402

CONCURRENCY = 16


def check_outputs(out_dir, names, shas):
    for n in names:
        with open(os.path.join(out_dir, n), "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != shas[n]:
                sys.exit(f"FAIL: {out_dir}/{n} differs from the source (sha256)")
    extra = set(os.listdir(out_dir)) - set(names)
    if extra:
        sys.exit(f"FAIL: {out_dir} holds unexpected files: {sorted(extra)[:5]}")


def run_qmgrd(conn, daemon, nginx, names, out_dir, timeout_s, file_signals):
    group, _ = qb.create_transfer(conn, [(nginx.url(n), os.path.join(out_dir, n)) for n in names])
    watch = qb.CompletionWatch(conn, group, file_signals)
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
    # Completed groups stay in the store; cancel so the next run starts alike.
    qb.call(conn, group, "Group", "CancelGroup")
    return wall, cpu


def run_aria2(nginx, names, out_dir, work, timeout_s):
    lst = os.path.join(work, "aria2.list")
    with open(lst, "w") as f:
        for n in names:
            f.write(nginx.url(n) + "\n")
    qb.drop_dirty()
    t0 = time.monotonic()
    _, cpu = qb.run_timed(["aria2c", f"-j{CONCURRENCY}", "-i", lst, "-d", out_dir, "-q",
                           "--allow-overwrite=true", "--auto-file-renaming=false"], timeout_s)
    _, cpu2 = qb.run_timed(["sync", "-f", out_dir], timeout_s)
    return time.monotonic() - t0, cpu + cpu2


def run_curl(nginx, names, out_dir, work, timeout_s):
    cfg = os.path.join(work, "curl.config")
    with open(cfg, "w") as f:
        for n in names:
            f.write(f'url = "{nginx.url(n)}"\noutput = "{os.path.join(out_dir, n)}"\n')
    qb.drop_dirty()
    t0 = time.monotonic()
    _, cpu = qb.run_timed(["curl", "-sS", "--no-progress-meter", "-Z", "--parallel-max", str(CONCURRENCY), "-K", cfg],
                          timeout_s)
    _, cpu2 = qb.run_timed(["sync", "-f", out_dir], timeout_s)
    return time.monotonic() - t0, cpu + cpu2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmgrd", default=qb.DEFAULT_QMGRD)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--file-size", type=int, default=16384)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--time-limit", type=int, default=3000, help="whole benchmark, seconds")
    ap.add_argument("--file-signals", action="store_true",
                    help="the harness also listens to each file's OnStatus")
    ap.add_argument("--fs", choices=("loop", "tmp"), default="loop",
                    help="where the outputs go: a fresh ext4 on a loop device (root), or the "
                         "temp dir")
    args = ap.parse_args()
    qb.install_guards(args.time_limit)

    tmp = qb.tempdir("b2")
    out_base = tmp
    if args.fs == "loop":
        # Every output of every round, with room to spare.
        need_mib = 3 * args.runs * args.files * (args.file_size + 4096) // (1 << 20)
        out_base = qb.LoopFs(tmp, max(256, 2 * need_mib)).mount() or tmp
    where = "a fresh ext4" if out_base != tmp else "the temp dir"
    print(f"outputs on {where}", file=sys.stderr)
    srv, ngx = os.path.join(tmp, "srv"), os.path.join(tmp, "nginx")
    for d in (srv, ngx):
        os.makedirs(d)
        os.chmod(d, 0o755)
    names = [f"f{i:05d}.bin" for i in range(args.files)]
    shas = {n: qb.make_random_file(os.path.join(srv, n), args.file_size) for n in names}
    nginx = qb.Nginx(srv, ngx).start()
    qb.run_timed(["curl", "-sS", "-o", "/dev/null", nginx.url(names[0])], 60)

    bus = qb.Bus()
    daemon = qb.Daemon(os.path.abspath(args.qmgrd), os.path.join(tmp, "state"), bus.address)
    daemon.start()
    qb.wait_enum_groups(bus.conn)
    qb.set_prop(bus.conn, qb.MANAGER, "Manager", "MaxConcurrentTransfers",
                GLib.Variant("u", CONCURRENCY))

    timeout_s = 900
    walls = {"qmgrd": [], "aria2c": [], "curl": []}
    cpus = {"qmgrd": [], "aria2c": [], "curl": []}
    orders = [("qmgrd", "aria2c", "curl"), ("curl", "qmgrd", "aria2c"), ("aria2c", "curl", "qmgrd")]
    try:
        for r in range(args.runs):
            for who in orders[r % 3]:
                out_dir = os.path.join(out_base, f"out-{who}-{r}")
                os.makedirs(out_dir)
                if who == "qmgrd":
                    w, c = run_qmgrd(bus.conn, daemon, nginx, names, out_dir, timeout_s, args.file_signals)
                elif who == "aria2c":
                    w, c = run_aria2(nginx, names, out_dir, tmp, timeout_s)
                else:
                    w, c = run_curl(nginx, names, out_dir, tmp, timeout_s)
                walls[who].append(w)
                cpus[who].append(c)
                check_outputs(out_dir, names, shas)
        daemon.stop()
    except GLib.Error as e:
        sys.exit(f"D-Bus error: {e.message}")
    finally:
        nginx.stop()
        bus.down()

    med = qb.median
    b2 = med(walls["qmgrd"]) / med(walls["aria2c"])
    b2b = med(walls["qmgrd"]) / med(walls["curl"])
    fmt = lambda xs: ", ".join(f"{x:.3f}" for x in xs)  # noqa: E731
    print(f"| {args.files} files × {args.file_size} B, 16 at a time, {args.runs} runs, outputs "
          f"on {where} | wall, runs (s) | wall, median (s) | files/s | CPU user+sys, median (s) | qmgrd / this |")
    print("|---|---|---|---|---|---|")
    for who, label in (("qmgrd", "qmgrd (ResumeGroup → COMPLETE)"),
                       ("aria2c", "`aria2c -j16 -i list` + `sync -f`"),
                       ("curl", "`curl -Z --parallel-max 16 -K cfg` + `sync -f`")):
        m = med(walls[who])
        print(f"| {label} | {fmt(walls[who])} | {m:.3f} | {args.files / m:.0f} | "
              f"{med(cpus[who]):.3f} | {med(walls['qmgrd']) / m:.3f} |")
    print(qb.verdict("B2", b2, 0.80))
    print(qb.verdict("B2b", b2b, 1.00))


if __name__ == "__main__":
    main()
