/* qmgrd core — a Job and its files: AddFiles with all of its rules (all or
 * nothing), file status, progress arithmetic, CancelJob, and completions. */
#include "core-private.h"

#include <string.h>

#include "qmgr-constants.h"
#include "validate.h"

QmgrFile *
qmgr_file_new (const char *remote_url, const char *local_path, guint64 size_hint)
{
  QmgrFile *f = g_new0 (QmgrFile, 1);

  f->remote_url = g_strdup (remote_url);
  f->local_path = g_strdup (local_path);
  f->size_hint = size_hint;
  f->bytes_total = QMGR_SIZE_UNKNOWN;
  return f;
}

void
qmgr_file_free (QmgrFile *f)
{
  if (f == NULL)
    return;
  g_free (f->remote_url);
  g_free (f->local_path);
  g_free (f->validator);
  g_free (f->error_message);
  g_free (f);
}

QmgrJob *
qmgr_job_new (QmgrGroup *group, QmgrGuid id)
{
  QmgrJob *j = g_new0 (QmgrJob, 1);

  j->id = id;
  qmgr_guid_to_string (id, j->id_str);
  j->group = group;
  j->files = g_ptr_array_new_with_free_func ((GDestroyNotify) qmgr_file_free);
  j->error_file_index = QMGR_FILE_INDEX_NONE;
  return j;
}

void
qmgr_job_free (QmgrJob *j)
{
  if (j == NULL)
    return;
  g_ptr_array_unref (j->files);
  g_free (j->error_message);
  g_free (j);
}

static QmgrFile *
file_at (QmgrJob *j, guint i)
{
  return g_ptr_array_index (j->files, i);
}

static void
sum_add (QmgrSum *s, guint64 v)
{
  s->lo += v;
  s->hi += s->lo < v;   /* the carry */
}

static void
sum_sub (QmgrSum *s, guint64 v)
{
  s->hi -= s->lo < v;   /* the borrow */
  s->lo -= v;
}

static guint64
sum_get (const QmgrSum *s)
{
  return s->hi > 0 ? G_MAXUINT64 : s->lo;
}

static gboolean
sum_equal (const QmgrSum *a, const QmgrSum *b)
{
  return a->lo == b->lo && a->hi == b->hi;
}

void
qmgr_job_untally (QmgrJob *j, const QmgrFile *f)
{
  j->n_complete -= f->complete ? 1 : 0;
  if (f->bytes_total == QMGR_SIZE_UNKNOWN)
    j->n_size_unknown--;
  else
    sum_sub (&j->bytes_total_known, f->bytes_total);
  sum_sub (&j->bytes_transferred, f->bytes_transferred);
}

void
qmgr_job_tally (QmgrJob *j, const QmgrFile *f)
{
  j->n_complete += f->complete ? 1 : 0;
  if (f->bytes_total == QMGR_SIZE_UNKNOWN)
    j->n_size_unknown++;
  else
    sum_add (&j->bytes_total_known, f->bytes_total);
  sum_add (&j->bytes_transferred, f->bytes_transferred);
}

void
qmgr_job_recount (QmgrJob *j)
{
  j->n_complete = j->n_size_unknown = 0;
  j->bytes_total_known = j->bytes_transferred = (QmgrSum) { 0, 0 };
  for (guint i = 0; i < j->files->len; i++)
    qmgr_job_tally (j, file_at (j, i));
}

gboolean
qmgr_job_tallies_hold (QmgrJob *j)
{
  QmgrJob sums = { .files = j->files };

  qmgr_job_recount (&sums);
  return sums.n_complete == j->n_complete && sums.n_size_unknown == j->n_size_unknown &&
         sum_equal (&sums.bytes_total_known, &j->bytes_total_known) &&
         sum_equal (&sums.bytes_transferred, &j->bytes_transferred);
}

guint32
qmgr_job_get_file_count (QmgrJob *j)
{
  return j->files->len;
}

guint64
qmgr_job_get_bytes_total (QmgrJob *j)
{
  return sum_get (&j->bytes_total_known);
}

guint64
qmgr_job_get_bytes_transferred (QmgrJob *j)
{
  return sum_get (&j->bytes_transferred);
}

gboolean
qmgr_job_get_progress (QmgrJob *j, guint32 flags, guint32 *progress, GError **error)
{
  guint n = j->files->len, n_complete = j->n_complete;
  gboolean sizes_known = j->n_size_unknown == 0;
  guint64 total = sum_get (&j->bytes_total_known), done = sum_get (&j->bytes_transferred);

  if (flags == QMGR_PROGRESS_TIME_DONE)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED,
                   "Progress type TIME_DONE (2) is not supported");
      return FALSE;
    }
  if (flags != QMGR_PROGRESS_PERCENT_DONE && flags != QMGR_PROGRESS_SIZE_DONE)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "Progress type %u is not one of PERCENT_DONE (1) or SIZE_DONE (3)", flags);
      return FALSE;
    }

  if (flags == QMGR_PROGRESS_SIZE_DONE)
    {
      *progress = (guint32) MIN (done, (guint64) G_MAXUINT32);
      return TRUE;
    }

  if (j->group->state == QMGR_GROUP_STATE_COMPLETE)
    *progress = 100;
  else if (n == 0)
    *progress = 0;
  else if (sizes_known && total > 0)
    /* done ≤ total ≤ 2^64: divide first where the product would overflow. */
    *progress = (guint32) (total > G_MAXUINT64 / 100 ? done / (total / 100) : done * 100 / total);
  else
    *progress = n_complete * 100 / n;
  if (j->group->state != QMGR_GROUP_STATE_COMPLETE)
    *progress = MIN (*progress, 99u);  /* 100 means complete, never before */
  return TRUE;
}

const QmgrFile *
qmgr_job_get_file (QmgrJob *j, guint32 index, GError **error)
{
  if (index >= j->files->len)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND,
                   "Job %s has no file %u (it has %u)", j->id_str, index, j->files->len);
      return NULL;
    }
  return file_at (j, index);
}

gboolean
qmgr_job_get_file_status (QmgrJob *j, guint32 index, guint32 *status, guint64 *bytes_total,
                          guint64 *bytes_transferred, QmgrTransferError *error_code,
                          const char **error_message, GError **error)
{
  const QmgrFile *f = qmgr_job_get_file (j, index, error);

  if (f == NULL)
    return FALSE;
  *status = f->complete ? QMGR_STATUS_FILE_COMPLETE : QMGR_STATUS_FILE_INCOMPLETE;
  *bytes_total = f->bytes_total;
  *bytes_transferred = f->bytes_transferred;
  *error_code = f->error;
  *error_message = f->error_message ? f->error_message : "";
  return TRUE;
}

/* The filesystem checks of every entry; the first InvalidArgs wins over any
 * AccessDenied (error precedence). */
static gboolean
check_destinations (QmgrJob *j, const QmgrFileSpec *files, guint n_files, GError **error)
{
  g_autoptr(GError) access_error = NULL;

  for (guint i = 0; i < n_files; i++)
    {
      g_autoptr(GError) local = NULL;

      if (qmgr_manager_check_destination (j->group->manager, j->group->owner,
                                          files[i].local_path, &local))
        continue;
      if (!g_error_matches (local, QMGR_ERROR, QMGR_ERROR_ACCESS_DENIED))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (access_error == NULL)
        access_error = g_steal_pointer (&local);
    }
  if (access_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&access_error));
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_entries (QmgrJob *j, const QmgrFileSpec *files, guint n_files, GError **error)
{
  QmgrManager *m = j->group->manager;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < n_files; i++)
    {
      if (!qmgr_validate_url (files[i].remote_url, QMGR_PROTOCOL_HTTP, error) ||
          !qmgr_validate_local_path (files[i].local_path, error))
        return FALSE;
      if (!g_hash_table_add (seen, (gpointer) files[i].local_path) ||
          qmgr_manager_destination_taken (m, j->group->owner, files[i].local_path))
        {
          g_autofree char *shown = qmgr_describe_value (files[i].local_path);
          g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                       "Local path %s is already the destination of another file of an "
                       "incomplete group", shown);
          return FALSE;
        }
    }
  return TRUE;
}

static void
drop_new_files (QmgrGroup *g, gpointer old_len)
{
  QmgrJob *j = g->job;

  for (guint i = GPOINTER_TO_UINT (old_len); i < j->files->len; i++)
    qmgr_job_untally (j, file_at (j, i));
  g_ptr_array_set_size (j->files, GPOINTER_TO_UINT (old_len));
}

static void
reserve_new_files (QmgrGroup *g, gpointer old_len)
{
  for (guint i = GPOINTER_TO_UINT (old_len); i < g->job->files->len; i++)
    qmgr_manager_reserve_destination (g->manager, g->owner, file_at (g->job, i));
}

gboolean
qmgr_job_add_files (QmgrJob *j, const QmgrFileSpec *files, guint n_files, GError **error)
{
  QmgrGroup *g = j->group;
  QmgrManager *m = g->manager;
  guint old_len = j->files->len;
  QmgrTxn txn;

  if (!check_entries (j, files, n_files, error) ||
      !check_destinations (j, files, n_files, error))
    return FALSE;
  if (n_files > m->settings.max_files_per_job ||
      old_len > m->settings.max_files_per_job - n_files)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED,
                   "Job %s would have %" G_GUINT64_FORMAT " files, more than the %u allowed",
                   j->id_str, (guint64) old_len + n_files, m->settings.max_files_per_job);
      return FALSE;
    }
  if (!qmgr_manager_owner_can_hold (m, g->owner, n_files, 0, error))
    return FALSE;
  if (g->state == QMGR_GROUP_STATE_COMPLETE)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE,
                   "Group %s is complete; no files can be added", g->id_str);
      return FALSE;
    }
  if (n_files == 0)
    return TRUE;

  qmgr_txn_begin (&txn, g);
  for (guint i = 0; i < n_files; i++)
    {
      QmgrFile *f = qmgr_file_new (files[i].remote_url, files[i].local_path, files[i].size_hint);
      g_ptr_array_add (j->files, f);
      qmgr_job_tally (j, f);
    }
  qmgr_txn_on_failure (&txn, drop_new_files, GUINT_TO_POINTER (old_len));
  qmgr_txn_on_success (&txn, reserve_new_files, GUINT_TO_POINTER (old_len));
  qmgr_txn_files_appended (&txn, old_len);
  qmgr_txn_touch (&txn);
  return qmgr_txn_commit (&txn, QMGR_SAVE_NOW, error);
}

static void
remove_job (QmgrGroup *g, gpointer job)
{
  QmgrJob *j = job;

  /* Listeners still find the job while they hear it is going (and remove its
   * temp files); the group's job pointer is restored for that moment. */
  g->job = j;
  qmgr_manager_emit_job_removing (g->manager, j);
  qmgr_manager_unindex_job (g->manager, j);
  g->job = NULL;
  qmgr_job_free (j);
}

gboolean
qmgr_job_cancel (QmgrJob *j, GError **error)
{
  QmgrGroup *g = j->group;
  QmgrTxn txn;

  qmgr_txn_begin (&txn, g);
  txn.delta.job_replaced = TRUE;
  qmgr_txn_set (&txn, &g->job, NULL);
  if (g->state != QMGR_GROUP_STATE_SUSPENDED)
    {
      qmgr_txn_set (&txn, &g->state, QMGR_GROUP_STATE_SUSPENDED);
      qmgr_txn_set (&txn, &g->run_state, QMGR_RUN_QUEUED);
    }
  qmgr_txn_set (&txn, &g->completion_time, 0);
  qmgr_txn_on_success (&txn, remove_job, j);
  qmgr_txn_changed (&txn, QMGR_GROUP_CHANGED_FILES_TOTAL | QMGR_GROUP_CHANGED_BYTES_TRANSFERRED |
                          QMGR_GROUP_CHANGED_FILES_TRANSFERRED, 0);
  qmgr_txn_touch (&txn);
  return qmgr_txn_commit (&txn, QMGR_SAVE_NOW, error);
}

/* A file's counted fields, to put back (they move the job's tallies). */
typedef struct {
  guint index;
  gboolean complete;
  guint64 bytes_total;
  guint64 bytes_transferred;
} FileCounts;

static void
restore_counts (QmgrGroup *g, gpointer data)
{
  const FileCounts *saved = data;
  QmgrFile *f = file_at (g->job, saved->index);

  qmgr_job_untally (g->job, f);
  f->complete = saved->complete;
  f->bytes_total = saved->bytes_total;
  f->bytes_transferred = saved->bytes_transferred;
  qmgr_job_tally (g->job, f);
}

static void
release_destinations (QmgrGroup *g, gpointer data)
{
  for (guint i = 0; i < g->job->files->len; i++)
    qmgr_manager_release_destination (g->manager, g->owner, file_at (g->job, i));
}

gboolean
qmgr_job_record_completion (QmgrJob *j, guint32 index, guint64 size,
                            QmgrCompletion *completion, GError **error)
{
  QmgrGroup *g = j->group;
  QmgrFile *f;
  FileCounts saved;
  QmgrTxn txn;

  if (index >= j->files->len)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND, "Job %s has no file %u",
                   j->id_str, index);
      return FALSE;
    }
  f = file_at (j, index);
  if (f->complete)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE,
                   "File %u of job %s is complete already", index, j->id_str);
      return FALSE;
    }

  saved = (FileCounts) { index, f->complete, f->bytes_total, f->bytes_transferred };
  qmgr_txn_begin (&txn, g);
  qmgr_job_untally (j, f);
  f->complete = TRUE;
  f->bytes_total = size;
  f->bytes_transferred = size;
  qmgr_job_tally (j, f);
  qmgr_txn_on_failure (&txn, restore_counts, &saved);
  qmgr_txn_file_changed (&txn, index);
  qmgr_txn_touch (&txn);
  /* Announced with the counters, throttled: it is not a change of its own. */
  qmgr_txn_changed (&txn, QMGR_GROUP_CHANGED_FILES_TRANSFERRED | QMGR_GROUP_CHANGED_BYTES_TOTAL |
                          QMGR_GROUP_CHANGED_BYTES_TRANSFERRED,
                    QMGR_JOB_CHANGED_BYTES_TOTAL | QMGR_JOB_CHANGED_BYTES_TRANSFERRED);
  qmgr_group_queue_notification (&txn, QMGR_STATUS_EVENT_FILE_DONE, index);
  qmgr_txn_status_event (&txn, index, QMGR_STATUS_EVENT_FILE_DONE);
  if (j->n_complete == j->files->len)
    {
      qmgr_txn_set (&txn, &g->state, QMGR_GROUP_STATE_COMPLETE);
      qmgr_txn_set (&txn, &g->run_state, QMGR_RUN_QUEUED);
      qmgr_txn_set (&txn, &g->completion_time, g->modification_time);
      qmgr_group_queue_notification (&txn, QMGR_STATUS_EVENT_JOB_DONE, QMGR_FILE_INDEX_NONE);
      qmgr_group_queue_notification (&txn, QMGR_STATUS_EVENT_GROUP_DONE, QMGR_FILE_INDEX_NONE);
      qmgr_txn_status_event (&txn, QMGR_FILE_INDEX_NONE, QMGR_STATUS_EVENT_JOB_DONE);
      qmgr_txn_status_event (&txn, QMGR_FILE_INDEX_NONE, QMGR_STATUS_EVENT_GROUP_DONE);
      qmgr_txn_on_success (&txn, release_destinations, NULL);
    }
  /* The callbacks queued wait for the completion to be durable. */
  qmgr_group_hold_queued (&txn);
  /* Saved soon, with the other completions of the moment; announced only
   * once the caller has made it durable. */
  return qmgr_txn_commit_deferred (&txn, QMGR_SAVE_SOON, completion, error);
}

gboolean
qmgr_job_file_completed (QmgrJob *j, guint32 index, guint64 size, GError **error)
{
  QmgrManager *m = j->group->manager;
  QmgrCompletion c;
  gboolean durable;

  if (!qmgr_job_record_completion (j, index, size, &c, error))
    return FALSE;
  /* Announced either way, as the model says it: the store tries again. */
  durable = qmgr_manager_sync_store (m, error);
  qmgr_manager_announce_completion (m, &c);
  return durable;
}
