/* qmgrd store — durable groups and settings: the directories, the journal's
 * records (a group's changes merged until written: whole, or the part that
 * changed), saves now and "soon", batches. Loading is store-load.c's, the
 * text of the files store-format.c's. The store never holds
 * partial downloads: the temp file on disk is the truth for bytes received.
 * Passwords live in the group files and the journal, which like the directory
 * are readable by their owner only, and are wiped from memory once written. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qmgr-error.h"
#include "qmgr-io.h"
#include "store-file.h"
#include "store-format.h"
#include "store-private.h"

#define FLUSH_DELAY_MS 200
/* The journal is folded away (in a thread: journal.h) once it is this big, or
 * this long after its first record. */
#define COMPACT_SIZE (G_GUINT64_CONSTANT (32) << 20)
#define COMPACT_AFTER_S 30
/* ... or this soon after the fold that was running then has ended: the last
 * records of a burst are not left for the next change to bring their fold. */
#define COMPACT_RETRY_S 1

/* What a group's next record must hold: the saves since its last, merged. */
typedef struct {
  gboolean whole;             /* the job came or went, or all is asked for */
  guint first_new;            /* files appended from here on (G_MAXUINT: none) */
  GArray *changed;            /* guint: files changed in place (may repeat) */
} Changes;

static Changes *
changes_new (void)
{
  Changes *c = g_new0 (Changes, 1);

  c->first_new = G_MAXUINT;
  return c;
}

static void
changes_free (gpointer data)
{
  Changes *c = data;

  if (c->changed != NULL)
    g_array_unref (c->changed);
  g_free (c);
}

static void
changes_add (Changes *c, const QmgrGroupDelta *delta)
{
  if (delta == NULL || delta->job_replaced)
    {
      c->whole = TRUE;
      return;
    }
  c->first_new = MIN (c->first_new, delta->first_new_file);
  if (delta->changed_files == NULL || delta->changed_files->len == 0)
    return;
  if (c->changed == NULL)
    c->changed = g_array_new (FALSE, FALSE, sizeof (guint));
  g_array_append_vals (c->changed, delta->changed_files->data, delta->changed_files->len);
}

static Changes *
changes_copy (const Changes *c)
{
  Changes *copy = changes_new ();

  copy->whole = c->whole;
  copy->first_new = c->first_new;
  if (c->changed != NULL)
    copy->changed = g_array_copy (c->changed);
  return copy;
}

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

QmgrStore *
qmgr_store_open (const char *state_dir, GError **error)
{
  g_autoptr(QmgrStore) s = g_new0 (QmgrStore, 1);

  s->state_fd = s->groups_fd = -1;
  s->dirty = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, changes_free);
  s->state_dir = g_strdup (state_dir);
  s->groups_dir = g_build_filename (state_dir, "groups", NULL);
  s->state_fd = open_dir (s->state_dir, error);
  if (s->state_fd < 0)
    return NULL;
  s->groups_fd = open_dir (s->groups_dir, error);
  if (s->groups_fd < 0)
    return NULL;
  s->journal = qmgr_journal_open (s->groups_fd, s->groups_dir, &s->replay, error);
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
  g_clear_pointer (&s->replay, qmgr_journal_replay_free);
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

static gboolean on_compact_due (gpointer user_data);

/* Folds in @seconds, or sooner if a fold is due sooner already; @now: drop a
 * later one. */
static void
schedule_compact (QmgrStore *s, guint seconds, gboolean now)
{
  if (s->compact_source != 0 && !now)
    return;
  if (s->compact_source != 0)
    g_source_remove (s->compact_source);
  s->compact_source = g_timeout_add_seconds (seconds, on_compact_due, s);
}

static gboolean
on_compact_due (gpointer user_data)
{
  QmgrStore *s = user_data;

  s->compact_source = 0;
  if (qmgr_journal_needs_sync (s->journal))
    schedule_compact (s, COMPACT_AFTER_S, FALSE);
  else if (!qmgr_journal_compact (s->journal, TRUE))
    schedule_compact (s, COMPACT_RETRY_S, FALSE);   /* after the fold that runs */
  return G_SOURCE_REMOVE;
}

/* Makes what was appended durable. */
static gboolean
store_sync (QmgrStore *s, GError **error)
{
  if (!qmgr_journal_sync (s->journal, error))
    return FALSE;
  if (qmgr_journal_size (s->journal) >= COMPACT_SIZE &&
      !qmgr_journal_compact (s->journal, TRUE))
    schedule_compact (s, COMPACT_RETRY_S, TRUE);
  return TRUE;
}

static gint
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;
  return x < y ? -1 : x > y;
}

/* The files @c names, in order, once each: those changed in place, then those
 * appended. */
static GArray *
changed_files (QmgrGroup *group, const Changes *c)
{
  guint n_files = group->job != NULL ? group->job->files->len : 0;
  GArray *files = g_array_new (FALSE, FALSE, sizeof (guint));

  if (c->changed != NULL)
    {
      g_array_sort (c->changed, compare_uint);
      for (guint i = 0; i < c->changed->len; i++)
        {
          guint index = g_array_index (c->changed, guint, i);
          if (index < MIN (n_files, c->first_new) &&
              (files->len == 0 || g_array_index (files, guint, files->len - 1) != index))
            g_array_append_val (files, index);
        }
    }
  for (guint i = c->first_new; i < n_files; i++)
    g_array_append_val (files, i);
  return files;
}

/* The record for @c: the group's header and the files that changed (a part),
 * or all of it when the job came or went or every file changed. */
static char *
record_text (QmgrGroup *group, const Changes *c, char *op, gsize *len)
{
  g_autoptr(GArray) files = NULL;

  if (!c->whole)
    {
      files = changed_files (group, c);
      if (group->job == NULL || files->len < group->job->files->len)
        {
          *op = QMGR_JOURNAL_PART;
          return qmgr_store_group_part_to_data (group, (const guint *) files->data, files->len,
                                                len);
        }
    }
  *op = QMGR_JOURNAL_WHOLE;
  return qmgr_store_group_to_data (group, len);
}

/* Appends the record of @c to the journal (held back with @hold). */
static gboolean
append_changes (QmgrStore *s, QmgrGroup *group, const Changes *c, gboolean hold,
                GError **error)
{
  char hex[QMGR_GUID_HEX_LEN + 1];
  gsize len;
  char op;
  g_autofree char *contents = record_text (group, c, &op, &len);
  gboolean ok;

  qmgr_guid_to_hex (group->id, hex);
  ok = qmgr_journal_append (s->journal, hex, op, contents, len, hold, error);
  explicit_bzero (contents, len);   /* it may hold a password */
  if (ok)
    schedule_compact (s, COMPACT_AFTER_S, FALSE);
  return ok;
}

/* Saves @delta of @group, with what waits to be saved of it "soon". */
static gboolean
store_save_group (gpointer data, QmgrGroup *group, const QmgrGroupDelta *delta, GError **error)
{
  QmgrStore *s = data;
  Changes *waiting = g_hash_table_lookup (s->dirty, group);
  Changes *c = waiting != NULL ? changes_copy (waiting) : changes_new ();
  gboolean ok;

  changes_add (c, delta);
  ok = append_changes (s, group, c, s->batch_depth > 0, error);
  changes_free (c);
  if (!ok)
    return FALSE;
  g_hash_table_remove (s->dirty, group);
  return s->batch_depth > 0 || store_sync (s, error);
}

/* Appends the groups saved "soon" (not synced). On a failure the group stays
 * dirty, for the next flush, and the rest wait with it. */
static gboolean
append_dirty (QmgrStore *s, GError **error)
{
  GHashTableIter iter;
  gpointer group, c;

  g_hash_table_iter_init (&iter, s->dirty);
  while (g_hash_table_iter_next (&iter, &group, &c))
    {
      if (!append_changes (s, group, c, TRUE, error))
        {
          g_prefix_error (error, "Could not save group %s: ", ((QmgrGroup *) group)->id_str);
          return FALSE;
        }
      g_hash_table_iter_remove (&iter);
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

void
store_save_group_soon (gpointer data, QmgrGroup *group, const QmgrGroupDelta *delta)
{
  QmgrStore *s = data;
  Changes *c = g_hash_table_lookup (s->dirty, group);

  if (c == NULL)
    {
      c = changes_new ();
      g_hash_table_insert (s->dirty, group, c);
    }
  changes_add (c, delta);
  if (s->flush_source == 0)
    s->flush_source = g_timeout_add (FLUSH_DELAY_MS, on_flush_due, s);
}

static gboolean
store_delete_group (gpointer data, QmgrGroup *group, GError **error)
{
  QmgrStore *s = data;
  char hex[QMGR_GUID_HEX_LEN + 1];

  qmgr_guid_to_hex (group->id, hex);
  if (!qmgr_journal_append (s->journal, hex, QMGR_JOURNAL_DELETE, NULL, 0, s->batch_depth > 0,
                            error))
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

void
qmgr_store_set_fold_hook (QmgrStore *s, void (*hook) (const char *step, gpointer data),
                          gpointer data)
{
  qmgr_journal_set_fold_hook (s->journal, hook, data);
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

