/* qmgrd netmon — NetworkManager over sd-bus. Everything is asynchronous: two
 * matches (NetworkManager's PropertiesChanged, and NameOwnerChanged for its
 * name), then GetAll on its Manager object; GetAll again whenever the name
 * gets a new owner (NetworkManager restarted), the default when it has none.
 * Calls never auto-start NetworkManager: a system where it is installed but
 * not running stays as it is. Losing the system bus counts as having none. */
#include "netmon-nm.h"

#include <string.h>

#include "qmgr-sd-bus-cleanup.h"
#include "qmgr-sd-bus-source.h"

#define NM_NAME  "org.freedesktop.NetworkManager"
#define NM_PATH  "/org/freedesktop/NetworkManager"
#define NM_IFACE "org.freedesktop.NetworkManager"

#define OWNER_MATCH \
  "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus'," \
  "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" NM_NAME "'"
#define PROPERTIES_MATCH \
  "type='signal',sender='" NM_NAME "',path='" NM_PATH "'," \
  "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',arg0='" NM_IFACE "'"

typedef struct {
  QmgrNetMonitor parent;
  sd_bus *bus;                /* NULL: no system bus (any more) */
  GSource *source;
  sd_bus_slot *owner_match;
  sd_bus_slot *properties_match;
  sd_bus_slot *get_all;       /* the GetAll in flight, if any */
  QmgrNmValues nm;
} NmMonitor;

static void
publish (NmMonitor *self)
{
  QmgrNetStatus status;

  qmgr_net_status_from_nm (&status, &self->nm);
  qmgr_net_monitor_update (&self->parent, &status);
}

static void
set_absent (NmMonitor *self)
{
  memset (&self->nm, 0, sizeof self->nm);
  publish (self);
}

/* The field a Manager property of NetworkManager fills, or NULL. */
static guint32 *
field_for (NmMonitor *self, const char *name)
{
  if (strcmp (name, "Metered") == 0)
    return &self->nm.metered;
  if (strcmp (name, "State") == 0)
    return &self->nm.state;
  if (strcmp (name, "Connectivity") == 0)
    return &self->nm.connectivity;
  return NULL;
}

/* Reads one "v" into @field if it holds an integer. NetworkManager sends u;
 * i is taken too (python-dbusmock's template parameters arrive so). */
static int
read_variant_u (sd_bus_message *m, guint32 *field)
{
  const char *contents = NULL;
  char type;
  int r;

  r = sd_bus_message_peek_type (m, &type, &contents);
  if (r < 0)
    return r;
  if (contents == NULL || (strcmp (contents, "u") != 0 && strcmp (contents, "i") != 0))
    return sd_bus_message_skip (m, "v");
  r = sd_bus_message_enter_container (m, 'v', contents);
  if (r < 0)
    return r;
  if (contents[0] == 'u')
    r = sd_bus_message_read (m, "u", field);
  else
    {
      int32_t v;
      r = sd_bus_message_read (m, "i", &v);
      *field = v < 0 ? 0 : (guint32) v;
    }
  if (r < 0)
    return r;
  return sd_bus_message_exit_container (m);
}

/* Reads an a{sv} of Manager properties into self->nm. */
static int
read_properties (NmMonitor *self, sd_bus_message *m)
{
  int r;

  r = sd_bus_message_enter_container (m, 'a', "{sv}");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_enter_container (m, 'e', "sv")) > 0)
    {
      const char *name;
      guint32 *field;

      r = sd_bus_message_read (m, "s", &name);
      if (r < 0)
        return r;
      field = field_for (self, name);
      r = field != NULL ? read_variant_u (m, field) : sd_bus_message_skip (m, "v");
      if (r < 0)
        return r;
      r = sd_bus_message_exit_container (m);
      if (r < 0)
        return r;
    }
  if (r < 0)
    return r;
  return sd_bus_message_exit_container (m);
}

static int
on_get_all (sd_bus_message *reply, void *userdata, G_GNUC_UNUSED sd_bus_error *ret_error)
{
  NmMonitor *self = userdata;
  const sd_bus_error *e = sd_bus_message_get_error (reply);
  int r;

  self->get_all = sd_bus_slot_unref (self->get_all);
  if (e != NULL)
    {
      /* ServiceUnknown or NameHasNoOwner: no NetworkManager. Anything else (it
       * timed out, refused us, has no such object) is no better an answer. */
      g_debug ("NetworkManager did not answer: %s", e->message);
      set_absent (self);
      return 0;
    }
  memset (&self->nm, 0, sizeof self->nm);
  self->nm.present = TRUE;
  r = read_properties (self, reply);
  if (r < 0)
    g_warning ("Could not read NetworkManager's properties: %s", g_strerror (-r));
  publish (self);
  return 0;
}

static void
fetch_all (NmMonitor *self)
{
  g_autoptr(sd_bus_message) m = NULL;
  int r;

  /* An answer still owed by an earlier owner would be stale. */
  self->get_all = sd_bus_slot_unref (self->get_all);
  r = sd_bus_message_new_method_call (self->bus, &m, NM_NAME, NM_PATH,
                                      "org.freedesktop.DBus.Properties", "GetAll");
  if (r >= 0)
    r = sd_bus_message_append (m, "s", NM_IFACE);
  if (r >= 0)
    r = sd_bus_message_set_auto_start (m, 0);
  if (r >= 0)
    r = sd_bus_call_async (self->bus, &self->get_all, m, on_get_all, self, 0);
  if (r < 0)
    {
      g_warning ("Could not ask NetworkManager: %s", g_strerror (-r));
      set_absent (self);
    }
}

static int
on_owner_changed (sd_bus_message *m, void *userdata, G_GNUC_UNUSED sd_bus_error *ret_error)
{
  NmMonitor *self = userdata;
  const char *name, *old_owner, *new_owner;

  if (sd_bus_message_read (m, "sss", &name, &old_owner, &new_owner) < 0)
    return 0;
  if (*new_owner == '\0')
    {
      g_debug ("NetworkManager left the bus");
      self->get_all = sd_bus_slot_unref (self->get_all);
      set_absent (self);
    }
  else
    {
      g_debug ("NetworkManager is %s on the bus", new_owner);
      fetch_all (self);
    }
  return 0;
}

static gboolean
invalidates_ours (NmMonitor *self, sd_bus_message *m)
{
  const char *name;
  gboolean ours = FALSE;

  if (sd_bus_message_enter_container (m, 'a', "s") < 0)
    return FALSE;
  while (sd_bus_message_read (m, "s", &name) > 0)
    ours |= field_for (self, name) != NULL;
  sd_bus_message_exit_container (m);
  return ours;
}

static int
on_properties_changed (sd_bus_message *m, void *userdata,
                       G_GNUC_UNUSED sd_bus_error *ret_error)
{
  NmMonitor *self = userdata;
  const char *iface;
  int r;

  if (sd_bus_message_read (m, "s", &iface) < 0 || strcmp (iface, NM_IFACE) != 0)
    return 0;
  self->nm.present = TRUE;
  r = read_properties (self, m);
  if (r < 0)
    {
      g_warning ("Could not read NetworkManager's changed properties: %s", g_strerror (-r));
      fetch_all (self);
      return 0;
    }
  /* NetworkManager sends values; a property only invalidated is asked for. */
  if (invalidates_ours (self, m))
    fetch_all (self);
  else
    publish (self);
  return 0;
}

static int
on_match_installed (sd_bus_message *reply, G_GNUC_UNUSED void *userdata,
                    G_GNUC_UNUSED sd_bus_error *ret_error)
{
  const sd_bus_error *e = sd_bus_message_get_error (reply);

  /* Without the match, changes go unnoticed; the connection stays (sd-bus
   * would close it without this callback). */
  if (e != NULL)
    g_warning ("Cannot watch NetworkManager: %s", e->message);
  return 0;
}

static void
disconnect (NmMonitor *self)
{
  self->get_all = sd_bus_slot_unref (self->get_all);
  self->owner_match = sd_bus_slot_unref (self->owner_match);
  self->properties_match = sd_bus_slot_unref (self->properties_match);
  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_clear_pointer (&self->source, g_source_unref);
    }
  /* No flush: the daemon never waits on this bus. */
  self->bus = sd_bus_close_unref (self->bus);
}

static void
on_bus_error (int error, gpointer user_data)
{
  NmMonitor *self = user_data;

  g_message ("Lost the system bus (%s): the network counts as unrestricted and online",
             g_strerror (-error));
  disconnect (self);
  set_absent (self);
}

static int
open_bus (const char *address, sd_bus **ret)
{
  g_autoptr(sd_bus) bus = NULL;
  int r;

  if (address == NULL)
    return sd_bus_open_system (ret);
  r = sd_bus_new (&bus);
  if (r >= 0)
    r = sd_bus_set_address (bus, address);
  if (r >= 0)
    r = sd_bus_set_bus_client (bus, 1);
  if (r >= 0)
    r = sd_bus_start (bus);
  if (r < 0)
    return r;
  *ret = g_steal_pointer (&bus);
  return 0;
}

/* Matches first, then GetAll: a change after the answer cannot be missed. */
static int
watch (NmMonitor *self)
{
  int r;

  r = sd_bus_add_match_async (self->bus, &self->owner_match, OWNER_MATCH, on_owner_changed,
                                on_match_installed, self);
  if (r >= 0)
    r = sd_bus_add_match_async (self->bus, &self->properties_match, PROPERTIES_MATCH,
                                on_properties_changed, on_match_installed, self);
  if (r < 0)
    return r;
  self->source = qmgr_sd_bus_source_new (self->bus, on_bus_error, self);
  g_source_attach (self->source, g_main_context_get_thread_default ());
  fetch_all (self);
  return 0;
}

static void
nm_free (QmgrNetMonitor *monitor)
{
  NmMonitor *self = (NmMonitor *) monitor;

  disconnect (self);
  g_free (self);
}

static const QmgrNetMonitorOps nm_ops = {
  .free = nm_free,
};

QmgrNetMonitor *
qmgr_net_monitor_nm_new (const char *address)
{
  NmMonitor *self = g_new0 (NmMonitor, 1);
  int r;

  qmgr_net_monitor_init (&self->parent, &nm_ops);
  r = open_bus (address, &self->bus);
  if (r < 0)
    g_message ("No system bus (%s): the network counts as unrestricted and online",
               g_strerror (-r));
  else if ((r = watch (self)) < 0)
    {
      g_warning ("Cannot watch NetworkManager (%s): the network counts as unrestricted "
                 "and online", g_strerror (-r));
      disconnect (self);
    }
  if (r < 0)
    set_absent (self);
  return &self->parent;
}
