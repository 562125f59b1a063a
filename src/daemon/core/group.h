/* qmgrd core — a Group (IBackgroundCopyGroup): state machine, status bits,
 * GetProp/SetProp rules, progress. Status bits and WaitReason are derived in
 * status.c, from the state alone. */
#pragma once

#include "model.h"

G_BEGIN_DECLS

guint32 qmgr_group_get_status (QmgrGroup *group);
const char *qmgr_group_get_wait_reason (QmgrGroup *group);
guint32 qmgr_group_get_effective_transfer_policy (QmgrGroup *group);
guint64 qmgr_group_get_size (QmgrGroup *group);          /* 0 while any size is unknown */
guint64 qmgr_group_get_bytes_total (QmgrGroup *group);   /* sum of the known sizes */
guint64 qmgr_group_get_bytes_transferred (QmgrGroup *group);
guint32 qmgr_group_get_files_total (QmgrGroup *group);
guint32 qmgr_group_get_files_transferred (QmgrGroup *group);
/* The bytes of the strings clients set on the group (names, description,
 * callback target, credentials): what the owner's string quota counts. */
guint64 qmgr_group_get_string_bytes (QmgrGroup *group);

gboolean qmgr_group_get_progress (QmgrGroup *group, guint32 flags, guint32 *progress,
                                  GError **error);
/* GetProp: the value is a floating-free new reference. */
GVariant *qmgr_group_get_prop (QmgrGroup *group, guint32 prop_id, GError **error);
/* SetProp: @value is NULL when its D-Bus type has no GVariant equivalent here;
 * @value_type names the type for the error message. */
gboolean qmgr_group_set_prop (QmgrGroup *group, guint32 prop_id, GVariant *value,
                              const char *value_type, GError **error);

gboolean qmgr_group_set_display_name (QmgrGroup *group, const char *name, GError **error);
gboolean qmgr_group_set_description (QmgrGroup *group, const char *text, GError **error);
gboolean qmgr_group_set_notify_flags (QmgrGroup *group, guint32 flags, GError **error);
gboolean qmgr_group_set_notify_clsid (QmgrGroup *group, const char *clsid, GError **error);
gboolean qmgr_group_set_protocol_flags (QmgrGroup *group, guint32 flags, GError **error);
gboolean qmgr_group_set_priority (QmgrGroup *group, guint32 priority, GError **error);
gboolean qmgr_group_set_remote_user_id (QmgrGroup *group, const char *user, GError **error);
gboolean qmgr_group_set_remote_user_password (QmgrGroup *group, const char *password,
                                              GError **error);
/* A mask within 0x800000FF naming at least one cost state, or 0 (the default). */
gboolean qmgr_transfer_policy_is_valid (guint32 policy);
gboolean qmgr_group_set_transfer_policy (QmgrGroup *group, guint32 policy, GError **error);
gboolean qmgr_group_set_bandwidth_limit (QmgrGroup *group, guint64 limit, GError **error);
gboolean qmgr_group_set_minimum_retry_delay (QmgrGroup *group, guint32 seconds, GError **error);
gboolean qmgr_group_set_no_progress_timeout (QmgrGroup *group, guint32 seconds, GError **error);

gboolean qmgr_group_suspend (QmgrGroup *group, GError **error);
gboolean qmgr_group_resume (QmgrGroup *group, GError **error);
/* Removes the group from its manager and frees it. */
gboolean qmgr_group_cancel (QmgrGroup *group, GError **error);
gboolean qmgr_group_switch_to_foreground (QmgrGroup *group, GError **error);
QmgrJob *qmgr_group_create_job (QmgrGroup *group, const char *job_id, GError **error);
QmgrJob *qmgr_group_get_job (QmgrGroup *group, const char *job_id, GError **error);
char **qmgr_group_enum_jobs (QmgrGroup *group, guint32 flags, GError **error);
/* QueryNewJobInterface for the job interface (the bus layer checks the name):
 * ItemNotFound without a job. */
QmgrJob *qmgr_group_query_job (QmgrGroup *group, GError **error);
/* SetNotificationPointer registered (or cleared) a live callback; where it
 * points is kept by the bus layer. */
void qmgr_group_set_live_callback (QmgrGroup *group, gboolean registered);
gboolean qmgr_group_take_ownership (QmgrGroup *group, uid_t caller, GError **error);

/* Callbacks owed (QmgrPendingNotification). Queueing happens inside the state
 * change that causes it (saved with it); the bus layer delivers the oldest and
 * then calls qmgr_group_notification_done(), which saves its removal. */
gboolean qmgr_group_has_callback_target (QmgrGroup *group);
gboolean qmgr_group_notification_done (QmgrGroup *group, GError **error);
/* Bytes came from the server: NoProgressTimeout starts anew (retrying_since is
 * cleared, saved soon). Not for bytes found in a temp file at a restart. */
void qmgr_group_made_progress (QmgrGroup *group);

/* The scheduler reports why a queued group waits (or that it moves). */
void qmgr_group_set_run_state (QmgrGroup *group, QmgrRunState run_state);

/* Allocation only: for the manager and the store. */
QmgrGroup *qmgr_group_new (QmgrManager *manager, QmgrGuid id, uid_t owner);
void qmgr_group_free (QmgrGroup *group);

const char *qmgr_group_state_to_string (QmgrGroupState state);
gboolean qmgr_group_state_from_string (const char *text, QmgrGroupState *state);

G_END_DECLS
