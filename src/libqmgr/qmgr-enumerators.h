/* libqmgr — IEnumBackgroundCopyGroups and IEnumBackgroundCopyJobs1: snapshots
 * of EnumGroups and EnumJobs, walked with next, skip, reset and clone. */
#pragma once

#if !defined(__QMGR_H_INSIDE__) && !defined(QMGR_COMPILATION)
#error "Only <qmgr.h> can be included directly."
#endif

#include <gio/gio.h>

#include "qmgr-dbus.h"

G_BEGIN_DECLS

#define QMGR_TYPE_ENUM_GROUPS (qmgr_enum_groups_get_type ())
G_DECLARE_FINAL_TYPE (QmgrEnumGroups, qmgr_enum_groups, QMGR, ENUM_GROUPS, GObject)

void qmgr_enum_groups_new (QmgrManager *manager, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
QmgrEnumGroups *qmgr_enum_groups_new_finish (GAsyncResult *result, GError **error);
QmgrEnumGroups *qmgr_enum_groups_new_sync (QmgrManager *manager, GCancellable *cancellable,
                                           GError **error);
gboolean qmgr_enum_groups_next (QmgrEnumGroups *self, guint count, char ***ids);
gboolean qmgr_enum_groups_skip (QmgrEnumGroups *self, guint count);
void qmgr_enum_groups_reset (QmgrEnumGroups *self);
QmgrEnumGroups *qmgr_enum_groups_clone (QmgrEnumGroups *self);
guint qmgr_enum_groups_get_count (QmgrEnumGroups *self);

#define QMGR_TYPE_ENUM_JOBS (qmgr_enum_jobs_get_type ())
G_DECLARE_FINAL_TYPE (QmgrEnumJobs, qmgr_enum_jobs, QMGR, ENUM_JOBS, GObject)

void qmgr_enum_jobs_new (QmgrGroup *group, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data);
QmgrEnumJobs *qmgr_enum_jobs_new_finish (GAsyncResult *result, GError **error);
QmgrEnumJobs *qmgr_enum_jobs_new_sync (QmgrGroup *group, GCancellable *cancellable,
                                       GError **error);
gboolean qmgr_enum_jobs_next (QmgrEnumJobs *self, guint count, char ***ids);
gboolean qmgr_enum_jobs_skip (QmgrEnumJobs *self, guint count);
void qmgr_enum_jobs_reset (QmgrEnumJobs *self);
QmgrEnumJobs *qmgr_enum_jobs_clone (QmgrEnumJobs *self);
guint qmgr_enum_jobs_get_count (QmgrEnumJobs *self);

G_END_DECLS
