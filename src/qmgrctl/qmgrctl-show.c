/* qmgrctl — the reading verbs: list, info and files, as aligned text for
 * people or as JSON (--json) for programs. */
#include "config.h"

#include "qmgrctl.h"

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
add_node (JsonBuilder *b, const char *name, JsonNode *node)
{
  json_builder_set_member_name (b, name);
  json_builder_add_value (b, node);
}

static guint
percent (guint64 done, guint64 total)
{
  return total > 0 ? (guint) MIN (100, done * 100 / total) : 0;
}

/* "30.1 MiB of 64.0 MiB (47%)"; sizes may still be unknown. */
static char *
format_bytes_progress (QmgrGroup *group)
{
  guint64 done = qmgr_group_get_bytes_transferred (group);
  guint64 total = qmgr_group_get_bytes_total (group);
  g_autofree char *done_text = qmgrctl_format_size (done);
  g_autofree char *total_text = qmgrctl_format_size (total);

  if (total == 0)
    return g_strdup (done_text);
  /* TRANSLATORS: bytes transferred of the bytes known, and the percentage */
  return g_strdup_printf (_("%s of %s (%u%%)"), done_text, total_text, percent (done, total));
}

static void
last_error_to_json (JsonBuilder *b, const char *member, GVariant *last_error)
{
  const char *name = "", *message = "";

  if (last_error != NULL)
    g_variant_get (last_error, "(&s&s)", &name, &message);
  json_builder_set_member_name (b, member);
  if (*name == '\0')
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_object (b);
  add_string (b, "name", name);
  add_string (b, "message", message);
  json_builder_end_object (b);
}

/* The job's last error in the user's language, or NULL if there is none. */
static char *
describe_last_error (GVariant *last_error)
{
  const char *name = "", *message = "";
  g_autoptr(GError) error = NULL;

  if (last_error != NULL)
    g_variant_get (last_error, "(&s&s)", &name, &message);
  error = qmgr_client_error_new_for_name (name, message);
  return error != NULL ? g_strdup (error->message) : NULL;
}

static void
info_json (QmgrGroup *group, QmgrJob *job)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  add_string (b, "id", qmgr_group_get_group_id (group));
  add_string (b, "path", g_dbus_proxy_get_object_path (G_DBUS_PROXY (group)));
  add_string (b, "display_name", qmgr_group_get_display_name (group));
  add_string (b, "description", qmgr_group_get_description (group));
  add_node (b, "status",
            qmgrctl_flags_to_json (QMGR_TYPE_GROUP_STATUS, qmgr_group_get_status (group)));
  add_int (b, "status_bits", qmgr_group_get_status (group));
  add_string (b, "wait_reason", qmgr_group_get_wait_reason (group));
  add_int (b, "bytes_transferred", (gint64) qmgr_group_get_bytes_transferred (group));
  add_int (b, "bytes_total", (gint64) qmgr_group_get_bytes_total (group));
  add_int (b, "files_transferred", qmgr_group_get_files_transferred (group));
  add_int (b, "files_total", qmgr_group_get_files_total (group));
  add_node (b, "creation_time", qmgrctl_time_to_json (qmgr_group_get_creation_time (group)));
  add_node (b, "modification_time",
            qmgrctl_time_to_json (qmgr_group_get_modification_time (group)));
  add_node (b, "completion_time", qmgrctl_time_to_json (qmgr_group_get_completion_time (group)));
  add_int (b, "owner", qmgr_group_get_owner (group));
  add_int (b, "transfer_policy", qmgr_group_get_transfer_policy (group));
  add_int (b, "bandwidth_limit", (gint64) qmgr_group_get_bandwidth_limit (group));
  add_node (b, "notify_flags",
            qmgrctl_flags_to_json (QMGR_TYPE_NOTIFY_FLAGS, qmgr_group_get_notify_flags (group)));
  add_string (b, "notify_clsid", qmgr_group_get_notify_clsid (group));
  add_int (b, "minimum_retry_delay", qmgr_group_get_minimum_retry_delay (group));
  add_int (b, "no_progress_timeout", qmgr_group_get_no_progress_timeout (group));
  json_builder_set_member_name (b, "job");
  if (job == NULL)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      add_string (b, "id", qmgr_job_get_job_id (job));
      add_string (b, "path", g_dbus_proxy_get_object_path (G_DBUS_PROXY (job)));
      add_node (b, "status",
                qmgrctl_flags_to_json (QMGR_TYPE_JOB_STATUS, qmgr_job_get_status (job)));
      add_int (b, "status_bits", qmgr_job_get_status (job));
      add_int (b, "file_count", qmgr_job_get_file_count (job));
      add_int (b, "current_file", qmgr_job_get_current_file_index (job));
      last_error_to_json (b, "last_error", qmgr_job_get_last_error (job));
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  qmgrctl_print_json (root);
}

static void
info_text (QmgrGroup *group, QmgrJob *job)
{
  g_autoptr(QmgrctlFields) f = qmgrctl_fields_new ();
  guint status = qmgr_group_get_status (group);
  const char *reason = qmgr_group_get_wait_reason (group);
  const char *name = qmgr_group_get_display_name (group);
  const char *description = qmgr_group_get_description (group);
  g_autofree char *flags = qmgrctl_flags_to_string (QMGR_TYPE_GROUP_STATUS, status);
  g_autofree char *progress = format_bytes_progress (group);
  g_autofree char *created = qmgrctl_format_time (qmgr_group_get_creation_time (group));
  g_autofree char *modified = qmgrctl_format_time (qmgr_group_get_modification_time (group));
  g_autofree char *completed = qmgrctl_format_time (qmgr_group_get_completion_time (group));
  g_autofree char *policy = qmgrctl_format_policy (qmgr_group_get_transfer_policy (group));
  g_autofree char *limit = qmgrctl_format_limit (qmgr_group_get_bandwidth_limit (group));
  g_autofree char *notify = qmgrctl_flags_to_string (QMGR_TYPE_NOTIFY_FLAGS,
                                                     qmgr_group_get_notify_flags (group));

  qmgrctl_fields_add (f, _("Group"), "%s", qmgr_group_get_group_id (group));
  qmgrctl_fields_add (f, _("Name"), "%s", name != NULL && *name ? name : "-");
  if (description != NULL && *description)
    qmgrctl_fields_add (f, _("Description"), "%s", description);
  qmgrctl_fields_add (f, _("Status"), "%s (0x%x)", flags, status);
  qmgrctl_fields_add (f, _("State"), "%s (%s)", reason != NULL ? reason : "?",
                      qmgr_wait_reason_describe (reason != NULL ? reason : ""));
  qmgrctl_fields_add (f, _("Progress"), _("%s, %u of %u files"), progress,
                      qmgr_group_get_files_transferred (group), qmgr_group_get_files_total (group));
  qmgrctl_fields_add (f, _("Created"), "%s", created);
  qmgrctl_fields_add (f, _("Modified"), "%s", modified);
  qmgrctl_fields_add (f, _("Completed"), "%s", completed);
  qmgrctl_fields_add (f, _("Owner"), _("uid %u"), qmgr_group_get_owner (group));
  qmgrctl_fields_add (f, _("Transfer policy"), "%s", policy);
  qmgrctl_fields_add (f, _("Bandwidth limit"), "%s", limit);
  qmgrctl_fields_add (f, _("Notify flags"), "%s", notify);
  if (qmgr_group_get_notify_clsid (group) != NULL && *qmgr_group_get_notify_clsid (group))
    qmgrctl_fields_add (f, _("Notify target"), "%s", qmgr_group_get_notify_clsid (group));
  qmgrctl_fields_add (f, _("Retry delay"), _("%u s"), qmgr_group_get_minimum_retry_delay (group));
  qmgrctl_fields_add (f, _("No-progress timeout"), _("%u s"),
                      qmgr_group_get_no_progress_timeout (group));
  if (job != NULL)
    {
      g_autofree char *job_flags = qmgrctl_flags_to_string (QMGR_TYPE_JOB_STATUS,
                                                            qmgr_job_get_status (job));
      g_autofree char *last_error = describe_last_error (qmgr_job_get_last_error (job));

      qmgrctl_fields_add (f, _("Job"), "%s", qmgr_job_get_job_id (job));
      qmgrctl_fields_add (f, _("Job status"), "%s (0x%x)", job_flags, qmgr_job_get_status (job));
      if (last_error != NULL)
        qmgrctl_fields_add (f, _("Last error"), "%s", last_error);
    }
  else
    qmgrctl_fields_add (f, _("Job"), "%s", _("none"));
  qmgrctl_fields_print (f);
}

int
qmgrctl_info (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  g_autoptr(QmgrGroup) group = NULL;
  g_autoptr(QmgrJob) job = NULL;
  g_autoptr(GError) local = NULL;

  if (argc != 2)
    {
      qmgrctl_set_usage_error (error, _("“info” needs one group"));
      return -1;
    }
  if ((group = qmgrctl_find_group (ctl, argv[1], error)) == NULL)
    return -1;
  job = qmgrctl_get_job (ctl, group, &local);
  if (job == NULL && !g_error_matches (local, QMGR_CLIENT_ERROR, QMGR_CLIENT_ERROR_ITEM_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return -1;
    }
  if (ctl->json)
    info_json (group, job);
  else
    info_text (group, job);
  return QMGRCTL_EXIT_OK;
}

static void
list_row_json (JsonBuilder *b, QmgrGroup *group)
{
  json_builder_begin_object (b);
  add_string (b, "id", qmgr_group_get_group_id (group));
  add_string (b, "display_name", qmgr_group_get_display_name (group));
  add_node (b, "status",
            qmgrctl_flags_to_json (QMGR_TYPE_GROUP_STATUS, qmgr_group_get_status (group)));
  add_string (b, "wait_reason", qmgr_group_get_wait_reason (group));
  add_int (b, "bytes_transferred", (gint64) qmgr_group_get_bytes_transferred (group));
  add_int (b, "bytes_total", (gint64) qmgr_group_get_bytes_total (group));
  add_int (b, "files_transferred", qmgr_group_get_files_transferred (group));
  add_int (b, "files_total", qmgr_group_get_files_total (group));
  json_builder_end_object (b);
}

/* @text padded to @width characters (printf pads bytes; sizes hold a
 * no-break space, translations any letter). */
static char *
pad (const char *text, glong width)
{
  glong length = g_utf8_strlen (text, -1);

  return g_strdup_printf ("%s%*s", text, (int) MAX (0, width - length), "");
}

static char *
pad_left (const char *text, glong width)
{
  glong length = g_utf8_strlen (text, -1);

  return g_strdup_printf ("%*s%s", (int) MAX (0, width - length), "", text);
}

static void
print_row (const char *id, const char *state, const char *bytes, const char *files,
           const char *name)
{
  g_autofree char *c1 = pad (id, 36), *c2 = pad (state, 14), *c3 = pad (bytes, 28);
  g_autofree char *c4 = pad (files, 7);

  g_print ("%s  %s  %s  %s  %s\n", c1, c2, c3, c4, name);
}

static void
list_row_text (QmgrGroup *group)
{
  g_autofree char *bytes = format_bytes_progress (group);
  g_autofree char *files = g_strdup_printf ("%u/%u", qmgr_group_get_files_transferred (group),
                                            qmgr_group_get_files_total (group));
  const char *reason = qmgr_group_get_wait_reason (group);
  const char *name = qmgr_group_get_display_name (group);

  print_row (qmgr_group_get_group_id (group), reason != NULL ? reason : "?", bytes, files,
             name != NULL && *name ? name : "-");
}

int
qmgrctl_list (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  QmgrManager *manager;
  g_autoptr(QmgrEnumGroups) groups = NULL;
  g_auto(GStrv) ids = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  if (argc != 1)
    {
      qmgrctl_set_usage_error (error, _("“list” takes no arguments"));
      return -1;
    }
  if ((manager = qmgrctl_get_manager (ctl, error)) == NULL
      || (groups = qmgr_enum_groups_new_sync (manager, NULL, error)) == NULL)
    return -1;
  qmgr_enum_groups_next (groups, qmgr_enum_groups_get_count (groups), &ids);
  json_builder_begin_array (b);
  if (!ctl->json && ids[0] != NULL)
    print_row (_("GROUP"), _("STATE"), _("BYTES"), _("FILES"), _("NAME"));
  for (guint i = 0; ids[i] != NULL; i++)
    {
      /* A group cancelled since the enumeration is skipped. */
      g_autoptr(QmgrGroup) group = qmgrctl_find_group (ctl, ids[i], NULL);

      if (group == NULL)
        continue;
      if (ctl->json)
        list_row_json (b, group);
      else
        list_row_text (group);
    }
  json_builder_end_array (b);
  if (ctl->json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      qmgrctl_print_json (root);
    }
  else if (ids[0] == NULL)
    g_print ("%s\n", _("No groups."));
  return QMGRCTL_EXIT_OK;
}

/* One file: its names from GetFile, its state from GetFileStatus. */
static gboolean
file_row (Qmgrctl *ctl, QmgrJob *job, guint index, JsonBuilder *b, GError **error)
{
  g_autoptr(GVariant) file = NULL, state = NULL, last_error = NULL;
  const char *url, *path;
  guint64 hint, total, done;
  guint32 status;

  if (!qmgr_job_call_get_file_sync (job, index, G_DBUS_CALL_FLAGS_NONE, -1, &file, NULL, error)
      || !qmgr_job_call_get_file_status_sync (job, index, G_DBUS_CALL_FLAGS_NONE, -1, &status,
                                              &total, &done, &last_error, NULL, error))
    {
      qmgr_client_error_convert (error);
      return FALSE;
    }
  g_variant_get (file, "(&s&st)", &url, &path, &hint);
  if (ctl->json)
    {
      json_builder_begin_object (b);
      add_int (b, "index", index);
      add_string (b, "url", url);
      add_string (b, "path", path);
      add_node (b, "status", qmgrctl_flags_to_json (QMGR_TYPE_FILE_STATUS, status));
      json_builder_set_member_name (b, "bytes_total");
      if (total == G_MAXUINT64)
        json_builder_add_null_value (b);
      else
        json_builder_add_int_value (b, (gint64) total);
      add_int (b, "bytes_transferred", (gint64) done);
      last_error_to_json (b, "last_error", last_error);
      json_builder_end_object (b);
    }
  else
    {
      g_autofree char *done_text = qmgrctl_format_size (done);
      g_autofree char *total_text = qmgrctl_format_size (total);
      g_autofree char *flags = qmgrctl_flags_to_string (QMGR_TYPE_FILE_STATUS, status);
      g_autofree char *why = describe_last_error (last_error);

      g_autofree char *done_col = pad_left (done_text, 10), *total_col = pad (total_text, 10);

      g_print ("%3u  %-10s  %s / %s  %s → %s\n", index, flags, done_col, total_col, url, path);
      if (why != NULL)
        g_print ("     %s\n", why);
    }
  return TRUE;
}

int
qmgrctl_files (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  g_autoptr(QmgrGroup) group = NULL;
  g_autoptr(QmgrJob) job = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  guint count;

  if (argc != 2)
    {
      qmgrctl_set_usage_error (error, _("“files” needs one group"));
      return -1;
    }
  if ((group = qmgrctl_find_group (ctl, argv[1], error)) == NULL
      || (job = qmgrctl_get_job (ctl, group, error)) == NULL)
    return -1;
  if (!qmgr_job_call_get_file_count_sync (job, G_DBUS_CALL_FLAGS_NONE, -1, &count, NULL, error))
    {
      qmgr_client_error_convert (error);
      return -1;
    }
  json_builder_begin_array (b);
  for (guint i = 0; i < count; i++)
    if (!file_row (ctl, job, i, b, error))
      return -1;
  json_builder_end_array (b);
  if (ctl->json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      qmgrctl_print_json (root);
    }
  else if (count == 0)
    g_print ("%s\n", _("No files."));
  return QMGRCTL_EXIT_OK;
}
