#!/usr/bin/python3
# The examples (examples/) run against a real qmgrd on a private bus: the
# Python update tool (progress, a metered wait left to qmgrd or overridden)
# and the C program (download, then the queue through the enumerator).
import json
import subprocess
import sys

from qmgrtest import DEADLINE, DaemonTestCase, env_path, native

# A transfer policy without UNRESTRICTED, the cost state of a machine with
# no NetworkManager: qmgrd waits as on a metered network.
METERED_ONLY = '0x80000002'


class Examples(DaemonTestCase):

    def run_example(self, argv, status=0, python=False):
        env = self.daemon.environment()
        result = subprocess.run(argv, env=env if python else native(env), capture_output=True,
                                text=True, timeout=DEADLINE * 3)
        self.assertEqual(result.returncode, status, result.stdout + result.stderr)
        return result.stdout, result.stderr

    def update_tool(self, *args, status=0):
        return self.run_example([sys.executable, env_path('QMGR_EXAMPLE_UPDATE_TOOL')]
                                + list(args), status, python=True)

    def groups(self):
        out = subprocess.run([env_path('QMGRCTL'), '--json', 'list'],
                             env=native(self.daemon.environment()), capture_output=True,
                             text=True, check=True).stdout
        return json.loads(out)

    def test_update_tool_downloads(self):
        out, _ = self.update_tool(self.url('small.bin'), self.dest('a'),
                                  self.url('other.bin'), self.dest('b'))
        self.assertIn('downloaded %d of %d bytes' % (len(self.small) + 50 * 1024,
                                                      len(self.small) + 50 * 1024), out)
        self.assertEqual(out.count('state: complete'), 1, out)
        self.assertTrue(out.endswith('update downloaded\n'), out)
        with open(self.dest('a'), 'rb') as f:
            self.assertEqual(f.read(), self.small)
        self.assertEqual(self.groups(), [])

    def test_update_tool_leaves_metered_wait_to_qmgrd(self):
        out, _ = self.update_tool('--policy', METERED_ONLY, self.url('small.bin'),
                                  self.dest('a'), status=75)
        self.assertIn('state: metered (Waiting for a network that its transfer policy allows', out)
        groups = self.groups()
        self.assertEqual(len(groups), 1)
        self.assertEqual(groups[0]['wait_reason'], 'metered')
        self.assertIn(groups[0]['id'], out)

    def test_update_tool_goes_on_when_allowed(self):
        out, _ = self.update_tool('--policy', METERED_ONLY, '--allow-metered',
                                  self.url('small.bin'), self.dest('a'))
        self.assertIn('metered network: going on anyway', out)
        self.assertTrue(out.endswith('update downloaded\n'), out)

    def test_update_tool_failure(self):
        _, err = self.update_tool(self.url('missing.bin'), self.dest('m'), status=1)
        self.assertIn('HTTP 404', err)

    def test_c_example(self):
        out, _ = self.run_example([env_path('QMGR_EXAMPLE_DOWNLOAD'), self.url('small.bin'),
                                   self.dest('c.bin')])
        self.assertIn('%d of %d bytes' % (len(self.small), len(self.small)), out)
        lines = out.splitlines()
        guid = lines[-3].split()[-1]
        self.assertEqual(lines[-3], 'complete: group ' + guid)
        self.assertEqual(lines[-2:], ['1 groups in the queue', '  ' + guid])
        with open(self.dest('c.bin'), 'rb') as f:
            self.assertEqual(f.read(), self.small)

    def test_c_example_refused(self):
        _, err = self.run_example([env_path('QMGR_EXAMPLE_DOWNLOAD'), 'ftp://example.org/x',
                                   self.dest('x')], status=1)
        self.assertIn('download failed (refused)', err)


if __name__ == '__main__':
    import unittest
    unittest.main(verbosity=2)
