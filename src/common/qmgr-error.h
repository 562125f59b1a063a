/* qmgrd — the one error domain. core/ returns these codes; the table in
 * qmgr-error.c maps each to its D-Bus error name and HRESULT, used by the daemon's
 * bus layer and by the client library alike. */
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

/* Indexed by QmgrError. */
const QmgrErrorEntry *qmgr_error_entry (QmgrError code);

G_END_DECLS
