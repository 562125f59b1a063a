/* qmgrd netmon — the monitor's common part: NetworkManager's values mapped
 * onto a cost state, an online flag and a connectivity (DBUS-API.md, "Network
 * cost"), and the change notification every implementation shares. */
#include "netmon.h"

#include "qmgr-constants.h"

void
qmgr_net_status_init_default (QmgrNetStatus *status)
{
  status->cost_state = QMGR_COST_STATE_UNRESTRICTED;
  status->online = TRUE;
  status->connectivity = QMGR_NET_CONNECTIVITY_FULL;
}

void
qmgr_net_status_from_nm (QmgrNetStatus *status, const QmgrNmValues *nm)
{
  qmgr_net_status_init_default (status);
  if (!nm->present)
    return;
  /* Only a network NetworkManager thinks costs money is not UNRESTRICTED:
   * an unknown one is treated as free, as BITS does without a cost source. */
  if (nm->metered == QMGR_NM_METERED_YES || nm->metered == QMGR_NM_METERED_GUESS_YES)
    status->cost_state = QMGR_COST_STATE_CAPPED_USAGE_UNKNOWN;
  /* Unknown (0) is NetworkManager saying it cannot tell: transfers are tried
   * rather than held forever, as without NetworkManager. */
  status->online = nm->state == QMGR_NM_STATE_UNKNOWN ||
                   nm->state >= QMGR_NM_STATE_CONNECTED_LOCAL;
  status->connectivity = nm->connectivity <= QMGR_NET_CONNECTIVITY_FULL
                             ? (QmgrNetConnectivity) nm->connectivity
                             : QMGR_NET_CONNECTIVITY_UNKNOWN;
}

gboolean
qmgr_net_status_equal (const QmgrNetStatus *a, const QmgrNetStatus *b)
{
  return a->cost_state == b->cost_state && !a->online == !b->online &&
         a->connectivity == b->connectivity;
}

char *
qmgr_net_status_describe (const QmgrNetStatus *status)
{
  static const char *const connectivity[] = { "unknown", "none", "portal", "limited", "full" };

  return g_strdup_printf ("cost 0x%x, %s, connectivity %s", status->cost_state,
                          status->online ? "online" : "offline",
                          status->connectivity < G_N_ELEMENTS (connectivity)
                              ? connectivity[status->connectivity] : "?");
}

void
qmgr_net_monitor_init (QmgrNetMonitor *monitor, const QmgrNetMonitorOps *ops)
{
  monitor->ops = ops;
  qmgr_net_status_init_default (&monitor->status);
  monitor->ready = FALSE;
}

void
qmgr_net_monitor_update (QmgrNetMonitor *monitor, const QmgrNetStatus *status)
{
  gboolean news = !monitor->ready || !qmgr_net_status_equal (&monitor->status, status);

  monitor->status = *status;
  monitor->ready = TRUE;
  if (news)
    {
      g_autofree char *text = qmgr_net_status_describe (status);
      g_debug ("Network: %s", text);
      if (monitor->changed != NULL)
        monitor->changed (monitor, monitor->changed_data);
    }
}

void
qmgr_net_monitor_set_changed_func (QmgrNetMonitor *monitor, QmgrNetMonitorFunc func,
                                   gpointer user_data)
{
  monitor->changed = func;
  monitor->changed_data = user_data;
}

const QmgrNetStatus *
qmgr_net_monitor_get_status (QmgrNetMonitor *monitor)
{
  return &monitor->status;
}

gboolean
qmgr_net_monitor_is_ready (QmgrNetMonitor *monitor)
{
  return monitor->ready;
}

void
qmgr_net_monitor_free (QmgrNetMonitor *monitor)
{
  if (monitor != NULL)
    monitor->ops->free (monitor);
}
