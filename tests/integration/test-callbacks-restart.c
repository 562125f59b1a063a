/* qmgrd integration tests — OnStatus callbacks owed to a NOTIFYCLSID bus name that is
 * not on the bus yet (docs/dbus-api.md "Notifications"): the daemon retries them, keeps
 * them in the store across a SIGKILL and a restart, and delivers each exactly once,
 * with the values of the table, when the client finally claims the name. A bus
 * monitor (org.freedesktop.DBus.Monitoring) sees the failed attempts. */
#include "it-util.h"
#include "qmgr-test-server.h"

#include <string.h>

#define GROUP QMGR_TEST_GROUP_IFACE
#define DEADLINE_MS 20000
#define NO_FILE 0xFFFFFFFFu
#define APP_NAME "org.example.QmgrLateApp"
#define APP_PATH "/org/example/QmgrLateApp/callback"
#define CALLBACK_RULE "type='method_call',interface='" QMGR_TEST_CALLBACK_IFACE "'"

/* ---- the bus monitor: OnStatus calls addressed to APP_NAME, delivered or not ---- */

typedef struct {
  GMutex lock;
  GPtrArray *attempts;    /* GVariant* OnStatus parameters, from the monitor thread */
} Monitor;

static GDBusMessage *
monitor_filter (G_GNUC_UNUSED GDBusConnection *connection, GDBusMessage *message,
                gboolean incoming, gpointer user_data)
{
  Monitor *m = user_data;

  if (!incoming)
    return message;
  switch (g_dbus_message_get_message_type (message))
    {
    case G_DBUS_MESSAGE_TYPE_METHOD_RETURN:
    case G_DBUS_MESSAGE_TYPE_ERROR:
      if (g_dbus_message_get_reply_serial (message) != 0 &&
          g_dbus_message_get_sender (message) != NULL &&
          strcmp (g_dbus_message_get_sender (message), "org.freedesktop.DBus") == 0)
        return message;   /* the answer to BecomeMonitor */
      break;
    case G_DBUS_MESSAGE_TYPE_METHOD_CALL:
      if (g_strcmp0 (g_dbus_message_get_destination (message), APP_NAME) == 0 &&
          g_strcmp0 (g_dbus_message_get_member (message), "OnStatus") == 0 &&
          g_dbus_message_get_body (message) != NULL)
        {
          g_mutex_lock (&m->lock);
          g_ptr_array_add (m->attempts, g_variant_ref (g_dbus_message_get_body (message)));
          g_mutex_unlock (&m->lock);
        }
      break;
    case G_DBUS_MESSAGE_TYPE_SIGNAL:
    case G_DBUS_MESSAGE_TYPE_INVALID:
    default:
      break;
    }
  /* A monitor must never answer what it sees. */
  g_object_unref (message);
  return NULL;
}

static GDBusConnection *
monitor_start (QmgrTestDaemon *d, Monitor *m)
{
  GDBusConnection *connection = qmgr_test_daemon_new_connection (d);
  const char *rules[] = { CALLBACK_RULE, NULL };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  g_mutex_init (&m->lock);
  m->attempts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_dbus_connection_add_filter (connection, monitor_filter, m, NULL);
  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus.Monitoring", "BecomeMonitor",
                                       g_variant_new ("(^asu)", rules, 0), NULL,
                                       G_DBUS_CALL_FLAGS_NONE, 25000, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

static guint
monitor_count (Monitor *m, const char *group_path)
{
  guint n = 0;

  g_mutex_lock (&m->lock);
  for (guint i = 0; i < m->attempts->len; i++)
    {
      const char *group;
      g_variant_get_child (g_ptr_array_index (m->attempts, i), 0, "&o", &group);
      if (strcmp (group, group_path) == 0)
        n++;
    }
  g_mutex_unlock (&m->lock);
  return n;
}

typedef struct {
  Monitor *m;
  const char *group_path;
  guint at_least;
} MonitorWait;

static gboolean
monitor_saw (gpointer user_data)
{
  MonitorWait *w = user_data;
  return monitor_count (w->m, w->group_path) >= w->at_least;
}

static gboolean
wake_up (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* The monitor's thread does not wake the main context: check every 10 ms. */
static gboolean
wait_attempts (Monitor *m, const char *group_path, guint at_least)
{
  MonitorWait w = { m, group_path, at_least };
  gint64 deadline = g_get_monotonic_time () + (gint64) DEADLINE_MS * 1000;

  while (!monitor_saw (&w))
    {
      gboolean tick = FALSE;

      if (g_get_monotonic_time () >= deadline)
        return FALSE;
      g_timeout_add (10, wake_up, &tick);
      while (!tick)
        g_main_context_iteration (NULL, TRUE);
    }
  return TRUE;
}

/* ---- the late client ---- */

typedef struct {
  GPtrArray *calls;   /* GVariant* "(s@*)": member and parameters */
} App;

static void
app_method (G_GNUC_UNUSED GDBusConnection *connection, G_GNUC_UNUSED const char *sender,
            G_GNUC_UNUSED const char *path, G_GNUC_UNUSED const char *iface,
            const char *method, GVariant *params, GDBusMethodInvocation *invocation,
            gpointer user_data)
{
  App *app = user_data;

  g_ptr_array_add (app->calls, g_variant_ref_sink (g_variant_new ("(s@*)", method, params)));
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static const GDBusInterfaceVTable app_vtable = { app_method, NULL, NULL, { NULL } };

typedef struct {
  guint32 index, status, retries, win32, transport;
} Call;

/* The OnStatus calls the app received for @g, in order; other methods fail. */
static GArray *
app_calls_for (App *app, ItGroup *g)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Call));

  for (guint i = 0; i < app->calls->len; i++)
    {
      const char *method, *group, *job;
      g_autoptr(GVariant) params = NULL;
      Call c;

      g_variant_get (g_ptr_array_index (app->calls, i), "(&s@*)", &method, &params);
      g_assert_cmpstr (method, ==, "OnStatus");
      g_variant_get (params, "(&o&ouuuuu)", &group, &job, &c.index, &c.status, &c.retries,
                     &c.win32, &c.transport);
      if (strcmp (group, g->path) != 0)
        continue;
      g_assert_cmpstr (job, ==, g->job_path);
      g_array_append_val (out, c);
    }
  return out;
}

typedef struct {
  App *app;
  ItGroup *done;
  ItGroup *failed;
} AppWait;

static gboolean
app_has_all (gpointer user_data)
{
  AppWait *w = user_data;
  g_autoptr(GArray) done = app_calls_for (w->app, w->done);
  g_autoptr(GArray) failed = app_calls_for (w->app, w->failed);

  return done->len >= 2 && failed->len >= 1;
}

static gboolean
app_has_more (gpointer user_data)
{
  AppWait *w = user_data;
  return w->app->calls->len > 3;
}

static void
set_notify (QmgrTestDaemon *d, ItGroup *g, guint32 flags)
{
  g_autoptr(GError) error = NULL;

  it_setprop (d, g->path, 7, g_variant_new_string (APP_NAME ":" APP_PATH), &error);
  g_assert_no_error (error);
  it_setprop (d, g->path, 6, g_variant_new_uint32 (flags), &error);
  g_assert_no_error (error);
}

static void
test_late_client (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(GBytes) content = qmgr_test_make_content (4096, 9);
  g_autoptr(ItGroup) done = it_group_create (f->d, TRUE);
  g_autoptr(ItGroup) failed = it_group_create (f->d, TRUE);
  g_autoptr(GDBusConnection) monitor = NULL;
  g_autoptr(GDBusConnection) client = NULL;
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) done_calls = NULL;
  g_autoptr(GArray) failed_calls = NULL;
  App app = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref) };
  Monitor m = { 0 };
  AppWait all = { &app, done, failed };
  gboolean owned = FALSE;
  guint registration, owner_id, before_restart;

  monitor = monitor_start (f->d, &m);

  /* One group completes (FILE_DONE | GROUP_DONE asked), one fails (a 404: fatal
   * errors are always called back). */
  qmgr_test_server_add_file (server, "/done.bin", content, "d1", 1700000000);
  for (guint i = 0; i < 2; i++)
    {
      ItGroup *g = i == 0 ? done : failed;
      g_autofree char *url = qmgr_test_server_get_url_for (server, i == 0 ? "/done.bin"
                                                                          : "/gone.bin");
      g_autofree char *dest = it_file (f->d, i == 0 ? "done.bin" : "gone.bin");

      set_notify (f->d, g, i == 0 ? 0x5 : 0x0);
      it_add_file (f->d, g->job_path, url, dest, 0, &error);
      g_assert_no_error (error);
      it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
    }
  g_assert_true (it_wait_property (f->d, done->path, GROUP, "Status",
                                   g_variant_new_uint32 (0x140), DEADLINE_MS));
  g_assert_true (it_wait_property (f->d, failed->path, GROUP, "Status",
                                   g_variant_new_uint32 (0x380), DEADLINE_MS));

  /* Nobody owns the name: the calls fail and are tried again. */
  g_assert_true (wait_attempts (&m, done->path, 2));
  g_assert_true (wait_attempts (&m, failed->path, 2));

  /* A crash; after the restart the daemon tries again from its store. */
  qmgr_test_daemon_kill (f->d);
  before_restart = monitor_count (&m, done->path);
  qmgr_test_daemon_start (f->d, NULL);
  g_assert_true (wait_attempts (&m, done->path, before_restart + 1));
  g_assert_true (wait_attempts (&m, failed->path, monitor_count (&m, failed->path) + 1));
  g_assert_cmpuint (app.calls->len, ==, 0);

  /* The client shows up: object first, then the name. */
  client = qmgr_test_daemon_new_connection (f->d);
  info = qmgr_test_load_interface_xml (QMGR_TEST_CALLBACK_IFACE);
  registration = g_dbus_connection_register_object (client, APP_PATH, info->interfaces[0],
                                                    &app_vtable, &app, NULL, &error);
  g_assert_no_error (error);
  owner_id = g_bus_own_name_on_connection (client, APP_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                           it_name_acquired, NULL, &owned, NULL);
  g_assert_true (qmgr_test_wait_until (it_flag_is_set, &owned, DEADLINE_MS));
  g_assert_true (qmgr_test_wait_until (app_has_all, &all, DEADLINE_MS));

  /* As docs/dbus-api.md's table says: the file (the group's Status then), the group, and
   * the error with its codes; each once. */
  done_calls = app_calls_for (&app, done);
  failed_calls = app_calls_for (&app, failed);
  for (guint i = 0; i < done_calls->len; i++)
    {
      Call *c = &g_array_index (done_calls, Call, i);
      g_test_message ("done group: OnStatus (%u, 0x%x, %u, %u, %u)", c->index, c->status,
                      c->retries, c->win32, c->transport);
    }
  g_assert_cmpuint (done_calls->len, ==, 2);
  {
    Call *file = &g_array_index (done_calls, Call, 0);
    Call *group = &g_array_index (done_calls, Call, 1);

    g_assert_cmpuint (file->index, ==, 0);
    g_assert_true (file->status == 0x140 || file->status == 0x80);
    g_assert_cmpuint (file->retries, ==, 0);
    g_assert_cmpuint (file->win32, ==, 0);
    g_assert_cmpuint (file->transport, ==, 0);
    g_assert_cmpuint (group->index, ==, NO_FILE);
    g_assert_cmpuint (group->status, ==, 0x140);
    g_assert_cmpuint (group->retries, ==, 0);
    g_assert_cmpuint (group->win32, ==, 0);
    g_assert_cmpuint (group->transport, ==, 0);
  }
  g_assert_cmpuint (failed_calls->len, ==, 1);
  {
    Call *error_call = &g_array_index (failed_calls, Call, 0);

    g_test_message ("failed group: OnStatus (%u, 0x%x, %u, %u, %u)", error_call->index,
                    error_call->status, error_call->retries, error_call->win32,
                    error_call->transport);
    g_assert_cmpuint (error_call->index, ==, 0);
    g_assert_cmpuint (error_call->status, ==, 0x380);
    g_assert_cmpuint (error_call->retries, ==, 0);
    g_assert_cmpuint (error_call->win32, ==, 0);
    g_assert_cmpuint (error_call->transport, ==, 404);
  }

  /* Delivered is delivered: not again after another restart. The Ping goes after the
   * client's replies on the same connection, so the daemon has read them when it
   * answers; a clean stop then writes what it learned. */
  {
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
        client, QMGR_TEST_BUS_NAME, QMGR_TEST_MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping",
        NULL, G_VARIANT_TYPE ("()"), G_DBUS_CALL_FLAGS_NONE, 25000, NULL, &error);
    g_assert_no_error (error);
  }
  qmgr_test_daemon_stop (f->d);
  qmgr_test_daemon_start (f->d, NULL);
  qmgr_test_wait_until (app_has_more, &all, 2000);
  for (guint i = 3; i < app.calls->len; i++)
    {
      g_autofree char *text = g_variant_print (g_ptr_array_index (app.calls, i), FALSE);
      g_test_message ("delivered again after a restart: %s", text);
    }
  g_assert_cmpuint (app.calls->len, ==, 3);

  g_bus_unown_name (owner_id);
  g_dbus_connection_unregister_object (client, registration);
  g_dbus_connection_close_sync (client, NULL, NULL);
  g_dbus_connection_close_sync (monitor, NULL, NULL);
  g_ptr_array_unref (app.calls);
  g_ptr_array_unref (m.attempts);
  g_mutex_clear (&m.lock);
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  it_add ("/callbacks/late-client-and-restart", test_late_client);
  return g_test_run ();
}
