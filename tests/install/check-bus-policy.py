#!/usr/bin/python3
# Loads qmgrd's system bus policy into a private dbus-daemon whose defaults are
# the system bus's (deny owning names, deny method calls) and checks, as root
# and as a second user (nobody), that only root may own the name, that anyone
# may call the service's interfaces and nothing else, and that root may call
# clients' Callback objects.
#   check-bus-policy.py POLICY_FILE        (run as root)
import os
import subprocess
import sys
import tempfile

from gi.repository import Gio, GLib

NAME = 'io.github.qmgrd.QMgr1'
PATH = '/io/github/qmgrd/QMgr1'
DENIED = 'org.freedesktop.DBus.Error.AccessDenied'
NOBODY = 65534

# The system bus's defaults (/usr/share/dbus-1/system.conf), then the policy.
CONFIG = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
  </policy>
  <include>{policy}</include>
</busconfig>
'''


def connect(address):
    return Gio.DBusConnection.new_for_address_sync(
        address,
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)


def call(conn, dest, path, iface, method, args=None):
    """The D-Bus error name of the call, or None when it succeeded."""
    try:
        conn.call_sync(dest, path, iface, method, args, None,
                       Gio.DBusCallFlags.NONE, 5000, None)
        return None
    except GLib.Error as e:
        return Gio.DBusError.get_remote_error(e) or str(e)


def request_name(conn):
    return call(conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus',
                'org.freedesktop.DBus', 'RequestName', GLib.Variant('(su)', (NAME, 4)))


class Checks:
    def __init__(self, who):
        self.who = who
        self.failed = 0

    def expect(self, what, error, denied):
        ok = (error == DENIED) if denied else (error != DENIED)
        verdict = 'ok' if ok else 'FAIL'
        print(f'{verdict}: {self.who}: {what}: '
              f'{"denied" if error == DENIED else "allowed"} ({error or "success"})')
        if not ok:
            self.failed += 1


def as_nobody(address):
    """Runs as nobody: may not own the name; may call the service's interfaces."""
    checks = Checks('nobody')
    conn = connect(address)
    checks.expect('own ' + NAME, request_name(conn), denied=True)
    for iface, method, args in [
            (NAME + '.Manager', 'EnumGroups', GLib.Variant('(u)', (0,))),
            (NAME + '.Group', 'GetProp', GLib.Variant('(u)', (11,))),
            (NAME + '.Job', 'GetProgress', None),
            ('org.freedesktop.DBus.Properties', 'GetAll', GLib.Variant('(s)', (NAME + '.Manager',))),
            ('org.freedesktop.DBus.ObjectManager', 'GetManagedObjects', None),
            ('org.freedesktop.DBus.Introspectable', 'Introspect', None),
            ('org.freedesktop.DBus.Peer', 'Ping', None)]:
        checks.expect(f'call {iface}.{method}', call(conn, NAME, PATH, iface, method, args),
                      denied=False)
    checks.expect('call an interface the service does not have',
                  call(conn, NAME, PATH, 'org.example.Other', 'Anything'), denied=True)
    # Stay on the bus (answering calls) until root is done with us.
    print('READY', conn.get_unique_name(), checks.failed, flush=True)
    loop = GLib.MainLoop()
    GLib.io_add_watch(GLib.IOChannel.unix_new(0), GLib.PRIORITY_DEFAULT,
                      GLib.IOCondition.IN | GLib.IOCondition.HUP, lambda *a: loop.quit())
    loop.run()
    return checks.failed


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--as-nobody':
        return 1 if as_nobody(sys.argv[2]) else 0
    policy = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        socket = os.path.join(tmp, 'bus')
        config = os.path.join(tmp, 'bus.conf')
        with open(config, 'w') as f:
            f.write(CONFIG.format(socket=socket, policy=policy))
        # Its log (the rejections this check provokes) is shown when a check fails.
        log = open(os.path.join(tmp, 'bus.log'), 'w+')
        daemon = subprocess.Popen(['dbus-daemon', '--nofork', '--config-file=' + config,
                                   '--print-address=1'], stdout=subprocess.PIPE,
                                  stderr=log, text=True)
        failed = 1
        nobody = None
        try:
            address = daemon.stdout.readline().strip()
            if not address:
                print('FAIL: dbus-daemon refused the configuration (and the policy)')
                daemon.wait()
                return 1
            checks = Checks('root')
            service = connect(address)
            checks.expect('own ' + NAME, request_name(service), denied=False)

            nobody = subprocess.Popen(
                ['setpriv', f'--reuid={NOBODY}', f'--regid={NOBODY}', '--clear-groups',
                 sys.executable, os.path.abspath(__file__), '--as-nobody', address],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            client = None
            for line in nobody.stdout:
                if line.startswith('READY '):
                    client = line.split()[1]
                    break
                print(line, end='')
            if client is None:
                print('FAIL: the client as nobody did not get ready')
                return 1
            # Root delivers notifications to clients' Callback objects, and
            # may call nothing else on them.
            checks.expect('call the client\'s Callback.OnStatus',
                          call(service, client, '/cb', NAME + '.Callback', 'OnStatus'),
                          denied=False)
            checks.expect('call another interface on the client',
                          call(service, client, '/cb', 'org.example.Other', 'Anything'),
                          denied=True)
            out, _ = nobody.communicate('done\n', timeout=30)
            print(out, end='')
            failed = checks.failed + (1 if nobody.returncode != 0 else 0)
            return 1 if failed else 0
        finally:
            if failed:
                log.seek(0)
                print(log.read(), end='')
            log.close()
            if nobody is not None and nobody.poll() is None:
                nobody.kill()
                nobody.wait()
            daemon.terminate()
            daemon.wait()


if __name__ == '__main__':
    sys.exit(main())
