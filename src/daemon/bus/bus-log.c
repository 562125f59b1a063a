/* qmgrd bus — messages about a group (and its job) carry their GUIDs in the
 * structured fields QMGR_GROUP_ID and QMGR_JOB_ID, so that the journal finds
 * them by group (journalctl QMGR_GROUP_ID=…) rather than by grep. */
#include "bus-private.h"

#include <string.h>

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
qmgr_bus_log_full (GLogLevelFlags level, const char *group_id, const char *job_id,
                   const char *file, const char *line, const char *func,
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
  fields[n++] = (GLogField) { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 };
  fields[n++] = (GLogField) { "CODE_FILE", file, -1 };
  fields[n++] = (GLogField) { "CODE_LINE", line, -1 };
  fields[n++] = (GLogField) { "CODE_FUNC", func, -1 };
  fields[n++] = (GLogField) { "QMGR_GROUP_ID", group_id, -1 };
  if (job_id != NULL)
    fields[n++] = (GLogField) { "QMGR_JOB_ID", job_id, -1 };
  fields[n++] = (GLogField) { "MESSAGE", message, -1 };
  g_assert (n <= G_N_ELEMENTS (fields));
  g_log_structured_array (level, fields, n);
}

/* The dashed GUID of the 32 hex digits at @hex, or FALSE. */
static gboolean
id_from_hex (const char *hex, char id[QMGR_GUID_STRING_LEN + 1])
{
  QmgrGuid guid;

  if (strlen (hex) < QMGR_GUID_HEX_LEN || !qmgr_guid_from_hex (hex, QMGR_GUID_HEX_LEN, &guid))
    return FALSE;
  qmgr_guid_to_string (guid, id);
  return TRUE;
}

gboolean
qmgr_bus_ids_from_path (const char *path, char group_id[QMGR_GUID_STRING_LEN + 1],
                        char job_id[QMGR_GUID_STRING_LEN + 1])
{
  const char *prefix = QMGR_GROUP_PATH_PREFIX "/";
  const char *rest;

  job_id[0] = '\0';
  if (!g_str_has_prefix (path, prefix) || !id_from_hex (path + strlen (prefix), group_id))
    return FALSE;
  rest = path + strlen (prefix) + QMGR_GUID_HEX_LEN;
  if (g_str_has_prefix (rest, "/job/") && !id_from_hex (rest + strlen ("/job/"), job_id))
    job_id[0] = '\0';
  return TRUE;
}
