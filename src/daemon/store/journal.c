/* qmgrd store journal — see journal.h; this file writes journals and
 * schedules their compaction (journal-read.c reads them, journal-fold.c folds
 * them into the group files).
 *
 * The records are followed by zeros: room for the next ones is written (zeros,
 * synced) ahead of them, so that syncing a record is a plain overwrite of
 * allocated blocks, with no size or allocation change for fdatasync to write
 * too (about 40 % cheaper here), and so that a full disk is reported when the
 * room is made, to the call that needed it. What a call costs stays in
 * proportion to it: the room under a batch of records is allocated, not
 * written, and the zeros ahead of it grow with the journal (4 KiB in a fresh
 * one, then eight times what it holds, up to 1 MiB), and are written a page at
 * a time (see write_zeros). */
#include "journal-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "qmgr-error.h"
#include "qmgr-io.h"

#define ROOM_MIN (4 << 10)
#define ROOM_CHUNK (1 << 20)
#define ROOM_GROWTH 8
#define ZERO_PAGE 4096
#define PENDING_KEEP (64 << 10)
#define HOLD_MAX PENDING_KEEP
#define PENDING_MIN (PENDING_KEEP / 4)

/* ---- writing ---- */

static gboolean
start_journal (QmgrJournal *j, guint64 seq, GError **error)
{
  g_autofree char *name = journal_name (seq);
  int fd;

  fd = qmgr_io_open_at (j->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0)
    {
      g_autofree char *path = g_build_filename (j->dir_path, name, NULL);
      return qmgr_io_set_error (error, errno, "create", path);
    }
  /* The file itself must survive a crash before any record in it counts. */
  if (fsync (j->dir_fd) < 0)
    {
      int err = errno;
      close (fd);
      unlinkat (j->dir_fd, name, 0);
      return qmgr_io_set_error (error, err, "sync", j->dir_path);
    }
  j->fd = fd;
  j->seq = seq;
  j->size = 0;
  j->room = 0;
  j->unsynced = FALSE;
  return TRUE;
}

QmgrJournal *
qmgr_journal_open (int dir_fd, const char *dir_path, QmgrJournalReplay **replay,
                   GError **error)
{
  g_autoptr(QmgrJournal) j = g_new0 (QmgrJournal, 1);
  guint64 next = 1;
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);

  j->fd = -1;
  j->pending = g_string_new (NULL);
  j->dir_fd = dir_fd;
  j->dir_path = g_strdup (dir_path);
  j->file_max = G_MAXUINT64;
  j->forgotten = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  j->closed = journal_list (dir_fd, dir_path, parts, error);
  if (j->closed == NULL)
    return NULL;
  *replay = journal_replay (dir_fd, dir_path, j->closed, parts, FALSE, error);
  if (*replay == NULL)
    return NULL;
  j->parts = g_steal_pointer (&(*replay)->parts);
  if (j->closed->len > 0)
    next = g_array_index (j->closed, guint64, j->closed->len - 1) + 1;
  /* The next journal is created by the first record that needs it. */
  j->seq = next - 1;
  return g_steal_pointer (&j);
}

void
qmgr_journal_set_file_max (QmgrJournal *j, guint64 max)
{
  j->file_max = max;
}

static gboolean reap (QmgrJournal *j, gboolean wait, gboolean *ok);

void
qmgr_journal_forget (QmgrJournal *j, const char *hex)
{
  g_autofree char *name = g_strconcat (hex, PARTS_SUFFIX, NULL);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  reap (j, TRUE, &ok);    /* the parts files are the compaction's while it runs */
  g_hash_table_add (j->forgotten, g_strdup (hex));
  if (g_hash_table_remove (j->parts, hex) && !journal_set_aside (j->dir_fd, name, &error))
    g_warning ("Could not set aside %s in %s: %s", name, j->dir_path, error->message);
}

gboolean
qmgr_journal_parts_damaged (QmgrJournal *j, const char *hex)
{
  JournalParts *info = g_hash_table_lookup (j->parts, hex);

  return info != NULL && info->damaged;
}

void
qmgr_journal_set_fold_hook (QmgrJournal *j, QmgrJournalFoldHook hook, gpointer data)
{
  j->fold_hook = hook;
  j->fold_hook_data = data;
}

static void
stop_compaction (QmgrJournal *j)
{
  if (j->thread == NULL)
    return;
  g_atomic_int_set (&j->compact_stop, 1);
  g_thread_join (j->thread);
  j->thread = NULL;
  g_clear_pointer (&j->compacting, g_array_unref);
  g_clear_pointer (&j->compact_forgotten, g_hash_table_unref);
}

void
qmgr_journal_free (QmgrJournal *j)
{
  if (j == NULL)
    return;
  stop_compaction (j);
  if (j->fd >= 0)
    {
      g_autoptr(GError) error = NULL;
      if (j->failed == NULL && !qmgr_journal_sync (j, &error))   /* said already if failed */
        g_warning ("%s", error->message);
      close (j->fd);
    }
  if (j->pending != NULL)
    g_string_free (j->pending, TRUE);
  g_clear_error (&j->failed);
  g_clear_pointer (&j->closed, g_array_unref);
  g_clear_pointer (&j->forgotten, g_hash_table_unref);
  g_clear_pointer (&j->parts, g_hash_table_unref);
  g_free (j->dir_path);
  g_free (j);
}

static gboolean
rotate (QmgrJournal *j, GError **error)
{
  guint64 old = j->seq;

  if (j->fd < 0)
    return TRUE;
  if (!qmgr_journal_sync (j, error))
    return FALSE;
  close (j->fd);
  j->fd = -1;
  j->size = 0;
  j->room = 0;
  g_array_append_val (j->closed, old);
  /* The next journal is created by the first record that needs it: a change
   * followed by quiet costs no empty journal, and a daemon at rest has none. */
  return TRUE;
}

/* Writes @iov at the end of the journal, all or (taken back) nothing. */
static gboolean
write_records (QmgrJournal *j, const struct iovec *iov, int n_iov, GError **error)
{
  gsize total = 0, done = 0;

  for (int i = 0; i < n_iov; i++)
    total += iov[i].iov_len;
  while (done < total)
    {
      struct iovec rest[3];
      int cnt = 0;
      gsize skip = done;
      ssize_t w;

      for (int i = 0; i < n_iov && cnt < (int) G_N_ELEMENTS (rest); i++)
        {
          if (skip >= iov[i].iov_len)
            {
              skip -= iov[i].iov_len;
              continue;
            }
          rest[cnt].iov_base = (char *) iov[i].iov_base + skip;
          rest[cnt].iov_len = iov[i].iov_len - skip;
          skip = 0;
          cnt++;
        }
      w = pwritev (j->fd, rest, cnt, (off_t) (j->size + done));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          int err = errno;
          g_autofree char *name = journal_name (j->seq);
          g_autofree char *path = g_build_filename (j->dir_path, name, NULL);

          /* Take the partial record back (with the room after it), or stop
           * using this file: a record after a torn one would never be read. */
          if (done > 0 && ftruncate (j->fd, (off_t) j->size) == 0)
            j->room = j->size;
          else if (done > 0)
            {
              g_warning ("Could not take back a partial record in %s: %s; starting a new journal",
                         path, g_strerror (errno));
              close (j->fd);
              j->fd = -1;
              g_array_append_val (j->closed, j->seq);
            }
          return qmgr_io_set_error (error, err, "append to", path);
        }
      done += (gsize) w;
    }
  j->size += total;
  j->unsynced = TRUE;
  return TRUE;
}

/* After records were lost (held ones that could not be written, or a sync
 * that failed: Linux reports a writeback error once, and a later fdatasync
 * would succeed over the lost pages), nothing more is acknowledged: what the
 * journal holds after that point could not be trusted to replay. */
static void
mark_failed (QmgrJournal *j, const GError *cause)
{
  if (j->failed != NULL)
    return;
  g_warning ("The state directory %s failed (%s); changes are refused until qmgrd is "
              "restarted", j->dir_path, cause->message);
  j->failed = g_error_new (QMGR_ERROR, QMGR_ERROR_FAILED,
                           "The state directory failed earlier (%s); restart qmgrd once it "
                           "works again", cause->message);
}

static gboolean
check_failed (QmgrJournal *j, GError **error)
{
  if (j->failed == NULL)
    return TRUE;
  g_propagate_error (error, g_error_copy (j->failed));
  return FALSE;
}

/* Adds to the held-back records; a buffer it outgrows is wiped before it is
 * freed (records may hold passwords). */
static void
pending_append (QmgrJournal *j, const char *data, gsize len)
{
  if (j->pending->len + len + 1 > j->pending->allocated_len)
    {
      GString *bigger = g_string_sized_new (MAX (2 * j->pending->allocated_len,
                                                 j->pending->len + len + 1));
      g_string_append_len (bigger, j->pending->str, (gssize) j->pending->len);
      explicit_bzero (j->pending->str, j->pending->allocated_len);
      g_string_free (j->pending, TRUE);
      j->pending = bigger;
    }
  g_string_append_len (j->pending, data, (gssize) len);
}

/* Writes the records held back. On failure they are dropped, and the journal
 * refuses everything after. */
static gboolean
write_pending (QmgrJournal *j, GError **error)
{
  struct iovec iov;
  g_autoptr(GError) local = NULL;
  gsize written;
  gboolean ok;

  if (j->pending->len == 0)
    return TRUE;
  written = j->pending->len;
  iov.iov_base = j->pending->str;
  iov.iov_len = j->pending->len;
  ok = write_records (j, &iov, 1, &local);
  if (!ok)
    {
      mark_failed (j, local);
      g_propagate_error (error, g_steal_pointer (&local));
    }
  explicit_bzero (j->pending->str, j->pending->len);   /* passwords */
  g_string_truncate (j->pending, 0);
  /* A big batch (a job of many files) does not pin its size for good, nor
   * does a busy spell once the batches are small again: the buffer follows
   * the batches' size within a factor of four. */
  if (j->pending->allocated_len > PENDING_KEEP ||
      (j->pending->allocated_len > PENDING_MIN && j->pending->allocated_len > 4 * written))
    {
      g_string_free (j->pending, TRUE);
      j->pending = g_string_sized_new (PENDING_MIN);
    }
  return ok;
}

/* Writes zeros from @at to @end of @fd a page at a time: each page is then
 * a folio of its own in the page cache, and a record later written over part
 * of the room dirties its own pages only, not a folio as big as the room (on
 * Linux 6.18 a 1 MiB write is one 1 MiB folio, and a 600-byte record written
 * into it is accounted, in write_bytes, as 1 MiB). Returns 0 or the errno. */
static int
write_zeros (int fd, guint64 at, guint64 end)
{
  static const char zeros[ZERO_PAGE];

  while (at < end)
    {
      gsize n = (gsize) MIN (end - at, ZERO_PAGE - at % ZERO_PAGE);
      ssize_t w = pwrite (fd, zeros, n, (off_t) at);

      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return w == 0 ? EIO : errno;
      at += (guint64) w;
    }
  return 0;
}

/* Makes sure @more bytes after what is written and held back go into room
 * made ahead and synced, so that writing held-back records cannot run out of
 * space and syncing them changes little metadata. The records' own place, a
 * page or more, is allocated (fallocate) rather than written: they are about
 * to be written there. Beyond it, room for the records to come is written as
 * zeros: as much as the journal held before (ROOM_GROWTH times, within
 * bounds), since a big batch does not make small records more likely. */
static gboolean
reserve (QmgrJournal *j, gsize more, GError **error)
{
  guint64 need = j->size + j->pending->len + more;
  guint64 at = MAX (j->room, j->size), zeros_from = at, end;
  int err = 0;

  if (need <= j->room)
    return TRUE;
  end = need + CLAMP (ROOM_GROWTH * j->size, ROOM_MIN, ROOM_CHUNK);
  if (need - at >= ZERO_PAGE)
    {
      err = fallocate (j->fd, 0, (off_t) at, (off_t) (need - at)) < 0 ? errno : 0;
      if (err == 0)
        zeros_from = need;
      else if (err == EOPNOTSUPP)
        err = 0;      /* zeros, then */
    }
  if (err == 0)
    err = write_zeros (j->fd, zeros_from, end);
  if (err == 0 && fdatasync (j->fd) < 0)
    err = errno;
  if (err != 0)
    {
      g_autofree char *name = journal_name (j->seq);
      g_autofree char *path = g_build_filename (j->dir_path, name, NULL);

      /* Give the partial room back; the records stay as they are. */
      if (ftruncate (j->fd, (off_t) MAX (j->room, j->size)) < 0)
        g_debug ("Could not give back room in %s: %s", path, g_strerror (errno));
      return qmgr_io_set_error (error, err, "make room in", path);
    }
  j->room = end;
  return TRUE;
}

gboolean
qmgr_journal_append (QmgrJournal *j, const char *hex, char op, const char *data, gsize len,
                     gboolean hold, GError **error)
{
  char header[MAX_HEADER];
  struct iovec iov[3];
  int n;

  g_return_val_if_fail (strlen (hex) == HEX_LEN, FALSE);
  g_return_val_if_fail (op == QMGR_JOURNAL_WHOLE || op == QMGR_JOURNAL_PART ||
                        op == QMGR_JOURNAL_DELETE, FALSE);
  if (op == QMGR_JOURNAL_DELETE)
    {
      data = "";
      len = 0;
    }
  if (!check_failed (j, error))
    return FALSE;
  if (len > MAX_PAYLOAD)
    {
      /* Loading would refuse it, and everything after it. */
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED,
                   "Group %s would take %" G_GSIZE_FORMAT " bytes to store, more than %"
                   G_GUINT64_FORMAT, hex, len, (guint64) MAX_PAYLOAD);
      return FALSE;
    }
  if (j->fd < 0 && !start_journal (j, j->seq + 1, error))
    return FALSE;
  n = g_snprintf (header, sizeof header, "QJ1 %c %s %" G_GSIZE_FORMAT " %08x\n", op, hex, len,
                  journal_record_crc (op, hex, data, len));
  iov[0] = (struct iovec) { header, (gsize) n };
  iov[1] = (struct iovec) { (void *) data, len };
  iov[2] = (struct iovec) { (void *) "\n", 1 };

  /* Held back until the sync (one write for many records) only where the room
   * is reserved: a full disk is then still reported here, to this caller. A
   * big record is written at once instead (after those held back), into its
   * room, and synced with them: copying 6 MB into the buffer first would cost
   * more than the write it saves. */
  if (hold && !reserve (j, (gsize) n + len + 1, error))
    return FALSE;
  if (hold && len < HOLD_MAX)
    {
      pending_append (j, header, (gsize) n);
      pending_append (j, iov[1].iov_base, len);
      pending_append (j, "\n", 1);
      return TRUE;
    }
  return write_pending (j, error) && write_records (j, iov, 3, error);
}

gboolean
qmgr_journal_sync (QmgrJournal *j, GError **error)
{
  if (!check_failed (j, error))
    return FALSE;
  if (j->fd < 0)
    return TRUE;
  if (!write_pending (j, error))
    return FALSE;
  if (!j->unsynced)
    return TRUE;
  if (fdatasync (j->fd) < 0)
    {
      g_autofree char *name = journal_name (j->seq);
      g_autofree char *path = g_build_filename (j->dir_path, name, NULL);
      g_autoptr(GError) local = NULL;

      qmgr_io_set_error (&local, errno, "sync", path);
      mark_failed (j, local);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  j->unsynced = FALSE;
  return TRUE;
}

gboolean
qmgr_journal_needs_sync (QmgrJournal *j)
{
  return j->unsynced || j->pending->len > 0;
}

guint64
qmgr_journal_size (QmgrJournal *j)
{
  return j->size + j->pending->len;
}

/* Collects a finished compaction (waits for a running one when @wait). Returns
 * FALSE while one is running. */
static gboolean
reap (QmgrJournal *j, gboolean wait, gboolean *ok)
{
  *ok = TRUE;
  if (j->thread == NULL)
    return TRUE;
  if (!wait && !g_atomic_int_get (&j->compact_done))
    return FALSE;
  g_thread_join (j->thread);
  j->thread = NULL;
  *ok = g_atomic_int_get (&j->compact_ok);
  /* Fold them again next time, before the newer ones; those it removed before
   * it failed are gone, and what they held is in the group or parts files. */
  for (guint i = j->compacting->len; !*ok && i-- > 0;)
    {
      guint64 seq = g_array_index (j->compacting, guint64, i);
      g_autofree char *name = journal_name (seq);

      if (faccessat (j->dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
        g_array_prepend_val (j->closed, seq);
    }
  g_clear_pointer (&j->compacting, g_array_unref);
  g_clear_pointer (&j->compact_forgotten, g_hash_table_unref);
  return TRUE;
}

gboolean
qmgr_journal_compact (QmgrJournal *j, gboolean rotate_current)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (!reap (j, FALSE, &ok))
    return FALSE;
  if (rotate_current && qmgr_journal_size (j) > 0 && !rotate (j, &error))
    g_warning ("Could not start a new journal: %s", error->message);
  if (j->closed->len == 0)
    return TRUE;
  j->compacting = g_steal_pointer (&j->closed);
  j->closed = g_array_new (FALSE, FALSE, sizeof (guint64));
  /* The thread's own copy: loading may still forget groups meanwhile. */
  j->compact_forgotten = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  {
    GHashTableIter iter;
    gpointer hex;

    g_hash_table_iter_init (&iter, j->forgotten);
    while (g_hash_table_iter_next (&iter, &hex, NULL))
      g_hash_table_add (j->compact_forgotten, g_strdup (hex));
  }
  g_atomic_int_set (&j->compact_done, 0);
  g_atomic_int_set (&j->compact_ok, 0);
  g_atomic_int_set (&j->compact_stop, 0);
  j->thread = g_thread_new ("qmgrd-compact", journal_compact_thread, j);
  return TRUE;
}

gboolean
qmgr_journal_wait_compaction (QmgrJournal *j)
{
  gboolean ok;

  reap (j, TRUE, &ok);
  return ok;
}
