/* qmgrd bus — runs an sd_bus connection from a GLib main context. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* @on_error runs (once) when processing fails, e.g. the bus went away. */
GSource *qmgr_sd_bus_source_new (sd_bus *bus, void (*on_error) (int error, gpointer user_data),
                                 gpointer user_data);

G_END_DECLS
