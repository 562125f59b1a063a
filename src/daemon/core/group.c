/* qmgrd core — a Group: the QMGR state machine, progress, its job, callbacks
 * owed, ownership. Every change is validated first, then made in one
 * transaction (txn.c). Properties are in group-props.c. */
#include "core-private.h"

#include <string.h>

#include "qmgr-constants.h"
#include "qmgr-log.h"
#include "validate.h"

QmgrGroup *
qmgr_group_new (QmgrManager *manager, QmgrGuid id, uid_t owner)
{
  QmgrGroup *g = g_new0 (QmgrGroup, 1);

  g->manager = manager;
  g->id = id;
  qmgr_guid_to_string (id, g->id_str);
  g->owner = owner;
  g->state = QMGR_GROUP_STATE_SUSPENDED;
  g->run_state = QMGR_RUN_QUEUED;
  g->display_name = g_strdup ("");
  g->description = g_strdup ("");
  g->remote_user_id = g_strdup ("");
  g->remote_user_password = g_strdup ("");
  g->notify_clsid = g_strdup ("");
  g->pending_notifications = g_array_new (FALSE, FALSE, sizeof (QmgrPendingNotification));
  g->minimum_retry_delay = QMGR_DEFAULT_MINIMUM_RETRY_DELAY;
  g->no_progress_timeout = QMGR_DEFAULT_NO_PROGRESS_TIMEOUT;
  return g;
}

void
qmgr_group_free (QmgrGroup *g)
{
  if (g == NULL)
    return;
  qmgr_job_free (g->job);
  g_free (g->display_name);
  g_free (g->description);
  g_free (g->remote_user_id);
  if (g->remote_user_password != NULL)
    explicit_bzero (g->remote_user_password, strlen (g->remote_user_password));
  g_free (g->remote_user_password);
  g_free (g->notify_clsid);
  g_array_unref (g->pending_notifications);
  g_free (g);
}

gboolean
qmgr_group_has_callback_target (QmgrGroup *g)
{
  return g->live_callback || g->notify_clsid[0] != '\0';
}

void
qmgr_group_set_live_callback (QmgrGroup *g, gboolean registered)
{
  g->live_callback = registered;
}

/* Whether NOTIFYFLAGS ask for a callback for @event (fatal errors always). */
static gboolean
wants_callback (QmgrGroup *g, QmgrStatusEvent event)
{
  if (g->notify_flags & QMGR_NOTIFY_DISABLE_NOTIFY)
    return FALSE;
  switch (event)
    {
    case QMGR_STATUS_EVENT_FILE_DONE:
      return (g->notify_flags & QMGR_NOTIFY_FILE_DONE) != 0;
    case QMGR_STATUS_EVENT_JOB_DONE:
      return (g->notify_flags & QMGR_NOTIFY_JOB_DONE) != 0;
    case QMGR_STATUS_EVENT_GROUP_DONE:
      return (g->notify_flags & QMGR_NOTIFY_GROUP_DONE) != 0;
    case QMGR_STATUS_EVENT_FATAL_ERROR:
    default:
      return TRUE;
    }
}

/* What queueing changed in one transaction, to put back if it is not saved:
 * how many were appended, and those dropped to make room (in order). */
typedef struct {
  guint appended;
  GArray *dropped;            /* DroppedNotification */
} QueueUndo;

typedef struct {
  guint index;
  QmgrPendingNotification notification;
} DroppedNotification;

static void
queue_undo_free (QueueUndo *u)
{
  g_clear_pointer (&u->dropped, g_array_unref);
  g_free (u);
}

static void
undo_queue (QmgrGroup *g, gpointer data)
{
  QueueUndo *u = data;
  GArray *pending = g->pending_notifications;

  g_array_set_size (pending, pending->len - u->appended);
  for (guint i = u->dropped != NULL ? u->dropped->len : 0; i-- > 0;)
    {
      DroppedNotification *d = &g_array_index (u->dropped, DroppedNotification, i);
      g_array_insert_val (pending, d->index, d->notification);
    }
  queue_undo_free (u);
}

static void
keep_queue (QmgrGroup *g, gpointer data)
{
  QueueUndo *u = data;
  static const guint LOG_EVERY = 1000;

  for (guint i = 0; u->dropped != NULL && i < u->dropped->len; i++)
    if (g->dropped_notifications++ % LOG_EVERY == 0)
      qmgr_log (G_LOG_LEVEL_MESSAGE, g->id_str, NULL,
                "Group %s owes more than %u callbacks: the oldest ones for single files "
                "are dropped (%u so far)", g->id_str, QMGR_PENDING_NOTIFICATIONS_MAX,
                g->dropped_notifications);
  queue_undo_free (u);
}

/* Makes room for one more callback: the oldest FILE_DONE goes (the target has
 * been unreachable for QMGR_PENDING_NOTIFICATIONS_MAX of them; the job's and
 * group's own events and errors matter more), else the oldest of all. */
static void
make_room (QueueUndo *u, GArray *pending)
{
  DroppedNotification d = { 0 };

  for (guint i = 0; i < pending->len; i++)
    {
      QmgrPendingNotification *n = &g_array_index (pending, QmgrPendingNotification, i);
      if (n->file_index != QMGR_FILE_INDEX_NONE && !(n->status & QMGR_STATUS_GROUP_ERROR))
        {
          d.index = i;
          break;
        }
    }
  d.notification = g_array_index (pending, QmgrPendingNotification, d.index);
  g_array_remove_index (pending, d.index);
  if (u->dropped == NULL)
    u->dropped = g_array_new (FALSE, FALSE, sizeof (DroppedNotification));
  g_array_append_val (u->dropped, d);
}

void
qmgr_group_queue_notification (QmgrTxn *txn, QmgrStatusEvent event, guint32 file_index)
{
  QmgrGroup *g = txn->group;
  QmgrPendingNotification n = { 0 };
  gboolean error = event == QMGR_STATUS_EVENT_FATAL_ERROR;

  if (g->job == NULL || !wants_callback (g, event) || !qmgr_group_has_callback_target (g))
    return;
  n.file_index = file_index;
  n.status = qmgr_group_get_status (g);
  n.num_retries = error ? g->job->num_retries : 0;
  n.win32_result = error ? g->job->win32_result : 0;
  n.transport_result = error ? g->job->transport_result : 0;
  n.created = qmgr_manager_now (g->manager);
  if (txn->queue_undo == NULL)
    {
      txn->queue_undo = g_new0 (QueueUndo, 1);
      qmgr_txn_on_failure (txn, undo_queue, txn->queue_undo);
      qmgr_txn_on_success (txn, keep_queue, txn->queue_undo);
    }
  if (g->pending_notifications->len >= QMGR_PENDING_NOTIFICATIONS_MAX)
    make_room (txn->queue_undo, g->pending_notifications);
  g_array_append_val (g->pending_notifications, n);
  ((QueueUndo *) txn->queue_undo)->appended++;
}

void
qmgr_group_hold_queued (QmgrTxn *txn)
{
  GArray *pending = txn->group->pending_notifications;
  QueueUndo *u = txn->queue_undo;

  for (guint i = pending->len - (u != NULL ? u->appended : 0); i < pending->len; i++)
    g_array_index (pending, QmgrPendingNotification, i).held = TRUE;
}

void
qmgr_group_made_progress (QmgrGroup *g)
{
  g_autoptr(GError) error = NULL;
  QmgrTxn txn;

  if (g->retrying_since == 0)
    return;
  qmgr_txn_begin (&txn, g);
  qmgr_txn_set (&txn, &g->retrying_since, 0);
  if (!qmgr_txn_commit (&txn, QMGR_SAVE_SOON, &error))
    qmgr_log (G_LOG_LEVEL_WARNING, g->id_str, NULL, "Could not save group %s: %s", g->id_str,
              error->message);
}

static void
restore_first_notification (QmgrGroup *g, gpointer data)
{
  QmgrPendingNotification *first = data;
  g_array_prepend_val (g->pending_notifications, *first);
}

gboolean
qmgr_group_notification_done (QmgrGroup *g, GError **error)
{
  QmgrPendingNotification first;
  QmgrTxn txn;

  if (g->pending_notifications->len == 0)
    return TRUE;
  first = g_array_index (g->pending_notifications, QmgrPendingNotification, 0);
  qmgr_txn_begin (&txn, g);
  g_array_remove_index (g->pending_notifications, 0);
  qmgr_txn_on_failure (&txn, restore_first_notification, &first);
  return qmgr_txn_commit (&txn, QMGR_SAVE_SOON, error);
}

static const char *const state_names[] = {
  [QMGR_GROUP_STATE_SUSPENDED] = "suspended",
  [QMGR_GROUP_STATE_QUEUED] = "queued",
  [QMGR_GROUP_STATE_ERROR] = "error",
  [QMGR_GROUP_STATE_COMPLETE] = "complete",
};

const char *
qmgr_group_state_to_string (QmgrGroupState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_names), "suspended");
  return state_names[state];
}

gboolean
qmgr_group_state_from_string (const char *text, QmgrGroupState *state)
{
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (g_strcmp0 (text, state_names[i]) == 0)
      {
        *state = (QmgrGroupState) i;
        return TRUE;
      }
  return FALSE;
}

/* ---- derived values (status bits and WaitReason: status.c) ---- */

guint64
qmgr_group_get_size (QmgrGroup *g)
{
  if (g->job == NULL || g->job->n_size_unknown > 0)
    return 0;
  return qmgr_job_get_bytes_total (g->job);
}

guint64
qmgr_group_get_bytes_total (QmgrGroup *g)
{
  return g->job ? qmgr_job_get_bytes_total (g->job) : 0;
}

guint64
qmgr_group_get_bytes_transferred (QmgrGroup *g)
{
  return g->job ? qmgr_job_get_bytes_transferred (g->job) : 0;
}

guint32
qmgr_group_get_files_total (QmgrGroup *g)
{
  return g->job ? g->job->files->len : 0;
}

guint32
qmgr_group_get_files_transferred (QmgrGroup *g)
{
  return g->job ? g->job->n_complete : 0;
}

guint64
qmgr_group_get_string_bytes (QmgrGroup *g)
{
  return strlen (g->display_name) + strlen (g->description) + strlen (g->notify_clsid) +
         strlen (g->remote_user_id) + strlen (g->remote_user_password);
}

gboolean
qmgr_group_get_progress (QmgrGroup *g, guint32 flags, guint32 *progress, GError **error)
{
  if (g->job == NULL)
    {
      /* Same argument checks as with a job, then nothing has moved. */
      if (flags == QMGR_PROGRESS_PERCENT_DONE || flags == QMGR_PROGRESS_SIZE_DONE)
        {
          *progress = 0;
          return TRUE;
        }
    }
  else
    return qmgr_job_get_progress (g->job, flags, progress, error);

  if (flags == QMGR_PROGRESS_TIME_DONE)
    g_set_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED,
                 "Progress type TIME_DONE (2) is not supported");
  else
    g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                 "Progress type %u is not one of PERCENT_DONE (1) or SIZE_DONE (3)", flags);
  return FALSE;
}

/* ---- state machine ---- */

/* A new state (a new one resets the scheduler's view: it reports afresh). */
static void
set_state (QmgrTxn *txn, QmgrGroupState state)
{
  QmgrGroup *g = txn->group;

  if (g->state == state)
    return;
  qmgr_txn_set (txn, &g->state, state);
  qmgr_txn_set (txn, &g->run_state, QMGR_RUN_QUEUED);
}

static gboolean
invalid_state (QmgrGroup *g, GError **error, const char *why)
{
  g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE, "Group %s %s", g->id_str, why);
  return FALSE;
}

gboolean
qmgr_group_suspend (QmgrGroup *g, GError **error)
{
  QmgrTxn txn;

  if (g->state == QMGR_GROUP_STATE_COMPLETE)
    return invalid_state (g, error, "is complete and cannot be suspended");
  if (g->state != QMGR_GROUP_STATE_QUEUED)
    return TRUE;  /* suspended already (an error state is suspended too) */
  qmgr_txn_begin (&txn, g);
  set_state (&txn, QMGR_GROUP_STATE_SUSPENDED);
  qmgr_txn_touch (&txn);
  return qmgr_txn_commit (&txn, QMGR_SAVE_NOW, error);
}

gboolean
qmgr_group_resume (QmgrGroup *g, GError **error)
{
  QmgrTxn txn;

  if (g->state == QMGR_GROUP_STATE_COMPLETE)
    return invalid_state (g, error, "is complete");
  if (g->job == NULL)
    return invalid_state (g, error, "has no job");
  if (g->job->files->len == 0)
    return invalid_state (g, error, "has no files to transfer");
  if (g->state == QMGR_GROUP_STATE_QUEUED)
    return TRUE;

  qmgr_txn_begin (&txn, g);
  /* A client's resume gives NoProgressTimeout a fresh start. */
  qmgr_txn_set (&txn, &g->retrying_since, 0);
  if (g->state == QMGR_GROUP_STATE_ERROR)
    {
      /* Resuming clears the error and retries at once. */
      QmgrJob *job = g->job;

      qmgr_txn_set (&txn, &job->error, QMGR_TRANSFER_ERROR_NONE);
      qmgr_txn_set_string (&txn, &job->error_message, NULL, FALSE);
      qmgr_txn_set (&txn, &job->num_retries, 0);
      qmgr_txn_set (&txn, &job->win32_result, 0);
      qmgr_txn_set (&txn, &job->transport_result, 0);
      qmgr_txn_changed (&txn, 0, QMGR_JOB_CHANGED_LAST_ERROR);
    }
  set_state (&txn, QMGR_GROUP_STATE_QUEUED);
  qmgr_txn_touch (&txn);
  return qmgr_txn_commit (&txn, QMGR_SAVE_NOW, error);
}

gboolean
qmgr_group_cancel (QmgrGroup *g, GError **error)
{
  if (!qmgr_manager_delete_group_from_store (g->manager, g, error))
    return FALSE;
  qmgr_manager_remove_group (g->manager, g);
  return TRUE;
}

gboolean
qmgr_group_switch_to_foreground (QmgrGroup *g, GError **error)
{
  QmgrTxn txn;

  if (g->foreground)
    return TRUE;
  qmgr_txn_begin (&txn, g);
  qmgr_txn_set (&txn, &g->foreground, TRUE);
  qmgr_txn_touch (&txn);
  return qmgr_txn_commit (&txn, QMGR_SAVE_NOW, error);
}

static void
forget_new_job (QmgrGroup *g, gpointer job)
{
  qmgr_job_free (job);
}

static void
announce_new_job (QmgrGroup *g, gpointer job)
{
  qmgr_manager_index_job (g->manager, job);
  qmgr_manager_emit_job_added (g->manager, job);
}

QmgrJob *
qmgr_group_create_job (QmgrGroup *g, const char *job_id, GError **error)
{
  QmgrGuid id;
  QmgrJob *job;
  QmgrTxn txn;

  if (!qmgr_manager_claim_guid (g->manager, job_id, &id, error))
    return NULL;
  if (g->job != NULL)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED,
                   "Group %s already has a job (one job per group)", g->id_str);
      return NULL;
    }
  if (!(qmgr_group_get_status (g) & QMGR_STATUS_GROUP_SUSPENDED))
    {
      invalid_state (g, error, "must be suspended to create a job");
      return NULL;
    }

  job = qmgr_job_new (g, id);
  qmgr_txn_begin (&txn, g);
  txn.delta.job_replaced = TRUE;
  qmgr_txn_set (&txn, &g->job, job);
  qmgr_txn_on_failure (&txn, forget_new_job, job);
  qmgr_txn_on_success (&txn, announce_new_job, job);
  qmgr_txn_touch (&txn);
  if (!qmgr_txn_commit (&txn, QMGR_SAVE_NOW, error))
    return NULL;
  return job;
}

QmgrJob *
qmgr_group_get_job (QmgrGroup *g, const char *job_id, GError **error)
{
  QmgrGuid id;

  if (!qmgr_guid_parse (job_id, &id, error))
    return NULL;
  if (g->job == NULL || !qmgr_guid_equal (g->job->id, id))
    {
      char s[QMGR_GUID_STRING_LEN + 1];
      qmgr_guid_to_string (id, s);
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND,
                   "Group %s has no job %s", g->id_str, s);
      return NULL;
    }
  return g->job;
}

char **
qmgr_group_enum_jobs (QmgrGroup *g, guint32 flags, GError **error)
{
  char **ids;

  if (flags != 0)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED,
                   "EnumJobs flags 0x%x are not supported (use 0)", flags);
      return NULL;
    }
  ids = g_new0 (char *, 2);
  if (g->job != NULL)
    ids[0] = g_strdup (g->job->id_str);
  return ids;
}

QmgrJob *
qmgr_group_query_job (QmgrGroup *g, GError **error)
{
  if (g->job == NULL)
    g_set_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND, "Group %s has no job",
                 g->id_str);
  return g->job;
}

static void
move_ownership (QmgrGroup *g, gpointer old_owner)
{
  g->live_callback = FALSE;
  qmgr_manager_change_owner (g->manager, g, (uid_t) GPOINTER_TO_UINT (old_owner));
}

gboolean
qmgr_group_take_ownership (QmgrGroup *g, uid_t caller, GError **error)
{
  QmgrManager *m = g->manager;
  QmgrTxn txn;

  /* Ownership only means something where several users share the daemon; who
   * may take it (polkit) is decided by the caller of this function. */
  if (!m->settings.system_mode)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED,
                   "TakeOwnership is only supported on the system bus (qmgrd --system)");
      return FALSE;
    }
  if (caller == g->owner)
    return TRUE;
  /* What the new owner takes: the files and the names (the credentials and
   * the callback target are cleared). */
  if (!qmgr_manager_owner_has_room (m, caller, error) ||
      !qmgr_manager_owner_can_hold (m, caller, qmgr_group_get_files_total (g),
                                    strlen (g->display_name) + strlen (g->description), error))
    return FALSE;

  /* The new owner must not inherit the old owner's credentials or callbacks. */
  qmgr_txn_begin (&txn, g);
  qmgr_txn_set_string (&txn, &g->remote_user_id, "", FALSE);
  qmgr_txn_set_string (&txn, &g->remote_user_password, "", TRUE);
  if (g->notify_clsid[0] != '\0')
    {
      qmgr_txn_set_string (&txn, &g->notify_clsid, "", FALSE);
      qmgr_txn_changed (&txn, QMGR_GROUP_CHANGED_NOTIFY_CLSID, 0);
    }
  qmgr_txn_on_success (&txn, move_ownership, GUINT_TO_POINTER (g->owner));
  qmgr_txn_set (&txn, &g->owner, caller);
  qmgr_txn_changed (&txn, QMGR_GROUP_CHANGED_OWNER, 0);
  qmgr_txn_touch (&txn);
  return qmgr_txn_commit (&txn, QMGR_SAVE_NOW, error);
}

void
qmgr_group_set_run_state (QmgrGroup *g, QmgrRunState run_state)
{
  QmgrTxn txn;

  if (g->run_state == run_state)
    return;
  qmgr_txn_begin (&txn, g);
  qmgr_txn_set (&txn, &g->run_state, run_state);
  qmgr_txn_commit (&txn, QMGR_SAVE_NONE, NULL);
}
