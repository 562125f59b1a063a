/* qmgrd core — a Group's properties: GetProp/SetProp with their type and range
 * rules (docs/dbus-api.md), and the setters behind the D-Bus properties. Each
 * change is validated, then made in a transaction: saved, and announced only
 * once saved. */
#include "core-private.h"

#include <string.h>

#include "qmgr-constants.h"
#include "validate.h"

/* A property the client set: saved before the reply, announced once saved. */
static gboolean
commit_string (QmgrGroup *g, char **field, const char *value, QmgrGroupChange change,
               gboolean secret, GError **error)
{
  gsize old_len = strlen (*field), new_len = strlen (value);
  QmgrTxn txn;

  if (g_strcmp0 (*field, value) == 0)
    return TRUE;
  if (new_len > old_len &&
      !qmgr_manager_owner_can_hold (g->manager, g->owner, 0, new_len - old_len, error))
    return FALSE;
  qmgr_txn_begin (&txn, g);
  qmgr_txn_set_string (&txn, field, value, secret);
  qmgr_txn_changed (&txn, change, 0);
  qmgr_txn_touch (&txn);
  return qmgr_txn_commit (&txn, QMGR_SAVE_NOW, error);
}

static gboolean
commit_field (QmgrGroup *g, gpointer field, gconstpointer value, gsize size,
              QmgrGroupChange change, GError **error)
{
  QmgrTxn txn;

  if (memcmp (field, value, size) == 0)
    return TRUE;
  qmgr_txn_begin (&txn, g);
  qmgr_txn_set_bytes (&txn, field, value, size);
  qmgr_txn_changed (&txn, change, 0);
  qmgr_txn_touch (&txn);
  return qmgr_txn_commit (&txn, QMGR_SAVE_NOW, error);
}

#define COMMIT_NUMBER(g, field, value, change, error)                                 \
  commit_field ((g), (field), &(__typeof__ (*(field))) { (value) }, sizeof *(field), \
                (change), (error))

gboolean
qmgr_group_set_display_name (QmgrGroup *g, const char *name, GError **error)
{
  return qmgr_validate_display_name (name, error) &&
         commit_string (g, &g->display_name, name, QMGR_GROUP_CHANGED_DISPLAY_NAME, FALSE,
                        error);
}

gboolean
qmgr_group_set_description (QmgrGroup *g, const char *text, GError **error)
{
  return qmgr_validate_description (text, error) &&
         commit_string (g, &g->description, text, QMGR_GROUP_CHANGED_DESCRIPTION, FALSE, error);
}

gboolean
qmgr_group_set_notify_flags (QmgrGroup *g, guint32 flags, GError **error)
{
  if (flags & ~QMGR_NOTIFY_ALL_FLAGS)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "Notify flags 0x%x contain unknown bits 0x%x", flags,
                   flags & ~QMGR_NOTIFY_ALL_FLAGS);
      return FALSE;
    }
  return COMMIT_NUMBER (g, &g->notify_flags, flags, QMGR_GROUP_CHANGED_NOTIFY_FLAGS, error);
}

gboolean
qmgr_group_set_notify_clsid (QmgrGroup *g, const char *clsid, GError **error)
{
  return qmgr_validate_notify_clsid (clsid, error) &&
         commit_string (g, &g->notify_clsid, clsid, QMGR_GROUP_CHANGED_NOTIFY_CLSID, FALSE,
                        error);
}

gboolean
qmgr_group_set_protocol_flags (QmgrGroup *g, guint32 flags, GError **error)
{
  if (flags != QMGR_PROTOCOL_HTTP)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "Protocol flags %u are not supported (only QM_PROTOCOL_HTTP, 1)", flags);
      return FALSE;
    }
  return TRUE;
}

gboolean
qmgr_group_set_priority (QmgrGroup *g, guint32 priority, GError **error)
{
  if (priority != 1)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "Priority %u is not supported (only 1)", priority);
      return FALSE;
    }
  return TRUE;
}

gboolean
qmgr_group_set_remote_user_id (QmgrGroup *g, const char *user, GError **error)
{
  /* Not a D-Bus property: nothing to announce beyond the modification time. */
  return qmgr_validate_remote_user (user, error) &&
         commit_string (g, &g->remote_user_id, user, 0, FALSE, error);
}

gboolean
qmgr_group_set_remote_user_password (QmgrGroup *g, const char *password, GError **error)
{
  return qmgr_validate_remote_password (password, error) &&
         commit_string (g, &g->remote_user_password, password, 0, TRUE, error);
}

gboolean
qmgr_transfer_policy_is_valid (guint32 policy)
{
  return (policy & ~QMGR_TRANSFER_POLICY_ALWAYS) == 0 && (policy == 0 || (policy & 0xff) != 0);
}

gboolean
qmgr_group_set_transfer_policy (QmgrGroup *g, guint32 policy, GError **error)
{
  if (!qmgr_transfer_policy_is_valid (policy))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "Transfer policy 0x%08x is not a mask of cost states within 0x800000ff "
                   "naming at least one state", policy);
      return FALSE;
    }
  return COMMIT_NUMBER (g, &g->transfer_policy, policy, QMGR_GROUP_CHANGED_TRANSFER_POLICY,
                        error);
}

gboolean
qmgr_group_set_bandwidth_limit (QmgrGroup *g, guint64 limit, GError **error)
{
  return COMMIT_NUMBER (g, &g->bandwidth_limit, limit, QMGR_GROUP_CHANGED_BANDWIDTH_LIMIT, error);
}

gboolean
qmgr_group_set_minimum_retry_delay (QmgrGroup *g, guint32 seconds, GError **error)
{
  if (seconds < QMGR_MINIMUM_RETRY_DELAY_FLOOR)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "Minimum retry delay %u s is below the floor of %u s", seconds,
                   QMGR_MINIMUM_RETRY_DELAY_FLOOR);
      return FALSE;
    }
  return COMMIT_NUMBER (g, &g->minimum_retry_delay, seconds,
                        QMGR_GROUP_CHANGED_MINIMUM_RETRY_DELAY, error);
}

gboolean
qmgr_group_set_no_progress_timeout (QmgrGroup *g, guint32 seconds, GError **error)
{
  return COMMIT_NUMBER (g, &g->no_progress_timeout, seconds,
                        QMGR_GROUP_CHANGED_NO_PROGRESS_TIMEOUT, error);
}

typedef enum { PROP_NUMBER, PROP_STRING, PROP_UNSUPPORTED } PropKind;

static const struct {
  const char *name;
  PropKind kind;
} group_props[] = {
  [QMGR_GROUPPROP_PRIORITY] = { "PRIORITY", PROP_NUMBER },
  [QMGR_GROUPPROP_REMOTEUSERID] = { "REMOTEUSERID", PROP_STRING },
  [QMGR_GROUPPROP_REMOTEUSERPWD] = { "REMOTEUSERPWD", PROP_STRING },
  [QMGR_GROUPPROP_LOCALUSERID] = { "LOCALUSERID", PROP_UNSUPPORTED },
  [QMGR_GROUPPROP_LOCALUSERPWD] = { "LOCALUSERPWD", PROP_UNSUPPORTED },
  [QMGR_GROUPPROP_PROTOCOLFLAGS] = { "PROTOCOLFLAGS", PROP_NUMBER },
  [QMGR_GROUPPROP_NOTIFYFLAGS] = { "NOTIFYFLAGS", PROP_NUMBER },
  [QMGR_GROUPPROP_NOTIFYCLSID] = { "NOTIFYCLSID", PROP_STRING },
  [QMGR_GROUPPROP_PROGRESSSIZE] = { "PROGRESSSIZE", PROP_UNSUPPORTED },
  [QMGR_GROUPPROP_PROGRESSPERCENT] = { "PROGRESSPERCENT", PROP_UNSUPPORTED },
  [QMGR_GROUPPROP_PROGRESSTIME] = { "PROGRESSTIME", PROP_UNSUPPORTED },
  [QMGR_GROUPPROP_DISPLAYNAME] = { "DISPLAYNAME", PROP_STRING },
  [QMGR_GROUPPROP_DESCRIPTION] = { "DESCRIPTION", PROP_STRING },
};
G_STATIC_ASSERT (G_N_ELEMENTS (group_props) == QMGR_GROUPPROP_LAST + 1);

/* Unknown id: InvalidArgs; a property QMGR leaves unsupported: NotSupported. */
static gboolean
check_prop_id (guint32 prop_id, GError **error)
{
  if (prop_id >= G_N_ELEMENTS (group_props))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "Group property id %u is unknown (0 to %u)", prop_id, QMGR_GROUPPROP_LAST);
      return FALSE;
    }
  if (group_props[prop_id].kind == PROP_UNSUPPORTED)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED,
                   "Group property GROUPPROP_%s (%u) is not supported",
                   group_props[prop_id].name, prop_id);
      return FALSE;
    }
  return TRUE;
}

GVariant *
qmgr_group_get_prop (QmgrGroup *g, guint32 prop_id, GError **error)
{
  if (!check_prop_id (prop_id, error))
    return NULL;
  switch ((QmgrGroupProp) prop_id)
    {
    case QMGR_GROUPPROP_PRIORITY:
      return g_variant_ref_sink (g_variant_new_uint32 (1));
    case QMGR_GROUPPROP_REMOTEUSERID:
      return g_variant_ref_sink (g_variant_new_string (g->remote_user_id));
    case QMGR_GROUPPROP_REMOTEUSERPWD:
      return g_variant_ref_sink (g_variant_new_string (""));  /* write-only */
    case QMGR_GROUPPROP_PROTOCOLFLAGS:
      return g_variant_ref_sink (g_variant_new_uint32 (QMGR_PROTOCOL_HTTP));
    case QMGR_GROUPPROP_NOTIFYFLAGS:
      return g_variant_ref_sink (g_variant_new_uint32 (g->notify_flags));
    case QMGR_GROUPPROP_NOTIFYCLSID:
      return g_variant_ref_sink (g_variant_new_string (g->notify_clsid));
    case QMGR_GROUPPROP_DISPLAYNAME:
      return g_variant_ref_sink (g_variant_new_string (g->display_name));
    case QMGR_GROUPPROP_DESCRIPTION:
      return g_variant_ref_sink (g_variant_new_string (g->description));
    case QMGR_GROUPPROP_LOCALUSERID:
    case QMGR_GROUPPROP_LOCALUSERPWD:
    case QMGR_GROUPPROP_PROGRESSSIZE:
    case QMGR_GROUPPROP_PROGRESSPERCENT:
    case QMGR_GROUPPROP_PROGRESSTIME:
    default:
      g_assert_not_reached ();
    }
}

static gboolean
value_as_u32 (guint32 prop_id, GVariant *value, const char *value_type, guint32 *out,
              GError **error)
{
  gint64 v;

  if (value == NULL)
    goto wrong_type;
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    v = g_variant_get_uint32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    v = g_variant_get_int32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
    v = g_variant_get_uint16 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT16))
    v = g_variant_get_int16 (value);
  else
    goto wrong_type;

  if (v < 0)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "Group property GROUPPROP_%s (%u) cannot be negative (%" G_GINT64_FORMAT ")",
                   group_props[prop_id].name, prop_id, v);
      return FALSE;
    }
  *out = (guint32) v;
  return TRUE;

wrong_type:
  g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
               "Group property GROUPPROP_%s (%u) takes a number (u, i, q or n), not '%s'",
               group_props[prop_id].name, prop_id, value_type);
  return FALSE;
}

gboolean
qmgr_group_set_prop (QmgrGroup *g, guint32 prop_id, GVariant *value, const char *value_type,
                     GError **error)
{
  guint32 number = 0;
  const char *text = NULL;

  if (prop_id < G_N_ELEMENTS (group_props))
    {
      /* The argument's type is checked before "not supported" (error precedence). */
      if (group_props[prop_id].kind == PROP_NUMBER &&
          !value_as_u32 (prop_id, value, value_type, &number, error))
        return FALSE;
      if (group_props[prop_id].kind == PROP_STRING)
        {
          if (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
            {
              g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                           "Group property GROUPPROP_%s (%u) takes a string (s), not '%s'",
                           group_props[prop_id].name, prop_id, value_type);
              return FALSE;
            }
          text = g_variant_get_string (value, NULL);
        }
    }
  if (!check_prop_id (prop_id, error))
    return FALSE;

  switch ((QmgrGroupProp) prop_id)
    {
    case QMGR_GROUPPROP_PRIORITY:
      return qmgr_group_set_priority (g, number, error);
    case QMGR_GROUPPROP_REMOTEUSERID:
      return qmgr_group_set_remote_user_id (g, text, error);
    case QMGR_GROUPPROP_REMOTEUSERPWD:
      return qmgr_group_set_remote_user_password (g, text, error);
    case QMGR_GROUPPROP_PROTOCOLFLAGS:
      return qmgr_group_set_protocol_flags (g, number, error);
    case QMGR_GROUPPROP_NOTIFYFLAGS:
      return qmgr_group_set_notify_flags (g, number, error);
    case QMGR_GROUPPROP_NOTIFYCLSID:
      return qmgr_group_set_notify_clsid (g, text, error);
    case QMGR_GROUPPROP_DISPLAYNAME:
      return qmgr_group_set_display_name (g, text, error);
    case QMGR_GROUPPROP_DESCRIPTION:
      return qmgr_group_set_description (g, text, error);
    case QMGR_GROUPPROP_LOCALUSERID:
    case QMGR_GROUPPROP_LOCALUSERPWD:
    case QMGR_GROUPPROP_PROGRESSSIZE:
    case QMGR_GROUPPROP_PROGRESSPERCENT:
    case QMGR_GROUPPROP_PROGRESSTIME:
    default:
      g_assert_not_reached ();
    }
}
