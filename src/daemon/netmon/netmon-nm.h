/* qmgrd netmon — the network monitor that asks NetworkManager, on a
 * connection of its own to the system bus (in session mode too). */
#pragma once

#include "netmon.h"

G_BEGIN_DECLS

/* Watches org.freedesktop.NetworkManager on the bus at @address (NULL: the
 * system bus, which honours $DBUS_SYSTEM_BUS_ADDRESS), from the thread-default
 * main context. Never fails: without a bus, or without NetworkManager on it,
 * the status is the default (UNRESTRICTED, online). Makes no synchronous call:
 * it becomes ready once NetworkManager answered or was found absent. */
QmgrNetMonitor *qmgr_net_monitor_nm_new (const char *address);

G_END_DECLS
