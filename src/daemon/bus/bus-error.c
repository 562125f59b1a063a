/* qmgrd bus — QMGR_ERROR → D-Bus error, the table in src/common/qmgr-error.c. */
#include "bus-private.h"

#include <errno.h>

#include "qmgr-error.h"

int
qmgr_bus_reply_error (sd_bus_error *ret_error, const GError *error)
{
  const QmgrErrorEntry *e;

  if (error->domain != QMGR_ERROR)
    {
      /* Never expected: core only returns QMGR_ERROR. */
      g_warning ("Unexpected error domain: %s", error->message);
      e = qmgr_error_entry (QMGR_ERROR_FAILED);
    }
  else
    e = qmgr_error_entry ((QmgrError) error->code);
  return sd_bus_error_setf (ret_error, e->dbus_name, "%s [0x%08x]", error->message, e->hresult);
}

int
qmgr_bus_reply_errorf (sd_bus_error *ret_error, int code, const char *format, ...)
{
  g_autoptr(GError) error = NULL;
  va_list ap;

  va_start (ap, format);
  error = g_error_new_valist (QMGR_ERROR, code, format, ap);
  va_end (ap);
  return qmgr_bus_reply_error (ret_error, error);
}

int
qmgr_bus_reply_bad_arguments (sd_bus_error *ret_error, int r)
{
  return qmgr_bus_reply_errorf (ret_error, QMGR_ERROR_INVALID_ARGS,
                                "The arguments could not be read: %s", g_strerror (-r));
}
