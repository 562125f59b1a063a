/* qmgrd store journal — folding closed journals into the group files, in a
 * thread of its own that touches files only, never the model. Each group the
 * journals name gets its whole text written anew (its latest whole record, or
 * its file with the parts after it put in: store-overlay.h); then one syncfs,
 * the renames, one directory fsync, and the journals are removed — or, when
 * damaged, set aside as journal.<n>.broken. */
#include "journal-private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "qmgr-error.h"
#include "qmgr-io.h"
#include "qmgr-guid.h"
#include "qmgr-log.h"
#include "store-file.h"

/* A damaged journal, once folded, goes to journal.<n>.broken (or .broken.<k>
 * when that is taken: journal numbers start again once all are folded). */
static gboolean
set_aside_journal (QmgrJournal *j, const char *name, GError **error)
{
  for (guint k = 0; k < 1000; k++)
    {
      g_autofree char *broken = k == 0 ? g_strconcat (name, ".broken", NULL)
                                       : g_strdup_printf ("%s.broken.%u", name, k);

      if (renameat2 (j->dir_fd, name, j->dir_fd, broken, RENAME_NOREPLACE) == 0)
        return TRUE;
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

/* Writes <hex>.group.tmp for the overlay; FALSE with *@skipped when the
 * group's text cannot be put together (its file changed since loading, or a
 * bug: the journals are then kept aside). */
static gboolean
fold_group (QmgrJournal *j, const char *hex, const QmgrStoreOverlay *ov, GPtrArray *renames,
            gboolean *skipped, GError **error)
{
  g_autofree char *name = g_strconcat (hex, ".group", NULL);
  g_autofree char *tmp = g_strconcat (name, ".tmp", NULL);
  g_autoptr(GArray) pieces = g_array_new (FALSE, FALSE, sizeof (QmgrStoreText));
  g_autoptr(GError) local = NULL;
  g_autofree char *file_text = NULL;
  gsize file_len = 0;
  char end[QMGR_STORE_END_LEN];
  int fd, err;

  if (ov->deleted)
    {
      if (unlinkat (j->dir_fd, name, 0) < 0 && errno != ENOENT)
        return qmgr_io_set_error (error, errno, "remove", name);
      return TRUE;
    }
  if (!group_pieces (j, name, ov, pieces, end, &file_text, &file_len, &local))
    {
      char id[QMGR_GUID_STRING_LEN + 1];

      qmgr_guid_hex_to_string (hex, id);
      qmgr_log (G_LOG_LEVEL_WARNING, id, NULL,
                "Group %s cannot be folded into its file (%s); the journals are kept as "
                "journal.<n>.broken in %s", hex, local->message, j->dir_path);
      *skipped = TRUE;
      if (file_text != NULL)
        explicit_bzero (file_text, file_len);
      return TRUE;
    }
  fd = qmgr_io_open_at (j->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    err = errno;
  else
    {
      err = write_pieces (fd, pieces);
      close (fd);
    }
  if (file_text != NULL)
    explicit_bzero (file_text, file_len);   /* a password */
  if (err != 0)
    return qmgr_io_set_error (error, err, fd < 0 ? "create" : "write", tmp);
  g_ptr_array_add (renames, g_steal_pointer (&name));
  return TRUE;
}

/* Renames the new group files into place, durably. */
static gboolean
rename_all (QmgrJournal *j, GPtrArray *renames, GError **error)
{
  if (syncfs (j->dir_fd) < 0)
    return qmgr_io_set_error (error, errno, "sync the file system of", j->dir_path);
  for (guint i = 0; i < renames->len; i++)
    {
      const char *name = g_ptr_array_index (renames, i);
      g_autofree char *tmp = g_strconcat (name, ".tmp", NULL);
      if (renameat (j->dir_fd, tmp, j->dir_fd, name) < 0)
        return qmgr_io_set_error (error, errno, "rename into place", name);
    }
  if (fsync (j->dir_fd) < 0)
    return qmgr_io_set_error (error, errno, "sync", j->dir_path);
  return TRUE;
}

static gboolean
fold (QmgrJournal *j, GError **error)
{
  g_autoptr(GPtrArray) renames = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(QmgrJournalReplay) replay = NULL;
  GHashTableIter iter;
  gpointer key, value;
  gboolean ok = TRUE, skipped = FALSE;

  replay = journal_replay (j->dir_fd, j->dir_path, j->compacting, TRUE, error);
  if (replay == NULL)
    return FALSE;

  /* Every new group file is written aside, then all are made durable at once. */
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
      ok = fold_group (j, key, value, renames, &skipped, error);
    }
  ok = ok && rename_all (j, renames, error);

  /* Only now are the journals redundant; a damaged one is kept aside. */
  for (guint i = 0; ok && i < j->compacting->len; i++)
    {
      g_autofree char *name = journal_name (g_array_index (j->compacting, guint64, i));

      if (skipped || journal_replay_damaged (replay, i))
        ok = set_aside_journal (j, name, error);
      else if (unlinkat (j->dir_fd, name, 0) < 0 && errno != ENOENT)
        ok = qmgr_io_set_error (error, errno, "remove", name);
    }
  if (ok && fsync (j->dir_fd) < 0)
    ok = qmgr_io_set_error (error, errno, "sync", j->dir_path);
  return ok;
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
