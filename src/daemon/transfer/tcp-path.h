/* qmgrd transfer — what a TCP connection of ours says about its path, and the
 * receive buffer of background connections: the receiver's levers on a
 * download whose congestion control is the server's. Plain socket calls, no
 * libcurl. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The receive buffer (SO_RCVBUF) of a background connection: what the server
 * may keep in flight towards us, and so in the queue of the link we share
 * with the user's own traffic. See docs/architecture.md, "Yielding". */
#define QMGR_TCP_BACKGROUND_RCVBUF (64 * 1024)

/* The peer is this machine (loopback, or one of its own addresses): no link
 * is shared with anybody. 1: it is, 0: it is not, -1: not connected yet. */
int qmgr_tcp_is_local (int fd);
/* The receiver's round-trip estimate (tcpi_rcv_rtt, µs; 0 until the kernel
 * has one) and the bytes received so far (tcpi_bytes_received). FALSE when
 * the socket cannot say. */
gboolean qmgr_tcp_read_info (int fd, guint32 *rcv_rtt_us, guint64 *bytes_received);
/* Clamps the receive buffer (@background) or lifts the clamp again as far as
 * an unprivileged process can (net.core.rmem_max); FALSE if the kernel
 * refused. */
gboolean qmgr_tcp_set_background (int fd, gboolean background);

G_END_DECLS
