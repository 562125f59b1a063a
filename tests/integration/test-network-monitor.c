/* qmgrd integration tests — the network monitor alone (src/daemon/netmon), in
 * this process: the mapping of NetworkManager's values through the dummy, and
 * the NetworkManager monitor against python-dbusmock's template on a private
 * system bus: its first answer, changes, NetworkManager restarting and leaving,
 * signals from others, no bus at all, and the bus going away. */
#include <glib/gstdio.h>

#include "netmon-dummy.h"
#include "netmon-nm.h"
#include "qmgr-constants.h"
#include "qmgr-test-harness.h"
#include "qmgr-test-system-bus.h"

#define DEADLINE_MS 20000
#define UNRESTRICTED QMGR_COST_STATE_UNRESTRICTED
#define CAPPED QMGR_COST_STATE_CAPPED_USAGE_UNKNOWN

typedef struct {
  QmgrNetMonitor *monitor;
  guint changes;             /* calls of the changed func */
} Watch;

static void
on_changed (QmgrNetMonitor *monitor, gpointer user_data)
{
  Watch *w = user_data;

  g_assert_true (monitor == w->monitor);
  g_assert_true (qmgr_net_monitor_is_ready (monitor));
  w->changes++;
}

static void
watch_init (Watch *w, QmgrNetMonitor *monitor)
{
  w->monitor = monitor;
  w->changes = 0;
  qmgr_net_monitor_set_changed_func (monitor, on_changed, w);
}

static void
assert_status (QmgrNetMonitor *monitor, guint32 cost, gboolean online,
               QmgrNetConnectivity connectivity)
{
  const QmgrNetStatus *s = qmgr_net_monitor_get_status (monitor);

  g_assert_cmphex (s->cost_state, ==, cost);
  g_assert_cmpint (s->online, ==, online);
  g_assert_cmpint (s->connectivity, ==, connectivity);
}

/* ---- the mapping, through the dummy ---- */

typedef struct {
  QmgrNmValues nm;
  guint32 cost;
  gboolean online;
  QmgrNetConnectivity connectivity;
} MappingCase;

static const MappingCase mapping_cases[] = {
  /* No NetworkManager: whatever it last said no longer counts. */
  { { FALSE, 1, 20, 2 }, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL },
  /* Metered: only YES and GUESS_YES cost; values NetworkManager may add are free. */
  { { TRUE, 0, 70, 4 }, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL },
  { { TRUE, 1, 70, 4 }, CAPPED, TRUE, QMGR_NET_CONNECTIVITY_FULL },
  { { TRUE, 2, 70, 4 }, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL },
  { { TRUE, 3, 70, 4 }, CAPPED, TRUE, QMGR_NET_CONNECTIVITY_FULL },
  { { TRUE, 4, 70, 4 }, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL },
  { { TRUE, 5, 70, 4 }, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL },
  /* State: CONNECTED_LOCAL (50) and up is online; unknown (0) is not held against it. */
  { { TRUE, 2, 0, 4 }, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL },
  { { TRUE, 2, 10, 4 }, UNRESTRICTED, FALSE, QMGR_NET_CONNECTIVITY_FULL },
  { { TRUE, 2, 20, 1 }, UNRESTRICTED, FALSE, QMGR_NET_CONNECTIVITY_NONE },
  { { TRUE, 2, 30, 4 }, UNRESTRICTED, FALSE, QMGR_NET_CONNECTIVITY_FULL },
  { { TRUE, 2, 40, 4 }, UNRESTRICTED, FALSE, QMGR_NET_CONNECTIVITY_FULL },
  { { TRUE, 2, 50, 4 }, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL },
  { { TRUE, 2, 60, 4 }, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL },
  { { TRUE, 3, 70, 4 }, CAPPED, TRUE, QMGR_NET_CONNECTIVITY_FULL },
  /* Connectivity as NetworkManager says; a value it may add later is unknown. */
  { { TRUE, 2, 70, 0 }, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_UNKNOWN },
  { { TRUE, 2, 70, 2 }, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_PORTAL },
  { { TRUE, 2, 70, 3 }, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_LIMITED },
  { { TRUE, 2, 70, 9 }, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_UNKNOWN },
  /* An offline metered network: both are reported. */
  { { TRUE, 1, 20, 1 }, CAPPED, FALSE, QMGR_NET_CONNECTIVITY_NONE },
};

static void
test_mapping (void)
{
  g_autoptr(QmgrNetMonitor) monitor = qmgr_net_monitor_dummy_new ();

  g_assert_false (qmgr_net_monitor_is_ready (monitor));
  for (guint i = 0; i < G_N_ELEMENTS (mapping_cases); i++)
    {
      const MappingCase *c = &mapping_cases[i];

      g_test_message ("case %u: present %d, Metered %u, State %u, Connectivity %u", i,
                      c->nm.present, c->nm.metered, c->nm.state, c->nm.connectivity);
      qmgr_net_monitor_dummy_set_nm (monitor, &c->nm);
      assert_status (monitor, c->cost, c->online, c->connectivity);
    }
}

/* The changed func runs on readiness and on changes, never for a repeat. */
static void
test_dummy_notifies (void)
{
  g_autoptr(QmgrNetMonitor) monitor = qmgr_net_monitor_dummy_new ();
  QmgrNmValues absent = { FALSE, 0, 0, 0 };
  QmgrNmValues free_net = { TRUE, 2, 70, 4 };
  QmgrNmValues metered = { TRUE, 1, 70, 4 };
  Watch w;

  watch_init (&w, monitor);
  assert_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL);
  /* The same status as the default, but the first answer: it is news. */
  qmgr_net_monitor_dummy_set_nm (monitor, &absent);
  g_assert_cmpuint (w.changes, ==, 1);
  qmgr_net_monitor_dummy_set_nm (monitor, &free_net);
  g_assert_cmpuint (w.changes, ==, 1);
  qmgr_net_monitor_dummy_set_nm (monitor, &metered);
  g_assert_cmpuint (w.changes, ==, 2);
  qmgr_net_monitor_dummy_set_nm (monitor, &metered);
  g_assert_cmpuint (w.changes, ==, 2);
  qmgr_net_monitor_dummy_set_nm (monitor, &absent);
  g_assert_cmpuint (w.changes, ==, 3);
  assert_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL);
}

/* ---- the NetworkManager monitor ---- */

typedef struct {
  QmgrNetMonitor *monitor;
  guint32 cost;
  gboolean online;
  QmgrNetConnectivity connectivity;
} StatusWait;

static gboolean
status_is (gpointer user_data)
{
  StatusWait *s = user_data;
  const QmgrNetStatus *st = qmgr_net_monitor_get_status (s->monitor);

  return qmgr_net_monitor_is_ready (s->monitor) && st->cost_state == s->cost &&
         !st->online == !s->online && st->connectivity == s->connectivity;
}

static void
wait_status (QmgrNetMonitor *monitor, guint32 cost, gboolean online,
             QmgrNetConnectivity connectivity)
{
  StatusWait s = { monitor, cost, online, connectivity };

  if (!qmgr_test_wait_until (status_is, &s, DEADLINE_MS))
    {
      g_autofree char *text = qmgr_net_status_describe (qmgr_net_monitor_get_status (monitor));
      g_error ("the monitor says %s (ready: %d), not cost 0x%x, online %d, connectivity %d",
               text, qmgr_net_monitor_is_ready (monitor), cost, online, connectivity);
    }
}

static gboolean
is_ready (gpointer user_data)
{
  return qmgr_net_monitor_is_ready (user_data);
}

/* Nothing at the address: ready at once, the plain server's defaults. */
static void
test_nm_no_bus (void)
{
  g_autofree char *dir = g_dir_make_tmp ("qmgrd-test-XXXXXX", NULL);
  g_autofree char *address = g_strdup_printf ("unix:path=%s/nothing-here", dir);
  g_autoptr(QmgrNetMonitor) monitor = qmgr_net_monitor_nm_new (address);

  g_assert_true (qmgr_net_monitor_is_ready (monitor));
  assert_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL);
  g_rmdir (dir);
}

/* A system bus without NetworkManager: ready (asynchronously), defaults. The
 * template is not auto-started either: the bus has no service directory. */
static void
test_nm_absent (void)
{
  g_autoptr(QmgrTestSystemBus) bus = qmgr_test_system_bus_new ();
  g_autoptr(QmgrNetMonitor) monitor =
      qmgr_net_monitor_nm_new (qmgr_test_system_bus_get_address (bus));
  Watch w;

  watch_init (&w, monitor);
  g_assert_true (qmgr_test_wait_until (is_ready, monitor, DEADLINE_MS));
  g_assert_cmpuint (w.changes, ==, 1);
  assert_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL);
}

/* What NetworkManager says before the monitor starts comes with its first answer;
 * it is not ready before that. */
static void
test_nm_initial (void)
{
  g_autoptr(QmgrTestSystemBus) bus = qmgr_test_system_bus_new ();
  g_autoptr(QmgrTestNm) nm = qmgr_test_nm_start (bus, NULL, QMGR_NM_METERED_YES);
  g_autoptr(QmgrNetMonitor) monitor = NULL;
  Watch w;

  qmgr_test_nm_set_u (nm, "Connectivity", QMGR_NET_CONNECTIVITY_LIMITED);
  monitor = qmgr_net_monitor_nm_new (qmgr_test_system_bus_get_address (bus));
  g_assert_false (qmgr_net_monitor_is_ready (monitor));
  watch_init (&w, monitor);
  g_assert_true (qmgr_test_wait_until (is_ready, monitor, DEADLINE_MS));
  g_assert_cmpuint (w.changes, ==, 1);
  assert_status (monitor, CAPPED, TRUE, QMGR_NET_CONNECTIVITY_LIMITED);
}

/* Every Metered value, then State and Connectivity, as PropertiesChanged. */
static void
test_nm_changes (void)
{
  g_autoptr(QmgrTestSystemBus) bus = qmgr_test_system_bus_new ();
  g_autoptr(QmgrTestNm) nm = qmgr_test_nm_start (bus, NULL, QMGR_NM_METERED_NO);
  g_autoptr(QmgrNetMonitor) monitor =
      qmgr_net_monitor_nm_new (qmgr_test_system_bus_get_address (bus));
  static const struct { guint32 metered; guint32 cost; } metered[] = {
    { QMGR_NM_METERED_YES, CAPPED },
    { QMGR_NM_METERED_UNKNOWN, UNRESTRICTED },
    { QMGR_NM_METERED_GUESS_YES, CAPPED },
    { QMGR_NM_METERED_NO, UNRESTRICTED },
    { QMGR_NM_METERED_YES, CAPPED },
    { QMGR_NM_METERED_GUESS_NO, UNRESTRICTED },
  };

  wait_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL);
  for (guint i = 0; i < G_N_ELEMENTS (metered); i++)
    {
      qmgr_test_nm_set_u (nm, "Metered", metered[i].metered);
      wait_status (monitor, metered[i].cost, TRUE, QMGR_NET_CONNECTIVITY_FULL);
    }
  qmgr_test_nm_set_u (nm, "State", 20);   /* DISCONNECTED */
  wait_status (monitor, UNRESTRICTED, FALSE, QMGR_NET_CONNECTIVITY_FULL);
  qmgr_test_nm_set_u (nm, "Connectivity", QMGR_NET_CONNECTIVITY_NONE);
  wait_status (monitor, UNRESTRICTED, FALSE, QMGR_NET_CONNECTIVITY_NONE);
  qmgr_test_nm_set_u (nm, "State", 50);   /* CONNECTED_LOCAL */
  wait_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_NONE);
  qmgr_test_nm_set_u (nm, "Connectivity", QMGR_NET_CONNECTIVITY_PORTAL);
  wait_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_PORTAL);
  qmgr_test_nm_set_u (nm, "Connectivity", QMGR_NET_CONNECTIVITY_FULL);
  wait_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL);
}

/* NetworkManager leaving counts as none; a new instance is asked again, whether it
 * comes after a gap or takes the name over at once. */
static void
test_nm_restart (void)
{
  g_autoptr(QmgrTestSystemBus) bus = qmgr_test_system_bus_new ();
  g_autoptr(QmgrTestNm) first = qmgr_test_nm_start (bus, NULL, QMGR_NM_METERED_NO);
  g_autoptr(QmgrTestNm) second = NULL;
  g_autoptr(QmgrTestNm) third = NULL;
  g_autoptr(QmgrNetMonitor) monitor =
      qmgr_net_monitor_nm_new (qmgr_test_system_bus_get_address (bus));

  qmgr_test_nm_set_u (first, "Metered", QMGR_NM_METERED_YES);
  qmgr_test_nm_set_u (first, "State", 40);
  wait_status (monitor, CAPPED, FALSE, QMGR_NET_CONNECTIVITY_FULL);

  qmgr_test_nm_stop (first);
  wait_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL);

  /* Only what the new instance says, read when it appears, makes the monitor
   * offline (the template's parameters, sent as int32). */
  second = qmgr_test_nm_start (bus, "{\"State\": 20, \"Connectivity\": 1}", 0);
  wait_status (monitor, UNRESTRICTED, FALSE, QMGR_NET_CONNECTIVITY_NONE);

  /* A third takes the name over from the second (NameOwnerChanged old → new). */
  third = qmgr_test_nm_start (bus, NULL, 0);
  wait_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL);
  qmgr_test_nm_stop (second);
  qmgr_test_nm_set_u (third, "Metered", QMGR_NM_METERED_GUESS_YES);
  wait_status (monitor, CAPPED, TRUE, QMGR_NET_CONNECTIVITY_FULL);
  qmgr_test_nm_stop (third);
  wait_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL);
}

/* A PropertiesChanged from anyone but NetworkManager's owner is not heard. */
static void
test_nm_foreign_signal (void)
{
  g_autoptr(QmgrTestSystemBus) bus = qmgr_test_system_bus_new ();
  g_autoptr(QmgrTestNm) nm = qmgr_test_nm_start (bus, NULL, QMGR_NM_METERED_NO);
  g_autoptr(QmgrNetMonitor) monitor =
      qmgr_net_monitor_nm_new (qmgr_test_system_bus_get_address (bus));
  g_autoptr(GError) error = NULL;
  GVariantBuilder props;

  wait_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL);
  g_variant_builder_init (&props, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&props, "{sv}", "Metered", g_variant_new_uint32 (QMGR_NM_METERED_YES));
  g_dbus_connection_emit_signal (qmgr_test_system_bus_get_connection (bus), NULL,
                                 QMGR_TEST_NM_PATH, "org.freedesktop.DBus.Properties",
                                 "PropertiesChanged",
                                 g_variant_new ("(sa{sv}as)", QMGR_TEST_NM_IFACE, &props, NULL),
                                 &error);
  g_assert_no_error (error);
  /* Sent after the forged signal, so heard after it would have been. */
  qmgr_test_nm_set_u (nm, "State", 20);
  wait_status (monitor, UNRESTRICTED, FALSE, QMGR_NET_CONNECTIVITY_FULL);
}

/* The system bus going away counts as having none. */
static void
test_nm_bus_lost (void)
{
  g_autoptr(QmgrTestSystemBus) bus = qmgr_test_system_bus_new ();
  g_autoptr(QmgrTestNm) nm = qmgr_test_nm_start (bus, NULL, QMGR_NM_METERED_NO);
  g_autoptr(QmgrNetMonitor) monitor =
      qmgr_net_monitor_nm_new (qmgr_test_system_bus_get_address (bus));

  qmgr_test_nm_set_u (nm, "Metered", QMGR_NM_METERED_YES);
  qmgr_test_nm_set_u (nm, "Connectivity", QMGR_NET_CONNECTIVITY_PORTAL);
  wait_status (monitor, CAPPED, TRUE, QMGR_NET_CONNECTIVITY_PORTAL);
  qmgr_test_system_bus_stop (bus);
  wait_status (monitor, UNRESTRICTED, TRUE, QMGR_NET_CONNECTIVITY_FULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/netmon/mapping", test_mapping);
  g_test_add_func ("/netmon/dummy/notifies", test_dummy_notifies);
  g_test_add_func ("/netmon/nm/no-bus", test_nm_no_bus);
  g_test_add_func ("/netmon/nm/absent", test_nm_absent);
  g_test_add_func ("/netmon/nm/initial", test_nm_initial);
  g_test_add_func ("/netmon/nm/changes", test_nm_changes);
  g_test_add_func ("/netmon/nm/restart", test_nm_restart);
  g_test_add_func ("/netmon/nm/foreign-signal", test_nm_foreign_signal);
  g_test_add_func ("/netmon/nm/bus-lost", test_nm_bus_lost);
  return g_test_run ();
}
