/* qmgrd store journal — shared by its three files: journal.c (writing and
 * the compaction's scheduling), journal-read.c (the record format, reading and
 * replaying journals and parts files) and journal-fold.c (the compaction
 * thread). */
#pragma once

#include "journal.h"
#include "store-overlay.h"

G_BEGIN_DECLS

#define JOURNAL_PREFIX "journal."
#define SEQ_DIGITS 16
#define HEX_LEN 32
#define MAX_PAYLOAD (G_GUINT64_CONSTANT (1) << 30)
#define MAX_HEADER 80
#define PARTS_SUFFIX ".parts"

/* What is known of a group's parts file (<hex>.parts). */
typedef struct {
  guint64 size;               /* bytes of intact records: anything after is cut off */
  gboolean damaged;           /* not to be appended to; set aside once its group is folded */
} JournalParts;

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
  GHashTable *parts;          /* hex → JournalParts, of every parts file; the
                               * thread's while it runs */
  QmgrJournalFoldHook fold_hook;  /* tests */
  gpointer fold_hook_data;
};

/* The CRC of a record (zlib's CRC-32 of op, hex and payload), and of one
 * whose payload is @pieces (QmgrStoreText). */
guint32 journal_record_crc (char op, const char *hex, const char *payload, gsize len);
guint32 journal_pieces_crc (char op, const char *hex, GArray *pieces);
/* A record's header line into @buf (MAX_HEADER bytes); returns its length. */
int journal_record_header (char *buf, char op, const char *hex, gsize len, guint32 crc);
char *journal_name (guint64 seq);
gboolean journal_is_lower_hex (const char *s, gsize n);

/* The numbers of the journals in the directory, in order; the hex of the
 * parts files into @parts when not NULL. */
GArray *journal_list (int dir_fd, const char *dir_path, GPtrArray *parts, GError **error);

/* A mapped journal or parts file. */
typedef struct JournalMap {
  char *path;
  void *map;
  gsize size;
  gsize valid;                /* the end of its last intact record */
  gboolean damaged;           /* a record before intact ones did not check */
} Mapped;
gboolean journal_map_file (int dir_fd, const char *dir_path, const char *name,
                           const char *parts_of, Mapped *m, GHashTable *overlays,
                           gboolean quiet, GError **error);
void journal_map_clear (Mapped *m);

/* The parts files @parts (hex; may be NULL) and journals @seqs mapped and
 * replayed, in that order, into overlays (store-overlay.h); damage is said
 * unless @quiet. */
struct _QmgrJournalReplay {
  GHashTable *groups;         /* hex → QmgrStoreOverlay* pointing into the maps */
  GHashTable *parts;          /* hex → JournalParts of each parts file */
  guint n_maps;
  Mapped *maps;
  guint n_parts;
  Mapped *parts_maps;
};
QmgrJournalReplay *journal_replay (int dir_fd, const char *dir_path, GArray *seqs,
                                   GPtrArray *parts, gboolean quiet, GError **error);
/* Whether journal @i of the replay was damaged (to be set aside, not removed). */
gboolean journal_replay_damaged (QmgrJournalReplay *replay, guint i);

/* The compaction thread's work. */
gpointer journal_compact_thread (gpointer data);
/* Renames @name to <name>.broken (or .broken.<k> when that is taken). */
gboolean journal_set_aside (int dir_fd, const char *name, GError **error);

G_END_DECLS
