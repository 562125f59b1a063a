/* qmgrd files — destination checks for AddFiles, with the daemon's own rights. */
#include "destination.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qmgr-error.h"

static gboolean
check_not_directory (const char *path, GError **error)
{
  struct stat st;

  /* lstat: a symlink at the destination is replaced, never followed. */
  if (lstat (path, &st) == 0 && S_ISDIR (st.st_mode))
    {
      g_autofree char *shown = qmgr_describe_value (path);
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS, "Local path %s is a directory",
                   shown);
      return FALSE;
    }
  return TRUE;
}

gboolean
qmgr_destination_check_local (uid_t owner, const char *path, gpointer user_data,
                              GError **error)
{
  g_autofree char *parent = g_path_get_dirname (path);
  g_autofree char *parent_dir = g_strconcat (parent, "/", NULL);
  struct stat st;

  /* The usual case in one call: the trailing slash makes it a directory. */
  if (access (parent_dir, W_OK | X_OK) == 0)
    return check_not_directory (path, error);

  /* Otherwise, say why. */
  if (stat (parent, &st) < 0)
    {
      int err = errno;
      g_autofree char *shown = qmgr_describe_value (parent);
      if (err == EACCES)
        g_set_error (error, QMGR_ERROR, QMGR_ERROR_ACCESS_DENIED,
                     "Directory %s cannot be reached by its owner", shown);
      else
        g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                     "Directory %s does not exist (%s)", shown, g_strerror (err));
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode))
    {
      g_autofree char *shown = qmgr_describe_value (parent);
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS, "%s is not a directory", shown);
      return FALSE;
    }
  if (!check_not_directory (path, error))
    return FALSE;
  if (access (parent, W_OK | X_OK) < 0)
    {
      int err = errno;
      g_autofree char *shown = qmgr_describe_value (parent);
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_ACCESS_DENIED,
                   "Directory %s is not writable by its owner (%s)", shown, g_strerror (err));
      return FALSE;
    }
  return TRUE;
}
