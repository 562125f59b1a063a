/* qmgrd bus — io.github.qmgrd.QMgr1.Manager on /io/github/qmgrd/QMgr1. */
#include "bus-private.h"

#include "config.h"
#include "qmgr-constants.h"

static int
method_create_group (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  QmgrBus *bus = userdata;
  g_autoptr(GError) error = NULL;
  const char *group_id;
  QmgrGroup *group;
  QmgrObjectPath path;
  uid_t uid;
  int r;

  r = sd_bus_message_read (m, "s", &group_id);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  r = qmgr_bus_peers_get_uid (bus, m, &uid, ret_error);
  if (r < 0)
    return r;
  group = qmgr_manager_create_group (bus->manager, group_id, uid, &error);
  if (group == NULL)
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, "o", qmgr_bus_group_path (group, &path));
}

/* Whose groups the caller sees: the session bus is one user's, so only system
 * mode asks the bus who calls. */
static int
viewer_uid (QmgrBus *bus, sd_bus_message *m, uid_t *uid, sd_bus_error *ret_error)
{
  *uid = 0;
  if (!bus->manager->settings.system_mode)
    return 0;
  return qmgr_bus_peers_get_uid (bus, m, uid, ret_error);
}

static int
method_get_group (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  QmgrBus *bus = userdata;
  g_autoptr(GError) error = NULL;
  const char *group_id;
  QmgrGroup *group;
  QmgrObjectPath path;
  uid_t uid;
  int r;

  r = sd_bus_message_read (m, "s", &group_id);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  r = viewer_uid (bus, m, &uid, ret_error);
  if (r < 0)
    return r;
  group = qmgr_manager_get_group (bus->manager, group_id, uid, &error);
  if (group == NULL)
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, "o", qmgr_bus_group_path (group, &path));
}

static int
method_enum_groups (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  QmgrBus *bus = userdata;
  g_autoptr(GError) error = NULL;
  g_autoptr(sd_bus_message) reply = NULL;
  g_auto(GStrv) ids = NULL;
  guint32 flags;
  uid_t uid;
  int r;

  r = sd_bus_message_read (m, "u", &flags);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  r = viewer_uid (bus, m, &uid, ret_error);
  if (r < 0)
    return r;
  ids = qmgr_manager_enum_groups (bus->manager, flags, uid, &error);
  if (ids == NULL)
    return qmgr_bus_reply_error (ret_error, error);
  r = sd_bus_message_new_method_return (m, &reply);
  if (r >= 0)
    r = sd_bus_message_append_strv (reply, ids);
  if (r < 0)
    return r;
  return qmgr_bus_send_reply (m, reply);
}

/* ---- properties ---- */

#define QMGR_MANAGER_PROPERTIES(X)                                                         \
  X (Version, s, CONST, 0, PACKAGE_VERSION, NONE)                                          \
  X (NetworkCostState, u, RO, QMGR_MANAGER_CHANGED_NETWORK_COST_STATE,                     \
     bus->manager->network.cost_state, NONE)                                               \
  X (Online, b, RO, QMGR_MANAGER_CHANGED_ONLINE, bus->manager->network.online, NONE)       \
  X (BandwidthLimit, t, RW, QMGR_MANAGER_CHANGED_BANDWIDTH_LIMIT,                          \
     bus->manager->settings.bandwidth_limit, qmgr_manager_set_bandwidth_limit)             \
  X (MeteredBandwidthLimit, t, RW, QMGR_MANAGER_CHANGED_METERED_BANDWIDTH_LIMIT,           \
     bus->manager->settings.metered_bandwidth_limit,                                       \
     qmgr_manager_set_metered_bandwidth_limit)                                             \
  X (MaxConcurrentTransfers, u, RW, QMGR_MANAGER_CHANGED_MAX_CONCURRENT_TRANSFERS,         \
     bus->manager->settings.max_concurrent_transfers,                                      \
     qmgr_manager_set_max_concurrent_transfers)

/* Every bit but CONNECTIVITY, which the scheduler hears and no property shows. */
QMGR_BUS_ASSERT_CHANGES (QMGR_MANAGER_PROPERTIES,
                         ((QMGR_MANAGER_CHANGED_CONNECTIVITY << 1) - 1) &
                         ~QMGR_MANAGER_CHANGED_CONNECTIVITY);

/* The manager's setters save the settings before they return. */
static gboolean
manager_property_set (QmgrBus *bus, GError **error)
{
  return TRUE;
}

#define MANAGER_PROPERTY_FUNCTIONS(Name, type, kind, change, get, set)                     \
  QMGR_BUS_PROPERTY_GETTER (manager, QmgrBus *, bus, Name, type, get)                      \
  QMGR_BUS_PROPERTY_SETTER_##kind (manager, QmgrBus *, bus, bus->manager, Name, type, set)
QMGR_MANAGER_PROPERTIES (MANAGER_PROPERTY_FUNCTIONS)

static const QmgrBusPropertyName manager_property_names[] = {
  QMGR_MANAGER_PROPERTIES (QMGR_BUS_PROPERTY_NAME)
};

const QmgrBusChangeMap qmgr_bus_manager_changes = {
  manager_property_names, G_N_ELEMENTS (manager_property_names)
};

#define MANAGER_PROPERTY_VTABLE(Name, type, kind, change, get, set)                        \
  QMGR_BUS_PROPERTY_VTABLE_##kind (manager, Name, type)

const sd_bus_vtable qmgr_bus_manager_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("CreateGroup", SD_BUS_ARGS ("s", group_id),
                           SD_BUS_RESULT ("o", group),
                           method_create_group, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetGroup", SD_BUS_ARGS ("s", group_id),
                           SD_BUS_RESULT ("o", group),
                           method_get_group, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("EnumGroups", SD_BUS_ARGS ("u", flags),
                           SD_BUS_RESULT ("as", group_ids),
                           method_enum_groups, SD_BUS_VTABLE_UNPRIVILEGED),
  QMGR_MANAGER_PROPERTIES (MANAGER_PROPERTY_VTABLE)
  SD_BUS_VTABLE_END,
};
