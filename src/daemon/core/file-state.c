/* qmgrd core — what the transfer engine learns about a file: progress (memory
 * only: the temp file on disk is the truth for bytes received), the size and
 * validator of the first response (durable: a resume must know them), and
 * failures, transient or fatal. */
#include "manager.h"

#include <string.h>

#include "qmgr-constants.h"
#include "qmgr-error.h"

static QmgrFile *
file_at (QmgrJob *j, guint32 index)
{
  g_return_val_if_fail (index < j->files->len, NULL);
  return g_ptr_array_index (j->files, index);
}

void
qmgr_job_file_progress (QmgrJob *j, guint32 index, guint64 bytes_transferred)
{
  QmgrFile *f = file_at (j, index);
  QmgrGroupChange changes = QMGR_GROUP_CHANGED_BYTES_TRANSFERRED;
  gboolean moved;

  if (f == NULL || f->complete || f->bytes_transferred == bytes_transferred)
    return;
  moved = bytes_transferred > f->bytes_transferred;
  qmgr_job_untally (j, f);
  f->bytes_transferred = bytes_transferred;
  qmgr_job_tally (j, f);
  if (moved && j->num_retries != 0)
    {
      /* num_retries counts transient failures since the last progress. */
      j->num_retries = 0;
    }

  qmgr_manager_emit_job_changed (j->group->manager, j, QMGR_JOB_CHANGED_BYTES_TRANSFERRED);
  qmgr_manager_emit_group_changed (j->group->manager, j->group, changes);
}

gboolean
qmgr_job_file_response (QmgrJob *j, guint32 index, guint64 bytes_total, const char *validator,
                        GError **error)
{
  QmgrGroup *g = j->group;
  QmgrFile *f = file_at (j, index);
  guint64 old_total, old_size = qmgr_group_get_size (g);
  char *old_validator;
  gboolean saved;
  QmgrGroupChange changes = QMGR_GROUP_CHANGED_BYTES_TOTAL;

  if (f == NULL)
    return TRUE;
  if (validator != NULL && validator[0] == '\0')
    validator = NULL;
  if (f->bytes_total == bytes_total && g_strcmp0 (f->validator, validator) == 0)
    return TRUE;

  old_total = f->bytes_total;
  old_validator = f->validator;
  qmgr_job_untally (j, f);
  f->bytes_total = bytes_total;
  qmgr_job_tally (j, f);
  f->validator = g_strdup (validator);
  /* A validator that replaces another must be on disk before the first byte it
   * vouches for is in the temp file: after a crash, the old one could make a
   * server that went back to the old version answer a resume with the old
   * bytes, spliced onto the new ones. A first validator can wait for the next
   * batch: without one on disk a resume starts from byte 0. */
  if (old_validator != NULL && g_strcmp0 (old_validator, validator) != 0)
    saved = qmgr_manager_save_group (g->manager, g, error);
  else
    saved = qmgr_manager_save_group_soon (g->manager, g, error);
  if (!saved)
    {
      g_free (f->validator);
      f->validator = old_validator;
      qmgr_job_untally (j, f);
      f->bytes_total = old_total;
      qmgr_job_tally (j, f);
      return FALSE;
    }
  g_free (old_validator);
  if (old_total != bytes_total)
    {
      if (qmgr_group_get_size (g) != old_size)
        changes |= QMGR_GROUP_CHANGED_SIZE;
      qmgr_manager_emit_group_changed (g->manager, g, changes);
      qmgr_manager_emit_job_changed (g->manager, j, QMGR_JOB_CHANGED_BYTES_TOTAL);
    }
  return TRUE;
}

void
qmgr_job_file_restart (QmgrJob *j, guint32 index)
{
  /* The validator stays until the next response replaces it: the one on disk
   * is still the old one, and the replacement must be saved at once. */
  qmgr_job_file_progress (j, index, 0);
}

void
qmgr_job_set_current_file (QmgrJob *j, guint32 index)
{
  if (j->current_file == index)
    return;
  j->current_file = index;
  qmgr_manager_emit_job_changed (j->group->manager, j, QMGR_JOB_CHANGED_CURRENT_FILE_INDEX);
}

typedef struct {
  char *job_name, *job_message, *file_name, *file_message;
  guint32 win32, transport, retries, error_index;
} SavedError;

static void
record_error (QmgrJob *j, QmgrFile *f, guint32 index, const char *name, const char *message,
              guint32 win32_result, guint32 transport_result, SavedError *saved)
{
  saved->job_name = j->error_name;
  saved->job_message = j->error_message;
  saved->file_name = f->error_name;
  saved->file_message = f->error_message;
  saved->win32 = j->win32_result;
  saved->transport = j->transport_result;
  saved->retries = j->num_retries;
  saved->error_index = j->error_file_index;

  j->error_name = g_strdup (name);
  j->error_message = g_strdup (message);
  f->error_name = g_strdup (name);
  f->error_message = g_strdup (message);
  j->win32_result = win32_result;
  j->transport_result = transport_result;
  j->error_file_index = index;
}

static void
restore_error (QmgrJob *j, QmgrFile *f, SavedError *saved)
{
  g_free (j->error_name);
  g_free (j->error_message);
  g_free (f->error_name);
  g_free (f->error_message);
  j->error_name = saved->job_name;
  j->error_message = saved->job_message;
  f->error_name = saved->file_name;
  f->error_message = saved->file_message;
  j->win32_result = saved->win32;
  j->transport_result = saved->transport;
  j->num_retries = saved->retries;
  j->error_file_index = saved->error_index;
}

static void
forget_saved (SavedError *saved)
{
  g_free (saved->job_name);
  g_free (saved->job_message);
  g_free (saved->file_name);
  g_free (saved->file_message);
}

gboolean
qmgr_job_file_transient_error (QmgrJob *j, guint32 index, const char *name, const char *message,
                               guint32 win32_result, guint32 transport_result,
                               gint64 last_progress, GError **error)
{
  QmgrGroup *g = j->group;
  QmgrFile *f = file_at (j, index);
  SavedError saved;
  gint64 old_retrying_since = g->retrying_since;

  if (f == NULL)
    return TRUE;
  record_error (j, f, index, name, message, win32_result, transport_result, &saved);
  j->num_retries = saved.retries + 1;
  if (g->retrying_since == 0)
    g->retrying_since = MAX (last_progress, 1);
  if (!qmgr_manager_save_group_soon (g->manager, g, error))
    {
      restore_error (j, f, &saved);
      g->retrying_since = old_retrying_since;
      return FALSE;
    }
  forget_saved (&saved);
  qmgr_manager_emit_job_changed (g->manager, j, QMGR_JOB_CHANGED_LAST_ERROR);
  qmgr_group_set_run_state (g, QMGR_RUN_RETRYING);
  return TRUE;
}

gboolean
qmgr_job_file_fatal_error (QmgrJob *j, guint32 index, const char *name, const char *message,
                           guint32 win32_result, guint32 transport_result, GError **error)
{
  QmgrGroup *g = j->group;
  QmgrManager *m = g->manager;
  QmgrFile *f = file_at (j, index);
  SavedError saved;
  guint old_pending;
  QmgrGroupState old_state = g->state;
  gint64 old_mtime = g->modification_time;

  if (f == NULL)
    return TRUE;
  record_error (j, f, index, name, message, win32_result, transport_result, &saved);
  g->state = QMGR_GROUP_STATE_ERROR;
  g->modification_time = qmgr_manager_now (m);
  old_pending = g->pending_notifications->len;
  qmgr_group_queue_notification (g, QMGR_STATUS_EVENT_FATAL_ERROR, index);
  if (!qmgr_manager_save_group_soon (m, g, error))
    {
      g_array_set_size (g->pending_notifications, old_pending);
      restore_error (j, f, &saved);
      g->state = old_state;
      g->modification_time = old_mtime;
      return FALSE;
    }
  forget_saved (&saved);
  qmgr_manager_emit_group_changed (m, g, QMGR_GROUP_CHANGED_STATUS |
                                   QMGR_GROUP_CHANGED_WAIT_REASON |
                                   QMGR_GROUP_CHANGED_MODIFICATION_TIME);
  qmgr_manager_emit_job_changed (m, j, QMGR_JOB_CHANGED_STATUS | QMGR_JOB_CHANGED_LAST_ERROR);
  qmgr_manager_emit_status_event (m, g, index, QMGR_STATUS_EVENT_FATAL_ERROR);
  if (old_state == QMGR_GROUP_STATE_QUEUED)
    qmgr_manager_emit_stopped (m, g);
  return TRUE;
}
