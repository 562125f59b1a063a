/* qmgrd tests — the bus layer in this process, on a private bus, over a manager
 * from the unit tests (whose wall clock the test moves): what moved from the core
 * to bus/ in the refactor. Object paths from GUIDs; the live callback pointers
 * (SetNotificationPointer) and their end when the peer leaves; the caller's uid
 * that TakeOwnership and CreateGroup pass on in system mode; the 24-hour limit on
 * OnStatus deliveries (a test connection owns the NOTIFYCLSID name and refuses
 * the first call, so the daemon retries a second later); and the structured
 * fields of the bus layer's messages about a group. */
#include "it-util.h"
#include "unit-common.h"
#include "bus-private.h"

#include <string.h>
#include <unistd.h>

#define TARGET_NAME "org.example.QmgrTestGiveUp"
#define GROUP_A_PATH "/io/github/qmgrd/QMgr1/group/1b4e28ba2fa111d2883f0016d3cca427"
#define JOB_B_PATH GROUP_A_PATH "/job/6fa459eaee8a3ca4894edb77e160355e"
#define HOUR_USEC ((gint64) 3600 * G_USEC_PER_SEC)
#define DEADLINE_MS 10000

/* ---- what the bus layer logs (domain qmgr-bus), with its structured fields ---- */

typedef struct {
  char *message;
  char *group_id;   /* QMGR_GROUP_ID, or NULL */
  char *job_id;     /* QMGR_JOB_ID, or NULL */
} LogRecord;

static GPtrArray *bus_log;   /* LogRecord*, for the process's life */

static void
log_record_free (gpointer data)
{
  LogRecord *r = data;

  g_free (r->message);
  g_free (r->group_id);
  g_free (r->job_id);
  g_free (r);
}

static char *
field_dup (const GLogField *field)
{
  return field->length < 0 ? g_strdup (field->value)
                           : g_strndup (field->value, (gsize) field->length);
}

static GLogWriterOutput
record_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  g_autofree char *domain = NULL;
  LogRecord *r = g_new0 (LogRecord, 1);

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = field_dup (&fields[i]);
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        r->message = field_dup (&fields[i]);
      else if (g_str_equal (fields[i].key, "QMGR_GROUP_ID"))
        r->group_id = field_dup (&fields[i]);
      else if (g_str_equal (fields[i].key, "QMGR_JOB_ID"))
        r->job_id = field_dup (&fields[i]);
    }
  if (g_strcmp0 (domain, "qmgr-bus") == 0)
    g_ptr_array_add (bus_log, r);
  else
    log_record_free (r);
  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* The first message of the bus layer since @from that contains @text. */
static const LogRecord *
expect_logged (guint from, const char *text)
{
  for (guint i = from; i < bus_log->len; i++)
    {
      const LogRecord *r = g_ptr_array_index (bus_log, i);
      if (r->message != NULL && strstr (r->message, text) != NULL)
        return r;
    }
  g_test_message ("the bus layer did not log \"%s\"", text);
  g_assert_not_reached ();
}

/* ---- the bus layer on the private bus, and calls to it ---- */

static QmgrBus *
bus_layer_new (QmgrTestDaemon *d, QmgrManager *manager)
{
  g_autoptr(GError) error = NULL;
  QmgrBus *bus;

  /* GTestDBus made the private bus the session bus of this process. */
  g_assert_cmpstr (g_getenv ("DBUS_SESSION_BUS_ADDRESS"), ==,
                   qmgr_test_daemon_get_bus_address (d));
  bus = qmgr_bus_new (manager, FALSE, &error);
  g_assert_no_error (error);
  return bus;
}

typedef struct {
  gboolean done;
  GVariant *reply;
  GError *error;
} CallResult;

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CallResult *r = user_data;

  r->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &r->error);
  r->done = TRUE;
}

/* A call to the bus layer (by its unique name: it owns no other) from @connection.
 * Asynchronous, with the main loop running: the bus layer answers from this very
 * thread. */
static GVariant *
call_bus_layer (GDBusConnection *connection, QmgrBus *bus, const char *path,
                const char *iface, const char *method, GVariant *params, GError **error)
{
  CallResult r = { FALSE, NULL, NULL };
  const char *unique_name = NULL;

  g_assert_cmpint (sd_bus_get_unique_name (bus->bus, &unique_name), >=, 0);
  g_dbus_connection_call (connection, unique_name, path, iface, method, params, NULL,
                          G_DBUS_CALL_FLAGS_NONE, DEADLINE_MS, NULL, on_call_done, &r);
  g_assert_true (qmgr_test_wait_until (it_flag_is_set, &r.done, DEADLINE_MS));
  if (r.error != NULL)
    g_propagate_error (error, r.error);
  return r.reply;
}

/* The string or path a reply holds: (s), (o), or the (v) of Properties.Get. */
static char *
reply_string (GVariant *reply)
{
  g_autoptr(GVariant) child = NULL;
  g_autoptr(GVariant) inner = NULL;

  g_assert_nonnull (reply);
  child = g_variant_get_child_value (reply, 0);
  if (!g_variant_is_of_type (child, G_VARIANT_TYPE_VARIANT))
    return g_variant_dup_string (child, NULL);
  inner = g_variant_get_variant (child);
  return g_variant_dup_string (inner, NULL);
}

/* ---- object paths ---- */

static void
test_object_paths (void)
{
  g_autoptr(QmgrManager) manager = unit_manager_new (0, 0);
  QmgrGroup *group = unit_create_group (manager, GUID_A, getuid ());
  QmgrGroup *empty = unit_create_group (manager, GUID_C, getuid ());
  QmgrJob *job = unit_create_job (group, GUID_B);
  QmgrObjectPath path;

  g_assert_cmpstr (qmgr_bus_group_path (group, &path), ==, GROUP_A_PATH);
  g_assert_cmpstr (qmgr_bus_job_path (job, &path), ==, JOB_B_PATH);
  g_assert_cmpstr (qmgr_bus_job_path_of (group, &path), ==, JOB_B_PATH);
  g_assert_cmpstr (qmgr_bus_job_path_of (empty, &path), ==, "/");
}

/* Properties.Get of a string or path property, over D-Bus. */
static char *
get_property_text (GDBusConnection *connection, QmgrBus *bus, const char *path,
                   const char *iface, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call_bus_layer (connection, bus, path,
                                              "org.freedesktop.DBus.Properties", "Get",
                                              g_variant_new ("(ss)", iface, name), &error);

  g_assert_no_error (error);
  return reply_string (reply);
}

/* The paths lead to the objects on the bus (the find callbacks parse them back). */
static void
test_object_paths_on_the_bus (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  GDBusConnection *connection = qmgr_test_daemon_get_connection (d);
  g_autoptr(QmgrManager) manager = unit_manager_new (0, 0);
  g_autoptr(QmgrBus) bus = bus_layer_new (d, manager);
  QmgrGroup *group = unit_create_group (manager, GUID_A, getuid ());
  g_autofree char *group_id = NULL;
  g_autofree char *job_id = NULL;
  g_autofree char *group_path = NULL;

  unit_create_job (group, GUID_B);
  group_id = get_property_text (connection, bus, GROUP_A_PATH, QMGR_TEST_GROUP_IFACE, "GroupID");
  g_assert_cmpstr (group_id, ==, GUID_A);
  job_id = get_property_text (connection, bus, JOB_B_PATH, QMGR_TEST_JOB_IFACE, "JobID");
  g_assert_cmpstr (job_id, ==, GUID_B);
  group_path = get_property_text (connection, bus, JOB_B_PATH, QMGR_TEST_JOB_IFACE, "Group");
  g_assert_cmpstr (group_path, ==, GROUP_A_PATH);
}

/* ---- live callback pointers ---- */

static void
test_live_pointers (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();   /* the bus only */
  g_autoptr(QmgrManager) manager = unit_manager_new (0, 0);
  g_autoptr(QmgrBus) bus = bus_layer_new (d, manager);
  g_autoptr(GError) error = NULL;
  QmgrGroup *a = unit_create_group (manager, GUID_A, getuid ());
  QmgrGroup *b = unit_create_group (manager, GUID_B, getuid ());
  QmgrGroup *c = unit_create_group (manager, GUID_C, getuid ());
  QmgrGroup *e = unit_create_group (manager, GUID_E, getuid ());

  g_assert_true (qmgr_group_set_notify_clsid (a, TARGET_NAME ":/cb", &error));
  g_assert_no_error (error);

  /* Registering sets the core's flag; "/" clears it. */
  g_assert_false (a->live_callback);
  qmgr_bus_callbacks_set_live (bus, a, ":1.5", "/cb");
  g_assert_true (a->live_callback);
  qmgr_bus_callbacks_set_live (bus, a, ":1.5", "/");
  g_assert_false (a->live_callback);
  qmgr_bus_callbacks_set_live (bus, b, NULL, "/");   /* nothing to clear */
  g_assert_false (b->live_callback);

  /* Another caller replaces the pointer: the first one leaving no longer clears it. */
  qmgr_bus_callbacks_set_live (bus, a, ":1.5", "/cb");
  qmgr_bus_callbacks_set_live (bus, a, ":1.6", "/other");
  g_assert_true (a->live_callback);
  qmgr_bus_callbacks_forget_peer (bus, ":1.5");
  g_assert_true (a->live_callback);
  qmgr_bus_callbacks_forget_peer (bus, ":1.6");
  g_assert_false (a->live_callback);

  /* A peer leaving clears exactly its own pointers: not ":1.50", not ":1.6". */
  qmgr_bus_callbacks_set_live (bus, a, ":1.5", "/cb");
  qmgr_bus_callbacks_set_live (bus, b, ":1.50", "/cb");
  qmgr_bus_callbacks_set_live (bus, c, ":1.6", "/cb");
  qmgr_bus_callbacks_set_live (bus, e, ":1.5", "/elsewhere");
  qmgr_bus_callbacks_forget_peer (bus, ":1.5");
  g_assert_false (a->live_callback);
  g_assert_false (e->live_callback);
  g_assert_true (b->live_callback);
  g_assert_true (c->live_callback);
  /* NOTIFYCLSID is not a live pointer: it stays, and stays a target. */
  g_assert_cmpstr (a->notify_clsid, ==, TARGET_NAME ":/cb");
  g_assert_true (qmgr_group_has_callback_target (a));
  g_assert_false (qmgr_group_has_callback_target (e));
}

static gboolean
live_callback_gone (gpointer user_data)
{
  return !((QmgrGroup *) user_data)->live_callback;
}

/* Over D-Bus: SetNotificationPointer registers the caller's object; the caller
 * leaving the bus clears it. */
static void
test_live_pointer_until_caller_leaves (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(QmgrManager) manager = unit_manager_new (0, 0);
  g_autoptr(QmgrBus) bus = bus_layer_new (d, manager);
  g_autoptr(GDBusConnection) client = qmgr_test_daemon_new_connection (d);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  QmgrGroup *a = unit_create_group (manager, GUID_A, getuid ());

  reply = call_bus_layer (client, bus, GROUP_A_PATH, QMGR_TEST_GROUP_IFACE,
                          "SetNotificationPointer",
                          g_variant_new ("(so)", QMGR_TEST_CALLBACK_IFACE, "/cb"), &error);
  g_assert_no_error (error);
  g_assert_true (a->live_callback);

  g_dbus_connection_close_sync (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (qmgr_test_wait_until (live_callback_gone, a, DEADLINE_MS));
}

/* ---- the caller's uid in system mode ---- */

/* The manager is in system mode, served on the private session bus. A group of
 * another user is not the caller's to see (UnknownObject), so over D-Bus
 * TakeOwnership reaches only the caller's own groups until manage-all exists:
 * the owner afterwards is still the uid the bus vouches for. A handler passing
 * any other uid (it once passed (uid_t) -1) moves the group to that uid. */
static void
test_take_ownership_passes_caller_uid (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  GDBusConnection *connection = qmgr_test_daemon_get_connection (d);
  g_autoptr(QmgrManager) manager = unit_manager_new_system ();
  g_autoptr(QmgrBus) bus = bus_layer_new (d, manager);
  uid_t other = getuid () == 1000 ? 1001 : 1000;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  QmgrObjectPath path;
  QmgrGroup *mine, *theirs;

  mine = qmgr_manager_create_group (manager, GUID_A, getuid (), &error);
  g_assert_no_error (error);
  theirs = qmgr_manager_create_group (manager, GUID_C, other, &error);
  g_assert_no_error (error);

  reply = call_bus_layer (connection, bus, GROUP_A_PATH, QMGR_TEST_GROUP_IFACE,
                          "TakeOwnership", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mine->owner, ==, getuid ());

  g_clear_pointer (&reply, g_variant_unref);
  reply = call_bus_layer (connection, bus, qmgr_bus_group_path (theirs, &path),
                          QMGR_TEST_GROUP_IFACE, "TakeOwnership", NULL, &error);
  qmgr_test_assert_dbus_error (error, IT_ERR_UNKNOWN_OBJECT);
  g_assert_null (reply);
  g_assert_cmpuint (theirs->owner, ==, other);
}

/* CreateGroup records the caller as the owner. */
static void
test_create_group_records_caller_uid (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  GDBusConnection *connection = qmgr_test_daemon_get_connection (d);
  g_autoptr(QmgrManager) manager = unit_manager_new_system ();
  g_autoptr(QmgrBus) bus = bus_layer_new (d, manager);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *path = NULL;
  QmgrGroup *group;

  reply = call_bus_layer (connection, bus, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE,
                          "CreateGroup", g_variant_new ("(s)", GUID_A), &error);
  g_assert_no_error (error);
  path = reply_string (reply);
  g_assert_cmpstr (path, ==, GROUP_A_PATH);
  group = qmgr_manager_lookup_group (manager, unit_guid (GUID_A));
  g_assert_nonnull (group);
  g_assert_cmpuint (group->owner, ==, getuid ());
}

/* ---- the 24-hour limit on callbacks ---- */

typedef struct {
  gboolean refuse;
  guint attempts;
  guint accepted;
  guint log_from;                           /* bus_log's length when the run began */
  char job_id[QMGR_GUID_STRING_LEN + 1];    /* of the group's job */
} Target;

static void
target_method (G_GNUC_UNUSED GDBusConnection *connection, G_GNUC_UNUSED const char *sender,
               G_GNUC_UNUSED const char *path, G_GNUC_UNUSED const char *iface,
               const char *method, G_GNUC_UNUSED GVariant *params,
               GDBusMethodInvocation *invocation, gpointer user_data)
{
  Target *t = user_data;

  g_assert_cmpstr (method, ==, "OnStatus");
  t->attempts++;
  if (t->refuse)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, "org.example.Error.NotNow",
                                                  "Not now");
      return;
    }
  t->accepted++;
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static const GDBusInterfaceVTable target_vtable = { target_method, NULL, NULL, { NULL } };

static gboolean
first_attempt_seen (gpointer user_data)
{
  return ((Target *) user_data)->attempts > 0;
}

static gboolean
nothing_pending (gpointer user_data)
{
  return ((QmgrGroup *) user_data)->pending_notifications->len == 0;
}

/* A group completes; its GROUP_DONE callback is refused once; the clock moves by
 * @age_at_retry before the retry is due. Returns what the target saw. */
static Target
deliver_with_age (gint64 age_at_retry)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();   /* the bus only */
  GDBusConnection *connection = qmgr_test_daemon_get_connection (d);
  g_autoptr(GDBusNodeInfo) info = qmgr_test_load_interface_xml (QMGR_TEST_CALLBACK_IFACE);
  g_autoptr(QmgrManager) manager = unit_manager_new (0, 0);
  g_autoptr(QmgrBus) bus = NULL;
  g_autoptr(GError) error = NULL;
  Target target = { .refuse = TRUE, .log_from = bus_log->len };
  gboolean owned = FALSE;
  QmgrGroup *group;
  guint registration, owner_id;

  registration = g_dbus_connection_register_object (connection, "/cb", info->interfaces[0],
                                                    &target_vtable, &target, NULL, &error);
  g_assert_no_error (error);
  owner_id = g_bus_own_name_on_connection (connection, TARGET_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                           it_name_acquired, NULL, &owned, NULL);
  g_assert_true (qmgr_test_wait_until (it_flag_is_set, &owned, DEADLINE_MS));

  bus = bus_layer_new (d, manager);

  group = unit_group_with_files (manager, GUID_A, getuid (), 1, TRUE);
  g_strlcpy (target.job_id, group->job->id_str, sizeof target.job_id);
  g_assert_true (qmgr_group_set_notify_clsid (group, TARGET_NAME ":/cb", &error));
  g_assert_true (qmgr_group_set_notify_flags (group, QMGR_NOTIFY_GROUP_DONE, &error));
  g_assert_no_error (error);
  unit_complete_all (group->job, 10);
  g_assert_cmpuint (group->pending_notifications->len, ==, 1);

  /* Refused: the daemon tries again in a second (BACKOFF_FIRST_S), by then this old. */
  g_assert_true (qmgr_test_wait_until (first_attempt_seen, &target, DEADLINE_MS));
  g_assert_cmpuint (target.attempts, ==, 1);
  unit_clock_advance (age_at_retry);
  target.refuse = FALSE;
  /* Delivered (answered) or dropped: either way nothing is left to deliver, and a
   * delivery is counted before the daemon hears the answer. */
  g_assert_true (qmgr_test_wait_until (nothing_pending, group, DEADLINE_MS));

  g_clear_pointer (&bus, qmgr_bus_free);
  g_bus_unown_name (owner_id);
  g_dbus_connection_unregister_object (connection, registration);
  return target;
}

/* A live pointer to a peer that left without its departure being heard (its
 * rule refused by a bus at its limit): the first callback to it fails with no
 * owner, and goes to NOTIFYCLSID at once, without waiting a back-off. */
static void
test_live_pointer_gone_falls_back (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  GDBusConnection *connection = qmgr_test_daemon_get_connection (d);
  g_autoptr(GDBusNodeInfo) info = qmgr_test_load_interface_xml (QMGR_TEST_CALLBACK_IFACE);
  g_autoptr(QmgrManager) manager = unit_manager_new (0, 0);
  g_autoptr(QmgrBus) bus = NULL;
  g_autoptr(GError) error = NULL;
  Target target = { .refuse = FALSE, .log_from = bus_log->len };
  gboolean owned = FALSE;
  QmgrGroup *group;
  guint registration, owner_id;
  gint64 start;

  registration = g_dbus_connection_register_object (connection, "/cb", info->interfaces[0],
                                                    &target_vtable, &target, NULL, &error);
  g_assert_no_error (error);
  owner_id = g_bus_own_name_on_connection (connection, TARGET_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                           it_name_acquired, NULL, &owned, NULL);
  g_assert_true (qmgr_test_wait_until (it_flag_is_set, &owned, DEADLINE_MS));
  bus = bus_layer_new (d, manager);

  group = unit_group_with_files (manager, GUID_A, getuid (), 1, TRUE);
  g_assert_true (qmgr_group_set_notify_clsid (group, TARGET_NAME ":/cb", &error));
  g_assert_true (qmgr_group_set_notify_flags (group, QMGR_NOTIFY_GROUP_DONE, &error));
  g_assert_no_error (error);
  /* A unique name nobody has: registered without being watched. */
  qmgr_bus_callbacks_set_live (bus, group, ":1.999999", "/gone");
  g_assert_true (group->live_callback);

  start = g_get_monotonic_time ();
  unit_complete_all (group->job, 10);
  g_assert_true (qmgr_test_wait_until (nothing_pending, group, DEADLINE_MS));
  g_assert_cmpuint (target.accepted, ==, 1);
  g_assert_false (group->live_callback);
  /* Not after a back-off of a second. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC / 2);

  g_clear_pointer (&bus, qmgr_bus_free);
  g_bus_unown_name (owner_id);
  g_dbus_connection_unregister_object (connection, registration);
}

static void
test_retried_within_24_hours (void)
{
  Target t = deliver_with_age (24 * HOUR_USEC - G_USEC_PER_SEC);

  const LogRecord *r;

  g_assert_cmpuint (t.attempts, ==, 2);
  g_assert_cmpuint (t.accepted, ==, 1);
  /* The refusal was logged with the group's and the job's GUIDs as fields. */
  r = expect_logged (t.log_from, "callback failed");
  g_assert_cmpstr (r->group_id, ==, GUID_A);
  g_assert_cmpstr (r->job_id, ==, t.job_id);
}

static void
test_dropped_after_24_hours (void)
{
  Target t = deliver_with_age (24 * HOUR_USEC + G_USEC_PER_SEC);
  const LogRecord *r;

  /* The retry found it too old: dropped without calling the target again. */
  g_assert_cmpuint (t.attempts, ==, 1);
  g_assert_cmpuint (t.accepted, ==, 0);
  r = expect_logged (t.log_from, "dropping a callback");
  g_assert_cmpstr (r->group_id, ==, GUID_A);
  g_assert_cmpstr (r->job_id, ==, t.job_id);
}

int
main (int argc, char **argv)
{
  int status;

  it_init (&argc, &argv);
  bus_log = g_ptr_array_new_with_free_func (log_record_free);
  g_log_set_writer_func (record_writer, NULL, NULL);
  g_test_add_func ("/bus/paths", test_object_paths);
  g_test_add_func ("/bus/paths/on-the-bus", test_object_paths_on_the_bus);
  g_test_add_func ("/bus/live-pointers", test_live_pointers);
  g_test_add_func ("/bus/live-pointers/until-caller-leaves", test_live_pointer_until_caller_leaves);
  g_test_add_func ("/bus/system/take-ownership-passes-caller-uid",
                   test_take_ownership_passes_caller_uid);
  g_test_add_func ("/bus/system/create-group-records-caller-uid",
                   test_create_group_records_caller_uid);
  g_test_add_func ("/callbacks/live-pointer-gone-falls-back", test_live_pointer_gone_falls_back);
  g_test_add_func ("/callbacks/give-up/retried-within-24-hours", test_retried_within_24_hours);
  g_test_add_func ("/callbacks/give-up/dropped-after-24-hours", test_dropped_after_24_hours);
  status = g_test_run ();
  g_ptr_array_unref (bus_log);
  return status;
}
