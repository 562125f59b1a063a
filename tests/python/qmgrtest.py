# qmgrd tests — the Python harness: a private dbus-daemon, the real qmgrd on
# it with relocated state and XDG directories, and the test HTTP server; plus
# waiting on the GLib main loop with a deadline. The libqmgr tests, the
# qmgrctl tests and the examples' tests all run on it.
import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import gi

gi.require_version('Qmgr', '1')
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib, Qmgr  # noqa: E402

DEADLINE = 20.0
_PR_SET_PDEATHSIG = 1

BUS_CONFIG = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
'''


def _die_with_parent():
    # If the test process dies without cleaning up, its children go too.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def wait_until(condition, timeout=DEADLINE, message='condition'):
    '''Iterates the default main context until condition() is true; fails the
    test after timeout seconds.'''
    context = GLib.MainContext.default()
    deadline = time.monotonic() + timeout
    # A ticking source so that a blocking iteration looks at the deadline.
    tick = GLib.timeout_add(50, lambda: True)
    try:
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError('timed out waiting for ' + message)
            context.iteration(True)
    finally:
        GLib.source_remove(tick)
    return True


def native(env):
    '''An environment for a program of our own in C (qmgrd, qmgrctl, the C
    example) or a system one: in a sanitizer build the Python process gets the
    sanitizer runtime preloaded and leak checking off (Python keeps memory at
    exit); the C programs are linked with it and check their leaks.'''
    env = dict(env)
    child_options = os.environ.get('QMGR_TEST_NATIVE_ASAN_OPTIONS')
    if child_options:
        env.pop('LD_PRELOAD', None)
        env['ASAN_OPTIONS'] = child_options
    return env


def env_path(name):
    value = os.environ.get(name)
    if not value:
        raise unittest.SkipTest(name + ' is not set (run the tests through meson)')
    return value


class HttpServer:
    '''qmgr-test-httpd serving a directory (and its generated /file.bin).'''

    def __init__(self, directory, size=1024 * 1024, rate=0):
        args = [env_path('QMGR_TEST_HTTPD'), '--dir', directory, '--size', str(size)]
        if rate:
            args += ['--rate', str(rate)]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        env=native(os.environ),
                                        preexec_fn=_die_with_parent, text=True)
        self.url = self.process.stdout.readline().strip()
        self.process.stdout.close()
        if not self.url.startswith('http://'):
            self.stop()
            raise AssertionError('qmgr-test-httpd did not start')

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=DEADLINE)


class PrivateDaemon:
    '''A dbus-daemon of our own and qmgrd on it.'''

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='qmgrd-pytest-')
        self.files = self.path('files')
        self.served = self.path('served')
        for sub in ('bus', 'services', 'state', 'config', 'files', 'served',
                    'xdg/state', 'xdg/data', 'xdg/cache', 'xdg/runtime', 'xdg/config-dirs'):
            os.makedirs(self.path(sub), mode=0o700, exist_ok=True)
        self.log = open(self.path('qmgrd.log'), 'a+')
        config = self.path('bus.conf')
        with open(config, 'w') as f:
            f.write(BUS_CONFIG.format(dir=self.path('bus'), services=self.path('services')))
        self.bus = subprocess.Popen(['dbus-daemon', '--config-file', config, '--nofork',
                                     '--print-address=1'], env=native(os.environ),
                                    stdout=subprocess.PIPE, stderr=self.log,
                                    preexec_fn=_die_with_parent, text=True)
        self.address = self.bus.stdout.readline().strip()
        if not self.address:
            raise AssertionError('dbus-daemon did not start')
        self.qmgrd = None
        self.connection = self.connect()

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def connect(self):
        flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                 | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
        return Gio.DBusConnection.new_for_address_sync(self.address, flags, None, None)

    def environment(self):
        '''What a client or the daemon needs to find this bus (for a C program,
        pass it through native()).'''
        env = dict(os.environ)
        xdg = self.path('xdg')
        env.update({
            'DBUS_SESSION_BUS_ADDRESS': self.address,
            # No system bus: no NetworkManager, so online and UNRESTRICTED.
            'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=' + self.path('no-system-bus'),
            'XDG_STATE_HOME': os.path.join(xdg, 'state'),
            'XDG_CONFIG_HOME': self.path('config'),
            'XDG_CONFIG_DIRS': os.path.join(xdg, 'config-dirs'),
            'XDG_DATA_HOME': os.path.join(xdg, 'data'),
            'XDG_CACHE_HOME': os.path.join(xdg, 'cache'),
            'XDG_RUNTIME_DIR': os.path.join(xdg, 'runtime'),
        })
        env.pop('DBUS_STARTER_ADDRESS', None)
        env.pop('DBUS_STARTER_BUS_TYPE', None)
        return env

    def has_owner(self):
        reply = self.connection.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                          'org.freedesktop.DBus', 'NameHasOwner',
                                          GLib.Variant('(s)', (Qmgr.BUS_NAME,)),
                                          GLib.VariantType('(b)'), Gio.DBusCallFlags.NONE,
                                          -1, None)
        return reply.unpack()[0]

    def start(self, *extra_args):
        args = [env_path('QMGRD_BINARY'), '--state-dir', self.path('state')] + list(extra_args)
        self.qmgrd = subprocess.Popen(args, env=native(self.environment()), stdout=self.log,
                                      stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + DEADLINE
        while not self.has_owner():
            if self.qmgrd.poll() is not None or time.monotonic() > deadline:
                self.print_log()
                raise AssertionError('qmgrd did not start')
            time.sleep(0.02)

    def stop(self):
        if self.qmgrd is None:
            return
        if self.qmgrd.poll() is None:
            self.qmgrd.terminate()
        status = self.qmgrd.wait(timeout=DEADLINE)
        self.qmgrd = None
        if status != 0:
            self.print_log()
            raise AssertionError('qmgrd exited with status %d' % status)

    def print_log(self):
        self.log.seek(0)
        print('=== qmgrd log ===\n' + self.log.read() + '=== end of qmgrd log ===')

    def close(self):
        try:
            self.stop()
        finally:
            self.connection.close_sync(None)
            self.bus.terminate()
            self.bus.wait(timeout=DEADLINE)
            self.bus.stdout.close()
            self.log.close()
            shutil.rmtree(self.root, ignore_errors=True)

    # ----- clients -----

    def manager(self):
        return Qmgr.ManagerProxy.new_sync(self.connection, Gio.DBusProxyFlags.NONE,
                                          Qmgr.BUS_NAME, Qmgr.MANAGER_PATH, None)

    def group(self, path):
        return Qmgr.GroupProxy.new_sync(self.connection, Gio.DBusProxyFlags.NONE,
                                        Qmgr.BUS_NAME, path, None)

    def job(self, path):
        return Qmgr.JobProxy.new_sync(self.connection, Gio.DBusProxyFlags.NONE,
                                      Qmgr.BUS_NAME, path, None)

    def serve(self, name, content):
        '''Puts a file under the served directory; returns its path there.'''
        path = os.path.join(self.served, name)
        with open(path, 'wb') as f:
            f.write(content)
        return path


def pattern(size, seed=0):
    '''Deterministic test content.'''
    block = bytes((i * 31 + seed) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


class DaemonTestCase(unittest.TestCase):
    '''A test with its own bus, daemon and HTTP server.'''

    daemon_config = None  # the text of a qmgrd.conf to start the daemon with
    http_rate = 0
    big_size = 0          # serve a big.bin of this size too

    def setUp(self):
        self.daemon = PrivateDaemon()
        self.addCleanup(self.daemon.close)
        self.small = pattern(100 * 1024)
        self.daemon.serve('small.bin', self.small)
        self.daemon.serve('other.bin', pattern(50 * 1024, seed=7))
        if self.big_size:
            self.daemon.serve('big.bin', pattern(self.big_size, seed=3))
        self.http = HttpServer(self.daemon.served, rate=self.http_rate)
        self.addCleanup(self.http.stop)
        args = []
        if self.daemon_config is not None:
            args = ['--config', self.daemon.path('qmgrd.conf')]
            with open(args[1], 'w') as f:
                f.write(self.daemon_config)
        self.daemon.start(*args)
        # qmgrd goes first: qmgr-test-httpd waits for its open connections
        # before it exits.
        self.addCleanup(self.daemon.stop)
        self.manager = self.daemon.manager()

    def url(self, name):
        return self.http.url + '/' + name

    def dest(self, name):
        return os.path.join(self.daemon.files, name)

    def assertClientError(self, error, code):
        self.assertEqual(error.domain, GLib.quark_to_string(Qmgr.client_error_quark()),
                         error.message)
        self.assertEqual(error.code, int(code), error.message)
