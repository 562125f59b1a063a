/* qmgrd integration tests — the scheduler seen from the test server: how many files
 * move at once and in which order, foreground groups pausing background work, the
 * bandwidth limits (rates measured at the server), and the configuration file found
 * through $XDG_CONFIG_HOME. */
#include "it-util.h"
#include "qmgr-test-server.h"

#include <string.h>

#define GROUP QMGR_TEST_GROUP_IFACE
#define MANAGER QMGR_TEST_MANAGER_IFACE
#define DEADLINE_MS 20000
#define KIB ((guint64) 1024)
#define MIB (1024 * KIB)
#define SAMPLE_INTERVAL_US 2000
#define MAX_REQUESTS_SEEN 4
#define MAX_JOBS 2

/* ---- helpers ---- */

/* Serves @size bytes of deterministic content at @path with a strong ETag, so that a
 * stopped download resumes with a Range request. Returns the content (unref it). */
static GBytes *
serve (QmgrTestServer *server, const char *path, guint64 size, guint32 seed)
{
  GBytes *content = qmgr_test_make_content (size, seed);

  qmgr_test_server_add_file (server, path, content, "v1", 0);
  return content;
}

static void
set_slow (QmgrTestServer *server, const char *path, guint64 bytes_per_second)
{
  QmgrTestFault fault = { .kind = QMGR_FAULT_SLOW, .param = bytes_per_second };

  qmgr_test_server_set_fault (server, path, &fault);
}

static void
add_file (QmgrTestDaemon *d, ItGroup *g, QmgrTestServer *server, const char *route,
          const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = qmgr_test_server_get_url_for (server, route);
  g_autofree char *local = it_file (d, name);

  it_add_file (d, g->job_path, url, local, 0, &error);
  g_assert_no_error (error);
}

static void
set_manager_u (QmgrTestDaemon *d, const char *name, guint32 value)
{
  g_autoptr(GError) error = NULL;

  it_set_property (d, QMGR_TEST_MANAGER_PATH, MANAGER, name, g_variant_new_uint32 (value),
                   &error);
  g_assert_no_error (error);
}

static void
set_manager_t (QmgrTestDaemon *d, const char *name, guint64 value)
{
  g_autoptr(GError) error = NULL;

  it_set_property (d, QMGR_TEST_MANAGER_PATH, MANAGER, name, g_variant_new_uint64 (value),
                   &error);
  g_assert_no_error (error);
}

static void
set_group_limit (QmgrTestDaemon *d, ItGroup *g, guint64 bytes_per_second)
{
  g_autoptr(GError) error = NULL;

  it_set_property (d, g->path, GROUP, "BandwidthLimit", g_variant_new_uint64 (bytes_per_second),
                   &error);
  g_assert_no_error (error);
}

static gboolean
wait_status (QmgrTestDaemon *d, ItGroup *g, guint32 status, guint timeout_ms)
{
  return it_wait_property (d, g->path, GROUP, "Status", g_variant_new_uint32 (status),
                           timeout_ms);
}

static gboolean
wait_reason (QmgrTestDaemon *d, ItGroup *g, const char *reason, guint timeout_ms)
{
  return it_wait_property (d, g->path, GROUP, "WaitReason", g_variant_new_string (reason),
                           timeout_ms);
}

static void
assert_file_content (QmgrTestDaemon *d, const char *name, GBytes *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = it_file (d, name);
  g_autofree char *contents = NULL;
  gsize len, expected_len;
  const void *expected_data = g_bytes_get_data (expected, &expected_len);

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (contents, len, expected_data, expected_len);
}

static guint64
bytes_sent (QmgrTestServer *server, const char *const *paths)
{
  guint64 sum = 0;

  for (; *paths != NULL; paths++)
    sum += qmgr_test_server_get_body_bytes_sent (server, *paths);
  return sum;
}

/* How fast @g downloads once resumed, seen from outside: the body bytes the server
 * sent for @paths over the time from the server's first request for @paths[0] until
 * @g reads @done_status (every file complete and in place). Not a window of the
 * server's byte count: loopback socket buffers grow to megabytes, so that count runs
 * far ahead of what the daemon has taken, in bursts; only the end of the whole
 * download tells. Fails if @g is not done within @timeout_ms. */
static double
timed_download (QmgrTestDaemon *d, QmgrTestServer *server, ItGroup *g,
                const char *const *paths, guint32 done_status, guint timeout_ms)
{
  gint64 start;
  double seconds, rate;

  it_call_void (d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (qmgr_test_server_wait_for_requests (server, paths[0], 1, DEADLINE_MS));
  start = g_get_monotonic_time ();
  g_assert_true (wait_status (d, g, done_status, timeout_ms));
  seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  rate = (double) bytes_sent (server, paths) / seconds;
  g_test_message ("%s: %" G_GUINT64_FORMAT " bytes in %.2f s: %.0f KiB/s", paths[0],
                  bytes_sent (server, paths), seconds, rate / KIB);
  return rate;
}

/* ---- a sampler of the server's state, in its own thread ----
 *
 * The server knows how many requests each route saw and how many body bytes it sent,
 * not how many are in flight: a thread samples both every 2 ms. A request of a route
 * served once is in flight from its arrival until the last body byte was sent. Each
 * sample reads every request count first, then every byte count: a route counted in
 * flight was so during the whole gap between the two passes, so the count of a sample
 * never exceeds the number of transfers really in flight together. */

typedef struct {
  const char *path;
  guint64 size;
  guint job;                /* < MAX_JOBS: whose file it is */
  guint seen[MAX_REQUESTS_SEEN]; /* sample in which request n+1 was first seen; 0 = not */
} Route;

typedef struct {
  QmgrTestServer *server;
  Route *routes;
  guint n_routes;
  GThread *thread;
  gint stop;                /* atomic */
  guint samples;
  guint max_in_flight;
  guint max_in_flight_of_job[MAX_JOBS];
} Sampler;

static gpointer
sampler_thread (gpointer user_data)
{
  Sampler *s = user_data;
  g_autofree guint *requests = g_new0 (guint, s->n_routes);

  while (!g_atomic_int_get (&s->stop))
    {
      guint in_flight = 0;
      guint of_job[MAX_JOBS] = { 0 };

      s->samples++;
      for (guint i = 0; i < s->n_routes; i++)
        {
          Route *r = &s->routes[i];
          requests[i] = qmgr_test_server_get_request_count (s->server, r->path);
          for (guint n = 0; n < MIN (requests[i], (guint) MAX_REQUESTS_SEEN); n++)
            if (r->seen[n] == 0)
              r->seen[n] = s->samples;
        }
      for (guint i = 0; i < s->n_routes; i++)
        if (requests[i] > 0 &&
            qmgr_test_server_get_body_bytes_sent (s->server, s->routes[i].path) <
            s->routes[i].size)
          {
            in_flight++;
            of_job[s->routes[i].job]++;
          }
      s->max_in_flight = MAX (s->max_in_flight, in_flight);
      for (guint j = 0; j < MAX_JOBS; j++)
        s->max_in_flight_of_job[j] = MAX (s->max_in_flight_of_job[j], of_job[j]);
      g_usleep (SAMPLE_INTERVAL_US);
    }
  return NULL;
}

static Sampler *
sampler_start (QmgrTestServer *server, Route *routes, guint n_routes)
{
  Sampler *s = g_new0 (Sampler, 1);

  s->server = server;
  s->routes = routes;
  s->n_routes = n_routes;
  s->thread = g_thread_new ("sampler", sampler_thread, s);
  return s;
}

/* Stops and joins the thread; the results may be read then. */
static void
sampler_stop (Sampler *s)
{
  if (s->thread == NULL)
    return;
  g_atomic_int_set (&s->stop, 1);
  g_thread_join (g_steal_pointer (&s->thread));
}

static void
sampler_free (Sampler *s)
{
  if (s == NULL)
    return;
  sampler_stop (s);
  g_free (s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Sampler, sampler_free)

/* ---- foreground against background ---- */

static void
test_foreground_preempts (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(GBytes) bg_content = serve (server, "/bg", 1 * MIB, 1);
  g_autoptr(GBytes) fg_content = serve (server, "/fg", 128 * KIB, 2);
  g_autoptr(ItGroup) bg = it_group_create (f->d, TRUE);
  g_autoptr(ItGroup) fg = it_group_create (f->d, TRUE);
  g_autofree char *range = NULL;
  guint64 sent_before, offset;

  /* One slot. The background file would take 32 s at this pace, the foreground one
   * takes 2 s. */
  set_manager_u (f->d, "MaxConcurrentTransfers", 1);
  set_slow (server, "/bg", 32 * KIB);
  set_slow (server, "/fg", 64 * KIB);
  add_file (f->d, bg, server, "/bg", "bg");
  add_file (f->d, fg, server, "/fg", "fg");

  it_call_void (f->d, bg->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (qmgr_test_server_wait_for_body_bytes (server, "/bg", 32 * KIB, DEADLINE_MS));
  g_assert_true (wait_reason (f->d, bg, "transferring", DEADLINE_MS));

  /* The foreground group does not wait for the slot: it takes it at once. */
  it_call_void (f->d, fg->path, GROUP, "SwitchToForeground", NULL);
  it_call_void (f->d, fg->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (qmgr_test_server_wait_for_requests (server, "/fg", 1, 10000));
  sent_before = qmgr_test_server_get_body_bytes_sent (server, "/bg");
  g_assert_cmpuint (sent_before, <, 1 * MIB);
  g_assert_cmpuint (qmgr_test_server_get_request_count (server, "/bg"), ==, 1);

  /* The background group was paused for it: queued again, not failed or suspended. */
  g_assert_true (wait_reason (f->d, bg, "queued", 1000));
  g_assert_cmpuint (it_group_status (f->d, bg->path), ==, 0x80);
  g_assert_cmpuint (it_group_status (f->d, fg->path), ==, 0x480);

  /* Once it may go on, the rest of the background file comes at full speed. */
  qmgr_test_server_set_fault (server, "/bg", NULL);
  g_assert_true (qmgr_test_server_wait_for_requests (server, "/bg", 2, DEADLINE_MS));
  /* ... only after the foreground file was sent in full ... */
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (server, "/fg"), ==, 128 * KIB);
  g_assert_cmpuint (qmgr_test_server_get_request_count (server, "/fg"), ==, 1);
  /* ... and from where it stopped: it was paused, not restarted. */
  range = qmgr_test_server_get_last_request_header (server, "/bg", "Range");
  g_assert_nonnull (range);
  g_assert_true (g_str_has_prefix (range, "bytes="));
  offset = g_ascii_strtoull (range + strlen ("bytes="), NULL, 10);
  g_test_message ("background resumed with Range: %s", range);
  g_assert_cmpuint (offset, >, 0);
  g_assert_cmpuint (offset, <=, sent_before);

  g_assert_true (wait_status (f->d, fg, 0x540, DEADLINE_MS));
  g_assert_true (wait_status (f->d, bg, 0x140, DEADLINE_MS));
  g_assert_cmpuint (qmgr_test_server_get_request_count (server, "/bg"), ==, 2);
  assert_file_content (f->d, "fg", fg_content);
  assert_file_content (f->d, "bg", bg_content);
}

static void
test_foreground_not_paced (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const guint64 global_limit = 128 * KIB;
  const guint64 size = 4 * MIB;           /* 32 s at the global limit */
  const char *const paths[] = { "/fast", NULL };
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(GBytes) content = serve (server, "/fast", size, 3);
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  double rate;

  set_manager_t (f->d, "BandwidthLimit", global_limit);
  add_file (f->d, g, server, "/fast", "fast");
  it_call_void (f->d, g->path, GROUP, "SwitchToForeground", NULL);
  /* Paced, it would need 32 s; a quarter of that is a generous bound for a loopback
   * download on a loaded machine. */
  rate = timed_download (f->d, server, g, paths, 0x540, size * 1000 / global_limit / 4);
  g_assert_cmpfloat (rate, >=, 4.0 * (double) global_limit);
  assert_file_content (f->d, "fast", content);
}

static void
test_foreground_own_limit (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const guint64 global_limit = 64 * KIB;
  const guint64 own_limit = 1 * MIB;
  const guint64 size = 3 * MIB;           /* 3 s at its own limit, 48 s at the global */
  const char *const paths[] = { "/own", NULL };
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(GBytes) content = serve (server, "/own", size, 4);
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  double rate;

  set_manager_t (f->d, "BandwidthLimit", global_limit);
  add_file (f->d, g, server, "/own", "own");
  set_group_limit (f->d, g, own_limit);
  it_call_void (f->d, g->path, GROUP, "SwitchToForeground", NULL);
  rate = timed_download (f->d, server, g, paths, 0x540, size * 1000 / global_limit / 4);
  /* Its own limit holds it back (its first burst aside) ... */
  g_assert_cmpfloat (rate, <=, 1.5 * (double) own_limit);
  /* ... and only its own. */
  g_assert_cmpfloat (rate, >=, 4.0 * (double) global_limit);
  assert_file_content (f->d, "own", content);
}

/* ---- the global limit ---- */

static void
test_background_paced (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const guint64 limit = 512 * KIB;
  const guint64 size = 768 * KIB;         /* two files together: 3 s at the limit */
  const char *const free_paths[] = { "/u0", "/u1", NULL };
  const char *const paced_paths[] = { "/p0", "/p1", NULL };
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) unpaced_group = it_group_create (f->d, TRUE);
  g_autoptr(ItGroup) paced_group = it_group_create (f->d, TRUE);
  GBytes *contents[4];
  double unpaced, paced;

  for (guint i = 0; i < 2; i++)
    {
      contents[i] = serve (server, free_paths[i], size, 5 + i);
      add_file (f->d, unpaced_group, server, free_paths[i], free_paths[i] + 1);
      contents[2 + i] = serve (server, paced_paths[i], size, 7 + i);
      add_file (f->d, paced_group, server, paced_paths[i], paced_paths[i] + 1);
    }

  /* What the daemon takes without a limit, then with one. The two files of each
   * group run at once (the cap is 4): the limit is for all of them together. */
  unpaced = timed_download (f->d, server, unpaced_group, free_paths, 0x140, DEADLINE_MS);
  set_manager_t (f->d, "BandwidthLimit", limit);
  paced = timed_download (f->d, server, paced_group, paced_paths, 0x140, DEADLINE_MS);
  g_assert_cmpfloat (paced, <=, 1.5 * (double) limit);
  g_assert_cmpfloat (paced, >=, 0.5 * (double) limit);
  g_assert_cmpfloat (unpaced, >=, 3.0 * paced);

  for (guint i = 0; i < 2; i++)
    {
      assert_file_content (f->d, free_paths[i] + 1, contents[i]);
      assert_file_content (f->d, paced_paths[i] + 1, contents[2 + i]);
    }
  for (guint i = 0; i < 4; i++)
    g_bytes_unref (contents[i]);
}

/* ---- order and concurrency ---- */

static void
test_background_resume_order (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const guint64 size = 64 * KIB;          /* 250 ms each */
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  Route routes[4] = {
    { .path = "/d0", .size = size }, { .path = "/d1", .size = size },
    { .path = "/d2", .size = size }, { .path = "/d3", .size = size },
  };
  ItGroup *groups[4];
  GBytes *contents[4];
  g_autoptr(Sampler) sampler = NULL;
  QmgrTestFault stall = { .kind = QMGR_FAULT_STALL_AFTER, .param = 1024, .times = 1 };

  set_manager_u (f->d, "MaxConcurrentTransfers", 1);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("d%u", i);

      contents[i] = serve (server, routes[i].path, size, 10 + i);
      set_slow (server, routes[i].path, 256 * KIB);
      groups[i] = it_group_create (f->d, TRUE);
      add_file (f->d, groups[i], server, routes[i].path, name);
    }
  /* The first group holds the slot with a transfer that stalls, while the others are
   * resumed in an order that is neither that of their creation nor its reverse. */
  qmgr_test_server_set_fault (server, "/d0", &stall);
  sampler = sampler_start (server, routes, G_N_ELEMENTS (routes));
  it_call_void (f->d, groups[0]->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (qmgr_test_server_wait_for_requests (server, "/d0", 1, DEADLINE_MS));
  it_call_void (f->d, groups[2]->path, GROUP, "ResumeGroup", NULL);
  it_call_void (f->d, groups[1]->path, GROUP, "ResumeGroup", NULL);
  it_call_void (f->d, groups[3]->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_reason (f->d, groups[3], "queued", DEADLINE_MS));
  /* Suspended and resumed again, the first goes to the back of the queue. */
  it_call_void (f->d, groups[0]->path, GROUP, "SuspendGroup", NULL);
  set_slow (server, "/d0", 256 * KIB);
  it_call_void (f->d, groups[0]->path, GROUP, "ResumeGroup", NULL);

  for (guint i = 0; i < 4; i++)
    g_assert_true (wait_status (f->d, groups[i], 0x140, DEADLINE_MS));
  sampler_stop (sampler);
  g_test_message ("first seen at sample: d2 %u, d1 %u, d3 %u, d0 (again) %u, of %u",
                  routes[2].seen[0], routes[1].seen[0], routes[3].seen[0], routes[0].seen[1],
                  sampler->samples);
  g_assert_cmpuint (routes[0].seen[0], >, 0);
  g_assert_cmpuint (routes[0].seen[0], <, routes[2].seen[0]);
  g_assert_cmpuint (routes[2].seen[0], <, routes[1].seen[0]);
  g_assert_cmpuint (routes[1].seen[0], <, routes[3].seen[0]);
  g_assert_cmpuint (routes[3].seen[0], <, routes[0].seen[1]);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("d%u", i);

      g_assert_cmpuint (qmgr_test_server_get_request_count (server, routes[i].path), ==,
                        i == 0 ? 2 : 1);
      assert_file_content (f->d, name, contents[i]);
      g_bytes_unref (contents[i]);
      it_group_free (groups[i]);
    }
}

#define ORDER_TIE_SAMPLES (100000 / SAMPLE_INTERVAL_US)   /* 100 ms */

/* The scheduler's figures (scheduler.c, fill_slots): at most MaxConcurrentTransfers
 * files in flight in all; within that, a job has no share of its own: its files start
 * in their order, as many at once as there are free slots. */
static void
test_default_cap_and_file_order (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const guint64 size = 64 * KIB;          /* a second each */
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  /* Two files of a group, then six of a group resumed after it. */
  Route routes[8] = {
    { .path = "/a0", .size = size, .job = 0 }, { .path = "/a1", .size = size, .job = 0 },
    { .path = "/b0", .size = size, .job = 1 }, { .path = "/b1", .size = size, .job = 1 },
    { .path = "/b2", .size = size, .job = 1 }, { .path = "/b3", .size = size, .job = 1 },
    { .path = "/b4", .size = size, .job = 1 }, { .path = "/b5", .size = size, .job = 1 },
  };
  Route *a = &routes[0], *b = &routes[2];
  g_autoptr(ItGroup) first = it_group_create (f->d, TRUE);
  g_autoptr(ItGroup) second = it_group_create (f->d, TRUE);
  g_autoptr(Sampler) sampler = NULL;
  GBytes *contents[8];

  /* Nothing set: the default. */
  g_assert_cmpuint (it_get_u (f->d, QMGR_TEST_MANAGER_PATH, MANAGER, "MaxConcurrentTransfers"),
                    ==, 4);
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      contents[i] = serve (server, routes[i].path, size, 20 + i);
      set_slow (server, routes[i].path, 64 * KIB);
      add_file (f->d, routes[i].job == 0 ? first : second, server, routes[i].path,
                routes[i].path + 1);
    }
  sampler = sampler_start (server, routes, G_N_ELEMENTS (routes));
  it_call_void (f->d, first->path, GROUP, "ResumeGroup", NULL);
  it_call_void (f->d, second->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f->d, first, 0x140, DEADLINE_MS));
  g_assert_true (wait_status (f->d, second, 0x140, DEADLINE_MS));
  sampler_stop (sampler);

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    g_test_message ("%s: first request at sample %u", routes[i].path, routes[i].seen[0]);
  g_test_message ("at most %u in flight, %u of the second job (%u samples)",
                  sampler->max_in_flight, sampler->max_in_flight_of_job[1], sampler->samples);
  /* Four files at once in all, not per group: both of the first group and the first
   * two of the second. */
  g_assert_cmpuint (sampler->max_in_flight, ==, 4);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpuint (a[i].seen[0], >, 0);
      g_assert_cmpuint (b[i].seen[0], >, 0);
      g_assert_cmpuint (b[i].seen[0], <, b[2].seen[0]);
    }
  /* The rest of the second job in its order, and all four slots for it once the
   * first group is done. Files started in one pass (two slots freed together)
   * may reach the server in either order, over two connections: a tie is
   * anything within ORDER_TIE_SAMPLES; a file started a pass later comes
   * about a second later. */
  for (guint i = 2; i < 5; i++)
    g_assert_cmpuint (b[i].seen[0], <=, b[i + 1].seen[0] + ORDER_TIE_SAMPLES);
  g_assert_cmpuint (sampler->max_in_flight_of_job[1], ==, 4);
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      g_assert_cmpuint (qmgr_test_server_get_request_count (server, routes[i].path), ==, 1);
      assert_file_content (f->d, routes[i].path + 1, contents[i]);
      g_bytes_unref (contents[i]);
    }
}

/* ---- the configuration file ---- */

static void
test_config_from_xdg_config_home (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(GError) error = NULL;
  /* Not the harness's own XDG_CONFIG_HOME: a directory only this test names. */
  g_autofree char *config_home = g_build_filename (qmgr_test_daemon_get_config_dir (d),
                                                   "home", NULL);
  g_autofree char *dir = g_build_filename (config_home, "qmgrd", NULL);
  g_autofree char *file = g_build_filename (dir, "qmgrd.conf", NULL);
  const guint64 size = 32 * KIB;          /* half a second each */
  Route routes[3] = {
    { .path = "/c0", .size = size }, { .path = "/c1", .size = size },
    { .path = "/c2", .size = size },
  };
  GBytes *contents[3];
  g_autoptr(ItGroup) g = NULL;
  g_autoptr(Sampler) sampler = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (file,
                       "[Manager]\n"
                       "MaxConcurrentTransfers=2\n"
                       "BandwidthLimit=50000000\n"
                       "MeteredBandwidthLimit=54321\n",
                       -1, &error);
  g_assert_no_error (error);
  qmgr_test_daemon_set_env (d, "XDG_CONFIG_HOME", config_home);
  /* No --config. */
  qmgr_test_daemon_start (d, NULL);

  g_assert_cmpuint (it_get_u (d, QMGR_TEST_MANAGER_PATH, MANAGER, "MaxConcurrentTransfers"),
                    ==, 2);
  g_assert_cmpuint (it_get_t (d, QMGR_TEST_MANAGER_PATH, MANAGER, "BandwidthLimit"), ==,
                    50000000);
  g_assert_cmpuint (it_get_t (d, QMGR_TEST_MANAGER_PATH, MANAGER, "MeteredBandwidthLimit"), ==,
                    54321);

  /* The scheduler goes by it: two of three files at once. */
  g = it_group_create (d, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      contents[i] = serve (server, routes[i].path, size, 30 + i);
      set_slow (server, routes[i].path, 64 * KIB);
      add_file (d, g, server, routes[i].path, routes[i].path + 1);
    }
  sampler = sampler_start (server, routes, G_N_ELEMENTS (routes));
  it_call_void (d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (d, g, 0x140, DEADLINE_MS));
  sampler_stop (sampler);
  g_test_message ("at most %u in flight (%u samples)", sampler->max_in_flight,
                  sampler->samples);
  g_assert_cmpuint (sampler->max_in_flight, ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      assert_file_content (d, routes[i].path + 1, contents[i]);
      g_bytes_unref (contents[i]);
    }
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  it_add ("/scheduling/foreground/preempts-background", test_foreground_preempts);
  it_add ("/scheduling/foreground/not-paced", test_foreground_not_paced);
  it_add ("/scheduling/foreground/own-limit", test_foreground_own_limit);
  it_add ("/scheduling/background/paced", test_background_paced);
  it_add ("/scheduling/background/resume-order", test_background_resume_order);
  it_add ("/scheduling/default-cap-and-file-order", test_default_cap_and_file_order);
  g_test_add_func ("/scheduling/config/xdg-config-home", test_config_from_xdg_config_home);
  return g_test_run ();
}
