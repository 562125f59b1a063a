/* qmgrctl — the verbs that change groups: create, add, resume, suspend and
 * cancel. */
#include "config.h"

#include "qmgrctl.h"

static char *opt_name, *opt_description, *opt_guid, *opt_policy;

const GOptionEntry qmgrctl_create_entries[] = {
  { "name", 0, 0, G_OPTION_ARG_STRING, &opt_name, N_("The group's display name"), N_("NAME") },
  { "description", 0, 0, G_OPTION_ARG_STRING, &opt_description, N_("The group's description"),
    N_("TEXT") },
  { "guid", 0, 0, G_OPTION_ARG_STRING, &opt_guid,
    N_("The group's GUID (default: one qmgrd chooses)"), N_("GUID") },
  { "policy", 0, 0, G_OPTION_ARG_STRING, &opt_policy,
    N_("The networks it may transfer on: always, not-roaming, no-surcharge, standard, "
       "unrestricted, or a mask"), N_("POLICY") },
  G_OPTION_ENTRY_NULL,
};

static gboolean
set_string_prop (QmgrGroup *group, QmgrGroupPropId id, const char *value, GError **error)
{
  g_autoptr(GVariant) reply = NULL;

  reply = qmgrctl_call (group, "SetProp",
                        g_variant_new ("(uv)", (guint32) id, g_variant_new_string (value)),
                        error);
  return reply != NULL;
}

/* Sets up a new group; on failure the caller cancels it. */
static gboolean
setup_group (Qmgrctl *ctl, QmgrGroup *group, guint policy, char **job_path, GError **error)
{
  g_autoptr(GVariant) reply = NULL;

  if (opt_name != NULL && !set_string_prop (group, QMGR_GROUP_PROP_ID_DISPLAYNAME, opt_name, error))
    return FALSE;
  if (opt_description != NULL
      && !set_string_prop (group, QMGR_GROUP_PROP_ID_DESCRIPTION, opt_description, error))
    return FALSE;
  if (policy != 0 && !qmgrctl_set_property (group, "io.github.qmgrd.QMgr1.Group", "TransferPolicy",
                                            g_variant_new_uint32 (policy), error))
    return FALSE;
  reply = qmgrctl_call (group, "CreateJob", g_variant_new ("(s)", ""), error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(o)", job_path);
  return TRUE;
}

int
qmgrctl_create (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  QmgrManager *manager;
  g_autofree char *path = NULL;
  g_autofree char *job_path = NULL;
  g_autoptr(QmgrGroup) group = NULL;
  g_autofree char *id = NULL;
  guint policy = 0;

  if (argc != 1)
    {
      qmgrctl_set_usage_error (error, _("“create” takes no arguments"));
      return -1;
    }
  if (opt_policy != NULL && !qmgrctl_parse_policy (opt_policy, &policy, error))
    return -1;
  if ((manager = qmgrctl_get_manager (ctl, error)) == NULL)
    return -1;
  if (!qmgr_manager_call_create_group_sync (manager, opt_guid != NULL ? opt_guid : "",
                                            G_DBUS_CALL_FLAGS_NONE, -1, &path, NULL, error))
    {
      qmgr_client_error_convert (error);
      return -1;
    }
  group = qmgr_group_proxy_new_sync (ctl->connection, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                                     QMGR_BUS_NAME, path, NULL, error);
  if (group == NULL || !setup_group (ctl, group, policy, &job_path, error))
    {
      if (group != NULL)
        {
          g_autoptr(GVariant) ignored = qmgrctl_call (group, "CancelGroup", NULL, NULL);
        }
      qmgr_client_error_convert (error);
      return -1;
    }
  id = qmgr_path_get_guid (path);
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autofree char *job_id = qmgr_path_get_guid (job_path);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, id);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, path);
      json_builder_set_member_name (b, "job_id");
      json_builder_add_string_value (b, job_id);
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      qmgrctl_print_json (root);
    }
  else
    g_print ("%s\n", id);
  return QMGRCTL_EXIT_OK;
}

/* The URL DEST pairs as AddFiles wants them. */
static GVariant *
files_from_pairs (int argc, char **argv, GError **error)
{
  g_autoptr(GVariantBuilder) files = g_variant_builder_new (G_VARIANT_TYPE ("a(sst)"));

  if (argc < 2 || argc % 2 != 0)
    {
      qmgrctl_set_usage_error (error,
                               _("Give each URL with its destination: URL DEST [URL DEST…]"));
      return NULL;
    }
  for (int i = 0; i < argc; i += 2)
    {
      g_autofree char *dest = qmgrctl_destination (argv[i], argv[i + 1]);
      g_variant_builder_add (files, "(sst)", argv[i], dest, (guint64) 0);
    }
  return g_variant_new ("(a(sst))", files);
}

int
qmgrctl_add (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  g_autoptr(QmgrGroup) group = NULL;
  g_autoptr(QmgrJob) job = NULL;
  g_autoptr(GVariant) reply = NULL;
  GVariant *files;

  if (argc < 2)
    {
      qmgrctl_set_usage_error (error, _("“add” needs a group, then URL DEST pairs"));
      return -1;
    }
  if ((files = files_from_pairs (argc - 2, argv + 2, error)) == NULL)
    return -1;
  g_variant_ref_sink (files);
  group = qmgrctl_find_group (ctl, argv[1], error);
  if (group != NULL)
    job = qmgrctl_get_job (ctl, group, error);
  if (job != NULL)
    reply = qmgrctl_call (job, "AddFiles", files, error);
  g_variant_unref (files);
  return reply != NULL ? QMGRCTL_EXIT_OK : -1;
}

/* One method on each group named; stops at the first failure. */
static int
each_group (Qmgrctl *ctl, int argc, char **argv, const char *verb, const char *method,
            GError **error)
{
  if (argc < 2)
    {
      qmgrctl_set_usage_error (error, _("“%s” needs at least one group"), verb);
      return -1;
    }
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(QmgrGroup) group = qmgrctl_find_group (ctl, argv[i], error);
      g_autoptr(GVariant) reply = NULL;

      if (group == NULL || (reply = qmgrctl_call (group, method, NULL, error)) == NULL)
        return -1;
    }
  return QMGRCTL_EXIT_OK;
}

int
qmgrctl_resume (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  return each_group (ctl, argc, argv, "resume", "ResumeGroup", error);
}

int
qmgrctl_suspend (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  return each_group (ctl, argc, argv, "suspend", "SuspendGroup", error);
}

int
qmgrctl_cancel (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  return each_group (ctl, argc, argv, "cancel", "CancelGroup", error);
}
