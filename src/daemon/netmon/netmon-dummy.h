/* qmgrd netmon — a network monitor set by hand, for tests: it reports what the
 * test says, through the same mapping and notification as the real one. */
#pragma once

#include "netmon.h"

G_BEGIN_DECLS

/* Not ready until the first set. */
QmgrNetMonitor *qmgr_net_monitor_dummy_new (void);
/* As if NetworkManager had said @values (mapped by qmgr_net_status_from_nm). */
void qmgr_net_monitor_dummy_set_nm (QmgrNetMonitor *monitor, const QmgrNmValues *values);
void qmgr_net_monitor_dummy_set_status (QmgrNetMonitor *monitor, const QmgrNetStatus *status);

G_END_DECLS
