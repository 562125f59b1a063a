/* qmgrctl — shared helpers: exit codes from errors, finding a group by GUID
 * or display name, calls with converted errors, and the formatting of sizes,
 * times, flags and policies for people and for JSON. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qmgrctl.h"

void
qmgrctl_set_usage_error (GError **error, const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_propagate_error (error, g_error_new_valist (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                                format, ap));
  va_end (ap);
}

int
qmgrctl_exit_code (const GError *error)
{
  if (error->domain == G_OPTION_ERROR)
    return QMGRCTL_EXIT_USAGE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return QMGRCTL_EXIT_INTERRUPTED;
  if (error->domain != QMGR_CLIENT_ERROR)
    return QMGRCTL_EXIT_FAILURE;
  switch ((QmgrClientError) error->code)
    {
    case QMGR_CLIENT_ERROR_ITEM_NOT_FOUND:
    case QMGR_CLIENT_ERROR_UNKNOWN_OBJECT:
      return QMGRCTL_EXIT_NOT_FOUND;
    case QMGR_CLIENT_ERROR_INVALID_ARGS:
    case QMGR_CLIENT_ERROR_NOT_SUPPORTED:
      return QMGRCTL_EXIT_REFUSED;
    case QMGR_CLIENT_ERROR_ACCESS_DENIED:
    case QMGR_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED:
      return QMGRCTL_EXIT_DENIED;
    case QMGR_CLIENT_ERROR_INVALID_STATE:
      return QMGRCTL_EXIT_STATE;
    case QMGR_CLIENT_ERROR_LIMITS_EXCEEDED:
      return QMGRCTL_EXIT_QUOTA;
    case QMGR_CLIENT_ERROR_SERVICE_UNAVAILABLE:
    case QMGR_CLIENT_ERROR_DOWNLOADER_UNAVAILABLE:
    case QMGR_CLIENT_ERROR_SERVICE_UNKNOWN:
    case QMGR_CLIENT_ERROR_NO_REPLY:
      return QMGRCTL_EXIT_UNAVAILABLE;
    default:
      if (error->code >= QMGR_CLIENT_ERROR_TRANSFER_HTTP_STATUS
          && error->code <= QMGR_CLIENT_ERROR_TRANSFER_CANCELLED)
        return QMGRCTL_EXIT_TRANSFER;
      return QMGRCTL_EXIT_FAILURE;
    }
}

/* The manager proxy, made on first use. A proxy for a name without an owner
 * is made without complaint: a Ping starts qmgrd (D-Bus activation) or tells
 * that it cannot be, before anything reads the properties. */
QmgrManager *
qmgrctl_get_manager (Qmgrctl *ctl, GError **error)
{
  g_autofree char *owner = NULL;
  g_autoptr(GVariant) pong = NULL;

  if (ctl->manager != NULL)
    return ctl->manager;
  for (int attempt = 0; attempt < 2; attempt++)
    {
      ctl->manager = qmgr_manager_proxy_new_sync (ctl->connection, G_DBUS_PROXY_FLAGS_NONE,
                                                  QMGR_BUS_NAME, QMGR_MANAGER_PATH, NULL, error);
      if (ctl->manager == NULL)
        {
          qmgr_client_error_convert (error);
          return NULL;
        }
      owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (ctl->manager));
      if (owner != NULL || attempt > 0)
        break;
      pong = qmgrctl_call (ctl->manager, "org.freedesktop.DBus.Peer.Ping", NULL, error);
      g_clear_object (&ctl->manager);
      if (pong == NULL)
        return NULL;
    }
  return ctl->manager;
}

GVariant *
qmgrctl_call (gpointer proxy, const char *method, GVariant *parameters, GError **error)
{
  GVariant *reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (proxy), method, parameters,
                                            G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (reply == NULL)
    qmgr_client_error_convert (error);
  return reply;
}

gboolean
qmgrctl_set_property (gpointer proxy, const char *interface, const char *name, GVariant *value,
                      GError **error)
{
  g_autoptr(GVariant) reply = qmgrctl_call (proxy, "org.freedesktop.DBus.Properties.Set",
                                            g_variant_new ("(ssv)", interface, name, value),
                                            error);
  return reply != NULL;
}

static QmgrGroup *
group_at (Qmgrctl *ctl, const char *path, GError **error)
{
  QmgrGroup *group = qmgr_group_proxy_new_sync (ctl->connection, G_DBUS_PROXY_FLAGS_NONE,
                                                QMGR_BUS_NAME, path, NULL, error);
  if (group == NULL)
    qmgr_client_error_convert (error);
  /* A proxy for a path that is gone loads no properties and fails no call yet. */
  else if (qmgr_group_get_group_id (group) == NULL)
    {
      g_set_error (error, QMGR_CLIENT_ERROR, QMGR_CLIENT_ERROR_UNKNOWN_OBJECT,
                   _("The group at %s is gone"), path);
      g_clear_object (&group);
    }
  return group;
}

/* Groups whose display name is @name; more than one is ambiguous. */
static char *
find_by_name (Qmgrctl *ctl, QmgrManager *manager, const char *name, GError **error)
{
  g_autoptr(QmgrEnumGroups) groups = qmgr_enum_groups_new_sync (manager, NULL, error);
  g_auto(GStrv) ids = NULL;
  g_autofree char *found = NULL;
  guint matches = 0;

  if (groups == NULL)
    return NULL;
  qmgr_enum_groups_next (groups, qmgr_enum_groups_get_count (groups), &ids);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autofree char *path = qmgr_path_for_group (ids[i], NULL);
      g_autoptr(QmgrGroup) group = path != NULL ? group_at (ctl, path, NULL) : NULL;

      if (group == NULL || g_strcmp0 (qmgr_group_get_display_name (group), name) != 0)
        continue;
      matches++;
      g_free (found);
      found = g_strdup (path);
    }
  if (matches == 1)
    return g_steal_pointer (&found);
  if (matches == 0)
    g_set_error (error, QMGR_CLIENT_ERROR, QMGR_CLIENT_ERROR_ITEM_NOT_FOUND,
                 _("No group has the GUID or the name “%s”"), name);
  else
    qmgrctl_set_usage_error (error, _("%u groups are named “%s”: give the GUID instead"),
                             matches, name);
  return NULL;
}

QmgrGroup *
qmgrctl_find_group (Qmgrctl *ctl, const char *name_or_id, GError **error)
{
  QmgrManager *manager = qmgrctl_get_manager (ctl, error);
  g_autofree char *path = NULL;

  if (manager == NULL)
    return NULL;
  if (qmgr_guid_is_valid (name_or_id))
    {
      if (!qmgr_manager_call_get_group_sync (manager, name_or_id, G_DBUS_CALL_FLAGS_NONE, -1,
                                             &path, NULL, error))
        {
          qmgr_client_error_convert (error);
          return NULL;
        }
    }
  else if ((path = find_by_name (ctl, manager, name_or_id, error)) == NULL)
    return NULL;
  return group_at (ctl, path, error);
}

QmgrJob *
qmgrctl_get_job (Qmgrctl *ctl, QmgrGroup *group, GError **error)
{
  g_autofree char *path = NULL;
  QmgrJob *job;

  if (!qmgr_group_call_query_new_job_interface_sync (group, "io.github.qmgrd.QMgr1.Job",
                                                     G_DBUS_CALL_FLAGS_NONE, -1, &path, NULL,
                                                     error))
    {
      qmgr_client_error_convert (error);
      return NULL;
    }
  job = qmgr_job_proxy_new_sync (ctl->connection, G_DBUS_PROXY_FLAGS_NONE, QMGR_BUS_NAME, path,
                                 NULL, error);
  if (job == NULL)
    qmgr_client_error_convert (error);
  return job;
}

char *
qmgrctl_flags_to_string (GType flags_type, guint value)
{
  g_autoptr(GFlagsClass) klass = g_type_class_ref (flags_type);
  g_autoptr(GString) out = g_string_new (NULL);
  guint rest = value;

  for (guint i = 0; i < klass->n_values; i++)
    {
      const GFlagsValue *v = &klass->values[i];
      g_autofree char *upper = NULL;

      if ((value & v->value) != v->value || v->value == 0)
        continue;
      upper = g_ascii_strup (v->value_nick, -1);
      g_strdelimit (upper, "-", '_');
      g_string_append_printf (out, "%s%s", out->len > 0 ? "|" : "", upper);
      rest &= ~v->value;
    }
  if (rest != 0 || out->len == 0)
    g_string_append_printf (out, "%s0x%x", out->len > 0 ? "|" : "", rest);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

JsonNode *
qmgrctl_flags_to_json (GType flags_type, guint value)
{
  g_autoptr(GFlagsClass) klass = g_type_class_ref (flags_type);
  JsonArray *names = json_array_new ();

  for (guint i = 0; i < klass->n_values; i++)
    if ((value & klass->values[i].value) == klass->values[i].value && klass->values[i].value != 0)
      json_array_add_string_element (names, klass->values[i].value_nick);
  return json_node_init_array (json_node_alloc (), names);
}

char *
qmgrctl_format_size (guint64 bytes)
{
  if (bytes == G_MAXUINT64)
    return g_strdup ("-");
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

char *
qmgrctl_format_limit (guint64 bytes_per_second)
{
  g_autofree char *number = NULL;

  if (bytes_per_second == 0)
    return g_strdup (_("none"));
  number = g_strdup_printf ("%" G_GUINT64_FORMAT, bytes_per_second);
  /* TRANSLATORS: a bandwidth limit */
  return g_strdup_printf (_("%s bytes/s"), number);
}

char *
qmgrctl_format_time (guint64 usec)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (usec == 0)
    return g_strdup ("-");
  utc = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  if (utc == NULL)
    return g_strdup ("?");
  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S %Z");
}

JsonNode *
qmgrctl_time_to_json (guint64 usec)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autofree char *text = NULL;

  if (usec == 0 || (utc = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC)) == NULL)
    return json_node_new (JSON_NODE_NULL);
  text = g_date_time_format_iso8601 (utc);
  return json_node_init_string (json_node_alloc (), text);
}

static const struct {
  const char *name;
  guint value;
} policies[] = {
  { "always", QMGR_TRANSFER_POLICY_ALWAYS },
  { "not-roaming", QMGR_TRANSFER_POLICY_NOT_ROAMING },
  { "no-surcharge", QMGR_TRANSFER_POLICY_NO_SURCHARGE },
  { "standard", QMGR_TRANSFER_POLICY_STANDARD },
  { "unrestricted", QMGR_TRANSFER_POLICY_UNRESTRICTED },
  { "default", 0 },
};

char *
qmgrctl_format_policy (guint policy)
{
  for (guint i = 0; i < G_N_ELEMENTS (policies); i++)
    if (policies[i].value == policy)
      return g_strdup (policies[i].name);
  return g_strdup_printf ("0x%08x", policy);
}

gboolean
qmgrctl_parse_uint (const char *text, guint64 max, guint64 *value, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (!g_ascii_string_to_unsigned (text, g_str_has_prefix (text, "0x") ? 16 : 10, 0, max,
                                   value, &local)
      && !(g_str_has_prefix (text, "0x")
           && g_ascii_string_to_unsigned (text + 2, 16, 0, max, value, NULL)))
    {
      g_autofree char *max_text = g_strdup_printf ("%" G_GUINT64_FORMAT, max);
      qmgrctl_set_usage_error (error, _("“%s” is not a number from 0 to %s"), text, max_text);
      return FALSE;
    }
  return TRUE;
}

gboolean
qmgrctl_parse_policy (const char *text, guint *policy, GError **error)
{
  guint64 mask;

  for (guint i = 0; i < G_N_ELEMENTS (policies); i++)
    if (g_ascii_strcasecmp (text, policies[i].name) == 0)
      {
        *policy = policies[i].value;
        return TRUE;
      }
  if (!qmgrctl_parse_uint (text, G_MAXUINT32, &mask, NULL))
    {
      qmgrctl_set_usage_error (error,
                               _("“%s” is not a transfer policy (always, not-roaming, "
                                 "no-surcharge, standard, unrestricted, default, or a mask)"),
                               text);
      return FALSE;
    }
  *policy = (guint) mask;
  return TRUE;
}

struct _QmgrctlFields {
  GPtrArray *labels;
  GPtrArray *values;
};

QmgrctlFields *
qmgrctl_fields_new (void)
{
  QmgrctlFields *fields = g_new0 (QmgrctlFields, 1);

  fields->labels = g_ptr_array_new_with_free_func (g_free);
  fields->values = g_ptr_array_new_with_free_func (g_free);
  return fields;
}

void
qmgrctl_fields_add (QmgrctlFields *fields, const char *label, const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_ptr_array_add (fields->labels, g_strdup (label));
  g_ptr_array_add (fields->values, g_strdup_vprintf (format, ap));
  va_end (ap);
}

void
qmgrctl_fields_print (QmgrctlFields *fields)
{
  glong width = 0;

  for (guint i = 0; i < fields->labels->len; i++)
    width = MAX (width, g_utf8_strlen (fields->labels->pdata[i], -1));
  for (guint i = 0; i < fields->labels->len; i++)
    {
      const char *label = fields->labels->pdata[i];
      glong pad = width - g_utf8_strlen (label, -1);

      g_print ("%*s%s: %s\n", (int) pad, "", label, (const char *) fields->values->pdata[i]);
    }
}

void
qmgrctl_fields_free (QmgrctlFields *fields)
{
  g_ptr_array_unref (fields->labels);
  g_ptr_array_unref (fields->values);
  g_free (fields);
}

void
qmgrctl_print_json (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

char *
qmgrctl_destination (const char *url, const char *dest)
{
  g_autofree char *absolute = g_canonicalize_filename (dest, NULL);
  g_autofree char *base = NULL;
  const char *slash, *end;

  if (!g_file_test (absolute, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&absolute);
  /* The URL's last path element, without query or fragment. */
  end = url + strcspn (url, "?#");
  base = g_strndup (url, end - url);
  slash = strrchr (base, '/');
  if (slash == NULL || slash[1] == '\0' || strstr (url, "://") + 2 == slash)
    return g_steal_pointer (&absolute);
  {
    g_autofree char *name = g_uri_unescape_string (slash + 1, "/");
    if (name == NULL || *name == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
      return g_steal_pointer (&absolute);
    return g_build_filename (absolute, name, NULL);
  }
}
