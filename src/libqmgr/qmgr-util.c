/* libqmgr — GUIDs, object paths and WaitReason texts. The GUID rules are the
 * daemon's (one parser in src/common), so a GUID the library accepts is one
 * qmgrd accepts. */
#include "config.h"

#include <string.h>

#include "qmgr.h"
#include "qmgr-guid.h"
#include "qmgr-i18n.h"

#define GROUP_PREFIX QMGR_MANAGER_PATH "/group/"

static gboolean
parse (const char *text, QmgrGuid *guid, GError **error)
{
  if (!qmgr_guid_parse (text, guid, NULL))
    {
      g_autofree char *shown = g_strescape (strlen (text) > 80 ? "…" : text, NULL);
      g_set_error (error, QMGR_CLIENT_ERROR, QMGR_CLIENT_ERROR_INVALID_ARGS,
                   _("“%s” is not a GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, "
                     "not all zeros)"),
                   shown);
      return FALSE;
    }
  return TRUE;
}

/**
 * qmgr_guid_normalize:
 * @text: a GUID in a form qmgrd accepts: xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx
 *   with or without braces, or the 32 hex digits alone, in any case
 * @error: return location for a %QMGR_CLIENT_ERROR_INVALID_ARGS error
 *
 * The form qmgrd gives GUIDs in: dashed, lowercase, without braces. The
 * all-zero GUID is refused, as qmgrd refuses it.
 *
 * Returns: (transfer full): the normalized GUID, or %NULL with @error set
 */
char *
qmgr_guid_normalize (const char *text, GError **error)
{
  QmgrGuid guid;
  char out[QMGR_GUID_STRING_LEN + 1];

  g_return_val_if_fail (text != NULL, NULL);
  if (!parse (text, &guid, error))
    return NULL;
  qmgr_guid_to_string (guid, out);
  return g_strdup (out);
}

/**
 * qmgr_guid_is_valid:
 * @text: a string
 *
 * Whether qmgrd would accept @text as a GUID (see qmgr_guid_normalize()).
 *
 * Returns: %TRUE if @text is a GUID
 */
gboolean
qmgr_guid_is_valid (const char *text)
{
  QmgrGuid guid;

  g_return_val_if_fail (text != NULL, FALSE);
  return qmgr_guid_parse (text, &guid, NULL);
}

/**
 * qmgr_guid_new_random:
 *
 * A random (version 4) GUID, for clients that choose their group and job
 * GUIDs themselves (passing "" to CreateGroup lets qmgrd choose).
 *
 * Returns: (transfer full): the GUID, dashed and lowercase
 */
char *
qmgr_guid_new_random (void)
{
  char out[QMGR_GUID_STRING_LEN + 1];

  qmgr_guid_to_string (qmgr_guid_generate (), out);
  return g_strdup (out);
}

/**
 * qmgr_path_for_group:
 * @group_id: the GUID of a group, in any accepted form
 * @error: return location for a %QMGR_CLIENT_ERROR_INVALID_ARGS error
 *
 * The object path of a group: /io/github/qmgrd/QMgr1/group/ and the 32
 * lowercase hex digits of its GUID. Whether the group exists is not
 * checked (io.github.qmgrd.QMgr1.Manager.GetGroup() does).
 *
 * Returns: (transfer full): the path, or %NULL with @error set
 */
char *
qmgr_path_for_group (const char *group_id, GError **error)
{
  QmgrGuid guid;
  char hex[QMGR_GUID_HEX_LEN + 1];

  g_return_val_if_fail (group_id != NULL, NULL);
  if (!parse (group_id, &guid, error))
    return NULL;
  qmgr_guid_to_hex (guid, hex);
  return g_strconcat (GROUP_PREFIX, hex, NULL);
}

/**
 * qmgr_path_for_job:
 * @group_id: the GUID of the job's group
 * @job_id: the GUID of the job
 * @error: return location for a %QMGR_CLIENT_ERROR_INVALID_ARGS error
 *
 * The object path of a job: its group's path, /job/ and the 32 lowercase
 * hex digits of its GUID.
 *
 * Returns: (transfer full): the path, or %NULL with @error set
 */
char *
qmgr_path_for_job (const char *group_id, const char *job_id, GError **error)
{
  g_autofree char *group = NULL;
  QmgrGuid guid;
  char hex[QMGR_GUID_HEX_LEN + 1];

  g_return_val_if_fail (job_id != NULL, NULL);
  group = qmgr_path_for_group (group_id, error);
  if (group == NULL || !parse (job_id, &guid, error))
    return NULL;
  qmgr_guid_to_hex (guid, hex);
  return g_strconcat (group, "/job/", hex, NULL);
}

/**
 * qmgr_path_get_guid:
 * @object_path: the object path of a group or a job
 *
 * The GUID of the group or job at @object_path, from the path's last
 * element.
 *
 * Returns: (transfer full) (nullable): the GUID, dashed and lowercase, or
 *   %NULL if @object_path is not the path of a group or a job
 */
char *
qmgr_path_get_guid (const char *object_path)
{
  const char *rest, *last;
  QmgrGuid guid;
  char out[QMGR_GUID_STRING_LEN + 1];

  g_return_val_if_fail (object_path != NULL, NULL);
  if (!g_str_has_prefix (object_path, GROUP_PREFIX))
    return NULL;
  rest = object_path + strlen (GROUP_PREFIX);
  last = rest;
  if (strlen (rest) > QMGR_GUID_HEX_LEN)
    {
      /* <group hex>/job/<job hex> */
      if (strlen (rest) != 2 * QMGR_GUID_HEX_LEN + 5
          || strncmp (rest + QMGR_GUID_HEX_LEN, "/job/", 5) != 0
          || !qmgr_guid_from_hex (rest, QMGR_GUID_HEX_LEN, &guid))
        return NULL;
      last = rest + QMGR_GUID_HEX_LEN + 5;
    }
  if (strlen (last) != QMGR_GUID_HEX_LEN || !qmgr_guid_from_hex (last, QMGR_GUID_HEX_LEN, &guid))
    return NULL;
  qmgr_guid_to_string (guid, out);
  return g_strdup (out);
}

/**
 * qmgr_wait_reason_describe:
 * @wait_reason: a value of #QmgrGroup:wait-reason
 *
 * What a group's WaitReason means, as a short sentence in the user's
 * language: "suspended", "queued", "transferring", "metered", "offline",
 * "captive-portal", "retrying", "complete" or "error".
 *
 * Returns: the description; for an unknown value, @wait_reason itself
 */
const char *
qmgr_wait_reason_describe (const char *wait_reason)
{
  static const struct {
    const char *reason;
    const char *text;
  } texts[] = {
    { "suspended", N_("Suspended") },
    { "queued", N_("Queued, waiting for a free transfer slot") },
    { "transferring", N_("Transferring") },
    { "metered", N_("Waiting for a network that its transfer policy allows (metered)") },
    { "offline", N_("Waiting for the network") },
    { "captive-portal", N_("Waiting behind a captive portal (sign in to the network)") },
    { "retrying", N_("Waiting to retry after a transient error") },
    { "complete", N_("Complete") },
    { "error", N_("Stopped by an error") },
  };

  g_return_val_if_fail (wait_reason != NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    if (strcmp (wait_reason, texts[i].reason) == 0)
      return _(texts[i].text);
  return wait_reason;
}
