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
  char *dir_path;      /* the directory, as the destination's path names it */
  guint64 size;        /* bytes in the temp file when opened */
} QmgrTempFile;

/* Reads the umask, which can only be done by setting it (for an instant, to
 * 0): call on the main thread before any other thread starts (main() does).
 * Later calls do nothing. */
void qmgr_temp_file_init (void);

/* Opens (creating with O_EXCL|O_NOFOLLOW, mode 0600) the temp file of file
 * @index of the job whose GUID hex is @job_hex, for destination @dest_path. An
 * existing temp file is reused only if it is a regular file of ours with one
 * link; anything else at that name is removed and the file created anew.
 * Errors are QMGR_IO_ERROR, with the errno as their code. */
QmgrTempFile *qmgr_temp_file_open (const char *dest_path, const char *job_hex, guint index,
                                   GError **error);
/* Empties the temp file (the server's file changed). */
gboolean qmgr_temp_file_truncate (QmgrTempFile *tf, GError **error);
/* The steps of completing a file (commit.h puts them in order, in batches):
 * its final mode 0666 & ~umask and mtime (unix seconds, 0: leave); its data
 * and metadata on disk (may run in any thread); the rename over the
 * destination; the directory on disk. */
gboolean qmgr_temp_file_finish (QmgrTempFile *tf, gint64 mtime, GError **error);
gboolean qmgr_temp_file_sync (QmgrTempFile *tf, GError **error);
gboolean qmgr_temp_file_install (QmgrTempFile *tf, GError **error);
gboolean qmgr_temp_file_sync_dir (QmgrTempFile *tf, GError **error);
void qmgr_temp_file_free (QmgrTempFile *tf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrTempFile, qmgr_temp_file_free)

/* Removes the temp file of a file that will not be finished (cancel). */
void qmgr_temp_file_remove (const char *dest_path, const char *job_hex, guint index);

G_END_DECLS
