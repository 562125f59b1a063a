/* qmgrd store — reading and writing the store's own files (store-file.h). */
#include "store-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qmgr-io.h"

G_DEFINE_QUARK (qmgr-store-file-error-quark, qmgr_store_file_error)

/* Opens @name for reading: O_NONBLOCK, so that a FIFO put there does not wait
 * for a writer (fstat then refuses it), and no symlink followed. */
static int
open_regular (int dir_fd, const char *path, const char *name, guint64 max, struct stat *st,
              GError **error)
{
  int fd = qmgr_io_open_at (dir_fd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);

  if (fd < 0 && errno == ELOOP)
    {
      g_set_error (error, QMGR_STORE_FILE_ERROR, QMGR_STORE_FILE_ERROR_SYMLINK,
                   "%s is a symbolic link", path);
      return -1;
    }
  if (fd < 0)
    {
      qmgr_io_set_error (error, errno, "open", path);
      return -1;
    }
  if (fstat (fd, st) < 0)
    {
      qmgr_io_set_error (error, errno, "read", path);
      close (fd);
      return -1;
    }
  if (!S_ISREG (st->st_mode))
    {
      g_set_error (error, QMGR_STORE_FILE_ERROR, QMGR_STORE_FILE_ERROR_NOT_REGULAR,
                   "%s is not a regular file", path);
      close (fd);
      return -1;
    }
  if ((guint64) st->st_size > max)
    {
      g_set_error (error, QMGR_STORE_FILE_ERROR, QMGR_STORE_FILE_ERROR_TOO_BIG,
                   "%s is %" G_GUINT64_FORMAT " bytes, more than the %" G_GUINT64_FORMAT
                   " it can take", path, (guint64) st->st_size, max);
      close (fd);
      return -1;
    }
  return fd;
}

char *
qmgr_store_read_file (int dir_fd, const char *dir_path, const char *name, guint64 max,
                      gsize *len, GError **error)
{
  g_autofree char *path = g_build_filename (dir_path, name, NULL);
  struct stat st;
  char *data;
  gsize size, done = 0;
  int fd = open_regular (dir_fd, path, name, max, &st, error);

  if (fd < 0)
    return NULL;
  size = (gsize) st.st_size;
  data = g_try_malloc (size + 1);
  if (data == NULL)
    {
      close (fd);
      qmgr_io_set_error (error, ENOMEM, "read", path);
      return NULL;
    }
  /* Up to the size seen: a file that grows meanwhile is not ours to follow. */
  while (done < size)
    {
      ssize_t n = pread (fd, data + done, size - done, (off_t) done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int err = n < 0 ? errno : 0;

          if (err == 0)
            break;   /* it shrank: the parser sees what is there */
          explicit_bzero (data, done);
          g_free (data);
          close (fd);
          qmgr_io_set_error (error, err, "read", path);
          return NULL;
        }
      done += (gsize) n;
    }
  close (fd);
  data[done] = '\0';
  *len = done;
  return data;
}

gboolean
qmgr_store_write_file (int dir_fd, const char *dir_path, const char *name, const char *data,
                       gsize len, GError **error)
{
  g_autofree char *tmp = g_strconcat (name, ".tmp", NULL);
  g_autofree char *path = g_build_filename (dir_path, name, NULL);
  int fd, err;

  fd = qmgr_io_open_at (dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return qmgr_io_set_error (error, errno, "create", path);
  err = qmgr_io_write_all (fd, data, len, -1);
  if (err != 0)
    {
      close (fd);
      unlinkat (dir_fd, tmp, 0);
      return qmgr_io_set_error (error, err, "write", path);
    }
  err = fsync (fd) < 0 ? errno : 0;
  if (close (fd) < 0 && err == 0)
    err = errno;
  if (err != 0)
    {
      unlinkat (dir_fd, tmp, 0);
      return qmgr_io_set_error (error, err, "sync", path);
    }
  if (renameat (dir_fd, tmp, dir_fd, name) < 0)
    {
      err = errno;
      unlinkat (dir_fd, tmp, 0);
      return qmgr_io_set_error (error, err, "rename into place", path);
    }
  if (fsync (dir_fd) < 0)
    return qmgr_io_set_error (error, errno, "sync the directory of", path);
  return TRUE;
}
