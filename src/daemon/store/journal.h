/* qmgrd store journal — an append-only log of group changes.
 *
 * A change to a group appends a record: the group's whole text, the part of
 * it that changed (store-overlay.h: the header and the sections of the files
 * appended or changed), or its deletion. One fdatasync then makes every record
 * appended since the last one durable, so the calls handled together share
 * one flush and no file is created per change.
 *
 * Closed journals are folded away by a background thread at a cost in
 * proportion to what they hold, not to the size of the groups they name. A
 * group whose record is whole or a deletion, whose file is small (under
 * 64 KiB), or whose parts add up to a quarter of its file, gets its file
 * written anew (temp files, one syncfs, renames, one directory fsync). Any
 * other group's parts, merged into one (the latest header and the latest
 * section of each file named), are carried: appended to the group's parts
 * file, <hex>.parts, which is replayed on top of the group file, before the
 * journals. A parts file thus stays under a quarter of its group's file: what
 * is carried is bounded by what is stored, and start-up reads at most 1.25
 * times what the group files hold. Then the journals are removed — or, when
 * damaged, set aside as journal.<n>.broken.
 *
 * At exit the journal is folded by the same rule: a stopped daemon leaves one
 * file per group and, beside the big groups changed a little since their file
 * was written, their parts files. Writing a 0.6 GB group file again because one
 * property changed would make a stop cost in proportion to the state rather
 * than to the change; a parts file costs the next start at most a quarter of
 * what reading its group file, which start-up does anyway, costs.
 *
 * After a crash the group files plus the parts files and the journals,
 * replayed in that order, give every acknowledged state (the fold removes a
 * parts file it folded only once the new group file is in place, and the
 * journals only after that); a record cut short by the crash is recognised by
 * its length and checksum and ignored (it was never acknowledged). A record
 * that does not check but has intact records after it is damage: it alone is
 * skipped, with a warning, and its journal is renamed to journal.<n>.broken
 * once folded instead of being removed; a damaged parts file is never
 * appended to, its group is written whole again, and the file is renamed to
 * <hex>.parts.broken.
 *
 * Files, in the groups directory: journal.<16 hex digits>, numbered in order;
 * <32 hex digits>.parts. */
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
 * without it, and its parts file, if any, is renamed to <hex>.parts.broken. */
void qmgr_journal_forget (QmgrJournal *j, const char *hex);
/* Whether group @hex's parts file was found damaged at open (its group is to
 * be written whole). */
gboolean qmgr_journal_parts_damaged (QmgrJournal *j, const char *hex);

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
 * must have been synced. Does nothing while a compaction runs, and then
 * returns FALSE: ask again once it has ended. */
gboolean qmgr_journal_compact (QmgrJournal *j, gboolean rotate);

/* Waits for a running compaction (tests). Returns whether it succeeded. */
gboolean qmgr_journal_wait_compaction (QmgrJournal *j);

/* Tests: @hook runs in the compaction's thread after each of its steps, where
 * a crash would leave what is on disk then: "replayed" (nothing written yet),
 * "written" (new group files aside and parts appended, synced), "renamed" (the
 * group files in place), "parts-removed" (the parts files folded into them
 * removed), "removed" (the journals too). */
typedef void (*QmgrJournalFoldHook) (const char *step, gpointer data);
void qmgr_journal_set_fold_hook (QmgrJournal *j, QmgrJournalFoldHook hook, gpointer data);

G_END_DECLS
