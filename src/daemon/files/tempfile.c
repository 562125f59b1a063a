/* qmgrd files — temp files, created so that no symlink is ever followed and no
 * byte lands outside the intended file (docs/architecture.md, "Data flow of one file"). */
#include "tempfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qmgr-io.h"

static char *
temp_name (const char *job_hex, guint index)
{
  return g_strdup_printf (".qmgrd-%s-%u.part", job_hex, index);
}

/* Sets *@size to the file's. */
static gboolean
is_ours (int fd, guint64 *size)
{
  struct stat st;

  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_uid != geteuid () ||
      st.st_nlink != 1)
    return FALSE;
  *size = (guint64) st.st_size;
  return TRUE;
}

QmgrTempFile *
qmgr_temp_file_open (const char *dest_path, const char *job_hex, guint index, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (dest_path);
  g_autoptr(QmgrTempFile) tf = g_new0 (QmgrTempFile, 1);
  guint64 size = 0;

  tf->dir_fd = tf->fd = -1;
  tf->name = temp_name (job_hex, index);
  tf->dest_name = g_path_get_basename (dest_path);
  tf->dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tf->dir_fd < 0)
    {
      qmgr_io_set_error (error, errno, "open the directory", dir);
      return NULL;
    }

  for (int attempt = 0; attempt < 2; attempt++)
    {
      tf->fd = openat (tf->dir_fd, tf->name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600);
      if (tf->fd >= 0)
        break;
      if (errno != EEXIST)
        {
          qmgr_io_set_error (error, errno, "create", tf->name);
          return NULL;
        }
      /* A temp file from an earlier attempt: resume from it if it is ours. */
      tf->fd = openat (tf->dir_fd, tf->name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
      if (tf->fd >= 0 && is_ours (tf->fd, &size))
        {
          int flags = fcntl (tf->fd, F_GETFL);
          fcntl (tf->fd, F_SETFL, flags & ~O_NONBLOCK);
          break;
        }
      if (tf->fd >= 0)
        close (tf->fd);
      tf->fd = -1;
      /* Not ours (a symlink, a FIFO, a hard link, another user's file): never
       * write through it. Removing the name touches only the directory entry. */
      if (unlinkat (tf->dir_fd, tf->name, 0) < 0 && errno != ENOENT)
        {
          qmgr_io_set_error (error, errno, "remove the stray", tf->name);
          return NULL;
        }
    }
  if (tf->fd < 0)
    {
      qmgr_io_set_error (error, EEXIST, "create", tf->name);
      return NULL;
    }
  /* A file just created is empty; one reused was inspected by is_ours(). */
  tf->size = size;
  tf->dir_path = g_steal_pointer (&dir);
  return g_steal_pointer (&tf);
}

gboolean
qmgr_temp_file_truncate (QmgrTempFile *tf, GError **error)
{
  if (ftruncate (tf->fd, 0) < 0)
    return qmgr_io_set_error (error, errno, "empty", tf->name);
  tf->size = 0;
  return TRUE;
}

static mode_t
current_umask (void)
{
  static gsize cached = 0;

  /* Read once, by qmgr_temp_file_init(): the commit thread uses it. */
  if (g_once_init_enter (&cached))
    {
      mode_t mask = umask (0);
      umask (mask);
      g_once_init_leave (&cached, (gsize) mask | 0x10000);
    }
  return (mode_t) (cached & 0777);
}

void
qmgr_temp_file_init (void)
{
  (void) current_umask ();
}

gboolean
qmgr_temp_file_finish (QmgrTempFile *tf, gint64 mtime, GError **error)
{
  if (fchmod (tf->fd, 0666 & ~current_umask ()) < 0)
    return qmgr_io_set_error (error, errno, "set the mode of", tf->name);
  if (mtime > 0)
    {
      struct timespec times[2] = { { 0, UTIME_OMIT }, { (time_t) mtime, 0 } };
      if (futimens (tf->fd, times) < 0)
        return qmgr_io_set_error (error, errno, "set the time of", tf->name);
    }
  return TRUE;
}

gboolean
qmgr_temp_file_sync (QmgrTempFile *tf, GError **error)
{
  if (fsync (tf->fd) < 0)
    return qmgr_io_set_error (error, errno, "sync", tf->name);
  return TRUE;
}

gboolean
qmgr_temp_file_install (QmgrTempFile *tf, GError **error)
{
  if (renameat (tf->dir_fd, tf->name, tf->dir_fd, tf->dest_name) < 0)
    return qmgr_io_set_error (error, errno, "rename into place", tf->dest_name);
  return TRUE;
}

gboolean
qmgr_temp_file_sync_dir (QmgrTempFile *tf, GError **error)
{
  if (fsync (tf->dir_fd) < 0)
    return qmgr_io_set_error (error, errno, "sync the directory of", tf->dest_name);
  return TRUE;
}

void
qmgr_temp_file_free (QmgrTempFile *tf)
{
  if (tf == NULL)
    return;
  if (tf->fd >= 0)
    close (tf->fd);
  if (tf->dir_fd >= 0)
    close (tf->dir_fd);
  g_free (tf->name);
  g_free (tf->dest_name);
  g_free (tf->dir_path);
  g_free (tf);
}

void
qmgr_temp_file_remove (const char *dest_path, const char *job_hex, guint index)
{
  g_autofree char *dir = g_path_get_dirname (dest_path);
  g_autofree char *name = temp_name (job_hex, index);
  int dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (dir_fd < 0)
    return;
  if (unlinkat (dir_fd, name, 0) < 0 && errno != ENOENT)
    g_warning ("Could not remove %s/%s: %s", dir, name, g_strerror (errno));
  close (dir_fd);
}
