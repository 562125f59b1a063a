/* qmgrd files — completed downloads made durable in batches.
 *
 * A finished temp file joins the queue. The files that finished while the
 * previous batch was being synced form the next batch: a worker thread gives
 * each its final mode and mtime, makes their data durable (one syncfs per file
 * system, or an fsync per file for a batch of one or two), renames each over
 * its destination, syncs each directory once and closes the files; only then
 * does the main loop report them complete. A file is never renamed before its
 * bytes are on disk; a crash before the rename leaves a complete temp file,
 * which the next start resumes with nothing left to fetch. */
#pragma once

#include "tempfile.h"

G_BEGIN_DECLS

typedef struct _QmgrCommitQueue QmgrCommitQueue;

/* Called from the main loop for each file added and not cancelled: @error is
 * NULL when the file is in place and durable. The temp file is freed either
 * way. On error the file stays on disk as a temp file for a retry, unless only
 * the directory could not be synced: then it is in place already, not yet
 * known to be durable. */
typedef void (*QmgrCommitDone) (gpointer data, const GError *error, gpointer user_data);

QmgrCommitQueue *qmgr_commit_queue_new (QmgrCommitDone done, gpointer user_data);
/* Called from the main loop before and after the @done calls of each batch
 * (either may be NULL), so that the caller can make what it records of the
 * batch durable together. */
typedef void (*QmgrCommitBatchHook) (gpointer user_data);

void qmgr_commit_queue_set_batch_hooks (QmgrCommitQueue *q, QmgrCommitBatchHook begin,
                                        QmgrCommitBatchHook end);
/* Waits for a sync in progress; files not yet renamed stay as temp files. */
void qmgr_commit_queue_free (QmgrCommitQueue *q);

/* Queues @tf, taking it, to get its final mode (0666 & ~umask) and mtime (unix
 * seconds; 0: leave), then be synced and renamed; @done reports the outcome. */
void qmgr_commit_queue_add (QmgrCommitQueue *q, QmgrTempFile *tf, gint64 mtime, gpointer data);

/* The file queued with @data will not be renamed (unless it is already) and
 * @done will not be called for it. */
void qmgr_commit_queue_cancel (QmgrCommitQueue *q, gpointer data);

G_END_DECLS
