/* Unit tests of the scheduler and the network: waits for it (offline,
 * captive portal, metered) and pacing (budgets from the limits), against a
 * dummy backend and clock. */
#include <glib.h>

#include "scheduler-fixture.h"

#define MB  1000000u
#define CHUNK 16384u          /* one write of the engine */
#define TICK (2 * 1000)       /* µs between writes when pumping: 8 MB/s a link */

typedef SchedFixture Fixture;

static void
assert_waiting (Fixture *f, QmgrGroup *g, const char *reason)
{
  g_assert_cmpstr (sched_wait_reason (g), ==, reason);
  g_assert_cmpint (g->state, ==, QMGR_GROUP_STATE_QUEUED);
  g_assert_cmpuint (sched_item_of (f, g, 0), ==, 0);
  g_assert_cmpuint (g->job->num_retries, ==, 0);
  g_assert_cmpint (g->job->error, ==, QMGR_TRANSFER_ERROR_NONE);
}

/* Takes the network away as @online/@connectivity say, checks that @reason
 * holds every group back for an hour, and gives the network back. */
static void
check_network_wait (Fixture *f, gboolean online, QmgrConnectivity connectivity,
                    const char *reason)
{
  QmgrGroup *a = sched_running_group (f, 2), *b = sched_running_group (f, 1), *c;
  guint stops;

  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 3);
  sched_set_network (f, online, connectivity, QMGR_COST_STATE_UNRESTRICTED);
  sched_run (f);
  stops = dummy_backend_count_ops (f->backend, DUMMY_OP_STOP);
  g_assert_cmpuint (stops, ==, 3);
  for (guint i = 0; i < dummy_backend_n_ops (f->backend); i++)
    if (dummy_backend_op (f->backend, i)->type == DUMMY_OP_STOP)
      g_assert_false (dummy_backend_op (f->backend, i)->discard);
  c = sched_running_group (f, 1);
  dummy_clock_advance (f->clock, 3600 * SEC);
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 0);
  g_assert_cmpuint (sched_n_starts (f, c), ==, 0);
  assert_waiting (f, a, reason);
  assert_waiting (f, b, reason);
  assert_waiting (f, c, reason);

  sched_set_network (f, TRUE, QMGR_CONNECTIVITY_FULL, QMGR_COST_STATE_UNRESTRICTED);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, a), ==, 4);
  g_assert_cmpuint (sched_n_starts (f, b), ==, 2);
  g_assert_cmpuint (sched_n_starts (f, c), ==, 1);
  for (guint i = 0; i < 3; i++)
    {
      QmgrGroup *g = (QmgrGroup *[]) { a, b, c }[i];
      g_assert_cmpstr (sched_wait_reason (g), ==, "transferring");
      g_assert_cmpuint (g->job->num_retries, ==, 0);
    }
}

static void
test_network_offline (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  check_network_wait (f, FALSE, QMGR_CONNECTIVITY_NONE, "offline");
}

static void
test_network_portal (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  check_network_wait (f, TRUE, QMGR_CONNECTIVITY_PORTAL, "captive-portal");
}

/* Back online before the retry is due: the group still waits for it, and
 * says so. Back after it was due: the retry goes at once. */
static void
test_network_offline_while_retrying (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = sched_new_group (f, 1);
  gint64 took;

  sched_set_retry (g, 100, G_MAXUINT32);
  sched_resume (g);
  sched_run (f);
  sched_fail_transient (f, sched_item_of (f, g, 0), 0);
  g_assert_cmpstr (sched_wait_reason (g), ==, "retrying");
  sched_set_network (f, FALSE, QMGR_CONNECTIVITY_NONE, QMGR_COST_STATE_UNRESTRICTED);
  sched_run (f);
  g_assert_cmpstr (sched_wait_reason (g), ==, "offline");
  dummy_clock_advance (f->clock, 30 * SEC);
  sched_set_network (f, TRUE, QMGR_CONNECTIVITY_FULL, QMGR_COST_STATE_UNRESTRICTED);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, g), ==, 1);
  g_assert_cmpstr (sched_wait_reason (g), ==, "retrying");
  took = sched_time_to_start (f, g, 800 * SEC);
  g_assert_cmpint (took, >=, 70 * SEC);
  g_assert_cmpint (took, <=, 95 * SEC);
  g_assert_cmpuint (g->job->num_retries, ==, 1);

  sched_fail_transient (f, sched_item_of (f, g, 0), 0);
  sched_set_network (f, FALSE, QMGR_CONNECTIVITY_NONE, QMGR_COST_STATE_UNRESTRICTED);
  dummy_clock_advance (f->clock, 600 * SEC);
  g_assert_cmpuint (sched_n_starts (f, g), ==, 2);
  g_assert_cmpstr (sched_wait_reason (g), ==, "offline");
  sched_set_network (f, TRUE, QMGR_CONNECTIVITY_FULL, QMGR_COST_STATE_UNRESTRICTED);
  g_assert_cmpint (sched_time_to_start (f, g, 800 * SEC), ==, 0);
  g_assert_cmpuint (g->job->num_retries, ==, 2);
}

static void
test_network_metered (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *cheap = sched_running_group (f, 1), *any = sched_new_group (f, 1);
  QmgrGroup *fg = sched_foreground_group (f, 1), *later = sched_new_group (f, 1);

  sched_set_policy (any, QMGR_TRANSFER_POLICY_ALWAYS);
  sched_resume (any);
  sched_resume (fg);
  sched_run (f);
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 3);

  sched_set_network (f, TRUE, QMGR_CONNECTIVITY_FULL, QMGR_COST_STATE_CAPPED_USAGE_UNKNOWN);
  sched_run (f);
  /* Only the group whose policy excludes the cost waits. */
  assert_waiting (f, cheap, "metered");
  g_assert_cmpuint (dummy_backend_count_ops (f->backend, DUMMY_OP_STOP), ==, 1);
  g_assert_false (dummy_backend_last_op (f->backend, DUMMY_OP_STOP)->discard);
  g_assert_cmpuint (sched_item_of (f, any, 0), !=, 0);
  g_assert_cmpuint (sched_item_of (f, fg, 0), !=, 0);
  g_assert_cmpstr (sched_wait_reason (any), ==, "transferring");
  g_assert_cmpstr (sched_wait_reason (fg), ==, "transferring");
  sched_resume (later);
  dummy_clock_advance (f->clock, 3600 * SEC);
  assert_waiting (f, later, "metered");
  g_assert_cmpuint (sched_n_starts (f, cheap), ==, 1);

  /* A policy that allows the cost lets it go at once. */
  sched_set_policy (later, QMGR_TRANSFER_POLICY_NOT_ROAMING);
  sched_run (f);
  g_assert_cmpstr (sched_wait_reason (later), ==, "transferring");

  sched_set_network (f, TRUE, QMGR_CONNECTIVITY_FULL, QMGR_COST_STATE_UNRESTRICTED);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, cheap), ==, 2);
  g_assert_cmpstr (sched_wait_reason (cheap), ==, "transferring");
  g_assert_cmpuint (cheap->job->num_retries, ==, 0);
}

/* Every @TICK each item writes a chunk if its budget lets it, for
 * @duration_us; adds to @written what each wrote. The engine writes whole
 * chunks, overshooting a budget; an @exact writer stops at its budget. */
static void
pump (Fixture *f, const QmgrItemId *ids, guint n, gboolean exact, gint64 duration_us,
      guint64 *written)
{
  gint64 end = sched_mono (f) + duration_us;

  while (sched_mono (f) < end)
    {
      for (guint i = 0; i < n; i++)
        {
          DummyItem *item = dummy_backend_item (f->backend, ids[i]);
          gsize len = CHUNK;

          if (exact && item->budget > 0)
            len = MIN (len, (gsize) item->budget);
          written[i] += dummy_backend_write (f->backend, ids[i], len);
        }
      dummy_clock_advance (f->clock, MIN (TICK, end - sched_mono (f)));
    }
}

static guint64
granted (Fixture *f, QmgrItemId id)
{
  return dummy_backend_item (f->backend, id)->granted;
}

static void
assert_near (double value, double expected, double tolerance)
{
  g_test_message ("%.0f, expected %.0f", value, expected);
  g_assert_cmpfloat (value, >=, expected * (1 - tolerance));
  g_assert_cmpfloat (value, <=, expected * (1 + tolerance));
}

static void
set_group_limit (QmgrGroup *g, guint64 limit)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (qmgr_group_set_bandwidth_limit (g, limit, &error));
  g_assert_no_error (error);
}

static void
test_pacing_group_limit (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *bg = sched_new_group (f, 1), *fg = sched_foreground_group (f, 1);
  QmgrItemId ids[2];
  guint64 written[2] = { 0, 0 };

  /* A group's own limit holds foreground groups too. */
  set_group_limit (bg, 1 * MB);
  set_group_limit (fg, MB / 2);
  sched_resume (bg);
  sched_resume (fg);
  sched_run (f);
  ids[0] = sched_item_of (f, bg, 0);
  ids[1] = sched_item_of (f, fg, 0);
  g_assert_cmpint (dummy_backend_item (f->backend, ids[0])->budget, ==, 0);
  g_assert_cmpint (dummy_backend_item (f->backend, ids[1])->budget, ==, 0);
  /* Budgets, written to the byte, carry the rate. */
  pump (f, ids, 2, TRUE, 10 * SEC, written);
  assert_near (granted (f, ids[0]), 10.0 * MB, 0.03);
  assert_near (written[0], 10.0 * MB, 0.03);
  assert_near (granted (f, ids[1]), 5.0 * MB, 0.03);
  assert_near (written[1], 5.0 * MB, 0.03);

  /* Lifted: unlimited at once. */
  set_group_limit (bg, 0);
  g_assert_cmpint (dummy_backend_last_op (f->backend, DUMMY_OP_SET_BUDGET)->budget, ==,
                   QMGR_BUDGET_UNLIMITED);
  g_assert_cmpuint (dummy_backend_last_op (f->backend, DUMMY_OP_SET_BUDGET)->id, ==, ids[0]);
}

static void
set_manager_limits (Fixture *f, guint64 limit, guint64 metered)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (qmgr_manager_set_bandwidth_limit (f->manager, limit, &error));
  g_assert_true (qmgr_manager_set_metered_bandwidth_limit (f->manager, metered, &error));
  g_assert_no_error (error);
}

/* The manager's BandwidthLimit is shared by the background groups; the
 * foreground ones ignore it. */
static void
test_pacing_manager_limit (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *a, *b, *fg = sched_foreground_group (f, 1);
  QmgrItemId ids[3];
  guint64 written[3] = { 0, 0, 0 };

  set_manager_limits (f, 1 * MB, 0);
  a = sched_running_group (f, 1);
  b = sched_running_group (f, 1);
  sched_resume (fg);
  sched_run (f);
  ids[0] = sched_item_of (f, a, 0);
  ids[1] = sched_item_of (f, b, 0);
  ids[2] = sched_item_of (f, fg, 0);
  g_assert_cmpint (dummy_backend_item (f->backend, ids[0])->budget, ==, 0);
  g_assert_cmpint (dummy_backend_item (f->backend, ids[1])->budget, ==, 0);
  g_assert_cmpint (dummy_backend_item (f->backend, ids[2])->budget, ==, QMGR_BUDGET_UNLIMITED);
  /* Whole writes overshoot their budgets: what they wrote beyond is owed. */
  pump (f, ids, 3, FALSE, 10 * SEC, written);
  assert_near (written[0] + written[1], 10.0 * MB, 0.03);
  /* Both get a share. */
  g_assert_cmpuint (written[0], >, 3 * MB);
  g_assert_cmpuint (written[1], >, 3 * MB);
  /* The foreground file wrote every tick. */
  g_assert_cmpuint (written[2], ==, (guint64) (10 * SEC / TICK) * CHUNK);
  g_assert_cmpuint (sched_n_ops (f, DUMMY_OP_SET_BUDGET, fg), ==, 0);

  /* A group switched to the foreground leaves the manager's limit at once. */
  g_assert_true (qmgr_group_switch_to_foreground (a, NULL));
  g_assert_cmpint (dummy_backend_item (f->backend, ids[0])->budget, ==, QMGR_BUDGET_UNLIMITED);
  set_manager_limits (f, 0, 0);
  g_assert_cmpint (dummy_backend_item (f->backend, ids[1])->budget, ==, QMGR_BUDGET_UNLIMITED);
}

static void
test_pacing_metered_limit (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *bg = sched_new_group (f, 1), *fg = sched_foreground_group (f, 1);
  QmgrItemId ids[2];
  guint64 written[2] = { 0, 0 };
  const DummyOp *op;

  set_manager_limits (f, 0, MB / 2);
  sched_set_policy (bg, QMGR_TRANSFER_POLICY_ALWAYS);
  sched_resume (bg);
  sched_resume (fg);
  sched_run (f);
  ids[0] = sched_item_of (f, bg, 0);
  ids[1] = sched_item_of (f, fg, 0);
  /* Not metered yet: no cap. */
  g_assert_cmpint (dummy_backend_item (f->backend, ids[0])->budget, ==, QMGR_BUDGET_UNLIMITED);
  pump (f, ids, 2, TRUE, SEC, written);
  g_assert_cmpuint (written[0], ==, written[1]);

  sched_set_network (f, TRUE, QMGR_CONNECTIVITY_FULL, QMGR_COST_STATE_CAPPED_USAGE_UNKNOWN);
  sched_run (f);
  op = dummy_backend_last_op (f->backend, DUMMY_OP_SET_BUDGET);
  g_assert_nonnull (op);
  g_assert_cmpuint (op->id, ==, ids[0]);
  g_assert_cmpint (op->budget, ==, 0);
  written[0] = written[1] = 0;
  pump (f, ids, 2, TRUE, 10 * SEC, written);
  assert_near (granted (f, ids[0]), 5.0 * MB, 0.03);
  assert_near (written[0], 5.0 * MB, 0.03);
  g_assert_cmpuint (written[1], ==, (guint64) (10 * SEC / TICK) * CHUNK);
  g_assert_cmpuint (sched_n_ops (f, DUMMY_OP_SET_BUDGET, fg), ==, 0);

  /* Unrestricted again: the cap is lifted at once. */
  sched_set_network (f, TRUE, QMGR_CONNECTIVITY_FULL, QMGR_COST_STATE_UNRESTRICTED);
  sched_run (f);
  op = dummy_backend_last_op (f->backend, DUMMY_OP_SET_BUDGET);
  g_assert_cmpuint (op->id, ==, ids[0]);
  g_assert_cmpint (op->budget, ==, QMGR_BUDGET_UNLIMITED);
  written[0] = written[1] = 0;
  pump (f, ids, 2, TRUE, SEC, written);
  g_assert_cmpuint (written[0], ==, written[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, sched_fixture_setup, func, sched_fixture_teardown)
  ADD ("/scheduler/network/offline", test_network_offline);
  ADD ("/scheduler/network/captive-portal", test_network_portal);
  ADD ("/scheduler/network/offline-while-retrying", test_network_offline_while_retrying);
  ADD ("/scheduler/network/metered", test_network_metered);
  ADD ("/scheduler/pacing/group-limit", test_pacing_group_limit);
  ADD ("/scheduler/pacing/manager-limit", test_pacing_manager_limit);
  ADD ("/scheduler/pacing/metered-limit", test_pacing_metered_limit);
#undef ADD
  return g_test_run ();
}
