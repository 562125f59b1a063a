/* qmgrctl — transfer: a group with the files, resumed and followed to the
 * end (QmgrDownload), with a progress bar on a terminal and plain lines
 * otherwise. Ctrl-C stops following, not the transfer. */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#include "qmgrctl.h"

#define BAR_WIDTH 24
#define RATE_WINDOW_USEC (5 * G_USEC_PER_SEC)
#define N_SAMPLES 32
#define PLAIN_INTERVAL_USEC (2 * G_USEC_PER_SEC)

static char *opt_name, *opt_policy;
static gboolean opt_keep, opt_foreground, opt_quiet;

const GOptionEntry qmgrctl_transfer_entries[] = {
  { "name", 0, 0, G_OPTION_ARG_STRING, &opt_name, N_("The group's display name"), N_("NAME") },
  { "keep", 0, 0, G_OPTION_ARG_NONE, &opt_keep,
    N_("Keep the completed group in the queue instead of removing it"), NULL },
  { "foreground", 0, 0, G_OPTION_ARG_NONE, &opt_foreground,
    N_("Transfer in the foreground: at once, unpaced, ahead of background work"), NULL },
  { "policy", 0, 0, G_OPTION_ARG_STRING, &opt_policy,
    N_("The networks it may transfer on: always, not-roaming, no-surcharge, standard, "
       "unrestricted, or a mask"), N_("POLICY") },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, N_("Print only errors"), NULL },
  G_OPTION_ENTRY_NULL,
};

typedef struct {
  Qmgrctl *ctl;
  QmgrDownload *download;
  GMainLoop *loop;
  GCancellable *cancellable;
  GError *error;
  gboolean finished;
  gint64 started;
  /* Recent (time, bytes) samples, for the rate. */
  gint64 sample_time[N_SAMPLES];
  guint64 sample_bytes[N_SAMPLES];
  guint n_samples;
  char *reason;          /* the last WaitReason shown */
  gint64 last_plain;     /* when the last plain progress line was printed */
  gboolean bar_drawn;
} Transfer;

static void
add_sample (Transfer *t, guint64 bytes)
{
  gint64 now = g_get_monotonic_time ();

  if (t->n_samples == N_SAMPLES)
    {
      memmove (t->sample_time, t->sample_time + 1, sizeof t->sample_time[0] * (N_SAMPLES - 1));
      memmove (t->sample_bytes, t->sample_bytes + 1, sizeof t->sample_bytes[0] * (N_SAMPLES - 1));
      t->n_samples--;
    }
  t->sample_time[t->n_samples] = now;
  t->sample_bytes[t->n_samples] = bytes;
  t->n_samples++;
}

/* Bytes per second over the last few seconds; 0 while unknown. */
static double
rate (Transfer *t)
{
  gint64 now = g_get_monotonic_time ();
  guint first = 0;

  while (first + 1 < t->n_samples && now - t->sample_time[first] > RATE_WINDOW_USEC)
    first++;
  if (t->n_samples < 2 || t->sample_time[t->n_samples - 1] == t->sample_time[first])
    return 0;
  return (double) (t->sample_bytes[t->n_samples - 1] - t->sample_bytes[first])
         / ((double) (now - t->sample_time[first]) / G_USEC_PER_SEC);
}

static char *
format_duration (guint64 seconds)
{
  if (seconds >= 3600)
    return g_strdup_printf ("%" G_GUINT64_FORMAT ":%02u:%02u", seconds / 3600,
                            (guint) (seconds / 60 % 60), (guint) (seconds % 60));
  return g_strdup_printf ("%u:%02u", (guint) (seconds / 60), (guint) (seconds % 60));
}

/* "30.1 MiB / 64.0 MiB  4.2 MiB/s  ETA 0:08", or why it waits. */
static char *
status_text (Transfer *t, guint64 done, guint64 total)
{
  const char *reason = qmgr_download_get_wait_reason (t->download);
  g_autofree char *done_text = qmgrctl_format_size (done);
  g_autofree char *total_text = total > 0 ? qmgrctl_format_size (total) : g_strdup ("?");
  double bps = rate (t);

  if (reason != NULL && !g_str_equal (reason, "transferring"))
    /* TRANSLATORS: bytes done / total, then why the transfer waits */
    return g_strdup_printf (_("%s / %s  %s"), done_text, total_text,
                            qmgr_wait_reason_describe (reason));
  if (bps <= 0)
    return g_strdup_printf ("%s / %s", done_text, total_text);
  g_autofree char *rate_text = g_format_size_full ((guint64) bps, G_FORMAT_SIZE_IEC_UNITS);
  if (total == 0 || total < done)
    return g_strdup_printf (_("%s / %s  %s/s"), done_text, total_text, rate_text);
  g_autofree char *eta = format_duration ((guint64) ((double) (total - done) / bps + 0.5));
  /* TRANSLATORS: bytes done / total, the rate and the estimated time left */
  return g_strdup_printf (_("%s / %s  %s/s  ETA %s"), done_text, total_text, rate_text, eta);
}

static void
draw (Transfer *t)
{
  guint64 done = qmgr_download_get_bytes_transferred (t->download);
  guint64 total = qmgr_download_get_bytes_total (t->download);
  guint pct = total > 0 ? (guint) MIN (100, done * 100 / total) : 0;
  g_autofree char *text = status_text (t, done, total);
  const char *reason = qmgr_download_get_wait_reason (t->download);
  gint64 now = g_get_monotonic_time ();

  if (opt_quiet)
    return;
  if (t->ctl->tty)
    {
      char bar[BAR_WIDTH + 1];
      guint filled = pct * BAR_WIDTH / 100;

      for (guint i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
      bar[BAR_WIDTH] = '\0';
      g_print ("\r[%s] %3u%%  %s\033[K", bar, pct, text);
      fflush (stdout);
      t->bar_drawn = TRUE;
      return;
    }
  /* Plain lines: on each change of state, else every few seconds; the end
   * has its own line. */
  if (g_strcmp0 (reason, "complete") == 0 || g_strcmp0 (reason, "error") == 0)
    return;
  if (g_strcmp0 (reason, t->reason) != 0 || now - t->last_plain >= PLAIN_INTERVAL_USEC)
    {
      g_print ("%3u%%  %s\n", pct, text);
      fflush (stdout);
      t->last_plain = now;
      g_free (t->reason);
      t->reason = g_strdup (reason);
    }
}

static void
end_bar (Transfer *t)
{
  if (t->bar_drawn)
    g_print ("\n");
  t->bar_drawn = FALSE;
}

static void
on_progress (QmgrDownload *download, guint64 done, guint64 total, gpointer user_data)
{
  Transfer *t = user_data;

  add_sample (t, done);
  draw (t);
}

static void
on_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Transfer *t = user_data;

  if (qmgr_download_get_resumed (t->download))
    draw (t);
}

/* Once resumed the group is qmgrd's: say which it is. */
static void
on_resumed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Transfer *t = user_data;

  if (!opt_quiet)
    g_print (_("Group %s\n"), qmgr_download_get_group_id (t->download));
  draw (t);
}

static gboolean
on_tick (gpointer user_data)
{
  Transfer *t = user_data;

  if (qmgr_download_get_resumed (t->download))
    draw (t);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_interrupt (gpointer user_data)
{
  g_cancellable_cancel (((Transfer *) user_data)->cancellable);
  return G_SOURCE_CONTINUE;
}

static void
run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Transfer *t = user_data;

  qmgr_download_run_finish (t->download, result, &t->error);
  t->finished = TRUE;
  g_main_loop_quit (t->loop);
}

static void
report_end (Transfer *t)
{
  const char *id = qmgr_download_get_group_id (t->download);
  g_autofree char *size = qmgrctl_format_size (qmgr_download_get_bytes_transferred (t->download));
  double seconds = (double) (g_get_monotonic_time () - t->started) / G_USEC_PER_SEC;

  if (t->bar_drawn)
    draw (t);  /* the final figures */
  end_bar (t);
  if (t->error == NULL)
    {
      if (!opt_quiet)
        g_print (ngettext ("Complete: %u file, %s in %.1f s\n",
                           "Complete: %u files, %s in %.1f s\n",
                           qmgr_download_get_files_total (t->download)),
                 qmgr_download_get_files_total (t->download), size, seconds);
      if (opt_keep && !opt_quiet)
        g_print (_("The group %s stays in the queue; “qmgrctl cancel %s” removes it.\n"), id,
                 id);
      return;
    }
  if (g_error_matches (t->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (qmgr_download_get_resumed (t->download))
        g_printerr (_("Interrupted. The transfer goes on in the background as group %s:\n"
                      "  qmgrctl monitor %s   follows it\n"
                      "  qmgrctl info %s      shows it\n"
                      "  qmgrctl cancel %s    stops it\n"),
                    id, id, id, id);
      else
        g_printerr (_("Interrupted; nothing was queued.\n"));
      return;
    }
  g_printerr (_("qmgrctl: %s\n"), t->error->message);
  if (qmgr_download_get_resumed (t->download))
    g_printerr (_("The group %s stays in the queue: “qmgrctl files %s” shows what failed, "
                  "“qmgrctl resume %s” retries, “qmgrctl cancel %s” removes it.\n"),
                id, id, id, id);
}

static gboolean
setup (Transfer *t, int argc, char **argv, GError **error)
{
  guint policy = 0;

  if (argc < 3 || (argc - 1) % 2 != 0)
    {
      qmgrctl_set_usage_error (error,
                               _("Give each URL with its destination: URL DEST [URL DEST…]"));
      return FALSE;
    }
  if (opt_policy != NULL && !qmgrctl_parse_policy (opt_policy, &policy, error))
    return FALSE;
  t->download = qmgr_download_new (t->ctl->connection);
  for (int i = 1; i < argc; i += 2)
    {
      g_autofree char *dest = qmgrctl_destination (argv[i], argv[i + 1]);
      qmgr_download_add_file (t->download, argv[i], dest);
    }
  qmgr_download_set_display_name (t->download, opt_name != NULL ? opt_name : "qmgrctl transfer");
  qmgr_download_set_transfer_policy (t->download, policy);
  qmgr_download_set_foreground (t->download, opt_foreground);
  qmgr_download_set_remove_when_complete (t->download, !opt_keep);
  return TRUE;
}

int
qmgrctl_transfer (Qmgrctl *ctl, int argc, char **argv, GError **error)
{
  Transfer t = { .ctl = ctl };
  guint sources[3];
  int status;

  if (!setup (&t, argc, argv, error))
    return -1;
  t.loop = g_main_loop_new (NULL, FALSE);
  t.cancellable = g_cancellable_new ();
  t.started = g_get_monotonic_time ();
  g_signal_connect (t.download, "progress", G_CALLBACK (on_progress), &t);
  g_signal_connect (t.download, "notify::wait-reason", G_CALLBACK (on_changed), &t);
  g_signal_connect (t.download, "notify::resumed", G_CALLBACK (on_resumed), &t);
  sources[0] = g_unix_signal_add (SIGINT, on_interrupt, &t);
  sources[1] = g_unix_signal_add (SIGTERM, on_interrupt, &t);
  sources[2] = g_timeout_add_seconds (1, on_tick, &t);
  qmgr_download_run (t.download, t.cancellable, run_done, &t);
  while (!t.finished)
    g_main_loop_run (t.loop);
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    g_source_remove (sources[i]);
  report_end (&t);
  status = t.error == NULL ? QMGRCTL_EXIT_OK : qmgrctl_exit_code (t.error);
  g_clear_error (&t.error);
  g_signal_handlers_disconnect_by_data (t.download, &t);
  g_object_unref (t.download);
  g_object_unref (t.cancellable);
  g_main_loop_unref (t.loop);
  g_free (t.reason);
  return status;
}
