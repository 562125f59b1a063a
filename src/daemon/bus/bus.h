/* qmgrd bus — the D-Bus face of the daemon: Manager, Group and Job objects on
 * sd-bus, mapped one call to one core call, core events to signals. */
#pragma once

#include "manager.h"

G_BEGIN_DECLS

typedef struct _QmgrBus QmgrBus;

/* Connects (session bus, or the system bus when @system_bus), registers every
 * object and attaches the connection to the thread-default main context. */
QmgrBus *qmgr_bus_new (QmgrManager *manager, gboolean system_bus, GError **error);
/* Asks for io.github.qmgrd.QMgr1 once every object is in place; @done reports
 * the outcome (error NULL on success). */
void qmgr_bus_request_name (QmgrBus *bus, void (*done) (const GError *error, gpointer user_data),
                            gpointer user_data);
/* @handler runs when the connection is lost. */
void qmgr_bus_set_disconnect_handler (QmgrBus *bus, void (*handler) (gpointer user_data),
                                      gpointer user_data);
/* Monotonic time (µs) of the last incoming message. */
gint64 qmgr_bus_get_last_activity (QmgrBus *bus);
/* Sends what is queued and disconnects. */
void qmgr_bus_free (QmgrBus *bus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrBus, qmgr_bus_free)

G_END_DECLS
