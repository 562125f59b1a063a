/* qmgrd netmon — what the network costs and whether it is there: the state a
 * network monitor reports, how NetworkManager's values map onto it, and the
 * monitor's interface. Knows nothing of the model: service/ hands the state
 * to the manager. Implementations: netmon-nm.c (NetworkManager on the system
 * bus) and netmon-dummy.c (set by hand, for tests). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* NetworkManager's NMMetered. */
typedef enum {
  QMGR_NM_METERED_UNKNOWN = 0,
  QMGR_NM_METERED_YES = 1,
  QMGR_NM_METERED_NO = 2,
  QMGR_NM_METERED_GUESS_YES = 3,
  QMGR_NM_METERED_GUESS_NO = 4,
} QmgrNmMetered;

/* The NMState values the mapping looks at. */
#define QMGR_NM_STATE_UNKNOWN         0u
#define QMGR_NM_STATE_CONNECTED_LOCAL 50u

/* NetworkManager's NMConnectivityState, which is also what the monitor reports. */
typedef enum {
  QMGR_NET_CONNECTIVITY_UNKNOWN = 0,
  QMGR_NET_CONNECTIVITY_NONE = 1,
  QMGR_NET_CONNECTIVITY_PORTAL = 2,
  QMGR_NET_CONNECTIVITY_LIMITED = 3,
  QMGR_NET_CONNECTIVITY_FULL = 4,
} QmgrNetConnectivity;

/* What NetworkManager says: its Manager's Metered, State and Connectivity
 * properties; one it did not send reads 0 (unknown). */
typedef struct {
  gboolean present;           /* NetworkManager is on the bus and answered */
  guint32 metered;            /* NMMetered */
  guint32 state;              /* NMState */
  guint32 connectivity;       /* NMConnectivityState */
} QmgrNmValues;

/* What the monitor reports. */
typedef struct {
  guint32 cost_state;         /* one QMGR_COST_STATE_* bit (qmgr-constants.h) */
  gboolean online;
  QmgrNetConnectivity connectivity;
} QmgrNetStatus;

/* No NetworkManager (or no system bus): UNRESTRICTED, online, full connectivity. */
void qmgr_net_status_init_default (QmgrNetStatus *status);
/* Metered YES and GUESS_YES are CAPPED_USAGE_UNKNOWN, anything else
 * UNRESTRICTED; online from State CONNECTED_LOCAL up, and while State is
 * unknown; connectivity as NetworkManager says (values it may add later:
 * unknown). Absent: the default. */
void qmgr_net_status_from_nm (QmgrNetStatus *status, const QmgrNmValues *nm);
gboolean qmgr_net_status_equal (const QmgrNetStatus *a, const QmgrNetStatus *b);
/* "cost 0x1, online, connectivity full", for logs (free it). */
char *qmgr_net_status_describe (const QmgrNetStatus *status);

typedef struct _QmgrNetMonitor QmgrNetMonitor;
typedef void (*QmgrNetMonitorFunc) (QmgrNetMonitor *monitor, gpointer user_data);

typedef struct {
  void (*free) (QmgrNetMonitor *monitor);
} QmgrNetMonitorOps;

/* A monitor starts with the default status and not ready; it becomes ready
 * with its first answer (at once when there is nobody to ask). Until then its
 * status is a guess: the daemon starts no transfer before it is ready, or
 * before it gave up waiting. */
struct _QmgrNetMonitor {
  const QmgrNetMonitorOps *ops;
  QmgrNetStatus status;
  gboolean ready;
  QmgrNetMonitorFunc changed;
  gpointer changed_data;
};

/* @func runs, from the main loop, whenever the status changes and when the
 * monitor becomes ready (also if its status stayed the same). */
void qmgr_net_monitor_set_changed_func (QmgrNetMonitor *monitor, QmgrNetMonitorFunc func,
                                        gpointer user_data);
const QmgrNetStatus *qmgr_net_monitor_get_status (QmgrNetMonitor *monitor);
gboolean qmgr_net_monitor_is_ready (QmgrNetMonitor *monitor);
void qmgr_net_monitor_free (QmgrNetMonitor *monitor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrNetMonitor, qmgr_net_monitor_free)

/* For implementations. */
void qmgr_net_monitor_init (QmgrNetMonitor *monitor, const QmgrNetMonitorOps *ops);
/* Records @status and makes the monitor ready; tells the changed func if
 * either is news. */
void qmgr_net_monitor_update (QmgrNetMonitor *monitor, const QmgrNetStatus *status);

G_END_DECLS
