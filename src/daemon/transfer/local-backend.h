/* qmgrd transfer — the in-process backend of the transfer seam (session mode):
 * libcurl in the daemon's main loop, files written with the daemon's rights. */
#pragma once

#include "backend.h"

G_BEGIN_DECLS

/* DownloaderUnavailable when libcurl cannot be set up. */
QmgrBackend *qmgr_local_backend_new (GError **error);

G_END_DECLS
