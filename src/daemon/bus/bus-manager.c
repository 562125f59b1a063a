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

static int
method_get_group (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  QmgrBus *bus = userdata;
  g_autoptr(GError) error = NULL;
  const char *group_id;
  QmgrGroup *group;
  QmgrObjectPath path;
  uid_t uid = 0;
  int r;

  r = sd_bus_message_read (m, "s", &group_id);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  if (bus->manager->settings.system_mode)
    {
      r = qmgr_bus_peers_get_uid (bus, m, &uid, ret_error);
      if (r < 0)
        return r;
    }
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
  uid_t uid = 0;
  int r;

  r = sd_bus_message_read (m, "u", &flags);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  if (bus->manager->settings.system_mode)
    {
      r = qmgr_bus_peers_get_uid (bus, m, &uid, ret_error);
      if (r < 0)
        return r;
    }
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

static int
get_version (sd_bus *b, const char *path, const char *interface, const char *property,
             sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  return sd_bus_message_append (reply, "s", PACKAGE_VERSION);
}

static int
get_manager_property (sd_bus *b, const char *path, const char *interface, const char *property,
                      sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  QmgrBus *bus = userdata;
  QmgrManager *mgr = bus->manager;

  if (g_str_equal (property, "NetworkCostState"))
    return sd_bus_message_append (reply, "u", mgr->network.cost_state);
  if (g_str_equal (property, "Online"))
    return sd_bus_message_append (reply, "b", mgr->network.online);
  if (g_str_equal (property, "BandwidthLimit"))
    return sd_bus_message_append (reply, "t", mgr->settings.bandwidth_limit);
  if (g_str_equal (property, "MeteredBandwidthLimit"))
    return sd_bus_message_append (reply, "t", mgr->settings.metered_bandwidth_limit);
  if (g_str_equal (property, "MaxConcurrentTransfers"))
    return sd_bus_message_append (reply, "u", mgr->settings.max_concurrent_transfers);
  g_assert_not_reached ();
}

static int
set_manager_property (sd_bus *b, const char *path, const char *interface, const char *property,
                      sd_bus_message *value, void *userdata, sd_bus_error *ret_error)
{
  QmgrBus *bus = userdata;
  g_autoptr(GError) error = NULL;
  gboolean ok;
  guint64 t = 0;
  guint32 u = 0;
  int r;

  if (g_str_equal (property, "MaxConcurrentTransfers"))
    {
      r = sd_bus_message_read (value, "u", &u);
      if (r < 0)
        return qmgr_bus_reply_bad_arguments (ret_error, r);
      ok = qmgr_manager_set_max_concurrent_transfers (bus->manager, u, &error);
    }
  else
    {
      r = sd_bus_message_read (value, "t", &t);
      if (r < 0)
        return qmgr_bus_reply_bad_arguments (ret_error, r);
      if (g_str_equal (property, "BandwidthLimit"))
        ok = qmgr_manager_set_bandwidth_limit (bus->manager, t, &error);
      else
        ok = qmgr_manager_set_metered_bandwidth_limit (bus->manager, t, &error);
    }
  return ok ? 0 : qmgr_bus_reply_error (ret_error, error);
}

#define RW_FLAGS (SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED)

const sd_bus_vtable qmgr_bus_manager_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("CreateGroup", SD_BUS_ARGS ("s", group_id), SD_BUS_RESULT ("o", group),
                           method_create_group, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetGroup", SD_BUS_ARGS ("s", group_id), SD_BUS_RESULT ("o", group),
                           method_get_group, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("EnumGroups", SD_BUS_ARGS ("u", flags), SD_BUS_RESULT ("as", group_ids),
                           method_enum_groups, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_PROPERTY ("Version", "s", get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("NetworkCostState", "u", get_manager_property, 0,
                   SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY ("Online", "b", get_manager_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_WRITABLE_PROPERTY ("BandwidthLimit", "t", get_manager_property, set_manager_property, 0,
                            RW_FLAGS),
  SD_BUS_WRITABLE_PROPERTY ("MeteredBandwidthLimit", "t", get_manager_property,
                            set_manager_property, 0, RW_FLAGS),
  SD_BUS_WRITABLE_PROPERTY ("MaxConcurrentTransfers", "u", get_manager_property,
                            set_manager_property, 0, RW_FLAGS),
  SD_BUS_VTABLE_END,
};
