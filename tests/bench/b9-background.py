#!/usr/bin/python3
"""docs/targets.md B9: background means background.

The benchmark builds its own link in network namespaces of its own: the
server (nginx, cubic congestion control through its route's congctl) in one,
everything of the client's in another (qmgrd, its private bus, curl, the
latency probe), and between them a router's, whose interface towards the
client is shaped to --rate (20 Mbit/s) by tc tbf with a queue of --queue-ms
(a home router's buffer); veth pairs join them. The queue is not on the
server's own interface because TCP Small Queues makes a sender's own qdisc
a different bottleneck from a router's (see Link). The host's interfaces are
never touched. Needs root, ip and tc (no netem: this kernel has none, so the
base round trip is the veths' ~0.1 ms).

Phases, in one run:

    idle          the probe alone: the link's own request/response time
    fg alone      a foreground HTTP download (curl, --fg-size) alone: the
                  link's capacity as a download sees it
    qmgrd         a background group of qmgrd downloading a large file: after
                  --warmup s, --window s with the probe (its latency over the
                  idle link's is the latency the background adds), then the
                  foreground download again (its rate over the fg-alone rate
                  is its share of the link)
    curl          the same with a plain curl download in qmgrd's place

B9-share    = foreground rate with qmgrd in the background / alone      >= 0.90
B9-latency  = probe median with qmgrd in the background - idle (ms)     <= 10

(curl's figures are printed beside; INFO lines give the background's own
rate, the probe's latency during the foreground download, and the 90th
percentiles.)

Usage:
    /usr/bin/python3 tests/bench/b9-background.py [--qmgrd build/src/daemon/qmgrd]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qmgrbench as qb  # noqa: E402

from gi.repository import GLib  # noqa: E402

PROBE = r"""
import http.client, sys, time
host, port, path, interval = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
c = http.client.HTTPConnection(host, port, timeout=30)
while True:
    t0 = time.monotonic()
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    t1 = time.monotonic()
    print(f"{t0:.6f} {(t1 - t0) * 1000:.3f}", flush=True)
    time.sleep(max(0.0, interval - (t1 - t0)))
"""


def sh(*argv, check=True):
    return subprocess.run(list(argv), check=check, capture_output=True, text=True)


class Link:
    """The server's, a router's and the client's namespaces, joined by two veth
    pairs, tbf on the router's side towards the client. The queue is in a
    namespace of its own because a queue on the sender's own interface is not
    a bottleneck the way a router's is: TCP Small Queues lets a socket keep
    only about a millisecond of its pacing rate in the qdiscs of its host, so
    there a flow that holds the queue starves a new one (measured: a 5 MiB
    foreground download took 15 s against an unpaced background one)."""

    def __init__(self, rate, queue_ms, cc):
        tag = os.getpid() % 100000
        self.srv, self.rtr, self.cli = f"qb9s{tag}", f"qb9r{tag}", f"qb9c{tag}"
        self.srv_ip, self.cli_ip = "10.199.1.1", "10.199.2.2"
        self.cli_if = f"qb9c{tag}"
        self.up = False
        import atexit
        atexit.register(self.down)
        for ns in (self.srv, self.rtr, self.cli):
            sh("ip", "netns", "add", ns)
        self.up = True
        pairs = ((self.srv, f"qb9s{tag}", "10.199.1.1", self.rtr, f"qb9rs{tag}", "10.199.1.2"),
                 (self.cli, self.cli_if, "10.199.2.2", self.rtr, f"qb9rc{tag}", "10.199.2.1"))
        for ns_a, if_a, ip_a, ns_b, if_b, ip_b in pairs:
            sh("ip", "link", "add", if_a, "type", "veth", "peer", "name", if_b)
            for ns, dev, ip in ((ns_a, if_a, ip_a), (ns_b, if_b, ip_b)):
                sh("ip", "link", "set", dev, "netns", ns)
                sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", dev)
                sh("ip", "-n", ns, "link", "set", dev, "up")
        for ns in (self.srv, self.rtr, self.cli):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "netns", "exec", self.rtr, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # The server's congestion control, through its route (a namespace's
        # default may only be one the host allows unprivileged users).
        sh("ip", "-n", self.srv, "route", "add", "default", "via", "10.199.1.2",
           *(("congctl", cc) if cc else ()))
        # The client's default route is the link: what qmgrd's pacer watches.
        sh("ip", "-n", self.cli, "route", "add", "default", "via", "10.199.2.1")
        self.qdisc_dev = f"qb9rc{tag}"
        sh("tc", "-n", self.rtr, "qdisc", "add", "dev", self.qdisc_dev, "root", "tbf", "rate",
           f"{rate}bit", "burst", "16kb", "latency", f"{queue_ms}ms")

    def exec(self, *argv):
        return ["ip", "netns", "exec", self.cli] + list(argv)

    def qdisc_stats(self):
        return sh("tc", "-s", "-n", self.rtr, "qdisc", "show", "dev", self.qdisc_dev).stdout

    def down(self):
        if self.up:
            for ns in (self.srv, self.rtr, self.cli):
                # Whatever still runs in them is ours (nginx workers outlive
                # a killed master).
                pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
                for pid in pids:
                    try:
                        os.kill(int(pid), 9)
                    except (ProcessLookupError, ValueError):
                        pass
                sh("ip", "netns", "del", ns, check=False)
            self.up = False


class Probe:
    """Request/response times of a small file over a kept-alive connection."""

    def __init__(self, link, nginx, interval):
        self.proc = qb.track(subprocess.Popen(
            link.exec(sys.executable, "-c", PROBE, nginx.address, str(nginx.port), "/small",
                      str(interval)), stdout=subprocess.PIPE, text=True))
        self.samples = []
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buf = ""

    def collect(self):
        try:
            data = self.proc.stdout.read()
        except (BlockingIOError, TypeError):
            data = None
        if data:
            self.buf += data
            *lines, self.buf = self.buf.split("\n")
            for line in lines:
                t, ms = line.split()
                self.samples.append((float(t), float(ms)))

    def between(self, t0, t1):
        self.collect()
        return [ms for t, ms in self.samples if t0 <= t < t1]

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        qb.untrack(self.proc)


def sleep(probe, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        probe.collect()
        time.sleep(min(0.2, max(0.0, end - time.monotonic())))


def fetch(link, url, probe, timeout_s):
    """A foreground download: (bytes/s, start, end)."""
    t0 = time.monotonic()
    p = qb.track(subprocess.Popen(link.exec("curl", "-s", "-o", "/dev/null", "-w",
                                            "%{size_download} %{time_total}", url),
                                  stdout=subprocess.PIPE, text=True))
    while p.poll() is None:
        probe.collect()
        time.sleep(0.05)
        if time.monotonic() - t0 > timeout_s:
            p.kill()
            raise qb.BenchTimeout("the foreground download ran past its time")
    qb.untrack(p)
    size, total = p.stdout.read().split()
    return int(size) / float(total), t0, time.monotonic()


def ms(xs, q=0.5):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if q != 0.5 else statistics.median(s)


class QmgrdBackground:
    def __init__(self, args, link, tmp, url):
        self.bus = qb.PathBus(tmp, netns=link.cli)
        env = {"DBUS_SYSTEM_BUS_ADDRESS": self.bus.address}
        args_extra = []
        if args.debug:
            env["G_MESSAGES_DEBUG"] = "qmgr-scheduler"
            args_extra.append("--verbose")
        self.daemon = qb.Daemon(os.path.abspath(args.qmgrd), os.path.join(tmp, "state"),
                                self.bus.address, args=args_extra, netns=link.cli, env=env)
        self.dest = os.path.join(tmp, "out", "big.bin")
        os.makedirs(os.path.dirname(self.dest))
        self.url = url

    def start(self):
        self.daemon.start()
        qb.wait_enum_groups(self.bus.conn)
        self.group, _ = qb.create_transfer(self.bus.conn, [(self.url, self.dest)])
        qb.call(self.bus.conn, self.group, "Group", "ResumeGroup")

    def received(self):
        return qb.part_size(self.dest)

    def stop(self):
        qb.call(self.bus.conn, self.group, "Group", "CancelGroup")
        self.daemon.stop()
        self.bus.down()


class CurlBackground:
    def __init__(self, link, url):
        self.link, self.url = link, url
        self.out = None

    def start(self):
        self.proc = qb.track(subprocess.Popen(self.link.exec("curl", "-s", "-o", "/dev/null", "-w",
                                                             "%{size_download}", self.url),
                                              stdout=subprocess.PIPE, text=True))
        self.t0 = time.monotonic()

    def received(self):
        # Counted from the link's side: curl reports only at its end.
        return None

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        qb.untrack(self.proc)


def rx_bytes(link):
    out = sh("ip", "netns", "exec", link.cli, "cat",
             f"/sys/class/net/{link.cli_if}/statistics/rx_bytes").stdout
    return int(out)


def background_run(name, bg, link, probe, args, fg_url, fg_alone):
    bg.start()
    sleep(probe, args.warmup)
    t0, rx0, got0 = time.monotonic(), rx_bytes(link), bg.received()
    sleep(probe, args.window)
    t1, rx1, got1 = time.monotonic(), rx_bytes(link), bg.received()
    alone = probe.between(t0, t1)
    bg_rate = (got1 - got0) / (t1 - t0) if got0 is not None else None
    link_rate = (rx1 - rx0) / (t1 - t0)
    fg_rate, f0, f1 = fetch(link, fg_url, probe, args.window * 10)
    during = probe.between(f0, f1)
    bg.stop()
    sleep(probe, 2)
    return {
        "name": name, "bg_rate": bg_rate, "link_rate": link_rate, "probe_bg": alone,
        "fg_rate": fg_rate, "share": fg_rate / fg_alone, "probe_fg": during,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmgrd", default=qb.DEFAULT_QMGRD)
    ap.add_argument("--rate", default="20M", help="the link's rate, tc syntax (bits/s)")
    ap.add_argument("--queue-ms", type=int, default=100, help="the tbf queue, as delay")
    ap.add_argument("--server-cc", default="cubic", help="the server's congestion control ('' keeps the host's)")
    ap.add_argument("--fg-size", default="25M", help="the foreground download")
    ap.add_argument("--warmup", type=float, default=10.0)
    ap.add_argument("--window", type=float, default=10.0)
    ap.add_argument("--interval", type=float, default=0.05, help="between probe requests, s")
    ap.add_argument("--only", choices=("qmgrd", "curl"), help="measure one background only")
    ap.add_argument("--debug", action="store_true", help="the daemon's scheduler debug log on stderr")
    ap.add_argument("--time-limit", type=int, default=900)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("B9 needs root (network namespaces, tc)")
    qb.install_guards(args.time_limit)
    fg_size = int(args.fg_size.rstrip("M")) << 20

    tmp = qb.tempdir("b9")
    www, ngx = os.path.join(tmp, "www"), os.path.join(tmp, "nginx")
    for d in (www, ngx):
        os.makedirs(d)
        os.chmod(d, 0o755)
    with open(os.path.join(www, "big.bin"), "wb") as f:
        f.truncate(4 << 30)         # never finished within the run; zeros cost no disk
    with open(os.path.join(www, "fg.bin"), "wb") as f:
        f.truncate(fg_size)
    with open(os.path.join(www, "small"), "wb") as f:
        f.write(b"x" * 100)
    for name in ("big.bin", "fg.bin", "small"):
        os.chmod(os.path.join(www, name), 0o644)

    link = Link(args.rate, args.queue_ms, args.server_cc)
    nginx = qb.Nginx(www, ngx, address=link.srv_ip, netns=link.srv, port=8080).start()
    probe = Probe(link, nginx, args.interval)
    sleep(probe, 1)
    t0 = time.monotonic()
    sleep(probe, args.window)
    idle = probe.between(t0, time.monotonic())
    fg_alone, f0, f1 = fetch(link, nginx.url("fg.bin"), probe, args.window * 10)
    fg_alone_probe = probe.between(f0, f1)

    runs = []
    if args.only != "curl":
        runs.append(background_run("qmgrd", QmgrdBackground(args, link, tmp, nginx.url("big.bin")),
                                   link, probe, args, nginx.url("fg.bin"), fg_alone))
    if args.only != "qmgrd":
        runs.append(background_run("curl", CurlBackground(link, nginx.url("big.bin")),
                                   link, probe, args, nginx.url("fg.bin"), fg_alone))
    probe.stop()
    nginx.stop()

    base = ms(idle)
    print(f"\n### B9: a {args.rate}bit/s link, tbf queue {args.queue_ms} ms, server {args.server_cc or 'default'}\n")
    print(f"Idle link: probe median {base:.2f} ms (mean {statistics.mean(idle):.2f}, p90 {ms(idle, 0.9):.2f}, "
          f"{len(idle)} requests); "
          f"foreground alone {fg_alone / 1e6:.2f} MB/s, probe median then {ms(fg_alone_probe):.1f} ms.\n")
    print("| background | its rate alone | link use | probe median (added) | mean | p90 | foreground rate "
          "| share of fg alone | probe during fg |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        bg = f"{r['bg_rate'] / 1e6:.2f} MB/s" if r["bg_rate"] is not None else "(see link use)"
        mean = statistics.mean(r["probe_bg"]) if r["probe_bg"] else float("nan")
        print(f"| {r['name']} | {bg} | {r['link_rate'] / fg_alone:.0%} | {ms(r['probe_bg']):.2f} ms "
              f"(+{ms(r['probe_bg']) - base:.2f}) | {mean:.2f} ms | {ms(r['probe_bg'], 0.9):.2f} ms | "
              f"{r['fg_rate'] / 1e6:.2f} MB/s | {r['share']:.3f} | {ms(r['probe_fg']):.1f} ms |")
    print()
    print(link.qdisc_stats().strip().replace("\n", " "))
    print()
    for r in runs:
        if r["name"] == "qmgrd":
            print(qb.verdict_at_least("B9-share", r["share"], 0.90))
            print(qb.verdict("B9-latency", ms(r["probe_bg"]) - base, 10.0, fmt="{:.2f}ms"))
        print(f"INFO B9-{r['name']} share {r['share']:.3f}, added latency {ms(r['probe_bg']) - base:.2f} ms, "
              f"link use alone {r['link_rate'] / fg_alone:.0%}")


if __name__ == "__main__":
    try:
        main()
    except qb.BenchTimeout as e:
        sys.exit(f"FAIL B9 {e}")
