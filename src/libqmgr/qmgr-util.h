/* libqmgr — identifiers and words: GUIDs in their wire form (the daemon's
 * own parser, src/common/qmgr-guid.c), the object paths built from them, and
 * what a WaitReason means in the user's language. */
#pragma once

#if !defined(__QMGR_H_INSIDE__) && !defined(QMGR_COMPILATION)
#error "Only <qmgr.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

char *qmgr_guid_normalize (const char *text, GError **error);
gboolean qmgr_guid_is_valid (const char *text);
char *qmgr_guid_new_random (void);

char *qmgr_path_for_group (const char *group_id, GError **error);
char *qmgr_path_for_job (const char *group_id, const char *job_id, GError **error);
char *qmgr_path_get_guid (const char *object_path);

const char *qmgr_wait_reason_describe (const char *wait_reason);

G_END_DECLS
