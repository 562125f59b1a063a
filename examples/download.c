/* An example of libqmgr in C: downloads URL DEST pairs through qmgrd with
 * QmgrDownload, printing the progress, then lists the groups left in the
 * queue with the QMGR enumerator.
 *
 *   cc download.c $(pkg-config --cflags --libs libqmgr-1) -o download
 *   ./download https://example.org/a.iso /tmp/a.iso
 */
#include <qmgr.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  GMainLoop *loop;
  GError *error;
} Outcome;

static void
on_progress (QmgrDownload *download, guint64 done, guint64 total, gpointer user_data)
{
  printf ("%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes (%s)\n", done, total,
          qmgr_download_get_wait_reason (download));
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Outcome *outcome = user_data;

  qmgr_download_run_finish (QMGR_DOWNLOAD (source), result, &outcome->error);
  g_main_loop_quit (outcome->loop);
}

/* IEnumBackgroundCopyGroups: ask for more than there are, get S_FALSE. */
static void
list_queue (GDBusConnection *bus)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmgrManager) manager = NULL;
  g_autoptr(QmgrEnumGroups) groups = NULL;
  g_auto(GStrv) ids = NULL;
  gboolean all;

  manager = qmgr_manager_proxy_new_sync (bus, G_DBUS_PROXY_FLAGS_NONE, QMGR_BUS_NAME,
                                         QMGR_MANAGER_PATH, NULL, &error);
  if (manager != NULL)
    groups = qmgr_enum_groups_new_sync (manager, NULL, &error);
  if (groups == NULL)
    {
      fprintf (stderr, "cannot list the queue: %s\n", error->message);
      return;
    }
  all = qmgr_enum_groups_next (groups, 100, &ids);
  printf ("%u groups in the queue%s\n", g_strv_length (ids), all ? " (and maybe more)" : "");
  for (guint i = 0; ids[i] != NULL; i++)
    printf ("  %s\n", ids[i]);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(QmgrDownload) download = NULL;
  Outcome outcome = { 0 };

  if (argc < 3 || argc % 2 == 0)
    {
      fprintf (stderr, "usage: %s URL DEST [URL DEST...]\n", argv[0]);
      return 2;
    }
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (bus == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  download = qmgr_download_new (bus);
  for (int i = 1; i < argc; i += 2)
    qmgr_download_add_file (download, argv[i], argv[i + 1]);
  qmgr_download_set_display_name (download, "C example");
  g_signal_connect (download, "progress", G_CALLBACK (on_progress), NULL);

  outcome.loop = g_main_loop_new (NULL, FALSE);
  qmgr_download_run (download, NULL, on_done, &outcome);
  g_main_loop_run (outcome.loop);
  g_main_loop_unref (outcome.loop);

  if (outcome.error != NULL)
    {
      /* Act on the code; show the message (translated, with qmgrd's reason). */
      fprintf (stderr, "download failed (%s): %s\n",
               g_error_matches (outcome.error, QMGR_CLIENT_ERROR, QMGR_CLIENT_ERROR_INVALID_ARGS)
                 ? "refused" : "failed",
               outcome.error->message);
      g_error_free (outcome.error);
      return 1;
    }
  printf ("complete: group %s\n", qmgr_download_get_group_id (download));
  list_queue (bus);
  return 0;
}
