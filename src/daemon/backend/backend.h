/* qmgrd backend — the transfer seam: what the scheduler (policy) asks of the
 * code that moves bytes and writes files, and the events that come back.
 *
 * Every call and event carries plain values (no pointers into the model), so
 * that the same seam can cross a process boundary: in session mode the
 * backend runs in the daemon (transfer/: libcurl, temp files, the commit
 * queue); in system mode it will run in a worker process per owner, with the
 * owner's rights. Events are never delivered from inside a call of the seam:
 * they arrive later, from the main loop, in the order they happened.
 *
 * One item is one file being transferred: started with qmgr_backend_start(),
 * it reports its response (and waits), progress, pacing needs, its end, and,
 * when all its bytes arrived, that it was committed (durably renamed over its
 * destination). qmgr_backend_stop() ends it early; no event of the item
 * arrives after that. While it transfers, the scheduler may ask for samples
 * of its connection (qmgr_backend_sample()), from which the pacer judges
 * whether background work is in the way of other traffic. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "qmgr-error.h"
#include "qmgr-guid.h"

G_BEGIN_DECLS

typedef struct _QmgrBackend QmgrBackend;
typedef guint64 QmgrItemId;

/* A budget: how many body bytes an item may write before it asks for more. */
#define QMGR_BUDGET_UNLIMITED (-1)

typedef struct {
  QmgrItemId id;
  uid_t owner;               /* whose rights the file is written with */
  const char *url;
  const char *dest_path;     /* absolute; the temp file goes beside it */
  QmgrGuid job_id;           /* with @index, names the temp file */
  guint32 index;
  const char *validator;     /* ETag or Last-Modified the bytes in the temp file
                                came with; NULL: start again from byte 0 */
  const char *user;          /* HTTP authentication, or NULL */
  const char *password;
  guint stall_timeout;       /* seconds without a byte: a transient Timeout */
  gboolean background;       /* yields to other traffic: its connections get a small
                                receive buffer, so the server keeps little in flight */
  gint64 budget;             /* initial budget (QMGR_BUDGET_UNLIMITED: none) */
} QmgrBackendRequest;

/* What an item's connection tells of its path (qmgr_backend_sample()). */
typedef struct {
  guint32 rtt_us;            /* the receiver's estimate of the round trip, the queues on
                                the way included (TCP_INFO tcpi_rcv_rtt); 0: none yet */
  guint64 bytes_received;    /* bytes the connection received since the item's previous
                                sample (headers and body, as they reached the socket) */
  gboolean local;            /* the peer is this machine: no network is involved */
} QmgrPathSample;

typedef enum {
  QMGR_BACKEND_OK,           /* every byte is in the temp file (or in place) */
  QMGR_BACKEND_TRANSIENT,    /* retry later */
  QMGR_BACKEND_FATAL,        /* the group goes to ERROR */
} QmgrBackendOutcome;

typedef struct {
  QmgrBackendOutcome outcome;
  QmgrTransferError error;   /* NONE when OK */
  const char *message;       /* for people; NULL when OK */
  guint32 win32_result;      /* errno of a local failure (ETIMEDOUT for a Timeout), or 0 */
  guint32 http_status;       /* HTTP status of a failed response, or 0 */
  guint32 retry_after;       /* seconds the server asked us to wait, or 0 */
  guint64 bytes_total;       /* when OK: the file's size */
} QmgrBackendResult;

typedef struct {
  /* The temp file was opened: @bytes_in_file are kept and the transfer
   * resumes after them (0: it starts from byte 0). */
  void (*started) (QmgrItemId id, guint64 bytes_in_file, gpointer user_data);
  /* An answer proved the size (QMGR_SIZE_UNKNOWN if not) and gave @validator
   * (or NULL). No body byte is written until qmgr_backend_response_done(). */
  void (*response) (QmgrItemId id, guint64 bytes_total, const char *validator,
                    gpointer user_data);
  /* Bytes from the server are in the temp file; it holds @bytes_in_file (0
   * also when the server's file changed and the item starts over). */
  void (*progress) (QmgrItemId id, guint64 bytes_in_file, gpointer user_data);
  /* The budget is spent: @used bytes were written since it was set (a write
   * may overshoot it). The item waits for qmgr_backend_set_budget(). */
  void (*budget_spent) (QmgrItemId id, guint64 used, gpointer user_data);
  /* The transfer ended. When OK the file is being committed and committed
   * follows; otherwise the item is over (its temp file stays). */
  void (*done) (QmgrItemId id, const QmgrBackendResult *result, gpointer user_data);
  /* The file is durably in place (OK), or could not be put there (LocalFile;
   * its temp file stays for a retry). The item is over. */
  void (*committed) (QmgrItemId id, const QmgrBackendResult *result, gpointer user_data);
  /* Every commit the backend was working on has been reported. */
  void (*commits_settled) (gpointer user_data);
  /* The answer to qmgr_backend_sample(). */
  void (*path_sample) (QmgrItemId id, const QmgrPathSample *sample, gpointer user_data);
} QmgrBackendEvents;

typedef struct {
  void (*start) (QmgrBackend *backend, const QmgrBackendRequest *request);
  void (*response_done) (QmgrBackend *backend, QmgrItemId id, gboolean ok);
  void (*set_budget) (QmgrBackend *backend, QmgrItemId id, gint64 budget);
  void (*stop) (QmgrBackend *backend, QmgrItemId id, gboolean discard);
  void (*discard) (QmgrBackend *backend, uid_t owner, const char *dest_path, QmgrGuid job_id,
                   guint32 index);
  void (*free) (QmgrBackend *backend);
  void (*set_background) (QmgrBackend *backend, QmgrItemId id, gboolean background);
  void (*sample) (QmgrBackend *backend, QmgrItemId id);
} QmgrBackendOps;

struct _QmgrBackend {
  const QmgrBackendOps *ops;
  const QmgrBackendEvents *events;
  gpointer events_data;
};

/* Who hears the events (the scheduler). */
void qmgr_backend_set_events (QmgrBackend *backend, const QmgrBackendEvents *events,
                              gpointer user_data);

void qmgr_backend_start (QmgrBackend *backend, const QmgrBackendRequest *request);
/* The response was recorded (@ok) and the body may be written, or it could
 * not be (the item ends with a fatal LocalFile failure). */
void qmgr_backend_response_done (QmgrBackend *backend, QmgrItemId id, gboolean ok);
/* The item may write @budget more body bytes (QMGR_BUDGET_UNLIMITED: any). */
void qmgr_backend_set_budget (QmgrBackend *backend, QmgrItemId id, gint64 budget);
/* Ends an item (transferring, or being committed: it is then not renamed
 * unless it already was). Its temp file stays for a later resume, unless
 * @discard. Unknown or ended items are ignored. */
void qmgr_backend_stop (QmgrBackend *backend, QmgrItemId id, gboolean discard);
/* Removes the temp file of a file that will not be finished (no item of it runs). */
void qmgr_backend_discard (QmgrBackend *backend, uid_t owner, const char *dest_path,
                           QmgrGuid job_id, guint32 index);
/* The item is background work (it yields) or not any more (its group was
 * switched to the foreground): its connection's receive buffer follows. */
void qmgr_backend_set_background (QmgrBackend *backend, QmgrItemId id, gboolean background);
/* Asks for one path_sample event of the item (all zeros while it has no
 * connection, or has finished transferring). It comes unless the item ends
 * first; unknown or ended items are ignored. */
void qmgr_backend_sample (QmgrBackend *backend, QmgrItemId id);
void qmgr_backend_free (QmgrBackend *backend);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrBackend, qmgr_backend_free)

G_END_DECLS
