#!/usr/bin/python3
# qmgrctl and libqmgr in Brazilian Portuguese: a pt_BR.UTF-8 locale generated
# with localedef into a temporary directory (LOCPATH), the catalogue from the
# build tree (QMGR_LOCALEDIR). qmgrd's own sentences stay English after the
# translated summary.
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from qmgrtest import DaemonTestCase, env_path, native

LOCALE_SOURCE = '/usr/share/i18n/locales/pt_BR'


class Portuguese(DaemonTestCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(LOCALE_SOURCE):
            raise unittest.SkipTest(LOCALE_SOURCE + ' is missing (Debian package locales)')
        cls.locales = tempfile.mkdtemp(prefix='qmgrd-locale-')
        subprocess.run(['localedef', '-i', 'pt_BR', '-f', 'UTF-8',
                        os.path.join(cls.locales, 'pt_BR.UTF-8')], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.locales, ignore_errors=True)

    def env(self):
        env = self.daemon.environment()
        for name in ('LANGUAGE', 'LC_MESSAGES', 'LANG'):
            env.pop(name, None)
        env.update({'LOCPATH': self.locales, 'LC_ALL': 'pt_BR.UTF-8',
                    'QMGR_LOCALEDIR': env_path('QMGR_LOCALEDIR')})
        return env

    def qmgrctl(self, *args, status=0):
        result = subprocess.run([env_path('QMGRCTL')] + list(args), env=native(self.env()),
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, status, result.stdout + result.stderr)
        return result.stdout, result.stderr

    def test_qmgrctl_messages(self):
        _, err = self.qmgrctl('info', 'nosuch', status=3)
        self.assertEqual(err, 'qmgrctl: Nenhum grupo tem o GUID ou o nome “nosuch”\n')
        out, _ = self.qmgrctl('list')
        self.assertEqual(out, 'Nenhum grupo.\n')
        out, _ = self.qmgrctl('--help')
        self.assertIn('Verbos:', out)
        self.assertIn('Baixar arquivos e aguardar até que estejam completos', out)
        _, err = self.qmgrctl('frobnicate', status=2)
        self.assertIn('Verbo desconhecido “frobnicate”', err)

    def test_daemon_errors_translated_by_name(self):
        _, err = self.qmgrctl('transfer', 'ftp://example.org/x', self.dest('x'), status=4)
        # The summary in Portuguese, qmgrd's sentence as it sent it.
        self.assertRegex(err, r'^qmgrctl: Valor inválido: .*ftp://example.org/x.* \[0x80070057\]\n$')
        self.assertIn('http', err)
        _, err = self.qmgrctl('transfer', self.url('missing.bin'), self.dest('m'), status=9)
        self.assertIn('O servidor respondeu com um erro HTTP: The server answered HTTP 404', err)
        self.assertIn('fica na fila', err)
        out, _ = self.qmgrctl('files', 'qmgrctl transfer')
        self.assertIn('O servidor respondeu com um erro HTTP', out)

    def test_info_labels(self):
        self.qmgrctl('transfer', '--keep', '--name', 'pt', self.url('small.bin'), self.dest('a'))
        out, _ = self.qmgrctl('info', 'pt')
        self.assertIn('Nome: pt', out)
        self.assertIn('Estado: complete (Concluído)', out)
        self.assertIn('Progresso: 100,0\xa0KiB de 100,0\xa0KiB (100%), 1 de 1 arquivos', out)

    def test_library(self):
        script = '''
import locale
locale.setlocale(locale.LC_ALL, '')
import gi
gi.require_version('Qmgr', '1')
from gi.repository import Qmgr
print(Qmgr.client_error_get_summary(Qmgr.ClientError.ITEM_NOT_FOUND))
print(Qmgr.wait_reason_describe('offline'))
print(Qmgr.client_error_new_for_name('io.github.qmgrd.QMgr1.Transfer.Timeout', 'no answer').message)
'''
        result = subprocess.run([sys.executable, '-c', script], env=self.env(),
                                capture_output=True, text=True, check=True)
        self.assertEqual(result.stdout.splitlines(),
                         ['Grupo, tarefa ou arquivo inexistente', 'Aguardando a rede',
                          'O servidor demorou demais para responder: no answer'])


if __name__ == '__main__':
    unittest.main(verbosity=2)
