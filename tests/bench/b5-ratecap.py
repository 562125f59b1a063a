#!/usr/bin/python3
"""docs/targets.md B5: a rate cap of 4 MiB/s on a 200 MiB file.

One group with one 200 MiB file from nginx over loopback, the group's
BandwidthLimit at --rate; beside it in the same run curl --limit-rate and
aria2c --max-download-limit at the same rate (aria2 with no disk cache and no
preallocation, so that its file grows as bytes arrive). Each output file's
size is sampled every ~10 ms; from its first byte, over --seconds:

B5-mean    = |bytes / seconds - rate| / rate                      <= 3 %
B5-window  = the worst of |bytes in [t, t+1 s] - rate| / rate,
             t every 50 ms                                        <= 10 %

(curl's and aria2's figures are printed beside.)

Usage:
    /usr/bin/python3 tests/bench/b5-ratecap.py [--qmgrd build/src/daemon/qmgrd] [--rate 4M] [--seconds 20]
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qmgrbench as qb  # noqa: E402

from gi.repository import GLib  # noqa: E402

SIZE = 200 << 20


def watch(path, seconds, proc=None):
    """[(monotonic time, bytes)] from the first byte for @seconds (and a
    little more), sampled every ~10 ms."""
    samples, first, deadline = [], None, time.monotonic() + 30
    while True:
        now = time.monotonic()
        size = qb.part_size(path)
        samples.append((now, size))
        if first is None and size > 0:
            first = now
        if first is not None and now > first + seconds + 0.2:
            return samples, first
        if first is None and now > deadline:
            raise qb.BenchTimeout(f"no byte of {path} in 30 s")
        if proc is not None and proc.poll() is not None and proc.returncode != 0:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        time.sleep(0.01)


def bytes_at(samples, t):
    """Bytes at time @t, interpolated between the samples around it."""
    prev = samples[0]
    for s in samples:
        if s[0] >= t:
            if s[0] == prev[0]:
                return s[1]
            return prev[1] + (s[1] - prev[1]) * (t - prev[0]) / (s[0] - prev[0])
        prev = s
    return samples[-1][1]


def figures(samples, first, seconds, rate):
    """Mean rate, its error, the worst 1-s window's error, and the worst
    after the first 2 s (a start-up burst aside)."""
    total = bytes_at(samples, first + seconds) - bytes_at(samples, first)
    mean = total / seconds
    worst = later = 0.0
    t = first
    while t + 1.0 <= first + seconds + 1e-9:
        got = bytes_at(samples, t + 1.0) - bytes_at(samples, t)
        worst = max(worst, abs(got - rate) / rate)
        if t >= first + 2.0:
            later = max(later, abs(got - rate) / rate)
        t += 0.05
    return mean, abs(mean - rate) / rate, worst, later


def run_qmgrd(args, bus, daemon, url, dest, rate):
    group, _ = qb.create_transfer(bus.conn, [(url, dest)])
    qb.set_prop(bus.conn, group, "Group", "BandwidthLimit", GLib.Variant("t", rate))
    qb.call(bus.conn, group, "Group", "ResumeGroup")
    samples, first = watch(dest, args.seconds)
    qb.call(bus.conn, group, "Group", "CancelGroup")
    return samples, first


def run_tool(argv, dest, seconds):
    p = qb.track(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        return watch(dest, seconds, p)
    finally:
        p.kill()
        p.wait()
        qb.untrack(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmgrd", default=qb.DEFAULT_QMGRD)
    ap.add_argument("--rate", default="4M", help="the cap, bytes/s (K, M: binary)")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--time-limit", type=int, default=600)
    args = ap.parse_args()
    qb.install_guards(args.time_limit)
    units = {"K": 1 << 10, "M": 1 << 20}
    rate = int(float(args.rate[:-1]) * units[args.rate[-1]]) if args.rate[-1] in units else int(args.rate)

    tmp = qb.tempdir("b5")
    srv, ngx = os.path.join(tmp, "srv"), os.path.join(tmp, "nginx")
    for d in (srv, ngx):
        os.makedirs(d)
        os.chmod(d, 0o755)
    qb.make_random_file(os.path.join(srv, "file.bin"), SIZE)
    nginx = qb.Nginx(srv, ngx).start()
    url = nginx.url("file.bin")

    bus = qb.Bus()
    daemon = qb.Daemon(os.path.abspath(args.qmgrd), os.path.join(tmp, "state"), bus.address)
    daemon.start()
    qb.wait_enum_groups(bus.conn)

    results = []
    out = os.path.join(tmp, "qmgrd")
    os.makedirs(out)
    results.append(("qmgrd (group BandwidthLimit)",
                    run_qmgrd(args, bus, daemon, url, os.path.join(out, "file.bin"), rate)))
    out = os.path.join(tmp, "curl")
    os.makedirs(out)
    results.append((f"curl --limit-rate {rate}",
                    run_tool(["curl", "-s", "--limit-rate", str(rate), "-o", os.path.join(out, "file.bin"), url],
                             os.path.join(out, "file.bin"), args.seconds)))
    out = os.path.join(tmp, "aria2")
    os.makedirs(out)
    results.append((f"aria2c --max-download-limit={rate}",
                    run_tool(["aria2c", "-q", f"--max-download-limit={rate}", "--file-allocation=none",
                              "--disk-cache=0", "-x1", "-s1", "--allow-overwrite=true",
                              "-d", out, "-o", "file.bin", url],
                             os.path.join(out, "file.bin"), args.seconds)))
    daemon.stop()
    nginx.stop()

    print(f"\n### B5: a cap of {rate} bytes/s, {args.seconds:.0f} s from the first byte\n")
    print("| tool | mean rate (MiB/s) | mean error | worst 1-s window error | the same after the first 2 s |")
    print("|---|---|---|---|---|")
    verdicts = []
    for name, (samples, first) in results:
        mean, err, worst, later = figures(samples, first, args.seconds, rate)
        print(f"| {name} | {mean / 1048576:.3f} | {err:.2%} | {worst:.2%} | {later:.2%} |")
        if name.startswith("qmgrd"):
            verdicts.append(qb.verdict("B5-mean", err * 100, 3.0, fmt="{:.2f}%"))
            verdicts.append(qb.verdict("B5-window", worst * 100, 10.0, fmt="{:.2f}%"))
        else:
            verdicts.append(f"INFO B5-{name.split()[0]} mean {err:.2%}, worst window {worst:.2%}")
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    try:
        main()
    except qb.BenchTimeout as e:
        sys.exit(f"FAIL B5 {e}")
