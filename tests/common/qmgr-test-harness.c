/* qmgrd tests — the harness that runs the real daemon on a private bus. Each daemon gets
 * its own dbus-daemon and temp tree, so tests run in parallel; waiting is always on an
 * event (name owner, pidfd readable) with a deadline, and the daemon's log is printed
 * whenever a test fails or the daemon does not exit cleanly. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "qmgr-test-harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#define DEADLINE_MS 20000
#define CALL_TIMEOUT_MS 25000
#define MAX_TRACKED 16

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

struct _QmgrTestDaemon {
  GTestDBus *bus;
  GDBusConnection *connection;
  char *root;
  char *state_dir;
  char *config_dir;
  char *files_dir;
  char *xdg_dir;
  char *services_dir;  /* the private bus's <servicedir> */
  char *log_path;
  GPid pid;            /* 0 when no process is running or waiting to be reaped */
  int pidfd;
  int wait_status;
  gboolean reaped;
  guint n_starts;
  int slot;            /* index in tracked[] while a process exists */
  char *owner;         /* unique name of the last run's connection */
  GHashTable *extra_env; /* name → value (NULL: unset), applied at each start */
};

/* What the crash handler needs, kept in plain static memory: it runs in a signal
 * handler and may only use async-signal-safe calls. */
typedef struct {
  volatile pid_t pid;
  char log_path[1024];
} Tracked;

static Tracked tracked[MAX_TRACKED];

static void
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      buf += n;
      len -= (size_t) n;
    }
}

static void
crash_handler (int signo)
{
  static const char banner[] = "\n=== test failed: qmgrd log ===\n";
  static const char footer[] = "=== end of qmgrd log ===\n";

  for (guint i = 0; i < MAX_TRACKED; i++)
    {
      pid_t pid = tracked[i].pid;
      char buf[4096];
      ssize_t n;
      int fd;

      if (pid <= 0)
        continue;
      kill (pid, SIGKILL);
      write_all (STDERR_FILENO, banner, sizeof banner - 1);
      fd = open (tracked[i].log_path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          while ((n = read (fd, buf, sizeof buf)) > 0)
            write_all (STDERR_FILENO, buf, (size_t) n);
          close (fd);
        }
      write_all (STDERR_FILENO, footer, sizeof footer - 1);
      tracked[i].pid = 0;
    }
  signal (signo, SIG_DFL);
  raise (signo);
}

static void
install_crash_handler_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      /* g_assert() and g_error(); crashes are left to the sanitizers' own handlers. */
      static const int signals[] = { SIGABRT, SIGTRAP };
      struct sigaction sa;

      memset (&sa, 0, sizeof sa);
      sa.sa_handler = crash_handler;
      sigemptyset (&sa.sa_mask);
      sa.sa_flags = SA_RESETHAND;
      for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
        sigaction (signals[i], &sa, NULL);
      g_once_init_leave (&done, 1);
    }
}

static void
track (QmgrTestDaemon *d)
{
  for (guint i = 0; i < MAX_TRACKED; i++)
    if (tracked[i].pid == 0)
      {
        g_strlcpy (tracked[i].log_path, d->log_path, sizeof tracked[i].log_path);
        tracked[i].pid = d->pid;
        d->slot = (int) i;
        return;
      }
  d->slot = -1;
}

static void
untrack (QmgrTestDaemon *d)
{
  if (d->slot >= 0)
    tracked[d->slot].pid = 0;
  d->slot = -1;
}

static void
print_log (QmgrTestDaemon *d, const char *why)
{
  g_autofree char *contents = NULL;

  g_printerr ("\n=== %s: qmgrd log (%s) ===\n", why, d->log_path);
  if (g_file_get_contents (d->log_path, &contents, NULL, NULL))
    g_printerr ("%s", contents);
  g_printerr ("=== end of qmgrd log ===\n");
}

static void
fail_with_log (QmgrTestDaemon *d, const char *file, int line, const char *message)
{
  print_log (d, message);
  /* The log is printed: the crash handler must not print it again. */
  untrack (d);
  g_assertion_message (G_LOG_DOMAIN, file, line, G_STRFUNC, message);
}

static void
make_dir (const char *path, int mode)
{
  if (g_mkdir_with_parents (path, mode) != 0)
    g_error ("Cannot create %s: %s", path, g_strerror (errno));
}

/* GTestDBus forks a watcher that kills the bus when the test process dies, noticed as
 * EOF on a pipe. GLib creates that pipe without O_CLOEXEC, so every later dbus-daemon
 * inherits its write end; after a failed assertion the watcher then waits forever and
 * so does the test runner, which reads the test's stdout until every holder exits.
 * Marking our descriptors close-on-exec before each bus starts avoids that. */
static void
mark_descriptors_cloexec (void)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *entry;

  if (dir == NULL)
    return;
  while ((entry = readdir (dir)) != NULL)
    {
      int fd = atoi (entry->d_name);
      int flags;

      if (fd < 3 || fd == dirfd (dir))
        continue;
      flags = fcntl (fd, F_GETFD);
      if (flags >= 0 && !(flags & FD_CLOEXEC))
        fcntl (fd, F_SETFD, flags | FD_CLOEXEC);
    }
  closedir (dir);
}

QmgrTestDaemon *
qmgr_test_daemon_new (void)
{
  QmgrTestDaemon *d = g_new0 (QmgrTestDaemon, 1);
  g_autoptr(GError) error = NULL;

  install_crash_handler_once ();

  d->pidfd = -1;
  d->slot = -1;
  d->root = g_dir_make_tmp ("qmgrd-test-XXXXXX", &error);
  g_assert_no_error (error);
  d->state_dir = g_build_filename (d->root, "state", NULL);
  d->config_dir = g_build_filename (d->root, "config", NULL);
  d->files_dir = g_build_filename (d->root, "files", NULL);
  d->xdg_dir = g_build_filename (d->root, "xdg", NULL);
  d->services_dir = g_build_filename (d->root, "services", NULL);
  d->log_path = g_build_filename (d->root, "qmgrd.log", NULL);
  make_dir (d->state_dir, 0700);
  make_dir (d->config_dir, 0700);
  make_dir (d->files_dir, 0700);
  make_dir (d->services_dir, 0700);
  for (const char *const *sub = (const char *const[]) { "state", "data", "cache", "runtime",
                                                        "config-dirs", NULL };
       *sub; sub++)
    {
      g_autofree char *path = g_build_filename (d->xdg_dir, *sub, NULL);
      make_dir (path, 0700);
    }

  d->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_add_service_dir (d->bus, d->services_dir);
  mark_descriptors_cloexec ();
  g_test_dbus_up (d->bus);
  return d;
}

static char **
daemon_environment (QmgrTestDaemon *d)
{
  char **env = g_get_environ ();
  g_autofree char *xdg_state = g_build_filename (d->xdg_dir, "state", NULL);
  g_autofree char *xdg_data = g_build_filename (d->xdg_dir, "data", NULL);
  g_autofree char *xdg_cache = g_build_filename (d->xdg_dir, "cache", NULL);
  g_autofree char *xdg_runtime = g_build_filename (d->xdg_dir, "runtime", NULL);
  g_autofree char *xdg_config_dirs = g_build_filename (d->xdg_dir, "config-dirs", NULL);
  /* No system bus: the daemon must not see the host's NetworkManager, so every test
   * runs online and UNRESTRICTED, as docs/dbus-api.md says for "no NetworkManager". */
  g_autofree char *no_system_bus = g_strdup_printf ("unix:path=%s/no-system-bus", d->root);

  env = g_environ_setenv (env, "DBUS_SESSION_BUS_ADDRESS", qmgr_test_daemon_get_bus_address (d),
                          TRUE);
  env = g_environ_setenv (env, "DBUS_SYSTEM_BUS_ADDRESS", no_system_bus, TRUE);
  env = g_environ_unsetenv (env, "DBUS_STARTER_ADDRESS");
  env = g_environ_unsetenv (env, "DBUS_STARTER_BUS_TYPE");
  env = g_environ_setenv (env, "XDG_STATE_HOME", xdg_state, TRUE);
  env = g_environ_setenv (env, "XDG_CONFIG_HOME", d->config_dir, TRUE);
  env = g_environ_setenv (env, "XDG_CONFIG_DIRS", xdg_config_dirs, TRUE);
  env = g_environ_setenv (env, "XDG_DATA_HOME", xdg_data, TRUE);
  env = g_environ_setenv (env, "XDG_CACHE_HOME", xdg_cache, TRUE);
  env = g_environ_setenv (env, "XDG_RUNTIME_DIR", xdg_runtime, TRUE);
  if (d->extra_env != NULL)
    {
      GHashTableIter iter;
      gpointer name, value;

      g_hash_table_iter_init (&iter, d->extra_env);
      while (g_hash_table_iter_next (&iter, &name, &value))
        env = value != NULL ? g_environ_setenv (env, name, value, TRUE)
                            : g_environ_unsetenv (env, name);
    }
  return env;
}

void
qmgr_test_daemon_set_env (QmgrTestDaemon *d, const char *name, const char *value)
{
  g_return_if_fail (name != NULL && *name != '\0' && strchr (name, '=') == NULL);
  if (d->extra_env == NULL)
    d->extra_env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (d->extra_env, g_strdup (name), g_strdup (value));
}

static void
child_setup (G_GNUC_UNUSED gpointer user_data)
{
  /* If the test process dies without cleaning up, the daemon goes with it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

typedef struct {
  QmgrTestDaemon *d;
  gboolean appeared;
  gboolean exited;
} StartWait;

static void
name_appeared (G_GNUC_UNUSED GDBusConnection *connection, G_GNUC_UNUSED const char *name,
               const char *owner,
               gpointer user_data)
{
  StartWait *w = user_data;

  /* Right after a restart the bus may not have noticed the previous run's exit yet. */
  if (g_strcmp0 (owner, w->d->owner) == 0)
    return;
  g_free (w->d->owner);
  w->d->owner = g_strdup (owner);
  w->appeared = TRUE;
}

static gboolean
pidfd_readable (G_GNUC_UNUSED int fd, G_GNUC_UNUSED GIOCondition condition,
                gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
start_done (gpointer user_data)
{
  StartWait *w = user_data;
  return w->appeared || w->exited;
}

static gboolean
flag_set (gpointer user_data)
{
  return *(gboolean *) user_data;
}

void
qmgr_test_daemon_start (QmgrTestDaemon *d, const char *const *extra_args)
{
  const char *binary = g_getenv ("QMGRD_BINARY");
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) env = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *banner = NULL;
  g_autofree char *joined = NULL;
  StartWait w = { d, FALSE, FALSE };
  guint watch, fd_source;
  int log_fd;

  g_assert_nonnull (binary);
  g_assert_cmpint (d->pid, ==, 0);

  g_ptr_array_add (argv, g_strdup (binary));
  g_ptr_array_add (argv, g_strdup ("--state-dir"));
  g_ptr_array_add (argv, g_strdup (d->state_dir));
  for (const char *const *arg = extra_args; arg && *arg; arg++)
    g_ptr_array_add (argv, g_strdup (*arg));
  g_ptr_array_add (argv, NULL);
  env = daemon_environment (d);

  log_fd = open (d->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  g_assert_cmpint (log_fd, >=, 0);
  joined = extra_args ? g_strjoinv (" ", (char **) extra_args) : g_strdup ("");
  banner = g_strdup_printf ("=== qmgrd run %u: --state-dir %s %s ===\n", ++d->n_starts,
                            d->state_dir, joined);
  write_all (log_fd, banner, strlen (banner));

  g_spawn_async_with_pipes_and_fds (d->root, (const char *const *) argv->pdata,
                                    (const char *const *) env,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
                                    child_setup, NULL, -1, log_fd, log_fd, NULL, NULL, 0,
                                    &d->pid, NULL, NULL, NULL, &error);
  close (log_fd);
  g_assert_no_error (error);
  d->reaped = FALSE;
  d->wait_status = 0;
  track (d);

  d->pidfd = (int) syscall (SYS_pidfd_open, d->pid, 0);
  g_assert_cmpint (d->pidfd, >=, 0);

  watch = g_bus_watch_name_on_connection (qmgr_test_daemon_get_connection (d),
                                          QMGR_TEST_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                          name_appeared, NULL, &w, NULL);
  fd_source = g_unix_fd_add (d->pidfd, G_IO_IN, pidfd_readable, &w.exited);
  qmgr_test_wait_until (start_done, &w, DEADLINE_MS);
  g_bus_unwatch_name (watch);
  if (!w.exited)
    g_source_remove (fd_source);

  if (!w.appeared)
    {
      g_autofree char *msg = NULL;

      if (qmgr_test_daemon_is_running (d))
        msg = g_strdup_printf ("qmgrd (pid %d) did not own %s within %d ms", d->pid,
                               QMGR_TEST_BUS_NAME, DEADLINE_MS);
      else
        msg = g_strdup_printf ("qmgrd exited during start-up (wait status 0x%x)",
                               (guint) d->wait_status);
      fail_with_log (d, __FILE__, __LINE__, msg);
    }
}

static gboolean
reap (QmgrTestDaemon *d, int options)
{
  int status = 0;
  pid_t r;

  if (d->reaped)
    return TRUE;
  do
    r = waitpid (d->pid, &status, options);
  while (r < 0 && errno == EINTR);
  if (r == d->pid)
    {
      d->reaped = TRUE;
      d->wait_status = status;
      return TRUE;
    }
  g_assert_cmpint (r, ==, 0);
  return FALSE;
}

static void
forget_process (QmgrTestDaemon *d)
{
  untrack (d);
  if (d->pidfd >= 0)
    close (d->pidfd);
  d->pidfd = -1;
  d->pid = 0;
}

gboolean
qmgr_test_daemon_is_running (QmgrTestDaemon *d)
{
  if (d->pid == 0)
    return FALSE;
  return !reap (d, WNOHANG);
}

static gboolean
wait_for_exit (QmgrTestDaemon *d, guint timeout_ms)
{
  gboolean exited = d->reaped;

  if (!exited)
    {
      guint source = g_unix_fd_add (d->pidfd, G_IO_IN, pidfd_readable, &exited);
      qmgr_test_wait_until (flag_set, &exited, timeout_ms);
      if (!exited)
        g_source_remove (source);
    }
  return exited && reap (d, 0);
}

void
qmgr_test_daemon_stop (QmgrTestDaemon *d)
{
  g_autofree char *msg = NULL;
  int status;

  if (d->pid == 0)
    return;
  if (!d->reaped)
    kill (d->pid, SIGTERM);
  if (!wait_for_exit (d, DEADLINE_MS))
    {
      msg = g_strdup_printf ("qmgrd (pid %d) did not exit within %d ms of SIGTERM", d->pid,
                             DEADLINE_MS);
      fail_with_log (d, __FILE__, __LINE__, msg);
    }

  status = d->wait_status;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    {
      forget_process (d);
      return;
    }
  if (WIFEXITED (status))
    msg = g_strdup_printf ("qmgrd exited with status %d (a sanitizer report or an error)",
                           WEXITSTATUS (status));
  else
    msg = g_strdup_printf ("qmgrd was killed by signal %d (%s)", WTERMSIG (status),
                           g_strsignal (WTERMSIG (status)));
  fail_with_log (d, __FILE__, __LINE__, msg);
}

void
qmgr_test_daemon_kill (QmgrTestDaemon *d)
{
  if (d->pid == 0)
    return;
  if (!d->reaped)
    kill (d->pid, SIGKILL);
  if (!wait_for_exit (d, DEADLINE_MS))
    fail_with_log (d, __FILE__, __LINE__, "qmgrd did not die of SIGKILL");
  forget_process (d);
}

GDBusConnection *
qmgr_test_daemon_get_connection (QmgrTestDaemon *d)
{
  if (d->connection == NULL)
    d->connection = qmgr_test_daemon_new_connection (d);
  return d->connection;
}

GDBusConnection *
qmgr_test_daemon_new_connection (QmgrTestDaemon *d)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection;

  connection = g_dbus_connection_new_for_address_sync (
      qmgr_test_daemon_get_bus_address (d),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
      G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  return connection;
}

const char *
qmgr_test_daemon_get_state_dir (QmgrTestDaemon *d)
{
  return d->state_dir;
}

const char *
qmgr_test_daemon_get_config_dir (QmgrTestDaemon *d)
{
  return d->config_dir;
}

const char *
qmgr_test_daemon_get_files_dir (QmgrTestDaemon *d)
{
  return d->files_dir;
}

const char *
qmgr_test_daemon_get_bus_address (QmgrTestDaemon *d)
{
  return g_test_dbus_get_bus_address (d->bus);
}

void
qmgr_test_daemon_add_service (QmgrTestDaemon *d, const char *name, const char *const *argv)
{
  g_autoptr(GString) exec = g_string_new (NULL);
  g_autofree char *file = g_strconcat (name, ".service", NULL);
  g_autofree char *path = g_build_filename (d->services_dir, file, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_dbus_is_name (name) && !g_dbus_is_unique_name (name));
  g_assert_nonnull (argv);
  g_assert_true (argv[0] != NULL && g_path_is_absolute (argv[0]));
  /* dbus-daemon splits Exec as a shell would (it took GLib's parser). */
  for (const char *const *arg = argv; *arg; arg++)
    {
      g_autofree char *quoted = g_shell_quote (*arg);

      if (exec->len > 0)
        g_string_append_c (exec, ' ');
      g_string_append (exec, quoted);
    }
  /* dbus-daemon notices the new file and tries to reload its configuration, which
   * GTestDBus has already deleted ("Unable to reload configuration" on stderr): the
   * old one stays, and the unknown name makes it read its service directories. */
  contents = g_strdup_printf ("[D-BUS Service]\nName=%s\nExec=%s\n", name, exec->str);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

const char *
qmgr_test_daemon_get_log (QmgrTestDaemon *d)
{
  return d->log_path;
}

GPid
qmgr_test_daemon_get_pid (QmgrTestDaemon *d)
{
  return d->pid;
}

static int
make_removable (const char *path, G_GNUC_UNUSED const struct stat *st, int type,
                G_GNUC_UNUSED struct FTW *ftw)
{
  if (type == FTW_D || type == FTW_DNR)
    chmod (path, 0700);
  return 0;
}

static int
remove_entry (const char *path, G_GNUC_UNUSED const struct stat *st, G_GNUC_UNUSED int type,
              G_GNUC_UNUSED struct FTW *ftw)
{
  if (remove (path) != 0 && errno != ENOENT)
    g_printerr ("qmgr-test-harness: cannot remove %s: %s\n", path, g_strerror (errno));
  return 0;
}

static void
remove_tree (const char *root)
{
  /* Tests may leave read-only directories behind (AccessDenied cases). */
  nftw (root, make_removable, 16, FTW_PHYS);
  nftw (root, remove_entry, 16, FTW_PHYS | FTW_DEPTH);
}

void
qmgr_test_daemon_free (QmgrTestDaemon *d)
{
  if (d == NULL)
    return;
  qmgr_test_daemon_stop (d);
  if (d->connection != NULL)
    {
      g_dbus_connection_close_sync (d->connection, NULL, NULL);
      g_clear_object (&d->connection);
    }
  g_test_dbus_down (d->bus);
  g_clear_object (&d->bus);
  remove_tree (d->root);
  g_free (d->root);
  g_free (d->state_dir);
  g_free (d->config_dir);
  g_free (d->files_dir);
  g_free (d->xdg_dir);
  g_free (d->services_dir);
  g_free (d->log_path);
  g_free (d->owner);
  g_clear_pointer (&d->extra_env, g_hash_table_unref);
  g_free (d);
}

GVariant *
qmgr_test_call (QmgrTestDaemon *d, const char *path, const char *interface,
                const char *method, GVariant *params, const char *reply_type, GError **error)
{
  return g_dbus_connection_call_sync (qmgr_test_daemon_get_connection (d), QMGR_TEST_BUS_NAME,
                                      path, interface, method, params,
                                      reply_type ? G_VARIANT_TYPE (reply_type) : NULL,
                                      G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL,
                                      error);
}

static const struct {
  const char *name;
  guint32 hresult;
} hresults[] = {
  { "io.github.qmgrd.QMgr1.Error.InvalidState", 0x81001001 },
  { "io.github.qmgrd.QMgr1.Error.ServiceUnavailable", 0x81001002 },
  { "io.github.qmgrd.QMgr1.Error.DownloaderUnavailable", 0x81001003 },
  { "io.github.qmgrd.QMgr1.Error.ItemNotFound", 0x81001004 },
  { "org.freedesktop.DBus.Error.InvalidArgs", 0x80070057 },
  { "org.freedesktop.DBus.Error.NotSupported", 0x80004001 },
  { "org.freedesktop.DBus.Error.AccessDenied", 0x80070005 },
  { "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", 0x80070005 },
  { "org.freedesktop.DBus.Error.LimitsExceeded", 0x80070718 },
};

guint32
qmgr_test_hresult_for_error (const char *dbus_name)
{
  for (guint i = 0; i < G_N_ELEMENTS (hresults); i++)
    if (g_strcmp0 (hresults[i].name, dbus_name) == 0)
      return hresults[i].hresult;
  return 0;
}

void
qmgr_test_assert_dbus_error_impl (GError **error, const char *dbus_name, gboolean check_hresult,
                                  const char *file, int line)
{
  g_autofree char *remote = NULL;
  g_autofree char *message = NULL;
  g_autofree char *failure = NULL;
  g_autoptr(GError) stripped = NULL;

  if (*error == NULL)
    {
      failure = g_strdup_printf ("expected D-Bus error %s, but the call succeeded", dbus_name);
      g_assertion_message (G_LOG_DOMAIN, file, line, G_STRFUNC, failure);
      return;
    }

  remote = g_dbus_error_get_remote_error (*error);
  stripped = g_error_copy (*error);
  g_dbus_error_strip_remote_error (stripped);
  message = g_strdup (stripped->message);
  if (g_strcmp0 (remote, dbus_name) != 0)
    failure = g_strdup_printf ("expected D-Bus error %s, got %s: %s", dbus_name,
                               remote ? remote : "(not a remote error)", (*error)->message);
  else if (check_hresult)
    {
      guint32 hr = qmgr_test_hresult_for_error (dbus_name);
      g_autofree char *suffix = g_strdup_printf (" [0x%08x]", hr);

      g_assert_cmpuint (hr, !=, 0);
      if (!g_str_has_suffix (message, suffix) || strlen (message) <= strlen (suffix))
        failure = g_strdup_printf ("%s message does not end with \"%s\": \"%s\"", dbus_name,
                                   suffix + 1, message);
    }

  if (failure != NULL)
    g_assertion_message (G_LOG_DOMAIN, file, line, G_STRFUNC, failure);
  g_clear_error (error);
}

static gboolean
timeout_fired (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
qmgr_test_wait_until (gboolean (*cond) (gpointer), gpointer user_data, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint source;

  if (cond (user_data))
    return TRUE;
  source = g_timeout_add (timeout_ms, timeout_fired, &timed_out);
  while (!cond (user_data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (source);
  return cond (user_data);
}

/* A "Name:  N kB" field of /proc/PID/status, or -1. */
static long
status_kib (QmgrTestDaemon *d, const char *field)
{
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *key = g_strdup_printf ("\n%s:", field);
  const char *line;

  if (d->pid == 0)
    return -1;
  path = g_strdup_printf ("/proc/%d/status", d->pid);
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return -1;
  line = strstr (contents, key);
  if (line == NULL)
    return -1;
  return strtol (line + strlen (key), NULL, 10);
}

GDBusNodeInfo *
qmgr_test_load_interface_xml (const char *interface_name)
{
  const char *dir = g_getenv ("QMGR_INTROSPECTION_DIR");
  g_autofree char *file = NULL;
  g_autofree char *path = NULL;
  g_autofree char *xml = NULL;
  g_autoptr(GError) error = NULL;
  GDBusNodeInfo *node;

  g_assert_nonnull (dir);
  file = g_strconcat (interface_name, ".xml", NULL);
  path = g_build_filename (dir, file, NULL);
  g_test_message ("reading %s", path);
  g_file_get_contents (path, &xml, NULL, &error);
  g_assert_no_error (error);
  node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  g_assert_nonnull (node->interfaces);
  g_assert_nonnull (node->interfaces[0]);
  g_assert_cmpstr (node->interfaces[0]->name, ==, interface_name);
  g_assert_null (node->interfaces[1]);
  return node;
}

long
qmgr_test_daemon_get_rss_kib (QmgrTestDaemon *d)
{
  return status_kib (d, "VmRSS");
}

long
qmgr_test_daemon_get_rss_anon_kib (QmgrTestDaemon *d)
{
  return status_kib (d, "RssAnon");
}
