#!/usr/bin/python3
"""docs/targets.md B7: 1,000 groups queued and blocked by cost, nothing
transferring, for 60 s.

NetworkManager is python-dbusmock's template on a private system bus and says
Metered=yes from the start. --groups background groups of one file each are
created and resumed (their default TransferPolicy excludes metered networks:
they wait with WaitReason "metered"). After --settle s (the journal is folded
30 s after its first record, the heap trimmed 5 s after the last request) the
daemon is watched for --seconds: strace -f counts the returns of every
waiting call of the poll family in all its threads, and /proc gives its CPU.

B7-wakeups = poll-family returns in --seconds          <= 2
B7-cpu     = the daemon's CPU over --seconds, percent  0.0 (10 ms clock ticks:
                                                        under 0.05 %)

Usage:
    /usr/bin/python3 tests/bench/b7-idle.py [--qmgrd build/src/daemon/qmgrd] [--groups 1000]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qmgrbench as qb  # noqa: E402

from gi.repository import Gio, GLib  # noqa: E402

WAITS = "poll,ppoll,epoll_wait,epoll_pwait,epoll_pwait2,select,pselect6"
COST_UNRESTRICTED = 0x1


def group_path(group_id):
    return f"{qb.MANAGER}/group/{group_id.replace('-', '')}"


def resume_all(conn, paths, in_flight=64):
    loop = GLib.MainLoop()
    state = {"next": 0, "pending": 0, "done": 0, "error": None}

    def on_reply(c, res, *_):
        state["pending"] -= 1
        try:
            c.call_finish(res)
        except GLib.Error as e:
            state["error"] = e
        state["done"] += 1
        pump()

    def pump():
        while state["pending"] < in_flight and state["next"] < len(paths):
            path = paths[state["next"]]
            state["next"] += 1
            state["pending"] += 1
            conn.call(qb.BUS_NAME, path, qb.IFACE + "Group", "ResumeGroup", None, None,
                      Gio.DBusCallFlags.NONE, 120000, None, on_reply)
        if state["done"] == len(paths):
            loop.quit()

    GLib.idle_add(lambda: pump() or False)
    loop.run()
    if state["error"]:
        sys.exit(f"ResumeGroup failed: {state['error']}")


def count_wakeups(lines):
    """Returns of waiting calls: a completed call, or the second half of one
    strace printed in two. The call strace's attach interrupted comes back
    as restart_syscall, which is no wake-up of the daemon's own."""
    n = 0
    for line in lines:
        if "restart_syscall" in line or "ERESTART" in line or "+++" in line or "---" in line:
            continue
        if re.search(r"\)\s+=\s+-?\d+", line):
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmgrd", default=qb.DEFAULT_QMGRD)
    ap.add_argument("--groups", type=int, default=1000)
    ap.add_argument("--settle", type=float, default=40.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--time-limit", type=int, default=900)
    args = ap.parse_args()
    if not shutil.which("strace"):
        sys.exit("B7 needs strace")
    qb.install_guards(args.time_limit)

    tmp = qb.tempdir("b7")
    files = os.path.join(tmp, "files")
    os.makedirs(files)
    system_bus = qb.PathBus(tmp, name="system")
    nm = qb.NmMock(system_bus, tmp, metered=qb.NM_METERED_YES)
    bus = qb.Bus()
    daemon = qb.Daemon(os.path.abspath(args.qmgrd), os.path.join(tmp, "state"), bus.address,
                       env={"DBUS_SYSTEM_BUS_ADDRESS": system_bus.address})
    daemon.start()
    qb.wait_enum_groups(bus.conn)
    end = time.monotonic() + 10
    while qb.get_prop(bus.conn, qb.MANAGER, "Manager", "NetworkCostState") == COST_UNRESTRICTED:
        if time.monotonic() > end:
            sys.exit("the daemon did not see the metered network")
        time.sleep(0.05)

    t0 = time.monotonic()
    qb.fill(bus.conn, args.groups, files)
    ids = qb.wait_enum_groups(bus.conn)
    resume_all(bus.conn, [group_path(g) for g in ids])
    filled_s = time.monotonic() - t0
    reasons = {}
    for g in ids[:: max(1, len(ids) // 20)]:
        r = qb.get_prop(bus.conn, group_path(g), "Group", "WaitReason")
        reasons[r] = reasons.get(r, 0) + 1
    time.sleep(args.settle)

    trace = os.path.join(tmp, "strace.txt")
    cpu0 = daemon.cpu_s()
    st = qb.track(subprocess.Popen(["strace", "-f", "-qq", "-tt", "-e", f"trace={WAITS}", "-o", trace,
                                    "-p", str(daemon.pid)], stderr=subprocess.DEVNULL))
    time.sleep(args.seconds)
    cpu1 = daemon.cpu_s()
    st.send_signal(signal.SIGINT)
    st.wait(timeout=10)
    qb.untrack(st)
    with open(trace) as f:
        lines = [line.rstrip("\n") for line in f]
    wakeups = count_wakeups(lines)
    threads = len(os.listdir(f"/proc/{daemon.pid}/task"))
    daemon.stop()
    nm.stop()

    cpu_pct = (cpu1 - cpu0) / args.seconds * 100
    print(f"\n### B7: {args.groups} groups blocked by cost, {args.seconds:.0f} s watched\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| groups created and resumed | {len(ids)} in {filled_s:.1f} s |")
    print(f"| WaitReason of every {max(1, len(ids) // 20)}th group | "
          + ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) + " |")
    print(f"| settled for | {args.settle:.0f} s |")
    print(f"| daemon threads | {threads} |")
    print(f"| poll-family returns (all threads) | {wakeups} |")
    print(f"| CPU (user+sys) | {cpu1 - cpu0:.2f} s = {cpu_pct:.2f} % |")
    print()
    if lines:
        print("strace lines:\n```")
        print("\n".join(lines[:20]))
        print("```\n")
    print(qb.verdict("B7-wakeups", wakeups, 2, fmt="{}"))
    print(qb.verdict("B7-cpu", round(cpu_pct, 1), 0.0, fmt="{:.1f}%"))


if __name__ == "__main__":
    try:
        main()
    except qb.BenchTimeout as e:
        sys.exit(f"FAIL B7 {e}")
