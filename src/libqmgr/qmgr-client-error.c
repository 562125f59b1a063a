/* libqmgr — the client error domain. The names and HRESULTs of qmgrd's own
 * errors come from the daemon's table (src/common/qmgr-error.c), the Transfer.*
 * names from the same file; this file adds the names the bus itself sends and
 * a translated summary for each code. */
#include "config.h"

#include <string.h>

#include "qmgr.h"
#include "qmgr-error.h"
#include "qmgr-i18n.h"

/* The first codes are the daemon's, in its order; the Transfer codes follow
 * QmgrTransferError from its first real failure. */
G_STATIC_ASSERT ((int) QMGR_CLIENT_ERROR_INVALID_STATE == (int) QMGR_ERROR_INVALID_STATE);
G_STATIC_ASSERT ((int) QMGR_CLIENT_ERROR_SERVICE_UNAVAILABLE
                 == (int) QMGR_ERROR_SERVICE_UNAVAILABLE);
G_STATIC_ASSERT ((int) QMGR_CLIENT_ERROR_DOWNLOADER_UNAVAILABLE
                 == (int) QMGR_ERROR_DOWNLOADER_UNAVAILABLE);
G_STATIC_ASSERT ((int) QMGR_CLIENT_ERROR_ITEM_NOT_FOUND == (int) QMGR_ERROR_ITEM_NOT_FOUND);
G_STATIC_ASSERT ((int) QMGR_CLIENT_ERROR_INVALID_ARGS == (int) QMGR_ERROR_INVALID_ARGS);
G_STATIC_ASSERT ((int) QMGR_CLIENT_ERROR_NOT_SUPPORTED == (int) QMGR_ERROR_NOT_SUPPORTED);
G_STATIC_ASSERT ((int) QMGR_CLIENT_ERROR_ACCESS_DENIED == (int) QMGR_ERROR_ACCESS_DENIED);
G_STATIC_ASSERT ((int) QMGR_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED
                 == (int) QMGR_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED);
G_STATIC_ASSERT ((int) QMGR_CLIENT_ERROR_LIMITS_EXCEEDED == (int) QMGR_ERROR_LIMITS_EXCEEDED);
G_STATIC_ASSERT ((int) QMGR_CLIENT_ERROR_FAILED == (int) QMGR_ERROR_FAILED);
G_STATIC_ASSERT (QMGR_ERROR_N_CODES == QMGR_CLIENT_ERROR_FAILED + 1);

#define TRANSFER_FIRST QMGR_CLIENT_ERROR_TRANSFER_HTTP_STATUS
#define TRANSFER_LAST QMGR_CLIENT_ERROR_TRANSFER_CANCELLED
G_STATIC_ASSERT (TRANSFER_LAST - TRANSFER_FIRST + 1 == QMGR_TRANSFER_ERROR_N_CODES - 1);
G_STATIC_ASSERT ((int) QMGR_TRANSFER_ERROR_HTTP_STATUS == 1);

#define N_CODES (QMGR_CLIENT_ERROR_UNKNOWN + 1)
#define ITEM_NOT_FOUND_HRESULT 0x81001004u

static const char *const summaries[] = {
  [QMGR_CLIENT_ERROR_INVALID_STATE] = N_("The request is not possible in the current state"),
  [QMGR_CLIENT_ERROR_SERVICE_UNAVAILABLE] = N_("The transfer service is shutting down"),
  [QMGR_CLIENT_ERROR_DOWNLOADER_UNAVAILABLE] = N_("The transfer engine could not start"),
  [QMGR_CLIENT_ERROR_ITEM_NOT_FOUND] = N_("No such group, job or file"),
  [QMGR_CLIENT_ERROR_INVALID_ARGS] = N_("Invalid value"),
  [QMGR_CLIENT_ERROR_NOT_SUPPORTED] = N_("Not supported"),
  [QMGR_CLIENT_ERROR_ACCESS_DENIED] = N_("Permission denied"),
  [QMGR_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED] =
    N_("Authorization is required, and asking for it was not allowed"),
  [QMGR_CLIENT_ERROR_LIMITS_EXCEEDED] = N_("A quota has been reached"),
  [QMGR_CLIENT_ERROR_FAILED] = N_("The transfer service failed"),
  [QMGR_CLIENT_ERROR_UNKNOWN_OBJECT] = N_("No such group or job"),
  [QMGR_CLIENT_ERROR_SERVICE_UNKNOWN] = N_("The transfer service (qmgrd) is not running"),
  [QMGR_CLIENT_ERROR_NO_REPLY] = N_("The transfer service did not answer"),
  [QMGR_CLIENT_ERROR_TRANSFER_HTTP_STATUS] = N_("The server answered with an HTTP error"),
  [QMGR_CLIENT_ERROR_TRANSFER_CONNECTION_FAILED] = N_("Could not connect to the server"),
  [QMGR_CLIENT_ERROR_TRANSFER_HOST_NOT_FOUND] = N_("The server's name could not be resolved"),
  [QMGR_CLIENT_ERROR_TRANSFER_TIMEOUT] = N_("The server took too long to answer"),
  [QMGR_CLIENT_ERROR_TRANSFER_TLS_FAILURE] = N_("The secure connection to the server failed"),
  [QMGR_CLIENT_ERROR_TRANSFER_TOO_MANY_REDIRECTS] = N_("The server redirected too many times"),
  [QMGR_CLIENT_ERROR_TRANSFER_FORBIDDEN_REDIRECT] =
    N_("The server redirected to a refused address"),
  [QMGR_CLIENT_ERROR_TRANSFER_BAD_RESPONSE] = N_("The server's answer could not be used"),
  [QMGR_CLIENT_ERROR_TRANSFER_LOCAL_FILE] = N_("The local file could not be written"),
  [QMGR_CLIENT_ERROR_TRANSFER_NO_PROGRESS] = N_("The transfer made no progress for too long"),
  [QMGR_CLIENT_ERROR_TRANSFER_CANCELLED] = N_("The transfer was cancelled"),
  [QMGR_CLIENT_ERROR_UNKNOWN] = N_("Unexpected error"),
};
G_STATIC_ASSERT (G_N_ELEMENTS (summaries) == N_CODES);

/* Names the bus (not qmgrd) sends, beyond the daemon's table. */
static const struct {
  const char *name;
  QmgrClientError code;
} bus_names[] = {
  { "org.freedesktop.DBus.Error.UnknownObject", QMGR_CLIENT_ERROR_UNKNOWN_OBJECT },
  { "org.freedesktop.DBus.Error.ServiceUnknown", QMGR_CLIENT_ERROR_SERVICE_UNKNOWN },
  { "org.freedesktop.DBus.Error.NameHasNoOwner", QMGR_CLIENT_ERROR_SERVICE_UNKNOWN },
  { "org.freedesktop.DBus.Error.NoReply", QMGR_CLIENT_ERROR_NO_REPLY },
  { "org.freedesktop.DBus.Error.Timeout", QMGR_CLIENT_ERROR_NO_REPLY },
  { "org.freedesktop.DBus.Error.TimedOut", QMGR_CLIENT_ERROR_NO_REPLY },
  { "org.freedesktop.DBus.Error.Disconnected", QMGR_CLIENT_ERROR_NO_REPLY },
};

/* qmgrd's own names arrive in this domain straight from GDBus (raw, with the
 * "GDBus.Error:" prefix); the org.freedesktop names stay GIO's G_DBUS_ERROR.
 * qmgr_client_error_convert() makes both alike. */
static const GDBusErrorEntry registered[] = {
  { QMGR_CLIENT_ERROR_INVALID_STATE, "io.github.qmgrd.QMgr1.Error.InvalidState" },
  { QMGR_CLIENT_ERROR_SERVICE_UNAVAILABLE, "io.github.qmgrd.QMgr1.Error.ServiceUnavailable" },
  { QMGR_CLIENT_ERROR_DOWNLOADER_UNAVAILABLE, "io.github.qmgrd.QMgr1.Error.DownloaderUnavailable" },
  { QMGR_CLIENT_ERROR_ITEM_NOT_FOUND, "io.github.qmgrd.QMgr1.Error.ItemNotFound" },
};

/**
 * qmgr_client_error_quark:
 *
 * The error domain of libqmgr. Getting it also registers qmgrd's own error
 * names with GDBus, so that calls through the generated proxies return them
 * in this domain (with GDBus's raw message; see qmgr_client_error_convert()).
 *
 * Returns: the quark of %QMGR_CLIENT_ERROR
 */
GQuark
qmgr_client_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("qmgr-client-error-quark", &quark, registered,
                                      G_N_ELEMENTS (registered));
  return (GQuark) quark;
}

/* Registered before any proxy call of the process can receive one of them. */
__attribute__((constructor)) static void
register_names (void)
{
  (void) qmgr_client_error_quark ();
}

/**
 * qmgr_client_error_get_dbus_name:
 * @code: a #QmgrClientError
 *
 * The D-Bus error name of @code (for codes that several names share, the
 * first listed in #QmgrClientError).
 *
 * Returns: (nullable): the name, or %NULL for %QMGR_CLIENT_ERROR_UNKNOWN
 */
const char *
qmgr_client_error_get_dbus_name (QmgrClientError code)
{
  if (code <= QMGR_CLIENT_ERROR_FAILED)
    return qmgr_error_entry ((QmgrError) code)->dbus_name;
  if (code >= TRANSFER_FIRST && code <= TRANSFER_LAST)
    return qmgr_transfer_error_name ((QmgrTransferError) (code - TRANSFER_FIRST + 1));
  for (guint i = 0; i < G_N_ELEMENTS (bus_names); i++)
    if (bus_names[i].code == code)
      return bus_names[i].name;
  return NULL;
}

/**
 * qmgr_client_error_from_dbus_name:
 * @name: a D-Bus error name, such as "io.github.qmgrd.QMgr1.Error.InvalidState"
 * @code: (out): the code of @name
 *
 * Looks up the code of an error name qmgrd or the bus sends, a
 * Transfer.* name included.
 *
 * Returns: %TRUE if @name is known; else @code is %QMGR_CLIENT_ERROR_UNKNOWN
 */
gboolean
qmgr_client_error_from_dbus_name (const char *name, QmgrClientError *code)
{
  QmgrTransferError transfer;

  g_return_val_if_fail (name != NULL, FALSE);
  *code = QMGR_CLIENT_ERROR_UNKNOWN;
  for (int i = 0; i < QMGR_ERROR_N_CODES; i++)
    if (strcmp (name, qmgr_error_entry ((QmgrError) i)->dbus_name) == 0)
      {
        *code = (QmgrClientError) i;
        return TRUE;
      }
  for (guint i = 0; i < G_N_ELEMENTS (bus_names); i++)
    if (strcmp (name, bus_names[i].name) == 0)
      {
        *code = bus_names[i].code;
        return TRUE;
      }
  if (*name != '\0' && qmgr_transfer_error_from_name (name, &transfer))
    {
      *code = (QmgrClientError) (TRANSFER_FIRST + (int) transfer - 1);
      return TRUE;
    }
  return FALSE;
}

static guint32
hresult_of (QmgrClientError code)
{
  if (code <= QMGR_CLIENT_ERROR_FAILED)
    return qmgr_error_entry ((QmgrError) code)->hresult;
  if (code == QMGR_CLIENT_ERROR_UNKNOWN_OBJECT)
    return ITEM_NOT_FOUND_HRESULT;
  return 0;
}

/**
 * qmgr_client_error_get_summary:
 * @code: a #QmgrClientError
 *
 * A short translated sentence saying what @code means.
 *
 * Returns: the summary, in the user's language
 */
const char *
qmgr_client_error_get_summary (QmgrClientError code)
{
  if ((guint) code >= N_CODES)
    code = QMGR_CLIENT_ERROR_UNKNOWN;
  return _(summaries[code]);
}

/**
 * qmgr_client_error_get_hresult:
 * @error: a #GError in the %QMGR_CLIENT_ERROR domain, or a D-Bus error from a
 *   call to qmgrd
 *
 * The HRESULT of @error, as docs/dbus-api.md gives it for the error's name
 * (UnknownObject reads as ItemNotFound, 0x81001004).
 *
 * Returns: the HRESULT, or 0 when the error has none (a transfer error, a
 *   failure of the bus itself, an error of another domain)
 */
guint32
qmgr_client_error_get_hresult (const GError *error)
{
  g_autofree char *name = NULL;
  QmgrClientError code;

  g_return_val_if_fail (error != NULL, 0);
  if (error->domain == QMGR_CLIENT_ERROR)
    return hresult_of ((QmgrClientError) error->code);
  name = g_dbus_error_get_remote_error (error);
  if (name != NULL && qmgr_client_error_from_dbus_name (name, &code))
    return hresult_of (code);
  return 0;
}

static gboolean
ends_with_hresult (const char *text)
{
  gsize len = strlen (text);
  const char *tail;

  if (len < 12)
    return FALSE;
  tail = text + len - 12;
  if (strncmp (tail, "[0x", 3) != 0 || tail[11] != ']')
    return FALSE;
  for (int i = 3; i < 11; i++)
    if (!g_ascii_isxdigit (tail[i]))
      return FALSE;
  return TRUE;
}

/* The summary, then the daemon's sentence; the HRESULT always closes the
 * message of a code that has one (sd-bus's own errors carry none). */
static GError *
build (QmgrClientError code, const char *name, const char *detail)
{
  g_autoptr(GString) msg = g_string_new (qmgr_client_error_get_summary (code));
  guint32 hresult = hresult_of (code);

  if (code == QMGR_CLIENT_ERROR_UNKNOWN && name != NULL)
    /* TRANSLATORS: the D-Bus name of an error that libqmgr does not know */
    g_string_append_printf (msg, _(" (%s)"), name);
  if (detail != NULL && *detail != '\0')
    /* TRANSLATORS: separates an error's summary from the daemon's own sentence */
    g_string_append_printf (msg, _(": %s"), detail);
  if (hresult != 0 && !ends_with_hresult (msg->str))
    g_string_append_printf (msg, " [0x%08x]", hresult);
  return g_error_new_literal (QMGR_CLIENT_ERROR, code, msg->str);
}

/**
 * qmgr_client_error_new_from_dbus:
 * @error: an error from a call to qmgrd (through a generated proxy, GDBus or
 *   libqmgr)
 *
 * Converts a D-Bus error into the %QMGR_CLIENT_ERROR domain, by its D-Bus
 * error name: the code tells the name apart (every name qmgrd sends has its
 * own), the message is the translated summary followed by the daemon's
 * sentence, which ends with the HRESULT in brackets. A lost or timed-out
 * connection becomes %QMGR_CLIENT_ERROR_NO_REPLY. Errors that are already in
 * the domain are copied; other errors (%G_IO_ERROR_CANCELLED among them) are
 * copied unchanged.
 *
 * Returns: (transfer full): the converted error
 */
GError *
qmgr_client_error_new_from_dbus (const GError *error)
{
  g_autofree char *name = NULL;
  g_autoptr(GError) stripped = NULL;
  QmgrClientError code;

  g_return_val_if_fail (error != NULL, NULL);
  if (!g_dbus_error_is_remote_error (error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)
          || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED)
          || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)
          || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
        return build (QMGR_CLIENT_ERROR_NO_REPLY, NULL, error->message);
      return g_error_copy (error);
    }
  name = g_dbus_error_get_remote_error (error);
  stripped = g_error_copy (error);
  g_dbus_error_strip_remote_error (stripped);
  if (name == NULL || !qmgr_client_error_from_dbus_name (name, &code))
    code = QMGR_CLIENT_ERROR_UNKNOWN;
  return build (code, name, stripped->message);
}

/**
 * qmgr_client_error_convert: (skip)
 * @error: (inout) (optional) (nullable): an error from a call to qmgrd, or %NULL
 *
 * Replaces *@error with qmgr_client_error_new_from_dbus() of it.
 *
 * Returns: %TRUE if *@error is now in the %QMGR_CLIENT_ERROR domain
 */
gboolean
qmgr_client_error_convert (GError **error)
{
  GError *converted;

  if (error == NULL || *error == NULL)
    return FALSE;
  converted = qmgr_client_error_new_from_dbus (*error);
  g_error_free (*error);
  *error = converted;
  return converted->domain == QMGR_CLIENT_ERROR;
}

/**
 * qmgr_client_error_new_for_name:
 * @name: a D-Bus error name, or "" for none
 * @message: the daemon's sentence about it
 *
 * Makes an error of a name and message that qmgrd reports as data rather
 * than as a method error: the job's #QmgrJob:last-error and the last error
 * of each file (io.github.qmgrd.QMgr1.Job.GetFileStatus()), whose names are
 * under io.github.qmgrd.QMgr1.Transfer.
 *
 * Returns: (transfer full) (nullable): the error, or %NULL when @name is ""
 */
GError *
qmgr_client_error_new_for_name (const char *name, const char *message)
{
  QmgrClientError code;

  g_return_val_if_fail (name != NULL, NULL);
  if (*name == '\0')
    return NULL;
  if (!qmgr_client_error_from_dbus_name (name, &code))
    code = QMGR_CLIENT_ERROR_UNKNOWN;
  return build (code, name, message);
}
