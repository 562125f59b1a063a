/* qmgrd files — completed downloads made durable in batches (see commit.h).
 *
 * Threads: the worker only syncs the temp files of the batch it was given (the
 * batch is not touched by the main loop while it runs) and then wakes the main
 * context; everything else — renames, directory syncs, callbacks, the queue —
 * belongs to the main loop. */
#include "commit.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

/* Up to this many files, an fsync each; above, one syncfs per file system
 * (which also writes whatever else is dirty there, as `sync -f` does). */
#define FSYNC_EACH_MAX 2

typedef struct {
  QmgrTempFile *tf;
  gpointer data;
  gboolean cancelled;
} Item;

typedef struct {
  GSource source;
  QmgrCommitQueue *queue;
} CommitSource;

struct _QmgrCommitQueue {
  QmgrCommitDone done;
  gpointer user_data;
  GMainContext *context;
  GSource *source;            /* dispatched when the worker has finished */
  GArray *queued;             /* Item: waiting for the next batch */
  GArray *syncing;            /* Item: the worker's batch; NULL when idle */
  GArray *finishing;          /* Item: the batch whose callbacks are running */
  GThread *thread;
  GError *sync_error;         /* the worker's result */
  gint synced;                /* atomic: the worker has finished */
};

static void
item_clear (Item *item)
{
  qmgr_temp_file_free (item->tf);
}

/* ---- the worker ---- */

static gboolean
sync_batch (GArray *batch, GError **error)
{
  g_autoptr(GArray) devices = g_array_new (FALSE, FALSE, sizeof (dev_t));

  if (batch->len <= FSYNC_EACH_MAX)
    {
      for (guint i = 0; i < batch->len; i++)
        if (!qmgr_temp_file_sync (g_array_index (batch, Item, i).tf, error))
          return FALSE;
      return TRUE;
    }
  for (guint i = 0; i < batch->len; i++)
    {
      QmgrTempFile *tf = g_array_index (batch, Item, i).tf;
      struct stat st;
      gboolean seen = FALSE;

      if (fstat (tf->fd, &st) < 0)
        return qmgr_temp_file_set_error (error, errno, "examine", tf->name);
      for (guint k = 0; k < devices->len && !seen; k++)
        seen = g_array_index (devices, dev_t, k) == st.st_dev;
      if (seen)
        continue;
      g_array_append_val (devices, st.st_dev);
      if (syncfs (tf->fd) < 0)
        return qmgr_temp_file_set_error (error, errno, "sync the file system of", tf->name);
    }
  return TRUE;
}

static gpointer
worker (gpointer data)
{
  QmgrCommitQueue *q = data;

  sync_batch (q->syncing, &q->sync_error);
  g_atomic_int_set (&q->synced, 1);
  g_main_context_wakeup (q->context);
  return NULL;
}

static void
start_batch (QmgrCommitQueue *q)
{
  if (q->thread != NULL || q->queued->len == 0)
    return;
  q->syncing = q->queued;
  q->queued = g_array_new (FALSE, FALSE, sizeof (Item));
  g_array_set_clear_func (q->queued, (GDestroyNotify) item_clear);
  g_atomic_int_set (&q->synced, 0);
  q->thread = g_thread_new ("qmgrd-commit", worker, q);
}

/* ---- the main loop's part ---- */

static void
free_error (gpointer error)
{
  if (error != NULL)
    g_error_free (error);
}

static void
finish_batch (QmgrCommitQueue *q)
{
  g_autoptr(GArray) batch = g_steal_pointer (&q->syncing);
  g_autoptr(GError) sync_error = g_steal_pointer (&q->sync_error);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_full (batch->len, free_error);
  g_autofree struct stat *dirs = g_new0 (struct stat, batch->len);

  g_thread_join (q->thread);
  q->thread = NULL;

  /* Renames first, then each directory synced once. */
  for (guint i = 0; i < batch->len; i++)
    {
      Item *item = &g_array_index (batch, Item, i);
      GError *error = NULL;

      if (!item->cancelled && sync_error != NULL)
        error = g_error_copy (sync_error);
      else if (!item->cancelled && qmgr_temp_file_install (item->tf, &error) &&
               fstat (item->tf->dir_fd, &dirs[i]) < 0)
        qmgr_temp_file_set_error (&error, errno, "examine the directory of", item->tf->dest_name);
      g_ptr_array_add (errors, error);
    }
  for (guint i = 0; i < batch->len; i++)
    {
      Item *item = &g_array_index (batch, Item, i);
      GError *error = NULL;
      gboolean first = TRUE;

      if (item->cancelled || g_ptr_array_index (errors, i) != NULL)
        continue;
      for (guint k = 0; k < i && first; k++)
        first = g_array_index (batch, Item, k).cancelled || g_ptr_array_index (errors, k) != NULL ||
                dirs[k].st_dev != dirs[i].st_dev || dirs[k].st_ino != dirs[i].st_ino;
      if (!first || qmgr_temp_file_sync_dir (item->tf, &error))
        continue;
      /* Every file renamed into that directory is in doubt. */
      for (guint k = i; k < batch->len; k++)
        if (!g_array_index (batch, Item, k).cancelled && g_ptr_array_index (errors, k) == NULL &&
            dirs[k].st_dev == dirs[i].st_dev && dirs[k].st_ino == dirs[i].st_ino)
          g_ptr_array_index (errors, k) = g_error_copy (error);
      g_error_free (error);
    }

  /* The temp files go before the callbacks, which may queue new ones, or
   * cancel others of this batch (see qmgr_commit_queue_cancel). */
  g_array_set_clear_func (batch, NULL);
  for (guint i = 0; i < batch->len; i++)
    g_clear_pointer (&g_array_index (batch, Item, i).tf, qmgr_temp_file_free);
  q->finishing = batch;
  for (guint i = 0; i < batch->len; i++)
    {
      Item *item = &g_array_index (batch, Item, i);
      if (!item->cancelled)
        q->done (item->data, g_ptr_array_index (errors, i), q->user_data);
    }
  q->finishing = NULL;
  start_batch (q);
}

static gboolean
commit_source_ready (GSource *source, gint *timeout)
{
  QmgrCommitQueue *q = ((CommitSource *) source)->queue;

  if (timeout != NULL)
    *timeout = -1;
  return q->thread != NULL && g_atomic_int_get (&q->synced);
}

static gboolean
commit_source_check (GSource *source)
{
  return commit_source_ready (source, NULL);
}

static gboolean
commit_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  finish_batch (((CommitSource *) source)->queue);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs commit_source_funcs = {
  .prepare = commit_source_ready,
  .check = commit_source_check,
  .dispatch = commit_source_dispatch,
};

QmgrCommitQueue *
qmgr_commit_queue_new (QmgrCommitDone done, gpointer user_data)
{
  QmgrCommitQueue *q = g_new0 (QmgrCommitQueue, 1);

  q->done = done;
  q->user_data = user_data;
  q->context = g_main_context_ref_thread_default ();
  q->queued = g_array_new (FALSE, FALSE, sizeof (Item));
  g_array_set_clear_func (q->queued, (GDestroyNotify) item_clear);
  q->source = g_source_new (&commit_source_funcs, sizeof (CommitSource));
  ((CommitSource *) q->source)->queue = q;
  g_source_set_name (q->source, "qmgrd-commit");
  g_source_attach (q->source, q->context);
  return q;
}

void
qmgr_commit_queue_free (QmgrCommitQueue *q)
{
  if (q == NULL)
    return;
  if (q->thread != NULL)
    g_thread_join (q->thread);
  g_clear_error (&q->sync_error);
  if (q->syncing != NULL)
    {
      g_array_set_clear_func (q->syncing, (GDestroyNotify) item_clear);
      g_array_unref (q->syncing);
    }
  g_array_unref (q->queued);
  g_source_destroy (q->source);
  g_source_unref (q->source);
  g_main_context_unref (q->context);
  g_free (q);
}

gboolean
qmgr_commit_queue_add (QmgrCommitQueue *q, QmgrTempFile *tf, gint64 mtime, gpointer data,
                       GError **error)
{
  Item item = { tf, data, FALSE };

  if (!qmgr_temp_file_finish (tf, mtime, error))
    return FALSE;
  g_array_append_val (q->queued, item);
  start_batch (q);
  return TRUE;
}

void
qmgr_commit_queue_cancel (QmgrCommitQueue *q, gpointer data)
{
  for (guint i = 0; i < q->queued->len; i++)
    if (g_array_index (q->queued, Item, i).data == data)
      {
        g_array_remove_index (q->queued, i);   /* frees the temp file */
        return;
      }
  /* In the worker's batch (its fd stays open until the batch is done), or in
   * the batch being reported. */
  for (guint i = 0; q->syncing != NULL && i < q->syncing->len; i++)
    if (g_array_index (q->syncing, Item, i).data == data)
      g_array_index (q->syncing, Item, i).cancelled = TRUE;
  for (guint i = 0; q->finishing != NULL && i < q->finishing->len; i++)
    if (g_array_index (q->finishing, Item, i).data == data)
      g_array_index (q->finishing, Item, i).cancelled = TRUE;
}
