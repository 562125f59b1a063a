/* qmgrd store — the text of the files the store keeps: a group's file (its
 * writer and its reader side by side, so that whatever one writes the other
 * reads back) and the manager's settings. GKeyFile syntax. No I/O here. */
#pragma once

#include "manager.h"
#include "store.h"

G_BEGIN_DECLS

#define QMGR_STORE_VERSION 1

/* The most callbacks owed that a group file holds: the writer writes the newest
 * this many, the reader refuses more. */
#define QMGR_STORE_MAX_PENDING_NOTIFICATIONS 10000

/* The group parsed from a group file's text (qmgr_store_group_from_keyfile()
 * on GKeyFile's parse of it). */
QmgrGroup *qmgr_store_group_from_data (QmgrManager *manager, const char *data, gsize len,
                                       GError **error);

/* The settings saved over D-Bus (settings.conf). */
char *qmgr_store_settings_to_data (QmgrManager *manager, gsize *length);
/* Applies what @kf holds to the manager's settings; a value out of range is
 * skipped, and said in @error (FALSE). */
gboolean qmgr_store_settings_from_keyfile (QmgrManager *manager, GKeyFile *kf, GError **error);

G_END_DECLS
