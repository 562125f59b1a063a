/* qmgrd — local I/O helpers. */
#include "qmgr-io.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

G_DEFINE_QUARK (qmgr-io-error-quark, qmgr_io_error)

gboolean
qmgr_io_set_error (GError **error, int err, const char *what, const char *path)
{
  g_set_error (error, QMGR_IO_ERROR, err, "Could not %s %s: %s", what, path, g_strerror (err));
  return FALSE;
}

int
qmgr_io_error_errno (const GError *error)
{
  return (error != NULL && error->domain == QMGR_IO_ERROR) ? error->code : 0;
}

gboolean
qmgr_io_errno_is_transient (int err)
{
  switch (err)
    {
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case EINTR:
    case EAGAIN:
    case ENOMEM:
      return TRUE;
    default:
      return FALSE;
    }
}

int
qmgr_io_write_all (int fd, const void *data, gsize len, gint64 offset)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = offset >= 0 ? pwrite (fd, p, len, (off_t) offset) : write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return errno;
      if (n == 0)
        return EIO;
      p += n;
      len -= (gsize) n;
      if (offset >= 0)
        offset += n;
    }
  return 0;
}

int
qmgr_io_open_at (int dir_fd, const char *name, int flags, mode_t mode)
{
  return openat (dir_fd, name, flags | O_CLOEXEC | O_NOFOLLOW, mode);
}
