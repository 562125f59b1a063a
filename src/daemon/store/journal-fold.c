/* qmgrd store journal — folding closed journals away, in a thread of its own
 * that touches files only, never the model; the rule is journal.h's. Each
 * group the journals name either gets its whole text written anew (its latest
 * whole record, or its file with its parts file's records and the journals'
 * parts put in: store-overlay.h), or gets the part the journals make of its
 * changes appended to its parts file. Then one syncfs (or, when it wrote few
 * files, an fdatasync of each), the renames, one directory fsync; then the
 * parts files of the groups written anew are removed
 * (another directory fsync: the journals still hold what they held), and
 * last the journals — or, when damaged, they are set aside as
 * journal.<n>.broken. */
#include "journal-private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "qmgr-error.h"
#include "qmgr-io.h"
#include "qmgr-guid.h"
#include "qmgr-log.h"
#include "store-file.h"

/* A group file under this size is written anew rather than carried for: it
 * costs what a change may cost (TARGETS.md B10: 64 KiB for a SetProp). */
#define SMALL_FILE (64 << 10)
/* Parts are carried while the parts file stays under 1/CARRY_SHARE of the
 * group file: writing the file anew then costs at most CARRY_SHARE times the
 * parts that made it due. */
#define CARRY_SHARE 4

/* A fold that wrote up to this many files syncs each (fdatasync) rather than
 * the whole file system: a small change is not made to flush what the rest
 * of the system wrote, nor to write again the metadata blocks syncfs cleans
 * (a SetProp's fold wrote 30 KB of them, twice what it wrote itself). */
#define FEW_FILES 16

/* One fold's work in progress. */
typedef struct {
  QmgrJournal *j;
  GPtrArray *renames;         /* group files written aside (<hex>.group) */
  GPtrArray *resolved;        /* hex of groups whose parts file is now redundant */
  GHashTable *appended;       /* hex → guint64*: parts files appended to, their new size */
  gboolean created;           /* a parts file among them is new */
  gboolean skipped;           /* a group could not be put together */
} Fold;

static void
hook (QmgrJournal *j, const char *step)
{
  if (j->fold_hook != NULL)
    j->fold_hook (step, j->fold_hook_data);
}

gboolean
journal_set_aside (int dir_fd, const char *name, GError **error)
{
  /* A damaged journal goes to journal.<n>.broken, or .broken.<k> when that is
   * taken: journal numbers start again once all are folded. */
  for (guint k = 0; k < 1000; k++)
    {
      g_autofree char *broken = k == 0 ? g_strconcat (name, ".broken", NULL)
                                       : g_strdup_printf ("%s.broken.%u", name, k);

      if (renameat2 (dir_fd, name, dir_fd, broken, RENAME_NOREPLACE) == 0)
        return TRUE;
      if (errno == ENOENT)
        return TRUE;      /* nothing to set aside */
      if (errno != EEXIST)
        return qmgr_io_set_error (error, errno, "set aside", name);
    }
  return qmgr_io_set_error (error, EEXIST, "set aside", name);
}

/* Writes every piece (QmgrStoreText), IOV_MAX at a time. Returns 0 or the errno. */
static int
write_pieces (int fd, GArray *pieces)
{
  struct iovec iov[IOV_MAX];
  guint i = 0;
  gsize skip = 0;   /* of piece i, written already */

  for (;;)
    {
      int n = 0;
      ssize_t w;

      while (i < pieces->len && g_array_index (pieces, QmgrStoreText, i).len == skip)
        {
          i++;    /* written, or empty */
          skip = 0;
        }
      if (i == pieces->len)
        return 0;

      for (guint k = i; k < pieces->len && n < IOV_MAX; k++, n++)
        {
          QmgrStoreText *t = &g_array_index (pieces, QmgrStoreText, k);
          gsize from = k == i ? skip : 0;

          iov[n] = (struct iovec) { (void *) (t->data + from), t->len - from };
        }
      w = writev (fd, iov, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return w < 0 ? errno : EIO;
      /* Past the pieces written whole. */
      while (w > 0 && i < pieces->len)
        {
          gsize left = g_array_index (pieces, QmgrStoreText, i).len - skip;

          if ((gsize) w < left)
            {
              skip += (gsize) w;
              w = 0;
            }
          else
            {
              w -= (ssize_t) left;
              i++;
              skip = 0;
            }
        }
    }
}

/* The pieces of group @hex's new text; the base read from its file, when the
 * overlay builds on it, is returned in *@file_text. */
static gboolean
group_pieces (QmgrJournal *j, const char *name, const QmgrStoreOverlay *ov, GArray *pieces,
              char *end, char **file_text, gsize *file_len, GError **error)
{
  const char *base = ov->whole.data;
  gsize base_len = ov->whole.len;

  if (!qmgr_store_overlay_has_parts (ov))
    {
      g_array_append_val (pieces, ov->whole);
      return TRUE;
    }
  if (qmgr_store_overlay_needs_file (ov))
    {
      *file_text = qmgr_store_read_file (j->dir_fd, j->dir_path, name, j->file_max, file_len,
                                         error);
      if (*file_text == NULL)
        return FALSE;
      base = *file_text;
      base_len = *file_len;
    }
  return qmgr_store_overlay_pieces (ov, base, base_len, pieces, end, error);
}

/* ---- carrying parts ---- */

/* Whether group @hex's parts (the record @len bytes of @pieces) are carried
 * rather than folded into its file: they and its parts file must stay under
 * a CARRY_SHARE-th of a file that is not small. A parts file found changed
 * behind the fold's back is marked damaged: never appended to again. */
static gboolean
worth_carrying (QmgrJournal *j, const char *hex, const QmgrStoreOverlay *ov, gsize len)
{
  g_autofree char *name = g_strconcat (hex, ".group", NULL);
  g_autofree char *parts = g_strconcat (hex, PARTS_SUFFIX, NULL);
  JournalParts *info = g_hash_table_lookup (j->parts, hex);
  guint64 carried = 0;
  struct stat st;

  if (!qmgr_store_overlay_needs_file (ov) || !qmgr_store_overlay_has_parts (ov))
    return FALSE;     /* a whole record: its file is written from it */
  if (info != NULL)
    {
      if (!info->damaged &&
          (fstatat (j->dir_fd, parts, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode) ||
           (guint64) st.st_size < info->size))
        {
          char id[QMGR_GUID_STRING_LEN + 1];

          qmgr_guid_hex_to_string (hex, id);
          qmgr_log (G_LOG_LEVEL_WARNING, id, NULL,
                    "The parts file %s in %s changed while qmgrd used it; group %s is "
                    "written whole and the file kept as %s.broken", parts, j->dir_path, hex,
                    parts);
          info->damaged = TRUE;
        }
      if (info->damaged)
        return FALSE;
      carried = info->size;
    }
  if (fstatat (j->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode))
    return FALSE;     /* folding it says why */
  return st.st_size >= SMALL_FILE && CARRY_SHARE * (carried + len) < (guint64) st.st_size;
}

/* Appends the record of @pieces (@len bytes) to group @hex's parts file,
 * after its intact records: whatever an append that failed or was cut short
 * left after them is cut off first. */
static gboolean
carry (Fold *f, const char *hex, GArray *pieces, gsize len, GError **error)
{
  QmgrJournal *j = f->j;
  g_autofree char *name = g_strconcat (hex, PARTS_SUFFIX, NULL);
  g_autoptr(GArray) record = g_array_new (FALSE, FALSE, sizeof (QmgrStoreText));
  JournalParts *info = g_hash_table_lookup (j->parts, hex);
  guint64 at = info != NULL ? info->size : 0, *size;
  char header[MAX_HEADER];
  struct stat st;
  int n, fd, err = 0;

  n = journal_record_header (header, QMGR_JOURNAL_PART, hex, len,
                             journal_pieces_crc (QMGR_JOURNAL_PART, hex, pieces));
  g_array_append_val (record, ((QmgrStoreText) { header, (gsize) n }));
  g_array_append_vals (record, pieces->data, pieces->len);
  g_array_append_val (record, ((QmgrStoreText) { "\n", 1 }));

  fd = qmgr_io_open_at (j->dir_fd, name, O_WRONLY | O_CREAT | O_NONBLOCK | O_NOCTTY, 0600);
  if (fd < 0)
    return qmgr_io_set_error (error, errno, "create", name);
  f->created |= info == NULL;
  if (fstat (fd, &st) < 0)
    err = errno;
  else if (!S_ISREG (st.st_mode))
    err = EINVAL;
  else if (((guint64) st.st_size != at && ftruncate (fd, (off_t) at) < 0) ||
           lseek (fd, (off_t) at, SEEK_SET) < 0)
    err = errno;
  else if ((err = write_pieces (fd, record)) != 0 && ftruncate (fd, (off_t) at) < 0)
    g_debug ("Could not take back a partial record in %s: %s", name, g_strerror (errno));
  close (fd);
  if (err != 0)
    return qmgr_io_set_error (error, err, "append to", name);
  size = g_new (guint64, 1);
  *size = at + (guint64) n + len + 1;
  g_hash_table_insert (f->appended, g_strdup (hex), size);
  return TRUE;
}

/* ---- writing group files ---- */

/* Maps group @hex's parts file into @carried and puts @ov over what it holds:
 * the group's changes since its file was written. Returns @ov itself when there
 * is no parts file, or none that reads (it was said at start-up). */
static const QmgrStoreOverlay *
with_parts_file (QmgrJournal *j, const char *hex, const QmgrStoreOverlay *ov, Mapped *m,
                 GHashTable *carried)
{
  g_autofree char *name = g_strconcat (hex, PARTS_SUFFIX, NULL);
  QmgrStoreOverlay *under;

  if (!qmgr_store_overlay_needs_file (ov) || !g_hash_table_contains (j->parts, hex) ||
      !journal_map_file (j->dir_fd, j->dir_path, name, hex, m, carried, TRUE, NULL))
    return ov;
  under = g_hash_table_lookup (carried, hex);
  if (under == NULL)
    return ov;
  qmgr_store_overlay_put_over (under, ov);
  return under;
}

/* Writes <hex>.group.tmp for the overlay; marks the fold skipped when the text
 * cannot be put together (its file changed since loading, or a bug: the
 * journals are then kept aside). */
static gboolean
write_group (Fold *f, const char *hex, const QmgrStoreOverlay *ov, GError **error)
{
  QmgrJournal *j = f->j;
  g_autofree char *name = g_strconcat (hex, ".group", NULL);
  g_autofree char *tmp = g_strconcat (name, ".tmp", NULL);
  g_autoptr(GArray) pieces = g_array_new (FALSE, FALSE, sizeof (QmgrStoreText));
  g_autoptr(GHashTable) carried = qmgr_store_overlays_new ();
  g_autoptr(GError) local = NULL;
  g_autofree char *file_text = NULL;
  Mapped parts_map = { NULL, NULL, 0, 0, FALSE };
  gsize file_len = 0;
  char end[QMGR_STORE_END_LEN];
  int fd = -1, err = 0;

  ov = with_parts_file (j, hex, ov, &parts_map, carried);
  if (!group_pieces (j, name, ov, pieces, end, &file_text, &file_len, &local))
    {
      char id[QMGR_GUID_STRING_LEN + 1];

      qmgr_guid_hex_to_string (hex, id);
      qmgr_log (G_LOG_LEVEL_WARNING, id, NULL,
                "Group %s cannot be folded into its file (%s); the journals are kept as "
                "journal.<n>.broken in %s", hex, local->message, j->dir_path);
      f->skipped = TRUE;
    }
  else
    {
      fd = qmgr_io_open_at (j->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      err = fd < 0 ? errno : write_pieces (fd, pieces);
      if (fd >= 0)
        close (fd);
    }
  if (file_text != NULL)
    explicit_bzero (file_text, file_len);   /* a password */
  g_clear_pointer (&carried, g_hash_table_unref);   /* points into the map */
  journal_map_clear (&parts_map);
  if (err != 0)
    return qmgr_io_set_error (error, err, fd < 0 ? "create" : "write", tmp);
  if (local == NULL)
    {
      g_ptr_array_add (f->renames, g_steal_pointer (&name));
      if (g_hash_table_contains (j->parts, hex))
        g_ptr_array_add (f->resolved, g_strdup (hex));
    }
  return TRUE;
}

/* Folds group @hex: carries its parts, or writes its file anew, or removes it. */
static gboolean
fold_group (Fold *f, const char *hex, const QmgrStoreOverlay *ov, GError **error)
{
  QmgrJournal *j = f->j;
  g_autoptr(GArray) pieces = g_array_new (FALSE, FALSE, sizeof (QmgrStoreText));
  gsize len = 0;

  if (ov->deleted)
    {
      g_autofree char *name = g_strconcat (hex, ".group", NULL);

      if (unlinkat (j->dir_fd, name, 0) < 0 && errno != ENOENT)
        return qmgr_io_set_error (error, errno, "remove", name);
      if (g_hash_table_contains (j->parts, hex))
        g_ptr_array_add (f->resolved, g_strdup (hex));
      return TRUE;
    }
  if (qmgr_store_overlay_has_parts (ov) && qmgr_store_overlay_part_pieces (ov, pieces))
    for (guint i = 0; i < pieces->len; i++)
      len += g_array_index (pieces, QmgrStoreText, i).len;
  if (len > 0 && worth_carrying (j, hex, ov, len))
    return carry (f, hex, pieces, len, error);
  return write_group (f, hex, ov, error);
}

/* ---- the steps ---- */

static gboolean
sync_file (QmgrJournal *j, const char *name, GError **error)
{
  int fd = qmgr_io_open_at (j->dir_fd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
  int err = fd < 0 || fdatasync (fd) < 0 ? errno : 0;

  if (fd >= 0)
    close (fd);
  return err == 0 || qmgr_io_set_error (error, err, "sync", name);
}

/* Syncs each file written: the group files aside, the parts files appended
 * to, and the directory if a parts file is new. */
static gboolean
sync_each (Fold *f, GError **error)
{
  QmgrJournal *j = f->j;
  GHashTableIter iter;
  gpointer hex;

  for (guint i = 0; i < f->renames->len; i++)
    {
      g_autofree char *tmp = g_strconcat (g_ptr_array_index (f->renames, i), ".tmp", NULL);
      if (!sync_file (j, tmp, error))
        return FALSE;
    }
  g_hash_table_iter_init (&iter, f->appended);
  while (g_hash_table_iter_next (&iter, &hex, NULL))
    {
      g_autofree char *name = g_strconcat (hex, PARTS_SUFFIX, NULL);
      if (!sync_file (j, name, error))
        return FALSE;
    }
  if (f->created && fsync (j->dir_fd) < 0)
    return qmgr_io_set_error (error, errno, "sync", j->dir_path);
  return TRUE;
}

/* Makes what was written aside durable, and then the appended parts count. */
static gboolean
sync_written (Fold *f, GError **error)
{
  QmgrJournal *j = f->j;
  GHashTableIter iter;
  gpointer hex, size;

  if (f->renames->len + g_hash_table_size (f->appended) <= FEW_FILES)
    {
      if (!sync_each (f, error))
        return FALSE;
    }
  else if (syncfs (j->dir_fd) < 0)
    return qmgr_io_set_error (error, errno, "sync the file system of", j->dir_path);
  g_hash_table_iter_init (&iter, f->appended);
  while (g_hash_table_iter_next (&iter, &hex, &size))
    {
      JournalParts *info = g_hash_table_lookup (j->parts, hex);

      if (info == NULL)
        {
          info = g_new0 (JournalParts, 1);
          g_hash_table_insert (j->parts, g_strdup (hex), info);
        }
      info->size = *(guint64 *) size;
    }
  return TRUE;
}

/* Renames the new group files into place, durably. */
static gboolean
rename_all (QmgrJournal *j, GPtrArray *renames, GError **error)
{
  for (guint i = 0; i < renames->len; i++)
    {
      const char *name = g_ptr_array_index (renames, i);
      g_autofree char *tmp = g_strconcat (name, ".tmp", NULL);
      if (renameat (j->dir_fd, tmp, j->dir_fd, name) < 0)
        return qmgr_io_set_error (error, errno, "rename into place", name);
    }
  if (renames->len > 0 && fsync (j->dir_fd) < 0)
    return qmgr_io_set_error (error, errno, "sync", j->dir_path);
  return TRUE;
}

/* Removes the parts files that the new group files hold (a damaged one is
 * set aside), durably: only then may the journals go. */
static gboolean
remove_parts (QmgrJournal *j, GPtrArray *resolved, GError **error)
{
  for (guint i = 0; i < resolved->len; i++)
    {
      const char *hex = g_ptr_array_index (resolved, i);
      g_autofree char *name = g_strconcat (hex, PARTS_SUFFIX, NULL);
      JournalParts *info = g_hash_table_lookup (j->parts, hex);

      if (info != NULL && info->damaged)
        {
          if (!journal_set_aside (j->dir_fd, name, error))
            return FALSE;
        }
      else if (unlinkat (j->dir_fd, name, 0) < 0 && errno != ENOENT)
        return qmgr_io_set_error (error, errno, "remove", name);
      g_hash_table_remove (j->parts, hex);
    }
  if (resolved->len > 0 && fsync (j->dir_fd) < 0)
    return qmgr_io_set_error (error, errno, "sync", j->dir_path);
  return TRUE;
}

/* Removes the journals folded (a damaged one is set aside), durably. */
static gboolean
remove_journals (QmgrJournal *j, QmgrJournalReplay *replay, gboolean skipped, GError **error)
{
  for (guint i = 0; i < j->compacting->len; i++)
    {
      g_autofree char *name = journal_name (g_array_index (j->compacting, guint64, i));

      if (skipped || journal_replay_damaged (replay, i))
        {
          if (!journal_set_aside (j->dir_fd, name, error))
            return FALSE;
        }
      else if (unlinkat (j->dir_fd, name, 0) < 0 && errno != ENOENT)
        return qmgr_io_set_error (error, errno, "remove", name);
    }
  if (fsync (j->dir_fd) < 0)
    return qmgr_io_set_error (error, errno, "sync", j->dir_path);
  return TRUE;
}

static gboolean
fold (QmgrJournal *j, GError **error)
{
  g_autoptr(GPtrArray) renames = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) resolved = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) appended = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                          g_free);
  g_autoptr(QmgrJournalReplay) replay = NULL;
  Fold f = { j, renames, resolved, appended, FALSE, FALSE };
  GHashTableIter iter;
  gpointer key, value;
  gboolean ok = TRUE;

  replay = journal_replay (j->dir_fd, j->dir_path, j->compacting, NULL, TRUE, error);
  if (replay == NULL)
    return FALSE;
  hook (j, "replayed");

  /* Every new group file is written aside and every part carried, then all
   * are made durable at once. */
  g_hash_table_iter_init (&iter, qmgr_journal_replay_groups (replay));
  while (ok && g_hash_table_iter_next (&iter, &key, &value))
    {
      if (g_atomic_int_get (&j->compact_stop))
        {
          g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "stopped");
          return FALSE;
        }
      if (g_hash_table_contains (j->compact_forgotten, key))
        continue;     /* loading set it aside */
      ok = fold_group (&f, key, value, error);
    }
  if (!ok || !sync_written (&f, error))
    return FALSE;
  hook (j, "written");
  if (!rename_all (j, renames, error))
    return FALSE;
  hook (j, "renamed");
  /* Only now are the parts files of the groups written anew redundant, and
   * only then the journals; a damaged one is kept aside. */
  if (!remove_parts (j, resolved, error))
    return FALSE;
  hook (j, "parts-removed");
  if (!remove_journals (j, replay, f.skipped, error))
    return FALSE;
  hook (j, "removed");
  return TRUE;
}

gpointer
journal_compact_thread (gpointer data)
{
  QmgrJournal *j = data;
  g_autoptr(GError) error = NULL;
  gboolean ok = fold (j, &error);

  /* Folding holds every group's latest text at once; what it freed goes back
   * to the system now, not after the next burst of requests. */
  malloc_trim (0);

  if (!ok && !g_atomic_int_get (&j->compact_stop))
    g_warning ("Could not fold the journal into the group files in %s: %s (will retry)",
               j->dir_path, error->message);
  g_atomic_int_set (&j->compact_ok, ok);
  g_atomic_int_set (&j->compact_done, 1);
  return NULL;
}
