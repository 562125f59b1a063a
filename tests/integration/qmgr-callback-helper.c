/* qmgrd integration tests — a NOTIFYCLSID target that D-Bus activates: it takes
 * its bus name on the starter bus, answers the first OnStatus call on
 * io.github.qmgrd.QMgr1.Callback, records it in a file and exits. Started only
 * by the private dbus-daemon of a test, from a .service file the test wrote. */
#include <gio/gio.h>
#include <stdlib.h>

#define GIVE_UP_S 60

typedef struct {
  const char *record;
  GMainLoop *loop;
  gboolean recorded;
  gboolean lost;
  guint give_up;
} Helper;

static void
on_method (G_GNUC_UNUSED GDBusConnection *connection, G_GNUC_UNUSED const char *sender,
           G_GNUC_UNUSED const char *path, G_GNUC_UNUSED const char *iface,
           const char *method, GVariant *params, GDBusMethodInvocation *invocation,
           gpointer user_data)
{
  Helper *h = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  const char *group, *job;
  guint32 index, status, retries, win32, transport;

  /* Progress never activates anything; only OnStatus is recorded. */
  if (g_strcmp0 (method, "OnStatus") != 0 || h->recorded)
    {
      g_dbus_method_invocation_return_value (invocation, NULL);
      return;
    }
  g_variant_get (params, "(&o&ouuuuu)", &group, &job, &index, &status, &retries, &win32,
                 &transport);
  /* "OnStatus group job index status retries win32 transport activated-by" */
  line = g_strdup_printf ("OnStatus %s %s %u %u %u %u %u %s\n", group, job, index, status,
                          retries, win32, transport,
                          g_getenv ("DBUS_STARTER_BUS_TYPE") ? g_getenv ("DBUS_STARTER_BUS_TYPE")
                                                             : "none");
  /* Written whole (temp file and rename): the test never reads half a record. */
  if (!g_file_set_contents (h->record, line, -1, &error))
    {
      g_printerr ("qmgr-callback-helper: %s\n", error->message);
      g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.Failed",
                                                  error->message);
      g_main_loop_quit (h->loop);
      return;
    }
  h->recorded = TRUE;
  g_dbus_method_invocation_return_value (invocation, NULL);
  g_main_loop_quit (h->loop);
}

static const GDBusInterfaceVTable vtable = { on_method, NULL, NULL, { NULL } };

static void
on_name_lost (G_GNUC_UNUSED GDBusConnection *connection, G_GNUC_UNUSED const char *name,
              gpointer user_data)
{
  Helper *h = user_data;

  h->lost = TRUE;
  g_main_loop_quit (h->loop);
}

static void
on_closed (G_GNUC_UNUSED GDBusConnection *connection, G_GNUC_UNUSED gboolean remote_peer_vanished,
           G_GNUC_UNUSED GError *error, gpointer user_data)
{
  Helper *h = user_data;

  /* The test's bus went away: nobody is left to call us. */
  g_main_loop_quit (h->loop);
}

static gboolean
on_give_up (gpointer user_data)
{
  Helper *h = user_data;

  g_printerr ("qmgr-callback-helper: no OnStatus within %d s\n", GIVE_UP_S);
  h->give_up = 0;
  g_main_loop_quit (h->loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autofree char *name = NULL, *path = NULL, *record = NULL, *xml = NULL;
  const GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Bus name to own", "NAME" },
    { "path", 0, 0, G_OPTION_ARG_STRING, &path, "Object path of the callback", "PATH" },
    { "record", 0, 0, G_OPTION_ARG_FILENAME, &record, "File the call is recorded in", "FILE" },
    { "interface-xml", 0, 0, G_OPTION_ARG_FILENAME, &xml,
      "introspection/io.github.qmgrd.QMgr1.Callback.xml", "FILE" },
    { NULL, 0, 0, 0, NULL, NULL, NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- activated callback target");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *contents = NULL;
  Helper h = { 0 };
  guint registration, owner_id;
  gulong closed;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || name == NULL || path == NULL ||
      record == NULL || xml == NULL)
    {
      g_printerr ("qmgr-callback-helper: %s\n",
                  error ? error->message : "--name, --path, --record and --interface-xml needed");
      return EXIT_FAILURE;
    }
  if (!g_file_get_contents (xml, &contents, NULL, &error) ||
      (info = g_dbus_node_info_new_for_xml (contents, &error)) == NULL)
    {
      g_printerr ("qmgr-callback-helper: %s: %s\n", xml, error->message);
      return EXIT_FAILURE;
    }
  /* The bus that started us (DBUS_STARTER_ADDRESS): the test's private bus. */
  connection = g_bus_get_sync (G_BUS_TYPE_STARTER, NULL, &error);
  if (connection == NULL)
    {
      g_printerr ("qmgr-callback-helper: %s\n", error->message);
      return EXIT_FAILURE;
    }
  g_dbus_connection_set_exit_on_close (connection, FALSE);

  loop = g_main_loop_new (NULL, FALSE);
  h.record = record;
  h.loop = loop;
  /* The object first, then the name: the call that activated us is delivered as soon
   * as we own it. */
  registration = g_dbus_connection_register_object (connection, path, info->interfaces[0],
                                                    &vtable, &h, NULL, &error);
  if (registration == 0)
    {
      g_printerr ("qmgr-callback-helper: %s\n", error->message);
      return EXIT_FAILURE;
    }
  owner_id = g_bus_own_name_on_connection (connection, name, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                           NULL, on_name_lost, &h, NULL);
  closed = g_signal_connect (connection, "closed", G_CALLBACK (on_closed), &h);
  h.give_up = g_timeout_add_seconds (GIVE_UP_S, on_give_up, &h);
  g_main_loop_run (loop);
  if (h.give_up != 0)
    g_source_remove (h.give_up);

  g_signal_handler_disconnect (connection, closed);
  g_bus_unown_name (owner_id);
  g_dbus_connection_unregister_object (connection, registration);
  /* The reply must leave before we do. */
  g_dbus_connection_flush_sync (connection, NULL, NULL);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  if (h.lost && !h.recorded)
    g_printerr ("qmgr-callback-helper: could not own %s\n", name);
  return h.recorded ? EXIT_SUCCESS : EXIT_FAILURE;
}
