/* qmgrd store journal — an append-only log of group changes.
 *
 * A change to a group appends a record: the group's whole text, the part of
 * it that changed (store-overlay.h: the header and the sections of the files
 * appended or changed), or its deletion. One fdatasync then makes every record
 * appended since the last one durable, so the calls handled together share
 * one flush and no file is created per change. Closed journals are folded
 * into the group files by a background thread (temp files, one syncfs,
 * renames, one directory fsync), after which they are removed. After a crash
 * the group files plus the journals, replayed in order, give every
 * acknowledged state; a record cut short by the crash is recognised by its
 * length and checksum and ignored (it was never acknowledged). A record that
 * does not check but has intact records after it is damage: it alone is
 * skipped, with a warning, and its journal is renamed to journal.<n>.broken
 * once folded instead of being removed.
 *
 * Files, in the groups directory: journal.<16 hex digits>, numbered in order. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _QmgrJournal QmgrJournal;

/* What a record says of its group. */
#define QMGR_JOURNAL_WHOLE 'S'     /* the group's whole text */
#define QMGR_JOURNAL_PART 'P'      /* its header and some files' sections */
#define QMGR_JOURNAL_DELETE 'D'    /* it is deleted (no data) */

/* What the journals found at open hold: hex → const QmgrStoreOverlay *
 * (store-overlay.h), valid while the replay lives. */
typedef struct _QmgrJournalReplay QmgrJournalReplay;
GHashTable *qmgr_journal_replay_groups (QmgrJournalReplay *replay);
void qmgr_journal_replay_free (QmgrJournalReplay *replay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrJournalReplay, qmgr_journal_replay_free)

/* Opens the journals in @dir_fd (@dir_path for messages), replays what they
 * hold into *@replay, and starts a new journal after them. The old ones are
 * folded into the group files by qmgr_journal_compact(). */
QmgrJournal *qmgr_journal_open (int dir_fd, const char *dir_path, QmgrJournalReplay **replay,
                                GError **error);
/* Stops a compaction in progress (what it did is harmless; it starts again next time). */
void qmgr_journal_free (QmgrJournal *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrJournal, qmgr_journal_free)

/* Group files bigger than @max are not read by the fold (the loader's bound). */
void qmgr_journal_set_file_max (QmgrJournal *j, guint64 max);
/* Loading set group @hex aside: the journals found at open are folded
 * without it. */
void qmgr_journal_forget (QmgrJournal *j, const char *hex);

/* Appends a record (@op: QMGR_JOURNAL_*) of group @hex. Not durable until
 * qmgr_journal_sync(). With @hold the record may be kept in memory until then
 * (one write for many), once the disk space for it is reserved. A failed
 * append leaves the journal as it was. */
gboolean qmgr_journal_append (QmgrJournal *j, const char *hex, char op, const char *data,
                              gsize len, gboolean hold, GError **error);

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
