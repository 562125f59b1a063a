#!/usr/bin/python3
"""TARGETS.md B3: creating 10,000 groups, 64 calls in flight, against aria2's
JSON-RPC adding 10,000 paused URIs, also 64 in flight, side by side in one run.

qmgrd:  for each group CreateGroup + CreateJob + AddFiles(1 file) +
        SetProp(DISPLAYNAME), one D-Bus connection keeping up to 64 calls
        pending (each reply means "on disk"); a fresh state dir per run.
aria2:  `aria2c --enable-rpc` on a random loopback port; aria2.addUri with
        {"pause": "true", "dir", "out"} per URI over 64 keep-alive HTTP
        connections from this same python (asyncio), one call in flight on
        each; a fresh aria2c per run.

B3 = median qmgrd time / median aria2 time   ≤ 1.00

Usage:
    /usr/bin/python3 tests/bench/b3-create.py [--qmgrd build/src/daemon/qmgrd] [--groups 10000] [--runs 3]
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


def run_qmgrd(binary, bus, tmp, n, r):
    files_dir = os.path.join(tmp, f"qmgrd-files-{r}")
    os.makedirs(files_dir)
    state = os.path.join(tmp, f"state-{r}")
    daemon = qb.Daemon(binary, state, bus.address)
    daemon.start()
    qb.wait_enum_groups(bus.conn)
    qb.drop_dirty()
    cpu0, client0 = daemon.cpu_s(), self_cpu_s()
    t0 = time.monotonic()
    qb.fill(bus.conn, n, files_dir, in_flight=IN_FLIGHT)
    wall = time.monotonic() - t0
    cpu = (daemon.cpu_s() - cpu0, self_cpu_s() - client0)
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
    ap.add_argument("--time-limit", type=int, default=3000, help="whole benchmark, seconds")
    args = ap.parse_args()
    qb.install_guards(args.time_limit)

    tmp = qb.tempdir("b3")
    bus = qb.Bus()
    binary = os.path.abspath(args.qmgrd)
    res = {"qmgrd": [], "aria2": []}
    cpu = {"qmgrd": [], "aria2": []}
    try:
        for r in range(args.runs):
            order = ("aria2", "qmgrd") if r % 2 == 0 else ("qmgrd", "aria2")
            for who in order:
                if who == "aria2":
                    w, c = run_aria2(tmp, args.groups, r)
                else:
                    w, c = run_qmgrd(binary, bus, tmp, args.groups, r)
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
    print(qb.verdict("B3", b3, 1.00, "{:.2f}"))


if __name__ == "__main__":
    main()
