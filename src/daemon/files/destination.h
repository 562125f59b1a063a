/* qmgrd files — checks on a destination path made with the daemon's own rights
 * (session mode: the user's). System mode will run the same checks in the
 * owner's worker process. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* A QmgrDestinationCheck: the parent must be an existing directory the daemon can
 * write and search, the path itself not a directory. */
gboolean qmgr_destination_check_local (uid_t owner, const char *path, gpointer user_data,
                                       GError **error);

G_END_DECLS
