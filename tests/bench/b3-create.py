#!/usr/bin/python3
"""docs/targets.md B3: creating 10,000 groups, 64 calls in flight, against aria2's
JSON-RPC adding 10,000 paused URIs, also 64 in flight, side by side in one run.

qmgrd:  for each group CreateGroup + CreateJob + AddFiles(1 file) +
        SetProp(DISPLAYNAME), one D-Bus connection keeping up to 64 calls
        pending (each reply means "on disk"); a fresh state dir per run.
        The client is tests/bench/b3-client (C, sd-bus), built by meson next
        to the daemon, so that its own CPU (~0.1 s per 10,000 groups) does not
        compete with the daemon and dbus-daemon on a small machine;
        --python-client uses the old GDBus client of this python instead
        (~20 s of CPU per 10,000 groups). Time and client CPU are what the
        client reports for its calls (first call sent to last reply).
bus floor: once, before the runs, b3-client --ping sends 4 x groups
        org.freedesktop.DBus.Peer.Ping calls to the started daemon, 64 in
        flight: what dbus-daemon and the client cost on their own (INFO line).
bus load: once, untimed, b3-client --count-signals creates 500 groups
        receiving every signal qmgrd sends: the messages the bus routes per
        group (4 calls, 4 replies, the contract's signals); at the floor's
        time per message that is what the bus alone needs for B3's groups
        (INFO line): the part of qmgrd's time no daemon could take off.
aria2:  `aria2c --enable-rpc` on a random loopback port; aria2.addUri with
        {"pause": "true", "dir", "out"} per URI over 64 keep-alive HTTP
        connections from this same python (asyncio), one call in flight on
        each; a fresh aria2c per run.

B3 = median qmgrd time / median aria2 time   ≤ 1.00

Usage:
    /usr/bin/python3 tests/bench/b3-create.py [--qmgrd build/src/daemon/qmgrd] [--groups 10000] [--runs 3]
        [--client build/tests/bench/b3-client | --python-client]
"""
import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qmgrbench as qb  # noqa: E402

from gi.repository import GLib  # noqa: E402

IN_FLIGHT = 64


class Aria2:
    def __init__(self, workdir):
        self.port = qb.free_port()
        self.proc = qb.track(subprocess.Popen(
            ["aria2c", "--no-conf", "--enable-rpc", f"--rpc-listen-port={self.port}",
             "--rpc-listen-all=false", "--disable-ipv6", "-q", f"--dir={workdir}",
             "--max-download-result=20000"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))
        end = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > end or self.proc.poll() is not None:
                    sys.exit("aria2c did not start its RPC listener")
                time.sleep(0.02)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        qb.untrack(self.proc)


async def rpc_worker(port, next_call, results):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            req = next_call()
            if req is None:
                return
            body = json.dumps(req).encode()
            writer.write(b"POST /jsonrpc HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\nConnection: keep-alive\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            reply = json.loads(await reader.readexactly(length))
            if status != 200 or "error" in reply:
                raise RuntimeError(f"aria2 answered {status}: {reply}")
            results.append(reply["result"])
    finally:
        writer.close()


async def aria2_add(port, n, files_dir, url_base):
    counter = iter(range(n))

    def next_call():
        i = next(counter, None)
        if i is None:
            return None
        return {"jsonrpc": "2.0", "id": str(i), "method": "aria2.addUri",
                "params": [[f"{url_base}/f{i}"],
                           {"pause": "true", "dir": files_dir, "out": f"f{i}"}]}

    results = []
    await asyncio.gather(*(rpc_worker(port, next_call, results) for _ in range(IN_FLIGHT)))
    return results


async def aria2_call(port, method, params=()):
    out = []
    calls = iter([{"jsonrpc": "2.0", "id": "x", "method": method, "params": list(params)}])
    await rpc_worker(port, lambda: next(calls, None), out)
    return out[0]


def self_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def run_aria2(tmp, n, r):
    files_dir = os.path.join(tmp, f"aria2-files-{r}")
    os.makedirs(files_dir)
    aria2 = Aria2(files_dir)
    try:
        cpu0, client0 = qb.proc_cpu_s(aria2.proc.pid), self_cpu_s()
        t0 = time.monotonic()
        gids = asyncio.run(aria2_add(aria2.port, n, files_dir, "http://127.0.0.1:9"))
        wall = time.monotonic() - t0
        cpu = (qb.proc_cpu_s(aria2.proc.pid) - cpu0, self_cpu_s() - client0)
        stat = asyncio.run(aria2_call(aria2.port, "aria2.getGlobalStat"))
        if len(set(gids)) != n or int(stat["numWaiting"]) != n:
            sys.exit(f"aria2 holds {stat['numWaiting']} waiting downloads, expected {n}")
    finally:
        aria2.stop()
    shutil.rmtree(files_dir, ignore_errors=True)
    return wall, cpu


def default_client(qmgrd):
    """b3-client of the build the daemon comes from, else of the source tree's build/."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.path.join(os.path.dirname(qmgrd), "..", "..", "tests", "bench", "b3-client"),
                  os.path.join(here, "..", "..", "build", "tests", "bench", "b3-client")]
    for c in candidates:
        if os.access(c, os.X_OK):
            return os.path.normpath(c)
    sys.exit("b3-client not found (looked in "
             + ", ".join(os.path.normpath(c) for c in candidates)
             + "): run `ninja -C build` (tests enabled), or pass --client PATH or --python-client")


def run_client(client, address, n, files_dir=None, ping=False, count_signals=False):
    """Runs b3-client; returns its JSON report (wall_s, cpu_s cover the calls only)."""
    argv = [client, "--address", address, "--groups", str(n), "--in-flight", str(IN_FLIGHT)]
    argv += ["--ping"] if ping else ["--dir", files_dir]
    argv += ["--count-signals"] if count_signals else []
    p = qb.track(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE))
    out, _ = p.communicate()
    qb.untrack(p)
    if p.returncode != 0:
        sys.exit(f"{os.path.basename(client)} {'--ping ' if ping else ''}failed (exit code "
                 f"{p.returncode}); its message is above")
    rep = json.loads(out)
    if rep["calls"] != 4 * n:
        sys.exit(f"b3-client made {rep['calls']} calls, expected {4 * n}")
    return rep


def bus_daemon_pid():
    """The dbus-daemon Gio.TestDBus started (a child of this process), or None."""
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                comm, rest = f.read().rsplit(")", 1)
        except OSError:
            continue
        if comm.endswith("(dbus-daemon") and int(rest.split()[1]) == me:
            return int(d)
    return None


def bus_cpu_s(pid):
    return qb.proc_cpu_s(pid) if pid else float("nan")


def ping_floor(binary, client, bus, tmp, n):
    """4n Peer.Ping calls to a started daemon, 64 in flight: (report, daemon CPU, bus CPU)."""
    state = os.path.join(tmp, "state-ping")
    daemon = qb.Daemon(binary, state, bus.address)
    daemon.start()
    qb.wait_enum_groups(bus.conn)
    bus_pid = bus_daemon_pid()
    cpu0, bus0 = daemon.cpu_s(), bus_cpu_s(bus_pid)
    rep = run_client(client, bus.address, n, ping=True)
    cpu, bus_cpu = daemon.cpu_s() - cpu0, bus_cpu_s(bus_pid) - bus0
    daemon.stop()
    shutil.rmtree(state, ignore_errors=True)
    return rep, cpu, bus_cpu


CENSUS_GROUPS = 500


def signal_census(binary, client, bus, tmp):
    """Signals qmgrd sends per group of B3 (untimed, on a fresh daemon)."""
    files_dir = os.path.join(tmp, "census-files")
    state = os.path.join(tmp, "state-census")
    os.makedirs(files_dir)
    daemon = qb.Daemon(binary, state, bus.address)
    daemon.start()
    qb.wait_enum_groups(bus.conn)
    rep = run_client(client, bus.address, CENSUS_GROUPS, files_dir=files_dir, count_signals=True)
    daemon.stop()
    shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(files_dir, ignore_errors=True)
    return rep["signals"] / CENSUS_GROUPS


def run_qmgrd(binary, client, bus, tmp, n, r):
    """client: path of b3-client, or None for the GDBus client of this python."""
    files_dir = os.path.join(tmp, f"qmgrd-files-{r}")
    os.makedirs(files_dir)
    state = os.path.join(tmp, f"state-{r}")
    daemon = qb.Daemon(binary, state, bus.address)
    daemon.start()
    qb.wait_enum_groups(bus.conn)
    qb.drop_dirty()
    bus_pid = bus_daemon_pid()
    cpu0, client0, bus0 = daemon.cpu_s(), self_cpu_s(), bus_cpu_s(bus_pid)
    if client:
        rep = run_client(client, bus.address, n, files_dir=files_dir)
        wall, client_cpu = rep["wall_s"], rep["cpu_s"]
    else:
        t0 = time.monotonic()
        qb.fill(bus.conn, n, files_dir, in_flight=IN_FLIGHT)
        wall = time.monotonic() - t0
        client_cpu = self_cpu_s() - client0
    cpu = (daemon.cpu_s() - cpu0, client_cpu, bus_cpu_s(bus_pid) - bus0)
    ids = qb.wait_enum_groups(bus.conn)
    if len(ids) != n:
        sys.exit(f"qmgrd holds {len(ids)} groups, expected {n}")
    daemon.stop()
    shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(files_dir, ignore_errors=True)
    return wall, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmgrd", default=qb.DEFAULT_QMGRD)
    ap.add_argument("--groups", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--client", help="b3-client binary (default: the one built next to --qmgrd, "
                                     "else build/tests/bench/b3-client)")
    ap.add_argument("--python-client", action="store_true",
                    help="drive qmgrd from this python (GDBus) instead of b3-client; no bus floor")
    ap.add_argument("--time-limit", type=int, default=3000, help="whole benchmark, seconds")
    args = ap.parse_args()
    qb.install_guards(args.time_limit)

    tmp = qb.tempdir("b3")
    bus = qb.Bus()
    binary = os.path.abspath(args.qmgrd)
    client = None
    if not args.python_client:
        client = os.path.abspath(args.client) if args.client else default_client(binary)
    res = {"qmgrd": [], "aria2": []}
    cpu = {"qmgrd": [], "aria2": []}
    floor = None
    signals_per_group = None
    try:
        if client:
            floor = ping_floor(binary, client, bus, tmp, args.groups)
            signals_per_group = signal_census(binary, client, bus, tmp)
        for r in range(args.runs):
            order = ("aria2", "qmgrd") if r % 2 == 0 else ("qmgrd", "aria2")
            for who in order:
                if who == "aria2":
                    w, c = run_aria2(tmp, args.groups, r)
                else:
                    w, c = run_qmgrd(binary, client, bus, tmp, args.groups, r)
                res[who].append(w)
                cpu[who].append(c)
    except GLib.Error as e:
        sys.exit(f"D-Bus error: {e.message}")
    finally:
        bus.down()

    med = qb.median
    b3 = med(res["qmgrd"]) / med(res["aria2"])
    n = args.groups
    fmt = lambda xs: ", ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    print(f"| {n} items, 64 calls in flight, {args.runs} run(s) | time, runs (s) | time, median (s) "
          f"| items/s | calls/s | server CPU, median (s) | client CPU, median (s) |")
    print("|---|---|---|---|---|---|---|")
    mq, ma = med(res["qmgrd"]), med(res["aria2"])
    print(f"| qmgrd: CreateGroup + CreateJob + AddFiles + SetProp, durable | {fmt(res['qmgrd'])} | "
          f"{mq:.2f} | {n / mq:.0f} | {4 * n / mq:.0f} | {med([c[0] for c in cpu['qmgrd']]):.2f} | "
          f"{med([c[1] for c in cpu['qmgrd']]):.2f} |")
    print(f"| aria2 JSON-RPC addUri (paused) | {fmt(res['aria2'])} | {ma:.2f} | {n / ma:.0f} | "
          f"{n / ma:.0f} | {med([c[0] for c in cpu['aria2']]):.2f} | "
          f"{med([c[1] for c in cpu['aria2']]):.2f} |")
    print(f"| ratio qmgrd / aria2 | | **{b3:.2f}** | | | | |")
    print(f"qmgrd client: {client or 'GDBus in this python (--python-client)'}; dbus-daemon CPU "
          f"during the qmgrd runs, median: {med([c[2] for c in cpu['qmgrd']]):.2f} s")
    print(qb.verdict("B3", b3, 1.00, "{:.2f}"))
    if floor:
        rep, dcpu, bcpu = floor
        print(f"INFO B3-bus-floor {rep['wall_s']:.2f}s for {rep['calls']} Peer.Ping, "
              f"{IN_FLIGHT} in flight ({rep['calls'] / rep['wall_s']:.0f} calls/s; CPU: client "
              f"{rep['cpu_s']:.2f} s, qmgrd {dcpu:.2f} s, dbus-daemon {bcpu:.2f} s)")
        # Each Ping is two messages through the bus (call, reply); each group
        # is 4 calls, 4 replies and its signals.
        per_msg = rep["wall_s"] / (2 * rep["calls"])
        per_group = 8 + signals_per_group
        bus_only = per_group * n * per_msg
        print(f"INFO B3-bus-load {per_group:.1f} messages through the bus per group (4 calls, "
              f"4 replies, {signals_per_group:.1f} signals); at the floor's "
              f"{per_msg * 1e6:.1f} us per message the bus alone needs {bus_only:.2f}s = "
              f"{bus_only / ma:.2f} x aria2's median")


if __name__ == "__main__":
    main()
