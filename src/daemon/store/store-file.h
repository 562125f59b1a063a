/* qmgrd store — the store's own files, read and written safely: a state file
 * is opened without following a symlink and without blocking on a FIFO, read
 * only when it is a regular file no bigger than it may be, and written to a
 * temp file that is synced and renamed into place. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Why a state file was not read (QMGR_STORE_FILE_ERROR); other failures are
 * QMGR_IO_ERROR with their errno (ENOENT: there is none). */
#define QMGR_STORE_FILE_ERROR (qmgr_store_file_error_quark ())
GQuark qmgr_store_file_error_quark (void);
typedef enum {
  QMGR_STORE_FILE_ERROR_SYMLINK,      /* a symbolic link: never followed */
  QMGR_STORE_FILE_ERROR_NOT_REGULAR,  /* a FIFO, a directory, a device... */
  QMGR_STORE_FILE_ERROR_TOO_BIG,      /* bigger than anything the store writes */
} QmgrStoreFileError;

/* The contents of @name in @dir_fd (@dir_path for messages), at most @max
 * bytes; NUL-terminated after *@len. Never blocks on a FIFO, never follows a
 * symlink. Messages name the file and never quote it. The caller wipes the
 * contents (a group file may hold a password). */
char *qmgr_store_read_file (int dir_fd, const char *dir_path, const char *name, guint64 max,
                            gsize *len, GError **error);

/* Writes @data to @name in @dir_fd durably: a temp file beside it, fsync,
 * rename, fsync of the directory. */
gboolean qmgr_store_write_file (int dir_fd, const char *dir_path, const char *name,
                                const char *data, gsize len, GError **error);

G_END_DECLS
