/* qmgrd integration tests — NoProgressTimeout against transient failures: a
 * server that answers 503 for ever makes the group fail with NoProgress once the
 * timeout has passed since the last progress, also when the daemon is restarted
 * more often than that (the clock is in the store, not only in memory). */
#include "it-util.h"
#include "qmgr-test-server.h"

#define GROUP QMGR_TEST_GROUP_IFACE
#define JOB QMGR_TEST_JOB_IFACE
#define ROUTE "/always-503.bin"
#define NO_PROGRESS_S 4
#define DEADLINE_MS 30000

typedef struct {
  QmgrTestDaemon *d;
  QmgrTestServer *server;
  ItGroup *g;
} Case;

static void
case_start (Case *c)
{
  QmgrTestFault always_503 = { .kind = QMGR_FAULT_STATUS, .status = 503 };
  g_autoptr(GBytes) content = qmgr_test_make_content (4096, 3);
  g_autofree char *url = NULL;
  g_autofree char *dest = NULL;
  g_autoptr(GError) error = NULL;

  c->d = qmgr_test_daemon_new ();
  c->server = qmgr_test_server_new ();
  qmgr_test_server_add_file (c->server, ROUTE, content, "always-503.bin", 1700000000);
  qmgr_test_server_set_fault (c->server, ROUTE, &always_503);
  qmgr_test_daemon_start (c->d, NULL);
  c->g = it_group_create (c->d, TRUE);
  it_set_group_u (c->d, c->g, "MinimumRetryDelay", 1);
  it_set_group_u (c->d, c->g, "NoProgressTimeout", NO_PROGRESS_S);
  url = qmgr_test_server_get_url_for (c->server, ROUTE);
  dest = it_file (c->d, "always-503.bin");
  g_assert_true (it_add_file (c->d, c->g->job_path, url, dest, 0, &error));
  g_assert_no_error (error);
  it_call_void (c->d, c->g->path, GROUP, "ResumeGroup", NULL);
}

static void
case_finish (Case *c)
{
  qmgr_test_daemon_stop (c->d);
  it_group_free (c->g);
  qmgr_test_server_free (c->server);
  qmgr_test_daemon_free (c->d);
}

static gboolean
errored (gpointer user_data)
{
  Case *c = user_data;
  return it_group_status (c->d, c->g->path) == 0x380;
}

static void
assert_no_progress_error (Case *c, gint64 start)
{
  g_autoptr(GVariant) last_error = it_get_property (c->d, c->g->job_path, JOB, "LastError");
  const char *name;
  gint64 elapsed = g_get_monotonic_time () - start;

  g_assert_cmphex (it_group_status (c->d, c->g->path), ==, 0x380);
  g_variant_get (last_error, "(&s&s)", &name, NULL);
  g_assert_cmpstr (name, ==, "io.github.qmgrd.QMgr1.Transfer.NoProgress");
  g_test_message ("NoProgress after %.1f s, %u requests", (double) elapsed / 1e6,
                  qmgr_test_server_get_request_count (c->server, ROUTE));
  /* Not before the timeout: the failures alone are not the error. */
  g_assert_cmpint (elapsed, >=, NO_PROGRESS_S * G_USEC_PER_SEC);
}

/* 503 for ever, the daemon left alone: transient retries, then NoProgress. */
static void
test_no_progress (void)
{
  Case c = { 0 };
  gint64 start;

  case_start (&c);
  start = g_get_monotonic_time ();
  g_assert_true (it_wait_property (c.d, c.g->path, GROUP, "Status",
                                   g_variant_new_uint32 (0x380), DEADLINE_MS));
  assert_no_progress_error (&c, start);
  g_assert_cmpuint (qmgr_test_server_get_request_count (c.server, ROUTE), >=, 2);
  case_finish (&c);
}

/* The same, the daemon restarted every RESTART_EVERY_MS: no run of it lasts
 * NoProgressTimeout, yet the group fails once the timeout has passed since it
 * was resumed (with the clock in memory only, each run starts it anew and the
 * group retries for ever). */
#define RESTART_EVERY_MS 1500

typedef struct {
  Case *c;
  gint64 until;
} LifeWait;

static gboolean
errored_or_due (gpointer user_data)
{
  LifeWait *w = user_data;
  return errored (w->c) || g_get_monotonic_time () >= w->until;
}

static void
test_no_progress_across_restarts (void)
{
  Case c = { 0 };
  gint64 start;
  guint restarts = 0;

  case_start (&c);
  start = g_get_monotonic_time ();
  for (;;)
    {
      LifeWait w = { &c, g_get_monotonic_time () + RESTART_EVERY_MS * 1000 };

      g_assert_true (it_poll_until (errored_or_due, &w, 20, DEADLINE_MS));
      if (errored (&c))
        break;
      /* Retrying for ever: the clock started anew with every run. */
      g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * NO_PROGRESS_S * G_USEC_PER_SEC);
      qmgr_test_daemon_stop (c.d);
      qmgr_test_daemon_start (c.d, NULL);
      restarts++;
    }
  g_test_message ("%u restarts, one every %u ms", restarts, RESTART_EVERY_MS);
  g_assert_cmpuint (restarts, >=, NO_PROGRESS_S * 1000 / RESTART_EVERY_MS);
  assert_no_progress_error (&c, start);
  case_finish (&c);
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  g_test_add_func ("/no-progress/transient-failures", test_no_progress);
  g_test_add_func ("/no-progress/across-restarts", test_no_progress_across_restarts);
  return g_test_run ();
}
