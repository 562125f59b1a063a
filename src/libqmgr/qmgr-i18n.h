/* libqmgr — private: the gettext domain of the library's messages, bound on
 * first use (the installed locale directory, or $QMGR_LOCALEDIR for a build
 * tree; the variable is ignored in set-id programs). */
#pragma once

#include <glib.h>

G_GNUC_INTERNAL const char *qmgr_gettext (const char *msgid) G_GNUC_FORMAT (1);
G_GNUC_INTERNAL void qmgr_i18n_bind (void);

#define _(String) qmgr_gettext (String)
#define N_(String) (String)
