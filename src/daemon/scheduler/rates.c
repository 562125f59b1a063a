/* qmgrd scheduler — the rates: budgets handed to items from token buckets (a
 * group's BandwidthLimit; for background work the manager's limits and the
 * pacer's rate, the lowest of those set), the pacer's samples and rate, and
 * what SwitchToForeground changes for an item that runs. */
#include "scheduler-private.h"

/* The rate of all background work together: the manager's BandwidthLimit
 * (and MeteredBandwidthLimit while the network is metered) and the pacer's,
 * the lowest of those set; 0: none. */
guint64
qmgr_sched_background_limit (QmgrScheduler *s)
{
  guint64 limit = qmgr_manager_get_background_limit (s->manager);
  guint64 yielding = s->pacer != NULL ? qmgr_pacer_get_rate (s->pacer) : 0;

  if (limit == 0 || yielding == 0)
    return MAX (limit, yielding);
  return MIN (limit, yielding);
}

/* Foreground groups obey only their own limit; background ones the
 * background rate too. */
gboolean
qmgr_sched_is_paced (QmgrScheduler *s, QmgrGroup *g)
{
  return g->bandwidth_limit > 0 || (!g->foreground && qmgr_sched_background_limit (s) > 0);
}

static void
refresh_rates (QmgrScheduler *s, GroupState *st, gint64 now)
{
  guint64 background = qmgr_sched_background_limit (s);

  if (st->bucket.rate != st->group->bandwidth_limit)
    qmgr_token_bucket_set_rate (&st->bucket, st->group->bandwidth_limit, now);
  if (s->background_bucket.rate != background)
    qmgr_token_bucket_set_rate (&s->background_bucket, background, now);
}

/* The buckets an item's bytes are taken from. */
static guint
buckets_of (QmgrScheduler *s, Active *a, QmgrTokenBucket *buckets[2])
{
  guint n = 0;

  buckets[n++] = &qmgr_sched_group_state (s, a->group)->bucket;
  if (!a->group->foreground)
    buckets[n++] = &s->background_bucket;
  return n;
}

static void grant (QmgrScheduler *s, Active *a);

static void
on_grant_due (gpointer user_data)
{
  Active *a = user_data;

  a->grant_timer = 0;
  grant (a->scheduler, a);
}

/* Hands the item what the buckets hold now, or waits until they hold some. */
static void
grant (QmgrScheduler *s, Active *a)
{
  QmgrTokenBucket *buckets[2];
  guint n = buckets_of (s, a, buckets);
  gint64 now = qmgr_sched_now (s);
  gint64 wait = 0, budget = G_MAXINT64;

  refresh_rates (s, qmgr_sched_group_state (s, a->group), now);
  for (guint i = 0; i < n; i++)
    wait = MAX (wait, qmgr_token_bucket_wait (buckets[i], now));
  if (wait > 0)
    {
      if (a->grant_timer == 0)
        a->grant_timer = qmgr_clock_add (s->clock, wait, on_grant_due, a);
      return;
    }
  for (guint i = 0; i < n; i++)
    budget = MIN (budget, qmgr_token_bucket_available (buckets[i], now));
  if (budget == G_MAXINT64)
    {
      /* Unlimited after all (a limit was lifted meanwhile). */
      a->paced = FALSE;
      qmgr_backend_set_budget (s->backend, a->id, QMGR_BUDGET_UNLIMITED);
      return;
    }
  budget = MAX (budget, 1);
  for (guint i = 0; i < n; i++)
    qmgr_token_bucket_charge (buckets[i], (guint64) budget, now);
  a->granted = budget;
  qmgr_backend_set_budget (s->backend, a->id, budget);
}

void
qmgr_sched_repace (QmgrScheduler *s)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, s->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Active *a = value;
      gboolean paced = qmgr_sched_is_paced (s, a->group);

      if (a->committing || paced == a->paced)
        continue;
      a->paced = paced;
      a->granted = 0;
      qmgr_clock_clear (s->clock, &a->grant_timer);
      /* A budget of 0: spent at its next write, when it asks for one. */
      qmgr_backend_set_budget (s->backend, a->id, paced ? 0 : QMGR_BUDGET_UNLIMITED);
    }
}

/* ---- budgets ---- */

void
qmgr_sched_on_budget_spent (QmgrItemId id, guint64 used, gpointer user_data)
{
  QmgrScheduler *s = user_data;
  Active *a = qmgr_sched_active_lookup (s, id);
  QmgrTokenBucket *buckets[2];
  guint n;

  if (a == NULL)
    return;
  /* What it wrote beyond its budget is owed too. */
  if (used > (guint64) MAX (a->granted, 0))
    {
      n = buckets_of (s, a, buckets);
      for (guint i = 0; i < n; i++)
        qmgr_token_bucket_charge (buckets[i], used - (guint64) MAX (a->granted, 0),
                                  qmgr_sched_now (s));
    }
  a->granted = 0;
  grant (s, a);
}

/* SwitchToForeground on a running group: its transfers stop yielding at once
 * (their connections' receive buffers too), without starting again. */
void
qmgr_sched_follow_foreground (QmgrScheduler *s, QmgrGroup *g)
{
  GHashTableIter iter;
  gpointer value;

  if (!g->foreground)
    return;
  g_hash_table_iter_init (&iter, s->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Active *a = value;

      if (a->group != g || !a->background)
        continue;
      a->background = FALSE;
      if (a->committing)
        continue;
      if (s->pacer != NULL)
        qmgr_pacer_remove_item (s->pacer, a->id);
      qmgr_backend_set_background (s->backend, a->id, FALSE);
    }
}

/* ---- the pacer ---- */

static void
on_pacer_sample (QmgrItemId id, gpointer user_data)
{
  QmgrScheduler *s = user_data;

  qmgr_backend_sample (s->backend, id);
}

/* A new background rate: items waiting for tokens wait as long as it says
 * (less, when it grew), items that stop or start being paced hear of it. */
static void
on_pacer_rate (guint64 rate, gpointer user_data)
{
  QmgrScheduler *s = user_data;
  GHashTableIter iter;
  gpointer value;

  if (s->background_bucket.rate != qmgr_sched_background_limit (s))
    qmgr_token_bucket_set_rate (&s->background_bucket, qmgr_sched_background_limit (s),
                                qmgr_sched_now (s));
  qmgr_sched_repace (s);
  g_hash_table_iter_init (&iter, s->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Active *a = value;
      if (a->grant_timer != 0 && a->background)
        {
          qmgr_clock_clear (s->clock, &a->grant_timer);
          grant (s, a);
        }
    }
}

static const QmgrPacerFuncs pacer_funcs = {
  .sample = on_pacer_sample,
  .rate_changed = on_pacer_rate,
};

void
qmgr_scheduler_set_pacer (QmgrScheduler *s, QmgrPacer *pacer)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (s->pacer == NULL);
  s->pacer = pacer;
  qmgr_pacer_set_funcs (pacer, &pacer_funcs, s);
  g_hash_table_iter_init (&iter, s->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Active *a = value;
      if (a->background && !a->committing)
        qmgr_pacer_add_item (pacer, a->id);
    }
  on_pacer_rate (qmgr_pacer_get_rate (pacer), s);
}
