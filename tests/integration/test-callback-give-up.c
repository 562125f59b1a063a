/* qmgrd tests — the 24-hour limit on OnStatus deliveries (bus/callbacks.c). The
 * daemon's bus layer runs in this process, on a private bus, over a manager whose
 * wall clock the test moves (qmgr_manager_set_clock); a test connection owns the
 * NOTIFYCLSID name and refuses the first call, so the daemon retries a second later. */
#include "it-util.h"
#include "unit-common.h"
#include "bus.h"

#include <unistd.h>

#define TARGET_NAME "org.example.QmgrTestGiveUp"
#define HOUR_USEC ((gint64) 3600 * G_USEC_PER_SEC)
#define DEADLINE_MS 10000

typedef struct {
  gboolean refuse;
  guint attempts;
  guint accepted;
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
  g_autoptr(GDBusNodeInfo) info = it_load_interface_xml (QMGR_TEST_CALLBACK_IFACE);
  g_autoptr(QmgrManager) manager = unit_manager_new (0, 0);
  g_autoptr(QmgrBus) bus = NULL;
  g_autoptr(GError) error = NULL;
  Target target = { .refuse = TRUE };
  gboolean owned = FALSE;
  QmgrGroup *group;
  guint registration, owner_id;

  registration = g_dbus_connection_register_object (connection, "/cb", info->interfaces[0],
                                                    &target_vtable, &target, NULL, &error);
  g_assert_no_error (error);
  owner_id = g_bus_own_name_on_connection (connection, TARGET_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                           it_name_acquired, NULL, &owned, NULL);
  g_assert_true (qmgr_test_wait_until (it_flag_is_set, &owned, DEADLINE_MS));

  /* GTestDBus made the private bus the session bus of this process. */
  g_assert_cmpstr (g_getenv ("DBUS_SESSION_BUS_ADDRESS"), ==,
                   qmgr_test_daemon_get_bus_address (d));
  bus = qmgr_bus_new (manager, FALSE, &error);
  g_assert_no_error (error);

  group = unit_group_with_files (manager, GUID_A, getuid (), 1, TRUE);
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

static void
test_retried_within_24_hours (void)
{
  Target t = deliver_with_age (24 * HOUR_USEC - G_USEC_PER_SEC);

  g_assert_cmpuint (t.attempts, ==, 2);
  g_assert_cmpuint (t.accepted, ==, 1);
}

static void
test_dropped_after_24_hours (void)
{
  Target t = deliver_with_age (24 * HOUR_USEC + G_USEC_PER_SEC);

  /* The retry found it too old: dropped without calling the target again. */
  g_assert_cmpuint (t.attempts, ==, 1);
  g_assert_cmpuint (t.accepted, ==, 0);
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  g_test_add_func ("/callbacks/give-up/retried-within-24-hours", test_retried_within_24_hours);
  g_test_add_func ("/callbacks/give-up/dropped-after-24-hours", test_dropped_after_24_hours);
  return g_test_run ();
}
