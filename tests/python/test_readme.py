#!/usr/bin/python3
# The README's examples (its "Using it" section) work when pasted: each shell
# and Python block runs against a real qmgrd on a private bus, with the
# README's remote URLs and destinations swapped for the test server's and a
# temporary directory's. Blocks that follow signals forever (monitor) or
# start a daemon of their own are left out, line by line or whole.
import os
import re
import subprocess
import sys
import unittest

from qmgrtest import (DEADLINE, DaemonTestCase, HttpServer, env_path, native, pattern,
                      wait_until)

README = os.path.join(os.path.dirname(__file__), '..', '..', 'README.md')


def using_it_blocks():
    '''(language, text) of every fenced block in the README's "Using it".'''
    with open(README) as f:
        text = f.read()
    section = re.search(r'^## Using it\n(.*?)^## ', text, re.M | re.S)
    if section is None:
        raise AssertionError('README.md has no "Using it" section')
    return re.findall(r'^```(\w+)\n(.*?)^```', section.group(1), re.M | re.S)


class Readme(DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.remote = {
            'https://deb.debian.org/debian/README': ('small.bin', self.small),
            'https://example.org/a.iso': ('a.iso', pattern(3000, seed=1)),
            'https://example.org/b.iso': ('b.iso', pattern(5000, seed=2)),
            'https://example.org/a.img': ('a.img', pattern(7000, seed=3)),
        }
        for name, content in self.remote.values():
            if name != 'small.bin':
                self.daemon.serve(name, content)
        # qmgr-test-httpd reads its directory when it starts.
        self.http.stop()
        self.http = HttpServer(self.daemon.served)
        self.addCleanup(self.http.stop)
        self.addCleanup(self.daemon.stop)  # before the server, as in DaemonTestCase
        self.local = {path: self.dest(os.path.basename(path))
                      for path in ('/tmp/README', '/tmp/a.iso', '/tmp/b.iso', '/var/tmp/a.img')}
        self.blocks = using_it_blocks()

    def localize(self, text):
        for url, (name, _) in self.remote.items():
            text = text.replace(url, self.url(name))
        for path, replacement in self.local.items():
            text = re.sub(re.escape(path) + r'\b', replacement, text)
        return text

    def run_block(self, argv, text):
        env = self.daemon.environment()
        if argv[0] == 'sh':
            env = native(env)
            env['PATH'] = os.path.dirname(env_path('QMGRCTL')) + ':' + env['PATH']
        result = subprocess.run(argv, input=text, env=env, capture_output=True, text=True,
                                timeout=DEADLINE * 3)
        self.assertEqual(result.returncode, 0,
                         '%s\n--- stdout\n%s--- stderr\n%s' % (text, result.stdout, result.stderr))
        return result.stdout

    def shell_blocks(self, marker):
        found = [text for language, text in self.blocks if language == 'sh' and marker in text]
        self.assertTrue(found, 'no sh block in "Using it" runs ' + marker)
        for text in found:
            # Following signals never ends; starting qmgrd is the harness's job.
            if 'qmgrd --state-dir' in text:
                continue
            lines = [line for line in text.splitlines() if ' monitor' not in line]
            yield 'set -e\n' + self.localize('\n'.join(lines) + '\n')

    def assert_arrived(self, url, path):
        with open(self.local[path], 'rb') as f:
            self.assertEqual(f.read(), self.remote[url][1])

    def test_qmgrctl(self):
        for text in self.shell_blocks('qmgrctl '):
            self.run_block(['sh'], text)
        self.assert_arrived('https://deb.debian.org/debian/README', '/tmp/README')
        # The queued group is left to qmgrd, which finishes it.
        wait_until(lambda: os.path.exists(self.local['/var/tmp/a.img']),
                   message='the queued group completes')
        self.assert_arrived('https://example.org/a.img', '/var/tmp/a.img')

    def test_busctl(self):
        for text in self.shell_blocks('busctl '):
            out = self.run_block(['sh'], text)
            self.assertRegex(out, r'\bas \d')  # EnumGroups answered

    def test_gdbus(self):
        for text in self.shell_blocks('gdbus '):
            out = self.run_block(['sh'], text)
            self.assertIn('(uint32 384, uint32 0)', out)

    def test_python(self):
        found = [text for language, text in self.blocks if language == 'python']
        self.assertEqual(len(found), 1)
        self.run_block([sys.executable, '-'], self.localize(found[0]))
        self.assert_arrived('https://deb.debian.org/debian/README', '/tmp/README')


if __name__ == '__main__':
    unittest.main()
