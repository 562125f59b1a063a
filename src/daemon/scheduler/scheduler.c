/* qmgrd scheduler — which file moves now, and what happens when it stops. */
#include "scheduler.h"

#include <errno.h>

#include "commit.h"
#include "qmgr-constants.h"
#include "qmgr-error.h"
#include "tempfile.h"
#include "token-bucket.h"

#define MAX_RESTARTS_IN_A_ROW 3
#define RETRY_DELAY_CAP_S 600

typedef struct {
  QmgrScheduler *scheduler;
  QmgrGroup *group;
  QmgrJob *job;
  guint index;
  QmgrTempFile *temp;
  QmgrTransfer *transfer;
  guint restarts;
  guint resume_source;      /* paced: when to go on */
  guint64 bytes_total;      /* once transferred, while it is made durable */
} Active;

typedef struct {
  QmgrScheduler *scheduler;
  QmgrGroup *group;
  guint retry_source;       /* waiting for a retry */
  gint64 last_progress;     /* monotonic µs */
  guint cursor;             /* files before it are complete */
  QmgrTokenBucket bucket;   /* the group's own BandwidthLimit */
} GroupState;

struct _QmgrScheduler {
  QmgrManager *manager;
  QmgrTransferEngine *engine;
  GQueue queue;             /* QmgrGroup*, runnable, in the order resumed */
  GHashTable *states;       /* QmgrGroup* → GroupState* */
  GHashTable *active;       /* QmgrFile* → Active*: transferring */
  GHashTable *committing;   /* QmgrFile* → Active*: transferred, being made durable */
  QmgrCommitQueue *commits;
  GArray *completions;      /* QmgrCompletion: recorded, not yet announced */
  guint announce_source;
  guint schedule_source;
  QmgrTokenBucket background_bucket;  /* the manager's BandwidthLimit */
};

static void schedule_soon (QmgrScheduler *s);

guint
qmgr_scheduler_retry_delay (guint32 minimum_s, guint32 n, double jitter)
{
  guint64 cap = MAX ((guint64) RETRY_DELAY_CAP_S, (guint64) minimum_s);
  guint64 delay = minimum_s;

  for (guint32 i = 1; i < n && delay < cap; i++)
    delay *= 2;
  delay = MIN (delay, cap);
  /* Up to a quarter more, so that many clients do not come back at once. */
  return (guint) (delay + (guint64) (delay * 0.25 * jitter));
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
    return g_get_monotonic_time ();
  return g_get_monotonic_time () - MAX (qmgr_manager_now (s->manager) - since, 0);
}

static GroupState *
group_state (QmgrScheduler *s, QmgrGroup *g)
{
  GroupState *st = g_hash_table_lookup (s->states, g);

  if (st == NULL)
    {
      st = g_new0 (GroupState, 1);
      st->scheduler = s;
      st->group = g;
      qmgr_token_bucket_init (&st->bucket, g->bandwidth_limit, g_get_monotonic_time ());
      st->last_progress = last_progress_of (s, g);
      g_hash_table_insert (s->states, g, st);
    }
  return st;
}

static void
group_state_free (GroupState *st)
{
  if (st->retry_source != 0)
    g_source_remove (st->retry_source);
  g_free (st);
}

static void
active_free (Active *a)
{
  if (a->resume_source != 0)
    g_source_remove (a->resume_source);
  qmgr_transfer_cancel (a->transfer);
  qmgr_temp_file_free (a->temp);
  g_free (a);
}

static QmgrFile *
file_of (QmgrJob *job, guint index)
{
  return g_ptr_array_index (job->files, index);
}

/* Stops the group's transfers; their temp files stay for a resume. */
static void
stop_group_transfers (QmgrScheduler *s, QmgrGroup *g)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, s->active);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Active *) value)->group == g)
      g_hash_table_iter_remove (&iter);
}

/* Files of a group (or job) going away are not put in place. */
static void
cancel_commits (QmgrScheduler *s, QmgrGroup *g)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, s->committing);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Active *) value)->group == g)
      {
        qmgr_commit_queue_cancel (s->commits, value);
        g_hash_table_iter_remove (&iter);
      }
}

static void
forget_group (QmgrScheduler *s, QmgrGroup *g)
{
  stop_group_transfers (s, g);
  g_queue_remove (&s->queue, g);
  g_hash_table_remove (s->states, g);
}

static void
remove_temp_files (QmgrJob *job)
{
  char hex[QMGR_GUID_HEX_LEN + 1];

  qmgr_guid_to_hex (job->id, hex);
  for (guint i = 0; i < job->files->len; i++)
    if (!file_of (job, i)->complete)
      qmgr_temp_file_remove (file_of (job, i)->local_path, hex, i);
}

/* ---- outcomes ---- */

static gboolean
on_response (QmgrTransfer *t, guint64 bytes_total, const char *validator, gboolean restarted,
             gpointer user_data)
{
  Active *a = user_data;
  g_autoptr(GError) error = NULL;

  if (restarted)
    qmgr_job_file_restart (a->job, a->index);
  if (!qmgr_job_file_response (a->job, a->index, bytes_total, validator, &error))
    {
      g_warning ("Could not record the validator of %s: %s",
                 file_of (a->job, a->index)->local_path, error->message);
      return FALSE;
    }
  return TRUE;
}

static void
on_progress (QmgrTransfer *t, guint64 bytes_in_file, gpointer user_data)
{
  Active *a = user_data;

  group_state (a->scheduler, a->group)->last_progress = g_get_monotonic_time ();
  qmgr_job_file_progress (a->job, a->index, bytes_in_file);
  qmgr_group_made_progress (a->group);
}

static gboolean
on_pace_due (gpointer user_data)
{
  Active *a = user_data;

  a->resume_source = 0;
  qmgr_transfer_resume (a->transfer);
  return G_SOURCE_REMOVE;
}

/* Foreground groups obey only their own limit; background ones the global too. */
static gboolean
may_write (QmgrTransfer *t, gsize bytes, gpointer user_data)
{
  Active *a = user_data;
  QmgrScheduler *s = a->scheduler;
  QmgrTokenBucket *own = &group_state (s, a->group)->bucket;
  QmgrTokenBucket *global = a->group->foreground ? NULL : &s->background_bucket;
  gint64 now = g_get_monotonic_time ();
  gint64 wait;

  if (own->rate != a->group->bandwidth_limit)
    qmgr_token_bucket_set_rate (own, a->group->bandwidth_limit, now);
  if (global != NULL && global->rate != s->manager->settings.bandwidth_limit)
    qmgr_token_bucket_set_rate (global, s->manager->settings.bandwidth_limit, now);

  wait = MAX (qmgr_token_bucket_wait (own, now), global ? qmgr_token_bucket_wait (global, now) : 0);
  if (wait > 0)
    {
      if (a->resume_source == 0)
        a->resume_source = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) MAX (1, wait / 1000),
                                               on_pace_due, a, NULL);
      return FALSE;
    }
  qmgr_token_bucket_take (own, bytes, now);
  if (global != NULL)
    qmgr_token_bucket_take (global, bytes, now);
  return TRUE;
}

static gboolean
on_retry_due (gpointer user_data)
{
  GroupState *st = user_data;

  st->retry_source = 0;
  qmgr_group_set_run_state (st->group, QMGR_RUN_QUEUED);
  schedule_soon (st->scheduler);
  return G_SOURCE_REMOVE;
}

static void
transient_failure (QmgrScheduler *s, Active *a, const QmgrTransferResult *r)
{
  QmgrGroup *g = a->group;
  GroupState *st = group_state (s, g);
  g_autoptr(GError) error = NULL;
  gint64 idle_us = g_get_monotonic_time () - st->last_progress;
  gint64 idle_s = idle_us / G_USEC_PER_SEC;
  guint delay;

  if (idle_s >= (gint64) g->no_progress_timeout)
    {
      g_autofree char *message = g_strdup_printf (
          "No progress for %" G_GINT64_FORMAT " s (NoProgressTimeout); last error: %s",
          idle_s, r->message);
      if (!qmgr_job_file_fatal_error (a->job, a->index, QMGR_TRANSFER_ERROR_PREFIX "NoProgress",
                                      message, r->win32_result, r->http_status, &error))
        g_warning ("Could not record an error: %s", error->message);
      return;
    }
  /* The whole group waits, as a BITS job in its transient-error state does. */
  stop_group_transfers (s, g);
  if (!qmgr_job_file_transient_error (a->job, a->index, r->error_name, r->message,
                                      r->win32_result, r->http_status,
                                      qmgr_manager_now (s->manager) - idle_us, &error))
    g_warning ("Could not record an error: %s", error->message);
  delay = qmgr_scheduler_retry_delay (g->minimum_retry_delay, MAX (a->job->num_retries, 1u),
                                      g_random_double ());
  delay = MAX (delay, r->retry_after);
  g_debug ("Group %s: %s; retrying in %u s", g->id_str, r->message, delay);
  if (st->retry_source != 0)
    g_source_remove (st->retry_source);
  /* Not g_timeout_add_seconds: it may fire early, and Retry-After is a floor. */
  st->retry_source = g_timeout_add_full (G_PRIORITY_DEFAULT, delay * 1000, on_retry_due, st, NULL);
}

static void start_file (QmgrScheduler *s, QmgrGroup *g, guint index, guint restarts);

/* The temp file could not be completed: a full disk is waited out, anything
 * else is the file's fatal error. */
static void
local_file_failure (QmgrScheduler *s, Active *a, const GError *cause)
{
  g_autoptr(GError) error = NULL;
  int err = qmgr_temp_file_error_errno (cause);
  QmgrTransferResult r = {
    .outcome = QMGR_TRANSFER_TRANSIENT,
    .error_name = QMGR_TRANSFER_ERROR_PREFIX "LocalFile",
    .message = cause->message,
    .win32_result = (guint32) err,
  };

  if (err == ENOSPC || err == EDQUOT)
    transient_failure (s, a, &r);
  else if (!qmgr_job_file_fatal_error (a->job, a->index, r.error_name, r.message, r.win32_result,
                                       0, &error))
    g_warning ("Could not record an error: %s", error->message);
}

static void
on_committed (gpointer data, const GError *commit_error, gpointer user_data)
{
  Active *a = data;
  QmgrScheduler *s = user_data;
  g_autoptr(GError) error = NULL;

  g_hash_table_steal (s->committing, file_of (a->job, a->index));
  if (commit_error == NULL)
    {
      QmgrCompletion c;

      if (qmgr_job_record_completion (a->job, a->index, a->bytes_total, &c, &error))
        g_array_append_val (s->completions, c);
      else
        g_warning ("Could not record a completed file: %s", error->message);
    }
  else if (a->group->state == QMGR_GROUP_STATE_QUEUED)
    local_file_failure (s, a, commit_error);
  /* else suspended meanwhile: the temp file stays and is finished on resume. */
  active_free (a);
  schedule_soon (s);
}

/* Completed files are made durable together, then announced: at once when
 * one of them completes its group, else within ANNOUNCE_WITHIN_MS, so that a
 * job of many small files costs a store sync (and a copy of the whole group
 * in the journal) per ANNOUNCE_WITHIN_MS rather than one per commit batch. */
#define ANNOUNCE_WITHIN_MS 100

static gboolean
announce_completions (gpointer user_data)
{
  QmgrScheduler *s = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) completions = g_steal_pointer (&s->completions);

  if (s->announce_source != 0)
    {
      g_source_remove (s->announce_source);
      s->announce_source = 0;
    }
  s->completions = g_array_new (FALSE, FALSE, sizeof (QmgrCompletion));
  /* Announced even if not durable: the model says so already, and a later
   * read answers the same; the store tries again. */
  if (!qmgr_manager_sync_store (s->manager, &error))
    g_warning ("Completed files could not be recorded durably: %s", error->message);
  for (guint i = 0; i < completions->len; i++)
    qmgr_job_announce_completion (s->manager, &g_array_index (completions, QmgrCompletion, i));
  return G_SOURCE_REMOVE;
}

static void
on_commit_batch_end (gpointer user_data)
{
  QmgrScheduler *s = user_data;

  for (guint i = 0; i < s->completions->len; i++)
    if (g_array_index (s->completions, QmgrCompletion, i).all_done)
      {
        announce_completions (s);
        return;
      }
  if (s->completions->len > 0 && s->announce_source == 0)
    s->announce_source = g_timeout_add (ANNOUNCE_WITHIN_MS, announce_completions, s);
}

static void
on_done (QmgrTransfer *t, const QmgrTransferResult *r, gpointer user_data)
{
  Active *a = user_data;
  QmgrScheduler *s = a->scheduler;
  QmgrFile *file = file_of (a->job, a->index);
  g_autoptr(GError) error = NULL;

  /* The engine frees the transfer after this: forget it, keep the temp file. */
  a->transfer = NULL;
  g_hash_table_steal (s->active, file);

  switch (r->outcome)
    {
    case QMGR_TRANSFER_OK:
      /* Made durable and put in place with the others that finish meanwhile;
       * the slot is free now. */
      a->bytes_total = r->bytes_total;
      qmgr_commit_queue_add (s->commits, g_steal_pointer (&a->temp), r->last_modified, a);
      g_hash_table_insert (s->committing, file, a);
      schedule_soon (s);
      return;

    case QMGR_TRANSFER_RESTART:
      if (a->restarts < MAX_RESTARTS_IN_A_ROW && qmgr_temp_file_truncate (a->temp, NULL))
        {
          QmgrGroup *g = a->group;
          guint index = a->index, restarts = a->restarts + 1;
          qmgr_job_file_restart (a->job, a->index);
          active_free (a);
          start_file (s, g, index, restarts);
          return;
        }
      transient_failure (s, a, r);
      break;

    case QMGR_TRANSFER_TRANSIENT:
      transient_failure (s, a, r);
      break;

    case QMGR_TRANSFER_FATAL:
    default:
      if (!qmgr_job_file_fatal_error (a->job, a->index, r->error_name, r->message,
                                      r->win32_result, r->http_status, &error))
        g_warning ("Could not record an error: %s", error->message);
      break;
    }
  active_free (a);
  schedule_soon (s);
}

static const QmgrTransferCallbacks transfer_callbacks = {
  .response = on_response,
  .progress = on_progress,
  .may_write = may_write,
  .done = on_done,
};

static void
start_file (QmgrScheduler *s, QmgrGroup *g, guint index, guint restarts)
{
  QmgrJob *job = g->job;
  QmgrFile *file = file_of (job, index);
  g_autoptr(GError) error = NULL;
  char hex[QMGR_GUID_HEX_LEN + 1];
  QmgrTransferRequest req = { 0 };
  Active *a;

  qmgr_guid_to_hex (job->id, hex);
  a = g_new0 (Active, 1);
  a->scheduler = s;
  a->group = g;
  a->job = job;
  a->index = index;
  a->restarts = restarts;
  a->temp = qmgr_temp_file_open (file->local_path, hex, index, &error);
  if (a->temp == NULL)
    {
      int err = qmgr_temp_file_error_errno (error);
      QmgrTransferResult r = {
        .outcome = QMGR_TRANSFER_TRANSIENT,
        .error_name = QMGR_TRANSFER_ERROR_PREFIX "LocalFile",
        .message = error->message,
        .win32_result = (guint32) err,
      };
      if (err == ENOSPC || err == EDQUOT || err == EMFILE || err == ENFILE)
        transient_failure (s, a, &r);
      else if (!qmgr_job_file_fatal_error (job, index, r.error_name, r.message, r.win32_result, 0,
                                           &error))
        g_warning ("Could not record an error: %s", error->message);
      g_free (a);
      return;
    }

  req.url = file->remote_url;
  req.fd = a->temp->fd;
  req.offset = a->temp->size;
  req.validator = file->validator;
  req.user = g->remote_user_id;
  req.password = g->remote_user_password;
  /* A stall is noticed in time for a short NoProgressTimeout too. */
  req.stall_timeout = CLAMP (g->no_progress_timeout, 1u, 60u);
  g_hash_table_insert (s->active, file, a);
  qmgr_job_file_progress (job, index, file->validator != NULL ? a->temp->size : 0);
  qmgr_job_set_current_file (job, index);
  qmgr_group_set_run_state (g, QMGR_RUN_TRANSFERRING);
  a->transfer = qmgr_transfer_start (s->engine, &req, &transfer_callbacks, a);
}

/* ---- choosing ---- */

static gboolean
group_has_transfers (QmgrScheduler *s, QmgrGroup *g)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, s->active);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Active *) value)->group == g)
      return TRUE;
  g_hash_table_iter_init (&iter, s->committing);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Active *) value)->group == g)
      return TRUE;
  return FALSE;
}

/* Foreground work pauses background work rather than wait for a slot; the
 * paused file resumes later from its temp file. */
static gboolean
preempt_background (QmgrScheduler *s)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, s->active);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      QmgrGroup *g = ((Active *) value)->group;
      if (g->foreground)
        continue;
      g_hash_table_iter_remove (&iter);
      if (!group_has_transfers (s, g))
        qmgr_group_set_run_state (g, QMGR_RUN_QUEUED);
      return TRUE;
    }
  return FALSE;
}

/* Why a queued group may not move now, or QMGR_RUN_QUEUED when it may. Waiting
 * for the network or for a cheaper one is not an error and counts no retry. */
static QmgrRunState
network_wait (QmgrScheduler *s, QmgrGroup *g)
{
  QmgrManager *m = s->manager;

  if (!m->online)
    return QMGR_RUN_OFFLINE;
  if ((qmgr_group_get_effective_transfer_policy (g) & m->network_cost_state) == 0)
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
      GroupState *st = group_state (s, g);

      if (g->foreground != foreground || st->retry_source != 0 || g->job == NULL ||
          g->state != QMGR_GROUP_STATE_QUEUED || network_wait (s, g) != QMGR_RUN_QUEUED)
        continue;
      while (st->cursor < g->job->files->len && file_of (g->job, st->cursor)->complete)
        st->cursor++;
      for (guint i = st->cursor; i < g->job->files->len; i++)
        {
          QmgrFile *f = file_of (g->job, i);
          if (f->complete || g_hash_table_contains (s->active, f) ||
              g_hash_table_contains (s->committing, f))
            continue;
          if (g_hash_table_size (s->active) >= max &&
              !(foreground && preempt_background (s)))
            return;
          start_file (s, g, i, 0);
          if (g->state != QMGR_GROUP_STATE_QUEUED || st->retry_source != 0)
            break;  /* starting failed and stopped the group */
        }
    }
}

static gboolean
schedule_now (gpointer user_data)
{
  QmgrScheduler *s = user_data;

  s->schedule_source = 0;
  for (GList *l = s->queue.head; l != NULL; l = l->next)
    {
      QmgrGroup *g = l->data;
      QmgrRunState wait = network_wait (s, g);
      if (wait != QMGR_RUN_QUEUED)
        {
          /* Bytes stop at once; the temp files keep what arrived. */
          stop_group_transfers (s, g);
          qmgr_group_set_run_state (g, wait);
        }
    }
  fill_slots (s, TRUE);
  fill_slots (s, FALSE);
  for (GList *l = s->queue.head; l != NULL; l = l->next)
    {
      QmgrGroup *g = l->data;
      if (group_state (s, g)->retry_source == 0 && !group_has_transfers (s, g) &&
          network_wait (s, g) == QMGR_RUN_QUEUED)
        qmgr_group_set_run_state (g, QMGR_RUN_QUEUED);   /* waiting for a slot */
    }
  return G_SOURCE_REMOVE;
}

/* Deferred: listeners run inside core calls (and transfer callbacks). */
static void
schedule_soon (QmgrScheduler *s)
{
  if (s->schedule_source == 0)
    s->schedule_source = g_idle_add (schedule_now, s);
}

/* ---- core events ---- */

static void
on_group_runnable (QmgrGroup *g, gpointer user_data)
{
  QmgrScheduler *s = user_data;

  if (g_queue_find (&s->queue, g) == NULL)
    g_queue_push_tail (&s->queue, g);
  group_state (s, g)->last_progress = last_progress_of (s, g);
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
  forget_group (s, g);
  cancel_commits (s, g);
  schedule_soon (s);
}

static void
on_job_removing (QmgrJob *job, gpointer user_data)
{
  QmgrScheduler *s = user_data;

  /* Cancelled work leaves nothing behind; completed files stay. */
  forget_completions (s, job->group);
  forget_group (s, job->group);
  cancel_commits (s, job->group);
  remove_temp_files (job);
  schedule_soon (s);
}

static void
on_group_changed (QmgrGroup *g, QmgrGroupChange changes, gpointer user_data)
{
  if (changes & (QMGR_GROUP_CHANGED_STATUS | QMGR_GROUP_CHANGED_FILES_TOTAL |
                 QMGR_GROUP_CHANGED_TRANSFER_POLICY))
    schedule_soon (user_data);
}

static void
on_manager_changed (QmgrManager *m, QmgrManagerChange changes, gpointer user_data)
{
  if (changes & (QMGR_MANAGER_CHANGED_MAX_CONCURRENT_TRANSFERS |
                 QMGR_MANAGER_CHANGED_NETWORK_COST_STATE | QMGR_MANAGER_CHANGED_ONLINE))
    schedule_soon (user_data);
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
qmgr_scheduler_new (QmgrManager *manager, QmgrTransferEngine *engine)
{
  QmgrScheduler *s = g_new0 (QmgrScheduler, 1);

  s->manager = manager;
  s->engine = engine;
  g_queue_init (&s->queue);
  s->states = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                     (GDestroyNotify) group_state_free);
  s->active = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                     (GDestroyNotify) active_free);
  s->committing = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                         (GDestroyNotify) active_free);
  s->commits = qmgr_commit_queue_new (on_committed, s);
  qmgr_commit_queue_set_batch_hooks (s->commits, NULL, on_commit_batch_end);
  s->completions = g_array_new (FALSE, FALSE, sizeof (QmgrCompletion));
  qmgr_token_bucket_init (&s->background_bucket, manager->settings.bandwidth_limit,
                          g_get_monotonic_time ());
  qmgr_manager_add_listener (manager, &scheduler_listener, s);
  for (GList *l = manager->groups.head; l != NULL; l = l->next)
    if (((QmgrGroup *) l->data)->state == QMGR_GROUP_STATE_QUEUED)
      on_group_runnable (l->data, s);
  return s;
}

void
qmgr_scheduler_free (QmgrScheduler *s)
{
  if (s == NULL)
    return;
  qmgr_manager_remove_listener (s->manager, &scheduler_listener, s);
  if (s->schedule_source != 0)
    g_source_remove (s->schedule_source);
  g_hash_table_unref (s->active);
  /* Files not yet in place stay as complete temp files for the next start. */
  qmgr_commit_queue_free (s->commits);
  g_hash_table_unref (s->committing);
  /* Not announced: the store is flushed on the way out, and the callbacks
   * they queued are delivered after the next start. */
  if (s->announce_source != 0)
    g_source_remove (s->announce_source);
  g_array_unref (s->completions);
  g_hash_table_unref (s->states);
  g_queue_clear (&s->queue);
  g_free (s);
}
