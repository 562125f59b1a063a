/* qmgrd tests — runs the real daemon on a private dbus-daemon with relocated state,
 * config and destination directories, and offers the few helpers every integration
 * test needs: synchronous calls, D-Bus error assertions, waiting with a deadline. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define QMGR_TEST_BUS_NAME     "io.github.qmgrd.QMgr1"
#define QMGR_TEST_MANAGER_PATH "/io/github/qmgrd/QMgr1"
#define QMGR_TEST_MANAGER_IFACE "io.github.qmgrd.QMgr1.Manager"
#define QMGR_TEST_GROUP_IFACE  "io.github.qmgrd.QMgr1.Group"
#define QMGR_TEST_JOB_IFACE    "io.github.qmgrd.QMgr1.Job"
#define QMGR_TEST_CALLBACK_IFACE "io.github.qmgrd.QMgr1.Callback"

typedef struct _QmgrTestDaemon QmgrTestDaemon;

/* A private dbus-daemon (GTestDBus, G_TEST_DBUS_NONE) and fresh temp dirs: state dir,
 * config dir, a "files" dir for destinations, the bus's service directory; the
 * daemon's XDG_* point into them. */
QmgrTestDaemon *qmgr_test_daemon_new (void);
/* An environment variable for every later start of the daemon (after the harness's own,
 * so it may override them); @value NULL removes @name from the daemon's environment. */
void qmgr_test_daemon_set_env (QmgrTestDaemon *d, const char *name, const char *value);
/* Spawns $QMGRD_BINARY --state-dir <state> [extra_args] on the private bus, stdout and
 * stderr appended to the log file; waits (deadline 20 s) until the bus name has an
 * owner. Asserts on failure, after printing the daemon log. */
void qmgr_test_daemon_start (QmgrTestDaemon *d, const char *const *extra_args);
/* SIGTERM, wait (deadline 20 s), assert exit status 0 (else print the log and fail). */
void qmgr_test_daemon_stop (QmgrTestDaemon *d);
/* SIGKILL and reap. */
void qmgr_test_daemon_kill (QmgrTestDaemon *d);
/* The process is still alive (waitpid WNOHANG). */
gboolean qmgr_test_daemon_is_running (QmgrTestDaemon *d);
/* A client connection to the private bus, kept for the harness's life. */
GDBusConnection *qmgr_test_daemon_get_connection (QmgrTestDaemon *d);
/* An additional, separate client connection (caller unrefs). */
GDBusConnection *qmgr_test_daemon_new_connection (QmgrTestDaemon *d);
const char *qmgr_test_daemon_get_state_dir (QmgrTestDaemon *d);
const char *qmgr_test_daemon_get_config_dir (QmgrTestDaemon *d);
const char *qmgr_test_daemon_get_files_dir (QmgrTestDaemon *d);
const char *qmgr_test_daemon_get_bus_address (QmgrTestDaemon *d);
/* Makes @name D-Bus activatable on the private bus: writes <name>.service into the
 * bus's service directory (empty until then; the bus reads it when a message for
 * an unknown name asks to be auto-started), with @argv (absolute program path
 * first) as its Exec line. The program starts with DBUS_STARTER_ADDRESS set. */
void qmgr_test_daemon_add_service (QmgrTestDaemon *d, const char *name,
                                   const char *const *argv);
/* Path of the log file (all runs of the daemon, appended). */
const char *qmgr_test_daemon_get_log (QmgrTestDaemon *d);
GPid qmgr_test_daemon_get_pid (QmgrTestDaemon *d);
/* Stops (asserting exit 0) if running, tears the bus down, removes the temp dirs. */
void qmgr_test_daemon_free (QmgrTestDaemon *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrTestDaemon, qmgr_test_daemon_free)

/* Synchronous call on the daemon (bus name io.github.qmgrd.QMgr1), timeout 25 s.
 * @params is consumed if floating. Returns NULL with @error set on a D-Bus error. */
GVariant *qmgr_test_call (QmgrTestDaemon *d, const char *path, const char *interface,
                          const char *method, GVariant *params, const char *reply_type,
                          GError **error);

void qmgr_test_assert_dbus_error_impl (GError **error, const char *dbus_name,
                                       gboolean check_hresult, const char *file, int line);

/* Asserts @error is set and its remote D-Bus error name equals @dbus_name; clears it. */
#define qmgr_test_assert_dbus_error(error, dbus_name) \
  qmgr_test_assert_dbus_error_impl (&(error), (dbus_name), FALSE, __FILE__, __LINE__)
/* As above, and the message ends with the HRESULT of @dbus_name in brackets
 * ("… [0x81001001]"), as docs/dbus-api.md "Errors" requires of the daemon's own errors. */
#define qmgr_test_assert_qmgr_error(error, dbus_name) \
  qmgr_test_assert_dbus_error_impl (&(error), (dbus_name), TRUE, __FILE__, __LINE__)

/* The HRESULT docs/dbus-api.md gives @dbus_name, or 0. */
guint32 qmgr_test_hresult_for_error (const char *dbus_name);

/* Iterates the default main context until cond(user_data) is TRUE or timeout_ms
 * passes; returns the final value of cond. */
gboolean qmgr_test_wait_until (gboolean (*cond) (gpointer), gpointer user_data,
                               guint timeout_ms);

/* introspection/<interface_name>.xml (from $QMGR_INTROSPECTION_DIR), parsed: the
 * interfaces as the contract declares them, for tests that iterate over them.
 * Asserts that the file holds that one interface. */
GDBusNodeInfo *qmgr_test_load_interface_xml (const char *interface_name);

/* VmRSS of the daemon from /proc/PID/status, in KiB; -1 if unknown. */
long qmgr_test_daemon_get_rss_kib (QmgrTestDaemon *d);
/* Only the anonymous part (heap, stacks): what the daemon's own allocations hold,
 * without shared library pages that are mapped in when a code path first runs. */
long qmgr_test_daemon_get_rss_anon_kib (QmgrTestDaemon *d);

G_END_DECLS
