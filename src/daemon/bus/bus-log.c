/* qmgrd bus — the GUIDs an object path names, for the structured fields of
 * messages about a group (qmgr-log.h). */
#include "bus-private.h"

#include <string.h>

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
