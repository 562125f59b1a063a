/* qmgrd core — validation of the values clients hand us: URLs, destination paths,
 * names and callback targets. Pure string rules, no I/O; every failure is a
 * QMGR_ERROR_INVALID_ARGS whose message names the offending value. */
#pragma once

#include <glib.h>

#include "qmgr-error.h"

G_BEGIN_DECLS

#define QMGR_URL_MAX              2200
#define QMGR_DISPLAY_NAME_MAX     256
#define QMGR_DESCRIPTION_MAX      1024
#define QMGR_REMOTE_USER_MAX      256
#define QMGR_REMOTE_PASSWORD_MAX  1024

gboolean qmgr_validate_url (const char *url, guint32 protocol_flags, GError **error);
gboolean qmgr_validate_local_path (const char *path, GError **error);
gboolean qmgr_validate_display_name (const char *name, GError **error);
gboolean qmgr_validate_description (const char *text, GError **error);
gboolean qmgr_validate_remote_user (const char *user, GError **error);
gboolean qmgr_validate_remote_password (const char *password, GError **error);
/* "" (clears), "bus.name" or "bus.name:/object/path". */
gboolean qmgr_validate_notify_clsid (const char *clsid, GError **error);
/* Splits a valid non-empty NOTIFYCLSID into bus name and object path ("/" by default). */
void qmgr_notify_clsid_split (const char *clsid, char **bus_name, char **object_path);

gboolean qmgr_is_well_known_bus_name (const char *name);
gboolean qmgr_is_object_path (const char *path);

G_END_DECLS
