/* qmgrd store — loading: every group from its file, its parts file and the
 * journals' records, then the settings. What does not load is set aside
 * (renamed, or written, to <hex>.group.broken) with a warning naming it, and
 * the rest load. A group file written by the previous version, or whose parts
 * file is damaged, is written again, whole and in today's format, soon after. */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qmgr-error.h"
#include "qmgr-io.h"
#include "qmgr-log.h"
#include "store-file.h"
#include "store-format.h"
#include "store-overlay.h"
#include "store-private.h"

#define SETTINGS_MAX (64 << 10)

static void
set_aside (QmgrStore *s, const char *name, const GError *why)
{
  g_autofree char *broken = g_strconcat (name, ".broken", NULL);
  g_autofree char *path = g_build_filename (s->groups_dir, name, NULL);

  if (renameat (s->groups_fd, name, s->groups_fd, broken) < 0)
    g_warning ("Store file %s cannot be loaded (%s) and could not be set aside: %s", path,
               why->message, g_strerror (errno));
  else
    g_warning ("Store file %s cannot be loaded (%s); renamed to %s.broken", path, why->message,
               path);
}

static QmgrGroup *
group_from_data (QmgrManager *m, const char *name, const char *data, gsize len,
                 gboolean *legacy, GError **error)
{
  QmgrGroup *g = qmgr_store_group_from_data (m, data, len, legacy, error);
  char hex[QMGR_GUID_HEX_LEN + 1];

  if (g == NULL)
    return NULL;
  qmgr_guid_to_hex (g->id, hex);
  if (strncmp (name, hex, QMGR_GUID_HEX_LEN) != 0)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "its group id %s does not match its name",
                   g->id_str);
      qmgr_group_free (g);
      return NULL;
    }
  return g;
}

/* A group file's text: a regular file (not a symlink, not a FIFO: loading
 * must never block) no bigger than the quotas allow the writer to make it. */
static char *
read_group_file (QmgrStore *s, QmgrManager *m, const char *name, gsize *len, GError **error)
{
  guint64 max = qmgr_store_group_file_max (m->settings.max_files_per_job);

  return qmgr_store_read_file (s->groups_fd, s->groups_dir, name, max, len, error);
}

static QmgrGroup *
load_group_file (QmgrStore *s, QmgrManager *m, const char *name, gboolean *legacy,
                 GError **error)
{
  g_autofree char *contents = NULL;
  gsize len;
  QmgrGroup *g;

  contents = read_group_file (s, m, name, &len, error);
  if (contents == NULL)
    return NULL;
  g = group_from_data (m, name, contents, len, legacy, error);
  explicit_bzero (contents, len);
  return g;
}

/* A group the journals or its parts file hold records of: its latest whole
 * record, or its file, with the parts after it put in. */
static QmgrGroup *
load_replayed (QmgrStore *s, QmgrManager *m, const char *hex, const QmgrStoreOverlay *ov,
               gboolean *legacy, GError **error)
{
  g_autofree char *name = g_strconcat (hex, GROUP_SUFFIX, NULL);
  g_autofree char *file_text = NULL, *text = NULL;
  const char *base = ov->whole.data;
  gsize base_len = ov->whole.len, file_len = 0, len = 0;
  QmgrGroup *g = NULL;

  if (qmgr_store_overlay_needs_file (ov))
    {
      file_text = read_group_file (s, m, name, &file_len, error);
      if (file_text == NULL)
        return NULL;
      base = file_text;
      base_len = file_len;
    }
  if (!qmgr_store_overlay_has_parts (ov))
    g = group_from_data (m, hex, base, base_len, legacy, error);
  else
    {
      text = qmgr_store_overlay_text (ov, base, base_len, &len, error);
      if (text != NULL)
        g = group_from_data (m, hex, text, len, legacy, error);
    }
  if (text != NULL)
    explicit_bzero (text, len);
  if (file_text != NULL)
    explicit_bzero (file_text, file_len);
  return g;
}

/* A group the journals hold records of that cannot be loaded: the file the
 * records build on is renamed to .broken, or the latest whole record written
 * there, and its parts file too; the journals are folded without the group,
 * and a deletion record keeps an older file of it from coming back. */
static void
set_aside_replayed (QmgrStore *s, const char *hex, const QmgrStoreOverlay *ov, const GError *why)
{
  g_autofree char *name = g_strconcat (hex, GROUP_SUFFIX, NULL);
  g_autofree char *broken = g_strconcat (name, ".broken", NULL);
  g_autofree char *path = g_build_filename (s->groups_dir, broken, NULL);
  g_autoptr(GError) error = NULL;
  char id[QMGR_GUID_STRING_LEN + 1];
  gboolean ok;

  qmgr_journal_forget (s->journal, hex);
  if (qmgr_store_overlay_needs_file (ov))
    ok = renameat (s->groups_fd, name, s->groups_fd, broken) == 0 || errno == ENOENT ||
         qmgr_io_set_error (&error, errno, "rename", name);
  else
    ok = qmgr_store_write_file (s->groups_fd, s->groups_dir, broken, ov->whole.data,
                                ov->whole.len, &error);
  ok = ok && qmgr_journal_append (s->journal, hex, QMGR_JOURNAL_DELETE, NULL, 0, FALSE, &error) &&
       qmgr_journal_sync (s->journal, &error);
  qmgr_guid_hex_to_string (hex, id);
  if (!ok)
    qmgr_log (G_LOG_LEVEL_WARNING, id, NULL,
              "Group %s in the journal cannot be loaded (%s) and could not be set aside: %s",
              hex, why->message, error->message);
  else
    qmgr_log (G_LOG_LEVEL_WARNING, id, NULL,
              "Group %s in the journal cannot be loaded (%s); its records are dropped, and "
              "what they build on is kept as %s", hex, why->message, path);
}

static void
load_settings (QmgrStore *s, QmgrManager *m)
{
  g_autofree char *path = g_build_filename (s->state_dir, SETTINGS_FILE, NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  contents = qmgr_store_read_file (s->state_fd, s->state_dir, SETTINGS_FILE, SETTINGS_MAX, &len,
                                   &error);
  if (contents == NULL)
    {
      if (qmgr_io_error_errno (error) != ENOENT)
        g_warning ("Ignoring saved settings: %s", error->message);
      return;
    }
  /* GKeyFile's messages quote the line it stopped at. */
  if (!g_key_file_load_from_data (kf, contents, len, G_KEY_FILE_NONE, NULL))
    {
      g_warning ("Ignoring saved settings %s: not in key-file syntax", path);
      return;
    }
  if (!qmgr_store_settings_from_keyfile (m, kf, &error))
    g_warning ("Saved settings %s are partly invalid: %s", path, error->message);
}

typedef struct {
  QmgrGroup *group;
  const QmgrStoreOverlay *overlay;  /* from the journals; NULL: from its file */
  gboolean legacy;                  /* written by version 1: to be written again */
} Loaded;

static gboolean
parts_damaged (QmgrStore *s, QmgrGroup *group)
{
  char hex[QMGR_GUID_HEX_LEN + 1];

  qmgr_guid_to_hex (group->id, hex);
  return qmgr_journal_parts_damaged (s->journal, hex);
}

static gint
compare_seq (gconstpointer a, gconstpointer b)
{
  const Loaded *la = a, *lb = b;
  return la->group->seq < lb->group->seq ? -1 : la->group->seq > lb->group->seq;
}

static void
set_aside_loaded (QmgrStore *s, Loaded *l, const GError *why)
{
  char hex[QMGR_GUID_HEX_LEN + 1];

  qmgr_guid_to_hex (l->group->id, hex);
  if (l->overlay != NULL)
    set_aside_replayed (s, hex, l->overlay, why);
  else
    {
      g_autofree char *name = g_strconcat (hex, GROUP_SUFFIX, NULL);
      set_aside (s, name, why);
    }
}

/* The group files the journals and parts files do not speak for. */
static gboolean
load_files (QmgrStore *s, QmgrManager *m, GHashTable *replayed, GArray *loaded, GError **error)
{
  int fd = dup (s->groups_fd);
  DIR *dir;
  struct dirent *de;

  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return qmgr_io_set_error (error, errno, "read", s->groups_dir);
    }
  rewinddir (dir);
  while ((de = readdir (dir)) != NULL)
    {
      g_autoptr(GError) local = NULL;
      Loaded l = { NULL, NULL, FALSE };

      if (g_str_has_suffix (de->d_name, GROUP_SUFFIX ".tmp"))
        {
          /* A write interrupted by a crash: the previous version is intact. */
          unlinkat (s->groups_fd, de->d_name, 0);
          continue;
        }
      if (!g_str_has_suffix (de->d_name, GROUP_SUFFIX))
        continue;
      /* The journal holds records of it (or its deletion): loaded with them. */
      if (strlen (de->d_name) == QMGR_GUID_HEX_LEN + strlen (GROUP_SUFFIX))
        {
          g_autofree char *hex = g_strndup (de->d_name, QMGR_GUID_HEX_LEN);
          if (g_hash_table_contains (replayed, hex))
            continue;
        }
      l.group = load_group_file (s, m, de->d_name, &l.legacy, &local);
      if (l.group == NULL)
        set_aside (s, de->d_name, local);
      else
        g_array_append_val (loaded, l);
    }
  closedir (dir);
  return TRUE;
}

/* The groups the journals or their parts files hold records of. */
static void
load_replay (QmgrStore *s, QmgrManager *m, GHashTable *replayed, GArray *loaded)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, replayed);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autoptr(GError) local = NULL;
      Loaded l = { NULL, value, FALSE };

      if (l.overlay->deleted)
        continue;
      l.group = load_replayed (s, m, key, l.overlay, &l.legacy, &local);
      if (l.group == NULL)
        set_aside_replayed (s, key, l.overlay, local);
      else
        g_array_append_val (loaded, l);
    }
}

gboolean
qmgr_store_load (QmgrStore *s, QmgrManager *m, GError **error)
{
  g_autoptr(GArray) loaded = g_array_new (FALSE, FALSE, sizeof (Loaded));
  g_autoptr(QmgrJournalReplay) replay = g_steal_pointer (&s->replay);
  GHashTable *replayed;

  g_return_val_if_fail (replay != NULL, FALSE);   /* loaded once */
  replayed = qmgr_journal_replay_groups (replay);
  if (!load_files (s, m, replayed, loaded, error))
    return FALSE;
  load_replay (s, m, replayed, loaded);

  g_array_sort (loaded, compare_seq);
  for (guint i = 0; i < loaded->len; i++)
    {
      Loaded *l = &g_array_index (loaded, Loaded, i);
      g_autoptr(GError) local = NULL;

      if (!qmgr_manager_adopt_group (m, l->group, &local))
        {
          set_aside_loaded (s, l, local);
          qmgr_group_free (l->group);
        }
      else if (l->legacy || parts_damaged (s, l->group))
        {
          /* In today's format, with its end marker; or not building on a
           * damaged parts file any more. */
          store_save_group_soon (s, l->group, NULL);
        }
    }
  load_settings (s, m);
  /* The journals found are folded into the group files in the background,
   * reading no bigger group file than loading did. */
  qmgr_journal_set_file_max (s->journal,
                             qmgr_store_group_file_max (m->settings.max_files_per_job));
  qmgr_journal_compact (s->journal, FALSE);
  return TRUE;
}
