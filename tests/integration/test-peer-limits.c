/* qmgrd integration tests — many callers on a bus that limits match rules (a
 * system bus allows 512 per connection; this one 16): no caller may cost the
 * daemon a rule of its own, and a rule the bus refuses must never cost the
 * daemon its connection; what the daemon knows of a caller goes when the
 * caller leaves the bus. The daemon runs on a dbus-daemon of the test's own,
 * as its session bus. */
#include "it-util.h"
#include "qmgr-test-system-bus.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define RULES 16
#define CALLERS 40
#define DEADLINE_MS 20000

typedef struct {
  QmgrTestSystemBus *bus;
  GPid pid;
  char *state_dir;
  char *log;                  /* with --verbose: its output */
} Daemon;

static gboolean
name_owned (gpointer user_data)
{
  GDBusConnection *c = user_data;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      c, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
      g_variant_new ("(s)", QMGR_TEST_BUS_NAME), G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE,
      -1, NULL, NULL);
  gboolean owned = FALSE;

  if (reply != NULL)
    g_variant_get (reply, "(b)", &owned);
  return owned;
}

/* With @verbose, the daemon logs its debugging messages into d->log. */
static void
daemon_start (Daemon *d, gboolean verbose)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) env = g_get_environ ();
  const char *binary = g_getenv ("QMGRD_BINARY");
  int log_fd = -1;

  d->bus = qmgr_test_system_bus_new_with_config (
      "  <limit name=\"max_match_rules_per_connection\">" G_STRINGIFY (RULES) "</limit>\n");
  d->state_dir = g_dir_make_tmp ("qmgrd-test-peers-XXXXXX", &error);
  g_assert_no_error (error);
  env = g_environ_setenv (env, "DBUS_SESSION_BUS_ADDRESS",
                          qmgr_test_system_bus_get_address (d->bus), TRUE);
  env = g_environ_setenv (env, "DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent", TRUE);
  g_assert_nonnull (binary);
  if (verbose)
    {
      d->log = g_build_filename (d->state_dir, "qmgrd.log", NULL);
      log_fd = open (d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      g_assert_cmpint (log_fd, >=, 0);
    }
  g_spawn_async_with_fds (NULL, (char *[]) { (char *) binary, (char *) "--state-dir",
                                             d->state_dir, verbose ? (char *) "--verbose" : NULL,
                                             NULL },
                          env, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &d->pid, -1, log_fd, log_fd,
                          &error);
  g_assert_no_error (error);
  if (log_fd >= 0)
    close (log_fd);
  g_assert_true (it_poll_until (name_owned, qmgr_test_system_bus_get_connection (d->bus), 20,
                                DEADLINE_MS));
}

static void
daemon_stop (Daemon *d)
{
  int status;

  kill (d->pid, SIGTERM);
  g_assert_cmpint (waitpid (d->pid, &status, 0), ==, d->pid);
  g_spawn_close_pid (d->pid);
  qmgr_test_system_bus_free (d->bus);
  {
    g_autofree char *command = g_strdup_printf ("rm -rf '%s'", d->state_dir);
    g_assert_true (g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL));
  }
  g_free (d->state_dir);
  g_free (d->log);
}

static GDBusConnection *
connect_to (Daemon *d)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *c = g_dbus_connection_new_for_address_sync (
      qmgr_test_system_bus_get_address (d->bus),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
      G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);

  g_assert_no_error (error);
  g_dbus_connection_set_exit_on_close (c, FALSE);
  return c;
}

static char *
call_path (GDBusConnection *c, const char *path, const char *iface, const char *method,
           GVariant *params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      c, QMGR_TEST_BUS_NAME, path, iface, method, params, G_VARIANT_TYPE ("(o)"),
      G_DBUS_CALL_FLAGS_NONE, DEADLINE_MS, NULL, &error);
  char *out;

  g_assert_no_error (error);
  g_variant_get (reply, "(o)", &out);
  return out;
}

static void
call_void (GDBusConnection *c, const char *path, const char *iface, const char *method,
           GVariant *params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      c, QMGR_TEST_BUS_NAME, path, iface, method, params, NULL, G_DBUS_CALL_FLAGS_NONE,
      DEADLINE_MS, NULL, &error);

  g_assert_no_error (error);
}

static void
assert_daemon_serves (Daemon *d)
{
  GDBusConnection *c = qmgr_test_system_bus_get_connection (d->bus);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      c, QMGR_TEST_BUS_NAME, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, "EnumGroups",
      g_variant_new ("(u)", 0), G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE, DEADLINE_MS,
      NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (waitpid (d->pid, NULL, WNOHANG), ==, 0);   /* still running */
}

/* Forty callers, each on its own connection, create a group; half of them then
 * register a live callback pointer (more peers to watch than the bus allows
 * rules). Every call is answered, and the daemon is still on the bus. */
static void
test_many_callers (void)
{
  Daemon d = { 0 };
  g_autoptr(GPtrArray) callers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func (g_free);

  daemon_start (&d, FALSE);
  for (guint i = 0; i < CALLERS; i++)
    {
      GDBusConnection *c = connect_to (&d);
      g_ptr_array_add (callers, c);
      g_ptr_array_add (groups, call_path (c, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE,
                                          "CreateGroup", g_variant_new ("(s)", "")));
    }
  assert_daemon_serves (&d);
  for (guint i = 0; i < CALLERS / 2; i++)
    call_void (g_ptr_array_index (callers, i), g_ptr_array_index (groups, i),
               QMGR_TEST_GROUP_IFACE, "SetNotificationPointer",
               g_variant_new ("(so)", QMGR_TEST_CALLBACK_IFACE, "/cb"));
  assert_daemon_serves (&d);
  /* Callers leave: still serving. */
  g_ptr_array_set_size (callers, 0);
  assert_daemon_serves (&d);
  daemon_stop (&d);
}

typedef struct {
  const char *log;
  const char *needle;
} LogWait;

static gboolean
log_has (gpointer user_data)
{
  LogWait *w = user_data;
  g_autofree char *text = NULL;

  return g_file_get_contents (w->log, &text, NULL, NULL) && strstr (text, w->needle) != NULL;
}

/* A caller the daemon asked the bus about (its uid, cached) leaves: the entry
 * goes at once, although the daemon watches no rule of that caller's own. */
static void
test_departure_forgotten (void)
{
  Daemon d = { 0 };
  GDBusConnection *c;
  g_autofree char *group = NULL;
  g_autofree char *needle = NULL;
  LogWait w;

  daemon_start (&d, TRUE);
  c = connect_to (&d);
  group = call_path (c, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, "CreateGroup",
                     g_variant_new ("(s)", ""));
  needle = g_strdup_printf ("Peer %s left the bus", g_dbus_connection_get_unique_name (c));
  w = (LogWait) { d.log, needle };
  g_assert_false (log_has (&w));
  g_dbus_connection_close_sync (c, NULL, NULL);
  g_object_unref (c);
  g_assert_true (it_poll_until (log_has, &w, 20, DEADLINE_MS));
  assert_daemon_serves (&d);
  daemon_stop (&d);
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  g_test_add_func ("/peers/many-callers", test_many_callers);
  g_test_add_func ("/peers/departure-forgotten", test_departure_forgotten);
  return g_test_run ();
}
