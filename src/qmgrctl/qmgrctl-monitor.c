/* qmgrctl — monitor: prints qmgrd's signals as they come (groups and jobs
 * appearing and going, property changes, OnStatus, OnProgress, qmgrd
 * starting and stopping), one line each, or one JSON object a line. */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#include "qmgrctl.h"

typedef struct {
  Qmgrctl *ctl;
  GMainLoop *loop;
  char *group_path;   /* NULL: every group */
  gboolean group_gone;
} Monitor;

/* "12:03:04.512" */
static char *
now_text (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  return g_date_time_format (now, "%H:%M:%S.%f");
}

/* The object a signal is about: a group, a job, or qmgrd itself. */
static char *
subject_of (const char *path, const char *signal, GVariant *parameters)
{
  g_autofree char *guid = NULL;
  const char *object = path;

  if (g_str_equal (signal, "InterfacesAdded") || g_str_equal (signal, "InterfacesRemoved"))
    g_variant_get_child (parameters, 0, "&o", &object);
  guid = qmgr_path_get_guid (object);
  if (guid == NULL)
    return g_strdup ("qmgrd");
  if (strstr (object, "/job/") != NULL)
    /* TRANSLATORS: the subject of an event about a job, by its GUID */
    return g_strdup_printf (_("job %s"), guid);
  return g_steal_pointer (&guid);
}

static void
append_value (GString *out, const char *name, GVariant *value)
{
  if (g_str_equal (name, "Status") && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    {
      g_autofree char *flags = NULL;
      guint status = g_variant_get_uint32 (value);

      /* Group and job status bits do not overlap. */
      flags = qmgrctl_flags_to_string (status >= QMGR_GROUP_STATUS_COMPLETE ? QMGR_TYPE_GROUP_STATUS
                                                                           : QMGR_TYPE_JOB_STATUS,
                                       status);
      g_string_append_printf (out, " %s=%s", name, flags);
      return;
    }
  g_autofree char *text = g_variant_print (value, FALSE);
  g_string_append_printf (out, " %s=%s", name, text);
}

static char *
describe (const char *signal, GVariant *parameters)
{
  GString *out = g_string_new (signal);

  if (g_str_equal (signal, "PropertiesChanged"))
    {
      g_autoptr(GVariant) changed = g_variant_get_child_value (parameters, 1);
      GVariantIter iter;
      const char *name;
      GVariant *value;

      g_variant_iter_init (&iter, changed);
      while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
        append_value (out, name, value);
    }
  else if (g_str_equal (signal, "OnStatus"))
    {
      guint32 index, status, retries, win32, transport;
      const char *job;
      g_autofree char *flags = NULL;

      g_variant_get (parameters, "(&ouuuuu)", &job, &index, &status, &retries, &win32, &transport);
      flags = qmgrctl_flags_to_string (QMGR_TYPE_GROUP_STATUS, status);
      if (index == QMGR_FILE_INDEX_NONE)
        g_string_append (out, " file=-");
      else
        g_string_append_printf (out, " file=%u", index);
      g_string_append_printf (out, " status=%s retries=%u errno=%u http=%u", flags, retries, win32,
                              transport);
    }
  else if (g_str_equal (signal, "OnProgress"))
    {
      guint32 type, index, value;
      const char *job;

      g_variant_get (parameters, "(u&ouu)", &type, &job, &index, &value);
      g_string_append_printf (out, " file=%u bytes=%u", index, value);
    }
  return g_string_free (out, FALSE);
}

static void
print_event (Monitor *m, const char *path, const char *signal, GVariant *parameters)
{
  g_autofree char *when = now_text ();
  g_autofree char *subject = subject_of (path, signal, parameters);

  if (m->ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *time = g_date_time_format_iso8601 (now);
      g_autofree char *line = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "time");
      json_builder_add_string_value (b, time);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, path);
      json_builder_set_member_name (b, "signal");
      json_builder_add_string_value (b, signal);
      json_builder_set_member_name (b, "arguments");
      json_builder_add_value (b, json_gvariant_serialize (parameters));
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      json_generator_set_root (generator, root);
      line = json_generator_to_data (generator, NULL);
      g_print ("%s\n", line);
    }
  else
    {
      g_autofree char *what = describe (signal, parameters);
      g_print ("%s  %-40s  %s\n", when, subject, what);
    }
  fflush (stdout);
}

static gboolean
concerns_group (Monitor *m, const char *path, const char *signal, GVariant *parameters)
{
  const char *object = path;

  if (m->group_path == NULL)
    return TRUE;
  if (g_str_equal (signal, "InterfacesAdded") || g_str_equal (signal, "InterfacesRemoved"))
    g_variant_get_child (parameters, 0, "&o", &object);
  return g_str_equal (object, m->group_path)
         || (g_str_has_prefix (object, m->group_path) && object[strlen (m->group_path)] == '/');
}

static void
on_signal (GDBusConnection *connection, const char *sender, const char *path,
           const char *interface, const char *signal, GVariant *parameters, gpointer user_data)
{
  Monitor *m = user_data;

  if (g_str_equal (signal, "NameOwnerChanged"))
    {
      const char *name, *old_owner, *new_owner;
      g_autoptr(GVariant) owner = NULL;

      g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
      owner = g_variant_ref_sink (g_variant_new ("(s)", new_owner));
      print_event (m, QMGR_MANAGER_PATH, *new_owner != '\0' ? "Started" : "Stopped", owner);
      return;
    }
  if (!concerns_group (m, path, signal, parameters))
    return;
  print_event (m, path, signal, parameters);
  if (m->group_path != NULL && g_str_equal (signal, "InterfacesRemoved"))
    {
      const char *object;

      g_variant_get_child (parameters, 0, "&o", &object);
      if (g_str_equal (object, m->group_path))
        {
          m->group_gone = TRUE;
          g_main_loop_quit (m->loop);
        }
    }
}

static gboolean
on_terminate (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

int
qmgrctl_monitor (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  Monitor m = { .ctl = ctl };
  guint subscriptions[2], sources[2];

  if (argc > 2)
    {
      qmgrctl_set_usage_error (error, _("“monitor” takes at most one group"));
      return -1;
    }
  if (argc == 2)
    {
      g_autoptr(QmgrGroup) group = qmgrctl_find_group (ctl, argv[1], error);

      if (group == NULL)
        return -1;
      m.group_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (group)));
    }
  m.loop = g_main_loop_new (NULL, FALSE);
  subscriptions[0] = g_dbus_connection_signal_subscribe (ctl->connection, QMGR_BUS_NAME, NULL, NULL,
                                                         NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                         on_signal, &m, NULL);
  subscriptions[1] =
    g_dbus_connection_signal_subscribe (ctl->connection, "org.freedesktop.DBus",
                                        "org.freedesktop.DBus", "NameOwnerChanged",
                                        "/org/freedesktop/DBus", QMGR_BUS_NAME,
                                        G_DBUS_SIGNAL_FLAGS_NONE, on_signal, &m, NULL);
  sources[0] = g_unix_signal_add (SIGINT, on_terminate, m.loop);
  sources[1] = g_unix_signal_add (SIGTERM, on_terminate, m.loop);
  /* A round trip to the bus: the match rules are in place once it answers,
   * and from then on nothing is missed. */
  g_autoptr(GVariant) id = g_dbus_connection_call_sync (ctl->connection, "org.freedesktop.DBus",
                                                        "/org/freedesktop/DBus",
                                                        "org.freedesktop.DBus", "GetId", NULL,
                                                        NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                                        NULL);
  g_printerr ("%s\n", _("Following qmgrd's signals; Ctrl-C stops."));
  g_main_loop_run (m.loop);
  for (guint i = 0; i < 2; i++)
    {
      g_dbus_connection_signal_unsubscribe (ctl->connection, subscriptions[i]);
      g_source_remove (sources[i]);
    }
  g_main_loop_unref (m.loop);
  g_free (m.group_path);
  return QMGRCTL_EXIT_OK;
}
