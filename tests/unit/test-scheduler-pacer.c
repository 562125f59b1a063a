/* Unit tests of the scheduler with its pacer: background work yields to
 * other traffic through the background token bucket, foreground work never
 * does, the pacer's rate and the manager's limits combine (the lowest wins),
 * SwitchToForeground reaches the backend, and nothing ticks while nothing
 * transfers. The real scheduler and pacer, the dummy backend (the test
 * writes the bytes and answers the samples) and the hand-moved clock. */
#include <glib.h>

#include "qmgr-constants.h"
#include "scheduler-fixture.h"

#define MB (1000 * 1000)
#define CHUNK 16384
#define TICK (10 * 1000)          /* each item writes a chunk per tick: 1.6 MB/s */
#define BASE_US 1000

typedef struct {
  SchedFixture s;
  QmgrLinkCounters link;
  GHashTable *unsampled;          /* QmgrItemId → bytes written since its last sample */
} Fixture;

static gboolean
read_link (QmgrLinkCounters *counters, gpointer user_data)
{
  *counters = ((Fixture *) user_data)->link;
  return TRUE;
}

static void
setup (Fixture *f, gconstpointer data)
{
  sched_fixture_setup (&f->s, data);
  f->link.links = 1;
  f->unsampled = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  qmgr_scheduler_set_pacer (f->s.scheduler,
                            qmgr_pacer_new (dummy_clock_get (f->s.clock), read_link, f));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  /* The pacer and its tick go with the scheduler. */
  sched_fixture_teardown (&f->s, data);
  g_hash_table_unref (f->unsampled);
}

static guint64 *
unsampled (Fixture *f, QmgrItemId id)
{
  guint64 *n = g_hash_table_lookup (f->unsampled, &id);

  if (n == NULL)
    {
      QmgrItemId *key = g_memdup2 (&id, sizeof id);
      n = g_new0 (guint64, 1);
      g_hash_table_insert (f->unsampled, key, n);
    }
  return n;
}

/* Every sample owed is answered: the round trip @rtt_us, and the bytes the
 * item wrote since its last one. */
static void
answer_samples (Fixture *f, guint32 rtt_us, gboolean local)
{
  QmgrItemId id;

  for (guint i = 0; (id = dummy_backend_nth_transferring (f->s.backend, i)) != 0; i++)
    while (dummy_backend_item (f->s.backend, id)->samples_owed > 0)
      {
        guint64 *n = unsampled (f, id);
        dummy_backend_path_sample (f->s.backend, id, rtt_us, *n, local);
        *n = 0;
      }
}

/* For @duration_us the items write over a link of @capacity bytes/s (0: no
 * limit but a chunk per TICK each): in turns, a little at a time, as far as
 * their budgets let them (adding to @written); the link receives what they
 * wrote (and 4 % of headers), and samples are answered with @rtt_us. */
static void
pump_link (Fixture *f, const QmgrItemId *ids, guint n, guint32 rtt_us, gint64 duration_us,
           guint64 *written, double capacity)
{
  gint64 end = sched_mono (&f->s) + duration_us;

  while (sched_mono (&f->s) < end)
    {
      gint64 step = MIN (TICK, end - sched_mono (&f->s));
      guint64 left = capacity > 0 ? (guint64) (capacity * step / SEC) : G_MAXUINT64;
      gboolean wrote = TRUE;
      guint64 turn[8] = { 0 };

      g_assert_cmpuint (n, <=, G_N_ELEMENTS (turn));
      while (left > 0 && wrote)
        {
          wrote = FALSE;
          for (guint i = 0; i < n && left > 0; i++)
            {
              gsize len;
              if (turn[i] >= CHUNK)
                continue;
              len = dummy_backend_write (f->s.backend, ids[i],
                                         MIN (MIN (left, 4096), CHUNK - turn[i]));
              turn[i] += len > 0 ? len : CHUNK;   /* held: its turn is over */
              written[i] += len;
              *unsampled (f, ids[i]) += len;
              f->link.rx_bytes += len + len / 25;
              left -= MIN (left, len);
              wrote = wrote || len > 0 || turn[i] < CHUNK;
            }
          if (capacity > 0)
            for (guint i = 0; i < n; i++)
              if (turn[i] >= CHUNK && dummy_backend_item (f->s.backend, ids[i])->budget != 0 &&
                  !dummy_backend_item (f->s.backend, ids[i])->waiting_budget)
                turn[i] = 0;   /* the link has room: more for those not held */
        }
      dummy_clock_advance (f->s.clock, step);
      answer_samples (f, rtt_us, FALSE);
    }
}

static void
pump (Fixture *f, const QmgrItemId *ids, guint n, guint32 rtt_us, gint64 duration_us,
      guint64 *written)
{
  pump_link (f, ids, n, rtt_us, duration_us, written, 0);
}

static void
assert_near (double value, double expected, double tolerance)
{
  g_test_message ("%.0f, expected %.0f", value, expected);
  g_assert_cmpfloat (value, >=, expected * (1 - tolerance));
  g_assert_cmpfloat (value, <=, expected * (1 + tolerance));
}

#define LINK 2500000.0            /* bytes/s: 20 Mbit/s */

static void
test_background_yields (Fixture *f, gconstpointer data)
{
  QmgrGroup *bg = sched_running_group (&f->s, 1), *fg = sched_foreground_group (&f->s, 1);
  QmgrItemId ids[2];
  guint64 written[2] = { 0, 0 };

  ids[0] = sched_item_of (&f->s, bg, 0);
  /* A quiet link: nothing is paced; the background item is sampled. */
  pump_link (f, ids, 1, BASE_US, 5 * SEC, written, LINK);
  assert_near (written[0], 5 * LINK, 0.01);
  g_assert_cmpuint (dummy_backend_count_ops (f->s.backend, DUMMY_OP_SET_BUDGET), ==, 0);
  g_assert_cmpuint (sched_n_ops (&f->s, DUMMY_OP_SAMPLE, bg), >=, 45);

  /* Foreground work joins on the same link, which shares it evenly: the
   * background item is paced, down to the floor within a second; the
   * foreground one gets the rest, is never asked to wait and never sampled. */
  sched_resume (fg);
  sched_run (&f->s);
  ids[1] = sched_item_of (&f->s, fg, 0);
  pump_link (f, ids, 2, BASE_US, SEC, written, LINK);
  g_assert_cmpint (dummy_backend_item (f->s.backend, ids[0])->budget, !=, QMGR_BUDGET_UNLIMITED);
  written[0] = written[1] = 0;
  pump_link (f, ids, 2, BASE_US, 10 * SEC, written, LINK);
  assert_near (written[0], 10.0 * QMGR_PACER_FLOOR, 0.15);
  g_assert_cmpuint (written[1], >=, 10 * LINK * 0.99);
  g_assert_cmpuint (sched_n_ops (&f->s, DUMMY_OP_SET_BUDGET, fg), ==, 0);
  g_assert_cmpuint (sched_n_ops (&f->s, DUMMY_OP_SAMPLE, fg), ==, 0);

  /* The foreground file is done: the background item grows back to the
   * whole link within a few seconds, and is let go after some more of quiet. */
  dummy_backend_finish (f->s.backend, ids[1], written[1]);
  sched_run (&f->s);
  pump_link (f, ids, 1, BASE_US, 3 * SEC, written, LINK);
  written[0] = 0;
  pump_link (f, ids, 1, BASE_US, SEC, written, LINK);
  assert_near (written[0], LINK, 0.05);
  pump_link (f, ids, 1, BASE_US, 15 * SEC, written, LINK);
  g_assert_cmpint (dummy_backend_item (f->s.backend, ids[0])->budget, ==, QMGR_BUDGET_UNLIMITED);
}

static void
set_manager_limit (Fixture *f, guint64 limit)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (qmgr_manager_set_bandwidth_limit (f->s.manager, limit, &error));
  g_assert_no_error (error);
}

/* The pacer's rate and the manager's BandwidthLimit: the lowest wins. */
static void
test_lowest_wins (Fixture *f, gconstpointer data)
{
  QmgrGroup *bg = sched_running_group (&f->s, 1);
  QmgrItemId id = sched_item_of (&f->s, bg, 0);
  guint64 written = 0;

  /* The limit is the lower: it holds. */
  set_manager_limit (f, MB / 10);
  pump (f, &id, 1, BASE_US, 5 * SEC, &written);
  written = 0;
  pump (f, &id, 1, BASE_US, 10 * SEC, &written);
  assert_near (written, 10.0 * MB / 10, 0.05);
  /* A queue brings the pacer's rate below it, to the floor: that holds. */
  pump (f, &id, 1, BASE_US + 30000, 30 * SEC, &written);
  written = 0;
  pump (f, &id, 1, BASE_US + 30000, 10 * SEC, &written);
  assert_near (written, 10.0 * QMGR_PACER_FLOOR, 0.15);
  /* Without the limit, the pacer's rate alone. */
  set_manager_limit (f, 0);
  written = 0;
  pump (f, &id, 1, BASE_US + 30000, 10 * SEC, &written);
  assert_near (written, 10.0 * QMGR_PACER_FLOOR, 0.15);
}

/* SwitchToForeground on a running group: the backend hears that its item is
 * no longer background work; it is not sampled or paced by the pacer any
 * more, and it is not started again. */
static void
test_switch_to_foreground (Fixture *f, gconstpointer data)
{
  QmgrGroup *bg = sched_running_group (&f->s, 1);
  QmgrItemId id = sched_item_of (&f->s, bg, 0);
  guint64 written = 0;
  const DummyOp *op;
  guint samples;

  g_assert_true (dummy_backend_item (f->s.backend, id)->background);
  pump (f, &id, 1, BASE_US, 2 * SEC, &written);
  pump (f, &id, 1, BASE_US + 30000, 10 * SEC, &written);
  g_assert_cmpint (dummy_backend_item (f->s.backend, id)->budget, !=, QMGR_BUDGET_UNLIMITED);

  g_assert_true (qmgr_group_switch_to_foreground (bg, NULL));
  op = dummy_backend_last_op (f->s.backend, DUMMY_OP_SET_BACKGROUND);
  g_assert_nonnull (op);
  g_assert_cmpuint (op->id, ==, id);
  g_assert_false (op->background);
  g_assert_false (dummy_backend_item (f->s.backend, id)->background);
  g_assert_cmpint (dummy_backend_item (f->s.backend, id)->budget, ==, QMGR_BUDGET_UNLIMITED);
  samples = sched_n_ops (&f->s, DUMMY_OP_SAMPLE, bg);
  written = 0;
  pump (f, &id, 1, BASE_US + 30000, 5 * SEC, &written);
  g_assert_cmpuint (written, ==, (guint64) (5 * SEC / TICK) * CHUNK);
  g_assert_cmpuint (sched_n_ops (&f->s, DUMMY_OP_SAMPLE, bg), ==, samples);
  g_assert_cmpuint (sched_n_starts (&f->s, bg), ==, 1);
  g_assert_cmpuint (sched_n_ops (&f->s, DUMMY_OP_STOP, bg), ==, 0);
  /* Nothing background transfers: no tick. */
  g_assert_cmpuint (dummy_clock_pending (f->s.clock), ==, 0);
  g_assert_cmpuint (dummy_backend_count_ops (f->s.backend, DUMMY_OP_SET_BACKGROUND), ==, 1);
}

/* Connections to this machine share no link: what they see slows nothing. */
static void
test_local_not_paced (Fixture *f, gconstpointer data)
{
  QmgrGroup *bg = sched_running_group (&f->s, 1);
  QmgrItemId id = sched_item_of (&f->s, bg, 0);
  gint64 end = sched_mono (&f->s) + 10 * SEC;

  while (sched_mono (&f->s) < end)
    {
      *unsampled (f, id) += dummy_backend_write (f->s.backend, id, CHUNK);
      f->link.rx_bytes += 10 * CHUNK;   /* somebody else's */
      dummy_clock_advance (f->s.clock, TICK);
      answer_samples (f, BASE_US + 50000, TRUE);
    }
  g_assert_cmpuint (dummy_backend_count_ops (f->s.backend, DUMMY_OP_SET_BUDGET), ==, 0);
}

/* Groups held back by the network's cost: nothing transfers, nothing ticks.
 * Then one transfers (a tick), and when it is done, nothing ticks again. */
static void
test_idle_no_timers (Fixture *f, gconstpointer data)
{
  QmgrGroup *g[3];
  QmgrItemId id;

  sched_set_network (&f->s, TRUE, QMGR_CONNECTIVITY_FULL, QMGR_COST_STATE_CAPPED_USAGE_UNKNOWN);
  for (guint i = 0; i < G_N_ELEMENTS (g); i++)
    {
      g[i] = sched_new_group (&f->s, 2);
      sched_set_policy (g[i], QMGR_TRANSFER_POLICY_UNRESTRICTED);
      sched_resume (g[i]);
    }
  sched_run (&f->s);
  g_assert_cmpstr (sched_wait_reason (g[0]), ==, "metered");
  g_assert_cmpuint (dummy_clock_pending (f->s.clock), ==, 0);
  dummy_clock_advance (f->s.clock, 3600 * SEC);
  g_assert_cmpuint (dummy_backend_count_ops (f->s.backend, DUMMY_OP_SAMPLE), ==, 0);

  sched_set_policy (g[0], QMGR_TRANSFER_POLICY_ALWAYS);
  sched_run (&f->s);
  g_assert_cmpuint (dummy_clock_pending (f->s.clock), ==, 1);
  for (guint i = 0; i < 2; i++)
    {
      id = sched_item_of (&f->s, g[0], i);
      g_assert_cmpuint (id, !=, 0);
      dummy_clock_advance (f->s.clock, QMGR_PACER_TICK_US);
      answer_samples (f, BASE_US, FALSE);
      dummy_backend_finish (f->s.backend, id, 100);
      sched_run (&f->s);
    }
  g_assert_cmpuint (g[0]->state, ==, QMGR_GROUP_STATE_COMPLETE);
  g_assert_cmpuint (dummy_clock_pending (f->s.clock), ==, 0);
}

/* Without a pacer too, the switch reaches the backend. */
static void
test_switch_without_pacer (SchedFixture *f, gconstpointer data)
{
  QmgrGroup *bg = sched_running_group (f, 2);
  const DummyOp *op;

  g_assert_true (qmgr_group_switch_to_foreground (bg, NULL));
  g_assert_cmpuint (dummy_backend_count_ops (f->backend, DUMMY_OP_SET_BACKGROUND), ==, 2);
  op = dummy_backend_last_op (f->backend, DUMMY_OP_SET_BACKGROUND);
  g_assert_false (op->background);
  g_assert_cmpuint (dummy_backend_count_ops (f->backend, DUMMY_OP_SAMPLE), ==, 0);
  g_assert_cmpuint (sched_n_starts (f, bg), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, setup, func, teardown)
  ADD ("/scheduler/pacer/background-yields", test_background_yields);
  ADD ("/scheduler/pacer/lowest-wins", test_lowest_wins);
  ADD ("/scheduler/pacer/switch-to-foreground", test_switch_to_foreground);
  ADD ("/scheduler/pacer/local-not-paced", test_local_not_paced);
  ADD ("/scheduler/pacer/idle-no-timers", test_idle_no_timers);
#undef ADD
  g_test_add ("/scheduler/switch-to-foreground", SchedFixture, NULL, sched_fixture_setup,
              test_switch_without_pacer, sched_fixture_teardown);
  return g_test_run ();
}
