/* qmgrd — the daemon's entry point: options, configuration, the store, the bus,
 * and the main loop. Everything else lives in the layer libraries. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <malloc.h>
#include <sys/stat.h>
#include <stdlib.h>

#include "bus.h"
#include "conf-file.h"
#include "destination.h"
#include "engine.h"
#include "manager.h"
#include "scheduler.h"
#include "store.h"
#include "tempfile.h"

typedef struct {
  GMainLoop *loop;
  QmgrManager *manager;
  QmgrStore *store;
  QmgrBus *bus;
  QmgrTransferEngine *engine;
  QmgrScheduler *scheduler;
  int exit_code;
  guint idle_timeout;
  guint idle_source;
  guint expire_after_days;
  guint expire_source;
} Daemon;

static void
quit (Daemon *d, int exit_code)
{
  if (d->exit_code == 0)
    d->exit_code = exit_code;
  g_main_loop_quit (d->loop);
}

static gboolean
on_signal (gpointer user_data)
{
  Daemon *d = user_data;
  g_debug ("Termination requested");
  quit (d, EXIT_SUCCESS);
  return G_SOURCE_CONTINUE;
}

static void
on_disconnected (gpointer user_data)
{
  quit (user_data, EXIT_FAILURE);
}

static void schedule_idle_check (Daemon *d, guint seconds);

static gboolean
on_idle_check (gpointer user_data)
{
  Daemon *d = user_data;
  gint64 idle_us = g_get_monotonic_time () - qmgr_bus_get_last_activity (d->bus);
  gint64 timeout_us = (gint64) d->idle_timeout * G_USEC_PER_SEC;

  d->idle_source = 0;
  if (idle_us >= timeout_us && !qmgr_manager_has_runnable_groups (d->manager))
    {
      g_debug ("Idle for %u s: exiting", d->idle_timeout);
      quit (d, EXIT_SUCCESS);
      return G_SOURCE_REMOVE;
    }
  /* Check again when the idle time could next be reached: no periodic wake-ups. */
  schedule_idle_check (d, (guint) MAX (1, (timeout_us - MIN (idle_us, timeout_us) +
                                           G_USEC_PER_SEC - 1) / G_USEC_PER_SEC));
  return G_SOURCE_REMOVE;
}

static void
schedule_idle_check (Daemon *d, guint seconds)
{
  d->idle_source = g_timeout_add_seconds (seconds, on_idle_check, d);
}

static gboolean
on_expire (gpointer user_data)
{
  Daemon *d = user_data;
  guint n = qmgr_manager_expire_groups (d->manager,
                                        (gint64) d->expire_after_days * 24 * 3600 * G_USEC_PER_SEC);
  if (n > 0)
    g_message ("Removed %u groups unchanged for %u days", n, d->expire_after_days);
  return G_SOURCE_CONTINUE;
}

static void
on_name_acquired (const GError *error, gpointer user_data)
{
  Daemon *d = user_data;

  if (error != NULL)
    {
      g_printerr (_("qmgrd: %s\n"), error->message);
      quit (d, EXIT_FAILURE);
      return;
    }
  g_debug ("Serving %u groups", g_queue_get_length (&d->manager->groups));
  if (d->idle_timeout > 0)
    schedule_idle_check (d, d->idle_timeout);
  if (d->expire_after_days > 0)
    {
      on_expire (d);
      d->expire_source = g_timeout_add_seconds (24 * 3600, on_expire, d);
    }
}

static char *
default_state_dir (gboolean system_mode)
{
  if (system_mode)
    return g_strdup ("/var/lib/qmgrd");
  return g_build_filename (g_get_user_state_dir (), "qmgrd", NULL);
}

int
main (int argc, char **argv)
{
  gboolean system_mode = FALSE, verbose = FALSE;
  g_autofree char *state_dir = NULL, *config_path = NULL;
  gint idle_timeout = 0;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  QmgrConfig config;
  Daemon d = { 0 };
  GOptionEntry entries[] = {
    { "system", 0, 0, G_OPTION_ARG_NONE, &system_mode,
      N_("Serve the system bus instead of the session bus"), NULL },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
      N_("Keep the queue in DIR instead of the default state directory"), N_("DIR") },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path,
      N_("Read the configuration from FILE"), N_("FILE") },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Log debugging messages"), NULL },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
      N_("Exit after SECONDS without requests while nothing is queued"), N_("SECONDS") },
    { NULL },
  };

  /* Memory a burst of requests used must be returnable once it is freed
   * (the bus trims the heap after requests):
   * - the helper threads (the journal's compaction, the commit queue's
   *   worker) allocate rarely; in arenas of their own, the memory a run of
   *   theirs peaked at would stay resident (malloc_trim gives back only the
   *   main arena's top), so there is one arena;
   * - glibc raises its mmap threshold each time a large block is freed, after
   *   which every large message (up to the bus's limits) would land in the
   *   heap and leave it fragmented; fixed thresholds (glibc's initial values)
   *   keep large blocks mapped on their own. */
  mallopt (M_ARENA_MAX, 1);
  mallopt (M_MMAP_THRESHOLD, 128 * 1024);
  mallopt (M_TRIM_THRESHOLD, 128 * 1024);
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (NULL);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _("Background transfer service: downloads files for "
                                  "applications, across restarts and network loss."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr (_("qmgrd: %s\n"), error->message);
      g_printerr (_("Try \"%s --help\" for more information.\n"), g_get_prgname ());
      return EXIT_FAILURE;
    }
  if (argc > 1)
    {
      g_printerr (_("qmgrd: unexpected argument \"%s\"\n"), argv[1]);
      return EXIT_FAILURE;
    }
  if (idle_timeout < 0)
    {
      g_printerr (_("qmgrd: --idle-timeout must not be negative\n"));
      return EXIT_FAILURE;
    }
  if (verbose)
    g_log_set_debug_enabled (TRUE);

  {
    gboolean explicit_config = config_path != NULL;
    if (config_path == NULL)
      config_path = qmgr_config_default_path (system_mode);
    if (!qmgr_config_load (&config, config_path, explicit_config, system_mode, &error))
      {
        g_printerr (_("qmgrd: invalid configuration: %s\n"), error->message);
        return EXIT_FAILURE;
      }
  }
  if (state_dir == NULL)
    state_dir = default_state_dir (system_mode);

  if (system_mode)
    umask (0022);   /* session mode keeps the user's umask for finished files */
  /* Read (which sets it to 0 for an instant) before any thread starts. */
  qmgr_temp_file_init ();

  d.store = qmgr_store_open (state_dir, &error);
  if (d.store == NULL)
    {
      g_printerr (_("qmgrd: cannot use the state directory: %s\n"), error->message);
      return EXIT_FAILURE;
    }
  d.manager = qmgr_manager_new (&config.manager);
  qmgr_manager_set_destination_check (d.manager, qmgr_destination_check_local, NULL);
  if (!qmgr_store_load (d.store, d.manager, &error))
    {
      g_printerr (_("qmgrd: cannot read the state directory: %s\n"), error->message);
      qmgr_manager_free (d.manager);
      qmgr_store_free (d.store);
      return EXIT_FAILURE;
    }
  /* Only now: restoring must not write back what it just read. */
  qmgr_manager_set_store (d.manager, qmgr_store_hooks (), d.store);

  d.loop = g_main_loop_new (NULL, FALSE);
  d.idle_timeout = (guint) idle_timeout;
  d.expire_after_days = config.expire_after_days;
  d.bus = qmgr_bus_new (d.manager, system_mode, &error);
  if (d.bus == NULL)
    {
      g_printerr (_("qmgrd: %s\n"), error->message);
      d.exit_code = EXIT_FAILURE;
      goto out;
    }
  qmgr_bus_set_disconnect_handler (d.bus, on_disconnected, &d);

  d.engine = qmgr_transfer_engine_new (&error);
  if (d.engine == NULL)
    {
      g_printerr (_("qmgrd: %s\n"), error->message);
      d.exit_code = EXIT_FAILURE;
      goto out;
    }
  d.scheduler = qmgr_scheduler_new (d.manager, d.engine);
  qmgr_bus_request_name (d.bus, on_name_acquired, &d);

  {
    guint sigterm = g_unix_signal_add (SIGTERM, on_signal, &d);
    guint sigint = g_unix_signal_add (SIGINT, on_signal, &d);
    g_main_loop_run (d.loop);
    g_source_remove (sigterm);
    g_source_remove (sigint);
  }

out:
  /* Every acknowledged change is on disk already (in the journal); what the
   * daemon learned by itself is written now, and the journal folded into the
   * group files so that a stopped daemon leaves one file per group (and an
   * empty journal). */
  if (d.idle_source != 0)
    g_source_remove (d.idle_source);
  if (d.expire_source != 0)
    g_source_remove (d.expire_source);
  /* Transfers stop first; their temp files stay for the next start. */
  qmgr_scheduler_free (d.scheduler);
  qmgr_transfer_engine_free (d.engine);
  qmgr_store_compact (d.store);
  qmgr_bus_free (d.bus);
  qmgr_manager_free (d.manager);
  qmgr_store_free (d.store);
  g_main_loop_unref (d.loop);
  return d.exit_code;
}
