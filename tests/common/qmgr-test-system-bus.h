/* qmgrd tests — a private "system" bus (a dbus-daemon of the test's own) and
 * NetworkManager on it as python-dbusmock's networkmanager template, so that
 * the daemon's network monitor can be driven: point the daemon's
 * DBUS_SYSTEM_BUS_ADDRESS at the bus (qmgr_test_daemon_set_env) and flip the
 * mock's Manager properties. Waiting is on bus events, with deadlines. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define QMGR_TEST_NM_NAME  "org.freedesktop.NetworkManager"
#define QMGR_TEST_NM_PATH  "/org/freedesktop/NetworkManager"
#define QMGR_TEST_NM_IFACE "org.freedesktop.NetworkManager"

typedef struct _QmgrTestSystemBus QmgrTestSystemBus;
typedef struct _QmgrTestNm QmgrTestNm;

/* A dbus-daemon with a permissive policy on a socket in a fresh temp dir;
 * listening on return (asserts). */
QmgrTestSystemBus *qmgr_test_system_bus_new (void);
/* The same, with @extra_config (busconfig elements, e.g. <limit> lines) added:
 * a bus with the limits a test needs. */
QmgrTestSystemBus *qmgr_test_system_bus_new_with_config (const char *extra_config);
/* "unix:path=…" (also after the bus was stopped). */
const char *qmgr_test_system_bus_get_address (QmgrTestSystemBus *bus);
/* The test's own connection to it, kept for the bus's life. */
GDBusConnection *qmgr_test_system_bus_get_connection (QmgrTestSystemBus *bus);
/* The bus goes away (SIGTERM, reaped): its clients see it close. */
void qmgr_test_system_bus_stop (QmgrTestSystemBus *bus);
void qmgr_test_system_bus_free (QmgrTestSystemBus *bus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrTestSystemBus, qmgr_test_system_bus_free)

/* Runs /usr/bin/python3 -m dbusmock --template networkmanager on @bus, with
 * the template's @parameters_json (NULL: none; note that JSON numbers reach
 * the bus as int32), and waits (deadline 20 s) until it owns the name, which
 * it takes over from a mock already running. Then adds the Manager property
 * Metered (u), which the template lacks, as @metered, without a signal.
 * Python's output goes to a log file printed on failures. Asserts. */
QmgrTestNm *qmgr_test_nm_start (QmgrTestSystemBus *bus, const char *parameters_json,
                                guint32 metered);
/* Sets Manager properties (Metered, State, Connectivity: u) through the mock's
 * UpdateProperties, which emits org.freedesktop.DBus.Properties.PropertiesChanged
 * as NetworkManager does. */
void qmgr_test_nm_set_u (QmgrTestNm *nm, const char *property, guint32 value);
guint32 qmgr_test_nm_get_u (QmgrTestNm *nm, const char *property);
/* Freezes the mock (SIGSTOP): it keeps its name but answers nothing until thawed
 * (SIGCONT), as a NetworkManager that hangs. */
void qmgr_test_nm_freeze (QmgrTestNm *nm, gboolean frozen);
/* NetworkManager goes away: SIGTERM, reaped, and the name gone from the bus
 * (unless another mock took it over). Asserts. */
void qmgr_test_nm_stop (QmgrTestNm *nm);
/* Stops it if it runs. */
void qmgr_test_nm_free (QmgrTestNm *nm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrTestNm, qmgr_test_nm_free)

G_END_DECLS
