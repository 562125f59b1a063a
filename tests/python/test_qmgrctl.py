#!/usr/bin/python3
# qmgrctl against a real qmgrd on a private bus: every verb, --json, the exit
# codes of docs (qmgrctl(1) EXIT STATUS), the transfer verb's progress on a
# terminal and off it, Ctrl-C, and monitor.
import json
import os
import pty
import select
import signal
import subprocess
import time
import unittest

from qmgrtest import DEADLINE, DaemonTestCase, env_path, native, wait_until

EXIT_USAGE, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_STATE = 2, 3, 4, 6
EXIT_QUOTA, EXIT_UNAVAILABLE, EXIT_TRANSFER, EXIT_INTERRUPTED = 7, 8, 9, 130


class QmgrctlTestCase(DaemonTestCase):

    def env(self):
        env = native(self.daemon.environment())
        env['LC_ALL'] = 'C.UTF-8'
        env.pop('LANGUAGE', None)
        return env

    def qmgrctl(self, *args, status=0):
        '''Runs qmgrctl to the end; checks its exit status; returns stdout.'''
        result = subprocess.run([env_path('QMGRCTL')] + list(args), env=self.env(),
                                capture_output=True, text=True, timeout=DEADLINE * 3)
        self.last_stderr = result.stderr
        self.assertEqual(result.returncode, status,
                         'qmgrctl %s: %s%s' % (' '.join(args), result.stdout, result.stderr))
        return result.stdout

    def json(self, *args):
        return json.loads(self.qmgrctl('--json', *args))

    def spawn(self, *args, **kwargs):
        return subprocess.Popen([env_path('QMGRCTL')] + list(args), env=self.env(), text=True,
                                **kwargs)


class Verbs(QmgrctlTestCase):

    def test_transfer_removes_the_group(self):
        out = self.qmgrctl('transfer', self.url('small.bin'), self.dest('a.bin'),
                           self.url('other.bin'), self.daemon.files)
        self.assertIn('Complete: 2 files', out)
        self.assertNotIn('\r', out)  # not a terminal: plain lines
        with open(self.dest('a.bin'), 'rb') as f:
            self.assertEqual(f.read(), self.small)
        # An existing directory gets the URL's file name.
        self.assertTrue(os.path.exists(self.dest('other.bin')))
        self.assertEqual(self.json('list'), [])

    def test_transfer_keep_then_read(self):
        self.qmgrctl('transfer', '--keep', '--name', 'kept', self.url('small.bin'),
                     self.dest('a.bin'))
        groups = self.json('list')
        self.assertEqual([(g['display_name'], g['wait_reason'], g['status']) for g in groups],
                         [('kept', 'complete', ['complete', 'suspended'])])
        guid = groups[0]['id']
        info = self.json('info', 'kept')
        self.assertEqual((info['id'], info['status_bits'], info['files_total']), (guid, 0x140, 1))
        self.assertEqual(info['bytes_transferred'], len(self.small))
        self.assertEqual(info['job']['status'], ['complete'])
        self.assertIsNone(info['job']['last_error'])
        self.assertIn('Status: COMPLETE|SUSPENDED (0x140)', self.qmgrctl('info', guid.upper()))
        files = self.json('files', guid)
        self.assertEqual([(f['url'], f['path'], f['bytes_total']) for f in files],
                         [(self.url('small.bin'), self.dest('a.bin'), len(self.small))])
        self.assertIn(self.dest('a.bin'), self.qmgrctl('files', 'kept'))
        self.qmgrctl('cancel', 'kept')
        self.assertEqual(self.json('list'), [])

    def test_properties(self):
        guid = self.qmgrctl('create', '--name', 'props').strip()
        self.assertEqual(self.qmgrctl('getprop', 'props', 'DISPLAYNAME'), 'props\n')
        self.qmgrctl('setprop', guid, 'displayname', 'renamed')
        self.assertEqual(self.json('getprop', 'renamed', '11'),
                         {'id': 11, 'name': 'DISPLAYNAME', 'value': 'renamed'})
        self.qmgrctl('setprop', 'renamed', 'GROUPPROP_NOTIFYFLAGS', 'GROUP_DONE|FILE_DONE')
        self.assertEqual(self.qmgrctl('getprop', 'renamed', 'NOTIFYFLAGS'),
                         '0x5 (FILE_DONE|GROUP_DONE)\n')
        self.qmgrctl('setprop', 'renamed', 'PRIORITY', '2', status=EXIT_REFUSED)
        self.qmgrctl('getprop', 'renamed', 'LOCALUSERID', status=EXIT_REFUSED)
        self.qmgrctl('getprop', 'renamed', 'NOSUCH', status=EXIT_USAGE)

    def test_policy(self):
        self.qmgrctl('create', '--name', 'p', '--policy', 'not-roaming')
        self.assertEqual(self.json('policy', 'p')['transfer_policy'], 0x8000007F)
        self.qmgrctl('policy', 'p', '--transfer-policy', 'standard', '--retry-delay', '5',
                     '--bandwidth-limit', '1000')
        policy = self.json('policy', 'p')
        self.assertEqual((policy['transfer_policy'], policy['minimum_retry_delay'],
                          policy['bandwidth_limit']), (0x80000067, 5, 1000))
        self.qmgrctl('policy', 'p', '--transfer-policy', '0x100', status=EXIT_REFUSED)
        self.qmgrctl('policy', '--max-transfers', '2', '--metered-bandwidth-limit', '5000')
        manager = self.json('policy')
        self.assertEqual((manager['max_concurrent_transfers'], manager['metered_bandwidth_limit'],
                          manager['online'], manager['network_cost_state']),
                         (2, 5000, True, ['unrestricted']))
        self.assertIn('Concurrent transfers: 2', self.qmgrctl('policy'))
        self.qmgrctl('policy', '--retry-delay', '5', status=EXIT_USAGE)
        self.qmgrctl('policy', 'p', '--max-transfers', '5', status=EXIT_USAGE)

    def test_steps(self):
        created = self.json('create', '--name', 'steps')
        guid = created['id']
        self.qmgrctl('resume', 'steps', status=EXIT_STATE)  # no files yet
        self.qmgrctl('add', 'steps', self.url('small.bin'), self.dest('s.bin'))
        self.qmgrctl('add', guid, self.url('other.bin'), status=EXIT_USAGE)  # DEST missing
        self.assertIn('URL DEST', self.last_stderr)
        self.qmgrctl('suspend', guid)
        self.qmgrctl('resume', guid)
        wait_until(lambda: self.json('info', guid)['wait_reason'] == 'complete',
                   message='completion')
        self.qmgrctl('suspend', guid, status=EXIT_STATE)  # complete
        self.qmgrctl('cancel', guid)
        self.qmgrctl('info', guid, status=EXIT_NOT_FOUND)

    def test_errors(self):
        out = self.qmgrctl('transfer', 'ftp://example.org/x', self.dest('x'), status=EXIT_REFUSED)
        self.assertEqual(out, '')
        self.assertIn('ftp://example.org/x', self.last_stderr)
        self.assertTrue(self.last_stderr.rstrip().endswith('[0x80070057]'), self.last_stderr)
        self.qmgrctl('transfer', self.url('small.bin'), '/nonexistent/dir/x', status=EXIT_REFUSED)
        self.assertIn('/nonexistent/dir', self.last_stderr)
        wait_until(lambda: self.json('list') == [], message='the refused groups to go')
        self.qmgrctl('info', 'nosuch', status=EXIT_NOT_FOUND)
        self.qmgrctl('info', '00000000-0000-0000-0000-000000000001', status=EXIT_NOT_FOUND)
        self.qmgrctl('create', '--guid', 'bad', status=EXIT_REFUSED)
        self.qmgrctl('frobnicate', status=EXIT_USAGE)
        self.qmgrctl('list', 'extra', status=EXIT_USAGE)
        self.qmgrctl('--system', '--user', 'list', status=EXIT_USAGE)
        self.qmgrctl('create', '--name', 'twin')
        self.qmgrctl('create', '--name', 'twin')
        self.qmgrctl('info', 'twin', status=EXIT_USAGE)
        self.assertIn('give the GUID', self.last_stderr)

    def test_transfer_failure_keeps_group(self):
        self.qmgrctl('transfer', self.url('missing.bin'), self.dest('m.bin'), status=EXIT_TRANSFER)
        stderr = self.last_stderr
        self.assertIn('HTTP 404', stderr)
        groups = self.json('list')
        self.assertEqual(len(groups), 1)
        self.assertIn('error', groups[0]['status'])
        self.assertIn('qmgrctl resume ' + groups[0]['id'], stderr)  # how to go on
        files = self.json('files', groups[0]['id'])
        self.assertEqual(files[0]['last_error']['name'], 'io.github.qmgrd.QMgr1.Transfer.HttpStatus')
        self.assertIn('HTTP error', self.qmgrctl('files', groups[0]['id']))

    def test_daemon_not_running(self):
        self.daemon.stop()
        self.qmgrctl('list', status=EXIT_UNAVAILABLE)
        self.assertIn('not running', self.last_stderr)
        self.qmgrctl('transfer', self.url('small.bin'), self.dest('a'), status=EXIT_UNAVAILABLE)
        self.assertIn('qmgrd is not running', self.qmgrctl('--version'))

    def test_no_bus(self):
        env = self.env()
        env['DBUS_SYSTEM_BUS_ADDRESS'] = 'unix:path=' + self.daemon.path('no-such-bus')
        result = subprocess.run([env_path('QMGRCTL'), '--system', 'list'], env=env,
                                capture_output=True, text=True, timeout=DEADLINE)
        self.assertEqual(result.returncode, EXIT_UNAVAILABLE, result.stderr)
        self.assertIn('system bus', result.stderr)

    def test_version_and_help(self):
        out = self.qmgrctl('--version')
        self.assertRegex(out, r'^qmgrctl \S+\nqmgrd \S+\n$')
        help_text = self.qmgrctl('--help')
        for verb in ('transfer', 'create', 'add', 'resume', 'suspend', 'cancel', 'list', 'info',
                     'files', 'getprop', 'setprop', 'policy', 'monitor'):
            self.assertIn('  ' + verb + ' ', help_text)
        self.assertIn('--keep', self.qmgrctl('transfer', '--help'))


class Completion(QmgrctlTestCase):
    '''The bash completion, driven the way bash drives it.'''

    def complete(self, *words):
        script = '''
source /usr/share/bash-completion/bash_completion
source "$COMPLETION"
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
_qmgrctl
printf '%s\\n' "${COMPREPLY[@]}"
'''
        env = self.env()
        env['COMPLETION'] = env_path('QMGRCTL_COMPLETION')
        env['PATH'] = os.path.dirname(env_path('QMGRCTL')) + ':' + env['PATH']
        result = subprocess.run(['bash', '-c', script, 'bash'] + list(words), env=env,
                                capture_output=True, text=True, check=True)
        return result.stdout.split()

    def test_completion(self):
        if not os.path.exists('/usr/share/bash-completion/bash_completion'):
            self.skipTest('bash-completion is not installed')
        self.assertEqual(self.complete('qmgrctl', 'tr'), ['transfer'])
        self.assertIn('monitor', self.complete('qmgrctl', '--json', ''))
        self.assertIn('--keep', self.complete('qmgrctl', 'transfer', '--'))
        self.assertEqual(self.complete('qmgrctl', 'policy', 'x', '--transfer-policy', 'no-'),
                         ['no-surcharge'])
        self.assertEqual(self.complete('qmgrctl', 'getprop', 'x', 'displ'), ['DISPLAYNAME'])
        guid = self.qmgrctl('create').strip()
        self.assertEqual(self.complete('qmgrctl', 'info', guid[:4]), [guid])
        self.assertEqual(self.complete('qmgrctl', 'info', guid, ''), [])


class Quota(QmgrctlTestCase):
    daemon_config = '[Manager]\nMaxGroupsPerOwner=1\n'

    def test_quota(self):
        self.qmgrctl('create')
        self.qmgrctl('create', status=EXIT_QUOTA)
        self.assertTrue(self.last_stderr.rstrip().endswith('[0x80070718]'), self.last_stderr)


class Following(QmgrctlTestCase):
    http_rate = 512 * 1024
    big_size = 16 * 1024 * 1024

    def start_transfer(self, *args, **kwargs):
        process = self.spawn('transfer', *args, self.url('big.bin'), self.dest('big.bin'),
                             **kwargs)
        self.addCleanup(lambda: process.poll() is None and process.kill())
        return process

    def test_interrupt_leaves_group_running(self):
        process = self.start_transfer(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = process.stdout.readline()   # "Group GUID", once resumed
        self.assertTrue(first.startswith('Group '), first)
        guid = first.split()[1]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=DEADLINE)
        self.assertEqual(process.returncode, EXIT_INTERRUPTED, err)
        self.assertIn('qmgrctl monitor ' + guid, err)
        self.assertIn('qmgrctl cancel ' + guid, err)
        info = self.json('info', guid)
        self.assertIn(info['wait_reason'], ('queued', 'transferring'))
        self.assertNotIn('suspended', info['status'])

    def test_progress_bar_on_a_terminal(self):
        master, slave = pty.openpty()
        process = self.start_transfer(stdout=slave, stderr=subprocess.PIPE)
        os.close(slave)
        seen = b''
        deadline = time.monotonic() + DEADLINE
        while b'ETA' not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                seen += os.read(master, 4096)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=DEADLINE)
        os.close(master)
        text = seen.decode()
        self.assertIn('\r[', text)
        # (GLib puts a no-break space between a size and its unit.)
        self.assertRegex(text, r'\[[#.]{24}\] +\d+%  [\d.]+\s\S+ / 16.0\sMiB  [\d.]+\s\S+/s  '
                               r'ETA \d+:\d\d')
        self.assertEqual(process.returncode, EXIT_INTERRUPTED)

    def test_metered_wait_is_shown(self):
        # A policy without UNRESTRICTED, the current cost state: it waits.
        process = self.start_transfer('--policy', '0x80000002', stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
        self.assertTrue(process.stdout.readline().startswith('Group '))
        line = process.stdout.readline()
        while 'metered' not in line and line:
            line = process.stdout.readline()
        self.assertIn('(metered)', line)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=DEADLINE)
        self.assertEqual(process.returncode, EXIT_INTERRUPTED)

    def test_monitor(self):
        monitor = self.spawn('monitor', stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: monitor.poll() is None and monitor.kill())
        self.assertIn('Ctrl-C', monitor.stderr.readline())   # subscribed from here on
        self.qmgrctl('transfer', '--keep', '--name', 'mon', self.url('small.bin'),
                     self.dest('s.bin'))
        guid = self.json('list')[0]['id']
        self.qmgrctl('cancel', guid)
        monitor.send_signal(signal.SIGINT)
        out, _ = monitor.communicate(timeout=DEADLINE)
        self.assertEqual(monitor.returncode, 0)
        lines = [line for line in out.splitlines() if guid in line]
        events = [line.split()[2] for line in lines]
        self.assertEqual(events[0], 'InterfacesAdded')
        self.assertIn('OnStatus', events)
        self.assertIn('PropertiesChanged', events)
        self.assertEqual(events[-1], 'InterfacesRemoved')
        self.assertTrue(any('Status=COMPLETE|SUSPENDED' in line for line in lines), out)

    def test_monitor_one_group_as_json(self):
        guid = self.qmgrctl('create', '--name', 'one').strip()
        monitor = self.spawn('monitor', '--json', 'one', stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.addCleanup(lambda: monitor.poll() is None and monitor.kill())
        monitor.stderr.readline()
        self.qmgrctl('create', '--name', 'other')
        self.qmgrctl('add', guid, self.url('small.bin'), self.dest('one.bin'))
        self.qmgrctl('cancel', guid)
        # The group's removal ends it.
        out, _ = monitor.communicate(timeout=DEADLINE)
        self.assertEqual(monitor.returncode, 0)
        events = [json.loads(line) for line in out.splitlines()]
        self.assertTrue(all(guid.replace('-', '') in e['path'] or
                            guid.replace('-', '') in json.dumps(e['arguments'])
                            for e in events), events)
        self.assertEqual(events[-1]['signal'], 'InterfacesRemoved')


if __name__ == '__main__':
    unittest.main(verbosity=2)
