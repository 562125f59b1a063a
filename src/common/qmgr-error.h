/* qmgrd — the one error table. core/ returns QMGR_ERROR codes; qmgr-error.c maps
 * each to its D-Bus error name and HRESULT, for the daemon's bus layer and the
 * client library alike. Transfer failures (Job.LastError) are QmgrTransferError
 * codes, named under io.github.qmgrd.QMgr1.Transfer. by the same file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  QMGR_ERROR_INVALID_STATE,
  QMGR_ERROR_SERVICE_UNAVAILABLE,
  QMGR_ERROR_DOWNLOADER_UNAVAILABLE,
  QMGR_ERROR_ITEM_NOT_FOUND,
  QMGR_ERROR_INVALID_ARGS,
  QMGR_ERROR_NOT_SUPPORTED,
  QMGR_ERROR_ACCESS_DENIED,
  QMGR_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
  QMGR_ERROR_LIMITS_EXCEEDED,
  QMGR_ERROR_FAILED,            /* internal failure (e.g. the store could not be written) */
} QmgrError;
#define QMGR_ERROR_N_CODES (QMGR_ERROR_FAILED + 1)

#define QMGR_ERROR (qmgr_error_quark ())
GQuark qmgr_error_quark (void);

typedef struct {
  QmgrError code;
  const char *dbus_name;
  guint32 hresult;
} QmgrErrorEntry;

/* Indexed by QmgrError; an error of another domain is QMGR_ERROR_FAILED. */
const QmgrErrorEntry *qmgr_error_entry (QmgrError code);
const QmgrErrorEntry *qmgr_error_entry_for (const GError *error);

/* Why a transfer failed: Job.LastError and GetFileStatus's last_error. */
typedef enum {
  QMGR_TRANSFER_ERROR_NONE,
  QMGR_TRANSFER_ERROR_HTTP_STATUS,
  QMGR_TRANSFER_ERROR_CONNECTION_FAILED,
  QMGR_TRANSFER_ERROR_HOST_NOT_FOUND,
  QMGR_TRANSFER_ERROR_TIMEOUT,
  QMGR_TRANSFER_ERROR_TLS_FAILURE,
  QMGR_TRANSFER_ERROR_TOO_MANY_REDIRECTS,
  QMGR_TRANSFER_ERROR_FORBIDDEN_REDIRECT,
  QMGR_TRANSFER_ERROR_BAD_RESPONSE,
  QMGR_TRANSFER_ERROR_LOCAL_FILE,
  QMGR_TRANSFER_ERROR_NO_PROGRESS,
  QMGR_TRANSFER_ERROR_CANCELLED,
} QmgrTransferError;
#define QMGR_TRANSFER_ERROR_N_CODES (QMGR_TRANSFER_ERROR_CANCELLED + 1)

/* The full D-Bus name ("io.github.qmgrd.QMgr1.Transfer.HttpStatus"); "" for NONE. */
const char *qmgr_transfer_error_name (QmgrTransferError code);
/* The code of a full name (or of "": NONE); FALSE when the name is unknown. */
gboolean qmgr_transfer_error_from_name (const char *name, QmgrTransferError *code);

/* A printable, bounded rendering of a client-supplied string for messages. */
char *qmgr_describe_value (const char *value);

G_END_DECLS
