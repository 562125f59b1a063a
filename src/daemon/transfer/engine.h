/* qmgrd transfer — moves the bytes of one (URL, temp file, offset, validator)
 * item at a time, many at once, with one libcurl multi handle in the GLib main
 * loop. Knows nothing of groups: it reports progress, the proven size and
 * validator, and a classified outcome. The only code that includes curl.h. */
#pragma once

#include <glib.h>

#include "qmgr-error.h"

G_BEGIN_DECLS

typedef struct _QmgrTransferEngine QmgrTransferEngine;
typedef struct _QmgrTransfer QmgrTransfer;

typedef enum {
  QMGR_TRANSFER_OK,          /* every byte is in the file */
  QMGR_TRANSFER_TRANSIENT,   /* retry later (back-off) */
  QMGR_TRANSFER_FATAL,       /* the group goes to ERROR */
  QMGR_TRANSFER_RESTART,     /* the server's file changed: empty the temp file, start again now */
} QmgrTransferOutcome;

typedef struct {
  QmgrTransferOutcome outcome;
  QmgrTransferError error;   /* NONE when OK */
  const char *message;       /* for people; NULL when OK */
  guint32 win32_result;      /* errno of a local failure (ETIMEDOUT for a Timeout), or 0 */
  guint32 http_status;       /* HTTP status of a failed response, or 0 */
  guint32 retry_after;       /* seconds the server asked us to wait, or 0 */
  guint64 bytes_total;       /* the proven size (G_MAXUINT64 if never proven) */
  gint64 last_modified;      /* unix seconds, 0 when unknown */
} QmgrTransferResult;

typedef struct {
  const char *url;
  int fd;                    /* the temp file, written with pwrite */
  guint64 offset;            /* bytes already in the file: resume from here */
  const char *validator;     /* ETag or Last-Modified of the first response, or NULL */
  const char *user;          /* HTTP authentication, or NULL */
  const char *password;
  guint stall_timeout;       /* seconds without a byte before a transient Timeout (ETIMEDOUT),
                                judged exactly from the last byte; time the transfer is
                                held by us (a response to record, a spent budget) does
                                not count; 0: default */
  gint64 budget;             /* body bytes it may write before budget_spent; -1: any */
  gboolean background;       /* its connections get a small receive buffer (tcp-path.h) */
} QmgrTransferRequest;

/* What the transfer's connection says about its path (see tcp-path.h). */
typedef struct {
  guint32 rtt_us;            /* the receiver's round-trip estimate; 0: none yet */
  guint64 bytes_received;    /* since the previous sample of the transfer */
  gboolean local;            /* the peer is this machine */
} QmgrTransferSample;

/* Callbacks run from the main loop, most of them while libcurl is working on
 * the transfer: they may only record what they hear (and must not call the
 * engine). */
typedef struct {
  /* The answer proved the size (G_MAXUINT64 if not) and gave @validator (or
   * NULL); @restarted: the body starts again at byte 0 (the file was emptied).
   * The transfer holds the body until qmgr_transfer_continue(). */
  void (*response) (QmgrTransfer *t, guint64 bytes_total, const char *validator,
                    gboolean restarted, gpointer user_data);
  void (*progress) (QmgrTransfer *t, guint64 bytes_in_file, gpointer user_data);
  /* The budget is spent (@used bytes since it was set): the transfer holds
   * (nothing is lost) until qmgr_transfer_set_budget(). */
  void (*budget_spent) (QmgrTransfer *t, guint64 used, gpointer user_data);
  /* The transfer is over and freed after this returns. */
  void (*done) (QmgrTransfer *t, const QmgrTransferResult *result, gpointer user_data);
} QmgrTransferCallbacks;

QmgrTransferEngine *qmgr_transfer_engine_new (GError **error);
void qmgr_transfer_engine_free (QmgrTransferEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrTransferEngine, qmgr_transfer_engine_free)

/* A transfer that could not even be set up ends at once with a fatal result
 * (its done callback runs from the main loop, never from inside this call). */
QmgrTransfer *qmgr_transfer_start (QmgrTransferEngine *engine, const QmgrTransferRequest *request,
                                   const QmgrTransferCallbacks *callbacks, gpointer user_data);
/* The response was recorded: the body is written (@ok), or the transfer ends
 * with a fatal LocalFile failure. Not from inside a callback. */
void qmgr_transfer_continue (QmgrTransfer *t, gboolean ok);
/* A new budget (-1: unlimited); a transfer waiting for one goes on. Not from
 * inside a callback. */
void qmgr_transfer_set_budget (QmgrTransfer *t, gint64 budget);
/* Background work or not any more: the connection's receive buffer follows
 * (loopback connections are never clamped). */
void qmgr_transfer_set_background (QmgrTransfer *t, gboolean background);
/* Samples the transfer's connection now (all zeros before it has one). */
void qmgr_transfer_sample (QmgrTransfer *t, QmgrTransferSample *sample);
/* Stops and frees a transfer; its done callback does not run. */
void qmgr_transfer_cancel (QmgrTransfer *t);

G_END_DECLS
