/* qmgrd — the entry point: parses the options, then runs the daemon object
 * (service/daemon.h) until SIGTERM or SIGINT. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <malloc.h>
#include <stdlib.h>

#include "daemon.h"

static gboolean
on_signal (gpointer user_data)
{
  g_debug ("Termination requested");
  qmgr_daemon_stop (user_data, EXIT_SUCCESS);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  gboolean system_mode = FALSE, verbose = FALSE;
  g_autofree char *state_dir = NULL, *config_path = NULL;
  gint idle_timeout = 0;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(QmgrDaemon) daemon = NULL;
  QmgrDaemonOptions options = { 0 };
  guint sigterm, sigint;
  int status;
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
  if (system_mode)
    {
      /* Until each owner's files are written with that owner's rights (a
       * worker per owner), a daemon running as root on the system bus would
       * write files, and deliver signals and settings, for anyone. */
      g_printerr (_("qmgrd: system mode (--system) is not available yet: it would write "
                    "files with its own rights on behalf of any user. Run one daemon per "
                    "user on the session bus instead.\n"));
      return EXIT_FAILURE;
    }
  if (verbose)
    g_log_set_debug_enabled (TRUE);

  options.system_mode = system_mode;
  options.state_dir = state_dir;
  options.config_path = config_path;
  options.idle_timeout = (guint) idle_timeout;
  daemon = qmgr_daemon_new (&options, &error);
  if (daemon == NULL)
    {
      g_printerr (_("qmgrd: %s\n"), error->message);
      return EXIT_FAILURE;
    }
  qmgr_daemon_start (daemon);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, daemon);
  sigint = g_unix_signal_add (SIGINT, on_signal, daemon);
  status = qmgr_daemon_run (daemon);
  g_source_remove (sigterm);
  g_source_remove (sigint);
  return status;
}
