/* Unit tests of the scheduler: slots, order, foreground work, retries,
 * NoProgressTimeout and completion, against a dummy backend and clock. */
#include <glib.h>
#include <string.h>

#include "scheduler-fixture.h"

typedef SchedFixture Fixture;

/* The job and file index of every start, in order, as "A0 A1 B0". */
static char *
start_order (Fixture *f, QmgrGroup **groups, const char *names, guint n_groups)
{
  GString *s = g_string_new ("");

  for (guint i = 0; i < dummy_backend_n_ops (f->backend); i++)
    {
      const DummyOp *op = dummy_backend_op (f->backend, i);
      if (op->type != DUMMY_OP_START)
        continue;
      for (guint k = 0; k < n_groups; k++)
        if (qmgr_guid_equal (op->job_id, groups[k]->job->id))
          g_string_append_printf (s, "%s%c%u", s->len > 0 ? " " : "", names[k], op->index);
    }
  return g_string_free (s, FALSE);
}

/* The last stop op of item @id, or NULL. */
static const DummyOp *
stop_op_of (Fixture *f, QmgrItemId id)
{
  for (guint i = dummy_backend_n_ops (f->backend); i-- > 0;)
    {
      const DummyOp *op = dummy_backend_op (f->backend, i);
      if (op->type == DUMMY_OP_STOP && op->id == id)
        return op;
    }
  return NULL;
}

static gboolean
counting_sync (gpointer store, GError **error G_GNUC_UNUSED)
{
  ((SchedCountingStore *) store)->syncs++;
  return TRUE;
}

static guint
n_heard (Fixture *f, QmgrStatusEvent event)
{
  guint n = 0;

  for (guint i = 0; i < f->heard->len; i++)
    if (g_array_index (f->heard, SchedHeardEvent, i).event == event)
      n++;
  return n;
}

static void
test_slots_default (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *a = sched_new_group (f, 6), *b = sched_new_group (f, 2);
  QmgrGroup *groups[] = { a, b };
  g_autofree char *order = NULL;
  const DummyOp *op;

  sched_resume (a);
  sched_resume (b);
  /* Deferred: nothing starts from inside the core's call. */
  g_assert_cmpuint (dummy_backend_n_ops (f->backend), ==, 0);
  sched_run (f);
  g_assert_cmpuint (f->manager->settings.max_concurrent_transfers, ==, 4);
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 4);
  order = start_order (f, groups, "AB", 2);
  g_assert_cmpstr (order, ==, "A0 A1 A2 A3");
  g_assert_cmpstr (sched_wait_reason (a), ==, "transferring");
  g_assert_cmpstr (sched_wait_reason (b), ==, "queued");

  /* The request names the file, its owner and the group's settings. */
  op = dummy_backend_op (f->backend, 0);
  g_assert_cmpuint (op->owner, ==, UNIT_OWNER);
  g_assert_cmpstr (op->url, ==, ((QmgrFile *) a->job->files->pdata[0])->remote_url);
  g_assert_cmpstr (op->dest_path, ==, ((QmgrFile *) a->job->files->pdata[0])->local_path);
  g_assert_null (op->validator);
  g_assert_true (op->background);
  g_assert_cmpint (op->budget, ==, QMGR_BUDGET_UNLIMITED);
  g_assert_cmpuint (op->stall_timeout, ==, 60);

  /* A file done frees its slot before it is committed. */
  dummy_backend_done_ok (f->backend, sched_item_of (f, a, 0), 1000);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, a), ==, 5);
  g_assert_cmpuint (dummy_backend_last_op (f->backend, DUMMY_OP_START)->index, ==, 4);
  dummy_backend_committed_ok (f->backend, dummy_backend_op (f->backend, 0)->id);
  dummy_backend_commits_settled (f->backend);
  sched_run (f);
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 4);

  dummy_backend_finish (f->backend, sched_item_of (f, a, 1), 1000);
  sched_run (f);
  dummy_backend_finish (f->backend, sched_item_of (f, a, 2), 1000);
  sched_run (f);
  g_clear_pointer (&order, g_free);
  order = start_order (f, groups, "AB", 2);
  g_assert_cmpstr (order, ==, "A0 A1 A2 A3 A4 A5 B0");
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 4);
  g_assert_cmpuint (dummy_backend_count_ops (f->backend, DUMMY_OP_STOP), ==, 0);
}

static void
test_slots_max_concurrent (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *a;

  sched_set_max (f, 2);
  a = sched_running_group (f, 8);
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 2);

  sched_set_max (f, 3);
  sched_run (f);
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 3);
  g_assert_cmpuint (dummy_backend_last_op (f->backend, DUMMY_OP_START)->index, ==, 2);

  /* Lowered: running files finish, and no other starts until one fewer
   * than the cap runs. */
  sched_set_max (f, 1);
  sched_run (f);
  g_assert_cmpuint (dummy_backend_count_ops (f->backend, DUMMY_OP_STOP), ==, 0);
  dummy_backend_finish (f->backend, sched_item_of (f, a, 0), 10);
  sched_run (f);
  dummy_backend_finish (f->backend, sched_item_of (f, a, 1), 10);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, a), ==, 3);
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 1);
  dummy_backend_finish (f->backend, sched_item_of (f, a, 2), 10);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, a), ==, 4);
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 1);
  g_assert_cmpuint (dummy_backend_last_op (f->backend, DUMMY_OP_START)->index, ==, 3);
}

static void
test_order_resumed (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *a = sched_new_group (f, 2), *b = sched_new_group (f, 2), *c = sched_new_group (f, 1);
  QmgrGroup *groups[] = { a, b, c };
  g_autofree char *order = NULL;
  g_autoptr(GError) error = NULL;

  sched_set_max (f, 1);
  /* Created A, B, C; resumed C, A, B. */
  sched_resume (c);
  sched_resume (a);
  sched_resume (b);
  sched_run (f);
  dummy_backend_finish (f->backend, sched_item_of (f, c, 0), 1);
  sched_run (f);
  dummy_backend_finish (f->backend, sched_item_of (f, a, 0), 1);
  sched_run (f);
  /* Suspended and resumed: to the back of the queue. */
  g_assert_true (qmgr_group_suspend (a, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (dummy_backend_last_op (f->backend, DUMMY_OP_STOP)->discard, ==, FALSE);
  sched_resume (a);
  sched_run (f);
  dummy_backend_finish (f->backend, sched_item_of (f, b, 0), 1);
  sched_run (f);
  dummy_backend_finish (f->backend, sched_item_of (f, b, 1), 1);
  sched_run (f);
  order = start_order (f, groups, "ABC", 3);
  g_assert_cmpstr (order, ==, "C0 A0 A1 B0 B1 A1");
}

static void
test_foreground_preempts (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *b1 = sched_running_group (f, 1), *b2 = sched_running_group (f, 1);
  QmgrGroup *b3 = sched_running_group (f, 2), *fg = sched_foreground_group (f, 2);
  const DummyOp *stop, *start;
  DummyItem *preempted[2];

  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 4);
  sched_resume (fg);
  sched_run (f);
  /* Both files of the foreground group start at once, each in the place of
   * a background file, which is paused (its temp file kept). */
  g_assert_cmpuint (sched_n_starts (f, fg), ==, 2);
  g_assert_cmpuint (dummy_backend_count_ops (f->backend, DUMMY_OP_STOP), ==, 2);
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 4);
  start = dummy_backend_last_op (f->backend, DUMMY_OP_START);
  g_assert_false (start->background);
  g_assert_cmpint (start->budget, ==, QMGR_BUDGET_UNLIMITED);
  g_assert_cmpstr (sched_wait_reason (fg), ==, "transferring");
  for (guint i = 0, n = 0; i < dummy_backend_n_ops (f->backend); i++)
    {
      stop = dummy_backend_op (f->backend, i);
      if (stop->type != DUMMY_OP_STOP)
        continue;
      g_assert_false (stop->discard);
      preempted[n] = dummy_backend_item (f->backend, stop->id);
      g_assert_true (preempted[n++]->background);
    }
  /* The groups resumed last yield first: the earlier ones keep their turn. */
  g_assert_cmpuint (sched_item_of (f, b1, 0), !=, 0);
  g_assert_cmpuint (sched_item_of (f, b2, 0), !=, 0);
  g_assert_true (qmgr_guid_equal (preempted[0]->job_id, b3->job->id));
  g_assert_true (qmgr_guid_equal (preempted[1]->job_id, b3->job->id));
  g_assert_cmpstr (sched_wait_reason (b3), ==, "queued");
  g_assert_cmpuint (b3->job->num_retries, ==, 0);

  /* The paused files resume when the foreground ones are done. */
  dummy_backend_finish (f->backend, sched_item_of (f, fg, 0), 5);
  sched_run (f);
  dummy_backend_finish (f->backend, sched_item_of (f, fg, 1), 5);
  sched_run (f);
  for (guint i = 0; i < 2; i++)
    g_assert_cmpuint (dummy_backend_find (f->backend, preempted[i]->job_id, preempted[i]->index),
                      !=, 0);
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 4);
  g_assert_cmpuint (dummy_backend_count_ops (f->backend, DUMMY_OP_STOP), ==, 2);
}

/* Foreground work pauses no foreground work: it waits for a slot. */
static void
test_foreground_waits_for_foreground (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *first = sched_foreground_group (f, 1), *second = sched_foreground_group (f, 1);

  sched_set_max (f, 1);
  sched_resume (first);
  sched_run (f);
  sched_resume (second);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, second), ==, 0);
  g_assert_cmpuint (dummy_backend_count_ops (f->backend, DUMMY_OP_STOP), ==, 0);
  g_assert_cmpstr (sched_wait_reason (second), ==, "queued");
  dummy_backend_finish (f->backend, sched_item_of (f, first, 0), 1);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, second), ==, 1);
}

/* Retry @n came @took µs after its failure: not before @minimum_s, and
 * with at most a quarter more (the jitter). */
static void
assert_retry_window (gint64 took, guint32 n, guint32 minimum_s)
{
  gint64 lo = minimum_s * SEC, hi = lo + lo / 4;

  g_test_message ("retry %u after %.1f s (window %.1f to %.1f s)", n, took / 1e6, lo / 1e6,
                  hi / 1e6);
  g_assert_cmpint (took, >=, lo);
  g_assert_cmpint (took, <=, hi);
}

static void
test_retry_backoff (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  /* MinimumRetryDelay doubling, capped at max(600 s, MinimumRetryDelay). */
  static const guint32 minima[] = { 10, 20, 40, 80, 160, 320, 600, 600, 600 };
  QmgrGroup *g = sched_new_group (f, 2);
  QmgrJob *job = g->job;

  sched_set_retry (g, 10, G_MAXUINT32);
  sched_resume (g);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, g), ==, 2);

  for (guint32 n = 1; n <= G_N_ELEMENTS (minima); n++)
    {
      QmgrItemId failing = sched_item_of (f, g, 0), other = sched_item_of (f, g, 1);
      const DummyOp *stop;
      gint64 took;

      sched_fail_transient (f, failing, 0);
      /* The whole group waits, its other file paused with its data kept. */
      stop = stop_op_of (f, other);
      g_assert_true (stop != NULL && !stop->discard);
      g_assert_cmpuint (sched_item_of (f, g, 1), ==, 0);
      g_assert_cmpstr (sched_wait_reason (g), ==, "retrying");
      g_assert_cmpint (g->state, ==, QMGR_GROUP_STATE_QUEUED);
      g_assert_cmpuint (job->num_retries, ==, n);
      g_assert_cmpint (job->error, ==, QMGR_TRANSFER_ERROR_CONNECTION_FAILED);
      g_assert_cmpuint (job->error_file_index, ==, 0);
      g_assert_nonnull (strstr (job->error_message, "simulated failure"));

      took = sched_time_to_start (f, g, 800 * SEC);
      assert_retry_window (took, n, minima[n - 1]);
      sched_run (f);
      g_assert_cmpuint (sched_item_of (f, g, 0), !=, 0);
      g_assert_cmpuint (sched_item_of (f, g, 1), !=, 0);
      g_assert_cmpstr (sched_wait_reason (g), ==, "transferring");
    }
}

static void
test_retry_after (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = sched_new_group (f, 1);
  gint64 took;

  sched_set_retry (g, 10, G_MAXUINT32);
  sched_resume (g);
  sched_run (f);
  /* A floor: 300 s rather than 10 to 12.5. */
  sched_fail_transient (f, sched_item_of (f, g, 0), 300);
  took = sched_time_to_start (f, g, 800 * SEC);
  g_assert_cmpint (took, >=, 300 * SEC);
  g_assert_cmpint (took, <=, 300 * SEC + SEC);
  /* Only a floor: the back-off's own 20 to 25 s win over 5. */
  sched_fail_transient (f, sched_item_of (f, g, 0), 5);
  took = sched_time_to_start (f, g, 800 * SEC);
  assert_retry_window (took, 2, 20);
}

static void
assert_fatal_no_progress (Fixture *f, QmgrGroup *g)
{
  SchedHeardEvent *last;

  g_assert_cmpint (g->state, ==, QMGR_GROUP_STATE_ERROR);
  g_assert_cmpstr (sched_wait_reason (g), ==, "error");
  g_assert_cmpuint (qmgr_group_get_status (g) & QMGR_STATUS_GROUP_ERROR, !=, 0);
  g_assert_cmpint (g->job->error, ==, QMGR_TRANSFER_ERROR_NO_PROGRESS);
  g_assert_cmpuint (f->heard->len, >, 0);
  last = &g_array_index (f->heard, SchedHeardEvent, f->heard->len - 1);
  g_assert_true (last->group == g);
  g_assert_cmpint (last->event, ==, QMGR_STATUS_EVENT_FATAL_ERROR);
  g_assert_cmpuint (sched_item_of (f, g, 0), ==, 0);
}

/* Fails the group's first file at once each time it starts, until the
 * failure is fatal; returns when (µs after @since) that was. */
static gint64
fail_until_fatal (Fixture *f, QmgrGroup *g, gint64 since, guint32 timeout_s)
{
  for (;;)
    {
      gint64 idle;

      g_assert_cmpuint (sched_item_of (f, g, 0), !=, 0);
      idle = sched_mono (f) - since;
      sched_fail_transient (f, sched_item_of (f, g, 0), 0);
      if (g->state != QMGR_GROUP_STATE_QUEUED)
        {
          /* Not before the timeout. */
          g_assert_cmpint (idle, >=, (gint64) timeout_s * SEC);
          return idle;
        }
      g_assert_cmpint (idle, <, (gint64) timeout_s * SEC);
      g_assert_cmpstr (sched_wait_reason (g), ==, "retrying");
      g_assert_cmpint (sched_time_to_start (f, g, 800 * SEC), >, 0);
    }
}

static void
test_no_progress_timeout (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = sched_new_group (f, 1);
  gint64 t0 = sched_mono (f), fatal_at;

  sched_set_retry (g, 10, 100);
  sched_resume (g);
  sched_run (f);
  fatal_at = fail_until_fatal (f, g, t0, 100);
  /* At the first failure past the timeout: the retry before it came within
   * its back-off of at most 100 s (80 s and a quarter). */
  g_assert_cmpint (fatal_at, <, 200 * SEC);
  assert_fatal_no_progress (f, g);
}

static void
test_no_progress_reset (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = sched_new_group (f, 1);
  gint64 t0 = sched_mono (f), progress_at;

  sched_set_retry (g, 10, 100);
  sched_resume (g);
  sched_run (f);
  sched_fail_transient (f, sched_item_of (f, g, 0), 0);
  g_assert_cmpint (sched_time_to_start (f, g, 800 * SEC), >, 0);
  sched_fail_transient (f, sched_item_of (f, g, 0), 0);
  g_assert_cmpint (sched_time_to_start (f, g, 800 * SEC), >, 0);
  g_assert_cmpuint (g->job->num_retries, ==, 2);
  /* Bytes came: the count of retries and the timeout start again. */
  dummy_clock_advance (f->clock, 70 * SEC);
  dummy_backend_progress (f->backend, sched_item_of (f, g, 0), 4096);
  progress_at = sched_mono (f);
  g_assert_cmpuint (g->job->num_retries, ==, 0);
  g_assert_cmpint (progress_at - t0, >=, 100 * SEC);
  fail_until_fatal (f, g, progress_at, 100);
  assert_fatal_no_progress (f, g);
}

/* Waiting for a slot is no failure to make progress: the timeout counts
 * from when the group could first try. */
static void
test_no_progress_not_while_queued (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *a, *b = sched_new_group (f, 1);
  gint64 started;

  sched_set_max (f, 1);
  a = sched_running_group (f, 1);
  sched_set_retry (b, 10, 100);
  sched_resume (b);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, b), ==, 0);
  for (guint i = 1; i <= 30; i++)
    {
      dummy_clock_advance (f->clock, 10 * SEC);
      dummy_backend_progress (f->backend, sched_item_of (f, a, 0), i * 1000);
    }
  dummy_backend_finish (f->backend, sched_item_of (f, a, 0), 30000);
  sched_run (f);
  started = sched_mono (f);
  sched_fail_transient (f, sched_item_of (f, b, 0), 0);
  g_assert_cmpint (b->state, ==, QMGR_GROUP_STATE_QUEUED);
  g_assert_cmpstr (sched_wait_reason (b), ==, "retrying");
  g_assert_cmpint (sched_time_to_start (f, b, 800 * SEC), >, 0);
  fail_until_fatal (f, b, started, 100);
  assert_fatal_no_progress (f, b);
}

/* Nor is waiting for the network. */
static void
test_no_progress_not_while_offline (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = sched_new_group (f, 1);

  sched_set_retry (g, 10, 100);
  sched_set_network (f, FALSE, QMGR_CONNECTIVITY_NONE, QMGR_COST_STATE_UNRESTRICTED);
  sched_resume (g);
  sched_run (f);
  dummy_clock_advance (f->clock, 300 * SEC);
  g_assert_cmpuint (sched_n_starts (f, g), ==, 0);
  sched_set_network (f, TRUE, QMGR_CONNECTIVITY_FULL, QMGR_COST_STATE_UNRESTRICTED);
  sched_run (f);
  fail_until_fatal (f, g, sched_mono (f), 100);
  assert_fatal_no_progress (f, g);
}

/* The timeout counts across a restart of the scheduler (of the daemon). */
static void
test_no_progress_restart (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = sched_new_group (f, 1);

  sched_set_retry (g, 10, 100);
  sched_resume (g);
  sched_run (f);
  sched_fail_transient (f, sched_item_of (f, g, 0), 0);
  g_clear_pointer (&f->scheduler, qmgr_scheduler_free);
  dummy_clock_advance (f->clock, 150 * SEC);
  f->scheduler = qmgr_scheduler_new (f->manager, dummy_backend_get (f->backend),
                                     dummy_clock_get (f->clock));
  sched_run (f);
  g_assert_cmpuint (sched_item_of (f, g, 0), !=, 0);
  sched_fail_transient (f, sched_item_of (f, g, 0), 0);
  assert_fatal_no_progress (f, g);
}

static void
test_completion (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  static QmgrStoreHooks hooks;
  QmgrGroup *g;
  QmgrItemId first, second;
  const SchedHeardEvent *done;
  guint saves;

  hooks = unit_fake_store_hooks;
  hooks.sync = counting_sync;
  qmgr_manager_set_store (f->manager, &hooks, &f->store);
  g = sched_running_group (f, 2);
  first = sched_item_of (f, g, 0);
  second = sched_item_of (f, g, 1);

  /* Transferred is not yet in place. */
  g_assert_true (dummy_backend_response (f->backend, first, 1000, "\"etag\""));
  g_assert_cmpstr (((QmgrFile *) g->job->files->pdata[0])->validator, ==, "\"etag\"");
  dummy_backend_progress (f->backend, first, 1000);
  dummy_backend_done_ok (f->backend, first, 1000);
  g_assert_false (((QmgrFile *) g->job->files->pdata[0])->complete);
  saves = f->store.fake.saves;
  dummy_backend_committed_ok (f->backend, first);
  g_assert_true (((QmgrFile *) g->job->files->pdata[0])->complete);
  g_assert_cmpuint (qmgr_group_get_files_transferred (g), ==, 1);
  g_assert_cmpuint (f->store.fake.saves, >, saves);
  /* Announced once durable, within a tenth of a second of the batch. */
  dummy_backend_commits_settled (f->backend);
  g_assert_cmpuint (n_heard (f, QMGR_STATUS_EVENT_FILE_DONE), ==, 0);
  dummy_clock_advance (f->clock, 100 * 1000);
  g_assert_cmpuint (n_heard (f, QMGR_STATUS_EVENT_FILE_DONE), ==, 1);
  g_assert_cmpuint (g_array_index (f->heard, SchedHeardEvent, 0).syncs_before, ==, 1);

  /* The last file completes the group: announced as soon as it is durable. */
  dummy_backend_done_ok (f->backend, second, 500);
  dummy_backend_committed_ok (f->backend, second);
  g_assert_cmpint (g->state, ==, QMGR_GROUP_STATE_COMPLETE);
  g_assert_cmpuint (n_heard (f, QMGR_STATUS_EVENT_GROUP_DONE), ==, 0);
  dummy_backend_commits_settled (f->backend);
  g_assert_cmpuint (n_heard (f, QMGR_STATUS_EVENT_GROUP_DONE), ==, 1);
  g_assert_cmpuint (n_heard (f, QMGR_STATUS_EVENT_JOB_DONE), ==, 1);
  g_assert_cmpuint (n_heard (f, QMGR_STATUS_EVENT_FILE_DONE), ==, 2);
  done = &g_array_index (f->heard, SchedHeardEvent, f->heard->len - 1);
  g_assert_cmpint (done->event, ==, QMGR_STATUS_EVENT_GROUP_DONE);
  g_assert_cmpuint (done->syncs_before, ==, 2);
  g_assert_cmpstr (sched_wait_reason (g), ==, "complete");
  g_assert_cmpuint (qmgr_group_get_status (g), ==,
                    QMGR_STATUS_GROUP_COMPLETE | QMGR_STATUS_GROUP_SUSPENDED);
  g_assert_cmpuint (qmgr_job_get_bytes_transferred (g->job), ==, 1500);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, g), ==, 2);
  g_assert_cmpuint (dummy_clock_pending (f->clock), ==, 0);
}

/* A fatal failure ends the group's other transfers and waits for a resume. */
static void
test_fatal (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = sched_running_group (f, 2);
  g_autoptr(GError) error = NULL;

  dummy_backend_fail (f->backend, sched_item_of (f, g, 1), QMGR_BACKEND_FATAL,
                      QMGR_TRANSFER_ERROR_HTTP_STATUS, 0);
  g_assert_cmpint (g->state, ==, QMGR_GROUP_STATE_ERROR);
  g_assert_cmpuint (sched_item_of (f, g, 0), ==, 0);
  g_assert_cmpuint (g->job->error_file_index, ==, 1);
  g_assert_cmpuint (g->job->transport_result, ==, 404);
  g_assert_cmpuint (n_heard (f, QMGR_STATUS_EVENT_FATAL_ERROR), ==, 1);
  dummy_clock_advance (f->clock, 3600 * SEC);
  g_assert_cmpuint (sched_n_starts (f, g), ==, 2);

  g_assert_true (qmgr_group_resume (g, &error));
  g_assert_no_error (error);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, g), ==, 4);
  g_assert_cmpint (g->job->error, ==, QMGR_TRANSFER_ERROR_NONE);
}

/* A cancelled job leaves no temp file: its transfers are stopped with their
 * data, and the files not complete are discarded. */
static void
test_cancel (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g, *next;
  g_autoptr(GError) error = NULL;
  QmgrGuid job_id;
  guint discards = 0;

  sched_set_max (f, 3);
  g = sched_running_group (f, 4);
  next = sched_running_group (f, 1);
  job_id = g->job->id;
  dummy_backend_finish (f->backend, sched_item_of (f, g, 0), 10);
  dummy_clock_advance (f->clock, SEC);
  g_assert_cmpuint (sched_n_starts (f, g), ==, 4);
  g_assert_cmpuint (sched_n_starts (f, next), ==, 0);
  dummy_backend_clear_ops (f->backend);

  g_assert_true (qmgr_job_cancel (g->job, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < dummy_backend_n_ops (f->backend); i++)
    {
      const DummyOp *op = dummy_backend_op (f->backend, i);
      if (op->type == DUMMY_OP_STOP)
        g_assert_true (op->discard);
      else if (op->type == DUMMY_OP_DISCARD)
        {
          g_assert_true (qmgr_guid_equal (op->job_id, job_id));
          g_assert_cmpuint (op->owner, ==, UNIT_OWNER);
          g_assert_cmpuint (op->index, !=, 0);
          discards++;
        }
    }
  g_assert_cmpuint (dummy_backend_count_ops (f->backend, DUMMY_OP_STOP), ==, 3);
  g_assert_cmpuint (discards, ==, 3);
  g_assert_cmpuint (dummy_backend_n_transferring (f->backend), ==, 0);
  sched_run (f);
  g_assert_cmpuint (sched_n_starts (f, next), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, sched_fixture_setup, func, sched_fixture_teardown)
  ADD ("/scheduler/slots/default", test_slots_default);
  ADD ("/scheduler/slots/max-concurrent", test_slots_max_concurrent);
  ADD ("/scheduler/order/resumed", test_order_resumed);
  ADD ("/scheduler/foreground/preempts", test_foreground_preempts);
  ADD ("/scheduler/foreground/waits-for-foreground", test_foreground_waits_for_foreground);
  ADD ("/scheduler/retry/backoff", test_retry_backoff);
  ADD ("/scheduler/retry/retry-after", test_retry_after);
  ADD ("/scheduler/no-progress/timeout", test_no_progress_timeout);
  ADD ("/scheduler/no-progress/reset", test_no_progress_reset);
  ADD ("/scheduler/no-progress/not-while-queued", test_no_progress_not_while_queued);
  ADD ("/scheduler/no-progress/not-while-offline", test_no_progress_not_while_offline);
  ADD ("/scheduler/no-progress/restart", test_no_progress_restart);
  ADD ("/scheduler/completion", test_completion);
  ADD ("/scheduler/fatal", test_fatal);
  ADD ("/scheduler/cancel", test_cancel);
#undef ADD
  return g_test_run ();
}
