/* qmgrd integration tests — --idle-timeout: the daemon exits (status 0) after the
 * given time without requests, but never while a group is queued. */
#include "it-util.h"

#include <string.h>

#define IDLE_S "1"

static const char *const idle_args[] = { "--idle-timeout", IDLE_S, NULL };

static gboolean
daemon_gone (gpointer d)
{
  return !qmgr_test_daemon_is_running (d);
}

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Polls the process every 50 ms until it is gone or @timeout_ms passed. */
static gboolean
wait_daemon_gone (QmgrTestDaemon *d, guint timeout_ms)
{
  guint ticker = g_timeout_add (50, tick, NULL);
  gboolean gone = qmgr_test_wait_until (daemon_gone, d, timeout_ms);

  g_source_remove (ticker);
  return gone;
}

static void
test_exits_when_idle (ItFixture *f, gconstpointer args)
{
  g_assert_true (wait_daemon_gone (f->d, 15000));
  qmgr_test_daemon_stop (f->d);   /* asserts the exit status was 0 */
}

static void
test_stays_while_queued (ItFixture *f, gconstpointer args)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *local = it_file (f->d, "never.bin");

  g_assert_true (it_add_file (f->d, g->job_path, "http://127.0.0.1:9/never", local, 0, &error));
  g_assert_no_error (error);
  /* Queued, blocked by its transfer policy: work remains, nothing moves. */
  it_resume_blocked (f->d, g->path);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x80);

  /* Three idle periods pass without the daemon leaving. */
  g_assert_false (wait_daemon_gone (f->d, 3000));

  /* Once nothing is queued, it goes. */
  it_call_void (f->d, g->path, QMGR_TEST_GROUP_IFACE, "CancelGroup", NULL);
  g_assert_true (wait_daemon_gone (f->d, 15000));
  qmgr_test_daemon_stop (f->d);
}

/* utime + stime of the daemon, in clock ticks. */
static guint64
cpu_ticks (QmgrTestDaemon *d)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) qmgr_test_daemon_get_pid (d));
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_comm;

  g_assert_true (g_file_get_contents (path, &stat, NULL, NULL));
  after_comm = strrchr (stat, ')');
  g_assert_nonnull (after_comm);
  fields = g_strsplit (after_comm + 2, " ", -1);
  /* Fields 14 and 15 of stat(5); after the comm field they are the 12th and 13th. */
  return g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10);
}

/* Nothing to do means no work: a daemon with a queued but blocked group burns no
 * CPU (a main loop that spun on its own wake-ups once did). */
static void
test_no_busy_loop (ItFixture *f, gconstpointer args)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *local = it_file (f->d, "blocked.bin");
  guint64 before;

  g_assert_true (it_add_file (f->d, g->job_path, "http://127.0.0.1:9/x", local, 0, &error));
  it_resume_blocked (f->d, g->path);
  before = cpu_ticks (f->d);
  g_assert_false (wait_daemon_gone (f->d, 2000));
  /* 2 s of wall time; a spinning loop would take ~200 ticks. */
  g_assert_cmpuint (cpu_ticks (f->d) - before, <=, 10);
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  it_add_with_args ("/idle/exits", idle_args, test_exits_when_idle);
  it_add_with_args ("/idle/stays-while-queued", idle_args, test_stays_while_queued);
  it_add ("/idle/no-busy-loop", test_no_busy_loop);
  return g_test_run ();
}
