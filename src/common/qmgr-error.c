/* qmgrd — the error tables: code → D-Bus name → HRESULT (docs/dbus-api.md,
 * "Errors"), and the names of transfer failures. */
#include "qmgr-error.h"

#include <string.h>

#include "qmgr-dbus-names.h"
#include "qmgr-io.h"

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

const QmgrErrorEntry *
qmgr_error_entry_for (const GError *error)
{
  if (error->domain != QMGR_ERROR)
    {
      /* Only a local I/O failure (the store's disk) is expected here. */
      if (error->domain != QMGR_IO_ERROR)
        g_warning ("Unexpected error domain %s: %s", g_quark_to_string (error->domain),
                   error->message);
      return qmgr_error_entry (QMGR_ERROR_FAILED);
    }
  return qmgr_error_entry ((QmgrError) error->code);
}

#define TRANSFER(name) QMGR_TRANSFER_ERROR_PREFIX name

static const char *const transfer_error_names[] = {
  [QMGR_TRANSFER_ERROR_NONE] = "",
  [QMGR_TRANSFER_ERROR_HTTP_STATUS] = TRANSFER ("HttpStatus"),
  [QMGR_TRANSFER_ERROR_CONNECTION_FAILED] = TRANSFER ("ConnectionFailed"),
  [QMGR_TRANSFER_ERROR_HOST_NOT_FOUND] = TRANSFER ("HostNotFound"),
  [QMGR_TRANSFER_ERROR_TIMEOUT] = TRANSFER ("Timeout"),
  [QMGR_TRANSFER_ERROR_TLS_FAILURE] = TRANSFER ("TlsFailure"),
  [QMGR_TRANSFER_ERROR_TOO_MANY_REDIRECTS] = TRANSFER ("TooManyRedirects"),
  [QMGR_TRANSFER_ERROR_FORBIDDEN_REDIRECT] = TRANSFER ("ForbiddenRedirect"),
  [QMGR_TRANSFER_ERROR_BAD_RESPONSE] = TRANSFER ("BadResponse"),
  [QMGR_TRANSFER_ERROR_LOCAL_FILE] = TRANSFER ("LocalFile"),
  [QMGR_TRANSFER_ERROR_NO_PROGRESS] = TRANSFER ("NoProgress"),
  [QMGR_TRANSFER_ERROR_CANCELLED] = TRANSFER ("Cancelled"),
};
G_STATIC_ASSERT (G_N_ELEMENTS (transfer_error_names) == QMGR_TRANSFER_ERROR_N_CODES);

const char *
qmgr_transfer_error_name (QmgrTransferError code)
{
  g_return_val_if_fail ((guint) code < G_N_ELEMENTS (transfer_error_names), "");
  return transfer_error_names[code];
}

gboolean
qmgr_transfer_error_from_name (const char *name, QmgrTransferError *code)
{
  for (guint i = 0; i < G_N_ELEMENTS (transfer_error_names); i++)
    if (strcmp (name, transfer_error_names[i]) == 0)
      {
        *code = (QmgrTransferError) i;
        return TRUE;
      }
  return FALSE;
}

#define SHOWN_MAX 120

char *
qmgr_describe_value (const char *value)
{
  gsize len = strlen (value);
  g_autofree char *head = g_strndup (value, MIN (len, SHOWN_MAX));

  /* g_strndup may cut a UTF-8 sequence; make it valid before escaping. */
  g_autofree char *valid = g_utf8_make_valid (head, -1);
  g_autofree char *escaped = g_strescape (valid, NULL);
  if (len > SHOWN_MAX)
    return g_strdup_printf ("\"%s…\" (%zu bytes)", escaped, len);
  return g_strdup_printf ("\"%s\"", escaped);
}
