/* qmgrctl — group properties by QMGR id (getprop, setprop) and the transfer
 * policy and limits of qmgrd and of its groups (policy). */
#include "config.h"

#include <string.h>

#include "qmgrctl.h"

typedef enum {
  KIND_NUMBER,
  KIND_STRING,
  KIND_UNSUPPORTED, /* qmgrd answers NotSupported; sent as a string */
} Kind;

static const struct {
  const char *name;
  Kind kind;
} group_props[] = {
  [QMGR_GROUP_PROP_ID_PRIORITY] = { "PRIORITY", KIND_NUMBER },
  [QMGR_GROUP_PROP_ID_REMOTEUSERID] = { "REMOTEUSERID", KIND_STRING },
  [QMGR_GROUP_PROP_ID_REMOTEUSERPWD] = { "REMOTEUSERPWD", KIND_STRING },
  [QMGR_GROUP_PROP_ID_LOCALUSERID] = { "LOCALUSERID", KIND_UNSUPPORTED },
  [QMGR_GROUP_PROP_ID_LOCALUSERPWD] = { "LOCALUSERPWD", KIND_UNSUPPORTED },
  [QMGR_GROUP_PROP_ID_PROTOCOLFLAGS] = { "PROTOCOLFLAGS", KIND_NUMBER },
  [QMGR_GROUP_PROP_ID_NOTIFYFLAGS] = { "NOTIFYFLAGS", KIND_NUMBER },
  [QMGR_GROUP_PROP_ID_NOTIFYCLSID] = { "NOTIFYCLSID", KIND_STRING },
  [QMGR_GROUP_PROP_ID_PROGRESSSIZE] = { "PROGRESSSIZE", KIND_UNSUPPORTED },
  [QMGR_GROUP_PROP_ID_PROGRESSPERCENT] = { "PROGRESSPERCENT", KIND_UNSUPPORTED },
  [QMGR_GROUP_PROP_ID_PROGRESSTIME] = { "PROGRESSTIME", KIND_UNSUPPORTED },
  [QMGR_GROUP_PROP_ID_DISPLAYNAME] = { "DISPLAYNAME", KIND_STRING },
  [QMGR_GROUP_PROP_ID_DESCRIPTION] = { "DESCRIPTION", KIND_STRING },
};

/* A property by name (any case, with or without "GROUPPROP_") or number;
 * numbers past the table are left for qmgrd to refuse. */
static gboolean
parse_prop (const char *text, guint32 *id, GError **error)
{
  const char *name = text;
  guint64 number;

  if (g_ascii_strncasecmp (name, "GROUPPROP_", 10) == 0)
    name += 10;
  for (guint i = 0; i < G_N_ELEMENTS (group_props); i++)
    if (g_ascii_strcasecmp (name, group_props[i].name) == 0)
      {
        *id = i;
        return TRUE;
      }
  if (!qmgrctl_parse_uint (text, G_MAXUINT32, &number, NULL))
    {
      qmgrctl_set_usage_error (error,
                               _("Unknown property “%s” (see “qmgrctl getprop --help”)"), text);
      return FALSE;
    }
  *id = (guint32) number;
  return TRUE;
}

static const char *
prop_name (guint32 id)
{
  return id < G_N_ELEMENTS (group_props) ? group_props[id].name : NULL;
}

/* The value for SetProp: numbers (NOTIFYFLAGS also as "GROUP_DONE|FILE_DONE")
 * or strings, as the property's type asks. */
static GVariant *
parse_value (guint32 id, const char *text, GError **error)
{
  guint64 number;

  if (id >= G_N_ELEMENTS (group_props) || group_props[id].kind != KIND_NUMBER)
    return g_variant_new_string (text);
  if (id == QMGR_GROUP_PROP_ID_NOTIFYFLAGS && !g_ascii_isdigit (*text))
    {
      g_autoptr(GFlagsClass) klass = g_type_class_ref (QMGR_TYPE_NOTIFY_FLAGS);
      g_auto(GStrv) names = g_strsplit_set (text, "|,", -1);
      guint flags = 0;

      for (guint i = 0; names[i] != NULL; i++)
        {
          g_autofree char *nick = g_ascii_strdown (g_strstrip (names[i]), -1);
          GFlagsValue *v = g_flags_get_value_by_nick (klass, g_strdelimit (nick, "_", '-'));

          if (v == NULL)
            {
              qmgrctl_set_usage_error (error, _("“%s” is not a notify flag"), names[i]);
              return NULL;
            }
          flags |= v->value;
        }
      return g_variant_new_uint32 (flags);
    }
  if (!qmgrctl_parse_uint (text, G_MAXUINT32, &number, error))
    return NULL;
  return g_variant_new_uint32 ((guint32) number);
}

int
qmgrctl_getprop (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  g_autoptr(QmgrGroup) group = NULL;
  g_autoptr(GVariant) reply = NULL, value = NULL;
  guint32 id;

  if (argc != 3)
    {
      qmgrctl_set_usage_error (error, _("“getprop” needs a group and a property"));
      return -1;
    }
  if (!parse_prop (argv[2], &id, error)
      || (group = qmgrctl_find_group (ctl, argv[1], error)) == NULL
      || (reply = qmgrctl_call (group, "GetProp", g_variant_new ("(u)", id), error)) == NULL)
    return -1;
  g_variant_get (reply, "(v)", &value);
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, id);
      json_builder_set_member_name (b, "name");
      if (prop_name (id) != NULL)
        json_builder_add_string_value (b, prop_name (id));
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "value");
      json_builder_add_value (b, json_gvariant_serialize (value));
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      qmgrctl_print_json (root);
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    g_print ("%s\n", g_variant_get_string (value, NULL));
  else if (id == QMGR_GROUP_PROP_ID_NOTIFYFLAGS
           && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    {
      g_autofree char *flags = qmgrctl_flags_to_string (QMGR_TYPE_NOTIFY_FLAGS,
                                                        g_variant_get_uint32 (value));
      g_print ("0x%x (%s)\n", g_variant_get_uint32 (value), flags);
    }
  else
    {
      g_autofree char *text = g_variant_print (value, FALSE);
      g_print ("%s\n", text);
    }
  return QMGRCTL_EXIT_OK;
}

int
qmgrctl_setprop (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  g_autoptr(QmgrGroup) group = NULL;
  g_autoptr(GVariant) reply = NULL;
  GVariant *value;
  guint32 id;

  if (argc != 4)
    {
      qmgrctl_set_usage_error (error, _("“setprop” needs a group, a property and a value"));
      return -1;
    }
  if (!parse_prop (argv[2], &id, error) || (value = parse_value (id, argv[3], error)) == NULL)
    return -1;
  g_variant_ref_sink (value);
  group = qmgrctl_find_group (ctl, argv[1], error);
  if (group != NULL)
    reply = qmgrctl_call (group, "SetProp", g_variant_new ("(uv)", id, value), error);
  g_variant_unref (value);
  return reply != NULL ? QMGRCTL_EXIT_OK : -1;
}

/* ----- policy ----- */

static char *opt_transfer_policy, *opt_bandwidth, *opt_metered_bandwidth, *opt_max_transfers,
  *opt_retry_delay, *opt_no_progress;

const GOptionEntry qmgrctl_policy_entries[] = {
  { "transfer-policy", 0, 0, G_OPTION_ARG_STRING, &opt_transfer_policy,
    N_("The group's TransferPolicy: always, not-roaming, no-surcharge, standard, unrestricted, "
       "default, or a mask"), N_("POLICY") },
  { "bandwidth-limit", 0, 0, G_OPTION_ARG_STRING, &opt_bandwidth,
    N_("BandwidthLimit in bytes per second, 0 for none (of the group, or of all background "
       "transfers)"), N_("BYTES") },
  { "metered-bandwidth-limit", 0, 0, G_OPTION_ARG_STRING, &opt_metered_bandwidth,
    N_("qmgrd's MeteredBandwidthLimit in bytes per second, 0 for none"), N_("BYTES") },
  { "max-transfers", 0, 0, G_OPTION_ARG_STRING, &opt_max_transfers,
    N_("qmgrd's MaxConcurrentTransfers"), N_("N") },
  { "retry-delay", 0, 0, G_OPTION_ARG_STRING, &opt_retry_delay,
    N_("The group's MinimumRetryDelay in seconds"), N_("SECONDS") },
  { "no-progress-timeout", 0, 0, G_OPTION_ARG_STRING, &opt_no_progress,
    N_("The group's NoProgressTimeout in seconds"), N_("SECONDS") },
  G_OPTION_ENTRY_NULL,
};

typedef struct {
  const char **option;
  const char *flag;
  const char *property;
  gboolean for_group;
  gboolean for_manager;
  char type;      /* 'u', 't' or 'p' (a policy, sent as u) */
} Setting;

static const Setting settings[] = {
  { (const char **) &opt_transfer_policy, "--transfer-policy", "TransferPolicy", TRUE, FALSE, 'p' },
  { (const char **) &opt_bandwidth, "--bandwidth-limit", "BandwidthLimit", TRUE, TRUE, 't' },
  { (const char **) &opt_metered_bandwidth, "--metered-bandwidth-limit", "MeteredBandwidthLimit",
    FALSE, TRUE, 't' },
  { (const char **) &opt_max_transfers, "--max-transfers", "MaxConcurrentTransfers", FALSE, TRUE,
    'u' },
  { (const char **) &opt_retry_delay, "--retry-delay", "MinimumRetryDelay", TRUE, FALSE, 'u' },
  { (const char **) &opt_no_progress, "--no-progress-timeout", "NoProgressTimeout", TRUE, FALSE,
    'u' },
};

/* Writes the settings given on the command line; returns how many. */
static int
apply_settings (gpointer proxy, gboolean group, GError **error)
{
  const char *interface = group ? "io.github.qmgrd.QMgr1.Group" : "io.github.qmgrd.QMgr1.Manager";
  int applied = 0;

  for (guint i = 0; i < G_N_ELEMENTS (settings); i++)
    {
      const Setting *s = &settings[i];
      GVariant *value;
      guint64 number;
      guint policy;

      if (*s->option == NULL)
        continue;
      if (group ? !s->for_group : !s->for_manager)
        {
          qmgrctl_set_usage_error (error, group ? _("%s is a setting of qmgrd, not of a group")
                                                : _("%s is a setting of a group: name the group"),
                                   s->flag);
          return -1;
        }
      if (s->type == 'p')
        {
          if (!qmgrctl_parse_policy (*s->option, &policy, error))
            return -1;
          value = g_variant_new_uint32 (policy);
        }
      else if (!qmgrctl_parse_uint (*s->option, s->type == 't' ? G_MAXUINT64 : G_MAXUINT32,
                                    &number, error))
        return -1;
      else
        value = s->type == 't' ? g_variant_new_uint64 (number)
                               : g_variant_new_uint32 ((guint32) number);
      if (!qmgrctl_set_property (proxy, interface, s->property, value, error))
        return -1;
      applied++;
    }
  return applied;
}

static void
show_manager (Qmgrctl *ctl, QmgrManager *manager)
{
  guint cost = qmgr_manager_get_network_cost_state (manager);
  g_autofree char *cost_text = qmgrctl_flags_to_string (QMGR_TYPE_COST_STATE, cost);

  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "version");
      json_builder_add_string_value (b, qmgr_manager_get_version (manager));
      json_builder_set_member_name (b, "network_cost_state");
      json_builder_add_value (b, qmgrctl_flags_to_json (QMGR_TYPE_COST_STATE, cost));
      json_builder_set_member_name (b, "online");
      json_builder_add_boolean_value (b, qmgr_manager_get_online (manager));
      json_builder_set_member_name (b, "bandwidth_limit");
      json_builder_add_int_value (b, (gint64) qmgr_manager_get_bandwidth_limit (manager));
      json_builder_set_member_name (b, "metered_bandwidth_limit");
      json_builder_add_int_value (b, (gint64) qmgr_manager_get_metered_bandwidth_limit (manager));
      json_builder_set_member_name (b, "max_concurrent_transfers");
      json_builder_add_int_value (b, qmgr_manager_get_max_concurrent_transfers (manager));
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      qmgrctl_print_json (root);
      return;
    }
  g_autoptr(QmgrctlFields) f = qmgrctl_fields_new ();
  g_autofree char *limit = qmgrctl_format_limit (qmgr_manager_get_bandwidth_limit (manager));
  g_autofree char *metered =
    qmgrctl_format_limit (qmgr_manager_get_metered_bandwidth_limit (manager));

  qmgrctl_fields_add (f, _("Network cost"), "%s (0x%x)", cost_text, cost);
  qmgrctl_fields_add (f, _("Online"), "%s", qmgr_manager_get_online (manager) ? _("yes") : _("no"));
  qmgrctl_fields_add (f, _("Bandwidth limit"), "%s", limit);
  qmgrctl_fields_add (f, _("Metered bandwidth limit"), "%s", metered);
  qmgrctl_fields_add (f, _("Concurrent transfers"), "%u",
                      qmgr_manager_get_max_concurrent_transfers (manager));
  qmgrctl_fields_print (f);
}

static void
show_group (Qmgrctl *ctl, QmgrGroup *group)
{
  guint policy = qmgr_group_get_transfer_policy (group);
  g_autofree char *policy_text = qmgrctl_format_policy (policy);

  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, qmgr_group_get_group_id (group));
      json_builder_set_member_name (b, "transfer_policy");
      json_builder_add_int_value (b, policy);
      json_builder_set_member_name (b, "bandwidth_limit");
      json_builder_add_int_value (b, (gint64) qmgr_group_get_bandwidth_limit (group));
      json_builder_set_member_name (b, "minimum_retry_delay");
      json_builder_add_int_value (b, qmgr_group_get_minimum_retry_delay (group));
      json_builder_set_member_name (b, "no_progress_timeout");
      json_builder_add_int_value (b, qmgr_group_get_no_progress_timeout (group));
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      qmgrctl_print_json (root);
      return;
    }
  g_autoptr(QmgrctlFields) f = qmgrctl_fields_new ();
  g_autofree char *limit = qmgrctl_format_limit (qmgr_group_get_bandwidth_limit (group));

  qmgrctl_fields_add (f, _("Group"), "%s", qmgr_group_get_group_id (group));
  qmgrctl_fields_add (f, _("Transfer policy"), "%s (0x%08x)", policy_text, policy);
  qmgrctl_fields_add (f, _("Bandwidth limit"), "%s", limit);
  qmgrctl_fields_add (f, _("Retry delay"), _("%u s"), qmgr_group_get_minimum_retry_delay (group));
  qmgrctl_fields_add (f, _("No-progress timeout"), _("%u s"),
                      qmgr_group_get_no_progress_timeout (group));
  qmgrctl_fields_print (f);
}

int
qmgrctl_policy (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  g_autoptr(QmgrGroup) group = NULL;
  QmgrManager *manager;
  int applied;

  if (argc > 2)
    {
      qmgrctl_set_usage_error (error, _("“policy” takes at most one group"));
      return -1;
    }
  if (argc == 2)
    {
      if ((group = qmgrctl_find_group (ctl, argv[1], error)) == NULL
          || (applied = apply_settings (group, TRUE, error)) < 0)
        return -1;
      if (applied == 0)
        show_group (ctl, group);
      return QMGRCTL_EXIT_OK;
    }
  if ((manager = qmgrctl_get_manager (ctl, error)) == NULL
      || (applied = apply_settings (manager, FALSE, error)) < 0)
    return -1;
  if (applied == 0)
    show_manager (ctl, manager);
  return QMGRCTL_EXIT_OK;
}
