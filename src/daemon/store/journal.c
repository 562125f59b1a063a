/* qmgrd store journal — see journal.h.
 *
 * A record:  "QJ1 " op " " hex " " len " " crc "\n" payload "\n"
 *   op   S (the group's file is now payload) or D (the group is deleted, no payload)
 *   hex  the group's GUID, 32 lowercase hex digits (its file is <hex>.group)
 *   len  the payload's length in decimal
 *   crc  CRC-32 of op, hex and payload, 8 lowercase hex digits
 *
 * The records are followed by zeros: room for the next ones is written (zeros,
 * synced) ahead of them, so that syncing a record is a plain overwrite of
 * allocated blocks, with no size or allocation change for fdatasync to write
 * too (about 40 % cheaper here), and so that a full disk is reported when the
 * room is made, to the call that needed it. */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "qmgr-error.h"
#include "qmgr-io.h"

#define JOURNAL_PREFIX "journal."
#define SEQ_DIGITS 16
#define HEX_LEN 32
#define MAX_PAYLOAD (G_GUINT64_CONSTANT (1) << 30)
#define MAX_HEADER 80
#define ROOM_CHUNK (1 << 20)
#define PENDING_KEEP (64 << 10)
#define PENDING_MIN (PENDING_KEEP / 4)

struct _QmgrJournal {
  int dir_fd;
  char *dir_path;
  int fd;                     /* the current journal, -1 after a failed rotation */
  guint64 seq;                /* its number */
  guint64 size;               /* bytes of whole records in it */
  gboolean unsynced;
  guint64 room;               /* bytes written ahead as zeros and synced */
  GString *pending;           /* records held back until the next sync */
  GError *failed;             /* records may have been lost: refuse everything */
  GArray *closed;             /* guint64 numbers of journals waiting to be folded */
  GThread *thread;
  gint compact_done;          /* atomic: the thread finished */
  gint compact_ok;            /* atomic: ... and succeeded */
  gint compact_stop;          /* atomic: asked to give up */
  GArray *compacting;         /* guint64 numbers the thread works on */
};

/* ---- CRC-32 (IEEE 802.3, reflected: zlib's) ---- */

static guint32
record_crc (char op, const char *hex, const char *payload, gsize len)
{
  uLong crc = crc32_z (0, (const Bytef *) &op, 1);
  crc = crc32_z (crc, (const Bytef *) hex, HEX_LEN);
  return (guint32) crc32_z (crc, (const Bytef *) payload, len);
}

/* ---- reading ---- */

typedef struct {
  const char *payload;        /* NULL: deleted */
  gsize len;
} Latest;

static gboolean
is_lower_hex (const char *s, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isxdigit (s[i]) || g_ascii_isupper (s[i]))
      return FALSE;
  return TRUE;
}

/* Parses the record at @p (at most @avail bytes). Returns its total size, or 0
 * when what is there is not a whole, intact record. */
static gsize
parse_record (const char *p, gsize avail, char *op, const char **hex, const char **payload,
              gsize *len)
{
  const char *nl = memchr (p, '\n', MIN (avail, (gsize) MAX_HEADER));
  const char *q;
  char *end;
  guint64 n;
  guint32 crc;
  gsize header;

  if (nl == NULL || avail < 4 + 2 + HEX_LEN + 1 || memcmp (p, "QJ1 ", 4) != 0)
    return 0;
  *op = p[4];
  if ((*op != 'S' && *op != 'D') || p[5] != ' ' || !is_lower_hex (p + 6, HEX_LEN) ||
      p[6 + HEX_LEN] != ' ')
    return 0;
  *hex = p + 6;
  q = p + 6 + HEX_LEN + 1;
  if (q >= nl || !g_ascii_isdigit (*q))
    return 0;
  n = g_ascii_strtoull (q, &end, 10);
  if (end >= nl || *end != ' ' || n > MAX_PAYLOAD || (*op == 'D' && n != 0))
    return 0;
  q = end + 1;
  if (nl - q != 8 || !is_lower_hex (q, 8))
    return 0;
  crc = (guint32) g_ascii_strtoull (q, NULL, 16);
  header = (gsize) (nl - p) + 1;
  if (avail - header < n + 1 || p[header + n] != '\n')
    return 0;
  *payload = p + header;
  *len = (gsize) n;
  if (record_crc (*op, *hex, *payload, *len) != crc)
    return 0;
  return header + (gsize) n + 1;
}

typedef struct {
  char *path;
  void *map;
  gsize size;
  gboolean damaged;           /* a record before intact ones did not check */
} Mapped;

static gboolean
is_zero (const char *p, gsize n)
{
  return n == 0 || (p[0] == '\0' && memcmp (p, p + 1, n - 1) == 0);
}

static void
mapped_clear (Mapped *m)
{
  if (m->map != NULL && m->map != MAP_FAILED)
    munmap (m->map, m->size);
  g_free (m->path);
}

static char *
journal_name (guint64 seq)
{
  return g_strdup_printf (JOURNAL_PREFIX "%0" G_STRINGIFY (SEQ_DIGITS) "" G_GINT64_MODIFIER "x",
                          seq);
}

/* The offset of the first intact record after @from, or @size. A damaged
 * record whose header still reads is passed over by its length (its payload
 * is never searched: a client's string could look like a record there);
 * otherwise the next record header whose checksum holds is searched for. */
static gsize
next_intact_record (const char *map, gsize size, gsize from)
{
  const char *p = map + from, *hex, *payload, *nl;
  gsize len, at;
  char op;

  nl = memchr (p, '\n', MIN (size - from, (gsize) MAX_HEADER));
  if (nl != NULL && p + 6 + HEX_LEN + 1 < nl && memcmp (p, "QJ1 ", 4) == 0)
    {
      char *end;
      guint64 n = g_ascii_strtoull (p + 6 + HEX_LEN + 1, &end, 10);

      at = (gsize) (nl - map) + 1 + n + 1;
      if (end < nl && n <= MAX_PAYLOAD && at < size &&
          parse_record (map + at, size - at, &op, &hex, &payload, &len) > 0)
        return at;
    }
  for (at = from + 1; at + 4 <= size; at++)
    {
      const char *q = memmem (map + at, size - at, "QJ1 ", 4);

      if (q == NULL)
        break;
      at = (gsize) (q - map);
      if (parse_record (q, size - at, &op, &hex, &payload, &len) > 0)
        return at;
    }
  return size;
}

/* Says which group a damaged record at @p was about, when its header tells. */
static char *
damaged_record_group (const char *p, gsize avail)
{
  if (avail > 6 + HEX_LEN && memcmp (p, "QJ1 ", 4) == 0 && p[5] == ' ' &&
      is_lower_hex (p + 6, HEX_LEN))
    return g_strdup_printf ("group %.*s", HEX_LEN, p + 6);
  return g_strdup ("a group whose id is unreadable");
}

/* Maps journal @seq and records its records into @latest (hex → Latest; later
 * records replace earlier ones). The mapping must outlive @latest's use.
 *
 * A record that does not check is either the tail of a write a crash
 * interrupted (nothing intact after it: never acknowledged, ignored quietly)
 * or damage (intact records after it): then only that record is skipped, its
 * group keeping what earlier records or its file hold, and the journal is
 * marked damaged, to be set aside rather than deleted once folded. Said unless
 * @quiet (the fold reads what loading read, and said, before). */
static gboolean
map_journal (int dir_fd, const char *dir_path, guint64 seq, Mapped *m, GHashTable *latest,
             gboolean quiet, GError **error)
{
  g_autofree char *name = journal_name (seq);
  struct stat st;
  gsize off = 0;
  int fd;

  m->path = g_build_filename (dir_path, name, NULL);
  m->map = NULL;
  m->size = 0;
  m->damaged = FALSE;
  fd = qmgr_io_open_at (dir_fd, name, O_RDONLY, 0);
  if (fd < 0)
    return qmgr_io_set_error (error, errno, "open", m->path);
  if (fstat (fd, &st) < 0)
    {
      int err = errno;
      close (fd);
      return qmgr_io_set_error (error, err, "read", m->path);
    }
  if (st.st_size > 0)
    {
      m->size = (gsize) st.st_size;
      m->map = mmap (NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    }
  close (fd);
  if (m->map == MAP_FAILED)
    return qmgr_io_set_error (error, errno, "map", m->path);

  while (off < m->size)
    {
      const char *map = m->map, *hex, *payload;
      gsize len, n, next;
      char op;
      Latest *l;

      n = parse_record (map + off, m->size - off, &op, &hex, &payload, &len);
      if (n == 0 && is_zero (map + off, m->size - off))
        break;    /* the room written ahead */
      if (n == 0)
        {
          next = next_intact_record (map, m->size, off);
          if (next == m->size)
            {
              /* The tail of a write a crash interrupted: never acknowledged. */
              if (!quiet)
                g_message ("Ignoring the last %" G_GSIZE_FORMAT " bytes of %s: an unfinished "
                           "record", m->size - off, m->path);
              break;
            }
          if (!quiet)
            {
              g_autofree char *what = damaged_record_group (map + off, m->size - off);
              g_warning ("The journal %s is damaged: %" G_GSIZE_FORMAT " bytes at offset %"
                         G_GSIZE_FORMAT " do not check; the change they held to %s is lost "
                         "(the records after them load); the journal will be kept as %s.broken",
                         m->path, next - off, off, what, m->path);
            }
          m->damaged = TRUE;
          off = next;
          continue;
        }
      l = g_new (Latest, 1);
      l->payload = op == 'S' ? payload : NULL;
      l->len = len;
      g_hash_table_insert (latest, g_strndup (hex, HEX_LEN), l);
      off += n;
    }
  return TRUE;
}

static gint
compare_u64 (gconstpointer a, gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return x < y ? -1 : x > y;
}

/* The numbers of the journals in the directory, in order. */
static GArray *
list_journals (int dir_fd, const char *dir_path, GError **error)
{
  g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (guint64));
  int fd = dup (dir_fd);
  DIR *dir;
  struct dirent *de;

  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      int err = errno;
      if (fd >= 0)
        close (fd);
      qmgr_io_set_error (error, err, "read", dir_path);
      return NULL;
    }
  rewinddir (dir);
  while ((de = readdir (dir)) != NULL)
    {
      const char *digits = de->d_name + strlen (JOURNAL_PREFIX);
      guint64 seq;

      if (!g_str_has_prefix (de->d_name, JOURNAL_PREFIX) || strlen (digits) != SEQ_DIGITS ||
          !is_lower_hex (digits, SEQ_DIGITS))
        continue;
      seq = g_ascii_strtoull (digits, NULL, 16);
      g_array_append_val (seqs, seq);
    }
  closedir (dir);
  g_array_sort (seqs, compare_u64);
  return g_steal_pointer (&seqs);
}

/* Maps journals @seqs in order; fills @latest. */
static Mapped *
map_journals (int dir_fd, const char *dir_path, GArray *seqs, GHashTable *latest, gboolean quiet,
              GError **error)
{
  Mapped *maps = g_new0 (Mapped, seqs->len + 1);

  for (guint i = 0; i < seqs->len; i++)
    if (!map_journal (dir_fd, dir_path, g_array_index (seqs, guint64, i), &maps[i], latest,
                      quiet, error))
      {
        for (guint k = 0; k <= i; k++)
          mapped_clear (&maps[k]);
        g_free (maps);
        return NULL;
      }
  return maps;
}

static void
unmap_journals (Mapped *maps, guint n)
{
  for (guint i = 0; i < n; i++)
    mapped_clear (&maps[i]);
  g_free (maps);
}

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
qmgr_journal_open (int dir_fd, const char *dir_path, QmgrJournalReplayFunc replay,
                   gpointer user_data, GError **error)
{
  g_autoptr(QmgrJournal) j = g_new0 (QmgrJournal, 1);
  g_autoptr(GHashTable) latest = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer key, value;
  Mapped *maps;
  guint64 next = 1;

  j->fd = -1;
  j->pending = g_string_new (NULL);
  j->dir_fd = dir_fd;
  j->dir_path = g_strdup (dir_path);
  j->closed = list_journals (dir_fd, dir_path, error);
  if (j->closed == NULL)
    return NULL;
  maps = map_journals (dir_fd, dir_path, j->closed, latest, FALSE, error);
  if (maps == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, latest);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Latest *l = value;
      replay (key, l->payload, l->len, user_data);
    }
  unmap_journals (maps, j->closed->len);

  if (j->closed->len > 0)
    next = g_array_index (j->closed, guint64, j->closed->len - 1) + 1;
  if (!start_journal (j, next, error))
    return NULL;
  return g_steal_pointer (&j);
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
  g_free (j->dir_path);
  g_free (j);
}

static gboolean
rotate (QmgrJournal *j, GError **error)
{
  guint64 old = j->seq;

  if (j->fd >= 0)
    {
      if (!qmgr_journal_sync (j, error))
        return FALSE;
      close (j->fd);
      j->fd = -1;
      g_array_append_val (j->closed, old);
    }
  return start_journal (j, old + 1, error);
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

/* Makes sure @more bytes after what is written and held back go into room
 * written ahead (zeros, synced), so that writing held-back records cannot run
 * out of space and syncing them changes no metadata. */
static gboolean
reserve (QmgrJournal *j, gsize more, GError **error)
{
  static const char zeros[64 << 10];
  struct iovec iov[ROOM_CHUNK / sizeof zeros + 1];
  guint64 end = j->size + j->pending->len + more;
  guint64 at = MAX (j->room, j->size);

  if (end <= j->room)
    return TRUE;
  end = MAX (end, at) + ROOM_CHUNK;
  while (at < end)
    {
      /* One call for the chunk (iovecs all pointing at the same zeros). */
      guint64 left = end - at;
      int cnt = 0;
      ssize_t w;

      while (left > 0 && cnt < (int) G_N_ELEMENTS (iov))
        {
          iov[cnt].iov_base = (void *) zeros;
          iov[cnt].iov_len = MIN (sizeof zeros, left);
          left -= iov[cnt].iov_len;
          cnt++;
        }
      w = pwritev (j->fd, iov, cnt, (off_t) at);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          if (w == 0)
            errno = EIO;
          break;
        }
      at += (guint64) w;
    }
  if (at < end || fdatasync (j->fd) < 0)
    {
      int err = errno;
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
qmgr_journal_append (QmgrJournal *j, const char *hex, const char *data, gsize len,
                     gboolean hold, GError **error)
{
  char header[MAX_HEADER];
  char op = data != NULL ? 'S' : 'D';
  struct iovec iov[3];
  g_autoptr(GError) local = NULL;
  int n;

  g_return_val_if_fail (strlen (hex) == HEX_LEN, FALSE);
  if (data == NULL)
    len = 0;
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
                  record_crc (op, hex, data != NULL ? data : "", len));
  iov[0] = (struct iovec) { header, (gsize) n };
  iov[1] = (struct iovec) { (void *) (data != NULL ? data : ""), len };
  iov[2] = (struct iovec) { (void *) "\n", 1 };

  /* Held back until the sync (one write for many records) only where the room
   * is reserved: a full disk is then still reported here, to this caller. */
  if (hold && reserve (j, (gsize) n + len + 1, &local))
    {
      pending_append (j, header, (gsize) n);
      pending_append (j, iov[1].iov_base, len);
      pending_append (j, "\n", 1);
      return TRUE;
    }
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
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

/* ---- compaction (its own thread; touches files only, never the model) ---- */

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

static gboolean
fold (QmgrJournal *j, GError **error)
{
  g_autoptr(GHashTable) latest = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) renames = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;
  g_autofree gboolean *damaged = g_new0 (gboolean, j->compacting->len + 1);
  Mapped *maps;
  gboolean ok = TRUE;

  maps = map_journals (j->dir_fd, j->dir_path, j->compacting, latest, TRUE, error);
  if (maps == NULL)
    return FALSE;

  /* Every new group file is written aside, then all are made durable at once. */
  g_hash_table_iter_init (&iter, latest);
  while (ok && g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *hex = key;
      Latest *l = value;
      g_autofree char *name = g_strconcat (hex, ".group", NULL);
      g_autofree char *tmp = g_strconcat (name, ".tmp", NULL);
      int fd, err;

      if (g_atomic_int_get (&j->compact_stop))
        {
          ok = FALSE;
          g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "stopped");
          break;
        }
      if (l->payload == NULL)
        {
          if (unlinkat (j->dir_fd, name, 0) < 0 && errno != ENOENT)
            ok = qmgr_io_set_error (error, errno, "remove", name);
          continue;
        }
      fd = qmgr_io_open_at (j->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd < 0)
        {
          ok = qmgr_io_set_error (error, errno, "create", tmp);
          break;
        }
      err = qmgr_io_write_all (fd, l->payload, l->len, -1);
      if (err != 0)
        ok = qmgr_io_set_error (error, err, "write", tmp);
      close (fd);
      g_ptr_array_add (renames, g_steal_pointer (&name));
    }
  for (guint i = 0; i < j->compacting->len; i++)
    damaged[i] = maps[i].damaged;
  unmap_journals (maps, j->compacting->len);

  if (ok && syncfs (j->dir_fd) < 0)
    ok = qmgr_io_set_error (error, errno, "sync the file system of", j->dir_path);
  for (guint i = 0; ok && i < renames->len; i++)
    {
      const char *name = g_ptr_array_index (renames, i);
      g_autofree char *tmp = g_strconcat (name, ".tmp", NULL);
      if (renameat (j->dir_fd, tmp, j->dir_fd, name) < 0)
        ok = qmgr_io_set_error (error, errno, "rename into place", name);
    }
  if (ok && fsync (j->dir_fd) < 0)
    ok = qmgr_io_set_error (error, errno, "sync", j->dir_path);
  /* Only now are the journals redundant; a damaged one is kept aside. */
  for (guint i = 0; ok && i < j->compacting->len; i++)
    {
      guint64 seq = g_array_index (j->compacting, guint64, i);
      g_autofree char *name = journal_name (seq);

      if (damaged[i])
        ok = set_aside_journal (j, name, error);
      else if (unlinkat (j->dir_fd, name, 0) < 0 && errno != ENOENT)
        ok = qmgr_io_set_error (error, errno, "remove", name);
    }
  if (ok && fsync (j->dir_fd) < 0)
    ok = qmgr_io_set_error (error, errno, "sync", j->dir_path);
  return ok;
}

static gpointer
compact_thread (gpointer data)
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
  if (!*ok)   /* fold them again next time, before the newer ones */
    g_array_prepend_vals (j->closed, j->compacting->data, j->compacting->len);
  g_clear_pointer (&j->compacting, g_array_unref);
  return TRUE;
}

void
qmgr_journal_compact (QmgrJournal *j, gboolean rotate_current)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (!reap (j, FALSE, &ok))
    return;
  if (rotate_current && qmgr_journal_size (j) > 0 && !rotate (j, &error))
    g_warning ("Could not start a new journal: %s", error->message);
  if (j->closed->len == 0)
    return;
  j->compacting = g_steal_pointer (&j->closed);
  j->closed = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_atomic_int_set (&j->compact_done, 0);
  g_atomic_int_set (&j->compact_ok, 0);
  g_atomic_int_set (&j->compact_stop, 0);
  j->thread = g_thread_new ("qmgrd-compact", compact_thread, j);
}

gboolean
qmgr_journal_wait_compaction (QmgrJournal *j)
{
  gboolean ok;

  reap (j, TRUE, &ok);
  return ok;
}
