/* qmgrd core — what the scheduler learns about a file: progress (memory only:
 * the temp file on disk is the truth for bytes received), the size and
 * validator of the first response (durable: a resume must know them), and
 * failures, transient or fatal. */
#include "core-private.h"

#include <string.h>

#include "qmgr-constants.h"

static QmgrFile *
file_at (QmgrJob *j, guint32 index)
{
  g_return_val_if_fail (index < j->files->len, NULL);
  return g_ptr_array_index (j->files, index);
}

gboolean
qmgr_job_file_progress (QmgrJob *j, guint32 index, guint64 bytes_transferred)
{
  QmgrFile *f = file_at (j, index);
  gboolean further;
  QmgrTxn txn;

  if (f == NULL || f->complete || f->bytes_transferred == bytes_transferred)
    return FALSE;
  further = bytes_transferred > f->furthest;
  qmgr_txn_begin (&txn, j->group);
  /* num_retries counts transient failures since the last progress. */
  if (further)
    {
      qmgr_txn_set (&txn, &f->furthest, bytes_transferred);
      qmgr_txn_set (&txn, &j->num_retries, 0);
    }
  qmgr_job_untally (j, f);
  f->bytes_transferred = bytes_transferred;
  qmgr_job_tally (j, f);
  qmgr_txn_commit (&txn, QMGR_SAVE_NONE, NULL);
  return further;
}

typedef struct {
  QmgrFile *file;
  guint64 bytes_total;
} SavedTotal;

static void
restore_total (QmgrGroup *g, gpointer data)
{
  SavedTotal *saved = data;

  qmgr_job_untally (g->job, saved->file);
  saved->file->bytes_total = saved->bytes_total;
  qmgr_job_tally (g->job, saved->file);
}

gboolean
qmgr_job_file_response (QmgrJob *j, guint32 index, guint64 bytes_total, const char *validator,
                        GError **error)
{
  QmgrFile *f = file_at (j, index);
  SavedTotal saved;
  gboolean replaces;
  QmgrTxn txn;

  if (f == NULL)
    return TRUE;
  if (validator != NULL && validator[0] == '\0')
    validator = NULL;
  if (f->bytes_total == bytes_total && g_strcmp0 (f->validator, validator) == 0)
    return TRUE;

  /* A validator that replaces another must be on disk before the first byte it
   * vouches for is in the temp file: after a crash, the old one could make a
   * server that went back to the old version answer a resume with the old
   * bytes, spliced onto the new ones. A first validator can wait for the next
   * batch: without one on disk a resume starts from byte 0. */
  replaces = f->validator != NULL && g_strcmp0 (f->validator, validator) != 0;
  saved = (SavedTotal) { f, f->bytes_total };
  qmgr_txn_begin (&txn, j->group);
  qmgr_txn_set_string (&txn, &f->validator, validator, FALSE);
  qmgr_job_untally (j, f);
  f->bytes_total = bytes_total;
  qmgr_job_tally (j, f);
  qmgr_txn_on_failure (&txn, restore_total, &saved);
  qmgr_txn_file_changed (&txn, index);
  return qmgr_txn_commit (&txn, replaces ? QMGR_SAVE_NOW : QMGR_SAVE_SOON, error);
}

void
qmgr_job_file_restart (QmgrJob *j, guint32 index)
{
  /* The validator stays until the next response replaces it: the one on disk
   * is still the old one, and the replacement must be saved at once. */
  (void) qmgr_job_file_progress (j, index, 0);
}

void
qmgr_job_set_current_file (QmgrJob *j, guint32 index)
{
  QmgrTxn txn;

  if (j->current_file == index)
    return;
  qmgr_txn_begin (&txn, j->group);
  qmgr_txn_set (&txn, &j->current_file, index);
  qmgr_txn_changed (&txn, 0, QMGR_JOB_CHANGED_CURRENT_FILE_INDEX);
  qmgr_txn_commit (&txn, QMGR_SAVE_NONE, NULL);
}

/* A LastError message is kept to this many bytes: it goes into every
 * GetManagedObjects reply with the job, and into the store. */
#define ERROR_MESSAGE_MAX 512

/* LastError of the job and of the file. */
static void
record_error (QmgrTxn *txn, QmgrJob *j, guint32 index, QmgrTransferError code,
              const char *text, guint32 win32_result, guint32 transport_result)
{
  QmgrFile *f = file_at (j, index);
  g_autofree char *message = NULL;

  if (strlen (text) > ERROR_MESSAGE_MAX)
    {
      /* Cut at a character boundary, and say so. */
      const char *end = g_utf8_find_prev_char (text, text + ERROR_MESSAGE_MAX - 3);
      g_autofree char *head = g_utf8_make_valid (text, end - text);
      message = g_strconcat (head, "…", NULL);
    }
  else
    message = g_utf8_make_valid (text, -1);

  qmgr_txn_set (txn, &j->error, code);
  qmgr_txn_set_string (txn, &j->error_message, message, FALSE);
  qmgr_txn_set (txn, &f->error, code);
  qmgr_txn_set_string (txn, &f->error_message, message, FALSE);
  qmgr_txn_set (txn, &j->win32_result, win32_result);
  qmgr_txn_set (txn, &j->transport_result, transport_result);
  qmgr_txn_set (txn, &j->error_file_index, index);
  qmgr_txn_file_changed (txn, index);
  qmgr_txn_changed (txn, 0, QMGR_JOB_CHANGED_LAST_ERROR);
}

gboolean
qmgr_job_file_transient_error (QmgrJob *j, guint32 index, QmgrTransferError code,
                               const char *message, guint32 win32_result,
                               guint32 transport_result, gint64 last_progress, GError **error)
{
  return qmgr_job_file_transient_error_full (j, index, code, message, win32_result,
                                             transport_result, last_progress, TRUE, error);
}

gboolean
qmgr_job_file_transient_error_full (QmgrJob *j, guint32 index, QmgrTransferError code,
                                    const char *message, guint32 win32_result,
                                    guint32 transport_result, gint64 last_progress,
                                    gboolean count_retry, GError **error)
{
  QmgrGroup *g = j->group;
  QmgrTxn txn;

  if (file_at (j, index) == NULL)
    return TRUE;
  qmgr_txn_begin (&txn, g);
  record_error (&txn, j, index, code, message, win32_result, transport_result);
  if (count_retry)
    qmgr_txn_set (&txn, &j->num_retries, j->num_retries + 1);
  if (g->retrying_since == 0)
    qmgr_txn_set (&txn, &g->retrying_since, MAX (last_progress, 1));
  if (g->state == QMGR_GROUP_STATE_QUEUED)
    qmgr_txn_set (&txn, &g->run_state, QMGR_RUN_RETRYING);
  return qmgr_txn_commit (&txn, QMGR_SAVE_SOON, error);
}

gboolean
qmgr_job_file_fatal_error (QmgrJob *j, guint32 index, QmgrTransferError code,
                           const char *message, guint32 win32_result, guint32 transport_result,
                           GError **error)
{
  QmgrGroup *g = j->group;
  QmgrTxn txn;

  if (file_at (j, index) == NULL)
    return TRUE;
  qmgr_txn_begin (&txn, g);
  record_error (&txn, j, index, code, message, win32_result, transport_result);
  qmgr_txn_set (&txn, &g->state, QMGR_GROUP_STATE_ERROR);
  qmgr_txn_set (&txn, &g->run_state, QMGR_RUN_QUEUED);
  qmgr_txn_touch (&txn);
  qmgr_group_queue_notification (&txn, QMGR_STATUS_EVENT_FATAL_ERROR, index);
  qmgr_txn_status_event (&txn, index, QMGR_STATUS_EVENT_FATAL_ERROR);
  return qmgr_txn_commit (&txn, QMGR_SAVE_SOON, error);
}
