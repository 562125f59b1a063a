/* qmgrd store — durable state: one GKeyFile per group under <state>/groups/.
 * A change is appended to the journal (journal.h) and made durable, one fdatasync
 * per batch, before it is acknowledged; it costs what changed (the group's own
 * fields and the sections of the files it touched: store-overlay.h), not the
 * group's size. The journal is folded away in the background, at a cost in
 * proportion to what it holds too: a big group changed a little keeps its
 * changes in its parts file (<hex>.parts) until they add up to a quarter of
 * its file, and only then is its file written anew (journal.h). The same holds
 * at exit: a stopped daemon leaves one file per group, and a parts file beside
 * such groups. The D-Bus-set manager settings live in <state>/settings.conf,
 * written atomically. */
#pragma once

#include "manager.h"

G_BEGIN_DECLS

typedef struct _QmgrStore QmgrStore;

/* Creates <state_dir>/groups (mode 0700) as needed. */
QmgrStore *qmgr_store_open (const char *state_dir, GError **error);
void qmgr_store_free (QmgrStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrStore, qmgr_store_free)

/* Writes every group saved "soon" and not yet written. Also runs by itself
 * shortly after such a save. */
void qmgr_store_flush (QmgrStore *store);

/* Folds the journal away now, by journal.h's rule, and waits for it (at
 * exit, and tests). */
void qmgr_store_compact (QmgrStore *store);

/* Tests: runs @hook at each step of every fold (journal.h, QmgrJournalFoldHook),
 * in the fold's thread. */
void qmgr_store_set_fold_hook (QmgrStore *store, void (*hook) (const char *step, gpointer data),
                               gpointer data);

/* Hooks to pass to qmgr_manager_set_store() with the store as their data. */
const QmgrStoreHooks *qmgr_store_hooks (void);

/* Restores every group (a damaged file is renamed to <name>.broken with a
 * warning, the others load) and then the manager settings saved over D-Bus. */
gboolean qmgr_store_load (QmgrStore *store, QmgrManager *manager, GError **error);

/* Serialization: the text of a group's file (key-file syntax), and the same
 * parsed into a GKeyFile (tests). */
char *qmgr_store_group_to_data (QmgrGroup *group, gsize *length);
GKeyFile *qmgr_store_group_to_keyfile (QmgrGroup *group);
QmgrGroup *qmgr_store_group_from_keyfile (QmgrManager *manager, GKeyFile *kf, GError **error);

G_END_DECLS
