/* qmgrd transfer — TCP_INFO samples and the background receive buffer (see
 * tcp-path.h).
 *
 * For a download, tcpi_rtt is useless: it is the sender's estimate and we
 * send almost nothing (it keeps the value of the handshake and the request).
 * tcpi_rcv_rtt is the receiver's own: the time from an ACK of ours to the
 * data that echoes its timestamp, so it includes the queue in front of the
 * link the data crosses (1 ms resolution, smoothed by the kernel). */
#include "tcp-path.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

/* As high as the lifted clamp goes: the kernel caps it at net.core.rmem_max
 * (autotuning, off for good once SO_RCVBUF is set, would go to tcp_rmem[2]). */
#define UNCLAMPED_RCVBUF (16 * 1024 * 1024)

static gboolean
address_is_loopback (const struct sockaddr_storage *a)
{
  if (a->ss_family == AF_INET)
    return (ntohl (((const struct sockaddr_in *) a)->sin_addr.s_addr) >> 24) == 127;
  if (a->ss_family == AF_INET6)
    {
      const struct in6_addr *v6 = &((const struct sockaddr_in6 *) a)->sin6_addr;
      return IN6_IS_ADDR_LOOPBACK (v6) || (IN6_IS_ADDR_V4MAPPED (v6) && v6->s6_addr[12] == 127);
    }
  return a->ss_family == AF_UNIX;
}

static gboolean
same_host (const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
  if (a->ss_family != b->ss_family)
    return FALSE;
  if (a->ss_family == AF_INET)
    return ((const struct sockaddr_in *) a)->sin_addr.s_addr ==
           ((const struct sockaddr_in *) b)->sin_addr.s_addr;
  if (a->ss_family == AF_INET6)
    return memcmp (&((const struct sockaddr_in6 *) a)->sin6_addr,
                   &((const struct sockaddr_in6 *) b)->sin6_addr, sizeof (struct in6_addr)) == 0;
  return FALSE;
}

int
qmgr_tcp_is_local (int fd)
{
  struct sockaddr_storage peer, self;
  socklen_t peer_len = sizeof peer, self_len = sizeof self;

  if (getpeername (fd, (struct sockaddr *) &peer, &peer_len) < 0)
    return -1;
  if (address_is_loopback (&peer))
    return 1;
  /* A connection to one of our own addresses goes over loopback too. */
  return getsockname (fd, (struct sockaddr *) &self, &self_len) == 0 && same_host (&peer, &self);
}

gboolean
qmgr_tcp_read_info (int fd, guint32 *rcv_rtt_us, guint64 *bytes_received)
{
  struct tcp_info info;
  socklen_t len = sizeof info;

  memset (&info, 0, sizeof info);
  if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0 ||
      len < offsetof (struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
    return FALSE;
  *rcv_rtt_us = info.tcpi_rcv_rtt;
  *bytes_received = info.tcpi_bytes_received;
  return TRUE;
}

gboolean
qmgr_tcp_set_background (int fd, gboolean background)
{
  int size = background ? QMGR_TCP_BACKGROUND_RCVBUF : UNCLAMPED_RCVBUF;

  if (setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0)
    return FALSE;
  /* A smaller buffer takes effect on a live connection at once; a larger one
   * only with the window clamp the kernel fixed when it was smaller. */
  if (!background && setsockopt (fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &size, sizeof size) < 0)
    return FALSE;
  return TRUE;
}
