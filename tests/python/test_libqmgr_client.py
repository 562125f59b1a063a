#!/usr/bin/python3
# libqmgr — the client library through its typelib against a real qmgrd:
# the generated proxies (create, add files, resume, OnStatus as a signal and
# through a Callback object, progress), the QMGR constants, the GUID helpers,
# the two enumerators and QmgrDownload.
import os
import unittest

from qmgrtest import DaemonTestCase, Gio, GLib, Qmgr, pattern, wait_until

NONE = Gio.DBusCallFlags.NONE
DOMAIN = 'qmgr-client-error-quark'


class Constants(unittest.TestCase):
    '''The values fixed by docs/dbus-api.md.'''

    def test_status_bits(self):
        self.assertEqual([int(v) for v in (
            Qmgr.GroupStatus.COMPLETE, Qmgr.GroupStatus.INCOMPLETE, Qmgr.GroupStatus.SUSPENDED,
            Qmgr.GroupStatus.ERROR, Qmgr.GroupStatus.FOREGROUND)],
            [0x40, 0x80, 0x100, 0x200, 0x400])
        self.assertEqual([int(v) for v in (
            Qmgr.JobStatus.COMPLETE, Qmgr.JobStatus.INCOMPLETE, Qmgr.JobStatus.ERROR,
            Qmgr.JobStatus.FOREGROUND)], [0x4, 0x8, 0x10, 0x20])
        self.assertEqual((int(Qmgr.FileStatus.COMPLETE), int(Qmgr.FileStatus.INCOMPLETE)),
                         (1, 2))

    def test_notify_progress_protocol(self):
        self.assertEqual([int(v) for v in (
            Qmgr.NotifyFlags.FILE_DONE, Qmgr.NotifyFlags.JOB_DONE, Qmgr.NotifyFlags.GROUP_DONE,
            Qmgr.NotifyFlags.DISABLE_NOTIFY, Qmgr.NotifyFlags.USE_PROGRESSEX,
            Qmgr.NotifyFlags.PROGRESS)], [0x1, 0x2, 0x4, 0x40, 0x80, 0x100])
        self.assertEqual([int(v) for v in (
            Qmgr.ProgressType.PERCENT_DONE, Qmgr.ProgressType.TIME_DONE,
            Qmgr.ProgressType.SIZE_DONE)], [1, 2, 3])
        self.assertEqual([int(v) for v in (
            Qmgr.Protocol.HTTP, Qmgr.Protocol.FTP, Qmgr.Protocol.SMB, Qmgr.Protocol.CUSTOM)],
            [1, 2, 3, 4])

    def test_group_props(self):
        names = ['PRIORITY', 'REMOTEUSERID', 'REMOTEUSERPWD', 'LOCALUSERID', 'LOCALUSERPWD',
                 'PROTOCOLFLAGS', 'NOTIFYFLAGS', 'NOTIFYCLSID', 'PROGRESSSIZE',
                 'PROGRESSPERCENT', 'PROGRESSTIME', 'DISPLAYNAME', 'DESCRIPTION']
        self.assertEqual([int(getattr(Qmgr.GroupPropId, n)) for n in names], list(range(13)))

    def test_cost_states_and_policies(self):
        states = ['UNRESTRICTED', 'CAPPED_USAGE_UNKNOWN', 'BELOW_CAP', 'NEAR_CAP',
                  'OVERCAP_CHARGED', 'OVERCAP_THROTTLED', 'USAGE_BASED', 'ROAMING']
        self.assertEqual([int(getattr(Qmgr.CostState, n)) for n in states],
                         [1 << i for i in range(8)])
        self.assertEqual(int(Qmgr.CostState.IGNORE_CONGESTION), 0x80000000)
        self.assertEqual([int(v) for v in (
            Qmgr.TransferPolicy.ALWAYS, Qmgr.TransferPolicy.NOT_ROAMING,
            Qmgr.TransferPolicy.NO_SURCHARGE, Qmgr.TransferPolicy.STANDARD,
            Qmgr.TransferPolicy.UNRESTRICTED)],
            [0x800000FF, 0x8000007F, 0x8000006F, 0x80000067, 0x80000021])

    def test_names(self):
        self.assertEqual(Qmgr.BUS_NAME, 'io.github.qmgrd.QMgr1')
        self.assertEqual(Qmgr.MANAGER_PATH, '/io/github/qmgrd/QMgr1')
        self.assertEqual(Qmgr.FILE_INDEX_NONE, 0xFFFFFFFF)


class Guids(unittest.TestCase):

    def test_forms(self):
        want = '1b4e28ba-2fa1-11d2-883f-0016d3cca427'
        for text in (want, want.upper(), '{' + want + '}', want.replace('-', '')):
            self.assertEqual(Qmgr.guid_normalize(text), want)
            self.assertTrue(Qmgr.guid_is_valid(text))
        for bad in ('', '00000000-0000-0000-0000-000000000000', 'xyz', want + '0'):
            self.assertFalse(Qmgr.guid_is_valid(bad))
            with self.assertRaises(GLib.Error) as caught:
                Qmgr.guid_normalize(bad)
            self.assertEqual((caught.exception.domain, caught.exception.code),
                             (DOMAIN, int(Qmgr.ClientError.INVALID_ARGS)))

    def test_random_and_paths(self):
        group, job = Qmgr.guid_new_random(), Qmgr.guid_new_random()
        self.assertNotEqual(group, job)
        self.assertEqual(group[14], '4')  # version 4
        path = Qmgr.path_for_group(group.upper())
        self.assertEqual(path, '/io/github/qmgrd/QMgr1/group/' + group.replace('-', ''))
        job_path = Qmgr.path_for_job(group, job)
        self.assertEqual(job_path, path + '/job/' + job.replace('-', ''))
        self.assertEqual(Qmgr.path_get_guid(path), group)
        self.assertEqual(Qmgr.path_get_guid(job_path), job)
        for bad in ('/', Qmgr.MANAGER_PATH, path + 'x', path + '/job/123'):
            self.assertIsNone(Qmgr.path_get_guid(bad))


class Proxies(DaemonTestCase):

    def make_group(self, files=('small.bin', 'other.bin')):
        path = self.manager.call_create_group_sync('', NONE, -1, None)
        group = self.daemon.group(path)
        group.call_set_prop_sync(Qmgr.GroupPropId.DISPLAYNAME, GLib.Variant('v', GLib.Variant('s', 'py test')),
                                 NONE, -1, None)
        job = self.daemon.job(group.call_create_job_sync('', NONE, -1, None))
        job.call_add_files_sync(GLib.Variant('a(sst)', [(self.url(f), self.dest(f), 0)
                                                        for f in files]), NONE, -1, None)
        return group, job

    def test_transfer_followed_by_signals(self):
        group, job = self.make_group()
        self.assertEqual(group.props.status,
                         int(Qmgr.GroupStatus.SUSPENDED | Qmgr.GroupStatus.INCOMPLETE))
        self.assertEqual(group.call_get_prop_sync(Qmgr.GroupPropId.DISPLAYNAME, NONE, -1,
                                                  None).unpack(), 'py test')
        statuses = []
        group.connect('on-status', lambda proxy, job_path, index, status, *rest:
                      statuses.append((job_path, index, status)))
        group.call_resume_group_sync(NONE, -1, None)
        # Signals ignore the notify flags: each file, then the job and the group
        # (both with no file index).
        wait_until(lambda: [s[1] for s in statuses].count(Qmgr.FILE_INDEX_NONE) == 2,
                   message='OnStatus for the job and the group')
        complete = int(Qmgr.GroupStatus.COMPLETE | Qmgr.GroupStatus.SUSPENDED)
        self.assertEqual(statuses[2:], [(job.get_object_path(), Qmgr.FILE_INDEX_NONE, complete)] * 2)
        self.assertEqual(sorted(s[1] for s in statuses[:2]), [0, 1])

        total = len(self.small) + 50 * 1024
        wait_until(lambda: group.props.bytes_transferred == total, message='BytesTransferred')
        self.assertEqual(group.props.bytes_total, total)
        self.assertEqual((group.props.files_transferred, group.props.files_total), (2, 2))
        self.assertEqual(group.props.wait_reason, 'complete')
        self.assertEqual(group.call_get_progress_sync(Qmgr.ProgressType.PERCENT_DONE, NONE,
                                                      -1, None), 100)
        self.assertEqual(group.call_get_progress_sync(Qmgr.ProgressType.SIZE_DONE, NONE,
                                                      -1, None), total)
        status, win32, transport, retries = job.call_get_status_sync(NONE, -1, None)
        self.assertEqual(Qmgr.JobStatus(status), Qmgr.JobStatus.COMPLETE)
        self.assertEqual((win32, transport, retries), (0, 0, 0))
        fstatus, size, done, last_error = job.call_get_file_status_sync(0, NONE, -1, None)
        self.assertEqual((fstatus, size, done, tuple(last_error)),
                         (int(Qmgr.FileStatus.COMPLETE), len(self.small), len(self.small),
                          ('', '')))
        with open(self.dest('small.bin'), 'rb') as f:
            self.assertEqual(f.read(), self.small)

    def test_transfer_followed_by_callback_object(self):
        group, job = self.make_group()
        calls = []

        def on_status(skeleton, invocation, group_path, job_path, index, status, *rest):
            calls.append((group_path, index, status))
            skeleton.complete_on_status(invocation)
            return True

        callback = Qmgr.CallbackSkeleton()
        callback.connect('handle-on-status', on_status)
        callback.export(self.daemon.connection, '/org/qmgrd/test/callback')
        self.addCleanup(callback.unexport)
        flags = int(Qmgr.NotifyFlags.GROUP_DONE | Qmgr.NotifyFlags.FILE_DONE)
        group.call_set_prop_sync(Qmgr.GroupPropId.NOTIFYFLAGS,
                                 GLib.Variant('v', GLib.Variant('u', flags)), NONE, -1, None)
        group.call_set_notification_pointer_sync('io.github.qmgrd.QMgr1.Callback',
                                                 '/org/qmgrd/test/callback', NONE, -1, None)
        group.call_resume_group_sync(NONE, -1, None)
        wait_until(lambda: any(index == Qmgr.FILE_INDEX_NONE for _, index, _ in calls),
                   message='the GROUP_DONE callback')
        path = group.get_object_path()
        self.assertEqual(sorted(index for _, index, _ in calls if index != Qmgr.FILE_INDEX_NONE),
                         [0, 1])
        self.assertTrue(all(g == path for g, _, _ in calls))
        self.assertEqual(calls[-1][2], int(Qmgr.GroupStatus.COMPLETE | Qmgr.GroupStatus.SUSPENDED))

    def test_enumerate_groups(self):
        ids = [self.manager.call_create_group_sync(Qmgr.guid_new_random(), NONE, -1, None)
               for _ in range(3)]
        ids = [Qmgr.path_get_guid(p) for p in ids]
        enum = Qmgr.EnumGroups.new_sync(self.manager, None)
        self.assertEqual(enum.get_count(), 3)
        self.assertEqual(enum.next(2), (True, ids[:2]))
        self.assertEqual(enum.next(2), (False, ids[2:]))      # short read: S_FALSE
        self.assertEqual(enum.next(1), (False, []))
        self.assertEqual(enum.next(0), (True, []))
        enum.reset()
        self.assertTrue(enum.skip(1))
        bookmark = enum.clone()
        self.assertEqual(bookmark.next(5), (False, ids[1:]))
        self.assertEqual(enum.next(1), (True, ids[1:2]))     # the clone moved alone
        self.assertFalse(enum.skip(5))
        self.assertEqual(enum.next(1), (False, []))
        # A snapshot: later groups do not show.
        self.manager.call_create_group_sync('', NONE, -1, None)
        self.assertEqual(enum.get_count(), 3)
        self.assertEqual(bookmark.get_count(), 3)

    def test_enumerate_groups_async(self):
        self.manager.call_create_group_sync('', NONE, -1, None)
        results = []
        Qmgr.EnumGroups.new(self.manager, None,
                            lambda source, result: results.append(
                                Qmgr.EnumGroups.new_finish(result)))
        wait_until(lambda: results, message='EnumGroups')
        self.assertEqual(results[0].get_count(), 1)

    def test_enumerate_jobs(self):
        path = self.manager.call_create_group_sync('', NONE, -1, None)
        group = self.daemon.group(path)
        empty = Qmgr.EnumJobs.new_sync(group, None)
        self.assertEqual(empty.get_count(), 0)
        self.assertEqual(empty.next(1), (False, []))
        job_id = Qmgr.guid_new_random()
        group.call_create_job_sync(job_id, NONE, -1, None)
        jobs = Qmgr.EnumJobs.new_sync(group, None)
        self.assertEqual(jobs.next(1), (True, [job_id]))
        jobs.reset()
        self.assertEqual(jobs.clone().next(2), (False, [job_id]))
        self.assertEqual(empty.get_count(), 0)
        results = []
        Qmgr.EnumJobs.new(group, None, lambda s, r: results.append(Qmgr.EnumJobs.new_finish(r)))
        wait_until(lambda: results, message='EnumJobs')
        self.assertEqual(results[0].next(1), (True, [job_id]))


class Download(DaemonTestCase):

    def run_download(self, download, cancellable=None):
        results = []
        download.run(cancellable, lambda d, r: results.append(r))
        wait_until(lambda: results, timeout=60, message='the download')
        return download.run_finish(results[0])

    def group_ids(self):
        return Qmgr.EnumGroups.new_sync(self.manager, None).next(100)[1]

    def test_completes_with_signals(self):
        download = Qmgr.Download.new(self.daemon.connection)
        download.add_file(self.url('small.bin'), self.dest('a.bin'))
        download.add_file(self.url('other.bin'), self.dest('b.bin'))
        download.props.display_name = 'two files'
        events = []
        download.connect('progress', lambda d, done, total: events.append(('progress', done,
                                                                             total)))
        download.connect('completed', lambda d: events.append(('completed',)))
        download.connect('notify::group-id', lambda d, p: events.append(('group', d.props.group_id)))
        self.assertTrue(self.run_download(download))
        self.assertIn(('completed',), events)
        self.assertEqual(events[0], ('group', download.props.group_id))
        # The last progress, before "completed", is the final count.
        total = len(self.small) + 50 * 1024
        progress = [e for e in events if e[0] == 'progress']
        self.assertEqual(progress[-1], ('progress', total, total))
        self.assertLess(events.index(progress[-1]), events.index(('completed',)))
        with open(self.dest('a.bin'), 'rb') as f:
            self.assertEqual(f.read(), self.small)
        # QMGR keeps a completed group until it is cancelled.
        self.assertEqual(self.group_ids(), [download.props.group_id])
        group = download.props.group
        self.assertEqual(group.props.display_name, 'two files')
        self.assertEqual(download.props.status,
                         int(Qmgr.GroupStatus.COMPLETE | Qmgr.GroupStatus.SUSPENDED))
        self.assertEqual(download.props.files_transferred, 2)

    def test_remove_when_complete(self):
        download = Qmgr.Download.new(self.daemon.connection)
        download.add_file(self.url('small.bin'), self.dest('a.bin'))
        download.props.remove_when_complete = True
        self.assertTrue(self.run_download(download))
        self.assertEqual(self.group_ids(), [])
        self.assertTrue(os.path.exists(self.dest('a.bin')))

    def test_http_error(self):
        download = Qmgr.Download.new(self.daemon.connection)
        download.add_file(self.url('missing.bin'), self.dest('m.bin'))
        failures = []
        download.connect('failed', lambda d, error: failures.append(error))
        with self.assertRaises(GLib.Error) as caught:
            self.run_download(download)
        error = caught.exception
        self.assertEqual((error.domain, error.code),
                         (DOMAIN, int(Qmgr.ClientError.TRANSFER_HTTP_STATUS)), error.message)
        self.assertIn('404', error.message)
        self.assertEqual(len(failures), 1)
        # The failed group stays, for inspection.
        self.assertEqual(self.group_ids(), [download.props.group_id])
        self.assertTrue(download.props.status & Qmgr.GroupStatus.ERROR)

    def test_refused_url(self):
        download = Qmgr.Download.new(self.daemon.connection)
        download.add_file('ftp://example.org/x', self.dest('x'))
        with self.assertRaises(GLib.Error) as caught:
            self.run_download(download)
        self.assertEqual((caught.exception.domain, caught.exception.code),
                         (DOMAIN, int(Qmgr.ClientError.INVALID_ARGS)))
        self.assertIn('ftp://example.org/x', caught.exception.message)
        # The half-made group was removed.
        wait_until(lambda: self.group_ids() == [], message='the group to go')

    def test_metered_wait(self):
        # A policy without the current cost state (UNRESTRICTED): the group
        # waits as on a metered network; allowing every state lets it go on.
        download = Qmgr.Download.new(self.daemon.connection)
        download.add_file(self.url('small.bin'), self.dest('a.bin'))
        download.props.transfer_policy = int(Qmgr.CostState.CAPPED_USAGE_UNKNOWN
                                             | Qmgr.CostState.IGNORE_CONGESTION)
        reasons = []
        download.connect('notify::wait-reason', lambda d, p: reasons.append(d.props.wait_reason))
        results = []
        download.run(None, lambda d, r: results.append(r))
        wait_until(lambda: 'metered' in reasons, message='WaitReason metered')
        self.assertEqual(Qmgr.wait_reason_describe('metered'),
                         'Waiting for a network that its transfer policy allows (metered)')
        download.props.group.call_sync(
            'org.freedesktop.DBus.Properties.Set',
            GLib.Variant('(ssv)', ('io.github.qmgrd.QMgr1.Group', 'TransferPolicy',
                                   GLib.Variant('u', int(Qmgr.TransferPolicy.ALWAYS)))),
            NONE, -1, None)
        wait_until(lambda: results, message='the download')
        self.assertTrue(download.run_finish(results[0]))


class SlowDownload(DaemonTestCase):
    http_rate = 256 * 1024
    big_size = 4 * 1024 * 1024

    def test_progress_and_cancel_leaves_group_running(self):
        download = Qmgr.Download.new(self.daemon.connection)
        download.add_file(self.url('big.bin'), self.dest('big.bin'))
        progress = []
        download.connect('progress', lambda d, done, total: progress.append((done, total)))
        cancellable = Gio.Cancellable()
        results = []
        download.run(cancellable, lambda d, r: results.append(r))
        wait_until(lambda: len(progress) >= 2 and progress[-1][0] > 0, message='progress')
        self.assertEqual(progress[-1][1], 4 * 1024 * 1024)
        self.assertEqual(progress, sorted(progress))
        self.assertEqual(download.props.wait_reason, 'transferring')
        cancellable.cancel()
        wait_until(lambda: results, message='the run to stop')
        with self.assertRaises(GLib.Error) as caught:
            download.run_finish(results[0])
        self.assertEqual((caught.exception.domain, caught.exception.code),
                         ('g-io-error-quark', int(Gio.IOErrorEnum.CANCELLED)))
        group = self.daemon.group(Qmgr.path_for_group(download.props.group_id))
        self.assertEqual(group.props.status, int(Qmgr.GroupStatus.INCOMPLETE))
        group.call_cancel_group_sync(NONE, -1, None)


if __name__ == '__main__':
    unittest.main(verbosity=2)
