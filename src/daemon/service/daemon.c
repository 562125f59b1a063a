/* qmgrd service — the daemon object. The order of things matters: the store
 * is read before the hooks are set (restoring writes nothing back); every
 * object is registered before the bus name is asked for; at the end the
 * transfers stop first, so that nothing changes while the store is folded. */
#include "daemon.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "bus.h"
#include "daemon-config.h"
#include "destination.h"
#include "local-backend.h"
#include "manager.h"
#include "netmon-nm.h"
#include "scheduler.h"
#include "store.h"
#include "tempfile.h"

struct _QmgrDaemon {
  GMainLoop *loop;
  QmgrConfig config;
  QmgrStore *store;
  QmgrManager *manager;
  QmgrBackend *backend;
  QmgrScheduler *scheduler;   /* NULL until the network monitor answered */
  QmgrNetMonitor *netmon;
  QmgrBus *bus;
  int exit_status;
  gboolean stopping;
  gboolean loaded;            /* the store was read: it is folded at the end */
  guint idle_timeout;
  guint idle_source;
  guint expire_source;
  guint network_wait_source;
};

/* How long transfers wait at start for the network monitor's first answer:
 * until it comes, a metered network looks free. NetworkManager answers in
 * milliseconds; one that does not is no reason to hold transfers back. */
#define NETWORK_WAIT_SECONDS 3

void
qmgr_daemon_stop (QmgrDaemon *d, int exit_status)
{
  if (!d->stopping)
    d->exit_status = exit_status;
  d->stopping = TRUE;
  g_main_loop_quit (d->loop);
}

static void
on_disconnected (gpointer user_data)
{
  qmgr_daemon_stop (user_data, EXIT_FAILURE);
}

static void schedule_idle_check (QmgrDaemon *d, guint seconds);

static gboolean
on_idle_check (gpointer user_data)
{
  QmgrDaemon *d = user_data;
  gint64 idle_us = g_get_monotonic_time () - qmgr_bus_get_last_activity (d->bus);
  gint64 timeout_us = (gint64) d->idle_timeout * G_USEC_PER_SEC;

  d->idle_source = 0;
  if (idle_us >= timeout_us && !qmgr_manager_has_runnable_groups (d->manager))
    {
      g_debug ("Idle for %u s: exiting", d->idle_timeout);
      qmgr_daemon_stop (d, EXIT_SUCCESS);
      return G_SOURCE_REMOVE;
    }
  /* Check again when the idle time could next be reached: no periodic wake-ups. */
  schedule_idle_check (d, (guint) MAX (1, (timeout_us - MIN (idle_us, timeout_us) +
                                           G_USEC_PER_SEC - 1) / G_USEC_PER_SEC));
  return G_SOURCE_REMOVE;
}

static void
schedule_idle_check (QmgrDaemon *d, guint seconds)
{
  d->idle_source = g_timeout_add_seconds (seconds, on_idle_check, d);
}

static gboolean
on_expire (gpointer user_data)
{
  QmgrDaemon *d = user_data;
  guint days = d->config.expire_after_days;
  guint n = qmgr_manager_expire_groups (d->manager, (gint64) days * 24 * 3600 * G_USEC_PER_SEC);

  if (n > 0)
    g_message ("Removed %u groups unchanged for %u days", n, days);
  return G_SOURCE_CONTINUE;
}

static void
on_name_acquired (const GError *error, gpointer user_data)
{
  QmgrDaemon *d = user_data;

  if (error != NULL)
    {
      g_printerr ("qmgrd: %s\n", error->message);
      qmgr_daemon_stop (d, EXIT_FAILURE);
      return;
    }
  g_debug ("Serving %u groups", g_queue_get_length (&d->manager->groups));
  if (d->idle_timeout > 0)
    schedule_idle_check (d, d->idle_timeout);
  if (d->config.expire_after_days > 0)
    {
      on_expire (d);
      d->expire_source = g_timeout_add_seconds (24 * 3600, on_expire, d);
    }
}

static void
start_scheduler (QmgrDaemon *d)
{
  if (d->network_wait_source != 0)
    {
      g_source_remove (d->network_wait_source);
      d->network_wait_source = 0;
    }
  if (d->scheduler != NULL)
    return;
  d->scheduler = qmgr_scheduler_new (d->manager, d->backend, qmgr_clock_get_system ());
  /* Background work yields to the traffic of the links of the default route. */
  qmgr_scheduler_set_pacer (d->scheduler, qmgr_pacer_new (qmgr_clock_get_system (),
                                                          qmgr_link_read_default_route, NULL));
}

static gboolean
on_network_wait_timeout (gpointer user_data)
{
  QmgrDaemon *d = user_data;

  d->network_wait_source = 0;
  g_message ("No answer from the network monitor in %u s: transfers start anyway",
             NETWORK_WAIT_SECONDS);
  start_scheduler (d);
  return G_SOURCE_REMOVE;
}

static QmgrConnectivity
connectivity_from_monitor (QmgrNetConnectivity c)
{
  switch (c)
    {
    case QMGR_NET_CONNECTIVITY_NONE:
      return QMGR_CONNECTIVITY_NONE;
    case QMGR_NET_CONNECTIVITY_PORTAL:
      return QMGR_CONNECTIVITY_PORTAL;
    case QMGR_NET_CONNECTIVITY_LIMITED:
      return QMGR_CONNECTIVITY_LIMITED;
    case QMGR_NET_CONNECTIVITY_FULL:
      return QMGR_CONNECTIVITY_FULL;
    case QMGR_NET_CONNECTIVITY_UNKNOWN:
    default:
      return QMGR_CONNECTIVITY_UNKNOWN;
    }
}

/* The monitor's report goes to the manager, which tells the scheduler (waits,
 * caps) and the bus (NetworkCostState, Online). */
static void
on_network_changed (QmgrNetMonitor *monitor, gpointer user_data)
{
  QmgrDaemon *d = user_data;
  const QmgrNetStatus *status = qmgr_net_monitor_get_status (monitor);
  QmgrNetworkState state = {
    .cost_state = status->cost_state,
    .online = status->online,
    .connectivity = connectivity_from_monitor (status->connectivity),
  };

  qmgr_manager_set_network (d->manager, &state);
  if (qmgr_net_monitor_is_ready (monitor))
    start_scheduler (d);
}

static char *
default_state_dir (gboolean system_mode)
{
  if (system_mode)
    return g_strdup ("/var/lib/qmgrd");
  return g_build_filename (g_get_user_state_dir (), "qmgrd", NULL);
}

QmgrDaemon *
qmgr_daemon_new (const QmgrDaemonOptions *options, GError **error)
{
  g_autoptr(QmgrDaemon) d = g_new0 (QmgrDaemon, 1);
  g_autofree char *config_path = NULL, *state_dir = NULL;
  gboolean system_mode = options->system_mode;

  d->loop = g_main_loop_new (g_main_context_get_thread_default (), FALSE);
  d->idle_timeout = options->idle_timeout;

  config_path = options->config_path != NULL ? g_strdup (options->config_path)
                                             : qmgr_config_default_path (system_mode);
  if (!qmgr_config_load (&d->config, config_path, options->config_path != NULL, system_mode,
                         error))
    {
      g_prefix_error (error, "invalid configuration: ");
      return NULL;
    }
  state_dir = options->state_dir != NULL ? g_strdup (options->state_dir)
                                         : default_state_dir (system_mode);

  if (system_mode)
    umask (0022);   /* session mode keeps the user's umask for finished files */
  /* Read (which sets it to 0 for an instant) before any thread starts. */
  qmgr_temp_file_init ();

  d->store = qmgr_store_open (state_dir, error);
  if (d->store == NULL)
    {
      g_prefix_error (error, "cannot use the state directory: ");
      return NULL;
    }
  d->manager = qmgr_manager_new (&d->config.manager);
  qmgr_manager_set_destination_check (d->manager, qmgr_destination_check_local, NULL);
  if (!qmgr_store_load (d->store, d->manager, error))
    {
      g_prefix_error (error, "cannot read the state directory: ");
      return NULL;
    }
  d->loaded = TRUE;
  /* Only now: restoring must not write back what it just read. */
  qmgr_manager_set_store (d->manager, qmgr_store_hooks (), d->store);

  d->bus = qmgr_bus_new (d->manager, system_mode, error);
  if (d->bus == NULL)
    return NULL;
  qmgr_bus_set_disconnect_handler (d->bus, on_disconnected, d);

  d->backend = qmgr_local_backend_new (error);
  if (d->backend == NULL)
    return NULL;
  /* The scheduler starts once the network is known (at once without a system
   * bus), so that no transfer starts on a metered network for an instant. */
  d->netmon = qmgr_net_monitor_nm_new (NULL);
  qmgr_net_monitor_set_changed_func (d->netmon, on_network_changed, d);
  if (qmgr_net_monitor_is_ready (d->netmon))
    on_network_changed (d->netmon, d);
  else
    d->network_wait_source = g_timeout_add_seconds (NETWORK_WAIT_SECONDS,
                                                    on_network_wait_timeout, d);
  return g_steal_pointer (&d);
}

void
qmgr_daemon_start (QmgrDaemon *d)
{
  qmgr_bus_request_name (d->bus, on_name_acquired, d);
}

int
qmgr_daemon_run (QmgrDaemon *d)
{
  if (!d->stopping)
    g_main_loop_run (d->loop);
  return d->exit_status;
}

void
qmgr_daemon_free (QmgrDaemon *d)
{
  if (d == NULL)
    return;
  if (d->idle_source != 0)
    g_source_remove (d->idle_source);
  if (d->expire_source != 0)
    g_source_remove (d->expire_source);
  if (d->network_wait_source != 0)
    g_source_remove (d->network_wait_source);
  /* Transfers stop first; their temp files stay for the next start. */
  qmgr_scheduler_free (d->scheduler);
  qmgr_net_monitor_free (d->netmon);
  qmgr_backend_free (d->backend);
  /* Every acknowledged change is on disk already (in the journal); what the
   * daemon learned by itself is written now, and the journal folded into the
   * group files, so that a stopped daemon leaves one file per group. */
  if (d->loaded)
    qmgr_store_compact (d->store);
  qmgr_bus_free (d->bus);
  qmgr_manager_free (d->manager);
  qmgr_store_free (d->store);
  g_main_loop_unref (d->loop);
  g_free (d);
}
