/* qmgrd — GUIDs: 16 bytes, and the wire forms of docs/dbus-api.md ("GUIDs").
 * Shared by the daemon and the client library; glib only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define QMGR_GUID_STRING_LEN 36   /* xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx */
#define QMGR_GUID_HEX_LEN    32

typedef struct {
  guint8 bytes[16];
} QmgrGuid;

#define QMGR_GUID_NULL ((QmgrGuid) { { 0 } })

/* Accepts the dashed form with or without braces, or 32 hex digits; any case.
 * The empty string, the all-zero GUID and anything else: QMGR_ERROR_INVALID_ARGS.
 * (Callers that allow "" for "generate one" check for it first.) */
gboolean qmgr_guid_parse (const char *text, QmgrGuid *out, GError **error);
/* Exactly 32 lowercase hex digits (the object path element). */
gboolean qmgr_guid_from_hex (const char *hex, gsize len, QmgrGuid *out);
QmgrGuid qmgr_guid_generate (void);
/* The dashed form of the GUID whose 32 hex digits @hex starts with ("" if it
 * does not): for messages about a group known by its file or record name. */
void qmgr_guid_hex_to_string (const char *hex, char out[QMGR_GUID_STRING_LEN + 1]);
void qmgr_guid_to_string (QmgrGuid guid, char out[QMGR_GUID_STRING_LEN + 1]);
void qmgr_guid_to_hex (QmgrGuid guid, char out[QMGR_GUID_HEX_LEN + 1]);
gboolean qmgr_guid_is_null (QmgrGuid guid);
gboolean qmgr_guid_equal (QmgrGuid a, QmgrGuid b);
/* For GHashTable keys that point at a QmgrGuid. */
guint qmgr_guid_hash (gconstpointer guid);
gboolean qmgr_guid_key_equal (gconstpointer a, gconstpointer b);

G_END_DECLS
