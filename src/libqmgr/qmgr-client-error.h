/* libqmgr — the client error domain: one code for every error name qmgrd
 * sends (its own, the org.freedesktop.DBus ones it uses, the Transfer.* names
 * of LastError), translated messages that keep the daemon's sentence. */
#pragma once

#if !defined(__QMGR_H_INSIDE__) && !defined(QMGR_COMPILATION)
#error "Only <qmgr.h> can be included directly."
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * QmgrClientError:
 * @QMGR_CLIENT_ERROR_INVALID_STATE: io.github.qmgrd.QMgr1.Error.InvalidState (0x81001001)
 * @QMGR_CLIENT_ERROR_SERVICE_UNAVAILABLE: io.github.qmgrd.QMgr1.Error.ServiceUnavailable (0x81001002)
 * @QMGR_CLIENT_ERROR_DOWNLOADER_UNAVAILABLE: io.github.qmgrd.QMgr1.Error.DownloaderUnavailable (0x81001003)
 * @QMGR_CLIENT_ERROR_ITEM_NOT_FOUND: io.github.qmgrd.QMgr1.Error.ItemNotFound (0x81001004)
 * @QMGR_CLIENT_ERROR_INVALID_ARGS: org.freedesktop.DBus.Error.InvalidArgs (0x80070057)
 * @QMGR_CLIENT_ERROR_NOT_SUPPORTED: org.freedesktop.DBus.Error.NotSupported (0x80004001)
 * @QMGR_CLIENT_ERROR_ACCESS_DENIED: org.freedesktop.DBus.Error.AccessDenied (0x80070005)
 * @QMGR_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED:
 *   org.freedesktop.DBus.Error.InteractiveAuthorizationRequired (0x80070005)
 * @QMGR_CLIENT_ERROR_LIMITS_EXCEEDED: org.freedesktop.DBus.Error.LimitsExceeded (0x80070718)
 * @QMGR_CLIENT_ERROR_FAILED: org.freedesktop.DBus.Error.Failed (0x80004005): an
 *   internal failure of the daemon
 * @QMGR_CLIENT_ERROR_UNKNOWN_OBJECT: org.freedesktop.DBus.Error.UnknownObject: the
 *   group or job object does not exist (or is not the caller's); reported with
 *   the HRESULT of ItemNotFound (0x81001004)
 * @QMGR_CLIENT_ERROR_SERVICE_UNKNOWN: org.freedesktop.DBus.Error.ServiceUnknown or
 *   NameHasNoOwner: qmgrd is not running and could not be started
 * @QMGR_CLIENT_ERROR_NO_REPLY: org.freedesktop.DBus.Error.NoReply, Timeout,
 *   TimedOut or Disconnected: qmgrd did not answer
 * @QMGR_CLIENT_ERROR_TRANSFER_HTTP_STATUS: io.github.qmgrd.QMgr1.Transfer.HttpStatus
 * @QMGR_CLIENT_ERROR_TRANSFER_CONNECTION_FAILED: io.github.qmgrd.QMgr1.Transfer.ConnectionFailed
 * @QMGR_CLIENT_ERROR_TRANSFER_HOST_NOT_FOUND: io.github.qmgrd.QMgr1.Transfer.HostNotFound
 * @QMGR_CLIENT_ERROR_TRANSFER_TIMEOUT: io.github.qmgrd.QMgr1.Transfer.Timeout
 * @QMGR_CLIENT_ERROR_TRANSFER_TLS_FAILURE: io.github.qmgrd.QMgr1.Transfer.TlsFailure
 * @QMGR_CLIENT_ERROR_TRANSFER_TOO_MANY_REDIRECTS: io.github.qmgrd.QMgr1.Transfer.TooManyRedirects
 * @QMGR_CLIENT_ERROR_TRANSFER_FORBIDDEN_REDIRECT: io.github.qmgrd.QMgr1.Transfer.ForbiddenRedirect
 * @QMGR_CLIENT_ERROR_TRANSFER_BAD_RESPONSE: io.github.qmgrd.QMgr1.Transfer.BadResponse
 * @QMGR_CLIENT_ERROR_TRANSFER_LOCAL_FILE: io.github.qmgrd.QMgr1.Transfer.LocalFile
 * @QMGR_CLIENT_ERROR_TRANSFER_NO_PROGRESS: io.github.qmgrd.QMgr1.Transfer.NoProgress
 * @QMGR_CLIENT_ERROR_TRANSFER_CANCELLED: io.github.qmgrd.QMgr1.Transfer.Cancelled
 * @QMGR_CLIENT_ERROR_UNKNOWN: any other D-Bus error name; the message names it
 *
 * The errors of libqmgr, in the %QMGR_CLIENT_ERROR domain. The first ten
 * codes are the errors of qmgrd's methods (docs/dbus-api.md, "Errors"); the
 * TRANSFER codes are the reasons a transfer failed (the job's LastError,
 * see qmgr_client_error_new_for_name()). Programs act on the code; the
 * message is for people: a translated summary, then the daemon's own
 * sentence, which ends with the HRESULT in brackets ("[0x81001001]").
 *
 * The numbers never change; new codes are added at the end.
 */
typedef enum {
  QMGR_CLIENT_ERROR_INVALID_STATE,
  QMGR_CLIENT_ERROR_SERVICE_UNAVAILABLE,
  QMGR_CLIENT_ERROR_DOWNLOADER_UNAVAILABLE,
  QMGR_CLIENT_ERROR_ITEM_NOT_FOUND,
  QMGR_CLIENT_ERROR_INVALID_ARGS,
  QMGR_CLIENT_ERROR_NOT_SUPPORTED,
  QMGR_CLIENT_ERROR_ACCESS_DENIED,
  QMGR_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
  QMGR_CLIENT_ERROR_LIMITS_EXCEEDED,
  QMGR_CLIENT_ERROR_FAILED,
  QMGR_CLIENT_ERROR_UNKNOWN_OBJECT,
  QMGR_CLIENT_ERROR_SERVICE_UNKNOWN,
  QMGR_CLIENT_ERROR_NO_REPLY,
  QMGR_CLIENT_ERROR_TRANSFER_HTTP_STATUS,
  QMGR_CLIENT_ERROR_TRANSFER_CONNECTION_FAILED,
  QMGR_CLIENT_ERROR_TRANSFER_HOST_NOT_FOUND,
  QMGR_CLIENT_ERROR_TRANSFER_TIMEOUT,
  QMGR_CLIENT_ERROR_TRANSFER_TLS_FAILURE,
  QMGR_CLIENT_ERROR_TRANSFER_TOO_MANY_REDIRECTS,
  QMGR_CLIENT_ERROR_TRANSFER_FORBIDDEN_REDIRECT,
  QMGR_CLIENT_ERROR_TRANSFER_BAD_RESPONSE,
  QMGR_CLIENT_ERROR_TRANSFER_LOCAL_FILE,
  QMGR_CLIENT_ERROR_TRANSFER_NO_PROGRESS,
  QMGR_CLIENT_ERROR_TRANSFER_CANCELLED,
  QMGR_CLIENT_ERROR_UNKNOWN,
} QmgrClientError;

/**
 * QMGR_CLIENT_ERROR:
 *
 * The error domain of libqmgr; the codes are #QmgrClientError.
 */
#define QMGR_CLIENT_ERROR (qmgr_client_error_quark ())
GQuark qmgr_client_error_quark (void);

gboolean qmgr_client_error_convert (GError **error);
GError *qmgr_client_error_new_from_dbus (const GError *error);
GError *qmgr_client_error_new_for_name (const char *name, const char *message);
const char *qmgr_client_error_get_dbus_name (QmgrClientError code);
gboolean qmgr_client_error_from_dbus_name (const char *name, QmgrClientError *code);
guint32 qmgr_client_error_get_hresult (const GError *error);
const char *qmgr_client_error_get_summary (QmgrClientError code);

G_END_DECLS
