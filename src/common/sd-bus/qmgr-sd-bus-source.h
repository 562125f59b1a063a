/* qmgrd — runs an sd_bus connection from a GLib main context: the daemon's
 * service connection, and its client connection to NetworkManager. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* @on_error runs (once) when processing fails, e.g. the bus went away. */
GSource *qmgr_sd_bus_source_new (sd_bus *bus, void (*on_error) (int error, gpointer user_data),
                                 gpointer user_data);

/* @begin runs before a dispatch processes messages and @end after it (the
 * messages of one dispatch form a batch). */
void qmgr_sd_bus_source_set_batch_hooks (GSource *source, void (*begin) (gpointer user_data),
                                         void (*end) (gpointer user_data), gpointer user_data);

G_END_DECLS
