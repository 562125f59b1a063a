#!/usr/bin/python3
"""docs/targets.md B4: qmgrd restarted with 10,000 groups in its store.

Fills a fresh store through the daemon itself (CreateGroup + CreateJob +
AddFiles(1 file) + SetProp(DisplayName) per group, 64 calls in flight), stops
it, then starts it again three times and measures the time from spawn until
EnumGroups is answered, and the daemon's RSS at that moment.

Runs on a private dbus-daemon. Usage:
    /usr/bin/python3 tests/bench/b4-startup.py [--qmgrd build/src/daemon/qmgrd] [--groups N]
Prints a markdown table and PASS/FAIL lines.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmgrbench import Daemon, fill, rss_kib, wait_enum_groups  # noqa: E402

from gi.repository import Gio  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmgrd", default=os.path.join(os.path.dirname(__file__), "../../build/src/daemon/qmgrd"))
    ap.add_argument("--groups", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="qmgrd-b4-")
    test_bus = Gio.TestDBus.new(Gio.TestDBusFlags.NONE)
    test_bus.up()
    try:
        address = test_bus.get_bus_address()
        conn = Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        files_dir = os.path.join(tmp, "files")
        os.makedirs(files_dir)
        daemon = Daemon(os.path.abspath(args.qmgrd), os.path.join(tmp, "state"), address)

        daemon.start()
        wait_enum_groups(conn)
        t = time.monotonic()
        fill(conn, args.groups, files_dir)
        fill_s = time.monotonic() - t
        daemon.stop()

        times, rss = [], []
        for _ in range(args.runs):
            t0 = daemon.start()
            ids = wait_enum_groups(conn)
            times.append(time.monotonic() - t0)
            rss.append(rss_kib(daemon.proc.pid))
            if len(ids) != args.groups:
                sys.exit(f"expected {args.groups} groups after restart, got {len(ids)}")
            daemon.stop()
    finally:
        test_bus.down()
        shutil.rmtree(tmp, ignore_errors=True)

    t_med = statistics.median(times)
    rss_max = max(rss) / 1024
    print(f"| measure | value |")
    print(f"|---|---|")
    print(f"| groups in the store | {args.groups} |")
    print(f"| filling (4 calls per group, 64 in flight) | {fill_s:.1f} s ({args.groups * 4 / fill_s:.0f} calls/s) |")
    print(f"| start → first EnumGroups answer, runs | {', '.join(f'{x:.3f}' for x in times)} s |")
    print(f"| start → first EnumGroups answer, median | {t_med:.3f} s |")
    print(f"| RSS at that moment, max of runs | {rss_max:.1f} MiB |")
    print(f"{'PASS' if t_med <= 1.0 else 'FAIL'} B4-startup {t_med:.3f}s")
    print(f"{'PASS' if rss_max <= 40 else 'FAIL'} B4-rss {rss_max:.1f}MiB")


if __name__ == "__main__":
    main()
