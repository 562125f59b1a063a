/* qmgrctl — the command-line client of qmgrd: parses the global options and
 * the verb, connects to the bus, runs the verb and turns its error into a
 * message and an exit code (qmgrctl(1)). */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qmgrctl.h"

static gboolean opt_json, opt_system, opt_user, opt_version;

static const GOptionEntry global_entries[] = {
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, N_("Print JSON instead of text"), NULL },
  { "system", 0, 0, G_OPTION_ARG_NONE, &opt_system, N_("Talk to the system-wide qmgrd"), NULL },
  { "user", 0, 0, G_OPTION_ARG_NONE, &opt_user,
    N_("Talk to the user's qmgrd on the session bus (the default)"), NULL },
  G_OPTION_ENTRY_NULL,
};

static const GOptionEntry version_entries[] = {
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, N_("Print the version and exit"), NULL },
  G_OPTION_ENTRY_NULL,
};

static const QmgrctlVerb verbs[] = {
  { "transfer", qmgrctl_transfer, N_("URL DEST [URL DEST…]"),
    N_("Download files and wait until they are complete"), qmgrctl_transfer_entries },
  { "create", qmgrctl_create, "", N_("Create a suspended group with a job"),
    qmgrctl_create_entries },
  { "add", qmgrctl_add, N_("GROUP URL DEST [URL DEST…]"), N_("Add files to a group's job"),
    NULL },
  { "resume", qmgrctl_resume, N_("GROUP…"), N_("Start or restart groups"), NULL },
  { "suspend", qmgrctl_suspend, N_("GROUP…"), N_("Pause groups, keeping what they have"),
    NULL },
  { "cancel", qmgrctl_cancel, N_("GROUP…"),
    N_("Remove groups (completed files stay, partial ones go)"), NULL },
  { "list", qmgrctl_list, "", N_("List the groups"), NULL },
  { "info", qmgrctl_info, N_("GROUP"), N_("Show a group and its job"), NULL },
  { "files", qmgrctl_files, N_("GROUP"), N_("Show the files of a group"), NULL },
  { "getprop", qmgrctl_getprop, N_("GROUP PROPERTY"),
    N_("Read a group property (GetProp) by name or number"), NULL },
  { "setprop", qmgrctl_setprop, N_("GROUP PROPERTY VALUE"),
    N_("Write a group property (SetProp) by name or number"), NULL },
  { "policy", qmgrctl_policy, N_("[GROUP]"),
    N_("Show or change the transfer policy and limits of qmgrd or of a group"),
    qmgrctl_policy_entries },
  { "monitor", qmgrctl_monitor, N_("[GROUP]"), N_("Follow qmgrd's signals live"), NULL },
};

static const QmgrctlVerb *
find_verb (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (strcmp (verbs[i].name, name) == 0)
      return &verbs[i];
  return NULL;
}

static char *
verbs_description (void)
{
  GString *out = g_string_new (_("Verbs:"));

  g_string_append_c (out, '\n');
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    g_string_append_printf (out, "  %-10s %s\n", verbs[i].name, _(verbs[i].summary));
  g_string_append_printf (out, "\n%s\n",
                          _("GROUP is a group's GUID or its display name. "
                            "See qmgrctl(1) for the exit codes."));
  return g_string_free (out, FALSE);
}

/* The verb's own options, and the global ones again so that they may follow
 * the verb ("qmgrctl list --json"). */
static gboolean
parse_verb (const QmgrctlVerb *verb, int *argc, char ***argv, GError **error)
{
  g_autofree char *parameters = g_strdup_printf ("%s %s", verb->name, _(verb->parameters));
  g_autoptr(GOptionContext) context = g_option_context_new (parameters);

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _(verb->summary));
  if (verb->entries != NULL)
    g_option_context_add_main_entries (context, verb->entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, global_entries, GETTEXT_PACKAGE);
  return g_option_context_parse (context, argc, argv, error);
}

static GDBusConnection *
connect_bus (GError **error)
{
  GDBusConnection *connection = g_bus_get_sync (opt_system ? G_BUS_TYPE_SYSTEM
                                                           : G_BUS_TYPE_SESSION,
                                                NULL, error);
  if (connection == NULL)
    g_prefix_error (error, opt_system ? _("Cannot connect to the system bus: ")
                                      : _("Cannot connect to the session bus: "));
  return connection;
}

static int
print_version (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) connection = connect_bus (&error);
  g_autoptr(QmgrManager) manager = NULL;
  const char *daemon = NULL;

  g_print (_("qmgrctl %s\n"), PACKAGE_VERSION);
  if (connection != NULL)
    manager = qmgr_manager_proxy_new_sync (connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                           QMGR_BUS_NAME, QMGR_MANAGER_PATH, NULL, NULL);
  if (manager != NULL)
    daemon = qmgr_manager_get_version (manager);
  if (daemon != NULL)
    g_print (_("qmgrd %s\n"), daemon);
  else
    g_print (_("qmgrd is not running\n"));
  return QMGRCTL_EXIT_OK;
}

static void
setup_locale (void)
{
  const char *dir = secure_getenv ("QMGR_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, dir != NULL && *dir != '\0' ? dir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

static int
fail (GError *error)
{
  int status = qmgrctl_exit_code (error);

  g_printerr (_("qmgrctl: %s\n"), error->message);
  if (status == QMGRCTL_EXIT_USAGE)
    g_printerr (_("Try “qmgrctl --help” for more information.\n"));
  g_error_free (error);
  return status;
}

static int
run_verb (const QmgrctlVerb *verb, int argc, char **argv)
{
  Qmgrctl ctl = { 0 };
  GError *error = NULL;
  int status;

  if (!parse_verb (verb, &argc, &argv, &error))
    return fail (error);
  if (opt_system && opt_user)
    {
      qmgrctl_set_usage_error (&error, _("--system and --user exclude each other"));
      return fail (error);
    }
  ctl.json = opt_json;
  ctl.system = opt_system;
  ctl.tty = isatty (STDOUT_FILENO);
  ctl.connection = connect_bus (&error);
  if (ctl.connection == NULL)
    {
      /* No bus, no qmgrd. */
      fail (error);
      return QMGRCTL_EXIT_UNAVAILABLE;
    }
  /* argv[0] is the verb: the verb sees its own arguments from argv[1]. */
  status = verb->run (&ctl, argc, argv, &error);
  g_clear_object (&ctl.manager);
  g_clear_object (&ctl.connection);
  if (status < 0)
    return fail (error);
  return status;
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *description = NULL;
  GError *error = NULL;
  const QmgrctlVerb *verb;

  setup_locale ();
  context = g_option_context_new (_("VERB [ARGUMENTS…]"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _("Control qmgrd, the background transfer service."));
  description = verbs_description ();
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, version_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, global_entries, GETTEXT_PACKAGE);
  /* Options up to the verb; the verb parses the rest. */
  g_option_context_set_strict_posix (context, TRUE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return fail (error);
  if (opt_version)
    return print_version ();
  if (argc < 2)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
      g_printerr ("%s", help);
      return QMGRCTL_EXIT_USAGE;
    }
  verb = find_verb (argv[1]);
  if (verb == NULL)
    {
      qmgrctl_set_usage_error (&error, _("Unknown verb “%s”"), argv[1]);
      return fail (error);
    }
  return run_verb (verb, argc - 1, argv + 1);
}
