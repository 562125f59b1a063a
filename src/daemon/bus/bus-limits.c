/* qmgrd bus — replies that must fit the bus. Every reply but one is bounded by
 * the quotas and the string limits; ObjectManager.GetManagedObjects (one array
 * of every object the caller sees, with every property) grows with the whole
 * queue. A bus may refuse a message over 32 MiB (the system bus's default, and
 * dbus-daemon's when unconfigured) and drop the connection that sent it, and
 * D-Bus forbids arrays over 64 MiB: the daemon must never build such a reply.
 * When the reply could pass REPLY_MAX, the call is answered LimitsExceeded
 * instead (EnumGroups and the objects' own Properties.GetAll still work). */
#include "bus-private.h"

#include <string.h>

/* Well inside the smallest limit a bus is likely to have (32 MiB). */
#define REPLY_MAX (24u << 20)
/* A group and its job in that reply, strings aside: paths, interface and
 * property names, every value (measured at about 1,550 bytes). */
#define GROUP_BOUND 2048u

static guint64
group_bound (QmgrGroup *g)
{
  guint64 n = GROUP_BOUND + qmgr_group_get_string_bytes (g);

  if (g->job != NULL && g->job->error_message != NULL)
    n += strlen (g->job->error_message);
  return n;
}

guint64
qmgr_bus_managed_objects_bound (QmgrBus *bus, uid_t caller)
{
  guint64 n = 0;

  for (GList *l = bus->manager->groups.head; l != NULL; l = l->next)
    if (qmgr_manager_group_visible (bus->manager, l->data, caller))
      n += group_bound (l->data);
  return n;
}

int
qmgr_bus_guard_managed_objects (QmgrBus *bus, sd_bus_message *m)
{
  g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
  guint64 bound;
  uid_t caller = 0;

  if (!sd_bus_message_is_method_call (m, "org.freedesktop.DBus.ObjectManager",
                                      "GetManagedObjects") ||
      g_strcmp0 (sd_bus_message_get_path (m), QMGR_MANAGER_PATH) != 0)
    return 0;
  if (bus->manager->settings.system_mode &&
      qmgr_bus_peers_get_uid (bus, m, &caller, &error) < 0)
    return sd_bus_reply_method_error (m, &error) < 0 ? 0 : 1;
  bound = qmgr_bus_managed_objects_bound (bus, caller);
  if (bound <= REPLY_MAX)
    return 0;   /* sd-bus's object manager answers */
  qmgr_bus_reply_errorf (&error, QMGR_ERROR_LIMITS_EXCEEDED,
                         "The reply would be up to %" G_GUINT64_FORMAT " bytes, more than the "
                         "%u a bus safely carries; list the groups with EnumGroups and read "
                         "each with Properties.GetAll", bound, REPLY_MAX);
  if (sd_bus_reply_method_error (m, &error) < 0)
    g_debug ("Could not refuse GetManagedObjects");
  return 1;
}
