/* qmgrd tests — a private system bus and NetworkManager on it (python-dbusmock's
 * template, never a hand-written fake). Each bus has its own dbus-daemon and temp
 * dir, so tests run in parallel; every wait is on an event (the printed address,
 * a name owner, a process exit) with a deadline. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "qmgr-test-system-bus.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEADLINE_MS 20000
#define CALL_TIMEOUT_MS 25000
#define PYTHON "/usr/bin/python3"
#define MOCK_IFACE "org.freedesktop.DBus.Mock"

struct _QmgrTestSystemBus {
  char *dir;
  char *address;
  GPid pid;                  /* 0 once stopped */
  GDBusConnection *connection;
  guint n_mocks;
};

struct _QmgrTestNm {
  QmgrTestSystemBus *bus;
  GPid pid;                  /* 0 once stopped */
  char *owner;               /* its unique name */
  char *log_path;
};

static void
child_setup (G_GNUC_UNUSED gpointer user_data)
{
  /* If the test process dies without cleaning up, the child goes with it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
reap (GPid pid)
{
  int status;

  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
}

/* Reads the first line dbus-daemon prints (its address) from @fd, deadline 20 s. */
static char *
read_address (int fd)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) DEADLINE_MS * 1000;
  GString *line = g_string_new (NULL);

  while (strchr (line->str, '\n') == NULL)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
      char buf[256];
      ssize_t n;

      if (left_ms <= 0 || poll (&p, 1, (int) left_ms) == 0)
        g_error ("dbus-daemon printed no address within %d ms", DEADLINE_MS);
      n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        g_error ("dbus-daemon exited before it printed its address");
      g_string_append_len (line, buf, n);
    }
  *strchr (line->str, '\n') = '\0';
  return g_string_free (line, FALSE);
}

QmgrTestSystemBus *
qmgr_test_system_bus_new (void)
{
  return qmgr_test_system_bus_new_with_config (NULL);
}

QmgrTestSystemBus *
qmgr_test_system_bus_new_with_config (const char *extra_config)
{
  QmgrTestSystemBus *bus = g_new0 (QmgrTestSystemBus, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *config_path = NULL, *config = NULL, *config_arg = NULL;
  int out_fd = -1;

  bus->dir = g_dir_make_tmp ("qmgrd-test-system-bus-XXXXXX", &error);
  g_assert_no_error (error);
  config_path = g_build_filename (bus->dir, "bus.conf", NULL);
  config = g_strdup_printf (
      "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
      " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
      "<busconfig>\n"
      "  <type>system</type>\n"
      "  <keep_umask/>\n"
      "  <listen>unix:path=%s/system_bus_socket</listen>\n"
      "  <policy context=\"default\">\n"
      "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
      "    <allow eavesdrop=\"true\"/>\n"
      "    <allow own=\"*\"/>\n"
      "  </policy>\n"
      "%s"
      "</busconfig>\n", bus->dir, extra_config != NULL ? extra_config : "");
  g_file_set_contents (config_path, config, -1, &error);
  g_assert_no_error (error);
  config_arg = g_strconcat ("--config-file=", config_path, NULL);

  g_spawn_async_with_pipes (bus->dir,
                            (char *[]) { (char *) "dbus-daemon", config_arg, (char *) "--nofork",
                                         (char *) "--print-address=1", NULL },
                            NULL,
                            G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                            G_SPAWN_STDIN_FROM_DEV_NULL,
                            child_setup, NULL, &bus->pid, NULL, &out_fd, NULL, &error);
  g_assert_no_error (error);
  bus->address = read_address (out_fd);
  close (out_fd);
  bus->connection = g_dbus_connection_new_for_address_sync (
      bus->address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
      G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_set_exit_on_close (bus->connection, FALSE);
  return bus;
}

const char *
qmgr_test_system_bus_get_address (QmgrTestSystemBus *bus)
{
  return bus->address;
}

GDBusConnection *
qmgr_test_system_bus_get_connection (QmgrTestSystemBus *bus)
{
  return bus->connection;
}

void
qmgr_test_system_bus_stop (QmgrTestSystemBus *bus)
{
  if (bus->pid == 0)
    return;
  kill (bus->pid, SIGTERM);
  reap (bus->pid);
  g_spawn_close_pid (bus->pid);
  bus->pid = 0;
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

void
qmgr_test_system_bus_free (QmgrTestSystemBus *bus)
{
  if (bus == NULL)
    return;
  if (bus->connection != NULL)
    {
      g_dbus_connection_close_sync (bus->connection, NULL, NULL);
      g_clear_object (&bus->connection);
    }
  qmgr_test_system_bus_stop (bus);
  remove_dir (bus->dir);
  g_free (bus->dir);
  g_free (bus->address);
  g_free (bus);
}

/* ---- NetworkManager ---- */

typedef struct {
  const char *not_owner;     /* an owner that does not count (the previous mock) */
  char *owner;
  gboolean vanished;
} OwnerWait;

static void
name_appeared (G_GNUC_UNUSED GDBusConnection *connection, G_GNUC_UNUSED const char *name,
               const char *owner, gpointer user_data)
{
  OwnerWait *w = user_data;

  if (g_strcmp0 (owner, w->not_owner) == 0)
    return;
  g_free (w->owner);
  w->owner = g_strdup (owner);
}

static void
name_vanished (G_GNUC_UNUSED GDBusConnection *connection, G_GNUC_UNUSED const char *name,
               gpointer user_data)
{
  OwnerWait *w = user_data;

  g_clear_pointer (&w->owner, g_free);
  w->vanished = TRUE;
}

static gboolean
timeout_fired (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the default main context until @done(@w) or the deadline. */
static gboolean
wait_owner (QmgrTestSystemBus *bus, OwnerWait *w, gboolean (*done) (OwnerWait *w))
{
  gboolean timed_out = FALSE;
  guint watch = g_bus_watch_name_on_connection (bus->connection, QMGR_TEST_NM_NAME,
                                                G_BUS_NAME_WATCHER_FLAGS_NONE, name_appeared,
                                                name_vanished, w, NULL);
  guint timeout = g_timeout_add (DEADLINE_MS, timeout_fired, &timed_out);

  while (!done (w) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout);
  g_bus_unwatch_name (watch);
  return done (w);
}

static gboolean
has_new_owner (OwnerWait *w)
{
  return w->owner != NULL;
}

static gboolean
left_the_bus (OwnerWait *w)
{
  /* Gone, or taken over by another mock. */
  return w->vanished || (w->owner != NULL && g_strcmp0 (w->owner, w->not_owner) != 0);
}

static void
print_mock_log (QmgrTestNm *nm)
{
  g_autofree char *contents = NULL;

  if (g_file_get_contents (nm->log_path, &contents, NULL, NULL))
    g_printerr ("=== NetworkManager mock log (%s) ===\n%s=== end ===\n", nm->log_path,
                contents);
}

static GVariant *
mock_call (QmgrTestNm *nm, const char *iface, const char *method, GVariant *params)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  /* To the mock's unique name: never to a newer mock that took the name over. */
  reply = g_dbus_connection_call_sync (nm->bus->connection, nm->owner, QMGR_TEST_NM_PATH,
                                       iface, method, params, NULL,
                                       G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL,
                                       &error);
  if (error != NULL)
    print_mock_log (nm);
  g_assert_no_error (error);
  return reply;
}

QmgrTestNm *
qmgr_test_nm_start (QmgrTestSystemBus *bus, const char *parameters_json, guint32 metered)
{
  QmgrTestNm *nm = g_new0 (QmgrTestNm, 1);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) env = g_environ_setenv (g_get_environ (), "DBUS_SYSTEM_BUS_ADDRESS",
                                        bus->address, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *previous = NULL;
  OwnerWait w = { NULL, NULL, FALSE };

  nm->bus = bus;
  nm->log_path = g_strdup_printf ("%s/nm-mock-%u.log", bus->dir, ++bus->n_mocks);
  g_ptr_array_add (argv, (char *) PYTHON);
  g_ptr_array_add (argv, (char *) "-m");
  g_ptr_array_add (argv, (char *) "dbusmock");
  g_ptr_array_add (argv, (char *) "--system");
  g_ptr_array_add (argv, (char *) "--template");
  g_ptr_array_add (argv, (char *) "networkmanager");
  g_ptr_array_add (argv, (char *) "--logfile");
  g_ptr_array_add (argv, nm->log_path);
  if (parameters_json != NULL)
    {
      g_ptr_array_add (argv, (char *) "--parameters");
      g_ptr_array_add (argv, (char *) parameters_json);
    }
  g_ptr_array_add (argv, NULL);

  /* A mock already running keeps the name until the new one takes it over. */
  {
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
        bus->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "GetNameOwner", g_variant_new ("(s)", QMGR_TEST_NM_NAME), G_VARIANT_TYPE ("(s)"),
        G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, NULL);
    if (reply != NULL)
      g_variant_get (reply, "(s)", &previous);
  }
  w.not_owner = previous;

  g_spawn_async (bus->dir, (char **) argv->pdata, env,
                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL |
                 G_SPAWN_STDOUT_TO_DEV_NULL,
                 child_setup, NULL, &nm->pid, &error);
  g_assert_no_error (error);
  if (!wait_owner (bus, &w, has_new_owner))
    {
      print_mock_log (nm);
      g_error ("python-dbusmock's NetworkManager did not appear within %d ms "
               "(is python3-dbusmock installed? scripts/install-deps.sh)", DEADLINE_MS);
    }
  nm->owner = g_steal_pointer (&w.owner);
  g_variant_unref (mock_call (nm, MOCK_IFACE, "AddProperty",
                              g_variant_new ("(ssv)", QMGR_TEST_NM_IFACE, "Metered",
                                             g_variant_new_uint32 (metered))));
  return nm;
}

void
qmgr_test_nm_set_u (QmgrTestNm *nm, const char *property, guint32 value)
{
  GVariantBuilder props;

  g_assert_cmpint (nm->pid, !=, 0);
  g_variant_builder_init (&props, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&props, "{sv}", property, g_variant_new_uint32 (value));
  g_variant_unref (mock_call (nm, MOCK_IFACE, "UpdateProperties",
                              g_variant_new ("(sa{sv})", QMGR_TEST_NM_IFACE, &props)));
}

guint32
qmgr_test_nm_get_u (QmgrTestNm *nm, const char *property)
{
  g_autoptr(GVariant) reply = mock_call (nm, "org.freedesktop.DBus.Properties", "Get",
                                         g_variant_new ("(ss)", QMGR_TEST_NM_IFACE, property));
  g_autoptr(GVariant) value = NULL;

  g_variant_get (reply, "(v)", &value);
  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32));
  return g_variant_get_uint32 (value);
}

void
qmgr_test_nm_freeze (QmgrTestNm *nm, gboolean frozen)
{
  g_assert_cmpint (nm->pid, !=, 0);
  kill (nm->pid, frozen ? SIGSTOP : SIGCONT);
}

/* SIGTERM waits in a stopped process: it is woken up to receive it. */
static void
terminate (GPid pid)
{
  kill (pid, SIGTERM);
  kill (pid, SIGCONT);
  reap (pid);
  g_spawn_close_pid (pid);
}

void
qmgr_test_nm_stop (QmgrTestNm *nm)
{
  OwnerWait w = { nm->owner, g_strdup (nm->owner), FALSE };

  if (nm->pid == 0)
    return;
  terminate (nm->pid);
  nm->pid = 0;
  /* The bus may still list it for an instant; its clients hear it go only then. */
  if (!wait_owner (nm->bus, &w, left_the_bus))
    g_error ("NetworkManager's mock still owned its name %d ms after it exited", DEADLINE_MS);
  g_free (w.owner);
}

void
qmgr_test_nm_free (QmgrTestNm *nm)
{
  if (nm == NULL)
    return;
  if (nm->pid != 0)
    terminate (nm->pid);
  g_free (nm->owner);
  g_free (nm->log_path);
  g_free (nm);
}
