/* qmgrd service — the daemon object: wires the layers (store, core, backend,
 * scheduler, bus) and runs them on the thread-default main loop. main() parses
 * the options and runs one. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _QmgrDaemon QmgrDaemon;

typedef struct {
  gboolean system_mode;
  const char *state_dir;     /* NULL: the mode's default */
  const char *config_path;   /* NULL: the mode's default, which may be missing */
  guint idle_timeout;        /* seconds without requests before exiting while
                                nothing is queued; 0: never */
} QmgrDaemonOptions;

/* Reads the configuration and the store, connects to the bus and registers
 * every object. Errors name what failed, for a person. */
QmgrDaemon *qmgr_daemon_new (const QmgrDaemonOptions *options, GError **error);
/* Asks for the bus name and starts the timers (idle exit, expiry); the
 * daemon then serves until qmgr_daemon_stop(). */
void qmgr_daemon_start (QmgrDaemon *daemon);
/* Runs the main loop until the daemon stops; returns the exit status. */
int qmgr_daemon_run (QmgrDaemon *daemon);
/* Makes qmgr_daemon_run() return (from a signal handler's source, a lost bus
 * or the idle timer); the first status given wins. */
void qmgr_daemon_stop (QmgrDaemon *daemon, int exit_status);
/* Stops the transfers (temp files stay), writes what is not yet written,
 * folds the journal into the group files and disconnects. */
void qmgr_daemon_free (QmgrDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrDaemon, qmgr_daemon_free)

G_END_DECLS
