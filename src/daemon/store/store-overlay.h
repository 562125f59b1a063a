/* qmgrd store — what the journal's records make of each group, and a group's
 * text put together from them.
 *
 * A group's file is sections of text: the header ([Group], the callbacks
 * owed, [Job]: everything but the files), one [File <i>] section per file, and
 * the end marker. A journal record holds either a whole group's text (S), its
 * deletion (D), or part of it (P): the new header and the sections of the files
 * that were appended or changed. The group's text is then the latest header,
 * and for each of the header's files the latest section a record holds, else
 * the one in the text the records started from (a whole record, or the group's
 * file). The pieces are the bytes of the records and of that text: nothing is
 * parsed but the section lines and the header's Files= count. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *data;           /* NULL: none */
  gsize len;
} QmgrStoreText;

typedef struct {
  gboolean deleted;
  QmgrStoreText whole;        /* the latest whole text; none: the group's file */
  QmgrStoreText header;       /* from a part after it; none: the base's */
  GArray *files;              /* QmgrStoreText by index, from parts after it */
} QmgrStoreOverlay;

/* hex → QmgrStoreOverlay*. The texts point into the records: they must
 * outlive the table. */
GHashTable *qmgr_store_overlays_new (void);

/* Applies a record (op 'S', 'D' or 'P') of group @hex. A part that does not
 * split into sections (never written so) is refused: FALSE. */
gboolean qmgr_store_overlays_apply (GHashTable *overlays, const char *hex, char op,
                                    const char *data, gsize len);

/* Puts @over's records on top of @under's (both of the same group): the
 * group's changes in two spans of records, made one. */
void qmgr_store_overlay_put_over (QmgrStoreOverlay *under, const QmgrStoreOverlay *over);

/* The pieces of one part record that says what @overlay's parts say: their
 * latest header and the latest section of each file they name, in order.
 * FALSE when it holds no part (or its header does not count its files). */
gboolean qmgr_store_overlay_part_pieces (const QmgrStoreOverlay *overlay, GArray *pieces);

/* Whether @overlay's text builds on the group's file (no whole record). */
gboolean qmgr_store_overlay_needs_file (const QmgrStoreOverlay *overlay);
/* Whether it holds parts (else its text is the whole record or the file). */
gboolean qmgr_store_overlay_has_parts (const QmgrStoreOverlay *overlay);

/* The pieces of the group's text, in order, ending with a fresh end marker
 * written into @end (at least QMGR_STORE_END_LEN bytes): @base is the text the
 * overlay builds on (its whole record, or the group's file). Fails when the
 * base is damaged or cut short (checked against its end marker) or a file
 * the header counts is in neither. */
#define QMGR_STORE_END_LEN 32
gboolean qmgr_store_overlay_pieces (const QmgrStoreOverlay *overlay, const char *base,
                                    gsize base_len, GArray *pieces, char *end, GError **error);

/* The same, joined into one text (NUL-terminated after *@len). */
char *qmgr_store_overlay_text (const QmgrStoreOverlay *overlay, const char *base, gsize base_len,
                               gsize *len, GError **error);

G_END_DECLS
