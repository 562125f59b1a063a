/* qmgrd — messages about a group (and its job) carry their GUIDs in the
 * structured fields QMGR_GROUP_ID and QMGR_JOB_ID, so that the journal finds
 * them by group (journalctl QMGR_GROUP_ID=…) rather than by grep. Every layer
 * logs through this, with its own G_LOG_DOMAIN. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void qmgr_log_full (const char *domain, GLogLevelFlags level, const char *group_id,
                    const char *job_id, const char *file, const char *line, const char *func,
                    const char *format, ...) G_GNUC_PRINTF (8, 9);

/* qmgr_log (G_LOG_LEVEL_WARNING, group->id_str, job_id_or_NULL, "…", …) */
#define qmgr_log(level, group_id, job_id, ...)                                             \
  qmgr_log_full (G_LOG_DOMAIN, (level), (group_id), (job_id), __FILE__,                   \
                 G_STRINGIFY (__LINE__), G_STRFUNC, __VA_ARGS__)

G_END_DECLS
