"""Shared helpers of the benchmarks in tests/bench/ (docs/targets.md B1-B8).

A private D-Bus (Gio.TestDBus), the daemon started with --state-dir in a temp
dir, nginx on a random loopback port with a config written into a temp dir,
the D-Bus calls the benchmarks make, CPU accounting from /proc, and a cleanup
that stops every process a benchmark started when it exits, fails or times
out. Only /usr/bin/python3 with PyGObject is needed.
"""
import atexit
import hashlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from gi.repository import Gio, GLib

BUS_NAME = "io.github.qmgrd.QMgr1"
MANAGER = "/io/github/qmgrd/QMgr1"
IFACE = "io.github.qmgrd.QMgr1."
PROPS = "org.freedesktop.DBus.Properties"

GROUP_COMPLETE = 0x40
GROUP_ERROR = 0x200
FILE_INDEX_NONE = 0xFFFFFFFF

DEFAULT_QMGRD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../build/src/daemon/qmgrd")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# ---- cleanup and time limit ----

_children = []      # Popen objects to stop at exit


def track(proc):
    _children.append(proc)
    return proc


def untrack(proc):
    if proc in _children:
        _children.remove(proc)


def _cleanup():
    for p in reversed(_children):
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=10)
            except Exception:
                pass
    _children.clear()


class BenchTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise BenchTimeout("the benchmark ran past its time limit")


def _on_term(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")


def install_guards(time_limit_s):
    """Kill what we started at exit; raise BenchTimeout after time_limit_s."""
    atexit.register(_cleanup)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGHUP, _on_term)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(int(time_limit_s))


def tempdir(tag):
    d = tempfile.mkdtemp(prefix=f"qmgrd-{tag}-", dir=os.environ.get("QMGR_BENCH_TMPDIR"))
    os.chmod(d, 0o755)   # nginx workers (user nobody) read from below it
    atexit.register(shutil.rmtree, d, True)
    return d


class LoopFs:
    """A fresh ext4 (mkfs defaults, journal included) on a loop device over an
    image file in @parent, mounted at @parent/mnt, for a benchmark's output
    files: no file deleted earlier on the machine's disk weighs on its creates
    (ext4 without a journal, this machine's root, skips inodes freed in the
    last minutes, reading each one's table block), and nothing else writes
    there. The loop device does direct I/O on the image, so a sync reaches the
    disk once. Needs root; mount() returns None where it cannot be had."""

    def __init__(self, parent, size_mib):
        self.image = os.path.join(parent, "fs.img")
        self.mnt = os.path.join(parent, "mnt")
        self.size_mib = size_mib
        self.dev = None
        self.mounted = False

    def mount(self):
        if os.geteuid() != 0 or not all(shutil.which(t) for t in ("mkfs.ext4", "losetup")):
            return None
        try:
            with open(self.image, "wb") as f:
                f.truncate(self.size_mib << 20)
            subprocess.run(["mkfs.ext4", "-q", "-F", self.image], check=True,
                           stdout=subprocess.DEVNULL)
            self.dev = subprocess.run(["losetup", "--direct-io=on", "--show", "-f", self.image],
                                      check=True, capture_output=True, text=True).stdout.strip()
            atexit.register(self.unmount)
            os.makedirs(self.mnt)
            subprocess.run(["mount", "-t", "ext4", self.dev, self.mnt], check=True)
            self.mounted = True
            os.chmod(self.mnt, 0o755)
            return self.mnt
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"(no loop file system: {e}; using the temp dir)", file=sys.stderr)
            self.unmount()
            return None

    def unmount(self):
        if self.mounted:
            subprocess.run(["umount", self.mnt], check=False)
            self.mounted = False
        if self.dev:
            subprocess.run(["losetup", "-d", self.dev], check=False)
            self.dev = None


# ---- small tools ----

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(4 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def make_random_file(path, size, block=8 << 20):
    """Writes size random bytes; returns their sha256."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left > 0:
            b = os.urandom(min(block, left))
            h.update(b)
            f.write(b)
            left -= len(b)
    os.chmod(path, 0o644)
    return h.hexdigest()


def proc_cpu_s(pid):
    """user + system CPU seconds of a live process (10 ms resolution)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def run_timed(argv, timeout_s, **kw):
    """Runs argv; returns (wall seconds, user+sys CPU seconds of it and its children)."""
    t0 = time.monotonic()
    p = track(subprocess.Popen(argv, **kw))
    try:
        deadline = t0 + timeout_s
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                raise BenchTimeout(f"{argv[0]} ran past {timeout_s} s")
            time.sleep(0.002)
    finally:
        untrack(p)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}… exited with {p.returncode}")
    return wall, ru.ru_utime + ru.ru_stime


def drop_dirty():
    """Writes back everything dirty, so that one run does not pay for another."""
    os.sync()


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def verdict(name, value, limit, fmt="{:.3f}"):
    ok = value is not None and value <= limit
    shown = "n/a" if value is None else fmt.format(value)
    return f"{'PASS' if ok else 'FAIL'} {name} {shown}"


def verdict_at_least(name, value, limit, fmt="{:.3f}"):
    ok = value is not None and value >= limit
    shown = "n/a" if value is None else fmt.format(value)
    return f"{'PASS' if ok else 'FAIL'} {name} {shown}"


# ---- nginx ----

class Nginx:
    """nginx serving root on 127.0.0.1:<random port>, config in a temp dir.
    With netns, it runs in that network namespace on address (B9)."""

    def __init__(self, root, workdir, access_log=False, limit_rate=0, workers=1,
                 address="127.0.0.1", netns=None, port=None):
        self.root, self.workdir = root, workdir
        self.address, self.netns = address, netns
        self.port = port or free_port()
        self.access_log = os.path.join(workdir, "access.log") if access_log else None
        self.conf = os.path.join(workdir, "nginx.conf")
        log = (f'log_format bench "$bytes_sent $body_bytes_sent $status $request_length";\n'
               f'    access_log {self.access_log} bench;') if access_log else "access_log off;"
        rate = f"limit_rate {limit_rate};" if limit_rate else ""
        user = "user root root;" if os.geteuid() == 0 else ""
        tmp = os.path.join(workdir, "nginx-tmp")
        os.makedirs(tmp, exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(f"""{user}
daemon off;
worker_processes {workers};
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    {log}
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen {self.address}:{self.port} reuseport backlog=4096;
        root {root};
        {rate}
        location / {{ }}
    }}
}}
""")
        self.proc = None

    def url(self, name):
        return f"http://{self.address}:{self.port}/{name}"

    def _listening(self):
        if self.netns is None:
            try:
                socket.create_connection((self.address, self.port), timeout=1).close()
                return True
            except OSError:
                return False
        out = subprocess.run(["ip", "netns", "exec", self.netns, "ss", "-Htln",
                              f"sport = :{self.port}"], capture_output=True, text=True)
        return out.returncode == 0 and out.stdout.strip() != ""

    def start(self):
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        self.proc = track(subprocess.Popen(prefix + ["nginx", "-p", self.workdir, "-c", self.conf, "-e",
                                                     os.path.join(self.workdir, "nginx-error.log")],
                                           stdin=subprocess.DEVNULL))
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                with open(os.path.join(self.workdir, "nginx-error.log")) as f:
                    sys.exit(f"nginx did not start:\n{f.read()}")
            if self._listening():
                return self
            time.sleep(0.02)
        sys.exit("nginx did not listen in time")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)   # graceful: flushes the access log
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        untrack(self.proc)

    def log_lines(self):
        """[(bytes_sent, body_bytes_sent, status)] from the access log."""
        out = []
        with open(self.access_log) as f:
            for line in f:
                parts = line.split()
                out.append((int(parts[0]), int(parts[1]), int(parts[2])))
        return out


# ---- the bus and the daemon ----

class Bus:
    """A private dbus-daemon and a connection of ours to it."""

    def __init__(self):
        self.test_bus = Gio.TestDBus.new(Gio.TestDBusFlags.NONE)
        self.test_bus.up()
        self.address = self.test_bus.get_bus_address()
        self.conn = Gio.DBusConnection.new_for_address_sync(
            self.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        atexit.register(self.down)

    def down(self):
        if self.test_bus is not None:
            try:
                self.conn.close_sync(None)
            except GLib.Error:
                pass
            self.test_bus.down()
            self.test_bus = None


class PathBus:
    """A private dbus-daemon listening on a socket path rather than an
    abstract socket, so that processes in another network namespace reach it
    too; started inside netns when given. With system=True it is configured
    as a system bus would be for our purposes (anybody may own names: the
    NetworkManager mock of B6 and B7). Gives a connection of ours."""

    def __init__(self, workdir, netns=None, name="bus"):
        self.path = os.path.join(workdir, f"{name}.socket")
        conf = os.path.join(workdir, f"{name}.conf")
        with open(conf, "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={self.path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
""")
        prefix = ["ip", "netns", "exec", netns] if netns else []
        self.proc = track(subprocess.Popen(prefix + ["dbus-daemon", "--nofork", "--nopidfile",
                                                     f"--config-file={conf}", "--print-address=1"],
                                           stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True))
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            sys.exit("dbus-daemon did not start")
        self.conn = Gio.DBusConnection.new_for_address_sync(
            self.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        atexit.register(self.down)

    @property
    def pid(self):
        return self.proc.pid

    def down(self):
        if self.proc is not None:
            try:
                self.conn.close_sync(None)
            except GLib.Error:
                pass
            self.proc.terminate()
            self.proc.wait(timeout=10)
            untrack(self.proc)
            self.proc = None


NM_NAME = "org.freedesktop.NetworkManager"
NM_PATH = "/org/freedesktop/NetworkManager"
MOCK_IFACE = "org.freedesktop.DBus.Mock"
NM_METERED_YES, NM_METERED_NO = 1, 2


class NmMock:
    """NetworkManager on a PathBus: python-dbusmock's networkmanager template
    (as tests/common/qmgr-test-system-bus.c runs it), with the Manager's
    Metered property the template lacks. set_metered() goes through the
    mock's UpdateProperties, which emits PropertiesChanged as NetworkManager
    does, and returns once the mock has sent it."""

    def __init__(self, bus, workdir, metered=NM_METERED_NO):
        self.bus = bus
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
        self.proc = track(subprocess.Popen(["/usr/bin/python3", "-m", "dbusmock", "--system",
                                            "--template", "networkmanager", "--logfile",
                                            os.path.join(workdir, "nm-mock.log")],
                                           env=env, stdin=subprocess.DEVNULL,
                                           stdout=subprocess.DEVNULL))
        end = time.monotonic() + 20
        while True:
            try:
                call(bus.conn, "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
                     GLib.Variant("(s)", (NM_NAME,)), "(s)", dest="org.freedesktop.DBus")
                break
            except GLib.Error:
                if time.monotonic() > end or self.proc.poll() is not None:
                    sys.exit("python-dbusmock's NetworkManager did not start")
                time.sleep(0.05)
        self.mock("AddProperty", GLib.Variant("(ssv)", (NM_NAME, "Metered", GLib.Variant("u", metered))))

    def mock(self, method, args):
        call(self.bus.conn, NM_PATH, MOCK_IFACE, method, args, "()", dest=NM_NAME)

    def set_metered(self, value):
        self.mock("UpdateProperties", GLib.Variant("(sa{sv})", (NM_NAME, {"Metered": GLib.Variant("u", value)})))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        untrack(self.proc)


class Daemon:
    def __init__(self, binary, state_dir, bus_address, args=(), netns=None, env=None):
        self.binary, self.state_dir, self.bus_address = binary, state_dir, bus_address
        self.args = list(args)
        self.netns = netns
        self.env = dict(env or {})
        self.proc = None

    @property
    def pid(self):
        """The daemon's own pid (not that of ip netns exec, which execs it)."""
        return self.proc.pid

    def start(self):
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.bus_address, **self.env)
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        t0 = time.monotonic()
        self.proc = track(subprocess.Popen(prefix + [self.binary, "--state-dir", self.state_dir] + self.args,
                                           env=env, stdin=subprocess.DEVNULL))
        return t0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        untrack(self.proc)
        if code != 0:
            sys.exit(f"qmgrd exited with {code}")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        untrack(self.proc)

    def cpu_s(self):
        return proc_cpu_s(self.proc.pid)


def call(conn, path, iface, method, args=None, sig="()", timeout_ms=120000, dest=BUS_NAME):
    full = iface if "." in iface else IFACE + iface
    reply = conn.call_sync(dest, path, full, method, args, GLib.VariantType(sig),
                           Gio.DBusCallFlags.NO_AUTO_START, timeout_ms, None)
    return reply.unpack()


def get_prop(conn, path, iface, name):
    return call(conn, path, PROPS, "Get", GLib.Variant("(ss)", (IFACE + iface, name)), "(v)")[0]


def set_prop(conn, path, iface, name, variant):
    call(conn, path, PROPS, "Set", GLib.Variant("(ssv)", (IFACE + iface, name, variant)))


def wait_enum_groups(conn, deadline_s=30):
    """Call EnumGroups until the daemon answers; return the group ids."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            return call(conn, MANAGER, "Manager", "EnumGroups", GLib.Variant("(u)", (0,)), "(as)",
                        timeout_ms=30000)[0]
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


def create_transfer(conn, files, max_per_call=1000):
    """A suspended group with one job holding files [(url, path)]: (group, job)."""
    group = call(conn, MANAGER, "Manager", "CreateGroup", GLib.Variant("(s)", ("",)), "(o)")[0]
    job = call(conn, group, "Group", "CreateJob", GLib.Variant("(s)", ("",)), "(o)")[0]
    for i in range(0, len(files), max_per_call):
        chunk = [(u, p, 0) for u, p in files[i:i + max_per_call]]
        call(conn, job, "Job", "AddFiles", GLib.Variant("(a(sst))", (chunk,)))
    return group, job


class CompletionWatch:
    """Notes when a group completes: its Status in PropertiesChanged (sent, like
    every signal, only once the change is on disk). Subscribed for any sender,
    so it survives daemon restarts.

    With file_signals, it also listens to the group's OnStatus, which comes
    once per completed file: decoding those in Python costs the harness CPU on
    the machine's two cores during the timed window (2,000 signals in B2), CPU
    the peers' runs do not have to share. The daemon sends them either way."""

    def __init__(self, conn, group_path, file_signals=False):
        self.conn, self.group = conn, group_path
        self.done_at = None
        self.status = None
        self.subs = [
            conn.signal_subscribe(None, PROPS, "PropertiesChanged", group_path, None,
                                  Gio.DBusSignalFlags.NONE, self._on_props),
        ]
        if file_signals:
            self.subs.append(conn.signal_subscribe(None, IFACE + "Group", "OnStatus", group_path,
                                                   None, Gio.DBusSignalFlags.NONE, self._on_status))

    def _note(self, status):
        self.status = status
        if self.done_at is None and (status & GROUP_COMPLETE or status & GROUP_ERROR):
            self.done_at = time.monotonic()

    def _on_status(self, conn, sender, path, iface, name, params):
        job, index, status = params.unpack()[:3]
        if index == FILE_INDEX_NONE:
            self._note(status)

    def _on_props(self, conn, sender, path, iface, name, params):
        ifname, changed, _ = params.unpack()
        if ifname == IFACE + "Group" and "Status" in changed:
            self._note(changed["Status"])

    def poll(self):
        """Asks the daemon directly (after a restart a signal may be gone)."""
        try:
            self._note(get_prop(self.conn, self.group, "Group", "Status"))
        except GLib.Error:
            pass

    def wait(self, timeout_s):
        """Runs the default main context until completion or timeout_s; True if done."""
        ctx = GLib.MainContext.default()
        end = time.monotonic() + timeout_s
        fired = []
        while self.done_at is None:
            left = end - time.monotonic()
            if left <= 0:
                return False
            tid = GLib.timeout_add(max(1, int(left * 1000)), lambda: fired.append(1) or False)
            ctx.iteration(True)
            if not fired:
                GLib.source_remove(tid)
            else:
                fired.clear()
        return True

    def close(self):
        for s in self.subs:
            self.conn.signal_unsubscribe(s)


def fill(conn, n_groups, files_dir, in_flight=64, url_base="http://127.0.0.1:9"):
    """Creates n_groups through the daemon with up to in_flight calls pending:
    CreateGroup + CreateJob + AddFiles(1 file) + SetProp(DISPLAYNAME) each."""
    loop = GLib.MainLoop()
    state = {"started": 0, "done": 0, "pending": 0, "error": None}

    def call_async(path, iface, method, args, sig, cb):
        state["pending"] += 1
        conn.call(BUS_NAME, path, IFACE + iface, method, args, GLib.VariantType(sig),
                  Gio.DBusCallFlags.NONE, 120000, None, lambda c, r, *_: cb(c, r))

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
            if finished(c, res) is None and state["error"]:
                return
            call_async(group, "Group", "SetProp",
                       GLib.Variant("(uv)", (11, GLib.Variant("s", f"bench group {i}"))), "()", on_set)

        def on_job(c, res, group):
            out = finished(c, res)
            if out is None:
                return
            call_async(out[0], "Job", "AddFiles",
                       GLib.Variant("(a(sst))", ([(f"{url_base}/f{i}", f"{files_dir}/f{i}", 16384)],)),
                       "()", lambda c2, r2: on_files(c2, r2, group))

        def on_group(c, res):
            out = finished(c, res)
            if out is None:
                return
            call_async(out[0], "Group", "CreateJob", GLib.Variant("(s)", ("",)), "(o)",
                       lambda c2, r2: on_job(c2, r2, out[0]))

        call_async(MANAGER, "Manager", "CreateGroup", GLib.Variant("(s)", ("",)), "(o)", on_group)

    def pump():
        while state["pending"] < in_flight and state["started"] < n_groups:
            start_one()
        if state["done"] == n_groups:
            loop.quit()

    GLib.idle_add(lambda: pump() or False)
    loop.run()
    if state["error"]:
        sys.exit(f"filling failed: {state['error']}")


def part_size(dest):
    """Bytes of dest received so far: its temp file (qmgrd's
    .qmgrd-<job>-<index>.part beside it), or the file once it is in place."""
    d = os.path.dirname(dest)
    best = 0
    for name in os.listdir(d):
        if name.startswith(".qmgrd-") and name.endswith(".part"):
            try:
                best = max(best, os.stat(os.path.join(d, name)).st_size)
            except FileNotFoundError:
                pass
    if os.path.exists(dest):
        best = max(best, os.stat(dest).st_size)
    return best


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peak_rss_children_kib():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
