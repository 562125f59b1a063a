/* qmgrd core — private to core/: the one commit path (QmgrTxn) and the
 * manager's indexes. The model's calls run downward (manager → group → job →
 * file); a child reaches its parent only through a transaction (to be saved
 * and announced) and the manager's registry below (GUIDs, quotas, destination
 * reservations). No other layer includes this header. */
#pragma once

#include "manager.h"

G_BEGIN_DECLS

/* ---- the transaction ----
 *
 * qmgr_txn_begin() notes what listeners may need to hear (status, wait reason,
 * sizes, counters: every derived value); the qmgr_txn_set_*() calls change
 * fields and remember the old values; qmgr_txn_commit() saves the group
 * through the store hooks and then either puts every old value back (the save
 * failed: listeners hear nothing) or releases them, runs the on-success steps,
 * and tells listeners what changed — the changes named by the setters plus
 * every derived value that differs from the start — in one order: group
 * changes, job changes, status events, then runnable/stopped when the group
 * entered or left the queue. */

typedef enum {
  QMGR_SAVE_NOW,     /* durable before the call returns (or its batch ends) */
  QMGR_SAVE_SOON,    /* what the daemon learns by itself: batched, a crash
                      * in between loses only what will be learned again */
  QMGR_SAVE_NONE,    /* memory only: progress, the scheduler's view */
} QmgrSaveMode;

typedef void (*QmgrTxnFunc) (QmgrGroup *group, gpointer data);

typedef struct {
  guint32 status;
  const char *wait_reason;
  guint64 size;
  guint64 bytes_total;
  guint64 bytes_transferred;
  guint32 files_total;
  guint32 files_transferred;
  guint32 transfer_policy;
  gint64 completion_time;
  guint32 job_status;
  uid_t owner;
  guint64 string_bytes;
} QmgrTxnView;

typedef struct {
  QmgrManager *manager;
  QmgrGroup *group;           /* NULL: the manager's settings */
  QmgrJob *job;               /* the job at the start (listeners hear its changes) */
  QmgrGroupState state;
  QmgrTxnView before;
  GArray *undo;               /* UndoEntry, newest last */
  GArray *on_success;         /* Step */
  GArray *events;             /* Event: status events to emit */
  QmgrGroupChange group_changes;
  QmgrJobChange job_changes;
  QmgrManagerChange manager_changes;
  QmgrGroupDelta delta;
  gpointer queue_undo;        /* group.c: callbacks queued by this change */
} QmgrTxn;

void qmgr_txn_begin (QmgrTxn *txn, QmgrGroup *group);
void qmgr_txn_begin_manager (QmgrTxn *txn, QmgrManager *manager);

/* Sets *@field (of the group, its job or a file) to @value and remembers the
 * old value; @change (may be 0) is announced on success. */
void qmgr_txn_set_bytes (QmgrTxn *txn, gpointer field, gconstpointer value, gsize size);
#define qmgr_txn_set(txn, field, value)                                       \
  G_STMT_START {                                                              \
    __typeof__ (*(field)) txn_v_ = (value);                                   \
    qmgr_txn_set_bytes ((txn), (field), &txn_v_, sizeof txn_v_);              \
  } G_STMT_END
/* A string field: the new value is copied; a @secret old value (a password)
 * is wiped when it is let go. */
void qmgr_txn_set_string (QmgrTxn *txn, char **field, const char *value, gboolean secret);
/* The modification time becomes now. */
void qmgr_txn_touch (QmgrTxn *txn);
/* A change the txn cannot see by comparing (a setter's own property). */
void qmgr_txn_changed (QmgrTxn *txn, QmgrGroupChange group_changes, QmgrJobChange job_changes);
/* For the store: which parts of the group this changes (the setters above
 * mark the header). */
void qmgr_txn_file_changed (QmgrTxn *txn, guint index);
void qmgr_txn_files_appended (QmgrTxn *txn, guint first);
void qmgr_txn_notifications_changed (QmgrTxn *txn);
/* @undo runs if the save fails (before the fields are put back); @done after
 * a successful save, before listeners hear of it. */
void qmgr_txn_on_failure (QmgrTxn *txn, QmgrTxnFunc undo, gpointer data);
void qmgr_txn_on_success (QmgrTxn *txn, QmgrTxnFunc done, gpointer data);
/* An OnStatus event to announce with the change. */
void qmgr_txn_status_event (QmgrTxn *txn, guint32 file_index, QmgrStatusEvent event);

gboolean qmgr_txn_commit (QmgrTxn *txn, QmgrSaveMode mode, GError **error);
/* Like commit, but nothing is announced yet: @announcement receives what to
 * announce later, with qmgr_manager_announce_completion(). */
gboolean qmgr_txn_commit_deferred (QmgrTxn *txn, QmgrSaveMode mode,
                                   QmgrCompletion *announcement, GError **error);
/* Gives up without saving: every change is put back. */
void qmgr_txn_abort (QmgrTxn *txn);

/* ---- the manager's registry ---- */

void qmgr_manager_emit_group_changed (QmgrManager *manager, QmgrGroup *group,
                                      QmgrGroupChange changes);
void qmgr_manager_emit_job_changed (QmgrManager *manager, QmgrJob *job, QmgrJobChange changes);
void qmgr_manager_emit_manager_changed (QmgrManager *manager, QmgrManagerChange changes);
void qmgr_manager_emit_job_added (QmgrManager *manager, QmgrJob *job);
void qmgr_manager_emit_job_removing (QmgrManager *manager, QmgrJob *job);
void qmgr_manager_emit_runnable (QmgrManager *manager, QmgrGroup *group);
void qmgr_manager_emit_stopped (QmgrManager *manager, QmgrGroup *group);
void qmgr_manager_emit_status_event (QmgrManager *manager, QmgrGroup *group, guint32 file_index,
                                     QmgrStatusEvent event);

gboolean qmgr_manager_save_group (QmgrManager *manager, QmgrGroup *group,
                                  const QmgrGroupDelta *delta, QmgrSaveMode mode, GError **error);
gboolean qmgr_manager_save_settings (QmgrManager *manager, GError **error);
gboolean qmgr_manager_delete_group_from_store (QmgrManager *manager, QmgrGroup *group,
                                               GError **error);

/* A fresh GUID for @text ("" generates one); InvalidArgs when malformed or in use. */
gboolean qmgr_manager_claim_guid (QmgrManager *manager, const char *text, QmgrGuid *id,
                                  GError **error);
void qmgr_manager_index_job (QmgrManager *manager, QmgrJob *job);
void qmgr_manager_unindex_job (QmgrManager *manager, QmgrJob *job);
/* Destination reservations of incomplete groups. */
gboolean qmgr_manager_destination_taken (QmgrManager *manager, uid_t owner, const char *path);
void qmgr_manager_reserve_destination (QmgrManager *manager, uid_t owner, QmgrFile *file);
void qmgr_manager_release_destination (QmgrManager *manager, uid_t owner, QmgrFile *file);
gboolean qmgr_manager_check_destination (QmgrManager *manager, uid_t owner, const char *path,
                                         GError **error);
/* LimitsExceeded when @owner has all the groups the quota allows. */
gboolean qmgr_manager_owner_has_room (QmgrManager *manager, uid_t owner, GError **error);
/* LimitsExceeded when @owner holding @files more files or @bytes more bytes of
 * group strings would pass the quotas. */
gboolean qmgr_manager_owner_can_hold (QmgrManager *manager, uid_t owner, guint64 files,
                                      guint64 bytes, GError **error);
/* What @owner holds changes (a transaction's commit does this for its group). */
void qmgr_manager_owner_charge (QmgrManager *manager, uid_t owner, int groups, gint64 files,
                                gint64 bytes);
/* Moves the group's destination reservations from @old_owner. */
void qmgr_manager_change_owner (QmgrManager *manager, QmgrGroup *group, uid_t old_owner);
/* Tells listeners, unindexes and frees a group whose store entry is gone. */
void qmgr_manager_remove_group (QmgrManager *manager, QmgrGroup *group);

/* Queues the OnStatus callback @event owes, if NOTIFYFLAGS ask for one and
 * there is someone to call (group.c); at most QMGR_PENDING_NOTIFICATIONS_MAX
 * are kept. qmgr_group_hold_queued() holds those queued by @txn until their
 * event is durable (qmgr_manager_announce_completion releases them). */
void qmgr_group_queue_notification (QmgrTxn *txn, QmgrStatusEvent event, guint32 file_index);
void qmgr_group_hold_queued (QmgrTxn *txn);

G_END_DECLS
