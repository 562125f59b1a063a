/* qmgrd — small helpers for local I/O shared by the layers that touch files
 * (store/, files/, transfer/): errors that carry their errno, writing a whole
 * buffer, opening a file under a directory descriptor, and the one list of
 * local failures worth retrying. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Errors of local I/O: the code is the errno. */
#define QMGR_IO_ERROR (qmgr_io_error_quark ())
GQuark qmgr_io_error_quark (void);

/* Sets "Could not @what @path: <strerror>" with @err as the code; returns FALSE. */
gboolean qmgr_io_set_error (GError **error, int err, const char *what, const char *path);
/* The errno of a QMGR_IO_ERROR, 0 for anything else (or NULL). */
int qmgr_io_error_errno (const GError *error);

/* Whether a local failure may go away by itself (a full disk or quota, too
 * many open files, an interrupted or would-block call, memory pressure): the
 * transfer is retried later rather than failed. */
gboolean qmgr_io_errno_is_transient (int err);

/* Writes all of @data at the file offset (or at @offset when it is ≥ 0),
 * retrying short and interrupted writes. Returns 0 or the errno. */
int qmgr_io_write_all (int fd, const void *data, gsize len, gint64 offset);

/* openat() with O_CLOEXEC|O_NOFOLLOW added: a symlink at @name is never
 * followed. Returns the descriptor, or -1 with errno set. */
int qmgr_io_open_at (int dir_fd, const char *name, int flags, mode_t mode);

G_END_DECLS
