/* libqmgr — binds the gettext domain once, so the library's messages are
 * translated whatever the application did about its own domain. */
#include "config.h"

#include "qmgr-i18n.h"

#include <libintl.h>
#include <stdlib.h>

void
qmgr_i18n_bind (void)
{
  static gsize bound = 0;

  if (g_once_init_enter (&bound))
    {
      const char *dir = secure_getenv ("QMGR_LOCALEDIR");

      bindtextdomain (GETTEXT_PACKAGE, dir != NULL && *dir != '\0' ? dir : LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&bound, 1);
    }
}

const char *
qmgr_gettext (const char *msgid)
{
  qmgr_i18n_bind ();
  return g_dgettext (GETTEXT_PACKAGE, msgid);
}
