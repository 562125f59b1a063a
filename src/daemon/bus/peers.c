/* qmgrd bus — what we know of the peers that call us: their uid (asked of the
 * bus driver once, the one synchronous call allowed) and when they leave the bus
 * (sd_bus_track), which drops the cache entry and the peer's live callback
 * pointers. Groups themselves outlive the peer that made them. */
#include "bus-private.h"

#include <errno.h>


typedef struct {
  QmgrBus *bus;
  char *name;
  sd_bus_track *track;
  uid_t uid;
  gboolean uid_known;
} Peer;

static void
peer_free (Peer *p)
{
  sd_bus_track_unref (p->track);
  g_free (p->name);
  g_free (p);
}

void
qmgr_bus_peers_init (QmgrBus *bus)
{
  bus->peers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) peer_free);
}

void
qmgr_bus_peers_clear (QmgrBus *bus)
{
  g_clear_pointer (&bus->peers, g_hash_table_unref);
}

static int
on_peer_gone (sd_bus_track *track, void *userdata)
{
  Peer *p = userdata;
  QmgrBus *bus = p->bus;
  g_autofree char *name = g_strdup (p->name);

  g_debug ("Peer %s left the bus", name);
  g_hash_table_remove (bus->peers, name);   /* frees p and its track */
  qmgr_bus_callbacks_forget_peer (bus, name);
  return 0;
}

static Peer *
peer_get (QmgrBus *bus, const char *name, int *r)
{
  Peer *p = g_hash_table_lookup (bus->peers, name);

  *r = 0;
  if (p != NULL)
    return p;
  p = g_new0 (Peer, 1);
  p->bus = bus;
  p->name = g_strdup (name);
  *r = sd_bus_track_new (bus->bus, &p->track, on_peer_gone, p);
  if (*r >= 0)
    *r = sd_bus_track_add_name (p->track, name);
  if (*r < 0)
    {
      peer_free (p);
      return NULL;
    }
  g_hash_table_insert (bus->peers, p->name, p);
  return p;
}

int
qmgr_bus_peers_track (QmgrBus *bus, const char *unique_name)
{
  int r;
  peer_get (bus, unique_name, &r);
  return r;
}

int
qmgr_bus_peers_get_uid (QmgrBus *bus, sd_bus_message *m, uid_t *uid, sd_bus_error *ret_error)
{
  const char *sender = sd_bus_message_get_sender (m);
  g_autoptr(sd_bus_creds) creds = NULL;
  Peer *p;
  int r;

  if (sender == NULL)
    {
      /* A direct connection has no bus driver to ask; it is ourselves. */
      *uid = geteuid ();
      return 0;
    }
  p = peer_get (bus, sender, &r);
  if (p == NULL)
    /* The peer left before we could track it; nothing it asks can matter now. */
    return qmgr_bus_reply_errorf (ret_error, QMGR_ERROR_ACCESS_DENIED,
                                  "Could not identify the caller %s: %s", sender,
                                  g_strerror (-r));
  if (p->uid_known)
    {
      *uid = p->uid;
      return 0;
    }
  r = sd_bus_query_sender_creds (m, SD_BUS_CREDS_EUID, &creds);
  if (r >= 0)
    r = sd_bus_creds_get_euid (creds, &p->uid);
  if (r < 0)
    return qmgr_bus_reply_errorf (ret_error, QMGR_ERROR_ACCESS_DENIED,
                                  "Could not identify the caller %s: %s", sender,
                                  g_strerror (-r));
  p->uid_known = TRUE;
  *uid = p->uid;
  return 0;
}
