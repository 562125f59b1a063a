/* qmgrd store journal — shared by its three files: journal.c (writing and
 * the compaction's scheduling), journal-read.c (the record format, reading and
 * replaying journals) and journal-fold.c (the compaction thread). */
#pragma once

#include "journal.h"
#include "store-overlay.h"

G_BEGIN_DECLS

#define JOURNAL_PREFIX "journal."
#define SEQ_DIGITS 16
#define HEX_LEN 32
#define MAX_PAYLOAD (G_GUINT64_CONSTANT (1) << 30)
#define MAX_HEADER 80

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
  guint64 file_max;           /* group files bigger than this are not read */
  GHashTable *forgotten;      /* hex of groups loading set aside: not folded */
  GThread *thread;
  gint compact_done;          /* atomic: the thread finished */
  gint compact_ok;            /* atomic: ... and succeeded */
  gint compact_stop;          /* atomic: asked to give up */
  GArray *compacting;         /* guint64 numbers the thread works on */
  GHashTable *compact_forgotten;  /* the thread's copy of forgotten */
};

/* The CRC of a record (zlib's CRC-32 of op, hex and payload). */
guint32 journal_record_crc (char op, const char *hex, const char *payload, gsize len);
char *journal_name (guint64 seq);
gboolean journal_is_lower_hex (const char *s, gsize n);

/* The numbers of the journals in the directory, in order. */
GArray *journal_list (int dir_fd, const char *dir_path, GError **error);

/* Journals @seqs mapped and replayed, in order, into overlays (store-overlay.h);
 * damage is said unless @quiet. */
struct _QmgrJournalReplay {
  GHashTable *groups;         /* hex → QmgrStoreOverlay* pointing into the maps */
  guint n_maps;
  struct JournalMap *maps;
};
QmgrJournalReplay *journal_replay (int dir_fd, const char *dir_path, GArray *seqs,
                                   gboolean quiet, GError **error);
/* Whether journal @i of the replay was damaged (to be set aside, not removed). */
gboolean journal_replay_damaged (QmgrJournalReplay *replay, guint i);

/* The compaction thread's work. */
gpointer journal_compact_thread (gpointer data);

G_END_DECLS
