/* qmgrd bus — what we know of the peers that call us: their uid (asked of the
 * bus driver once, the one synchronous call allowed, and cached) and, for the
 * few that register a live callback pointer, when they leave the bus.
 *
 * A bus limits the match rules of a connection (512 on a system bus by
 * default) and sd-bus drops the connection when one it asked for without an
 * install callback is refused. So no caller costs a rule: the uid cache is
 * bounded (unique names are never reused; an entry evicted is asked again)
 * and emptied of the peers that leave through one rule for the whole bus
 * (every NameOwnerChanged that ends an ownership: a signal per connection
 * that leaves the bus), only peers with live pointers are watched (one rule
 * each, at most
 * PEERS_WATCHED_MAX, installed with a callback that takes a refusal calmly),
 * and a live pointer whose peer is found gone when a callback fails is dropped
 * then (callbacks.c). Groups themselves outlive the peer that made them. */
#include "bus-private.h"

#include <errno.h>

#define PEERS_CACHED_MAX 4096
#define PEERS_WATCHED_MAX 256

typedef struct {
  QmgrBus *bus;
  char *name;
  uid_t uid;
  gboolean uid_known;
  sd_bus_slot *match;         /* NameOwnerChanged of this name: watched */
  sd_bus_slot *owner_query;   /* GetNameOwner, once the match is in place */
  guint64 used;               /* for eviction: the most recent use */
} Peer;

static void
peer_free (Peer *p)
{
  sd_bus_slot_unref (p->match);
  sd_bus_slot_unref (p->owner_query);
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
  bus->departures = sd_bus_slot_unref (bus->departures);
  g_clear_pointer (&bus->peers, g_hash_table_unref);
}

/* The peer left: its cache entry and its live pointers go. */
static void
peer_gone (QmgrBus *bus, const char *name)
{
  g_autofree char *copy = g_strdup (name);

  g_debug ("Peer %s left the bus", copy);
  g_hash_table_remove (bus->peers, copy);
  qmgr_bus_callbacks_forget_peer (bus, copy);
}

void
qmgr_bus_peers_forget (QmgrBus *bus, const char *unique_name)
{
  peer_gone (bus, unique_name);
}

/* The least recently used peer that is not watched goes, to make room. */
static void
evict_one (QmgrBus *bus)
{
  GHashTableIter iter;
  gpointer value;
  Peer *oldest = NULL;

  g_hash_table_iter_init (&iter, bus->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Peer *p = value;
      if (p->match == NULL && (oldest == NULL || p->used < oldest->used))
        oldest = p;
    }
  if (oldest != NULL)
    g_hash_table_remove (bus->peers, oldest->name);
}

static Peer *
peer_get (QmgrBus *bus, const char *name)
{
  Peer *p = g_hash_table_lookup (bus->peers, name);

  if (p == NULL)
    {
      if (g_hash_table_size (bus->peers) >= PEERS_CACHED_MAX)
        evict_one (bus);
      p = g_new0 (Peer, 1);
      p->bus = bus;
      p->name = g_strdup (name);
      g_hash_table_insert (bus->peers, p->name, p);
    }
  p->used = ++bus->peers_clock;
  return p;
}

static guint
peers_watched (QmgrBus *bus)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, bus->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += ((Peer *) value)->match != NULL;
  return n;
}

static int
on_name_owner_changed (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  Peer *p = userdata;
  const char *name, *old_owner, *new_owner;

  if (sd_bus_message_read (m, "sss", &name, &old_owner, &new_owner) >= 0 &&
      g_str_equal (name, p->name) && new_owner[0] == '\0')
    peer_gone (p->bus, p->name);
  return 0;
}

static int
on_name_owner (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  Peer *p = userdata;

  p->owner_query = sd_bus_slot_unref (p->owner_query);
  /* Gone before the match was in place: it would never be heard leaving. */
  if (sd_bus_message_is_method_error (reply, NULL))
    peer_gone (p->bus, p->name);
  return 0;
}

static int
on_match_installed (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  Peer *p = userdata;
  const sd_bus_error *e = sd_bus_message_get_error (reply);

  if (e != NULL)
    {
      /* Refused (the bus's limit on rules): the connection stays; a callback
       * that fails tells that the peer left instead. */
      g_message ("Cannot watch peer %s (%s): its live callback pointer is dropped when a "
                 "callback to it fails", p->name, e->message);
      p->match = sd_bus_slot_unref (p->match);
      return 0;
    }
  if (sd_bus_call_method_async (p->bus->bus, &p->owner_query, "org.freedesktop.DBus",
                                "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
                                on_name_owner, p, "s", p->name) < 0)
    g_debug ("Could not check that peer %s is still on the bus", p->name);
  return 0;
}

/* Any connection left the bus: a peer we know of that is not watched on its
 * own (those hear it through their own rule) goes from the cache. */
static int
on_departure (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  QmgrBus *bus = userdata;
  const char *name, *old_owner, *new_owner;
  Peer *p;

  if (sd_bus_message_read (m, "sss", &name, &old_owner, &new_owner) < 0 ||
      name[0] != ':' || new_owner[0] != '\0')
    return 0;
  p = g_hash_table_lookup (bus->peers, name);
  if (p != NULL && p->match == NULL)
    peer_gone (bus, name);
  return 0;
}

static int
on_departures_installed (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  QmgrBus *bus = userdata;
  const sd_bus_error *e = sd_bus_message_get_error (reply);

  if (e != NULL)
    {
      g_message ("Cannot follow peers leaving the bus (%s): the peers cache keeps them until "
                 "they are evicted", e->message);
      bus->departures = sd_bus_slot_unref (bus->departures);
    }
  return 0;
}

int
qmgr_bus_peers_watch_departures (QmgrBus *bus)
{
  return sd_bus_add_match_async (bus->bus, &bus->departures,
                                 "type='signal',sender='org.freedesktop.DBus',"
                                 "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
                                 "member='NameOwnerChanged',arg2=''",
                                 on_departure, on_departures_installed, bus);
}

int
qmgr_bus_peers_track (QmgrBus *bus, const char *unique_name)
{
  Peer *p = peer_get (bus, unique_name);
  g_autofree char *rule = NULL;

  if (p->match != NULL)
    return 0;
  if (peers_watched (bus) >= PEERS_WATCHED_MAX)
    return -ENOBUFS;
  rule = g_strdup_printf ("type='signal',sender='org.freedesktop.DBus',"
                          "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
                          "member='NameOwnerChanged',arg0='%s'", unique_name);
  return sd_bus_add_match_async (bus->bus, &p->match, rule, on_name_owner_changed,
                                 on_match_installed, p);
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
  p = peer_get (bus, sender);
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
