/* libqmgr — the common case in one object: a group with a job and files,
 * resumed, followed until complete, with progress as GObject signals. */
#pragma once

#if !defined(__QMGR_H_INSIDE__) && !defined(QMGR_COMPILATION)
#error "Only <qmgr.h> can be included directly."
#endif

#include <gio/gio.h>

#include "qmgr-dbus.h"

G_BEGIN_DECLS

#define QMGR_TYPE_DOWNLOAD (qmgr_download_get_type ())
G_DECLARE_FINAL_TYPE (QmgrDownload, qmgr_download, QMGR, DOWNLOAD, GObject)

QmgrDownload *qmgr_download_new (GDBusConnection *connection);
void qmgr_download_add_file (QmgrDownload *self, const char *url, const char *local_path);
guint qmgr_download_get_n_files (QmgrDownload *self);

const char *qmgr_download_get_display_name (QmgrDownload *self);
void qmgr_download_set_display_name (QmgrDownload *self, const char *display_name);
guint qmgr_download_get_transfer_policy (QmgrDownload *self);
void qmgr_download_set_transfer_policy (QmgrDownload *self, guint transfer_policy);
gboolean qmgr_download_get_foreground (QmgrDownload *self);
void qmgr_download_set_foreground (QmgrDownload *self, gboolean foreground);
gboolean qmgr_download_get_remove_when_complete (QmgrDownload *self);
void qmgr_download_set_remove_when_complete (QmgrDownload *self, gboolean remove);

const char *qmgr_download_get_group_id (QmgrDownload *self);
QmgrGroup *qmgr_download_get_group (QmgrDownload *self);
QmgrJob *qmgr_download_get_job (QmgrDownload *self);
guint qmgr_download_get_status (QmgrDownload *self);
const char *qmgr_download_get_wait_reason (QmgrDownload *self);
guint64 qmgr_download_get_bytes_transferred (QmgrDownload *self);
guint64 qmgr_download_get_bytes_total (QmgrDownload *self);
guint qmgr_download_get_files_transferred (QmgrDownload *self);
guint qmgr_download_get_files_total (QmgrDownload *self);
gboolean qmgr_download_get_resumed (QmgrDownload *self);

void qmgr_download_run (QmgrDownload *self, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data);
gboolean qmgr_download_run_finish (QmgrDownload *self, GAsyncResult *result, GError **error);

G_END_DECLS
