/* qmgrd service — the configuration file (GKeyFile, section [Manager]); see qmgrd.conf(5). */
#pragma once

#include "manager.h"

G_BEGIN_DECLS

typedef struct {
  QmgrManagerSettings manager;
  guint expire_after_days;
} QmgrConfig;

/* The default path: $XDG_CONFIG_HOME/qmgrd/qmgrd.conf, or /etc/qmgrd/qmgrd.conf with --system. */
char *qmgr_config_default_path (gboolean system_mode);
/* Fills @config with the defaults, then the file's values. A missing file is fine
 * unless @required; a malformed file or value is an error naming the key. */
gboolean qmgr_config_load (QmgrConfig *config, const char *path, gboolean required,
                           gboolean system_mode, GError **error);

G_END_DECLS
