/* qmgrd store journal — an append-only log of whole group files.
 *
 * A change to a group appends the group's new file contents (or a deletion) to
 * the journal; one fdatasync then makes every record appended since the last one
 * durable, so the calls handled together share one flush and no file is created
 * per change. Closed journals are folded into the group files by a background
 * thread (temp files, one syncfs, renames, one directory fsync), after which they
 * are removed. After a crash the group files plus the journals, replayed in
 * order, give every acknowledged state; a record cut short by the crash is
 * recognised by its length and checksum and ignored (it was never acknowledged).
 * A record that does not check but has intact records after it is damage: it
 * alone is skipped, with a warning, and its journal is renamed to
 * journal.<n>.broken once folded instead of being removed.
 *
 * Files, in the groups directory: journal.<16 hex digits>, numbered in order. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _QmgrJournal QmgrJournal;

/* Called for the latest record of each group found in the journals: @data is the
 * group file's contents, or NULL when the group was deleted. */
typedef void (*QmgrJournalReplayFunc) (const char *hex, const char *data, gsize len,
                                       gpointer user_data);

/* Opens the journals in @dir_fd (@dir_path for messages), calls @replay for what
 * they hold, and starts a new journal after them. The old ones are folded into
 * the group files by qmgr_journal_compact(). */
QmgrJournal *qmgr_journal_open (int dir_fd, const char *dir_path, QmgrJournalReplayFunc replay,
                                gpointer user_data, GError **error);
/* Stops a compaction in progress (what it did is harmless; it starts again next time). */
void qmgr_journal_free (QmgrJournal *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrJournal, qmgr_journal_free)

/* Appends a record: the group @hex now has the file contents @data, or is
 * deleted when @data is NULL. Not durable until qmgr_journal_sync(). With
 * @hold the record may be kept in memory until then (one write for many), once
 * the disk space for it is reserved. A failed append leaves the journal as it
 * was. */
gboolean qmgr_journal_append (QmgrJournal *j, const char *hex, const char *data, gsize len,
                              gboolean hold, GError **error);

/* Makes every record appended so far durable (one write of the held-back
 * records, one fdatasync), if any is not. Held-back records that cannot be
 * written (an I/O error; a full disk only where overwriting the room needs new
 * blocks, as on copy-on-write file systems) are lost, and so is a sync that
 * fails: from then on the journal refuses every append and sync. */
gboolean qmgr_journal_sync (QmgrJournal *j, GError **error);
gboolean qmgr_journal_needs_sync (QmgrJournal *j);

/* Bytes in the current journal. */
guint64 qmgr_journal_size (QmgrJournal *j);

/* Folds the closed journals into the group files in a background thread, after
 * closing the current one when it holds any record (@rotate) — everything in it
 * must have been synced. Does nothing while a compaction runs. */
void qmgr_journal_compact (QmgrJournal *j, gboolean rotate);

/* Waits for a running compaction (tests). Returns whether it succeeded. */
gboolean qmgr_journal_wait_compaction (QmgrJournal *j);

G_END_DECLS
