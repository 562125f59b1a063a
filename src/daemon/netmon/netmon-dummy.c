/* qmgrd netmon — the dummy monitor: no bus, no state of its own beyond the
 * common part; each set is one update. */
#include "netmon-dummy.h"

static void
dummy_free (QmgrNetMonitor *monitor)
{
  g_free (monitor);
}

static const QmgrNetMonitorOps dummy_ops = {
  .free = dummy_free,
};

QmgrNetMonitor *
qmgr_net_monitor_dummy_new (void)
{
  QmgrNetMonitor *monitor = g_new0 (QmgrNetMonitor, 1);

  qmgr_net_monitor_init (monitor, &dummy_ops);
  return monitor;
}

void
qmgr_net_monitor_dummy_set_nm (QmgrNetMonitor *monitor, const QmgrNmValues *values)
{
  QmgrNetStatus status;

  g_return_if_fail (monitor->ops == &dummy_ops);
  qmgr_net_status_from_nm (&status, values);
  qmgr_net_monitor_update (monitor, &status);
}

void
qmgr_net_monitor_dummy_set_status (QmgrNetMonitor *monitor, const QmgrNetStatus *status)
{
  g_return_if_fail (monitor->ops == &dummy_ops);
  qmgr_net_monitor_update (monitor, status);
}
