/* qmgrd — structured messages about a group (qmgr-log.h). */
#include "qmgr-log.h"

/* As GLib's own structured messages map levels to syslog priorities. */
static const char *
priority (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "3";
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return "4";
  if (level & G_LOG_LEVEL_INFO)
    return "6";
  if (level & G_LOG_LEVEL_DEBUG)
    return "7";
  return "5";
}

void
qmgr_log_full (const char *domain, GLogLevelFlags level, const char *group_id,
               const char *job_id, const char *file, const char *line, const char *func,
               const char *format, ...)
{
  g_autofree char *message = NULL;
  GLogField fields[8];
  gsize n = 0;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);

  fields[n++] = (GLogField) { "PRIORITY", priority (level), -1 };
  fields[n++] = (GLogField) { "GLIB_DOMAIN", domain, -1 };
  fields[n++] = (GLogField) { "CODE_FILE", file, -1 };
  fields[n++] = (GLogField) { "CODE_LINE", line, -1 };
  fields[n++] = (GLogField) { "CODE_FUNC", func, -1 };
  if (group_id != NULL)
    fields[n++] = (GLogField) { "QMGR_GROUP_ID", group_id, -1 };
  if (job_id != NULL)
    fields[n++] = (GLogField) { "QMGR_JOB_ID", job_id, -1 };
  fields[n++] = (GLogField) { "MESSAGE", message, -1 };
  g_log_structured_array (level, fields, n);
}
