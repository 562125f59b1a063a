/* qmgrd store — the text of the files the store keeps: a group's file (its
 * writer and its reader side by side, so that whatever one writes the other
 * reads back) and the manager's settings. GKeyFile syntax. No I/O here. */
#pragma once

#include <limits.h>

#include "manager.h"
#include "store.h"
#include "validate.h"

G_BEGIN_DECLS

/* 2: every file ends with QMGR_STORE_END_MARKER and the checksum of what
 * precedes it. Files of version 1 (without it) are still read, and written
 * again in version 2. */
#define QMGR_STORE_VERSION 2
#define QMGR_STORE_END_MARKER "[End]\nCRC32="

/* The most callbacks owed that a group file holds is the core's own bound,
 * QMGR_PENDING_NOTIFICATIONS_MAX: the writer writes the newest that many, the
 * reader refuses more. */

/* The writer's bounds on strings that no client validated: a longer validator
 * is not stored (a resume then starts over), an error message is cut. */
#define QMGR_STORE_VALIDATOR_MAX 1024
#define QMGR_STORE_MESSAGE_MAX 1024

/* The longest text of one file's section, of one callback's, and of the rest
 * of a group: every string at its bound and doubled by escapes (a path of
 * backslashes), plus the keys and numbers. */
#define QMGR_STORE_FILE_SECTION_MAX \
  (2 * (QMGR_URL_MAX + PATH_MAX + QMGR_STORE_VALIDATOR_MAX + QMGR_STORE_MESSAGE_MAX) + 512)
#define QMGR_STORE_NOTIFICATION_SECTION_MAX 256
#define QMGR_STORE_HEADER_MAX (64 << 10)

/* The largest group file the writer can produce when a job holds at most
 * @max_files files (never fewer than the default quota's 100,000 are
 * assumed): anything bigger is not read. About 1.7 GB for 100,000. */
guint64 qmgr_store_group_file_max (guint max_files);

/* Part of a group's text (store-overlay.h): its header (all but the files)
 * and the sections of @files (indices of the job's files, in order). */
char *qmgr_store_group_part_to_data (QmgrGroup *group, const guint *files, guint n_files,
                                     gsize *length);

/* Whether @data ends with the end marker; then *@crc_ok tells whether its
 * checksum matches everything before it. */
gboolean qmgr_store_text_has_end (const char *data, gsize len, gboolean *crc_ok);
/* The end marker for a text whose CRC-32 is @crc, into @buf (32 bytes). */
void qmgr_store_format_end (guint32 crc, char *buf);

/* The group parsed from a group file's text: checked against its end marker
 * (a file of version 1, which has none, sets @legacy), then parsed with
 * GKeyFile and validated. Error messages never quote the text. */
QmgrGroup *qmgr_store_group_from_data (QmgrManager *manager, const char *data, gsize len,
                                       gboolean *legacy, GError **error);


/* The settings saved over D-Bus (settings.conf). */
char *qmgr_store_settings_to_data (QmgrManager *manager, gsize *length);
/* Applies what @kf holds to the manager's settings; a value out of range is
 * skipped, and said in @error (FALSE). */
gboolean qmgr_store_settings_from_keyfile (QmgrManager *manager, GKeyFile *kf, GError **error);

G_END_DECLS
