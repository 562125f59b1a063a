/* qmgrd integration tests — helpers shared by the test programs (see it-util.h). */
#include "it-util.h"

#include <string.h>

void
it_init (int *argc, char ***argv)
{
  g_test_init (argc, argv, NULL);
}

void
it_fixture_setup (ItFixture *f, gconstpointer extra_args)
{
  f->d = qmgr_test_daemon_new ();
  qmgr_test_daemon_start (f->d, extra_args);
}

void
it_fixture_teardown (ItFixture *f, G_GNUC_UNUSED gconstpointer extra_args)
{
  /* Stopping asserts a clean exit: a sanitizer report fails the test. */
  qmgr_test_daemon_stop (f->d);
  qmgr_test_daemon_free (f->d);
}

char *
it_guid_hex (const char *guid)
{
  GString *s = g_string_new (NULL);

  for (const char *p = guid; *p; p++)
    if (g_ascii_isxdigit (*p))
      g_string_append_c (s, g_ascii_tolower (*p));
  g_assert_cmpuint (s->len, ==, 32);
  return g_string_free (s, FALSE);
}

char *
it_group_path (const char *guid)
{
  g_autofree char *hex = it_guid_hex (guid);
  return g_strdup_printf ("%s/group/%s", QMGR_TEST_MANAGER_PATH, hex);
}

char *
it_job_path (const char *group_guid, const char *job_guid)
{
  g_autofree char *group = it_group_path (group_guid);
  g_autofree char *hex = it_guid_hex (job_guid);
  return g_strdup_printf ("%s/job/%s", group, hex);
}

char *
it_new_guid (void)
{
  return g_uuid_string_random ();
}

gboolean
it_is_v4_guid (const char *guid)
{
  if (strlen (guid) != 36)
    return FALSE;
  for (guint i = 0; i < 36; i++)
    {
      if (i == 8 || i == 13 || i == 18 || i == 23)
        {
          if (guid[i] != '-')
            return FALSE;
        }
      else if (!g_ascii_isdigit (guid[i]) && !(guid[i] >= 'a' && guid[i] <= 'f'))
        return FALSE;
    }
  return guid[14] == '4' && strchr ("89ab", guid[19]) != NULL;
}

ItGroup *
it_group_create (QmgrTestDaemon *d, gboolean with_job)
{
  ItGroup *g = g_new0 (ItGroup, 1);
  g_autoptr(GVariant) reply = NULL;
  const char *path;

  g->id = it_new_guid ();
  g->path = it_group_path (g->id);
  reply = it_call_ok (d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, "CreateGroup",
                      g_variant_new ("(s)", g->id), "(o)");
  g_variant_get (reply, "(&o)", &path);
  g_assert_cmpstr (path, ==, g->path);
  if (with_job)
    it_group_create_job (d, g);
  return g;
}

void
it_group_create_job (QmgrTestDaemon *d, ItGroup *g)
{
  g_autoptr(GVariant) reply = NULL;
  const char *path;

  g_assert_null (g->job_id);
  g->job_id = it_new_guid ();
  g->job_path = it_job_path (g->id, g->job_id);
  reply = it_call_ok (d, g->path, QMGR_TEST_GROUP_IFACE, "CreateJob",
                      g_variant_new ("(s)", g->job_id), "(o)");
  g_variant_get (reply, "(&o)", &path);
  g_assert_cmpstr (path, ==, g->job_path);
}

void
it_group_free (ItGroup *g)
{
  if (g == NULL)
    return;
  g_free (g->id);
  g_free (g->path);
  g_free (g->job_id);
  g_free (g->job_path);
  g_free (g);
}

GVariant *
it_call_ok (QmgrTestDaemon *d, const char *path, const char *iface, const char *method,
            GVariant *params, const char *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = qmgr_test_call (d, path, iface, method, params, reply_type, &error);

  if (error != NULL)
    g_test_message ("%s.%s on %s failed", iface, method, path);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  return reply;
}

void
it_call_void (QmgrTestDaemon *d, const char *path, const char *iface, const char *method,
              GVariant *params)
{
  g_autoptr(GVariant) reply = it_call_ok (d, path, iface, method, params, "()");
}

GVariant *
it_get_property (QmgrTestDaemon *d, const char *path, const char *iface, const char *name)
{
  g_autoptr(GVariant) reply = NULL;
  GVariant *value;

  reply = it_call_ok (d, path, "org.freedesktop.DBus.Properties", "Get",
                      g_variant_new ("(ss)", iface, name), "(v)");
  g_variant_get (reply, "(v)", &value);
  return value;
}

gboolean
it_set_property (QmgrTestDaemon *d, const char *path, const char *iface, const char *name,
                 GVariant *value, GError **error)
{
  g_autoptr(GVariant) reply = NULL;

  reply = qmgr_test_call (d, path, "org.freedesktop.DBus.Properties", "Set",
                          g_variant_new ("(ssv)", iface, name, value), "()", error);
  return reply != NULL;
}

GVariant *
it_get_all (QmgrTestDaemon *d, const char *path, const char *iface)
{
  g_autoptr(GVariant) reply = NULL;

  reply = it_call_ok (d, path, "org.freedesktop.DBus.Properties", "GetAll",
                      g_variant_new ("(s)", iface), "(a{sv})");
  return g_variant_get_child_value (reply, 0);
}

guint32
it_get_u (QmgrTestDaemon *d, const char *path, const char *iface, const char *name)
{
  g_autoptr(GVariant) v = it_get_property (d, path, iface, name);
  g_assert_cmpstr (g_variant_get_type_string (v), ==, "u");
  return g_variant_get_uint32 (v);
}

guint64
it_get_t (QmgrTestDaemon *d, const char *path, const char *iface, const char *name)
{
  g_autoptr(GVariant) v = it_get_property (d, path, iface, name);
  g_assert_cmpstr (g_variant_get_type_string (v), ==, "t");
  return g_variant_get_uint64 (v);
}

char *
it_get_s (QmgrTestDaemon *d, const char *path, const char *iface, const char *name)
{
  g_autoptr(GVariant) v = it_get_property (d, path, iface, name);
  g_assert_cmpstr (g_variant_get_type_string (v), ==, "s");
  return g_variant_dup_string (v, NULL);
}

guint32
it_group_status (QmgrTestDaemon *d, const char *group_path)
{
  g_autoptr(GVariant) reply = NULL;
  guint32 status, job_index;

  reply = it_call_ok (d, group_path, QMGR_TEST_GROUP_IFACE, "GetStatus", NULL, "(uu)");
  g_variant_get (reply, "(uu)", &status, &job_index);
  g_assert_cmpuint (job_index, ==, 0);
  return status;
}

guint32
it_job_status (QmgrTestDaemon *d, const char *job_path)
{
  g_autoptr(GVariant) reply = NULL;
  guint32 status, win32, transport, retries;

  reply = it_call_ok (d, job_path, QMGR_TEST_JOB_IFACE, "GetStatus", NULL, "(uuuu)");
  g_variant_get (reply, "(uuuu)", &status, &win32, &transport, &retries);
  return status;
}

GVariant *
it_getprop (QmgrTestDaemon *d, const char *group_path, guint32 id, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  GVariant *value;

  reply = qmgr_test_call (d, group_path, QMGR_TEST_GROUP_IFACE, "GetProp",
                          g_variant_new ("(u)", id), "(v)", error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(v)", &value);
  return value;
}

gboolean
it_setprop (QmgrTestDaemon *d, const char *group_path, guint32 id, GVariant *value,
            GError **error)
{
  g_autoptr(GVariant) reply = NULL;

  reply = qmgr_test_call (d, group_path, QMGR_TEST_GROUP_IFACE, "SetProp",
                          g_variant_new ("(uv)", id, value), "()", error);
  return reply != NULL;
}

gboolean
it_add_file (QmgrTestDaemon *d, const char *job_path, const char *url, const char *local_path,
             guint64 size_hint, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sst)"));
  g_variant_builder_add (&b, "(sst)", url, local_path, size_hint);
  reply = qmgr_test_call (d, job_path, QMGR_TEST_JOB_IFACE, "AddFiles",
                          g_variant_new ("(a(sst))", &b), "()", error);
  return reply != NULL;
}

char *
it_file (QmgrTestDaemon *d, const char *name)
{
  return g_build_filename (qmgr_test_daemon_get_files_dir (d), name, NULL);
}

void
it_resume_blocked (QmgrTestDaemon *d, const char *group_path)
{
  g_autoptr(GError) error = NULL;

  it_set_property (d, group_path, QMGR_TEST_GROUP_IFACE, "TransferPolicy",
                   g_variant_new_uint32 (IT_TRANSFER_POLICY_CAPPED_ONLY), &error);
  g_assert_no_error (error);
  it_call_void (d, group_path, QMGR_TEST_GROUP_IFACE, "ResumeGroup", NULL);
}

typedef struct {
  QmgrTestDaemon *d;
  const char *path;
  const char *iface;
  const char *name;
  GVariant *expected;
} PropertyWait;

static gboolean
property_matches (gpointer user_data)
{
  PropertyWait *w = user_data;
  g_autoptr(GVariant) v = it_get_property (w->d, w->path, w->iface, w->name);
  return g_variant_equal (v, w->expected);
}

static gboolean
wake_up (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
it_set_group_u (QmgrTestDaemon *d, ItGroup *g, const char *name, guint32 value)
{
  g_autoptr(GError) error = NULL;

  it_set_property (d, g->path, QMGR_TEST_GROUP_IFACE, name, g_variant_new_uint32 (value),
                   &error);
  g_assert_no_error (error);
}

gboolean
it_poll_until (gboolean (*cond) (gpointer), gpointer user_data, guint interval_ms,
               guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!cond (user_data))
    {
      gboolean tick = FALSE;

      if (g_get_monotonic_time () >= deadline)
        return cond (user_data);
      g_timeout_add (interval_ms, wake_up, &tick);
      while (!tick)
        g_main_context_iteration (NULL, TRUE);
    }
  return TRUE;
}

gboolean
it_wait_property (QmgrTestDaemon *d, const char *path, const char *iface, const char *name,
                  GVariant *expected, guint timeout_ms)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (expected);
  PropertyWait w = { d, path, iface, name, owned };

  /* Re-read every 20 ms: the daemon may change it from its scheduler without
   * any call of ours. */
  return it_poll_until (property_matches, &w, 20, timeout_ms);
}

/* ---- a client's Callback object ---- */

static void
callback_log_method (G_GNUC_UNUSED GDBusConnection *connection,
                     G_GNUC_UNUSED const char *sender, G_GNUC_UNUSED const char *path,
                     G_GNUC_UNUSED const char *iface, const char *method, GVariant *params,
                     GDBusMethodInvocation *invocation, gpointer user_data)
{
  ItCallbackLog *log = user_data;

  g_ptr_array_add (log->calls, g_variant_ref_sink (g_variant_new ("(s@*)", method, params)));
  g_dbus_method_invocation_return_value (invocation, NULL);
}

const GDBusInterfaceVTable it_callback_log_vtable = { callback_log_method, NULL, NULL, { NULL } };

void
it_name_acquired (G_GNUC_UNUSED GDBusConnection *connection, G_GNUC_UNUSED const char *name,
                  gpointer flag)
{
  *(gboolean *) flag = TRUE;
}

gboolean
it_flag_is_set (gpointer flag)
{
  return *(gboolean *) flag;
}

/* ---- signal recorder ---- */

static void
it_signal_free (gpointer p)
{
  ItSignal *s = p;

  g_free (s->path);
  g_free (s->iface);
  g_free (s->member);
  g_variant_unref (s->params);
  g_free (s);
}

static void
on_signal (G_GNUC_UNUSED GDBusConnection *connection, G_GNUC_UNUSED const char *sender,
           const char *path,
           const char *iface, const char *member, GVariant *params, gpointer user_data)
{
  ItRecorder *r = user_data;
  ItSignal *s;

  if (!g_str_has_prefix (path, QMGR_TEST_MANAGER_PATH))
    return;
  s = g_new0 (ItSignal, 1);
  s->path = g_strdup (path);
  s->iface = g_strdup (iface);
  s->member = g_strdup (member);
  s->params = g_variant_ref (params);
  g_ptr_array_add (r->signals, s);
}

ItRecorder *
it_recorder_new (QmgrTestDaemon *d)
{
  ItRecorder *r = g_new0 (ItRecorder, 1);

  r->d = d;
  r->connection = g_object_ref (qmgr_test_daemon_get_connection (d));
  r->signals = g_ptr_array_new_with_free_func (it_signal_free);
  r->subscription = g_dbus_connection_signal_subscribe (r->connection, NULL, NULL, NULL, NULL,
                                                        NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                        on_signal, r, NULL);
  /* The AddMatch goes out before any later call of ours: no signal is missed. */
  it_recorder_sync (r);
  return r;
}

void
it_recorder_free (ItRecorder *r)
{
  if (r == NULL)
    return;
  g_dbus_connection_signal_unsubscribe (r->connection, r->subscription);
  g_object_unref (r->connection);
  g_ptr_array_unref (r->signals);
  g_free (r);
}

void
it_recorder_sync (ItRecorder *r)
{
  g_autoptr(GVariant) reply = NULL;

  /* The daemon answers the Ping after everything it sent before: once the reply is
   * here, those signals are queued in our main context. */
  reply = it_call_ok (r->d, QMGR_TEST_MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL,
                      "()");
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

void
it_recorder_clear (ItRecorder *r)
{
  g_ptr_array_set_size (r->signals, 0);
}

static gboolean
signal_matches (ItSignal *s, const char *path, const char *iface, const char *member)
{
  return (path == NULL || g_strcmp0 (s->path, path) == 0) &&
         (iface == NULL || g_strcmp0 (s->iface, iface) == 0) &&
         (member == NULL || g_strcmp0 (s->member, member) == 0);
}

typedef struct {
  ItRecorder *r;
  const char *path;
  const char *iface;
  const char *member;
  ItSignal *found;
} SignalWait;

static gboolean
find_signal (gpointer user_data)
{
  SignalWait *w = user_data;

  for (guint i = 0; i < w->r->signals->len; i++)
    {
      ItSignal *s = g_ptr_array_index (w->r->signals, i);
      if (signal_matches (s, w->path, w->iface, w->member))
        {
          w->found = s;
          return TRUE;
        }
    }
  return FALSE;
}

ItSignal *
it_recorder_wait (ItRecorder *r, const char *path, const char *iface, const char *member,
                  guint timeout_ms)
{
  SignalWait w = { r, path, iface, member, NULL };

  qmgr_test_wait_until (find_signal, &w, timeout_ms);
  return w.found;
}

guint
it_recorder_count (ItRecorder *r, const char *path, const char *iface, const char *member)
{
  guint n = 0;

  for (guint i = 0; i < r->signals->len; i++)
    if (signal_matches (g_ptr_array_index (r->signals, i), path, iface, member))
      n++;
  return n;
}

typedef struct {
  ItRecorder *r;
  const char *path;
  const char *iface;
  const char *prop;
  GVariant *expected;
} PropertySignalWait;

static gboolean
properties_changed_matches (ItSignal *s, const char *path, const char *iface, const char *prop,
                            GVariant *expected)
{
  const char *changed_iface;
  g_autoptr(GVariant) changed = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree const char **invalidated = NULL;

  if (!signal_matches (s, path, "org.freedesktop.DBus.Properties", "PropertiesChanged"))
    return FALSE;
  if (!g_variant_is_of_type (s->params, G_VARIANT_TYPE ("(sa{sv}as)")))
    return FALSE;
  g_variant_get (s->params, "(&s@a{sv}^a&s)", &changed_iface, &changed, &invalidated);
  if (g_strcmp0 (changed_iface, iface) != 0)
    return FALSE;
  value = g_variant_lookup_value (changed, prop, NULL);
  if (value != NULL)
    return expected == NULL || g_variant_equal (value, expected);
  return g_strv_contains (invalidated, prop);
}

static gboolean
find_property_signal (gpointer user_data)
{
  PropertySignalWait *w = user_data;

  for (guint i = 0; i < w->r->signals->len; i++)
    if (properties_changed_matches (g_ptr_array_index (w->r->signals, i), w->path, w->iface,
                                    w->prop, w->expected))
      return TRUE;
  return FALSE;
}

gboolean
it_recorder_wait_property (ItRecorder *r, const char *path, const char *iface,
                           const char *prop, GVariant *expected, guint timeout_ms)
{
  g_autoptr(GVariant) owned = expected ? g_variant_ref_sink (expected) : NULL;
  PropertySignalWait w = { r, path, iface, prop, owned };

  return qmgr_test_wait_until (find_property_signal, &w, timeout_ms);
}

guint
it_recorder_count_property (ItRecorder *r, const char *path, const char *iface,
                            const char *prop, GVariant *expected)
{
  g_autoptr(GVariant) owned = expected ? g_variant_ref_sink (expected) : NULL;
  guint n = 0;

  for (guint i = 0; i < r->signals->len; i++)
    if (properties_changed_matches (g_ptr_array_index (r->signals, i), path, iface, prop, owned))
      n++;
  return n;
}

gboolean
it_recorder_saw_property (ItRecorder *r, const char *path, const char *iface, const char *prop)
{
  PropertySignalWait w = { r, path, iface, prop, NULL };
  return find_property_signal (&w);
}

/* ---- the loopback black hole ---- */

static GSocket *
listen_loopback (guint16 *port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  GSocket *socket;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any, TRUE, &error);
  g_assert_no_error (error);
  g_socket_set_listen_backlog (socket, 64);
  g_socket_listen (socket, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return socket;
}

struct ItBlackhole {
  GSocket *socket;
  guint16 port;
};

ItBlackhole *
it_blackhole_new (void)
{
  ItBlackhole *b = g_new0 (ItBlackhole, 1);

  b->socket = listen_loopback (&b->port);
  return b;
}

char *
it_blackhole_url (ItBlackhole *b, const char *path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", b->port, path);
}

void
it_blackhole_free (ItBlackhole *b)
{
  if (b == NULL)
    return;
  g_socket_close (b->socket, NULL);
  g_object_unref (b->socket);
  g_free (b);
}

gboolean
it_contains (const char *haystack, const char *needle)
{
  return haystack != NULL && strstr (haystack, needle) != NULL;
}

char *
it_repeat (const char *unit, guint n)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append (s, unit);
  return g_string_free (s, FALSE);
}

void
it_assert_message_contains_impl (const GError *error, const char *needle, const char *file,
                                 int line)
{
  g_autofree char *hay = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *failure = NULL;

  if (error == NULL)
    {
      g_assertion_message (G_LOG_DOMAIN, file, line, G_STRFUNC,
                           "expected an error, the call succeeded");
      return;
    }
  hay = g_ascii_strdown (error->message, -1);
  pin = g_ascii_strdown (needle, -1);
  if (strstr (hay, pin) != NULL)
    return;
  failure = g_strdup_printf ("error message \"%s\" does not mention \"%s\"", error->message,
                             needle);
  g_assertion_message (G_LOG_DOMAIN, file, line, G_STRFUNC, failure);
}

static char *
variant_diff_at (GVariant *a, GVariant *b, const char *where)
{
  if (g_variant_equal (a, b))
    return NULL;
  if (g_variant_is_container (a) && g_variant_is_container (b) &&
      g_variant_type_equal (g_variant_get_type (a), g_variant_get_type (b)))
    {
      gboolean dict = g_variant_is_of_type (a, G_VARIANT_TYPE ("a{sv}"));
      gsize na = g_variant_n_children (a), nb = g_variant_n_children (b);

      if (g_variant_is_of_type (a, G_VARIANT_TYPE_VARIANT))
        {
          g_autoptr(GVariant) ca = g_variant_get_variant (a);
          g_autoptr(GVariant) cb = g_variant_get_variant (b);
          return variant_diff_at (ca, cb, where);
        }
      for (gsize i = 0; i < MIN (na, nb); i++)
        {
          g_autoptr(GVariant) ca = g_variant_get_child_value (a, i);
          g_autoptr(GVariant) cb = g_variant_get_child_value (b, i);
          g_autofree char *here = NULL;
          char *diff;

          if (dict)
            {
              g_autoptr(GVariant) key = g_variant_get_child_value (ca, 0);
              here = g_strdup_printf ("%s{%s}", where, g_variant_get_string (key, NULL));
            }
          else
            here = g_strdup_printf ("%s[%" G_GSIZE_FORMAT "]", where, i);
          diff = variant_diff_at (ca, cb, here);
          if (diff != NULL)
            return diff;
        }
      return g_strdup_printf ("%s: %" G_GSIZE_FORMAT " children vs %" G_GSIZE_FORMAT, where, na,
                              nb);
    }
  {
    g_autofree char *sa = g_variant_print (a, TRUE);
    g_autofree char *sb = g_variant_print (b, TRUE);
    return g_strdup_printf ("%s: %.300s vs %.300s", where, sa, sb);
  }
}

char *
it_variant_diff (GVariant *a, GVariant *b)
{
  return variant_diff_at (a, b, "");
}

