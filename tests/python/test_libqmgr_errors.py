#!/usr/bin/python3
# libqmgr — the client error domain through the typelib: every row of the
# error table (each name qmgrd or the bus sends, each Transfer.* name) gets
# its own code, a translated summary and the daemon's sentence ending with
# the HRESULT; and the errors a real qmgrd returns arrive that way.
import unittest

from qmgrtest import DaemonTestCase, Gio, GLib, Qmgr

E = Qmgr.ClientError
DAEMON = 'io.github.qmgrd.QMgr1.Error.'
FDO = 'org.freedesktop.DBus.Error.'
TRANSFER = 'io.github.qmgrd.QMgr1.Transfer.'

# (name, code, HRESULT or 0) — docs/dbus-api.md "Errors", plus the bus's own.
TABLE = [
    (DAEMON + 'InvalidState', E.INVALID_STATE, 0x81001001),
    (DAEMON + 'ServiceUnavailable', E.SERVICE_UNAVAILABLE, 0x81001002),
    (DAEMON + 'DownloaderUnavailable', E.DOWNLOADER_UNAVAILABLE, 0x81001003),
    (DAEMON + 'ItemNotFound', E.ITEM_NOT_FOUND, 0x81001004),
    (FDO + 'InvalidArgs', E.INVALID_ARGS, 0x80070057),
    (FDO + 'NotSupported', E.NOT_SUPPORTED, 0x80004001),
    (FDO + 'AccessDenied', E.ACCESS_DENIED, 0x80070005),
    (FDO + 'InteractiveAuthorizationRequired', E.INTERACTIVE_AUTHORIZATION_REQUIRED, 0x80070005),
    (FDO + 'LimitsExceeded', E.LIMITS_EXCEEDED, 0x80070718),
    (FDO + 'Failed', E.FAILED, 0x80004005),
    (FDO + 'UnknownObject', E.UNKNOWN_OBJECT, 0x81001004),
    (FDO + 'ServiceUnknown', E.SERVICE_UNKNOWN, 0),
    (FDO + 'NameHasNoOwner', E.SERVICE_UNKNOWN, 0),
    (FDO + 'NoReply', E.NO_REPLY, 0),
    (FDO + 'Timeout', E.NO_REPLY, 0),
    (FDO + 'TimedOut', E.NO_REPLY, 0),
    (FDO + 'Disconnected', E.NO_REPLY, 0),
    (TRANSFER + 'HttpStatus', E.TRANSFER_HTTP_STATUS, 0),
    (TRANSFER + 'ConnectionFailed', E.TRANSFER_CONNECTION_FAILED, 0),
    (TRANSFER + 'HostNotFound', E.TRANSFER_HOST_NOT_FOUND, 0),
    (TRANSFER + 'Timeout', E.TRANSFER_TIMEOUT, 0),
    (TRANSFER + 'TlsFailure', E.TRANSFER_TLS_FAILURE, 0),
    (TRANSFER + 'TooManyRedirects', E.TRANSFER_TOO_MANY_REDIRECTS, 0),
    (TRANSFER + 'ForbiddenRedirect', E.TRANSFER_FORBIDDEN_REDIRECT, 0),
    (TRANSFER + 'BadResponse', E.TRANSFER_BAD_RESPONSE, 0),
    (TRANSFER + 'LocalFile', E.TRANSFER_LOCAL_FILE, 0),
    (TRANSFER + 'NoProgress', E.TRANSFER_NO_PROGRESS, 0),
    (TRANSFER + 'Cancelled', E.TRANSFER_CANCELLED, 0),
]

# The names qmgrd itself sends as method errors or in LastError.
DAEMON_SENT = [row for row in TABLE
               if not row[0].startswith(FDO) or row[0] in (
                   FDO + 'InvalidArgs', FDO + 'NotSupported', FDO + 'AccessDenied',
                   FDO + 'InteractiveAuthorizationRequired', FDO + 'LimitsExceeded',
                   FDO + 'Failed', FDO + 'UnknownObject')]

DOMAIN = 'qmgr-client-error-quark'


def as_gdbus_would(name, sentence):
    '''The GError a proxy call gets for a D-Bus error reply.'''
    return Gio.DBusError.new_for_dbus_error(name, sentence)


class ErrorTable(unittest.TestCase):

    def test_every_row(self):
        for name, code, hresult in TABLE:
            with self.subTest(name=name):
                sentence = 'Something about “x” went wrong'
                if hresult:
                    sentence += ' [0x%08x]' % hresult
                converted = Qmgr.client_error_new_from_dbus(as_gdbus_would(name, sentence))
                self.assertEqual(converted.domain, DOMAIN)
                self.assertEqual(converted.code, int(code))
                summary = Qmgr.client_error_get_summary(code)
                self.assertTrue(converted.message.startswith(summary + ': '), converted.message)
                self.assertIn('Something about “x” went wrong', converted.message)
                self.assertNotIn('GDBus.Error', converted.message)
                if hresult:
                    self.assertTrue(converted.message.endswith('[0x%08x]' % hresult),
                                    converted.message)
                    self.assertEqual(converted.message.count('[0x'), 1, converted.message)
                self.assertEqual(Qmgr.client_error_get_hresult(converted), hresult)
                found, looked_up = Qmgr.client_error_from_dbus_name(name)
                self.assertTrue(found)
                self.assertEqual(looked_up, code)

    def test_hresult_added_when_missing(self):
        # sd-bus's own errors (UnknownObject, a bad signature) carry no HRESULT.
        for name, code, hresult in TABLE:
            if not hresult:
                continue
            with self.subTest(name=name):
                converted = Qmgr.client_error_new_from_dbus(as_gdbus_would(name, 'plain'))
                self.assertTrue(converted.message.endswith(': plain [0x%08x]' % hresult),
                                converted.message)

    def test_daemon_names_are_distinct_codes(self):
        codes = [int(code) for _, code, _ in DAEMON_SENT]
        self.assertEqual(len(codes), len(set(codes)))
        # Every code of the enumeration but UNKNOWN has a name.
        for value in range(int(E.UNKNOWN)):
            self.assertIsNotNone(Qmgr.client_error_get_dbus_name(value), value)
        self.assertIsNone(Qmgr.client_error_get_dbus_name(E.UNKNOWN))

    def test_primary_names_round_trip(self):
        for name, code, _ in TABLE:
            primary = Qmgr.client_error_get_dbus_name(code)
            self.assertEqual(Qmgr.client_error_from_dbus_name(primary), (True, code))

    def test_transfer_errors_from_last_error(self):
        for name, code, _ in TABLE:
            if not name.startswith(TRANSFER):
                continue
            with self.subTest(name=name):
                error = Qmgr.client_error_new_for_name(name, 'The server answered HTTP 404')
                self.assertEqual((error.domain, error.code), (DOMAIN, int(code)))
                self.assertTrue(error.message.endswith(': The server answered HTTP 404'))
        self.assertIsNone(Qmgr.client_error_new_for_name('', ''))

    def test_unknown_name(self):
        converted = Qmgr.client_error_new_from_dbus(
            as_gdbus_would('org.example.Strange', 'what'))
        self.assertEqual((converted.domain, converted.code), (DOMAIN, int(E.UNKNOWN)))
        self.assertIn('org.example.Strange', converted.message)
        self.assertEqual(Qmgr.client_error_from_dbus_name('org.example.Strange'),
                         (False, E.UNKNOWN))

    def test_local_errors(self):
        timed_out = GLib.Error.new_literal(Gio.io_error_quark(), 'Timeout was reached',
                                           int(Gio.IOErrorEnum.TIMED_OUT))
        converted = Qmgr.client_error_new_from_dbus(timed_out)
        self.assertEqual((converted.domain, converted.code), (DOMAIN, int(E.NO_REPLY)))
        cancelled = GLib.Error.new_literal(Gio.io_error_quark(), 'Operation was cancelled',
                                           int(Gio.IOErrorEnum.CANCELLED))
        kept = Qmgr.client_error_new_from_dbus(cancelled)
        self.assertEqual((kept.domain, kept.code),
                         ('g-io-error-quark', int(Gio.IOErrorEnum.CANCELLED)))

    def test_converting_twice_changes_nothing(self):
        once = Qmgr.client_error_new_from_dbus(as_gdbus_would(DAEMON + 'InvalidState',
                                                              'No files [0x81001001]'))
        twice = Qmgr.client_error_new_from_dbus(once)
        self.assertEqual((twice.code, twice.message), (once.code, once.message))


class DaemonErrors(DaemonTestCase):
    '''The errors of a real qmgrd, raw (as GDBus gives them) and converted.'''

    def call_error(self, function, *args):
        try:
            function(*args, Gio.DBusCallFlags.NONE, -1, None)
        except GLib.Error as e:
            return e, Qmgr.client_error_new_from_dbus(e)
        self.fail('the call succeeded')

    def new_group(self):
        path = self.manager.call_create_group_sync('', Gio.DBusCallFlags.NONE, -1, None)
        return self.daemon.group(path)

    def check(self, converted, code, hresult, *words):
        self.assertEqual((converted.domain, converted.code), (DOMAIN, int(code)),
                         converted.message)
        self.assertTrue(converted.message.startswith(Qmgr.client_error_get_summary(code)))
        self.assertTrue(converted.message.endswith('[0x%08x]' % hresult), converted.message)
        for word in words:
            self.assertIn(word, converted.message)

    def test_invalid_args(self):
        raw, converted = self.call_error(self.manager.call_create_group_sync, 'not-a-guid')
        self.assertEqual(Gio.DBusError.get_remote_error(raw), FDO + 'InvalidArgs')
        self.check(converted, E.INVALID_ARGS, 0x80070057, 'not-a-guid')

    def test_item_not_found_arrives_in_the_domain(self):
        guid = Qmgr.guid_new_random()
        raw, converted = self.call_error(self.manager.call_get_group_sync, guid)
        # qmgrd's own names are registered: the raw error is already ours.
        self.assertEqual((raw.domain, raw.code), (DOMAIN, int(E.ITEM_NOT_FOUND)))
        self.check(converted, E.ITEM_NOT_FOUND, 0x81001004, guid)

    def test_not_supported(self):
        _, converted = self.call_error(self.manager.call_enum_groups_sync, 1)
        self.check(converted, E.NOT_SUPPORTED, 0x80004001)

    def test_invalid_state(self):
        group = self.new_group()
        _, converted = self.call_error(group.call_resume_group_sync)
        self.check(converted, E.INVALID_STATE, 0x81001001)

    def test_unknown_object(self):
        path = Qmgr.path_for_group(Qmgr.guid_new_random())
        group = Qmgr.GroupProxy.new_sync(self.daemon.connection,
                                         Gio.DBusProxyFlags.DO_NOT_LOAD_PROPERTIES,
                                         Qmgr.BUS_NAME, path, None)
        _, converted = self.call_error(group.call_resume_group_sync)
        self.check(converted, E.UNKNOWN_OBJECT, 0x81001004)

    def test_refused_url_says_why(self):
        group = self.new_group()
        job = self.daemon.job(group.call_create_job_sync('', Gio.DBusCallFlags.NONE, -1, None))
        _, converted = self.call_error(job.call_add_files_sync,
                                       GLib.Variant('a(sst)',
                                                    [('ftp://example.org/x', self.dest('x'), 0)]))
        self.check(converted, E.INVALID_ARGS, 0x80070057, 'ftp://example.org/x')

    def test_service_unknown(self):
        self.daemon.stop()
        _, converted = self.call_error(self.manager.call_enum_groups_sync, 0)
        self.assertEqual((converted.domain, converted.code), (DOMAIN, int(E.SERVICE_UNKNOWN)))

    def test_enumerator_errors_are_converted(self):
        self.daemon.stop()
        with self.assertRaises(GLib.Error) as caught:
            Qmgr.EnumGroups.new_sync(self.manager, None)
        self.assertEqual((caught.exception.domain, caught.exception.code),
                         (DOMAIN, int(E.SERVICE_UNKNOWN)))


class LimitsExceeded(DaemonTestCase):

    daemon_config = '[Manager]\nMaxGroupsPerOwner=1\n'

    def test_quota(self):
        self.manager.call_create_group_sync('', Gio.DBusCallFlags.NONE, -1, None)
        with self.assertRaises(GLib.Error) as caught:
            self.manager.call_create_group_sync('', Gio.DBusCallFlags.NONE, -1, None)
        converted = Qmgr.client_error_new_from_dbus(caught.exception)
        self.assertEqual((converted.domain, converted.code), (DOMAIN, int(E.LIMITS_EXCEEDED)))
        self.assertTrue(converted.message.endswith('[0x80070718]'), converted.message)


if __name__ == '__main__':
    unittest.main(verbosity=2)
