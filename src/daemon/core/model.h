/* qmgrd core — the QMGR object model: Manager ─► Group ─► Job ─► File.
 * Plain structs over GLib types. Other layers read the fields; every change goes
 * through the functions in manager.h / group.h / job.h, which validate, make the
 * change in one transaction (core-private.h: persisted through the store hooks,
 * undone if that fails) and only then tell listeners (QmgrManagerListener).
 * Nothing here knows D-Bus: object paths, interface and bus names belong to
 * bus/. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "qmgr-clock.h"
#include "qmgr-error.h"
#include "qmgr-guid.h"

G_BEGIN_DECLS

typedef struct _QmgrManager QmgrManager;
typedef struct _QmgrGroup QmgrGroup;
typedef struct _QmgrJob QmgrJob;
typedef struct _QmgrFile QmgrFile;

typedef enum {
  QMGR_GROUP_STATE_SUSPENDED,   /* created, or suspended by its client */
  QMGR_GROUP_STATE_QUEUED,      /* resumed: queued, waiting or transferring */
  QMGR_GROUP_STATE_ERROR,       /* a fatal error; suspended until resumed */
  QMGR_GROUP_STATE_COMPLETE,    /* every file is in place */
} QmgrGroupState;

/* Why a queued group is not (or is) moving; set by the scheduler. */
typedef enum {
  QMGR_RUN_QUEUED,
  QMGR_RUN_TRANSFERRING,
  QMGR_RUN_METERED,
  QMGR_RUN_OFFLINE,
  QMGR_RUN_CAPTIVE_PORTAL,
  QMGR_RUN_RETRYING,
} QmgrRunState;

/* A sum of sizes that cannot wrap (100,000 files of up to 2^64 bytes each):
 * 128 bits, read saturated at G_MAXUINT64 (qmgr_job_get_bytes_total). */
typedef struct {
  guint64 lo;
  guint64 hi;
} QmgrSum;

/* bytes_total, bytes_transferred and complete are summed in the job's tallies:
 * change them between qmgr_job_untally() and qmgr_job_tally() (job.h). */
struct _QmgrFile {
  char *remote_url;
  char *local_path;
  guint64 size_hint;
  guint64 bytes_total;        /* QMGR_SIZE_UNKNOWN until the server proved it */
  guint64 bytes_transferred;
  /* The most bytes the temp file ever held: only passing it is progress (a
   * server that sends the same first bytes on every attempt makes none). */
  guint64 furthest;
  gboolean complete;
  char *validator;            /* ETag or Last-Modified of the first response */
  QmgrTransferError error;    /* LastError of this file (NONE: none) */
  char *error_message;        /* NULL when none */
};

struct _QmgrJob {
  QmgrGuid id;
  char id_str[QMGR_GUID_STRING_LEN + 1];
  QmgrGroup *group;
  GPtrArray *files;           /* QmgrFile*, in the order they were added */
  /* Sums over the files, so that a file's completion costs O(1), not O(files). */
  guint n_complete;
  guint n_size_unknown;
  QmgrSum bytes_total_known;  /* of the files whose size is known */
  QmgrSum bytes_transferred;
  guint current_file;
  QmgrTransferError error;    /* LastError (NONE: none) */
  char *error_message;        /* NULL when none */
  guint32 win32_result;
  guint32 transport_result;
  guint32 num_retries;
  guint32 error_file_index;
};

/* The most OnStatus callbacks a group owes at once; the store's writer and
 * reader share this limit. Beyond it the oldest FILE_DONE goes first (the
 * group's and job's own events are kept longest); see
 * qmgr_group_queue_notification. */
#define QMGR_PENDING_NOTIFICATIONS_MAX 10000u

/* An OnStatus callback owed to the group's client (kept in the store until it
 * is delivered or 24 hours old). */
typedef struct {
  guint32 file_index;
  guint32 status;
  guint32 num_retries;
  guint32 win32_result;
  guint32 transport_result;
  gint64 created;             /* µs since the epoch */
  gboolean held;              /* memory only: its event is not durable yet, so
                               * neither it nor any after it is delivered */
} QmgrPendingNotification;

struct _QmgrGroup {
  QmgrManager *manager;
  GList *link;                /* in the manager's creation-ordered queue */
  QmgrGuid id;
  char id_str[QMGR_GUID_STRING_LEN + 1];
  guint64 seq;                /* creation order, persisted */
  uid_t owner;

  QmgrGroupState state;
  QmgrRunState run_state;
  gboolean foreground;
  QmgrJob *job;

  char *display_name;
  char *description;
  char *remote_user_id;
  char *remote_user_password;
  guint32 notify_flags;
  char *notify_clsid;
  guint32 transfer_policy;    /* 0: the default for the group's priority */
  guint64 bandwidth_limit;
  guint32 minimum_retry_delay;
  guint32 no_progress_timeout;

  gint64 creation_time;       /* µs since the epoch */
  gint64 modification_time;
  gint64 completion_time;     /* 0: never */
  /* The last progress before the transient failures since (µs since the
   * epoch; 0: none since the last progress or resume). Persisted, so that
   * NoProgressTimeout counts across restarts of the daemon. */
  gint64 retrying_since;

  GArray *pending_notifications;  /* QmgrPendingNotification, oldest first */
  guint dropped_notifications;    /* memory only: for the log */

  /* A client registered a live callback (SetNotificationPointer; where it
   * points is the bus layer's business). Not persisted. */
  gboolean live_callback;
};

/* Property change masks, mapped to property names by the bus layer. */
typedef enum {
  QMGR_GROUP_CHANGED_STATUS              = 1 << 0,
  QMGR_GROUP_CHANGED_WAIT_REASON         = 1 << 1,
  QMGR_GROUP_CHANGED_SIZE                = 1 << 2,
  QMGR_GROUP_CHANGED_BYTES_TOTAL         = 1 << 3,
  QMGR_GROUP_CHANGED_BYTES_TRANSFERRED   = 1 << 4,
  QMGR_GROUP_CHANGED_FILES_TOTAL         = 1 << 5,
  QMGR_GROUP_CHANGED_FILES_TRANSFERRED   = 1 << 6,
  QMGR_GROUP_CHANGED_DISPLAY_NAME        = 1 << 7,
  QMGR_GROUP_CHANGED_DESCRIPTION         = 1 << 8,
  QMGR_GROUP_CHANGED_NOTIFY_FLAGS        = 1 << 9,
  QMGR_GROUP_CHANGED_NOTIFY_CLSID        = 1 << 10,
  QMGR_GROUP_CHANGED_TRANSFER_POLICY     = 1 << 11,
  QMGR_GROUP_CHANGED_BANDWIDTH_LIMIT     = 1 << 12,
  QMGR_GROUP_CHANGED_MODIFICATION_TIME   = 1 << 13,
  QMGR_GROUP_CHANGED_COMPLETION_TIME     = 1 << 14,
  QMGR_GROUP_CHANGED_OWNER               = 1 << 15,
  QMGR_GROUP_CHANGED_MINIMUM_RETRY_DELAY = 1 << 16,
  QMGR_GROUP_CHANGED_NO_PROGRESS_TIMEOUT = 1 << 17,
} QmgrGroupChange;

typedef enum {
  QMGR_JOB_CHANGED_STATUS             = 1 << 0,
  QMGR_JOB_CHANGED_FILE_COUNT         = 1 << 1,
  QMGR_JOB_CHANGED_BYTES_TOTAL        = 1 << 2,
  QMGR_JOB_CHANGED_BYTES_TRANSFERRED  = 1 << 3,
  QMGR_JOB_CHANGED_CURRENT_FILE_INDEX = 1 << 4,
  QMGR_JOB_CHANGED_LAST_ERROR         = 1 << 5,
} QmgrJobChange;

typedef enum {
  QMGR_MANAGER_CHANGED_BANDWIDTH_LIMIT          = 1 << 0,
  QMGR_MANAGER_CHANGED_METERED_BANDWIDTH_LIMIT  = 1 << 1,
  QMGR_MANAGER_CHANGED_MAX_CONCURRENT_TRANSFERS = 1 << 2,
  QMGR_MANAGER_CHANGED_NETWORK_COST_STATE       = 1 << 3,
  QMGR_MANAGER_CHANGED_ONLINE                   = 1 << 4,
  QMGR_MANAGER_CHANGED_CONNECTIVITY             = 1 << 5,   /* no property of its own */
} QmgrManagerChange;

/* The network as the scheduler sees it (the setter: qmgr_manager_set_network). */
typedef enum {
  QMGR_CONNECTIVITY_UNKNOWN,
  QMGR_CONNECTIVITY_NONE,
  QMGR_CONNECTIVITY_PORTAL,   /* a captive portal: transfers wait */
  QMGR_CONNECTIVITY_LIMITED,  /* failures then count no retry */
  QMGR_CONNECTIVITY_FULL,
} QmgrConnectivity;

typedef struct {
  guint32 cost_state;         /* one QMGR_COST_STATE_* bit */
  gboolean online;
  QmgrConnectivity connectivity;
} QmgrNetworkState;

/* Events that the contract turns into OnStatus signals and callbacks. */
typedef enum {
  QMGR_STATUS_EVENT_FILE_DONE,
  QMGR_STATUS_EVENT_JOB_DONE,
  QMGR_STATUS_EVENT_GROUP_DONE,
  QMGR_STATUS_EVENT_FATAL_ERROR,
} QmgrStatusEvent;

/* Listeners hear about changes after they are durable. Every member may be NULL. */
typedef struct {
  void (*group_added) (QmgrGroup *group, gpointer user_data);
  /* Called while the group (and its job) can still be looked up. */
  void (*group_removing) (QmgrGroup *group, gpointer user_data);
  void (*group_changed) (QmgrGroup *group, QmgrGroupChange changes, gpointer user_data);
  void (*job_added) (QmgrJob *job, gpointer user_data);
  void (*job_removing) (QmgrJob *job, gpointer user_data);
  void (*job_changed) (QmgrJob *job, QmgrJobChange changes, gpointer user_data);
  /* The group was resumed and has work: the scheduler's seam. */
  void (*group_runnable) (QmgrGroup *group, gpointer user_data);
  /* The group stopped being runnable (suspended, cancelled, job cancelled). */
  void (*group_stopped) (QmgrGroup *group, gpointer user_data);
  void (*manager_changed) (QmgrManager *manager, QmgrManagerChange changes, gpointer user_data);
  /* A file, the job or the group completed, or a fatal error; @file_index is
   * QMGR_FILE_INDEX_NONE when no single file is concerned. */
  void (*status_event) (QmgrGroup *group, guint32 file_index, QmgrStatusEvent event,
                        gpointer user_data);
} QmgrManagerListener;

/* What a change touched, for a store that writes in proportion to it. The
 * group's and job's own fields (and the callbacks owed) go with every save;
 * files only as named here. A store may always write the whole group. */
typedef struct {
  gboolean job_replaced;      /* the job came or went: every file anew */
  guint first_new_file;       /* files appended from here on (G_MAXUINT: none) */
  GArray *changed_files;      /* guint: files changed in place; NULL: none */
} QmgrGroupDelta;

/* Persistence hooks (store/ implements them). A hook that fails leaves the model
 * as it was before the call. */
typedef struct {
  gboolean (*save_group) (gpointer store, QmgrGroup *group, const QmgrGroupDelta *delta,
                          GError **error);
  gboolean (*delete_group) (gpointer store, QmgrGroup *group, GError **error);
  gboolean (*save_settings) (gpointer store, QmgrManager *manager, GError **error);
  /* Optional: save a little later, batched (see QMGR_SAVE_SOON). */
  void (*save_group_soon) (gpointer store, QmgrGroup *group, const QmgrGroupDelta *delta);
  /* Optional: between begin_batch and end_batch, save_group and delete_group
   * need not be durable when they return; end_batch (or sync) makes them so. */
  void (*begin_batch) (gpointer store);
  gboolean (*end_batch) (gpointer store, GError **error);
  /* Every save so far durable now, those saved soon included. */
  gboolean (*sync) (gpointer store, GError **error);
} QmgrStoreHooks;

/* Checks that @path may become a destination of @owner: its parent an existing
 * directory the owner can write, the path itself not a directory. Returns
 * QMGR_ERROR_INVALID_ARGS or QMGR_ERROR_ACCESS_DENIED. I/O lives outside core. */
typedef gboolean (*QmgrDestinationCheck) (uid_t owner, const char *path, gpointer user_data,
                                          GError **error);

G_END_DECLS
