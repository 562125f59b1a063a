/* qmgrd — the error table: code → D-Bus name → HRESULT (docs/dbus-api.md, "Errors"). */
#include "qmgr-error.h"

G_DEFINE_QUARK (qmgr-error-quark, qmgr_error)

static const QmgrErrorEntry error_table[] = {
  { QMGR_ERROR_INVALID_STATE, "io.github.qmgrd.QMgr1.Error.InvalidState", 0x81001001 },
  { QMGR_ERROR_SERVICE_UNAVAILABLE, "io.github.qmgrd.QMgr1.Error.ServiceUnavailable", 0x81001002 },
  { QMGR_ERROR_DOWNLOADER_UNAVAILABLE, "io.github.qmgrd.QMgr1.Error.DownloaderUnavailable", 0x81001003 },
  { QMGR_ERROR_ITEM_NOT_FOUND, "io.github.qmgrd.QMgr1.Error.ItemNotFound", 0x81001004 },
  { QMGR_ERROR_INVALID_ARGS, "org.freedesktop.DBus.Error.InvalidArgs", 0x80070057 },
  { QMGR_ERROR_NOT_SUPPORTED, "org.freedesktop.DBus.Error.NotSupported", 0x80004001 },
  { QMGR_ERROR_ACCESS_DENIED, "org.freedesktop.DBus.Error.AccessDenied", 0x80070005 },
  { QMGR_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", 0x80070005 },
  { QMGR_ERROR_LIMITS_EXCEEDED, "org.freedesktop.DBus.Error.LimitsExceeded", 0x80070718 },
  { QMGR_ERROR_FAILED, "org.freedesktop.DBus.Error.Failed", 0x80004005 },
};
G_STATIC_ASSERT (G_N_ELEMENTS (error_table) == QMGR_ERROR_N_CODES);

const QmgrErrorEntry *
qmgr_error_entry (QmgrError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_table))
    code = QMGR_ERROR_FAILED;
  g_assert (error_table[code].code == code);
  return &error_table[code];
}
