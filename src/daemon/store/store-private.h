/* qmgrd store — private to store.c (saving) and store-load.c (loading). */
#pragma once

#include "journal.h"
#include "store.h"

G_BEGIN_DECLS

#define GROUP_SUFFIX ".group"
#define SETTINGS_FILE "settings.conf"

struct _QmgrStore {
  char *state_dir;
  char *groups_dir;
  int state_fd;
  int groups_fd;
  QmgrJournal *journal;
  QmgrJournalReplay *replay;  /* what the journals held at open, until loaded */
  GHashTable *dirty;          /* QmgrGroup* → what its next record must hold
                               * (saved "soon" or failed, not yet written) */
  guint flush_source;
  guint compact_source;
  guint batch_depth;          /* > 0: appends wait for qmgr_store_end_batch's sync */
};

/* Saves @group "soon" (a NULL @delta: all of it). */
void store_save_group_soon (gpointer store, QmgrGroup *group, const QmgrGroupDelta *delta);

G_END_DECLS
