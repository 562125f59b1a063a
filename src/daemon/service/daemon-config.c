/* qmgrd service — configuration: the defaults of docs/dbus-api.md, overridden by the file. */
#include "daemon-config.h"

#include "qmgr-error.h"

#define SECTION "Manager"

char *
qmgr_config_default_path (gboolean system_mode)
{
  if (system_mode)
    return g_strdup ("/etc/qmgrd/qmgrd.conf");
  return g_build_filename (g_get_user_config_dir (), "qmgrd", "qmgrd.conf", NULL);
}

static gboolean
read_number (GKeyFile *kf, const char *path, const char *key, guint64 min, guint64 max,
             guint64 *value, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *text = g_key_file_get_value (kf, SECTION, key, NULL);
  guint64 v;

  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (g_strstrip (text), 10, min, max, &v, &local))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "%s: [" SECTION "] %s: %s", path, key, local->message);
      return FALSE;
    }
  *value = v;
  return TRUE;
}

static const char *const known_keys[] = {
  "MaxConcurrentTransfers", "BandwidthLimit", "MeteredBandwidthLimit", "ExpireAfterDays",
  "MaxGroupsPerOwner", "MaxFilesPerJob", "MaxFilesPerOwner", "MaxStringBytesPerOwner", NULL,
};

gboolean
qmgr_config_load (QmgrConfig *config, const char *path, gboolean required, gboolean system_mode,
                  GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) keys = NULL;
  guint64 v;

  qmgr_manager_settings_init_defaults (&config->manager, system_mode);
  config->expire_after_days = 90;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      if (!required && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS, "%s: %s", path, local->message);
      return FALSE;
    }

  keys = g_key_file_get_keys (kf, SECTION, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!g_strv_contains (known_keys, keys[i]))
      g_warning ("%s: unknown key [" SECTION "] %s ignored", path, keys[i]);

#define NUMBER(key, field, min, max)                                          \
  G_STMT_START {                                                              \
    v = config->field;                                                        \
    if (!read_number (kf, path, key, min, max, &v, error))                    \
      return FALSE;                                                           \
    config->field = v;                                                        \
  } G_STMT_END
  NUMBER ("MaxConcurrentTransfers", manager.max_concurrent_transfers, 1,
          QMGR_MAX_CONCURRENT_TRANSFERS_MAX);
  NUMBER ("BandwidthLimit", manager.bandwidth_limit, 0, G_MAXUINT64);
  NUMBER ("MeteredBandwidthLimit", manager.metered_bandwidth_limit, 0, G_MAXUINT64);
  NUMBER ("ExpireAfterDays", expire_after_days, 0, 36500);
  NUMBER ("MaxGroupsPerOwner", manager.max_groups_per_owner, 1, QMGR_MAX_GROUPS_PER_OWNER_MAX);
  NUMBER ("MaxFilesPerJob", manager.max_files_per_job, 1, 10000000);
  NUMBER ("MaxFilesPerOwner", manager.max_files_per_owner, 1, G_GUINT64_CONSTANT (100000000));
  NUMBER ("MaxStringBytesPerOwner", manager.max_string_bytes_per_owner, 0,
          QMGR_MAX_STRING_BYTES_PER_OWNER_MAX);
#undef NUMBER
  return TRUE;
}
