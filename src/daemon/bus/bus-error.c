/* qmgrd bus — QMGR_ERROR → D-Bus error, the table in src/common/qmgr-error.c. */
#include "bus-private.h"

#include <errno.h>


int
qmgr_bus_reply_error (sd_bus_error *ret_error, const GError *error)
{
  const QmgrErrorEntry *e = qmgr_error_entry_for (error);

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
