/* qmgrd integration tests — docs/targets.md R9: one client at the quotas with the
 * worst strings (emoji at the character limits), then the biggest replies the bus
 * can ask for — ObjectManager's GetManagedObjects (one array of every object,
 * at most 64 MiB in D-Bus) and Introspect of the groups' node — and a restart.
 * Every reply fits (or the call is refused cleanly); the daemon stays on the bus;
 * everything written is read back. */
#include "it-util.h"

#include <string.h>

#define GROUPS 20000            /* the session quota (MaxGroupsPerOwner) */
#define IN_FLIGHT 64
#define KEPT 7000               /* groups kept for the second reply */
/* A bus may refuse a message over 32 MiB (the system bus's default, and this
 * test's bus): every reply must stay well inside it. */
#define BUS_MESSAGE_SAFE (24u << 20)
#define EMOJI "\360\237\230\200"

typedef struct {
  GDBusConnection *bus;
  GMainContext *context;
  guint in_flight;
  guint limits_exceeded;
  guint failed;
  GPtrArray *paths;             /* group object paths, as created */
} Batch;

static void
on_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Batch *b = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                             &error);

  b->in_flight--;
  if (reply != NULL && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(o)")))
    {
      const char *path;
      g_variant_get (reply, "(&o)", &path);
      g_ptr_array_add (b->paths, g_strdup (path));
    }
  else if (error != NULL)
    {
      g_autofree char *name = g_dbus_error_get_remote_error (error);
      if (g_strcmp0 (name, IT_ERR_LIMITS) == 0)
        b->limits_exceeded++;
      else
        {
          g_test_message ("call failed: %s", error->message);
          b->failed++;
        }
    }
}

/* Sends the call, at most IN_FLIGHT outstanding (as a client that pipelines). */
static void
call (Batch *b, const char *path, const char *iface, const char *method, GVariant *params)
{
  while (b->in_flight >= IN_FLIGHT)
    g_main_context_iteration (b->context, TRUE);
  b->in_flight++;
  g_dbus_connection_call (b->bus, QMGR_TEST_BUS_NAME, path, iface, method, params, NULL,
                          G_DBUS_CALL_FLAGS_NONE, 120000, NULL, on_reply, b);
}

static void
drain (Batch *b)
{
  while (b->in_flight > 0)
    g_main_context_iteration (b->context, TRUE);
}

static char *
repeat (const char *unit, guint n)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append (s, unit);
  return g_string_free (s, FALSE);
}

/* The reply to @method, and its size on the wire. */
static GDBusMessage *
call_measured (QmgrTestDaemon *d, const char *path, const char *iface, const char *method,
               gsize *size)
{
  GDBusConnection *bus = qmgr_test_daemon_get_connection (d);
  g_autoptr(GDBusMessage) msg = g_dbus_message_new_method_call (QMGR_TEST_BUS_NAME, path, iface,
                                                                method);
  g_autoptr(GError) error = NULL;
  GDBusMessage *reply = g_dbus_connection_send_message_with_reply_sync (
      bus, msg, G_DBUS_SEND_MESSAGE_FLAGS_NONE, 120000, NULL, NULL, &error);
  guchar *blob;

  g_assert_no_error (error);
  blob = g_dbus_message_to_blob (reply, size, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
  g_assert_no_error (error);
  g_free (blob);
  return reply;
}

static void
test_quota_with_worst_strings (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  Batch b = { 0 };
  g_autofree char *name = repeat (EMOJI, 256);        /* DisplayName: 256 characters */
  g_autofree char *description = repeat (EMOJI, 1024); /* Description: 1,024 */
  g_autoptr(GDBusMessage) objects = NULL, nodes = NULL;
  gsize objects_size, nodes_size;
  guint named = 0;

  b.bus = qmgr_test_daemon_get_connection (f->d);
  b.context = g_main_context_get_thread_default ();
  b.paths = g_ptr_array_new_with_free_func (g_free);

  /* Every group the quota allows, and one more. */
  for (guint i = 0; i <= GROUPS; i++)
    call (&b, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, "CreateGroup",
          g_variant_new ("(s)", ""));
  drain (&b);
  g_assert_cmpuint (b.failed, ==, 0);
  g_assert_cmpuint (b.paths->len, ==, GROUPS);
  g_assert_cmpuint (b.limits_exceeded, ==, 1);

  /* Each with a job, and the longest name and description, until the owner's
   * strings are all the quota allows. */
  for (guint i = 0; i < GROUPS; i++)
    {
      const char *path = g_ptr_array_index (b.paths, i);
      call (&b, path, QMGR_TEST_GROUP_IFACE, "CreateJob", g_variant_new ("(s)", ""));
      call (&b, path, QMGR_TEST_GROUP_IFACE, "SetProp",
            g_variant_new ("(uv)", 11, g_variant_new_string (name)));
      call (&b, path, QMGR_TEST_GROUP_IFACE, "SetProp",
            g_variant_new ("(uv)", 12, g_variant_new_string (description)));
    }
  drain (&b);
  g_assert_cmpuint (b.failed, ==, 0);
  g_assert_cmpuint (b.limits_exceeded, >, 1);   /* the strings' quota was reached */
  g_test_message ("%u SetProp refused by the owner's string quota", b.limits_exceeded - 1);

  /* At the quotas the reply could pass what a bus carries (32 MiB on the
   * system bus and this test's): refused cleanly, and the daemon stays. */
  objects = call_measured (f->d, QMGR_TEST_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                           "GetManagedObjects", &objects_size);
  g_assert_cmpint (g_dbus_message_get_message_type (objects), ==, G_DBUS_MESSAGE_TYPE_ERROR);
  g_assert_cmpstr (g_dbus_message_get_error_name (objects), ==, IT_ERR_LIMITS);
  nodes = call_measured (f->d, QMGR_TEST_MANAGER_PATH "/group", "org.freedesktop.DBus.Introspectable",
                         "Introspect", &nodes_size);
  g_assert_cmpint (g_dbus_message_get_message_type (nodes), ==, G_DBUS_MESSAGE_TYPE_METHOD_RETURN);
  g_test_message ("Introspect of the groups' node: %" G_GSIZE_FORMAT " bytes", nodes_size);
  g_assert_cmpuint (nodes_size, <, BUS_MESSAGE_SAFE);
  for (guint i = 0; i < GROUPS; i++)
    {
      g_autofree char *value = it_get_s (f->d, g_ptr_array_index (b.paths, i),
                                         QMGR_TEST_GROUP_IFACE, "DisplayName");
      named += g_strcmp0 (value, name) == 0;
    }
  g_assert_cmpuint (named, >, 0);
  g_assert_cmpuint (named, <, KEPT);

  /* Fewer groups: the reply fits, and is answered. */
  for (guint i = KEPT; i < GROUPS; i++)
    call (&b, g_ptr_array_index (b.paths, i), QMGR_TEST_GROUP_IFACE, "CancelGroup", NULL);
  drain (&b);
  g_assert_cmpuint (b.failed, ==, 0);
  g_clear_object (&objects);
  objects = call_measured (f->d, QMGR_TEST_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                           "GetManagedObjects", &objects_size);
  g_assert_cmpint (g_dbus_message_get_message_type (objects), ==,
                   G_DBUS_MESSAGE_TYPE_METHOD_RETURN);
  g_test_message ("GetManagedObjects of %u groups: %" G_GSIZE_FORMAT " bytes", KEPT,
                  objects_size);
  g_assert_cmpuint (objects_size, <, BUS_MESSAGE_SAFE);
  {
    g_autoptr(GVariant) dict = g_variant_get_child_value (g_dbus_message_get_body (objects), 0);
    g_assert_cmpuint (g_variant_n_children (dict), ==, 2 * KEPT);
  }

  /* A restart reads every group back, names and all. */
  qmgr_test_daemon_stop (f->d);
  qmgr_test_daemon_start (f->d, NULL);
  {
    g_autoptr(GVariant) ids = it_call_ok (f->d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE,
                                          "EnumGroups", g_variant_new ("(u)", 0), "(as)");
    g_autoptr(GVariant) list = g_variant_get_child_value (ids, 0);
    guint named_after = 0;

    g_assert_cmpuint (g_variant_n_children (list), ==, KEPT);
    for (guint i = 0; i < KEPT; i++)
      {
        g_autofree char *value = it_get_s (f->d, g_ptr_array_index (b.paths, i),
                                           QMGR_TEST_GROUP_IFACE, "DisplayName");
        named_after += g_strcmp0 (value, name) == 0;
      }
    g_assert_cmpuint (named_after, ==, named);
  }
  g_ptr_array_unref (b.paths);
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  it_add ("/quota/worst-strings-replies", test_quota_with_worst_strings);
  return g_test_run ();
}
