/* qmgrd files — the temp file of a download and its final rename. A file is
 * downloaded into <dir>/.qmgrd-<job guid hex>-<file index>.part next to its
 * destination and renamed over it only once complete and on disk. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct {
  int dir_fd;          /* the destination's directory */
  int fd;              /* the temp file, read-write */
  char *name;          /* the temp file's name within dir_fd */
  char *dest_name;     /* the destination's name within dir_fd */
  guint64 size;        /* bytes in the temp file when opened */
} QmgrTempFile;

/* Opens (creating with O_EXCL|O_NOFOLLOW, mode 0600) the temp file of file
 * @index of the job whose GUID hex is @job_hex, for destination @dest_path. An
 * existing temp file is reused only if it is a regular file of ours with one
 * link; anything else at that name is removed and the file created anew.
 * Errors carry the errno (qmgr_temp_file_error_errno). */
QmgrTempFile *qmgr_temp_file_open (const char *dest_path, const char *job_hex, guint index,
                                   GError **error);
/* Empties the temp file (the server's file changed). */
gboolean qmgr_temp_file_truncate (QmgrTempFile *tf, GError **error);
/* fsync, mode 0666 & ~umask, mtime (unix seconds, 0: leave), rename over the
 * destination, fsync of the directory. Consumes nothing: free @tf after. */
gboolean qmgr_temp_file_commit (QmgrTempFile *tf, gint64 mtime, GError **error);
void qmgr_temp_file_free (QmgrTempFile *tf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrTempFile, qmgr_temp_file_free)

/* Removes the temp file of a file that will not be finished (cancel). */
void qmgr_temp_file_remove (const char *dest_path, const char *job_hex, guint index);

/* The errno behind a G_IO_ERROR made by this module (0 if none). */
int qmgr_temp_file_error_errno (const GError *error);

G_END_DECLS
