/* qmgrd core — a Job (IBackgroundCopyJob1) and its ordered files. */
#pragma once

#include "model.h"

G_BEGIN_DECLS

typedef struct {
  const char *remote_url;
  const char *local_path;
  guint64 size_hint;
} QmgrFileSpec;

/* All or nothing: every entry is checked before any is added. */
gboolean qmgr_job_add_files (QmgrJob *job, const QmgrFileSpec *files, guint n_files,
                             GError **error);
const QmgrFile *qmgr_job_get_file (QmgrJob *job, guint32 index, GError **error);
guint32 qmgr_job_get_file_count (QmgrJob *job);
guint32 qmgr_job_get_status (QmgrJob *job);
guint64 qmgr_job_get_bytes_total (QmgrJob *job);
guint64 qmgr_job_get_bytes_transferred (QmgrJob *job);
gboolean qmgr_job_get_progress (QmgrJob *job, guint32 flags, guint32 *progress, GError **error);
gboolean qmgr_job_get_file_status (QmgrJob *job, guint32 index, guint32 *status,
                                   guint64 *bytes_total, guint64 *bytes_transferred,
                                   QmgrTransferError *error_code, const char **error_message,
                                   GError **error);
/* Removes the job and frees it; the group becomes empty and suspended. */
gboolean qmgr_job_cancel (QmgrJob *job, GError **error);

/* What a completed file makes listeners hear, once it is durable: recorded by
 * qmgr_job_record_completion(), announced by qmgr_manager_announce_completion(). */
typedef struct {
  QmgrGuid group_id;
  QmgrGuid job_id;
  QmgrGroupChange group_changes;
  QmgrJobChange job_changes;
  guint n_events;
  struct {
    guint32 file_index;
    QmgrStatusEvent event;
  } events[4];
  gboolean stopped;           /* the group left the queue */
  gboolean all_done;          /* the group is complete */
} QmgrCompletion;

/* The transfer engine's seam: a file's bytes are all in place. When it was the
 * last file the job and the group become complete.
 *
 * Whoever hears of a completion may take the file, so no one may hear of one a
 * crash could still undo: qmgr_job_record_completion() saves it soon and fills
 * @completion with what to announce; once qmgr_manager_sync_store() has made
 * it durable, qmgr_manager_announce_completion() announces it (a job cancelled
 * meanwhile is skipped) and releases the callbacks it queued, which are held
 * until then. qmgr_job_file_completed() does all three. */
gboolean qmgr_job_record_completion (QmgrJob *job, guint32 index, guint64 size,
                                     QmgrCompletion *completion, GError **error);
void qmgr_manager_announce_completion (QmgrManager *manager, const QmgrCompletion *completion);
gboolean qmgr_job_file_completed (QmgrJob *job, guint32 index, guint64 size, GError **error);

/* ---- what the scheduler learns about a file (file-state.c) ---- */

/* Bytes in the temp file now; memory only (the temp file is the truth).
 * Returns whether the file got further than it ever was: progress, which
 * resets num_retries (and which the scheduler times NoProgressTimeout by). */
gboolean qmgr_job_file_progress (QmgrJob *job, guint32 index, guint64 bytes_transferred);
/* The first response of an attempt proved the size (QMGR_SIZE_UNKNOWN if it did
 * not) and gave a validator (NULL if none), recorded durably when they
 * changed: before this returns when the validator replaces another (a resume
 * after a crash must never trust the old one), else soon. */
gboolean qmgr_job_file_response (QmgrJob *job, guint32 index, guint64 bytes_total,
                                 const char *validator, GError **error);
/* The server's file changed: start again from byte 0 (the temp file is empty). */
void qmgr_job_file_restart (QmgrJob *job, guint32 index);
void qmgr_job_set_current_file (QmgrJob *job, guint32 index);
/* A transient failure: LastError is set, the retry count grows, the group waits
 * (WaitReason "retrying"). @last_progress (µs since the epoch) is when the
 * group last made progress: the first failure since records it in
 * QmgrGroup.retrying_since, which progress or a resume clears. */
gboolean qmgr_job_file_transient_error (QmgrJob *job, guint32 index, QmgrTransferError code,
                                        const char *message, guint32 win32_result,
                                        guint32 transport_result, gint64 last_progress,
                                        GError **error);
/* The same; the retry count grows only if @count_retry (the scheduler does not
 * count a failure while the network's connectivity is limited). */
gboolean qmgr_job_file_transient_error_full (QmgrJob *job, guint32 index, QmgrTransferError code,
                                             const char *message, guint32 win32_result,
                                             guint32 transport_result, gint64 last_progress,
                                             gboolean count_retry, GError **error);
/* A fatal failure: the group goes to ERROR|SUSPENDED and listeners hear
 * QMGR_STATUS_EVENT_FATAL_ERROR. */
gboolean qmgr_job_file_fatal_error (QmgrJob *job, guint32 index, QmgrTransferError code,
                                    const char *message, guint32 win32_result,
                                    guint32 transport_result, GError **error);

/* Allocation only: for the group and the store. */
QmgrJob *qmgr_job_new (QmgrGroup *group, QmgrGuid id);
/* A file's part of the job's tallies: taken out before its size, bytes or
 * completion change, put back after. qmgr_job_recount() sums them anew (after
 * files were loaded); qmgr_job_tallies_hold() checks them (tests). */
void qmgr_job_untally (QmgrJob *job, const QmgrFile *file);
void qmgr_job_tally (QmgrJob *job, const QmgrFile *file);
void qmgr_job_recount (QmgrJob *job);
gboolean qmgr_job_tallies_hold (QmgrJob *job);
void qmgr_job_free (QmgrJob *job);
QmgrFile *qmgr_file_new (const char *remote_url, const char *local_path, guint64 size_hint);
void qmgr_file_free (QmgrFile *file);

G_END_DECLS
