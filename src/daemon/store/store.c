/* qmgrd store — durable groups and settings: the directories, the journal's
 * records, saves now and "soon", batches, loading and setting aside what does
 * not load. The text of the files is store-format.c's. The store never holds
 * partial downloads: the temp file on disk is the truth for bytes received.
 * Passwords live in the group files and the journal, which like the directory
 * are readable by their owner only, and are wiped from memory once written. */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "qmgr-error.h"
#include "qmgr-io.h"
#include "store-file.h"
#include "store-format.h"

#define GROUP_SUFFIX ".group"
#define SETTINGS_FILE "settings.conf"
#define SETTINGS_MAX (64 << 10)

#define FLUSH_DELAY_MS 200
/* The journal is folded into the group files (in a thread) once it is this big,
 * or this long after its first record. */
#define COMPACT_SIZE (G_GUINT64_CONSTANT (32) << 20)
#define COMPACT_AFTER_S 30

struct _QmgrStore {
  char *state_dir;
  char *groups_dir;
  int state_fd;
  int groups_fd;
  QmgrJournal *journal;
  GHashTable *replayed;       /* hex → GBytes (a group file) or NULL (deleted), until load */
  GHashTable *dirty;          /* QmgrGroup* saved "soon" and not yet written */
  guint flush_source;
  guint compact_source;
  guint batch_depth;          /* > 0: appends wait for qmgr_store_end_batch's sync */
};

static int
open_dir (const char *path, GError **error)
{
  int fd;

  if (g_mkdir_with_parents (path, 0700) < 0)
    {
      qmgr_io_set_error (error, errno, "create", path);
      return -1;
    }
  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    qmgr_io_set_error (error, errno, "open", path);
  return fd;
}

static void
on_replay (const char *hex, const char *data, gsize len, gpointer user_data)
{
  QmgrStore *s = user_data;

  g_hash_table_insert (s->replayed, g_strdup (hex),
                       data != NULL ? g_bytes_new (data, len) : NULL);
}

/* A replayed record may hold a password: wiped before it is freed. */
static void
secret_bytes_free (gpointer bytes)
{
  gsize len;
  gpointer data;

  if (bytes == NULL)
    return;
  data = (gpointer) g_bytes_get_data (bytes, &len);   /* our own copy */
  explicit_bzero (data, len);
  g_bytes_unref (bytes);
}

QmgrStore *
qmgr_store_open (const char *state_dir, GError **error)
{
  g_autoptr(QmgrStore) s = g_new0 (QmgrStore, 1);

  s->state_fd = s->groups_fd = -1;
  s->dirty = g_hash_table_new (g_direct_hash, g_direct_equal);
  s->replayed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       secret_bytes_free);
  s->state_dir = g_strdup (state_dir);
  s->groups_dir = g_build_filename (state_dir, "groups", NULL);
  s->state_fd = open_dir (s->state_dir, error);
  if (s->state_fd < 0)
    return NULL;
  s->groups_fd = open_dir (s->groups_dir, error);
  if (s->groups_fd < 0)
    return NULL;
  s->journal = qmgr_journal_open (s->groups_fd, s->groups_dir, on_replay, s, error);
  if (s->journal == NULL)
    return NULL;
  return g_steal_pointer (&s);
}

void
qmgr_store_free (QmgrStore *s)
{
  if (s == NULL)
    return;
  if (g_hash_table_size (s->dirty) > 0)
    g_message ("%u groups were not written before the store was closed",
               g_hash_table_size (s->dirty));
  if (s->flush_source != 0)
    g_source_remove (s->flush_source);
  if (s->compact_source != 0)
    g_source_remove (s->compact_source);
  g_hash_table_unref (s->dirty);
  g_clear_pointer (&s->replayed, g_hash_table_unref);
  qmgr_journal_free (s->journal);
  if (s->state_fd >= 0)
    close (s->state_fd);
  if (s->groups_fd >= 0)
    close (s->groups_fd);
  g_free (s->state_dir);
  g_free (s->groups_dir);
  g_free (s);
}

/* ---- saving: records in the journal, made durable one batch at a time ---- */

static gboolean
on_compact_due (gpointer user_data)
{
  QmgrStore *s = user_data;

  s->compact_source = 0;
  if (!qmgr_journal_needs_sync (s->journal))
    qmgr_journal_compact (s->journal, TRUE);
  else
    s->compact_source = g_timeout_add_seconds (COMPACT_AFTER_S, on_compact_due, s);
  return G_SOURCE_REMOVE;
}

/* Makes what was appended durable. */
static gboolean
store_sync (QmgrStore *s, GError **error)
{
  if (!qmgr_journal_sync (s->journal, error))
    return FALSE;
  if (qmgr_journal_size (s->journal) >= COMPACT_SIZE)
    qmgr_journal_compact (s->journal, TRUE);
  return TRUE;
}

static gboolean
append_group (QmgrStore *s, QmgrGroup *group, gboolean hold, GError **error)
{
  char hex[QMGR_GUID_HEX_LEN + 1];
  gsize len;
  g_autofree char *contents = qmgr_store_group_to_data (group, &len);
  gboolean ok;

  qmgr_guid_to_hex (group->id, hex);
  ok = qmgr_journal_append (s->journal, hex, contents, len, hold, error);
  explicit_bzero (contents, len);   /* it may hold a password */
  if (ok)
    {
      g_hash_table_remove (s->dirty, group);
      if (s->compact_source == 0)
        s->compact_source = g_timeout_add_seconds (COMPACT_AFTER_S, on_compact_due, s);
    }
  return ok;
}

static gboolean
store_save_group (gpointer data, QmgrGroup *group, const QmgrGroupDelta *delta, GError **error)
{
  QmgrStore *s = data;

  if (!append_group (s, group, s->batch_depth > 0, error))
    return FALSE;
  return s->batch_depth > 0 || store_sync (s, error);
}

/* Appends the groups saved "soon" (not synced). On a failure the group stays
 * dirty, for the next flush, and the rest wait with it. */
static gboolean
append_dirty (QmgrStore *s, GError **error)
{
  GHashTableIter iter;
  gpointer group;

  g_hash_table_iter_init (&iter, s->dirty);
  while (g_hash_table_iter_next (&iter, &group, NULL))
    {
      g_hash_table_iter_steal (&iter);
      if (!append_group (s, group, TRUE, error))
        {
          g_prefix_error (error, "Could not save group %s: ", ((QmgrGroup *) group)->id_str);
          g_hash_table_add (s->dirty, group);
          return FALSE;
        }
      g_hash_table_iter_init (&iter, s->dirty);
    }
  return TRUE;
}

void
qmgr_store_flush (QmgrStore *s)
{
  g_autoptr(GError) error = NULL;

  if (s->flush_source != 0)
    {
      g_source_remove (s->flush_source);
      s->flush_source = 0;
    }
  if (!append_dirty (s, &error))
    {
      g_warning ("%s", error->message);
      g_clear_error (&error);
    }
  if (s->batch_depth == 0 && !store_sync (s, &error))
    g_warning ("Could not save groups: %s", error->message);
}

static gboolean
on_flush_due (gpointer user_data)
{
  QmgrStore *s = user_data;

  s->flush_source = 0;
  qmgr_store_flush (s);
  if (g_hash_table_size (s->dirty) > 0 && s->flush_source == 0)
    s->flush_source = g_timeout_add_seconds (5, on_flush_due, s);   /* a failing disk */
  return G_SOURCE_REMOVE;
}

static void
store_save_group_soon (gpointer data, QmgrGroup *group, const QmgrGroupDelta *delta)
{
  QmgrStore *s = data;

  g_hash_table_add (s->dirty, group);
  if (s->flush_source == 0)
    s->flush_source = g_timeout_add (FLUSH_DELAY_MS, on_flush_due, s);
}

static gboolean
store_delete_group (gpointer data, QmgrGroup *group, GError **error)
{
  QmgrStore *s = data;
  char hex[QMGR_GUID_HEX_LEN + 1];

  qmgr_guid_to_hex (group->id, hex);
  if (!qmgr_journal_append (s->journal, hex, NULL, 0, s->batch_depth > 0, error))
    return FALSE;
  g_hash_table_remove (s->dirty, group);
  return s->batch_depth > 0 || store_sync (s, error);
}

static void
store_begin_batch (gpointer data)
{
  QmgrStore *s = data;
  s->batch_depth++;
}

static gboolean
store_end_batch (gpointer data, GError **error)
{
  QmgrStore *s = data;

  g_return_val_if_fail (s->batch_depth > 0, FALSE);
  if (--s->batch_depth > 0)
    return TRUE;
  return store_sync (s, error);
}

/* Everything saved so far, "soon" included, durable now. */
static gboolean
store_sync_hook (gpointer data, GError **error)
{
  QmgrStore *s = data;

  if (!append_dirty (s, error))
    return FALSE;   /* the flush timer, if any, tries again */
  if (s->flush_source != 0)
    {
      g_source_remove (s->flush_source);
      s->flush_source = 0;
    }
  return store_sync (s, error);
}

void
qmgr_store_compact (QmgrStore *s)
{
  g_autoptr(GError) error = NULL;

  qmgr_store_flush (s);
  qmgr_journal_wait_compaction (s->journal);
  qmgr_journal_compact (s->journal, TRUE);
  if (!qmgr_journal_wait_compaction (s->journal))
    g_warning ("Could not fold the journal into the group files");
}

static gboolean
store_save_settings (gpointer data, QmgrManager *m, GError **error)
{
  QmgrStore *s = data;
  gsize len;
  g_autofree char *contents = qmgr_store_settings_to_data (m, &len);

  return qmgr_store_write_file (s->state_fd, s->state_dir, SETTINGS_FILE, contents, len, error);
}

static const QmgrStoreHooks store_hooks = {
  .save_group = store_save_group,
  .delete_group = store_delete_group,
  .save_settings = store_save_settings,
  .save_group_soon = store_save_group_soon,
  .begin_batch = store_begin_batch,
  .end_batch = store_end_batch,
  .sync = store_sync_hook,
};

const QmgrStoreHooks *
qmgr_store_hooks (void)
{
  return &store_hooks;
}

/* ---- loading ---- */

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

/* A group file: a regular file (not a symlink, not a FIFO: loading must never
 * block) no bigger than the quotas allow the writer to make it. */
static QmgrGroup *
load_group_file (QmgrStore *s, QmgrManager *m, const char *name, gboolean *legacy,
                 GError **error)
{
  guint64 max = qmgr_store_group_file_max (m->settings.max_files_per_job);
  g_autofree char *contents = NULL;
  gsize len;
  QmgrGroup *g;

  contents = qmgr_store_read_file (s->groups_fd, s->groups_dir, name, max, &len, error);
  if (contents == NULL)
    return NULL;
  g = group_from_data (m, name, contents, len, legacy, error);
  explicit_bzero (contents, len);
  return g;
}

/* A group the journal holds but that cannot be loaded: its record goes to
 * <hex>.group.broken beside the others, and the group out of the journal. */
static void
set_aside_record (QmgrStore *s, const char *hex, GBytes *data, const GError *why)
{
  g_autofree char *broken = g_strconcat (hex, GROUP_SUFFIX ".broken", NULL);
  g_autofree char *path = g_build_filename (s->groups_dir, broken, NULL);
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *contents = g_bytes_get_data (data, &len);

  if (!qmgr_store_write_file (s->groups_fd, s->groups_dir, broken, contents, len, &error) ||
      !qmgr_journal_append (s->journal, hex, NULL, 0, FALSE, &error) ||
      !qmgr_journal_sync (s->journal, &error))
    g_warning ("The journal's record of group %s is damaged (%s) and could not be set aside: %s",
               hex, why->message, error->message);
  else
    g_warning ("The journal's record of group %s is damaged (%s); saved as %s", hex,
               why->message, path);
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
  GBytes *record;             /* from the journal; NULL: from its file */
  gboolean legacy;            /* written by version 1: to be written again */
} Loaded;

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
  if (l->record != NULL)
    set_aside_record (s, hex, l->record, why);
  else
    {
      g_autofree char *name = g_strconcat (hex, GROUP_SUFFIX, NULL);
      set_aside (s, name, why);
    }
}

gboolean
qmgr_store_load (QmgrStore *s, QmgrManager *m, GError **error)
{
  int fd = dup (s->groups_fd);
  DIR *dir;
  struct dirent *de;
  g_autoptr(GArray) loaded = g_array_new (FALSE, FALSE, sizeof (Loaded));
  GHashTableIter iter;
  gpointer key, value;

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
      /* The journal holds a newer version (or the deletion): the file waits
       * for the journal to be folded into it. */
      if (strlen (de->d_name) == QMGR_GUID_HEX_LEN + strlen (GROUP_SUFFIX))
        {
          g_autofree char *hex = g_strndup (de->d_name, QMGR_GUID_HEX_LEN);
          if (g_hash_table_contains (s->replayed, hex))
            continue;
        }
      l.group = load_group_file (s, m, de->d_name, &l.legacy, &local);
      if (l.group == NULL)
        set_aside (s, de->d_name, local);
      else
        g_array_append_val (loaded, l);
    }
  closedir (dir);

  g_hash_table_iter_init (&iter, s->replayed);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autoptr(GError) local = NULL;
      Loaded l = { NULL, value, FALSE };
      gsize len;
      const char *data;

      if (value == NULL)
        continue;       /* deleted */
      data = g_bytes_get_data (value, &len);
      l.group = group_from_data (m, key, data, len, &l.legacy, &local);
      if (l.group == NULL)
        set_aside_record (s, key, value, local);
      else
        g_array_append_val (loaded, l);
    }

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
      else if (l->legacy)
        store_save_group_soon (s, l->group, NULL);   /* in today's format, with its end marker */
    }
  g_hash_table_remove_all (s->replayed);
  load_settings (s, m);
  /* The journals found are folded into the group files in the background. */
  qmgr_journal_compact (s->journal, FALSE);
  return TRUE;
}
