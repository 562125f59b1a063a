/* qmgrd core — a Group: the QMGR state machine, status bits, progress, its job,
 * callbacks owed, ownership. Every change is validated first, then made in
 * memory, then saved; a failed save puts the old values back, and listeners
 * hear only of saved changes. Properties are in group-props.c. */
#include "manager.h"

#include <string.h>

#include "qmgr-constants.h"
#include "qmgr-error.h"
#include "validate.h"

#define PATH_HEX_LEN QMGR_GUID_HEX_LEN

QmgrGroup *
qmgr_group_new (QmgrManager *manager, QmgrGuid id, uid_t owner)
{
  QmgrGroup *g = g_new0 (QmgrGroup, 1);
  char hex[PATH_HEX_LEN + 1];

  g->manager = manager;
  g->id = id;
  qmgr_guid_to_string (id, g->id_str);
  qmgr_guid_to_hex (id, hex);
  g->object_path = g_strconcat (QMGR_GROUP_PATH_PREFIX "/", hex, NULL);
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
  g_free (g->object_path);
  g_free (g->display_name);
  g_free (g->description);
  g_free (g->remote_user_id);
  if (g->remote_user_password != NULL)
    explicit_bzero (g->remote_user_password, strlen (g->remote_user_password));
  g_free (g->remote_user_password);
  g_free (g->notify_clsid);
  g_free (g->live_callback_name);
  g_free (g->live_callback_path);
  g_array_unref (g->pending_notifications);
  g_free (g);
}

gboolean
qmgr_group_has_callback_target (QmgrGroup *g)
{
  return g->live_callback_name != NULL || g->notify_clsid[0] != '\0';
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

void
qmgr_group_queue_notification (QmgrGroup *g, QmgrStatusEvent event, guint32 file_index)
{
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
  g_array_append_val (g->pending_notifications, n);
}

void
qmgr_group_made_progress (QmgrGroup *g)
{
  g_autoptr(GError) error = NULL;

  if (g->retrying_since == 0)
    return;
  g->retrying_since = 0;
  if (!qmgr_manager_save_group_soon (g->manager, g, &error))
    g_warning ("Could not save group %s: %s", g->id_str, error->message);
}

gboolean
qmgr_group_notification_done (QmgrGroup *g, GError **error)
{
  QmgrPendingNotification first;

  if (g->pending_notifications->len == 0)
    return TRUE;
  first = g_array_index (g->pending_notifications, QmgrPendingNotification, 0);
  g_array_remove_index (g->pending_notifications, 0);
  if (!qmgr_manager_save_group_soon (g->manager, g, error))
    {
      g_array_prepend_val (g->pending_notifications, first);
      return FALSE;
    }
  return TRUE;
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

/* ---- derived values ---- */

guint32
qmgr_group_get_status (QmgrGroup *g)
{
  guint32 s = 0;

  switch (g->state)
    {
    case QMGR_GROUP_STATE_SUSPENDED:
      s = QMGR_STATUS_GROUP_SUSPENDED | QMGR_STATUS_GROUP_INCOMPLETE;
      break;
    case QMGR_GROUP_STATE_QUEUED:
      s = QMGR_STATUS_GROUP_INCOMPLETE;
      break;
    case QMGR_GROUP_STATE_ERROR:
      s = QMGR_STATUS_GROUP_ERROR | QMGR_STATUS_GROUP_SUSPENDED | QMGR_STATUS_GROUP_INCOMPLETE;
      break;
    case QMGR_GROUP_STATE_COMPLETE:
      s = QMGR_STATUS_GROUP_COMPLETE | QMGR_STATUS_GROUP_SUSPENDED;
      break;
    }
  if (g->foreground)
    s |= QMGR_STATUS_GROUP_FOREGROUND;
  return s;
}

const char *
qmgr_group_get_wait_reason (QmgrGroup *g)
{
  static const char *const run_names[] = {
    [QMGR_RUN_QUEUED] = "queued",
    [QMGR_RUN_TRANSFERRING] = "transferring",
    [QMGR_RUN_METERED] = "metered",
    [QMGR_RUN_OFFLINE] = "offline",
    [QMGR_RUN_CAPTIVE_PORTAL] = "captive-portal",
    [QMGR_RUN_RETRYING] = "retrying",
  };

  switch (g->state)
    {
    case QMGR_GROUP_STATE_SUSPENDED:
      return "suspended";
    case QMGR_GROUP_STATE_ERROR:
      return "error";
    case QMGR_GROUP_STATE_COMPLETE:
      return "complete";
    case QMGR_GROUP_STATE_QUEUED:
    default:
      return run_names[g->run_state];
    }
}

guint32
qmgr_group_get_effective_transfer_policy (QmgrGroup *g)
{
  if (g->transfer_policy != 0)
    return g->transfer_policy;
  return g->foreground ? QMGR_TRANSFER_POLICY_ALWAYS : QMGR_TRANSFER_POLICY_UNRESTRICTED;
}

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

const char *
qmgr_group_get_job_path (QmgrGroup *g)
{
  return g->job ? g->job->object_path : "/";
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

/* ---- committing changes ---- */

static void
emit (QmgrGroup *g, QmgrGroupChange changes)
{
  qmgr_manager_emit_group_changed (g->manager, g, changes);
}

/* State changes carry the job's status and the scheduler's view with them. */
static gboolean
commit_state (QmgrGroup *g, QmgrGroupState state, gboolean foreground, GError **error)
{
  QmgrGroupState old_state = g->state;
  QmgrRunState old_run = g->run_state;
  gboolean old_fg = g->foreground;
  gint64 old_mtime = g->modification_time;
  guint32 old_status = qmgr_group_get_status (g);
  const char *old_reason = qmgr_group_get_wait_reason (g);
  QmgrGroupChange changes = QMGR_GROUP_CHANGED_MODIFICATION_TIME;

  g->state = state;
  g->foreground = foreground;
  if (state != old_state)
    g->run_state = QMGR_RUN_QUEUED;   /* the scheduler reports afresh */
  g->modification_time = qmgr_manager_now (g->manager);
  if (!qmgr_manager_save_group (g->manager, g, error))
    {
      g->state = old_state;
      g->run_state = old_run;
      g->foreground = old_fg;
      g->modification_time = old_mtime;
      return FALSE;
    }
  if (qmgr_group_get_status (g) != old_status)
    changes |= QMGR_GROUP_CHANGED_STATUS;
  if (strcmp (qmgr_group_get_wait_reason (g), old_reason) != 0)
    changes |= QMGR_GROUP_CHANGED_WAIT_REASON;
  if (old_fg != foreground && g->transfer_policy == 0)
    changes |= QMGR_GROUP_CHANGED_TRANSFER_POLICY;
  emit (g, changes);
  if (g->job != NULL && (changes & QMGR_GROUP_CHANGED_STATUS))
    qmgr_manager_emit_job_changed (g->manager, g->job, QMGR_JOB_CHANGED_STATUS);

  if (state == QMGR_GROUP_STATE_QUEUED && old_state != QMGR_GROUP_STATE_QUEUED)
    qmgr_manager_emit_runnable (g->manager, g);
  else if (state != QMGR_GROUP_STATE_QUEUED && old_state == QMGR_GROUP_STATE_QUEUED)
    qmgr_manager_emit_stopped (g->manager, g);
  return TRUE;
}

/* ---- state machine ---- */

static gboolean
invalid_state (QmgrGroup *g, GError **error, const char *why)
{
  g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE, "Group %s %s", g->id_str, why);
  return FALSE;
}

gboolean
qmgr_group_suspend (QmgrGroup *g, GError **error)
{
  if (g->state == QMGR_GROUP_STATE_COMPLETE)
    return invalid_state (g, error, "is complete and cannot be suspended");
  if (g->state != QMGR_GROUP_STATE_QUEUED)
    return TRUE;  /* suspended already (an error state is suspended too) */
  return commit_state (g, QMGR_GROUP_STATE_SUSPENDED, g->foreground, error);
}

gboolean
qmgr_group_resume (QmgrGroup *g, GError **error)
{
  gint64 old_retrying_since;

  if (g->state == QMGR_GROUP_STATE_COMPLETE)
    return invalid_state (g, error, "is complete");
  if (g->job == NULL)
    return invalid_state (g, error, "has no job");
  if (g->job->files->len == 0)
    return invalid_state (g, error, "has no files to transfer");
  if (g->state == QMGR_GROUP_STATE_QUEUED)
    return TRUE;

  /* A client's resume gives NoProgressTimeout a fresh start. */
  old_retrying_since = g->retrying_since;
  g->retrying_since = 0;
  if (g->state == QMGR_GROUP_STATE_ERROR)
    {
      /* Resuming clears the error and retries at once. */
      QmgrJob *job = g->job;
      g_autofree char *old_name = g_steal_pointer (&job->error_name);
      g_autofree char *old_message = g_steal_pointer (&job->error_message);
      guint32 old_retries = job->num_retries;
      guint32 old_win32 = job->win32_result, old_transport = job->transport_result;

      job->num_retries = 0;
      job->win32_result = 0;
      job->transport_result = 0;
      if (!commit_state (g, QMGR_GROUP_STATE_QUEUED, g->foreground, error))
        {
          job->error_name = g_steal_pointer (&old_name);
          job->error_message = g_steal_pointer (&old_message);
          job->num_retries = old_retries;
          job->win32_result = old_win32;
          job->transport_result = old_transport;
          g->retrying_since = old_retrying_since;
          return FALSE;
        }
      qmgr_manager_emit_job_changed (g->manager, job, QMGR_JOB_CHANGED_LAST_ERROR);
      return TRUE;
    }
  if (!commit_state (g, QMGR_GROUP_STATE_QUEUED, g->foreground, error))
    {
      g->retrying_since = old_retrying_since;
      return FALSE;
    }
  return TRUE;
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
  if (g->foreground)
    return TRUE;
  return commit_state (g, g->state, TRUE, error);
}

static gboolean
parse_job_guid (QmgrGroup *g, const char *job_id, QmgrGuid *id, GError **error)
{
  if (job_id[0] == '\0')
    {
      do
        *id = qmgr_guid_generate ();
      while (qmgr_manager_guid_in_use (g->manager, *id));
      return TRUE;
    }
  if (!qmgr_guid_parse (job_id, id, error))
    return FALSE;
  if (qmgr_manager_guid_in_use (g->manager, *id))
    {
      char s[QMGR_GUID_STRING_LEN + 1];
      qmgr_guid_to_string (*id, s);
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS, "GUID %s is already in use", s);
      return FALSE;
    }
  return TRUE;
}

QmgrJob *
qmgr_group_create_job (QmgrGroup *g, const char *job_id, GError **error)
{
  QmgrGuid id;
  QmgrJob *job;
  gint64 old_mtime = g->modification_time;

  if (!parse_job_guid (g, job_id, &id, error))
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
  g->job = job;
  g->modification_time = qmgr_manager_now (g->manager);
  if (!qmgr_manager_save_group (g->manager, g, error))
    {
      g->job = NULL;
      g->modification_time = old_mtime;
      qmgr_job_free (job);
      return NULL;
    }
  qmgr_manager_index_job (g->manager, job);
  qmgr_manager_emit_job_added (g->manager, job);
  emit (g, QMGR_GROUP_CHANGED_MODIFICATION_TIME);
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

const char *
qmgr_group_query_new_job_interface (QmgrGroup *g, const char *interface_name, GError **error)
{
  if (g_strcmp0 (interface_name, QMGR_JOB_INTERFACE) != 0)
    {
      g_autofree char *shown = qmgr_describe_value (interface_name);
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED,
                   "Interface %s is not supported (only " QMGR_JOB_INTERFACE ")", shown);
      return NULL;
    }
  if (g->job == NULL)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND, "Group %s has no job",
                   g->id_str);
      return NULL;
    }
  return g->job->object_path;
}

gboolean
qmgr_group_set_notification_pointer (QmgrGroup *g, const char *interface_name,
                                     const char *sender, const char *path, GError **error)
{
  if (g_strcmp0 (interface_name, QMGR_CALLBACK_INTERFACE) != 0)
    {
      g_autofree char *shown = qmgr_describe_value (interface_name);
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED,
                   "Interface %s is not supported (only " QMGR_CALLBACK_INTERFACE ")", shown);
      return FALSE;
    }
  g_clear_pointer (&g->live_callback_name, g_free);
  g_clear_pointer (&g->live_callback_path, g_free);
  if (g_strcmp0 (path, "/") != 0)
    {
      g->live_callback_name = g_strdup (sender);
      g->live_callback_path = g_strdup (path);
    }
  return TRUE;
}

gboolean
qmgr_group_take_ownership (QmgrGroup *g, uid_t caller, GError **error)
{
  QmgrManager *m = g->manager;
  uid_t old_owner = g->owner;
  gint64 old_mtime = g->modification_time;
  g_autofree char *old_user = NULL, *old_password = NULL, *old_clsid = NULL;

  /* Ownership only means something where several users share the daemon; who
   * may take it (polkit) is decided by the caller of this function. */
  if (!m->settings.system_mode)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED,
                   "TakeOwnership is only supported on the system bus (qmgrd --system)");
      return FALSE;
    }
  if (caller == old_owner)
    return TRUE;
  if (!qmgr_manager_owner_has_room (m, caller, error))
    return FALSE;

  /* The new owner must not inherit the old owner's credentials or callbacks. */
  old_user = g_steal_pointer (&g->remote_user_id);
  old_password = g_steal_pointer (&g->remote_user_password);
  old_clsid = g_steal_pointer (&g->notify_clsid);
  g->remote_user_id = g_strdup ("");
  g->remote_user_password = g_strdup ("");
  g->notify_clsid = g_strdup ("");
  g->owner = caller;
  g->modification_time = qmgr_manager_now (m);
  if (!qmgr_manager_save_group (m, g, error))
    {
      g_free (g->remote_user_id);
      g_free (g->remote_user_password);
      g_free (g->notify_clsid);
      g->remote_user_id = g_steal_pointer (&old_user);
      g->remote_user_password = g_steal_pointer (&old_password);
      g->notify_clsid = g_steal_pointer (&old_clsid);
      g->owner = old_owner;
      g->modification_time = old_mtime;
      return FALSE;
    }
  explicit_bzero (old_password, strlen (old_password));
  g_clear_pointer (&g->live_callback_name, g_free);
  g_clear_pointer (&g->live_callback_path, g_free);
  qmgr_manager_change_owner (m, g, old_owner);
  emit (g, QMGR_GROUP_CHANGED_OWNER | QMGR_GROUP_CHANGED_MODIFICATION_TIME |
           (old_clsid[0] != '\0' ? QMGR_GROUP_CHANGED_NOTIFY_CLSID : 0));
  return TRUE;
}

void
qmgr_group_set_run_state (QmgrGroup *g, QmgrRunState run_state)
{
  const char *old_reason = qmgr_group_get_wait_reason (g);

  g->run_state = run_state;
  if (strcmp (old_reason, qmgr_group_get_wait_reason (g)) != 0)
    emit (g, QMGR_GROUP_CHANGED_WAIT_REASON);
}
