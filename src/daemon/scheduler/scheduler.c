/* qmgrd scheduler — which file moves now and what happens when it stops (at
 * what rate: rates.c). Talks to the bytes only through the backend seam, and
 * to time only through the injected clock. */
#include "scheduler-private.h"

#include "qmgr-constants.h"
#include "qmgr-log.h"

#define RETRY_DELAY_CAP_S 600

/* Completed files are made durable together, then announced: at once when
 * one of them completes its group, else within ANNOUNCE_WITHIN_MS, so that a
 * job of many small files costs a store sync (and a copy of the group in the
 * journal) per ANNOUNCE_WITHIN_MS rather than one per commit batch. */
#define ANNOUNCE_WITHIN_MS 100

static void schedule_soon (QmgrScheduler *s);

guint64
qmgr_scheduler_retry_delay (guint32 minimum_s, guint32 n, double jitter)
{
  guint64 cap = MAX ((guint64) RETRY_DELAY_CAP_S, (guint64) minimum_s);
  guint64 delay = minimum_s;

  for (guint32 i = 1; i < n && delay < cap; i++)
    delay *= 2;
  delay = MIN (delay, cap);
  /* Up to a quarter more, so that many clients do not come back at once (in
   * 64 bits: a MinimumRetryDelay near 2^32 s plus a quarter still fits). */
  return delay + (guint64) ((double) delay * 0.25 * jitter);
}

gint64
qmgr_sched_now (QmgrScheduler *s)
{
  return qmgr_clock_monotonic (s->clock);
}

/* The monotonic time of the group's last progress: now, unless transient
 * failures have gone on since an earlier one (also before a restart or a
 * reboot: the result may be before the monotonic clock's start, which only
 * differences use). Never before the group was created (a clock that was
 * wrong when the time was taken). */
static gint64
last_progress_of (QmgrScheduler *s, QmgrGroup *g)
{
  gint64 since = MAX (g->retrying_since, g->creation_time);

  if (g->retrying_since == 0)
    return qmgr_sched_now (s);
  return qmgr_sched_now (s) - MAX (qmgr_manager_now (s->manager) - since, 0);
}

GroupState *
qmgr_sched_group_state (QmgrScheduler *s, QmgrGroup *g)
{
  GroupState *st = g_hash_table_lookup (s->states, g);

  if (st == NULL)
    {
      st = g_new0 (GroupState, 1);
      st->scheduler = s;
      st->group = g;
      qmgr_token_bucket_init (&st->bucket, g->bandwidth_limit, qmgr_sched_now (s));
      st->last_progress = last_progress_of (s, g);
      g_hash_table_insert (s->states, g, st);
    }
  return st;
}

static void
group_state_free (GroupState *st)
{
  qmgr_clock_clear (st->scheduler->clock, &st->retry_timer);
  g_free (st);
}

static QmgrFile *
file_of (QmgrJob *job, guint index)
{
  return g_ptr_array_index (job->files, index);
}

Active *
qmgr_sched_active_lookup (QmgrScheduler *s, QmgrItemId id)
{
  return g_hash_table_lookup (s->items, &id);
}

static gboolean
group_has_items (QmgrScheduler *s, QmgrGroup *g)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, s->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Active *) value)->group == g)
      return TRUE;
  return FALSE;
}

/* Forgets an item (the backend has ended it, or is told to). */
static void
active_remove (QmgrScheduler *s, Active *a)
{
  if (!a->committing)
    s->n_transferring--;
  if (s->pacer != NULL)
    qmgr_pacer_remove_item (s->pacer, a->id);
  qmgr_clock_clear (s->clock, &a->grant_timer);
  g_hash_table_remove (s->by_file, a->file);
  g_hash_table_remove (s->items, &a->id);   /* frees a */
}

static void
active_stop (QmgrScheduler *s, Active *a, gboolean discard)
{
  qmgr_backend_stop (s->backend, a->id, discard);
  active_remove (s, a);
}

/* Stops the group's transfers (@committing too: the group is going away);
 * their temp files stay for a resume unless @discard. */
static void
stop_group_items (QmgrScheduler *s, QmgrGroup *g, gboolean committing, gboolean discard)
{
  GHashTableIter iter;
  gpointer value;
  g_autoptr(GPtrArray) stop = g_ptr_array_new ();

  g_hash_table_iter_init (&iter, s->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Active *a = value;
      if (a->group == g && (committing || !a->committing))
        g_ptr_array_add (stop, a);
    }
  for (guint i = 0; i < stop->len; i++)
    active_stop (s, g_ptr_array_index (stop, i), discard);
}

static void
forget_group (QmgrScheduler *s, QmgrGroup *g)
{
  stop_group_items (s, g, FALSE, FALSE);
  g_queue_remove (&s->queue, g);
  g_hash_table_remove (s->states, g);
}

/* ---- outcomes ---- */

static void
on_retry_due (gpointer user_data)
{
  GroupState *st = user_data;

  st->retry_timer = 0;
  qmgr_group_set_run_state (st->group, QMGR_RUN_QUEUED);
  schedule_soon (st->scheduler);
}

/* A file of @job failed and may be tried again (its item has ended). */
static void
transient_failure (QmgrScheduler *s, QmgrJob *job, guint index, const QmgrBackendResult *r)
{
  QmgrGroup *g = job->group;
  GroupState *st = qmgr_sched_group_state (s, g);
  g_autoptr(GError) error = NULL;
  gint64 idle_us = qmgr_sched_now (s) - st->last_progress;
  gint64 idle_s = idle_us / G_USEC_PER_SEC;
  guint64 delay;

  if (idle_s >= (gint64) g->no_progress_timeout)
    {
      g_autofree char *message = g_strdup_printf (
          "No progress for %" G_GINT64_FORMAT " s (NoProgressTimeout); last error: %s",
          idle_s, r->message);
      if (!qmgr_job_file_fatal_error (job, index, QMGR_TRANSFER_ERROR_NO_PROGRESS, message,
                                      r->win32_result, r->http_status, &error))
        qmgr_log (G_LOG_LEVEL_WARNING, g->id_str, job->id_str, "Could not record an error: %s",
                  error->message);
      return;
    }
  /* The whole group waits, as a BITS job in its transient-error state does.
   * While connectivity is limited the failure is more likely the network's
   * than the server's: it waits and retries as usual but counts no retry. */
  stop_group_items (s, g, FALSE, FALSE);
  if (!qmgr_job_file_transient_error_full (
          job, index, r->error, r->message, r->win32_result, r->http_status,
          qmgr_manager_now (s->manager) - idle_us,
          s->manager->network.connectivity != QMGR_CONNECTIVITY_LIMITED, &error))
    qmgr_log (G_LOG_LEVEL_WARNING, g->id_str, job->id_str, "Could not record an error: %s",
              error->message);
  delay = qmgr_scheduler_retry_delay (g->minimum_retry_delay, MAX (job->num_retries, 1u),
                                      g_random_double ());
  delay = MAX (delay, (guint64) r->retry_after);
  qmgr_log (G_LOG_LEVEL_DEBUG, g->id_str, job->id_str,
            "Group %s: %s; retrying in %" G_GUINT64_FORMAT " s", g->id_str, r->message, delay);
  qmgr_clock_clear (s->clock, &st->retry_timer);
  st->retry_timer = qmgr_clock_add (s->clock, (gint64) delay * G_USEC_PER_SEC, on_retry_due, st);
}

static void
fatal_failure (QmgrScheduler *s, QmgrJob *job, guint index, const QmgrBackendResult *r)
{
  g_autoptr(GError) error = NULL;

  if (!qmgr_job_file_fatal_error (job, index, r->error, r->message, r->win32_result,
                                  r->http_status, &error))
    qmgr_log (G_LOG_LEVEL_WARNING, job->group->id_str, job->id_str,
              "Could not record an error: %s", error->message);
}

static void
on_started (QmgrItemId id, guint64 bytes_in_file, gpointer user_data)
{
  Active *a = qmgr_sched_active_lookup (user_data, id);

  /* Bytes found in the temp file: known, not progress. */
  if (a != NULL)
    (void) qmgr_job_file_progress (a->job, a->index, bytes_in_file);
}

static void
on_response (QmgrItemId id, guint64 bytes_total, const char *validator, gpointer user_data)
{
  QmgrScheduler *s = user_data;
  Active *a = qmgr_sched_active_lookup (s, id);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (a == NULL)
    return;
  ok = qmgr_job_file_response (a->job, a->index, bytes_total, validator, &error);
  if (!ok)
    qmgr_log (G_LOG_LEVEL_WARNING, a->group->id_str, a->job->id_str,
              "Could not record the validator of file %u: %s", a->index, error->message);
  qmgr_backend_response_done (s->backend, id, ok);
}

static void
on_progress (QmgrItemId id, guint64 bytes_in_file, gpointer user_data)
{
  QmgrScheduler *s = user_data;
  Active *a = qmgr_sched_active_lookup (s, id);

  if (a == NULL)
    return;
  /* Bytes the file already had before (the same first bytes again) are no
   * progress: NoProgressTimeout keeps running. */
  if (!qmgr_job_file_progress (a->job, a->index, bytes_in_file))
    return;
  qmgr_sched_group_state (s, a->group)->last_progress = qmgr_sched_now (s);
  qmgr_group_made_progress (a->group);
}

static void
on_done (QmgrItemId id, const QmgrBackendResult *r, gpointer user_data)
{
  QmgrScheduler *s = user_data;
  Active *a = qmgr_sched_active_lookup (s, id);
  QmgrJob *job;
  guint index;

  if (a == NULL)
    return;
  if (r->outcome == QMGR_BACKEND_OK)
    {
      /* Made durable with the others that finish meanwhile; the slot is free. */
      if (s->pacer != NULL)
        qmgr_pacer_remove_item (s->pacer, a->id);
      a->committing = TRUE;
      a->bytes_total = r->bytes_total;
      qmgr_clock_clear (s->clock, &a->grant_timer);
      s->n_transferring--;
      schedule_soon (s);
      return;
    }
  /* The backend has ended the item: forgotten before the failure stops the
   * group's other items. */
  job = a->job;
  index = a->index;
  active_remove (s, a);
  if (r->outcome == QMGR_BACKEND_TRANSIENT)
    transient_failure (s, job, index, r);
  else
    fatal_failure (s, job, index, r);
  schedule_soon (s);
}

static void
on_committed (QmgrItemId id, const QmgrBackendResult *r, gpointer user_data)
{
  QmgrScheduler *s = user_data;
  Active *a = qmgr_sched_active_lookup (s, id);
  g_autoptr(GError) error = NULL;
  QmgrJob *job;
  guint index;
  guint64 size;

  if (a == NULL)
    return;
  job = a->job;
  index = a->index;
  size = a->bytes_total;
  active_remove (s, a);   /* the item is over */
  if (r->outcome == QMGR_BACKEND_OK)
    {
      QmgrCompletion c;

      if (qmgr_job_record_completion (job, index, size, &c, &error))
        g_array_append_val (s->completions, c);
      else
        qmgr_log (G_LOG_LEVEL_WARNING, job->group->id_str, job->id_str,
                  "Could not record that file %u is complete: %s", index, error->message);
    }
  else if (job->group->state == QMGR_GROUP_STATE_QUEUED)
    {
      /* A full disk is waited out; anything else is the file's fatal error. */
      if (r->outcome == QMGR_BACKEND_TRANSIENT)
        transient_failure (s, job, index, r);
      else
        fatal_failure (s, job, index, r);
    }
  /* else suspended meanwhile: the temp file stays and is finished on resume. */
  schedule_soon (s);
}

static void
announce_completions (gpointer user_data)
{
  QmgrScheduler *s = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) completions = g_steal_pointer (&s->completions);

  qmgr_clock_clear (s->clock, &s->announce_timer);
  s->completions = g_array_new (FALSE, FALSE, sizeof (QmgrCompletion));
  /* Announced even if not durable: the model says so already, and a later
   * read answers the same; the store tries again. */
  if (!qmgr_manager_sync_store (s->manager, &error))
    g_warning ("Completed files could not be recorded durably: %s", error->message);
  for (guint i = 0; i < completions->len; i++)
    qmgr_manager_announce_completion (s->manager,
                                      &g_array_index (completions, QmgrCompletion, i));
}

static void
on_commits_settled (gpointer user_data)
{
  QmgrScheduler *s = user_data;

  for (guint i = 0; i < s->completions->len; i++)
    if (g_array_index (s->completions, QmgrCompletion, i).all_done)
      {
        announce_completions (s);
        return;
      }
  if (s->completions->len > 0 && s->announce_timer == 0)
    s->announce_timer = qmgr_clock_add (s->clock, ANNOUNCE_WITHIN_MS * 1000,
                                        announce_completions, s);
}

static void
on_path_sample (QmgrItemId id, const QmgrPathSample *sample, gpointer user_data)
{
  QmgrScheduler *s = user_data;

  if (s->pacer != NULL)
    qmgr_pacer_sample (s->pacer, id, sample);
}

static const QmgrBackendEvents backend_events = {
  .started = on_started,
  .response = on_response,
  .progress = on_progress,
  .budget_spent = qmgr_sched_on_budget_spent,
  .done = on_done,
  .committed = on_committed,
  .commits_settled = on_commits_settled,
  .path_sample = on_path_sample,
};

static void
start_file (QmgrScheduler *s, QmgrGroup *g, guint index)
{
  QmgrJob *job = g->job;
  QmgrFile *file = file_of (job, index);
  Active *a = g_new0 (Active, 1);
  QmgrBackendRequest req = { 0 };

  /* NoProgressTimeout counts while the group may try: its wait for a slot,
   * the network or a foreground group, with no failure since its last
   * progress, is no failure to progress. After a failure it runs on. */
  if (g->retrying_since == 0 && !group_has_items (s, g))
    qmgr_sched_group_state (s, g)->last_progress = qmgr_sched_now (s);

  a->scheduler = s;
  a->id = ++s->next_id;
  a->group = g;
  a->job = job;
  a->index = index;
  a->file = file;
  a->paced = qmgr_sched_is_paced (s, g);
  a->background = !g->foreground;
  g_hash_table_insert (s->items, &a->id, a);
  g_hash_table_insert (s->by_file, file, a);
  s->n_transferring++;

  req.id = a->id;
  req.owner = g->owner;
  req.url = file->remote_url;
  req.dest_path = file->local_path;
  req.job_id = job->id;
  req.index = index;
  req.validator = file->validator;
  req.user = g->remote_user_id;
  req.password = g->remote_user_password;
  /* A stall is noticed in time for a short NoProgressTimeout too. */
  req.stall_timeout = CLAMP (g->no_progress_timeout, 1u, 60u);
  req.background = a->background;
  /* A paced item asks for its first budget with its first bytes. */
  req.budget = a->paced ? 0 : QMGR_BUDGET_UNLIMITED;
  qmgr_job_set_current_file (job, index);
  qmgr_group_set_run_state (g, QMGR_RUN_TRANSFERRING);
  qmgr_backend_start (s->backend, &req);
  if (a->background && s->pacer != NULL)
    qmgr_pacer_add_item (s->pacer, a->id);
}

/* ---- choosing ---- */

/* Foreground work pauses background work rather than wait for a slot: the
 * file started last of the group resumed last, so that the groups resumed
 * first keep their turn. The paused file resumes later from its temp file. */
static gboolean
preempt_background (QmgrScheduler *s)
{
  GHashTableIter iter;
  gpointer value;
  Active *victim = NULL;
  guint64 victim_turn = 0;
  QmgrGroup *g;

  g_hash_table_iter_init (&iter, s->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Active *a = value;
      guint64 turn;

      if (a->group->foreground || a->committing)
        continue;
      turn = qmgr_sched_group_state (s, a->group)->turn;
      if (victim == NULL || turn > victim_turn || (turn == victim_turn && a->id > victim->id))
        {
          victim = a;
          victim_turn = turn;
        }
    }
  if (victim == NULL)
    return FALSE;
  g = victim->group;
  active_stop (s, victim, FALSE);
  if (!group_has_items (s, g))
    qmgr_group_set_run_state (g, QMGR_RUN_QUEUED);
  return TRUE;
}

/* Why a queued group may not move now, or QMGR_RUN_QUEUED when it may. Waiting
 * for the network or for a cheaper one is not an error and counts no retry. */
static QmgrRunState
network_wait (QmgrScheduler *s, QmgrGroup *g)
{
  const QmgrNetworkState *net = &s->manager->network;

  if (!net->online)
    return QMGR_RUN_OFFLINE;
  if (net->connectivity == QMGR_CONNECTIVITY_PORTAL)
    return QMGR_RUN_CAPTIVE_PORTAL;
  if ((qmgr_group_get_effective_transfer_policy (g) & net->cost_state) == 0)
    return QMGR_RUN_METERED;
  return QMGR_RUN_QUEUED;
}

static void
fill_slots (QmgrScheduler *s, gboolean foreground)
{
  guint max = s->manager->settings.max_concurrent_transfers;

  for (GList *l = s->queue.head; l != NULL; l = l->next)
    {
      QmgrGroup *g = l->data;
      GroupState *st = qmgr_sched_group_state (s, g);

      if (g->foreground != foreground || st->retry_timer != 0 || g->job == NULL ||
          g->state != QMGR_GROUP_STATE_QUEUED || network_wait (s, g) != QMGR_RUN_QUEUED)
        continue;
      while (st->cursor < g->job->files->len && file_of (g->job, st->cursor)->complete)
        st->cursor++;
      for (guint i = st->cursor; i < g->job->files->len; i++)
        {
          QmgrFile *f = file_of (g->job, i);
          if (f->complete || g_hash_table_contains (s->by_file, f))
            continue;
          if (s->n_transferring >= max && !(foreground && preempt_background (s)))
            return;
          start_file (s, g, i);
        }
    }
}

static void
schedule_now (gpointer user_data)
{
  QmgrScheduler *s = user_data;

  s->schedule_timer = 0;
  for (GList *l = s->queue.head; l != NULL; l = l->next)
    {
      QmgrGroup *g = l->data;
      QmgrRunState wait = network_wait (s, g);
      if (wait != QMGR_RUN_QUEUED)
        {
          /* Bytes stop at once; the temp files keep what arrived. */
          stop_group_items (s, g, FALSE, FALSE);
          qmgr_group_set_run_state (g, wait);
        }
    }
  fill_slots (s, TRUE);
  fill_slots (s, FALSE);
  for (GList *l = s->queue.head; l != NULL; l = l->next)
    {
      QmgrGroup *g = l->data;
      if (group_has_items (s, g) || network_wait (s, g) != QMGR_RUN_QUEUED)
        continue;
      /* Waiting for a slot, or for its retry (a wait for the network that
       * ended first said "offline" meanwhile). */
      qmgr_group_set_run_state (g, qmgr_sched_group_state (s, g)->retry_timer != 0
                                       ? QMGR_RUN_RETRYING
                                       : QMGR_RUN_QUEUED);
    }
}

/* Deferred: listeners run inside core calls. */
static void
schedule_soon (QmgrScheduler *s)
{
  if (s->schedule_timer == 0)
    s->schedule_timer = qmgr_clock_add_idle (s->clock, schedule_now, s);
}

/* ---- core events ---- */

static void
on_group_runnable (QmgrGroup *g, gpointer user_data)
{
  QmgrScheduler *s = user_data;
  GroupState *st = qmgr_sched_group_state (s, g);

  if (g_queue_find (&s->queue, g) == NULL)
    {
      g_queue_push_tail (&s->queue, g);
      st->turn = ++s->next_turn;
    }
  st->last_progress = last_progress_of (s, g);
  schedule_soon (s);
}

static void
on_group_stopped (QmgrGroup *g, gpointer user_data)
{
  QmgrScheduler *s = user_data;

  forget_group (s, g);
  schedule_soon (s);
}

/* A job of the same GUID may come back within the window: nothing of this
 * one is announced on it. */
static void
forget_completions (QmgrScheduler *s, QmgrGroup *g)
{
  for (guint i = s->completions->len; i-- > 0;)
    if (qmgr_guid_equal (g_array_index (s->completions, QmgrCompletion, i).group_id, g->id))
      g_array_remove_index (s->completions, i);
  /* Callbacks held for them: the job they name is going away. */
  for (guint i = 0; i < g->pending_notifications->len; i++)
    g_array_index (g->pending_notifications, QmgrPendingNotification, i).held = FALSE;
}

static void
on_group_removing (QmgrGroup *g, gpointer user_data)
{
  QmgrScheduler *s = user_data;

  forget_completions (s, g);
  stop_group_items (s, g, TRUE, FALSE);
  forget_group (s, g);
  schedule_soon (s);
}

static void
on_job_removing (QmgrJob *job, gpointer user_data)
{
  QmgrScheduler *s = user_data;

  /* Cancelled work leaves nothing behind; completed files stay. */
  forget_completions (s, job->group);
  stop_group_items (s, job->group, TRUE, TRUE);
  forget_group (s, job->group);
  for (guint i = 0; i < job->files->len; i++)
    if (!file_of (job, i)->complete)
      qmgr_backend_discard (s->backend, job->group->owner, file_of (job, i)->local_path,
                            job->id, i);
  schedule_soon (s);
}

static void
on_group_changed (QmgrGroup *g, QmgrGroupChange changes, gpointer user_data)
{
  QmgrScheduler *s = user_data;

  if (changes & QMGR_GROUP_CHANGED_STATUS)
    qmgr_sched_follow_foreground (s, g);
  if (changes & (QMGR_GROUP_CHANGED_STATUS | QMGR_GROUP_CHANGED_BANDWIDTH_LIMIT))
    qmgr_sched_repace (s);
  if (changes & (QMGR_GROUP_CHANGED_STATUS | QMGR_GROUP_CHANGED_FILES_TOTAL |
                 QMGR_GROUP_CHANGED_TRANSFER_POLICY))
    schedule_soon (s);
}

static void
on_manager_changed (QmgrManager *m, QmgrManagerChange changes, gpointer user_data)
{
  QmgrScheduler *s = user_data;

  if (changes & (QMGR_MANAGER_CHANGED_BANDWIDTH_LIMIT |
                 QMGR_MANAGER_CHANGED_METERED_BANDWIDTH_LIMIT |
                 QMGR_MANAGER_CHANGED_NETWORK_COST_STATE))
    qmgr_sched_repace (s);
  if (changes & (QMGR_MANAGER_CHANGED_MAX_CONCURRENT_TRANSFERS |
                 QMGR_MANAGER_CHANGED_NETWORK_COST_STATE | QMGR_MANAGER_CHANGED_ONLINE |
                 QMGR_MANAGER_CHANGED_CONNECTIVITY))
    schedule_soon (s);
}

static const QmgrManagerListener scheduler_listener = {
  .group_runnable = on_group_runnable,
  .group_stopped = on_group_stopped,
  .group_removing = on_group_removing,
  .job_removing = on_job_removing,
  .group_changed = on_group_changed,
  .manager_changed = on_manager_changed,
};

QmgrScheduler *
qmgr_scheduler_new (QmgrManager *manager, QmgrBackend *backend, QmgrClock *clock)
{
  QmgrScheduler *s = g_new0 (QmgrScheduler, 1);

  s->manager = manager;
  s->backend = backend;
  s->clock = clock;
  g_queue_init (&s->queue);
  s->states = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                     (GDestroyNotify) group_state_free);
  s->items = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  s->by_file = g_hash_table_new (g_direct_hash, g_direct_equal);
  s->completions = g_array_new (FALSE, FALSE, sizeof (QmgrCompletion));
  qmgr_token_bucket_init (&s->background_bucket, qmgr_sched_background_limit (s),
                          qmgr_sched_now (s));
  qmgr_backend_set_events (backend, &backend_events, s);
  qmgr_manager_add_listener (manager, &scheduler_listener, s);
  for (GList *l = manager->groups.head; l != NULL; l = l->next)
    if (((QmgrGroup *) l->data)->state == QMGR_GROUP_STATE_QUEUED)
      on_group_runnable (l->data, s);
  return s;
}

void
qmgr_scheduler_free (QmgrScheduler *s)
{
  GHashTableIter iter;
  gpointer value;

  if (s == NULL)
    return;
  qmgr_manager_remove_listener (s->manager, &scheduler_listener, s);
  qmgr_clock_clear (s->clock, &s->schedule_timer);
  /* Files not yet in place stay as complete temp files for the next start. */
  g_hash_table_iter_init (&iter, s->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Active *a = value;
      qmgr_clock_clear (s->clock, &a->grant_timer);
      qmgr_backend_stop (s->backend, a->id, FALSE);
    }
  g_hash_table_unref (s->items);
  g_hash_table_unref (s->by_file);
  qmgr_pacer_free (s->pacer);
  /* Not announced: the store is flushed on the way out, and the callbacks
   * they queued are delivered after the next start. */
  qmgr_clock_clear (s->clock, &s->announce_timer);
  g_array_unref (s->completions);
  g_hash_table_unref (s->states);
  g_queue_clear (&s->queue);
  qmgr_backend_set_events (s->backend, NULL, NULL);
  g_free (s);
}
