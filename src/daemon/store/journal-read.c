/* qmgrd store journal — the record format, and reading journals back: see
 * journal.h.
 *
 * A record:  "QJ1 " op " " hex " " len " " crc "\n" payload "\n"
 *   op   S: the group's whole text (its file's contents) is now payload;
 *        P: part of it is (the header and the changed files' sections:
 *           store-overlay.h); D: the group is deleted (no payload)
 *   hex  the group's GUID, 32 lowercase hex digits (its file is <hex>.group)
 *   len  the payload's length in decimal
 *   crc  CRC-32 of op, hex and payload, 8 lowercase hex digits
 *
 * The records are followed by zeros: the room written ahead (journal.c).
 *
 * A parts file, <hex>.parts, is a file of records too: parts (P) of group
 * <hex> alone, carried out of the journals by the fold (journal-fold.c) and
 * appended there; it has no room written ahead. */
#include "journal-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "qmgr-error.h"
#include "qmgr-io.h"
#include "qmgr-guid.h"
#include "qmgr-log.h"

/* ---- CRC-32 (IEEE 802.3, reflected: zlib's) ---- */

guint32
journal_record_crc (char op, const char *hex, const char *payload, gsize len)
{
  uLong crc = crc32_z (0, (const Bytef *) &op, 1);
  crc = crc32_z (crc, (const Bytef *) hex, HEX_LEN);
  return (guint32) crc32_z (crc, (const Bytef *) payload, len);
}

guint32
journal_pieces_crc (char op, const char *hex, GArray *pieces)
{
  uLong crc = crc32_z (0, (const Bytef *) &op, 1);

  crc = crc32_z (crc, (const Bytef *) hex, HEX_LEN);
  for (guint i = 0; i < pieces->len; i++)
    {
      const QmgrStoreText *t = &g_array_index (pieces, QmgrStoreText, i);
      crc = crc32_z (crc, (const Bytef *) t->data, t->len);
    }
  return (guint32) crc;
}

int
journal_record_header (char *buf, char op, const char *hex, gsize len, guint32 crc)
{
  return g_snprintf (buf, MAX_HEADER, "QJ1 %c %.*s %" G_GSIZE_FORMAT " %08x\n", op, HEX_LEN,
                     hex, len, crc);
}

/* ---- reading ---- */

gboolean
journal_is_lower_hex (const char *s, gsize n)
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
  if ((*op != 'S' && *op != 'D' && *op != 'P') || p[5] != ' ' ||
      !journal_is_lower_hex (p + 6, HEX_LEN) || p[6 + HEX_LEN] != ' ')
    return 0;
  *hex = p + 6;
  q = p + 6 + HEX_LEN + 1;
  if (q >= nl || !g_ascii_isdigit (*q))
    return 0;
  n = g_ascii_strtoull (q, &end, 10);
  if (end >= nl || *end != ' ' || n > MAX_PAYLOAD || (*op == 'D' && n != 0))
    return 0;
  q = end + 1;
  if (nl - q != 8 || !journal_is_lower_hex (q, 8))
    return 0;
  crc = (guint32) g_ascii_strtoull (q, NULL, 16);
  header = (gsize) (nl - p) + 1;
  if (avail - header < n + 1 || p[header + n] != '\n')
    return 0;
  *payload = p + header;
  *len = (gsize) n;
  if (journal_record_crc (*op, *hex, *payload, *len) != crc)
    return 0;
  return header + (gsize) n + 1;
}

typedef struct JournalMap Mapped;

static gboolean
is_zero (const char *p, gsize n)
{
  return n == 0 || (p[0] == '\0' && memcmp (p, p + 1, n - 1) == 0);
}

void
journal_map_clear (Mapped *m)
{
  if (m->map != NULL && m->map != MAP_FAILED)
    munmap (m->map, m->size);
  m->map = NULL;
  g_clear_pointer (&m->path, g_free);
}

char *
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
      journal_is_lower_hex (p + 6, HEX_LEN))
    return g_strdup_printf ("group %.*s", HEX_LEN, p + 6);
  return g_strdup ("a group whose id is unreadable");
}

/* Applies the intact record at @off of @m to @overlays. A parts file holds
 * parts of its own group only (@parts_of); anything else there, and a part
 * that does not split into sections (neither is ever written), is skipped
 * with a warning and marks the file damaged. */
static void
apply_record (Mapped *m, const char *parts_of, gsize off, char op, const char *hex,
              const char *payload, gsize len, GHashTable *overlays, gboolean quiet)
{
  char key[HEX_LEN + 1];

  memcpy (key, hex, HEX_LEN);
  key[HEX_LEN] = '\0';
  if (parts_of != NULL && (op != QMGR_JOURNAL_PART || strcmp (key, parts_of) != 0))
    {
      if (!quiet)
        g_warning ("The parts file %s holds a record of another kind or group at offset %"
                   G_GSIZE_FORMAT "; it is skipped", m->path, off);
      m->damaged = TRUE;
      return;
    }
  if (!qmgr_store_overlays_apply (overlays, key, op, payload, len))
    {
      char id[QMGR_GUID_STRING_LEN + 1];

      qmgr_guid_hex_to_string (key, id);
      if (!quiet)
        qmgr_log (G_LOG_LEVEL_WARNING, id, NULL,
                  "The %s %s holds a record of group %s at offset %" G_GSIZE_FORMAT
                  " that does not read; it is skipped", parts_of != NULL ? "parts file" :
                  "journal", m->path, key, off);
      m->damaged = TRUE;
    }
}

static void
say_damaged (const Mapped *m, const char *parts_of, gsize off, gsize next)
{
  g_autofree char *what = NULL;

  if (parts_of != NULL)
    {
      char id[QMGR_GUID_STRING_LEN + 1];

      qmgr_guid_hex_to_string (parts_of, id);
      qmgr_log (G_LOG_LEVEL_WARNING, id, NULL,
                "The parts file %s is damaged: %" G_GSIZE_FORMAT " bytes at offset %"
                G_GSIZE_FORMAT " do not check; the change they held to group %s is lost (the "
                "records after them load); the group will be written whole and the file "
                "kept as %s.broken", m->path, next - off, off, parts_of, m->path);
      return;
    }
  what = damaged_record_group ((const char *) m->map + off, m->size - off);
  g_warning ("The journal %s is damaged: %" G_GSIZE_FORMAT " bytes at offset %" G_GSIZE_FORMAT
             " do not check; the change they held to %s is lost (the records after them "
             "load); the journal will be kept as %s.broken", m->path, next - off, off, what,
             m->path);
}

/* Maps @name (a journal, or group @parts_of's parts file) and applies its
 * records to @overlays (store-overlay.h), whose texts then point into the
 * mapping. Only a regular file is read (never a FIFO, never a symlink).
 *
 * A record that does not check is either the tail of a write a crash
 * interrupted (nothing intact after it: never acknowledged, ignored quietly)
 * or damage (intact records after it): then only that record is skipped, its
 * group keeping what earlier records or its file hold, and the file is
 * marked damaged, to be set aside rather than deleted once folded. Said unless
 * @quiet (the fold reads what loading read, and said, before). */
gboolean
journal_map_file (int dir_fd, const char *dir_path, const char *name, const char *parts_of,
                  Mapped *m, GHashTable *overlays, gboolean quiet, GError **error)
{
  struct stat st;
  gsize off = 0;
  int fd;

  m->path = g_build_filename (dir_path, name, NULL);
  m->map = NULL;
  m->size = 0;
  m->valid = 0;
  m->damaged = FALSE;
  fd = qmgr_io_open_at (dir_fd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
  if (fd < 0)
    return qmgr_io_set_error (error, errno, "open", m->path);
  if (fstat (fd, &st) < 0)
    {
      int err = errno;
      close (fd);
      return qmgr_io_set_error (error, err, "read", m->path);
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "%s is not a regular file", m->path);
      return FALSE;
    }
  if (st.st_size > 0)
    {
      m->size = (gsize) st.st_size;
      m->map = mmap (NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    }
  close (fd);
  if (m->map == MAP_FAILED)
    {
      m->map = NULL;
      return qmgr_io_set_error (error, errno, "map", m->path);
    }

  while (off < m->size)
    {
      const char *map = m->map, *hex, *payload;
      gsize len, n, next;
      char op;

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
            say_damaged (m, parts_of, off, next);
          m->damaged = TRUE;
          off = next;
          continue;
        }
      apply_record (m, parts_of, off, op, hex, payload, len, overlays, quiet);
      off += n;
      m->valid = off;
    }
  return TRUE;
}

static gint
compare_u64 (gconstpointer a, gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return x < y ? -1 : x > y;
}

/* Whether @name is a parts file's: <32 lowercase hex digits>.parts. */
static gboolean
is_parts_name (const char *name)
{
  return strlen (name) == HEX_LEN + strlen (PARTS_SUFFIX) &&
         journal_is_lower_hex (name, HEX_LEN) && strcmp (name + HEX_LEN, PARTS_SUFFIX) == 0;
}

GArray *
journal_list (int dir_fd, const char *dir_path, GPtrArray *parts, GError **error)
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

      if (parts != NULL && is_parts_name (de->d_name))
        g_ptr_array_add (parts, g_strndup (de->d_name, HEX_LEN));
      if (!g_str_has_prefix (de->d_name, JOURNAL_PREFIX) || strlen (digits) != SEQ_DIGITS ||
          !journal_is_lower_hex (digits, SEQ_DIGITS))
        continue;
      seq = g_ascii_strtoull (digits, NULL, 16);
      g_array_append_val (seqs, seq);
    }
  closedir (dir);
  g_array_sort (seqs, compare_u64);
  return g_steal_pointer (&seqs);
}

static void
cut_parts_file (int dir_fd, const char *name, gsize size)
{
  int fd = qmgr_io_open_at (dir_fd, name, O_WRONLY | O_NONBLOCK | O_NOCTTY, 0);

  if (fd < 0 || ftruncate (fd, (off_t) size) < 0)
    g_debug ("Could not cut the unfinished record off %s: %s", name, g_strerror (errno));
  if (fd >= 0)
    close (fd);
}

/* Group @hex's parts file, into the replay (its records come before any
 * journal's). One that cannot be read at all is said and marked damaged: its
 * group loads from what else there is, and is written whole again. */
static void
replay_parts (QmgrJournalReplay *r, int dir_fd, const char *dir_path, const char *hex,
              gboolean quiet)
{
  g_autofree char *name = g_strconcat (hex, PARTS_SUFFIX, NULL);
  g_autoptr(GError) error = NULL;
  JournalParts *info = g_new0 (JournalParts, 1);
  Mapped *m = &r->parts_maps[r->n_parts++];

  if (journal_map_file (dir_fd, dir_path, name, hex, m, r->groups, quiet, &error))
    {
      info->size = m->valid;
      info->damaged = m->damaged;
      /* A record a crash cut short is cut off now, not said at every start
       * (the overlays point below it; the fold cuts it before appending
       * anyway, should this fail). */
      if (!m->damaged && m->size > m->valid)
        cut_parts_file (dir_fd, name, m->valid);
    }
  else
    {
      char id[QMGR_GUID_STRING_LEN + 1];

      qmgr_guid_hex_to_string (hex, id);
      if (!quiet)
        qmgr_log (G_LOG_LEVEL_WARNING, id, NULL,
                  "The parts file %s cannot be read (%s); its group will be written whole "
                  "and the file kept as %s.broken", m->path, error->message, m->path);
      info->damaged = TRUE;
    }
  g_hash_table_insert (r->parts, g_strdup (hex), info);
}

QmgrJournalReplay *
journal_replay (int dir_fd, const char *dir_path, GArray *seqs, GPtrArray *parts,
                gboolean quiet, GError **error)
{
  g_autoptr(QmgrJournalReplay) r = g_new0 (QmgrJournalReplay, 1);

  r->groups = qmgr_store_overlays_new ();
  r->parts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* Parts files hold what was carried out of journals retired before these. */
  r->parts_maps = g_new0 (Mapped, parts != NULL ? parts->len + 1 : 1);
  for (guint i = 0; parts != NULL && i < parts->len; i++)
    replay_parts (r, dir_fd, dir_path, g_ptr_array_index (parts, i), quiet);
  r->maps = g_new0 (Mapped, seqs->len + 1);
  for (guint i = 0; i < seqs->len; i++)
    {
      g_autofree char *name = journal_name (g_array_index (seqs, guint64, i));

      r->n_maps = i + 1;
      if (!journal_map_file (dir_fd, dir_path, name, NULL, &r->maps[i], r->groups, quiet,
                             error))
        return NULL;
    }
  return g_steal_pointer (&r);
}

gboolean
journal_replay_damaged (QmgrJournalReplay *r, guint i)
{
  return r->maps[i].damaged;
}

GHashTable *
qmgr_journal_replay_groups (QmgrJournalReplay *r)
{
  return r->groups;
}

void
qmgr_journal_replay_free (QmgrJournalReplay *r)
{
  if (r == NULL)
    return;
  /* The overlays point into the maps. */
  g_clear_pointer (&r->groups, g_hash_table_unref);
  g_clear_pointer (&r->parts, g_hash_table_unref);
  for (guint i = 0; i < r->n_maps; i++)
    journal_map_clear (&r->maps[i]);
  for (guint i = 0; i < r->n_parts; i++)
    journal_map_clear (&r->parts_maps[i]);
  g_free (r->maps);
  g_free (r->parts_maps);
  g_free (r);
}
