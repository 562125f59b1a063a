#!/usr/bin/python3
"""TARGETS.md B4: qmgrd restarted with 10,000 groups in its store.

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
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from gi.repository import Gio, GLib

BUS_NAME = "io.github.qmgrd.QMgr1"
MANAGER = "/io/github/qmgrd/QMgr1"
IFACE = "io.github.qmgrd.QMgr1."


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Daemon:
    def __init__(self, binary, state_dir, bus_address):
        self.binary, self.state_dir, self.bus_address = binary, state_dir, bus_address
        self.proc = None

    def start(self):
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.bus_address)
        t0 = time.monotonic()
        self.proc = subprocess.Popen([self.binary, "--state-dir", self.state_dir], env=env)
        return t0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        if code != 0:
            sys.exit(f"qmgrd exited with {code}")


def wait_enum_groups(conn, deadline_s=30):
    """Call EnumGroups until the daemon answers; return the group ids."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            reply = conn.call_sync(BUS_NAME, MANAGER, IFACE + "Manager", "EnumGroups",
                                   GLib.Variant("(u)", (0,)), GLib.VariantType("(as)"),
                                   Gio.DBusCallFlags.NO_AUTO_START, 30000, None)
            return reply.unpack()[0]
        except GLib.Error as e:
            if "ServiceUnknown" not in str(e) and "NameHasNoOwner" not in str(e):
                raise
            # Wait for the name to appear rather than spin.
            ctx = GLib.MainContext.default()
            appeared = []
            wid = Gio.bus_watch_name_on_connection(conn, BUS_NAME, Gio.BusNameWatcherFlags.NONE,
                                                   lambda *a: appeared.append(1), None)
            tid = GLib.timeout_add(max(1, int((end - time.monotonic()) * 1000)),
                                   lambda: appeared.append(0) or False)
            while not appeared:
                ctx.iteration(True)
            Gio.bus_unwatch_name(wid)
            if appeared[0]:
                GLib.source_remove(tid)
    sys.exit("qmgrd did not answer EnumGroups in time")


def fill(conn, n_groups, files_dir, in_flight=64):
    """Creates n_groups through the daemon with up to in_flight calls pending."""
    loop = GLib.MainLoop()
    state = {"started": 0, "done": 0, "pending": 0, "error": None}

    def call(path, iface, method, args, sig, cb):
        state["pending"] += 1
        conn.call(BUS_NAME, path, IFACE + iface, method, args, GLib.VariantType(sig),
                  Gio.DBusCallFlags.NONE, 60000, None, lambda c, r, *_: cb(c, r))

    def finished(res_conn, res):
        state["pending"] -= 1
        try:
            return res_conn.call_finish(res).unpack()
        except GLib.Error as e:
            state["error"] = e
            loop.quit()
            return None

    def start_one():
        i = state["started"]
        state["started"] += 1

        def on_set(c, res):
            if finished(c, res) is None and state["error"]:
                return
            state["done"] += 1
            pump()

        def on_files(c, res, group):
            finished(c, res)
            call(group, "Group", "SetProp",
                 GLib.Variant("(uv)", (11, GLib.Variant("s", f"bench group {i}"))), "()", on_set)

        def on_job(c, res, group):
            out = finished(c, res)
            if out is None:
                return
            call(out[0], "Job", "AddFiles",
                 GLib.Variant("(a(sst))", ([(f"http://127.0.0.1:9/f{i}", f"{files_dir}/f{i}", 16384)],)),
                 "()", lambda c2, r2: on_files(c2, r2, group))

        def on_group(c, res):
            out = finished(c, res)
            if out is None:
                return
            call(out[0], "Group", "CreateJob", GLib.Variant("(s)", ("",)), "(o)",
                 lambda c2, r2: on_job(c2, r2, out[0]))

        call(MANAGER, "Manager", "CreateGroup", GLib.Variant("(s)", ("",)), "(o)", on_group)

    def pump():
        while state["pending"] < in_flight and state["started"] < n_groups:
            start_one()
        if state["done"] == n_groups:
            loop.quit()

    GLib.idle_add(lambda: pump() or False)
    loop.run()
    if state["error"]:
        sys.exit(f"filling failed: {state['error']}")


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
