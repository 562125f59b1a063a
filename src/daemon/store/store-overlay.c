/* qmgrd store — a group's text from its records (store-overlay.h). Only what
 * the writer writes is relied on: a section starts on a line that starts with
 * '[' (values escape their newlines, so no value line does), file sections
 * are "[File <i>]" and follow the header, and the end marker comes last. */
#include "store-overlay.h"

#include <string.h>
#include <zlib.h>

#include "qmgr-error.h"
#include "store-format.h"

static void
overlay_free (gpointer data)
{
  QmgrStoreOverlay *ov = data;

  if (ov->files != NULL)
    g_array_unref (ov->files);
  g_free (ov);
}

GHashTable *
qmgr_store_overlays_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, overlay_free);
}

/* ---- sections ---- */

/* The value of @key in section @section of @header ("[Job]" say), as a
 * number; FALSE when the section or the key is missing or not a number. */
static gboolean
header_number (QmgrStoreText header, const char *section, const char *key, guint64 *value)
{
  const char *p = header.data, *end = header.data + header.len;
  gsize klen = strlen (key), slen = strlen (section);
  gboolean inside = FALSE;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *line_end = nl != NULL ? nl : end;

      if (*p == '[')
        inside = (gsize) (line_end - p) == slen && memcmp (p, section, slen) == 0;
      else if (inside && (gsize) (line_end - p) > klen + 1 && memcmp (p, key, klen) == 0 &&
               p[klen] == '=')
        {
          g_autofree char *digits = g_strndup (p + klen + 1, (gsize) (line_end - p) - klen - 1);
          return g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT32, value, NULL);
        }
      p = line_end + 1;
    }
  return FALSE;
}

/* How many files @header's job has (0 without a job). */
static gboolean
header_files (QmgrStoreText header, guint64 *n)
{
  const char *p = header.data, *end = header.data + header.len;

  *n = 0;
  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));

      if (end - p >= 6 && memcmp (p, "[Job]\n", 6) == 0)
        return header_number (header, "[Job]", "Files", n);
      p = nl != NULL ? nl + 1 : end;
    }
  return TRUE;
}

/* The index of a "[File <i>]" line, or -1. */
static gint64
file_section_index (const char *line, gsize len)
{
  guint64 index;
  g_autofree char *digits = NULL;

  if (len < 8 || memcmp (line, "[File ", 6) != 0 || line[len - 1] != ']')
    return -1;
  digits = g_strndup (line + 6, len - 7);
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT32 - 1, &index, NULL))
    return -1;
  return (gint64) index;
}

static void
set_piece (GArray *files, guint64 index, const char *data, gsize len)
{
  if (index >= files->len)
    g_array_set_size (files, (guint) index + 1);
  g_array_index (files, QmgrStoreText, index) = (QmgrStoreText) { data, len };
}

/* Splits @text into its header and its file sections (into @files by index,
 * none beyond the header's count), up to the end marker if any (*@end_at: its
 * offset, else the length). FALSE when it is not laid out as written. */
static gboolean
split_sections (QmgrStoreText text, QmgrStoreText *header, GArray *files, gsize *end_at)
{
  const char *data = text.data;
  gsize at = 0, start = 0;
  gint64 current = -1;
  guint64 n_files = 0;
  gboolean in_files = FALSE;

  *header = text;
  *end_at = text.len;
  while (at < text.len)
    {
      const char *line = data + at;
      const char *nl = memchr (line, '\n', text.len - at);
      gsize line_len = (nl != NULL ? (gsize) (nl - line) : text.len - at);
      gint64 index;

      if (line[0] != '[')
        {
          at += line_len + 1;
          continue;
        }
      if (current >= 0)
        set_piece (files, (guint64) current, data + start, at - start);
      current = -1;
      if (line_len == 5 && memcmp (line, "[End]", 5) == 0)
        {
          *end_at = at;
          break;
        }
      index = file_section_index (line, line_len);
      if (index >= 0 && !in_files)
        {
          header->len = at;
          in_files = TRUE;
          if (!header_files (*header, &n_files))
            return FALSE;
        }
      if (index < 0 && in_files)
        return FALSE;     /* another section among the files */
      if (index >= 0 && (guint64) index >= n_files)
        return FALSE;
      if (index >= 0)
        {
          current = index;
          start = at;
        }
      at += line_len + 1;
    }
  if (current >= 0)
    set_piece (files, (guint64) current, data + start, MIN (at, text.len) - start);
  if (!in_files)
    header->len = *end_at;
  return TRUE;
}

/* ---- records ---- */

static void
clear_files (QmgrStoreOverlay *ov)
{
  if (ov->files != NULL)
    g_array_set_size (ov->files, 0);
}

static QmgrStoreOverlay *
overlay_for (GHashTable *overlays, const char *hex)
{
  QmgrStoreOverlay *ov = g_hash_table_lookup (overlays, hex);

  if (ov == NULL)
    {
      ov = g_new0 (QmgrStoreOverlay, 1);
      ov->files = g_array_new (FALSE, TRUE, sizeof (QmgrStoreText));
      g_hash_table_insert (overlays, g_strdup (hex), ov);
    }
  return ov;
}

gboolean
qmgr_store_overlays_apply (GHashTable *overlays, const char *hex, char op, const char *data,
                           gsize len)
{
  g_autoptr(GArray) files = NULL;
  QmgrStoreOverlay *ov;
  QmgrStoreText header;
  gsize end_at;

  switch (op)
    {
    case 'S':
    case 'D':
      ov = overlay_for (overlays, hex);
      ov->deleted = op == 'D';
      ov->whole = op == 'S' ? (QmgrStoreText) { data, len } : (QmgrStoreText) { NULL, 0 };
      ov->header = (QmgrStoreText) { NULL, 0 };
      clear_files (ov);
      return TRUE;
    case 'P':
      /* Split first: a part that does not split leaves no trace. */
      files = g_array_new (FALSE, TRUE, sizeof (QmgrStoreText));
      if (!split_sections ((QmgrStoreText) { data, len }, &header, files, &end_at) ||
          end_at != len)
        return FALSE;
      ov = overlay_for (overlays, hex);
      ov->deleted = FALSE;
      ov->header = header;
      for (guint i = 0; i < files->len; i++)
        {
          QmgrStoreText *t = &g_array_index (files, QmgrStoreText, i);
          if (t->data != NULL)
            set_piece (ov->files, i, t->data, t->len);
        }
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
qmgr_store_overlay_needs_file (const QmgrStoreOverlay *ov)
{
  return !ov->deleted && ov->whole.data == NULL;
}

gboolean
qmgr_store_overlay_has_parts (const QmgrStoreOverlay *ov)
{
  return ov->header.data != NULL;
}

void
qmgr_store_overlay_put_over (QmgrStoreOverlay *under, const QmgrStoreOverlay *over)
{
  if (over->deleted || over->whole.data != NULL)
    {
      under->deleted = over->deleted;
      under->whole = over->whole;
      under->header = (QmgrStoreText) { NULL, 0 };
      clear_files (under);
    }
  if (over->header.data != NULL)
    under->header = over->header;
  for (guint i = 0; over->files != NULL && i < over->files->len; i++)
    {
      const QmgrStoreText *t = &g_array_index (over->files, QmgrStoreText, i);
      if (t->data != NULL)
        set_piece (under->files, i, t->data, t->len);
    }
}

/* ---- the group's text ---- */

/* Checks @base against its end marker (a version 1 text has none) and splits
 * it. */
static gboolean
split_base (const char *base, gsize base_len, QmgrStoreText *header, GArray *files,
            GError **error)
{
  QmgrStoreText text = { base, base_len };
  gboolean crc_ok = FALSE, marked = qmgr_store_text_has_end (base, base_len, &crc_ok);
  gsize end_at;
  guint64 version = 0;

  if (marked && !crc_ok)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "its checksum does not match");
      return FALSE;
    }
  if (!split_sections (text, header, files, &end_at))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "its sections are not in order");
      return FALSE;
    }
  /* Without a whole end marker, only a text of version 1 (which had none)
   * is whole. */
  if (!marked && (end_at != base_len ||
                  !header_number (*header, "[Group]", "Version", &version) || version != 1))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "it is cut short (no end marker)");
      return FALSE;
    }
  return TRUE;
}

static void
add_piece (GArray *pieces, QmgrStoreText t)
{
  g_array_append_val (pieces, t);
  /* A text of version 1 edited by hand may lack its last newline. */
  if (t.len > 0 && t.data[t.len - 1] != '\n')
    g_array_append_val (pieces, ((QmgrStoreText) { "\n", 1 }));
}

gboolean
qmgr_store_overlay_pieces (const QmgrStoreOverlay *ov, const char *base, gsize base_len,
                           GArray *pieces, char *end, GError **error)
{
  g_autoptr(GArray) base_files = g_array_new (FALSE, TRUE, sizeof (QmgrStoreText));
  QmgrStoreText base_header = { NULL, 0 }, header;
  guint64 n_files;
  guint32 crc = 0;

  if (base != NULL && !split_base (base, base_len, &base_header, base_files, error))
    return FALSE;
  header = ov->header.data != NULL ? ov->header : base_header;
  if (header.data == NULL || !header_files (header, &n_files))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "its header is missing");
      return FALSE;
    }
  add_piece (pieces, header);
  for (guint64 i = 0; i < n_files; i++)
    {
      const QmgrStoreText *t = NULL;

      if (ov->files != NULL && i < ov->files->len &&
          g_array_index (ov->files, QmgrStoreText, i).data != NULL)
        t = &g_array_index (ov->files, QmgrStoreText, i);
      else if (i < base_files->len && g_array_index (base_files, QmgrStoreText, i).data != NULL)
        t = &g_array_index (base_files, QmgrStoreText, i);
      if (t == NULL)
        {
          g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED,
                       "file %" G_GUINT64_FORMAT " is in neither the journal nor the file", i);
          return FALSE;
        }
      add_piece (pieces, *t);
    }
  for (guint i = 0; i < pieces->len; i++)
    {
      QmgrStoreText *t = &g_array_index (pieces, QmgrStoreText, i);
      crc = (guint32) crc32_z (crc, (const Bytef *) t->data, t->len);
    }
  qmgr_store_format_end (crc, end);
  g_array_append_val (pieces, ((QmgrStoreText) { end, strlen (end) }));
  return TRUE;
}

gboolean
qmgr_store_overlay_part_pieces (const QmgrStoreOverlay *ov, GArray *pieces)
{
  guint64 n_files;

  if (ov->header.data == NULL || !header_files (ov->header, &n_files))
    return FALSE;
  add_piece (pieces, ov->header);
  for (guint i = 0; ov->files != NULL && i < ov->files->len && i < n_files; i++)
    {
      const QmgrStoreText *t = &g_array_index (ov->files, QmgrStoreText, i);
      if (t->data != NULL)
        add_piece (pieces, *t);
    }
  return TRUE;
}

char *
qmgr_store_overlay_text (const QmgrStoreOverlay *ov, const char *base, gsize base_len,
                         gsize *len, GError **error)
{
  g_autoptr(GArray) pieces = g_array_new (FALSE, FALSE, sizeof (QmgrStoreText));
  char end[QMGR_STORE_END_LEN];
  gsize total = 0;
  char *text, *p;

  if (!qmgr_store_overlay_pieces (ov, base, base_len, pieces, end, error))
    return NULL;
  for (guint i = 0; i < pieces->len; i++)
    total += g_array_index (pieces, QmgrStoreText, i).len;
  p = text = g_malloc (total + 1);
  for (guint i = 0; i < pieces->len; i++)
    {
      QmgrStoreText *t = &g_array_index (pieces, QmgrStoreText, i);
      memcpy (p, t->data, t->len);
      p += t->len;
    }
  *p = '\0';
  *len = total;
  return text;
}
