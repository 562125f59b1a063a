#!/usr/bin/python3
"""docs/targets.md B8: kill -9 every 2 s during a 1 GiB transfer, restart each time.

One group with one 1 GiB file from nginx over loopback. The daemon is killed
with SIGKILL --interval seconds after each start and restarted on the same
state dir, until the group is COMPLETE. nginx logs $bytes_sent and
$body_bytes_sent of every request (a killed connection is logged with what
nginx had written into the socket until then); their sum over the file size
is the figure.

B8       = bytes nginx sent / file size     ≤ 1.02
B8-sha   = destination sha256 equal to the source's

--rate N caps nginx's sending rate (limit_rate, bytes/s) so that a transfer
that loopback would finish in a few seconds spans many kills; 0 (the default)
leaves it uncapped, as the target states.

Usage:
    /usr/bin/python3 tests/bench/b8-kill.py [--qmgrd build/src/daemon/qmgrd] [--size 1G] [--interval 2] [--rate 0]
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmgrd", default=qb.DEFAULT_QMGRD)
    ap.add_argument("--size", default="1G")
    ap.add_argument("--interval", type=float, default=2.0, help="seconds from each start to its kill")
    ap.add_argument("--rate", default="0", help="nginx limit_rate in bytes/s (e.g. 32M); 0: none")
    ap.add_argument("--max-restarts", type=int, default=500)
    ap.add_argument("--time-limit", type=int, default=1800, help="whole benchmark, seconds")
    args = ap.parse_args()
    size, rate = parse_size(args.size), parse_size(args.rate)
    qb.install_guards(args.time_limit)

    tmp = qb.tempdir("b8")
    srv, out, ngx = (os.path.join(tmp, d) for d in ("srv", "out", "nginx"))
    for d in (srv, out, ngx):
        os.makedirs(d)
        os.chmod(d, 0o755)
    src_sha = qb.make_random_file(os.path.join(srv, "big.bin"), size)
    nginx = qb.Nginx(srv, ngx, access_log=True, limit_rate=rate).start()
    dest = os.path.join(out, "big.bin")

    bus = qb.Bus()
    daemon = qb.Daemon(os.path.abspath(args.qmgrd), os.path.join(tmp, "state"), bus.address)
    kills = 0
    alive_s = []
    try:
        t_spawn = daemon.start()
        qb.wait_enum_groups(bus.conn)
        group, _ = qb.create_transfer(bus.conn, [(nginx.url("big.bin"), dest)])
        watch = qb.CompletionWatch(bus.conn, group)
        t_first = time.monotonic()
        qb.call(bus.conn, group, "Group", "ResumeGroup")
        while True:
            left = t_spawn + args.interval - time.monotonic()
            if watch.wait(max(0.0, left)):
                break
            watch.poll()
            if watch.done_at is not None:
                break
            daemon.kill9()
            alive_s.append(time.monotonic() - t_spawn)
            kills += 1
            if kills > args.max_restarts:
                sys.exit(f"FAIL: not complete after {kills} restarts")
            t_spawn = daemon.start()
            qb.wait_enum_groups(bus.conn)
            watch.poll()     # completed just before the kill: no signal comes again
            if watch.done_at is not None:
                break
        total_s = watch.done_at - t_first
        if not watch.status & qb.GROUP_COMPLETE:
            sys.exit(f"FAIL: group ended in status {watch.status:#x}")
        daemon.stop()
    except GLib.Error as e:
        sys.exit(f"D-Bus error: {e.message}")
    finally:
        nginx.stop()
        bus.down()

    lines = nginx.log_lines()
    sent = sum(b for b, _, _ in lines)
    body = sum(b for _, b, _ in lines)
    statuses = {}
    for _, _, s in lines:
        statuses[s] = statuses.get(s, 0) + 1
    ratio = sent / size
    sha_ok = os.path.exists(dest) and qb.sha256_file(dest) == src_sha
    leftovers = [n for n in os.listdir(out) if n != "big.bin"]
    mib = size / (1 << 20)
    print(f"| {mib:.0f} MiB, kill -9 every {args.interval:g} s, nginx rate "
          f"{'uncapped' if not rate else f'{rate / (1 << 20):g} MiB/s'} | value |")
    print("|---|---|")
    print(f"| kills (= restarts) | {kills} |")
    print(f"| requests nginx served (by status) | {len(lines)} "
          f"({', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))}) |")
    print(f"| bytes nginx sent ($bytes_sent) | {sent} |")
    print(f"| body bytes ($body_bytes_sent) | {body} |")
    print(f"| bytes sent / file size | **{ratio:.4f}** |")
    print(f"| wasted per kill | {(body - size) / max(1, kills) / 1024:.0f} KiB |")
    print(f"| ResumeGroup → COMPLETE | {total_s:.1f} s |")
    print(f"| temp files left in the destination dir | {len(leftovers)} |")
    print(f"| destination sha256 | {'equal' if sha_ok else 'DIFFERENT'} |")
    print(qb.verdict("B8", ratio, 1.02, "{:.4f}"))
    print(f"{'PASS' if sha_ok else 'FAIL'} B8-sha256 {'equal' if sha_ok else 'different'}")
    print(f"INFO B8-restarts {kills}")


if __name__ == "__main__":
    main()
