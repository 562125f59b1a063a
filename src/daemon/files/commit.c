/* qmgrd files — completed downloads made durable in batches (see commit.h).
 *
 * A batch is handed to one long-lived worker thread, which
 *   1. gives each temp file its final mode and mtime,
 *   2. syncs the temp files' data,
 *   3. renames each over its destination (unless cancelled),
 *   4. syncs each directory that received a file, once, and closes the files;
 * then the main loop reports each file (not cancelled) complete or failed. The
 * main loop keeps transferring meanwhile: every system call of a commit after
 * the last write of the body happens on the worker. While the worker holds a
 * batch, the main loop writes only an item's cancel flag (atomic; a cancel
 * that comes after the worker looked at it is too late, as one after the
 * rename is); the worker writes only its results. The next batch starts when
 * one has been reported. */
#include "commit.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qmgr-io.h"

/* Up to this many files, an fsync each; above, one syncfs per file system
 * (which also writes whatever else is dirty there, as `sync -f` does). */
#define FSYNC_EACH_MAX 2

typedef struct {
  QmgrTempFile *tf;           /* freed (closed) by the worker at step 4 */
  gint64 mtime;
  gpointer data;
  gint cancelled;             /* atomic: set by the main loop */
  GError *error;              /* the first step that failed for this file */
  gboolean installed;         /* renamed in step 3 */
  gboolean sync_dir;          /* step 4 syncs this item's directory */
  GError *dir_error;          /* step 4's result for it */
} Item;


typedef struct {
  GSource source;
  QmgrCommitQueue *queue;
} CommitSource;

struct _QmgrCommitQueue {
  QmgrCommitDone done;
  QmgrCommitBatchHook batch_begin;
  QmgrCommitBatchHook batch_end;
  gpointer user_data;
  GMainContext *context;
  GSource *source;            /* dispatched when the worker has finished a batch */
  GArray *queued;             /* Item: waiting for the next batch */
  GArray *batch;              /* Item: in steps 1 to 3; NULL when idle */
  GArray *finishing;          /* Item: the batch whose callbacks are running */

  GThread *thread;
  GMutex lock;
  GCond cond;
  GArray *work;               /* under lock: the batch handed to the worker */
  gboolean stop;
  gint worker_done;           /* atomic: the worker finished the batch it was given */
};

static void
item_clear (Item *item)
{
  qmgr_temp_file_free (item->tf);
  g_clear_error (&item->error);
  g_clear_error (&item->dir_error);
}

/* ---- the worker ---- */

static gboolean
same_directory (const Item *a, const Item *b)
{
  /* As the destinations name them: a directory reached by two paths is synced
   * twice, which is harmless. */
  return strcmp (a->tf->dir_path, b->tf->dir_path) == 0;
}

static gboolean
pending (const Item *item)
{
  return item->error == NULL && !g_atomic_int_get (&item->cancelled);
}

/* Step 1. */
static void
finish_files (GArray *batch)
{
  for (guint i = 0; i < batch->len; i++)
    {
      Item *item = &g_array_index (batch, Item, i);
      if (pending (item))
        qmgr_temp_file_finish (item->tf, item->mtime, &item->error);
    }
}

/* Step 2: an fsync each for a small batch, else one syncfs per file system
 * (found with one fstat per directory: a file is on its directory's). */
static gboolean
sync_files (GArray *batch, GError **error)
{
  g_autoptr(GArray) devices = g_array_new (FALSE, FALSE, sizeof (dev_t));
  g_autoptr(GPtrArray) dirs = g_ptr_array_new ();

  if (batch->len <= FSYNC_EACH_MAX)
    {
      for (guint i = 0; i < batch->len; i++)
        {
          Item *item = &g_array_index (batch, Item, i);
          if (pending (item) && !qmgr_temp_file_sync (item->tf, error))
            return FALSE;
        }
      return TRUE;
    }
  for (guint i = 0; i < batch->len; i++)
    {
      Item *item = &g_array_index (batch, Item, i);
      gboolean seen = FALSE;
      struct stat st;

      if (!pending (item))
        continue;
      for (guint k = 0; k < dirs->len && !seen; k++)
        seen = same_directory (g_ptr_array_index (dirs, k), item);
      if (seen)
        continue;
      g_ptr_array_add (dirs, item);
      if (fstat (item->tf->fd, &st) < 0)
        return qmgr_io_set_error (error, errno, "inspect", item->tf->name);
      for (guint k = 0; k < devices->len && !seen; k++)
        seen = g_array_index (devices, dev_t, k) == st.st_dev;
      if (seen)
        continue;
      g_array_append_val (devices, st.st_dev);
      if (syncfs (item->tf->fd) < 0)
        return qmgr_io_set_error (error, errno, "sync the file system of", item->tf->name);
    }
  return TRUE;
}

/* Step 3: renames; marks the first item of each directory for step 4. */
static void
install_batch (GArray *batch, const GError *sync_error)
{
  for (guint i = 0; i < batch->len; i++)
    {
      Item *item = &g_array_index (batch, Item, i);
      gboolean first = TRUE;

      if (!pending (item))
        continue;
      if (sync_error != NULL)
        {
          item->error = g_error_copy (sync_error);
          continue;
        }
      if (!qmgr_temp_file_install (item->tf, &item->error))
        continue;
      item->installed = TRUE;
      for (guint k = 0; k < i && first; k++)
        {
          Item *other = &g_array_index (batch, Item, k);
          first = !other->sync_dir || !same_directory (other, item);
        }
      item->sync_dir = first;
    }
}

/* Step 4. A directory that could not be synced puts every file renamed into
 * it in doubt. The files are closed here, off the main loop. */
static void
sync_dirs (GArray *batch)
{
  for (guint i = 0; i < batch->len; i++)
    {
      Item *item = &g_array_index (batch, Item, i);
      if (item->sync_dir)
        qmgr_temp_file_sync_dir (item->tf, &item->dir_error);
    }
  for (guint i = 0; i < batch->len; i++)
    {
      Item *synced = &g_array_index (batch, Item, i);

      if (synced->dir_error == NULL)
        continue;
      for (guint k = 0; k < batch->len; k++)
        {
          Item *item = &g_array_index (batch, Item, k);
          if (item->installed && item->error == NULL && same_directory (item, synced))
            item->error = g_error_copy (synced->dir_error);
        }
    }
  for (guint i = 0; i < batch->len; i++)
    g_clear_pointer (&g_array_index (batch, Item, i).tf, qmgr_temp_file_free);
}

static gpointer
worker (gpointer data)
{
  QmgrCommitQueue *q = data;

  g_mutex_lock (&q->lock);
  for (;;)
    {
      GArray *batch;
      GError *sync_error = NULL;

      while (q->work == NULL && !q->stop)
        g_cond_wait (&q->cond, &q->lock);
      if (q->work == NULL)
        break;
      batch = q->work;
      g_mutex_unlock (&q->lock);

      finish_files (batch);
      sync_files (batch, &sync_error);
      install_batch (batch, sync_error);
      sync_dirs (batch);
      g_clear_error (&sync_error);

      g_mutex_lock (&q->lock);
      q->work = NULL;
      g_atomic_int_set (&q->worker_done, 1);
      g_main_context_wakeup (q->context);
    }
  g_mutex_unlock (&q->lock);
  return NULL;
}

/* ---- the main loop's part ---- */

static void
start_batch (QmgrCommitQueue *q)
{
  if (q->batch != NULL || q->queued->len == 0)
    return;
  q->batch = q->queued;
  q->queued = g_array_new (FALSE, FALSE, sizeof (Item));
  g_array_set_clear_func (q->queued, (GDestroyNotify) item_clear);
  g_mutex_lock (&q->lock);
  g_atomic_int_set (&q->worker_done, 0);
  q->work = q->batch;
  g_cond_signal (&q->cond);
  g_mutex_unlock (&q->lock);
}

/* Then the main loop: the callbacks may queue new files, or cancel others of
 * this batch (see qmgr_commit_queue_cancel). */
static void
report_batch (QmgrCommitQueue *q)
{
  g_autoptr(GArray) batch = g_steal_pointer (&q->batch);

  q->finishing = batch;
  if (q->batch_begin != NULL)
    q->batch_begin (q->user_data);
  for (guint i = 0; i < batch->len; i++)
    {
      Item *item = &g_array_index (batch, Item, i);
      if (!g_atomic_int_get (&item->cancelled))
        q->done (item->data, item->error, q->user_data);
    }
  if (q->batch_end != NULL)
    q->batch_end (q->user_data);
  q->finishing = NULL;
  start_batch (q);
}

static gboolean
commit_source_ready (GSource *source, gint *timeout)
{
  QmgrCommitQueue *q = ((CommitSource *) source)->queue;

  if (timeout != NULL)
    *timeout = -1;
  return q->batch != NULL && g_atomic_int_get (&q->worker_done);
}

static gboolean
commit_source_check (GSource *source)
{
  return commit_source_ready (source, NULL);
}

static gboolean
commit_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  report_batch (((CommitSource *) source)->queue);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs commit_source_funcs = {
  .prepare = commit_source_ready,
  .check = commit_source_check,
  .dispatch = commit_source_dispatch,
};

void
qmgr_commit_queue_set_batch_hooks (QmgrCommitQueue *q, QmgrCommitBatchHook begin,
                                   QmgrCommitBatchHook end)
{
  q->batch_begin = begin;
  q->batch_end = end;
}

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
  g_mutex_init (&q->lock);
  g_cond_init (&q->cond);
  qmgr_temp_file_init ();   /* main() did already; a no-op then (tests) */
  q->thread = g_thread_new ("qmgrd-commit", worker, q);
  return q;
}

void
qmgr_commit_queue_free (QmgrCommitQueue *q)
{
  if (q == NULL)
    return;
  /* The worker finishes the batch it has, then leaves. */
  g_mutex_lock (&q->lock);
  q->stop = TRUE;
  g_cond_signal (&q->cond);
  g_mutex_unlock (&q->lock);
  g_thread_join (q->thread);
  g_mutex_clear (&q->lock);
  g_cond_clear (&q->cond);
  if (q->batch != NULL)
    {
      g_array_set_clear_func (q->batch, (GDestroyNotify) item_clear);
      g_array_unref (q->batch);
    }
  g_array_unref (q->queued);
  g_source_destroy (q->source);
  g_source_unref (q->source);
  g_main_context_unref (q->context);
  g_free (q);
}

void
qmgr_commit_queue_add (QmgrCommitQueue *q, QmgrTempFile *tf, gint64 mtime, gpointer data)
{
  Item item = { .tf = tf, .mtime = mtime, .data = data };

  g_array_append_val (q->queued, item);
  start_batch (q);
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
  /* In the batch the worker may hold (its fd stays open until the batch is
   * done), or in the batch being reported. */
  for (guint i = 0; q->batch != NULL && i < q->batch->len; i++)
    if (g_array_index (q->batch, Item, i).data == data)
      g_atomic_int_set (&g_array_index (q->batch, Item, i).cancelled, TRUE);
  for (guint i = 0; q->finishing != NULL && i < q->finishing->len; i++)
    if (g_array_index (q->finishing, Item, i).data == data)
      g_atomic_int_set (&g_array_index (q->finishing, Item, i).cancelled, TRUE);
}
