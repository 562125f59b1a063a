#!/usr/bin/python3
# An update tool on libqmgr: queues the update's files with qmgrd, follows the
# progress, and reacts when qmgrd waits for an unmetered network. The files
# arrive whether or not this program keeps running: qmgrd owns the transfer.
#
#   update-tool.py [--allow-metered] [--policy MASK] URL DEST [URL DEST ...]
#
# Exit status: 0 when the update is downloaded, 1 when it failed, 75 when it
# waits for an unmetered network (qmgrd finishes it later).
import argparse
import sys

import gi

gi.require_version('Qmgr', '1')
from gi.repository import Gio, GLib, Qmgr  # noqa: E402

EX_TEMPFAIL = 75


def main():
    parser = argparse.ArgumentParser(description='Download an update through qmgrd.')
    parser.add_argument('--allow-metered', action='store_true',
                        help='go on over a metered network instead of waiting')
    parser.add_argument('--policy', type=lambda text: int(text, 0),
                        default=int(Qmgr.TransferPolicy.STANDARD),
                        help='the networks to download on (a BITS transfer policy mask)')
    parser.add_argument('files', nargs='+', metavar='URL DEST')
    args = parser.parse_args()
    if len(args.files) % 2:
        parser.error('give each URL with its destination')

    bus = Gio.bus_get_sync(Gio.BusType.SESSION)
    download = Qmgr.Download.new(bus)
    for url, dest in zip(args.files[::2], args.files[1::2]):
        download.add_file(url, dest)
    download.props.display_name = 'Example update'
    download.props.transfer_policy = args.policy
    download.props.remove_when_complete = True

    loop = GLib.MainLoop()
    outcome = {}

    def on_progress(d, done, total):
        print('downloaded %d of %d bytes' % (done, total), flush=True)

    def on_wait_reason(d, pspec):
        reason = d.props.wait_reason
        print('state: %s (%s)' % (reason, Qmgr.wait_reason_describe(reason)), flush=True)
        if reason != 'metered':
            return
        if args.allow_metered:
            # Any network will do: widen the group's policy.
            d.props.group.call_sync(
                'org.freedesktop.DBus.Properties.Set',
                GLib.Variant('(ssv)', ('io.github.qmgrd.QMgr1.Group', 'TransferPolicy',
                                       GLib.Variant('u', int(Qmgr.TransferPolicy.ALWAYS)))),
                Gio.DBusCallFlags.NONE, -1, None)
            print('metered network: going on anyway', flush=True)
        else:
            # Leave it to qmgrd, which resumes on an unmetered network.
            outcome['status'] = EX_TEMPFAIL
            cancellable.cancel()

    def on_done(d, result):
        try:
            d.run_finish(result)
            outcome.setdefault('status', 0)
        except GLib.Error as e:
            if e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED):
                print('waiting for an unmetered network; qmgrd goes on with group %s'
                      % d.props.group_id, flush=True)
            else:
                # A Qmgr.ClientError: e.code tells what, the message says why.
                print('update failed: %s' % e.message, file=sys.stderr)
                outcome['status'] = 1
        loop.quit()

    cancellable = Gio.Cancellable()
    download.connect('progress', on_progress)
    download.connect('notify::wait-reason', on_wait_reason)
    download.run(cancellable, on_done)
    loop.run()
    if outcome['status'] == 0:
        print('update downloaded')
    return outcome['status']


if __name__ == '__main__':
    sys.exit(main())
