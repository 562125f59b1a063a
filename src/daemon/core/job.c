/* qmgrd core — a Job and its files: AddFiles with all of its rules (all or
 * nothing), file status, progress arithmetic, CancelJob, and the completion seam
 * the transfer engine calls. */
#include "manager.h"

#include <string.h>

#include "qmgr-constants.h"
#include "qmgr-error.h"
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
  g_free (f->error_name);
  g_free (f->error_message);
  g_free (f);
}

QmgrJob *
qmgr_job_new (QmgrGroup *group, QmgrGuid id)
{
  QmgrJob *j = g_new0 (QmgrJob, 1);
  char hex[QMGR_GUID_HEX_LEN + 1];

  j->id = id;
  qmgr_guid_to_string (id, j->id_str);
  qmgr_guid_to_hex (id, hex);
  j->object_path = g_strconcat (group->object_path, "/job/", hex, NULL);
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
  g_free (j->object_path);
  g_ptr_array_unref (j->files);
  g_free (j->error_name);
  g_free (j->error_message);
  g_free (j);
}

static QmgrFile *
file_at (QmgrJob *j, guint i)
{
  return g_ptr_array_index (j->files, i);
}

void
qmgr_job_untally (QmgrJob *j, const QmgrFile *f)
{
  j->n_complete -= f->complete ? 1 : 0;
  if (f->bytes_total == QMGR_SIZE_UNKNOWN)
    j->n_size_unknown--;
  else
    j->bytes_total_known -= f->bytes_total;
  j->bytes_transferred -= f->bytes_transferred;
}

void
qmgr_job_tally (QmgrJob *j, const QmgrFile *f)
{
  j->n_complete += f->complete ? 1 : 0;
  if (f->bytes_total == QMGR_SIZE_UNKNOWN)
    j->n_size_unknown++;
  else
    j->bytes_total_known += f->bytes_total;
  j->bytes_transferred += f->bytes_transferred;
}

void
qmgr_job_recount (QmgrJob *j)
{
  j->n_complete = j->n_size_unknown = 0;
  j->bytes_total_known = j->bytes_transferred = 0;
  for (guint i = 0; i < j->files->len; i++)
    qmgr_job_tally (j, file_at (j, i));
}

gboolean
qmgr_job_tallies_hold (QmgrJob *j)
{
  QmgrJob sums = { .files = j->files };

  qmgr_job_recount (&sums);
  return sums.n_complete == j->n_complete && sums.n_size_unknown == j->n_size_unknown &&
         sums.bytes_total_known == j->bytes_total_known &&
         sums.bytes_transferred == j->bytes_transferred;
}

guint32
qmgr_job_get_file_count (QmgrJob *j)
{
  return j->files->len;
}

guint32
qmgr_job_get_status (QmgrJob *j)
{
  guint32 s;

  switch (j->group->state)
    {
    case QMGR_GROUP_STATE_COMPLETE:
      s = QMGR_STATUS_JOB_COMPLETE;
      break;
    case QMGR_GROUP_STATE_ERROR:
      s = QMGR_STATUS_JOB_ERROR | QMGR_STATUS_JOB_INCOMPLETE;
      break;
    case QMGR_GROUP_STATE_SUSPENDED:
    case QMGR_GROUP_STATE_QUEUED:
    default:
      s = QMGR_STATUS_JOB_INCOMPLETE;
      break;
    }
  if (j->group->foreground)
    s |= QMGR_STATUS_JOB_FOREGROUND;
  return s;
}

guint64
qmgr_job_get_bytes_total (QmgrJob *j)
{
  return j->bytes_total_known;
}

guint64
qmgr_job_get_bytes_transferred (QmgrJob *j)
{
  return j->bytes_transferred;
}

gboolean
qmgr_job_get_progress (QmgrJob *j, guint32 flags, guint32 *progress, GError **error)
{
  guint n = j->files->len, n_complete = j->n_complete;
  gboolean sizes_known = j->n_size_unknown == 0;
  guint64 total = j->bytes_total_known, done = j->bytes_transferred;

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
                          guint64 *bytes_transferred, const char **error_name,
                          const char **error_message, GError **error)
{
  const QmgrFile *f = qmgr_job_get_file (j, index, error);

  if (f == NULL)
    return FALSE;
  *status = f->complete ? QMGR_STATUS_FILE_COMPLETE : QMGR_STATUS_FILE_INCOMPLETE;
  *bytes_total = f->bytes_total;
  *bytes_transferred = f->bytes_transferred;
  *error_name = f->error_name ? f->error_name : "";
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

gboolean
qmgr_job_add_files (QmgrJob *j, const QmgrFileSpec *files, guint n_files, GError **error)
{
  QmgrGroup *g = j->group;
  QmgrManager *m = g->manager;
  guint old_len = j->files->len;
  guint64 old_size = qmgr_group_get_size (g);
  gint64 old_mtime = g->modification_time;
  QmgrGroupChange changes;

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
  if (g->state == QMGR_GROUP_STATE_COMPLETE)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE,
                   "Group %s is complete; no files can be added", g->id_str);
      return FALSE;
    }
  if (n_files == 0)
    return TRUE;

  for (guint i = 0; i < n_files; i++)
    {
      QmgrFile *f = qmgr_file_new (files[i].remote_url, files[i].local_path, files[i].size_hint);
      g_ptr_array_add (j->files, f);
      qmgr_job_tally (j, f);
    }
  g->modification_time = qmgr_manager_now (m);
  if (!qmgr_manager_save_group (m, g, error))
    {
      for (guint i = old_len; i < j->files->len; i++)
        qmgr_job_untally (j, file_at (j, i));
      g_ptr_array_set_size (j->files, old_len);
      g->modification_time = old_mtime;
      return FALSE;
    }
  for (guint i = old_len; i < j->files->len; i++)
    qmgr_manager_reserve_destination (m, g->owner, file_at (j, i));

  changes = QMGR_GROUP_CHANGED_FILES_TOTAL | QMGR_GROUP_CHANGED_MODIFICATION_TIME;
  if (qmgr_group_get_size (g) != old_size)
    changes |= QMGR_GROUP_CHANGED_SIZE;
  qmgr_manager_emit_job_changed (m, j, QMGR_JOB_CHANGED_FILE_COUNT);
  qmgr_manager_emit_group_changed (m, g, changes);
  return TRUE;
}

gboolean
qmgr_job_cancel (QmgrJob *j, GError **error)
{
  QmgrGroup *g = j->group;
  QmgrManager *m = g->manager;
  QmgrGroupState old_state = g->state;
  guint32 old_status = qmgr_group_get_status (g);
  const char *old_reason = qmgr_group_get_wait_reason (g);
  guint64 old_size = qmgr_group_get_size (g);
  gint64 old_mtime = g->modification_time, old_ctime = g->completion_time;
  QmgrGroupChange changes = QMGR_GROUP_CHANGED_MODIFICATION_TIME |
                            QMGR_GROUP_CHANGED_FILES_TOTAL;

  g->job = NULL;
  g->state = QMGR_GROUP_STATE_SUSPENDED;
  g->completion_time = 0;
  g->modification_time = qmgr_manager_now (m);
  if (!qmgr_manager_save_group (m, g, error))
    {
      g->job = j;
      g->state = old_state;
      g->completion_time = old_ctime;
      g->modification_time = old_mtime;
      return FALSE;
    }

  /* Listeners still find the job while they hear it is going (and remove its
   * temp files); the group's job pointer is restored for that moment. */
  g->job = j;
  qmgr_manager_emit_job_removing (m, j);
  qmgr_manager_unindex_job (m, j);
  g->job = NULL;
  qmgr_job_free (j);

  if (qmgr_group_get_status (g) != old_status)
    changes |= QMGR_GROUP_CHANGED_STATUS;
  if (strcmp (qmgr_group_get_wait_reason (g), old_reason) != 0)
    changes |= QMGR_GROUP_CHANGED_WAIT_REASON;
  if (old_size != 0)
    changes |= QMGR_GROUP_CHANGED_SIZE | QMGR_GROUP_CHANGED_BYTES_TOTAL;
  if (old_ctime != 0)
    changes |= QMGR_GROUP_CHANGED_COMPLETION_TIME;
  changes |= QMGR_GROUP_CHANGED_BYTES_TRANSFERRED | QMGR_GROUP_CHANGED_FILES_TRANSFERRED;
  qmgr_manager_emit_group_changed (m, g, changes);
  if (old_state == QMGR_GROUP_STATE_QUEUED)
    qmgr_manager_emit_stopped (m, g);
  return TRUE;
}

gboolean
qmgr_job_record_completion (QmgrJob *j, guint32 index, guint64 size,
                            QmgrCompletion *completion, GError **error)
{
  QmgrGroup *g = j->group;
  QmgrManager *m = g->manager;
  QmgrFile *f;
  QmgrFile saved;
  guint old_pending;
  gboolean all_done = TRUE;
  QmgrGroupState old_state = g->state;
  gint64 old_mtime = g->modification_time;
  guint32 old_status = qmgr_group_get_status (g);
  guint64 old_size = qmgr_group_get_size (g);

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

  saved = *f;
  qmgr_job_untally (j, f);
  f->complete = TRUE;
  f->bytes_total = size;
  f->bytes_transferred = size;
  qmgr_job_tally (j, f);
  all_done = j->n_complete == j->files->len;
  g->modification_time = qmgr_manager_now (m);
  if (all_done)
    {
      g->state = QMGR_GROUP_STATE_COMPLETE;
      g->completion_time = g->modification_time;
    }
  old_pending = g->pending_notifications->len;
  qmgr_group_queue_notification (g, QMGR_STATUS_EVENT_FILE_DONE, index);
  if (all_done)
    {
      qmgr_group_queue_notification (g, QMGR_STATUS_EVENT_JOB_DONE, QMGR_FILE_INDEX_NONE);
      qmgr_group_queue_notification (g, QMGR_STATUS_EVENT_GROUP_DONE, QMGR_FILE_INDEX_NONE);
    }
  for (guint i = old_pending; i < g->pending_notifications->len; i++)
    g_array_index (g->pending_notifications, QmgrPendingNotification, i).held = TRUE;
  /* Saved soon, with the other completions of the moment (a group is written
   * whole: once per completion would be quadratic in its files); announced
   * only once the caller has made it durable. */
  if (!qmgr_manager_save_group_soon (m, g, error))
    {
      g_array_set_size (g->pending_notifications, old_pending);
      qmgr_job_untally (j, f);
      *f = saved;
      qmgr_job_tally (j, f);
      g->state = old_state;
      g->completion_time = 0;
      g->modification_time = old_mtime;
      return FALSE;
    }

  completion->group_id = g->id;
  completion->job_id = j->id;
  completion->index = index;
  completion->all_done = all_done;
  completion->was_queued = old_state == QMGR_GROUP_STATE_QUEUED;
  completion->group_changes = QMGR_GROUP_CHANGED_MODIFICATION_TIME |
                              QMGR_GROUP_CHANGED_FILES_TRANSFERRED |
                              QMGR_GROUP_CHANGED_BYTES_TOTAL |
                              QMGR_GROUP_CHANGED_BYTES_TRANSFERRED;
  /* Usually known since the response; announced (at once: it is not a
   * counter) only when this is what makes it known or changes it. */
  if (qmgr_group_get_size (g) != old_size)
    completion->group_changes |= QMGR_GROUP_CHANGED_SIZE;
  if (all_done)
    {
      for (guint i = 0; i < j->files->len; i++)
        qmgr_manager_release_destination (m, g->owner, file_at (j, i));
      completion->group_changes |= QMGR_GROUP_CHANGED_STATUS | QMGR_GROUP_CHANGED_WAIT_REASON |
                                   QMGR_GROUP_CHANGED_COMPLETION_TIME;
    }
  completion->job_changes = QMGR_JOB_CHANGED_BYTES_TOTAL | QMGR_JOB_CHANGED_BYTES_TRANSFERRED |
                            (qmgr_group_get_status (g) != old_status ? QMGR_JOB_CHANGED_STATUS : 0);
  return TRUE;
}

void
qmgr_job_announce_completion (QmgrManager *m, const QmgrCompletion *c)
{
  QmgrGroup *g = qmgr_manager_lookup_group (m, c->group_id);
  QmgrJob *j = qmgr_manager_lookup_job (m, c->job_id);

  if (g == NULL)
    return;   /* cancelled meanwhile: its removal was announced instead */
  for (guint i = 0; i < g->pending_notifications->len; i++)
    g_array_index (g->pending_notifications, QmgrPendingNotification, i).held = FALSE;
  if (j == NULL || j->group != g)
    return;
  qmgr_manager_emit_group_changed (m, g, c->group_changes);
  qmgr_manager_emit_job_changed (m, j, c->job_changes);
  qmgr_manager_emit_status_event (m, g, c->index, QMGR_STATUS_EVENT_FILE_DONE);
  if (c->all_done)
    {
      qmgr_manager_emit_status_event (m, g, QMGR_FILE_INDEX_NONE, QMGR_STATUS_EVENT_JOB_DONE);
      qmgr_manager_emit_status_event (m, g, QMGR_FILE_INDEX_NONE, QMGR_STATUS_EVENT_GROUP_DONE);
      if (c->was_queued)
        qmgr_manager_emit_stopped (m, g);
    }
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
  qmgr_job_announce_completion (m, &c);
  return durable;
}
