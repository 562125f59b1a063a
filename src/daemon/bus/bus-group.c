/* qmgrd bus — io.github.qmgrd.QMgr1.Group on /io/github/qmgrd/QMgr1/group/<G>. */
#include "bus-private.h"

#include <errno.h>
#include <string.h>

#include "qmgr-constants.h"

#define PREFIX_LEN (sizeof QMGR_GROUP_PATH_PREFIX - 1)

const char *
qmgr_bus_group_path (const QmgrGroup *group, QmgrObjectPath *path)
{
  char hex[QMGR_GUID_HEX_LEN + 1];

  qmgr_guid_to_hex (group->id, hex);
  g_snprintf (path->s, sizeof path->s, QMGR_GROUP_PATH_PREFIX "/%s", hex);
  return path->s;
}

const char *
qmgr_bus_job_path (const QmgrJob *job, QmgrObjectPath *path)
{
  char group_hex[QMGR_GUID_HEX_LEN + 1], hex[QMGR_GUID_HEX_LEN + 1];

  qmgr_guid_to_hex (job->group->id, group_hex);
  qmgr_guid_to_hex (job->id, hex);
  g_snprintf (path->s, sizeof path->s, QMGR_GROUP_PATH_PREFIX "/%s/job/%s", group_hex, hex);
  return path->s;
}

const char *
qmgr_bus_job_path_of (const QmgrGroup *group, QmgrObjectPath *path)
{
  if (group->job == NULL)
    return "/";
  return qmgr_bus_job_path (group->job, path);
}

/* Parses ".../group/<G>" (rest NULL) or ".../group/<G>/<rest>". */
static QmgrGroup *
group_from_path (QmgrBus *bus, const char *path, const char **rest)
{
  QmgrGuid id;

  if (strncmp (path, QMGR_GROUP_PATH_PREFIX "/", PREFIX_LEN + 1) != 0)
    return NULL;
  path += PREFIX_LEN + 1;
  if (!qmgr_guid_from_hex (path, MIN (strlen (path), (gsize) QMGR_GUID_HEX_LEN), &id))
    return NULL;
  path += QMGR_GUID_HEX_LEN;
  if (*path == '\0')
    *rest = NULL;
  else if (*path == '/')
    *rest = path + 1;
  else
    return NULL;
  return qmgr_manager_lookup_group (bus->manager, id);
}

/* In system mode a caller sees only its own groups; the current message tells who calls. */
static gboolean
caller_sees (QmgrBus *bus, QmgrGroup *group)
{
  sd_bus_message *m;
  uid_t uid;
  sd_bus_error ignored = SD_BUS_ERROR_NULL;
  gboolean ok;

  if (!bus->manager->settings.system_mode)
    return TRUE;
  m = sd_bus_get_current_message (bus->bus);
  if (m == NULL)
    return TRUE;  /* our own signal emission */
  ok = qmgr_bus_peers_get_uid (bus, m, &uid, &ignored) >= 0 &&
       qmgr_manager_group_visible (bus->manager, group, uid);
  sd_bus_error_free (&ignored);
  return ok;
}

int
qmgr_bus_group_find (sd_bus *b, const char *path, const char *interface, void *userdata,
                     void **found, sd_bus_error *error)
{
  QmgrBus *bus = userdata;
  const char *rest;
  QmgrGroup *group = group_from_path (bus, path, &rest);

  if (group == NULL || rest != NULL || !caller_sees (bus, group))
    return 0;
  *found = group;
  return 1;
}

int
qmgr_bus_job_find (sd_bus *b, const char *path, const char *interface, void *userdata,
                   void **found, sd_bus_error *error)
{
  QmgrBus *bus = userdata;
  const char *rest;
  QmgrGroup *group = group_from_path (bus, path, &rest);
  QmgrGuid id;

  if (group == NULL || rest == NULL || group->job == NULL ||
      strncmp (rest, "job/", 4) != 0 || !qmgr_guid_from_hex (rest + 4, strlen (rest + 4), &id) ||
      !qmgr_guid_equal (id, group->job->id) || !caller_sees (bus, group))
    return 0;
  *found = group->job;
  return 1;
}

int
qmgr_bus_node_enumerator (sd_bus *b, const char *prefix, void *userdata, char ***nodes,
                          sd_bus_error *error)
{
  QmgrBus *bus = userdata;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) list = NULL;
  char **out;
  guint n;

  for (GList *l = bus->manager->groups.head; l != NULL; l = l->next)
    {
      QmgrGroup *group = l->data;
      QmgrObjectPath path;

      if (!caller_sees (bus, group))
        continue;
      g_strv_builder_add (builder, qmgr_bus_group_path (group, &path));
      if (group->job != NULL)
        g_strv_builder_add (builder, qmgr_bus_job_path (group->job, &path));
    }
  list = g_strv_builder_end (builder);

  /* sd-bus frees the array with free(): copy it out of GLib's allocator. */
  n = g_strv_length (list);
  out = calloc (n + 1, sizeof (char *));
  if (out == NULL)
    return -ENOMEM;
  for (guint i = 0; i < n; i++)
    if ((out[i] = strdup (list[i])) == NULL)
      {
        for (guint k = 0; k < i; k++)
          free (out[k]);
        free (out);
        return -ENOMEM;
      }
  *nodes = out;
  return 1;
}

int
qmgr_bus_read_variant (sd_bus_message *m, GVariant **value, char **type)
{
  const char *contents = NULL;
  char t;
  int r;

  *value = NULL;
  *type = NULL;
  r = sd_bus_message_peek_type (m, &t, &contents);
  if (r < 0)
    return r;
  if (t != SD_BUS_TYPE_VARIANT || contents == NULL)
    return -EINVAL;
  *type = g_strdup (contents);
  r = sd_bus_message_enter_container (m, SD_BUS_TYPE_VARIANT, contents);
  if (r < 0)
    return r;

  if (contents[1] == '\0')
    {
      union { guint32 u; gint32 i; guint16 q; gint16 n; const char *s; } v;
      switch (contents[0])
        {
        case SD_BUS_TYPE_UINT32:
          r = sd_bus_message_read_basic (m, contents[0], &v.u);
          *value = g_variant_ref_sink (g_variant_new_uint32 (v.u));
          break;
        case SD_BUS_TYPE_INT32:
          r = sd_bus_message_read_basic (m, contents[0], &v.i);
          *value = g_variant_ref_sink (g_variant_new_int32 (v.i));
          break;
        case SD_BUS_TYPE_UINT16:
          r = sd_bus_message_read_basic (m, contents[0], &v.q);
          *value = g_variant_ref_sink (g_variant_new_uint16 (v.q));
          break;
        case SD_BUS_TYPE_INT16:
          r = sd_bus_message_read_basic (m, contents[0], &v.n);
          *value = g_variant_ref_sink (g_variant_new_int16 (v.n));
          break;
        case SD_BUS_TYPE_STRING:
          r = sd_bus_message_read_basic (m, contents[0], &v.s);
          if (r >= 0)
            *value = g_variant_ref_sink (g_variant_new_string (v.s));
          break;
        default:
          r = sd_bus_message_skip (m, contents);
          break;
        }
    }
  else
    r = sd_bus_message_skip (m, contents);
  if (r < 0)
    return r;
  return sd_bus_message_exit_container (m);
}

/* ---- methods ---- */

/* QueryNewJobInterface and SetNotificationPointer name the one interface they
 * support: any other is NotSupported. */
static gboolean
check_interface (const char *name, const char *supported, sd_bus_error *ret_error)
{
  g_autofree char *shown = NULL;

  if (g_strcmp0 (name, supported) == 0)
    return TRUE;
  shown = qmgr_describe_value (name);
  qmgr_bus_reply_errorf (ret_error, QMGR_ERROR_NOT_SUPPORTED,
                         "Interface %s is not supported (only %s)", shown, supported);
  return FALSE;
}

QMGR_BUS_METHOD_HANDLER_NOARGS (method_suspend, QmgrGroup *, group,
                                qmgr_group_suspend (group, &error))
QMGR_BUS_METHOD_HANDLER_NOARGS (method_resume, QmgrGroup *, group,
                                qmgr_group_resume (group, &error))
QMGR_BUS_METHOD_HANDLER_NOARGS (method_cancel, QmgrGroup *, group,
                                qmgr_group_cancel (group, &error))
QMGR_BUS_METHOD_HANDLER_NOARGS (method_switch_to_foreground, QmgrGroup *, group,
                                qmgr_group_switch_to_foreground (group, &error))

static int
method_get_prop (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  guint32 prop_id;
  int r;

  r = sd_bus_message_read (m, "u", &prop_id);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  value = qmgr_group_get_prop (userdata, prop_id, &error);
  if (value == NULL)
    return qmgr_bus_reply_error (ret_error, error);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return qmgr_bus_reply (m, "v", "u", g_variant_get_uint32 (value));
  return qmgr_bus_reply (m, "v", "s", g_variant_get_string (value, NULL));
}

static int
method_set_prop (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree char *type = NULL;
  guint32 prop_id;
  int r;

  r = sd_bus_message_read (m, "u", &prop_id);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  r = qmgr_bus_read_variant (m, &value, &type);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  if (!qmgr_group_set_prop (userdata, prop_id, value, type, &error))
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, NULL);
}

static int
method_get_progress (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  guint32 flags, progress;
  int r;

  r = sd_bus_message_read (m, "u", &flags);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  if (!qmgr_group_get_progress (userdata, flags, &progress, &error))
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, "u", progress);
}

static int
method_get_status (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  return qmgr_bus_reply (m, "uu", qmgr_group_get_status (userdata), 0u);
}

static int
method_get_job (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  const char *job_id;
  QmgrJob *job;
  QmgrObjectPath path;
  int r;

  r = sd_bus_message_read (m, "s", &job_id);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  job = qmgr_group_get_job (userdata, job_id, &error);
  if (job == NULL)
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, "o", qmgr_bus_job_path (job, &path));
}

static int
method_create_job (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  const char *job_id;
  QmgrJob *job;
  QmgrObjectPath path;
  int r;

  r = sd_bus_message_read (m, "s", &job_id);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  job = qmgr_group_create_job (userdata, job_id, &error);
  if (job == NULL)
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, "o", qmgr_bus_job_path (job, &path));
}

static int
method_enum_jobs (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sd_bus_message) reply = NULL;
  g_auto(GStrv) ids = NULL;
  guint32 flags;
  int r;

  r = sd_bus_message_read (m, "u", &flags);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  ids = qmgr_group_enum_jobs (userdata, flags, &error);
  if (ids == NULL)
    return qmgr_bus_reply_error (ret_error, error);
  r = sd_bus_message_new_method_return (m, &reply);
  if (r >= 0)
    r = sd_bus_message_append_strv (reply, ids);
  if (r < 0)
    return r;
  return qmgr_bus_send_reply (m, reply);
}

static int
method_query_new_job_interface (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  const char *interface_name;
  QmgrObjectPath path;
  QmgrJob *job;
  int r;

  r = sd_bus_message_read (m, "s", &interface_name);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  if (!check_interface (interface_name, QMGR_JOB_INTERFACE, ret_error))
    return -EOPNOTSUPP;
  job = qmgr_group_query_job (userdata, &error);
  if (job == NULL)
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, "o", qmgr_bus_job_path (job, &path));
}

static int
method_set_notification_pointer (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  QmgrGroup *group = userdata;
  QmgrBus *bus = qmgr_bus_current ();   /* the handler's userdata is the group */
  const char *interface_name, *path, *sender = sd_bus_message_get_sender (m);
  int r;

  r = sd_bus_message_read (m, "so", &interface_name, &path);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  /* Check the arguments before tracking anything. */
  if (!check_interface (interface_name, QMGR_CALLBACK_INTERFACE, ret_error))
    return -EOPNOTSUPP;
  if (g_str_equal (path, "/") || sender == NULL)
    qmgr_bus_callbacks_set_live (bus, group, NULL, "/");
  else
    {
      r = qmgr_bus_peers_track (bus, sender);
      if (r == -ENOBUFS)
        return qmgr_bus_reply_errorf (ret_error, QMGR_ERROR_LIMITS_EXCEEDED,
                                      "Too many callers have live callback pointers; use "
                                      "NOTIFYCLSID or the group's signals");
      if (r < 0)
        return qmgr_bus_reply_errorf (ret_error, QMGR_ERROR_FAILED,
                                      "Cannot watch caller %s: %s", sender, g_strerror (-r));
      qmgr_bus_callbacks_set_live (bus, group, sender, path);
    }
  return qmgr_bus_reply (m, NULL);
}

static int
method_take_ownership (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  QmgrBus *bus = qmgr_bus_current ();   /* the handler's userdata is the group */
  g_autoptr(GError) error = NULL;
  uid_t uid;
  int r;

  /* Who calls decides who owns: the uid the bus vouches for. */
  r = qmgr_bus_peers_get_uid (bus, m, &uid, ret_error);
  if (r < 0)
    return r;
  if (!qmgr_group_take_ownership (userdata, uid, &error))
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, NULL);
}

/* ---- properties ---- */

#define QMGR_GROUP_PROPERTIES(X)                                                           \
  X (GroupID, s, CONST, 0, g->id_str, NONE)                                                \
  X (Size, t, RO, QMGR_GROUP_CHANGED_SIZE, qmgr_group_get_size (g), NONE)                  \
  X (Status, u, RO, QMGR_GROUP_CHANGED_STATUS, qmgr_group_get_status (g), NONE)            \
  X (DisplayName, s, RW, QMGR_GROUP_CHANGED_DISPLAY_NAME, g->display_name,                 \
     qmgr_group_set_display_name)                                                          \
  X (Description, s, RW, QMGR_GROUP_CHANGED_DESCRIPTION, g->description,                   \
     qmgr_group_set_description)                                                           \
  X (NotifyFlags, u, RW, QMGR_GROUP_CHANGED_NOTIFY_FLAGS, g->notify_flags,                 \
     qmgr_group_set_notify_flags)                                                          \
  X (NotifyClsid, s, RW, QMGR_GROUP_CHANGED_NOTIFY_CLSID, g->notify_clsid,                 \
     qmgr_group_set_notify_clsid)                                                          \
  /* ProtocolFlags and Priority take only the one value they read. */                     \
  X (ProtocolFlags, u, RW, 0, QMGR_PROTOCOL_HTTP, qmgr_group_set_protocol_flags)           \
  X (Priority, u, RW, 0, 1u, qmgr_group_set_priority)                                      \
  X (TransferPolicy, u, RW, QMGR_GROUP_CHANGED_TRANSFER_POLICY, g->transfer_policy,        \
     qmgr_group_set_transfer_policy)                                                       \
  X (BandwidthLimit, t, RW, QMGR_GROUP_CHANGED_BANDWIDTH_LIMIT, g->bandwidth_limit,        \
     qmgr_group_set_bandwidth_limit)                                                       \
  X (WaitReason, s, RO, QMGR_GROUP_CHANGED_WAIT_REASON, qmgr_group_get_wait_reason (g),    \
     NONE)                                                                                 \
  X (BytesTotal, t, RO, QMGR_GROUP_CHANGED_BYTES_TOTAL, qmgr_group_get_bytes_total (g),    \
     NONE)                                                                                 \
  X (BytesTransferred, t, RO, QMGR_GROUP_CHANGED_BYTES_TRANSFERRED,                        \
     qmgr_group_get_bytes_transferred (g), NONE)                                           \
  X (FilesTotal, u, RO, QMGR_GROUP_CHANGED_FILES_TOTAL, qmgr_group_get_files_total (g),    \
     NONE)                                                                                 \
  X (FilesTransferred, u, RO, QMGR_GROUP_CHANGED_FILES_TRANSFERRED,                        \
     qmgr_group_get_files_transferred (g), NONE)                                           \
  X (CreationTime, t, CONST, 0, g->creation_time, NONE)                                    \
  X (ModificationTime, t, RO, QMGR_GROUP_CHANGED_MODIFICATION_TIME, g->modification_time,  \
     NONE)                                                                                 \
  X (CompletionTime, t, RO, QMGR_GROUP_CHANGED_COMPLETION_TIME, g->completion_time, NONE)  \
  X (Owner, u, RO, QMGR_GROUP_CHANGED_OWNER, g->owner, NONE)                               \
  X (MinimumRetryDelay, u, RW, QMGR_GROUP_CHANGED_MINIMUM_RETRY_DELAY,                     \
     g->minimum_retry_delay, qmgr_group_set_minimum_retry_delay)                           \
  X (NoProgressTimeout, u, RW, QMGR_GROUP_CHANGED_NO_PROGRESS_TIMEOUT,                     \
     g->no_progress_timeout, qmgr_group_set_no_progress_timeout)

QMGR_BUS_ASSERT_CHANGES (QMGR_GROUP_PROPERTIES, (QMGR_GROUP_CHANGED_NO_PROGRESS_TIMEOUT << 1) - 1);

/* sd-bus replies to Properties.Set as soon as the setter returns: the change must
 * be durable by then. */
static gboolean
group_property_set (QmgrGroup *g, GError **error)
{
  return qmgr_manager_sync_store (g->manager, error);
}

#define GROUP_PROPERTY_FUNCTIONS(Name, type, kind, change, get, set)                       \
  QMGR_BUS_PROPERTY_GETTER (group, QmgrGroup *, g, Name, type, get)                        \
  QMGR_BUS_PROPERTY_SETTER_##kind (group, QmgrGroup *, g, g, Name, type, set)
QMGR_GROUP_PROPERTIES (GROUP_PROPERTY_FUNCTIONS)

static const QmgrBusPropertyName group_property_names[] = {
  QMGR_GROUP_PROPERTIES (QMGR_BUS_PROPERTY_NAME)
};

const QmgrBusChangeMap qmgr_bus_group_changes = {
  group_property_names, G_N_ELEMENTS (group_property_names)
};

#define GROUP_PROPERTY_VTABLE(Name, type, kind, change, get, set)                          \
  QMGR_BUS_PROPERTY_VTABLE_##kind (group, Name, type)

const sd_bus_vtable qmgr_bus_group_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("GetProp", SD_BUS_ARGS ("u", prop_id),
                           SD_BUS_RESULT ("v", value),
                           method_get_prop, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("SetProp", SD_BUS_ARGS ("u", prop_id, "v", value),
                           SD_BUS_NO_RESULT,
                           method_set_prop, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetProgress", SD_BUS_ARGS ("u", flags),
                           SD_BUS_RESULT ("u", progress),
                           method_get_progress, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetStatus", SD_BUS_NO_ARGS,
                           SD_BUS_RESULT ("u", status, "u", job_index),
                           method_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetJob", SD_BUS_ARGS ("s", job_id),
                           SD_BUS_RESULT ("o", job),
                           method_get_job, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("SuspendGroup", SD_BUS_NO_ARGS,
                           SD_BUS_NO_RESULT,
                           method_suspend, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("ResumeGroup", SD_BUS_NO_ARGS,
                           SD_BUS_NO_RESULT,
                           method_resume, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("CancelGroup", SD_BUS_NO_ARGS,
                           SD_BUS_NO_RESULT,
                           method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("CreateJob", SD_BUS_ARGS ("s", job_id),
                           SD_BUS_RESULT ("o", job),
                           method_create_job, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("EnumJobs", SD_BUS_ARGS ("u", flags),
                           SD_BUS_RESULT ("as", job_ids),
                           method_enum_jobs, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("SwitchToForeground", SD_BUS_NO_ARGS,
                           SD_BUS_NO_RESULT,
                           method_switch_to_foreground, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("QueryNewJobInterface", SD_BUS_ARGS ("s", interface_name),
                           SD_BUS_RESULT ("o", object),
                           method_query_new_job_interface, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("SetNotificationPointer", SD_BUS_ARGS ("s", interface_name, "o", path),
                           SD_BUS_NO_RESULT,
                           method_set_notification_pointer, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("TakeOwnership", SD_BUS_NO_ARGS,
                           SD_BUS_NO_RESULT,
                           method_take_ownership, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_SIGNAL_WITH_ARGS ("OnStatus",
                           SD_BUS_ARGS ("o", job, "u", file_index, "u", status, "u", num_retries,
                                        "u", win32_result, "u", transport_result), 0),
  SD_BUS_SIGNAL_WITH_ARGS ("OnProgress",
                           SD_BUS_ARGS ("u", progress_type, "o", job, "u", file_index,
                                        "u", progress_value), 0),
  QMGR_GROUP_PROPERTIES (GROUP_PROPERTY_VTABLE)
  SD_BUS_VTABLE_END,
};
