/* qmgrd unit tests — the scheduler's fixture (see scheduler-fixture.h). */
#include "scheduler-fixture.h"

static void
on_status_event (QmgrGroup *group, guint32 file_index, QmgrStatusEvent event,
                 gpointer user_data)
{
  SchedFixture *f = user_data;
  SchedHeardEvent e = { group, file_index, event, f->store.syncs };

  g_array_append_val (f->heard, e);
}

static const QmgrManagerListener heard_listener = { .status_event = on_status_event };

void
sched_fixture_setup (SchedFixture *f, gconstpointer data G_GNUC_UNUSED)
{
  /* The scheduler's jitter, reproducible with --seed. */
  g_random_set_seed (g_test_rand_int ());
  f->clock = dummy_clock_new (G_GINT64_CONSTANT (1700000000000000));
  f->manager = unit_manager_new (0, 0);
  qmgr_manager_set_clock (f->manager, dummy_clock_get (f->clock));
  f->heard = g_array_new (FALSE, FALSE, sizeof (SchedHeardEvent));
  qmgr_manager_add_listener (f->manager, &heard_listener, f);
  f->backend = dummy_backend_new ();
  f->scheduler = qmgr_scheduler_new (f->manager, dummy_backend_get (f->backend),
                                     dummy_clock_get (f->clock));
}

void
sched_fixture_teardown (SchedFixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_clear_pointer (&f->scheduler, qmgr_scheduler_free);
  g_assert_cmpstr (dummy_backend_violations (f->backend), ==, "");
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 0);
  /* Every timer of the scheduler went with it. */
  g_assert_cmpuint (dummy_clock_pending (f->clock), ==, 0);
  qmgr_manager_remove_listener (f->manager, &heard_listener, f);
  qmgr_manager_free (f->manager);
  dummy_backend_free (f->backend);
  dummy_clock_free (f->clock);
  g_array_unref (f->heard);
}

gint64
sched_mono (SchedFixture *f)
{
  return qmgr_clock_monotonic (dummy_clock_get (f->clock));
}

void
sched_run (SchedFixture *f)
{
  dummy_clock_run_pending (f->clock);
}

QmgrGroup *
sched_new_group (SchedFixture *f, guint n_files)
{
  return unit_group_with_files (f->manager, "", UNIT_OWNER, n_files, FALSE);
}

QmgrGroup *
sched_foreground_group (SchedFixture *f, guint n_files)
{
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = sched_new_group (f, n_files);

  g_assert_true (qmgr_group_switch_to_foreground (g, &error));
  g_assert_no_error (error);
  return g;
}

void
sched_resume (QmgrGroup *g)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (qmgr_group_resume (g, &error));
  g_assert_no_error (error);
}

QmgrGroup *
sched_running_group (SchedFixture *f, guint n_files)
{
  QmgrGroup *g = sched_new_group (f, n_files);

  sched_resume (g);
  sched_run (f);
  return g;
}

void
sched_set_max (SchedFixture *f, guint32 value)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (qmgr_manager_set_max_concurrent_transfers (f->manager, value, &error));
  g_assert_no_error (error);
}

void
sched_set_network (SchedFixture *f, gboolean online, QmgrConnectivity connectivity, guint32 cost)
{
  QmgrNetworkState state = { .cost_state = cost, .online = online,
                             .connectivity = connectivity };

  qmgr_manager_set_network (f->manager, &state);
}

void
sched_set_policy (QmgrGroup *g, guint32 policy)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (qmgr_group_set_transfer_policy (g, policy, &error));
  g_assert_no_error (error);
}

void
sched_set_retry (QmgrGroup *g, guint32 minimum_retry_delay, guint32 no_progress_timeout)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (qmgr_group_set_minimum_retry_delay (g, minimum_retry_delay, &error));
  g_assert_true (qmgr_group_set_no_progress_timeout (g, no_progress_timeout, &error));
  g_assert_no_error (error);
}

QmgrItemId
sched_item_of (SchedFixture *f, QmgrGroup *g, guint32 index)
{
  return dummy_backend_find (f->backend, g->job->id, index);
}

guint
sched_n_ops (SchedFixture *f, DummyOpType type, QmgrGroup *g)
{
  guint n = 0;

  for (guint i = 0; i < dummy_backend_n_ops (f->backend); i++)
    {
      const DummyOp *op = dummy_backend_op (f->backend, i);
      DummyItem *item = dummy_backend_item (f->backend, op->id);
      QmgrGuid job = op->type == DUMMY_OP_START || item == NULL ? op->job_id : item->job_id;
      if (op->type == type && (g == NULL || qmgr_guid_equal (job, g->job->id)))
        n++;
    }
  return n;
}

guint
sched_n_starts (SchedFixture *f, QmgrGroup *g)
{
  return sched_n_ops (f, DUMMY_OP_START, g);
}

const char *
sched_wait_reason (QmgrGroup *g)
{
  return qmgr_group_get_wait_reason (g);
}

gint64
sched_time_to_start (SchedFixture *f, QmgrGroup *g, gint64 limit_us)
{
  gint64 t0 = sched_mono (f);
  guint before = sched_n_starts (f, g);

  sched_run (f);
  while (sched_n_starts (f, g) == before)
    {
      gint64 next = dummy_clock_next_due (f->clock);
      if (next < 0 || sched_mono (f) + next - t0 > limit_us)
        {
          dummy_clock_advance (f->clock, t0 + limit_us - sched_mono (f));
          return sched_n_starts (f, g) == before ? -1 : sched_mono (f) - t0;
        }
      dummy_clock_advance (f->clock, next);
    }
  return sched_mono (f) - t0;
}

void
sched_fail_transient (SchedFixture *f, QmgrItemId id, guint32 retry_after)
{
  g_assert_cmpuint (id, !=, 0);
  dummy_backend_fail (f->backend, id, QMGR_BACKEND_TRANSIENT,
                      QMGR_TRANSFER_ERROR_CONNECTION_FAILED, retry_after);
}
