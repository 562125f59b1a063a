/* qmgrd integration tests — network cost and state end to end: the real daemon with
 * DBUS_SYSTEM_BUS_ADDRESS on a private system bus where python-dbusmock's
 * NetworkManager template runs (Metered added and flipped with AddProperty and
 * UpdateProperties), and the test HTTP server. NetworkCostState and Online follow
 * NetworkManager; background groups wait "metered" on a metered network (partial
 * data kept, no retry counted) and resume with a Range request; foreground groups
 * and the TransferPolicy presets; offline and captive-portal waits; failures while
 * connectivity is limited count no retry; NetworkManager restarting and leaving;
 * no system bus at all. */
#include "it-util.h"
#include "qmgr-test-server.h"
#include "qmgr-test-system-bus.h"

#include <string.h>
#include <sys/stat.h>

#define GROUP QMGR_TEST_GROUP_IFACE
#define MANAGER QMGR_TEST_MANAGER_IFACE
#define MANAGER_PATH QMGR_TEST_MANAGER_PATH
#define DEADLINE_MS 20000
#define KIB ((guint64) 1024)
#define MIB (1024 * KIB)

#define UNRESTRICTED 0x1u
#define CAPPED 0x2u          /* CAPPED_USAGE_UNKNOWN */
#define METERED_UNKNOWN 0u
#define METERED_YES 1u
#define METERED_NO 2u
#define METERED_GUESS_YES 3u
#define METERED_GUESS_NO 4u
#define STATE_DISCONNECTED 20u
#define STATE_CONNECTED_GLOBAL 70u
#define CONNECTIVITY_PORTAL 2u
#define CONNECTIVITY_LIMITED 3u
#define CONNECTIVITY_FULL 4u
#define POLICY_ALWAYS 0x800000FFu
#define POLICY_NOT_ROAMING 0x8000007Fu
#define POLICY_NO_SURCHARGE 0x8000006Fu
#define POLICY_STANDARD 0x80000067u
#define POLICY_UNRESTRICTED 0x80000021u

typedef enum {
  WITH_NM,                   /* a system bus with NetworkManager (Metered NO) */
  WITHOUT_NM,                /* a system bus, nobody on it */
  NO_SYSTEM_BUS,             /* the harness's default: an address with nothing there */
  NM_FROZEN,                 /* NetworkManager (Metered YES) hangs when the daemon starts */
} Setup;

typedef struct {
  QmgrTestDaemon *d;
  QmgrTestSystemBus *bus;
  QmgrTestNm *nm;
  QmgrTestServer *server;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  Setup setup = GPOINTER_TO_INT (data);

  f->d = qmgr_test_daemon_new ();
  if (setup != NO_SYSTEM_BUS)
    {
      f->bus = qmgr_test_system_bus_new ();
      qmgr_test_daemon_set_env (f->d, "DBUS_SYSTEM_BUS_ADDRESS",
                                qmgr_test_system_bus_get_address (f->bus));
    }
  if (setup == WITH_NM)
    f->nm = qmgr_test_nm_start (f->bus, NULL, METERED_NO);
  if (setup == NM_FROZEN)
    {
      f->nm = qmgr_test_nm_start (f->bus, NULL, METERED_YES);
      qmgr_test_nm_freeze (f->nm, TRUE);
    }
  qmgr_test_daemon_start (f->d, NULL);
  f->server = qmgr_test_server_new ();
}

static void
fixture_teardown (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  /* Stopping asserts a clean exit: a sanitizer report fails the test. */
  qmgr_test_daemon_stop (f->d);
  qmgr_test_daemon_free (f->d);
  qmgr_test_nm_free (f->nm);
  qmgr_test_system_bus_free (f->bus);
  qmgr_test_server_free (f->server);
}

#define net_add(name, setup, func) \
  g_test_add ((name), Fixture, GINT_TO_POINTER (setup), fixture_setup, (func), fixture_teardown)

/* ---- helpers ---- */

static gboolean
wait_cost (Fixture *f, guint32 cost)
{
  return it_wait_property (f->d, MANAGER_PATH, MANAGER, "NetworkCostState",
                           g_variant_new_uint32 (cost), DEADLINE_MS);
}

static gboolean
wait_online (Fixture *f, gboolean online)
{
  return it_wait_property (f->d, MANAGER_PATH, MANAGER, "Online",
                           g_variant_new_boolean (online), DEADLINE_MS);
}

static gboolean
wait_reason (Fixture *f, ItGroup *g, const char *reason)
{
  return it_wait_property (f->d, g->path, GROUP, "WaitReason", g_variant_new_string (reason),
                           DEADLINE_MS);
}

static gboolean
wait_status (Fixture *f, ItGroup *g, guint32 status)
{
  return it_wait_property (f->d, g->path, GROUP, "Status", g_variant_new_uint32 (status),
                           DEADLINE_MS);
}

static guint32
num_retries (Fixture *f, ItGroup *g)
{
  g_autoptr(GVariant) reply = it_call_ok (f->d, g->job_path, QMGR_TEST_JOB_IFACE, "GetStatus",
                                          NULL, "(uuuu)");
  guint32 status, win32, transport, retries;

  g_variant_get (reply, "(uuuu)", &status, &win32, &transport, &retries);
  return retries;
}

static void
set_manager_t (Fixture *f, const char *name, guint64 value)
{
  g_autoptr(GError) error = NULL;

  it_set_property (f->d, MANAGER_PATH, MANAGER, name, g_variant_new_uint64 (value), &error);
  g_assert_no_error (error);
}

static void
set_slow (Fixture *f, const char *route, guint64 bytes_per_second)
{
  QmgrTestFault fault = { .kind = QMGR_FAULT_SLOW, .param = bytes_per_second };

  qmgr_test_server_set_fault (f->server, route, &fault);
}

/* A group with one file: @size bytes at @route (strong ETag, so that a stopped
 * download resumes with a Range), to files_dir/@name. Returns the content. */
static ItGroup *
new_group (Fixture *f, const char *route, const char *name, guint64 size, GBytes **content)
{
  ItGroup *g = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *url = qmgr_test_server_get_url_for (f->server, route);
  g_autofree char *local = it_file (f->d, name);

  *content = qmgr_test_make_content (size, g_str_hash (route));
  qmgr_test_server_add_file (f->server, route, *content, "v1", 0);
  it_add_file (f->d, g->job_path, url, local, 0, &error);
  g_assert_no_error (error);
  return g;
}

static void
assert_file_content (Fixture *f, const char *name, GBytes *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = it_file (f->d, name);
  g_autofree char *contents = NULL;
  gsize len, expected_len;
  const void *expected_data = g_bytes_get_data (expected, &expected_len);

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (contents, len, expected_data, expected_len);
}

/* The temp file of the group's first file (tempfile.h names it). */
static char *
temp_path (Fixture *f, ItGroup *g)
{
  g_autofree char *hex = it_guid_hex (g->job_id);
  g_autofree char *name = g_strdup_printf (".qmgrd-%s-0.part", hex);

  return g_build_filename (qmgr_test_daemon_get_files_dir (f->d), name, NULL);
}

static gint64
file_size (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 ? (gint64) st.st_size : -1;
}

typedef struct {
  const char *path;
  gint64 size;
} SizeWait;

static gboolean
size_at_least (gpointer user_data)
{
  SizeWait *w = user_data;
  return file_size (w->path) >= w->size;
}

static gboolean
size_changed (gpointer user_data)
{
  SizeWait *w = user_data;
  return file_size (w->path) != w->size;
}

/* Resumes @g and waits until its temp file holds at least @bytes. */
static void
start_and_wait_bytes (Fixture *f, ItGroup *g, guint64 bytes)
{
  g_autofree char *temp = temp_path (f, g);
  SizeWait w = { temp, (gint64) bytes };

  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (it_poll_until (size_at_least, &w, 10, DEADLINE_MS));
  g_assert_true (wait_reason (f, g, "transferring"));
}

/* After a wait began: the temp file keeps a prefix of @content and stops growing
 * (watched for @window_ms: what cannot happen has no event to wait for); the group
 * is queued (not suspended, not in error) with no retry counted. Returns the size. */
static guint64
assert_held (Fixture *f, ItGroup *g, GBytes *content, guint window_ms)
{
  g_autofree char *temp = temp_path (f, g);
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  gsize len, content_len;
  const char *expected = g_bytes_get_data (content, &content_len);
  SizeWait w;

  g_file_get_contents (temp, &data, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, 0);
  g_assert_cmpuint (len, <, content_len);
  g_assert_cmpmem (data, len, expected, len);
  w = (SizeWait) { temp, (gint64) len };
  g_assert_false (it_poll_until (size_changed, &w, 50, window_ms));
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, IT_STATUS_GROUP_INCOMPLETE);
  g_assert_cmpuint (num_retries (f, g), ==, 0);
  return len;
}

/* The next request for @route resumes at @offset. */
static void
assert_resumed_at (Fixture *f, const char *route, guint requests, guint64 offset)
{
  g_autofree char *range = NULL;
  g_autofree char *expected = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-", offset);

  g_assert_true (qmgr_test_server_wait_for_requests (f->server, route, requests, DEADLINE_MS));
  range = qmgr_test_server_get_last_request_header (f->server, route, "Range");
  g_test_message ("%s resumed with Range: %s", route, range ? range : "(none)");
  g_assert_cmpstr (range, ==, expected);
}

/* ---- cost ---- */

/* Every Metered value gives its NetworkCostState, announced with PropertiesChanged;
 * Online stays. Each step changes the state, so that each wait proves the step. */
static void
test_metered_values (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  static const struct { guint32 metered; guint32 cost; } steps[] = {
    { METERED_YES, CAPPED }, { METERED_UNKNOWN, UNRESTRICTED },
    { METERED_GUESS_YES, CAPPED }, { METERED_NO, UNRESTRICTED },
    { METERED_YES, CAPPED }, { METERED_GUESS_NO, UNRESTRICTED },
  };
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);

  g_assert_true (wait_cost (f, UNRESTRICTED));
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      g_test_message ("Metered %u", steps[i].metered);
      qmgr_test_nm_set_u (f->nm, "Metered", steps[i].metered);
      g_assert_true (it_recorder_wait_property (rec, MANAGER_PATH, MANAGER, "NetworkCostState",
                                                g_variant_new_uint32 (steps[i].cost),
                                                DEADLINE_MS));
      g_assert_cmpuint (it_get_u (f->d, MANAGER_PATH, MANAGER, "NetworkCostState"), ==,
                        steps[i].cost);
      it_recorder_clear (rec);
    }
  it_recorder_sync (rec);
  g_assert_false (it_recorder_saw_property (rec, MANAGER_PATH, MANAGER, "Online"));
  g_assert_true (wait_online (f, TRUE));
}

/* A background transfer on a network that turns metered stops at once and waits,
 * its partial data kept; when the network is free again it resumes where it stopped. */
static void
test_metered_background (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GBytes) content = NULL;
  g_autoptr(ItGroup) g = new_group (f, "/bg", "bg", 1 * MIB, &content);
  guint64 kept;

  set_slow (f, "/bg", 256 * KIB);
  start_and_wait_bytes (f, g, 32 * KIB);

  qmgr_test_nm_set_u (f->nm, "Metered", METERED_YES);
  g_assert_true (wait_reason (f, g, "metered"));
  kept = assert_held (f, g, content, 500);
  g_assert_cmpuint (qmgr_test_server_get_request_count (f->server, "/bg"), ==, 1);

  qmgr_test_server_set_fault (f->server, "/bg", NULL);
  qmgr_test_nm_set_u (f->nm, "Metered", METERED_NO);
  assert_resumed_at (f, "/bg", 2, kept);
  g_assert_true (wait_status (f, g, 0x140));
  assert_file_content (f, "bg", content);
  g_assert_cmpuint (num_retries (f, g), ==, 0);
}

/* A metered network at start: queued background work does not start for an
 * instant, even before NetworkManager answered. */
static void
test_metered_at_start (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GBytes) content = NULL;
  g_autoptr(ItGroup) g = new_group (f, "/start", "start", 64 * KIB, &content);

  qmgr_test_nm_set_u (f->nm, "Metered", METERED_YES);
  g_assert_true (wait_cost (f, CAPPED));
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_reason (f, g, "metered"));
  qmgr_test_daemon_stop (f->d);
  qmgr_test_daemon_start (f->d, NULL);
  g_assert_true (wait_cost (f, CAPPED));
  g_assert_true (wait_reason (f, g, "metered"));
  g_assert_cmpuint (qmgr_test_server_get_request_count (f->server, "/start"), ==, 0);

  qmgr_test_nm_set_u (f->nm, "Metered", METERED_GUESS_NO);
  g_assert_true (wait_status (f, g, 0x140));
  assert_file_content (f, "start", content);
}

/* Foreground groups default to ALWAYS: a metered network does not stop them. */
static void
test_metered_foreground (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GBytes) content = NULL;
  g_autoptr(ItGroup) g = new_group (f, "/fg", "fg", 256 * KIB, &content);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);

  qmgr_test_nm_set_u (f->nm, "Metered", METERED_YES);
  g_assert_true (wait_cost (f, CAPPED));
  it_call_void (f->d, g->path, GROUP, "SwitchToForeground", NULL);
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f, g, 0x540));
  assert_file_content (f, "fg", content);
  it_recorder_sync (rec);
  g_assert_cmpuint (it_recorder_count_property (rec, g->path, GROUP, "WaitReason",
                                                g_variant_new_string ("metered")), ==, 0);
}

/* Each TransferPolicy preset and a few explicit masks, against CAPPED_USAGE_UNKNOWN
 * and then UNRESTRICTED. */
static void
test_transfer_policy (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  static const struct {
    guint32 policy;
    gboolean on_capped;       /* may transfer while CAPPED_USAGE_UNKNOWN */
    gboolean on_free;         /* may transfer while UNRESTRICTED */
  } cases[] = {
    { POLICY_ALWAYS, TRUE, TRUE },
    { POLICY_NOT_ROAMING, TRUE, TRUE },
    { POLICY_NO_SURCHARGE, TRUE, TRUE },
    { POLICY_STANDARD, TRUE, TRUE },
    { POLICY_UNRESTRICTED, FALSE, TRUE },
    { 0, FALSE, TRUE },                    /* the background default: UNRESTRICTED */
    { 0x80000002u, TRUE, FALSE },          /* explicit masks */
    { 0x00000002u, TRUE, FALSE },
    { 0x00000001u, FALSE, TRUE },
    { 0x80000004u, FALSE, FALSE },         /* BELOW_CAP only: never, today */
  };
  ItGroup *groups[G_N_ELEMENTS (cases)];
  GBytes *contents[G_N_ELEMENTS (cases)];
  char routes[G_N_ELEMENTS (cases)][16];

  qmgr_test_nm_set_u (f->nm, "Metered", METERED_YES);
  g_assert_true (wait_cost (f, CAPPED));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_snprintf (routes[i], sizeof routes[i], "/p%u", i);
      groups[i] = new_group (f, routes[i], routes[i] + 1, 16 * KIB, &contents[i]);
      if (cases[i].policy != 0)
        it_set_group_u (f->d, groups[i], "TransferPolicy", cases[i].policy);
      it_call_void (f->d, groups[i]->path, GROUP, "ResumeGroup", NULL);
    }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("metered: TransferPolicy 0x%08x", cases[i].policy);
      g_assert_true (cases[i].on_capped ? wait_status (f, groups[i], 0x140)
                                        : wait_reason (f, groups[i], "metered"));
    }
  /* The others never asked the server. */
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    if (!cases[i].on_capped)
      g_assert_cmpuint (qmgr_test_server_get_request_count (f->server, routes[i]), ==, 0);

  qmgr_test_nm_set_u (f->nm, "Metered", METERED_NO);
  g_assert_true (wait_cost (f, UNRESTRICTED));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      if (cases[i].on_capped)
        continue;
      g_test_message ("unrestricted: TransferPolicy 0x%08x", cases[i].policy);
      g_assert_true (cases[i].on_free ? wait_status (f, groups[i], 0x140)
                                      : wait_reason (f, groups[i], "metered"));
    }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      if (cases[i].on_capped || cases[i].on_free)
        assert_file_content (f, routes[i] + 1, contents[i]);
      it_group_free (groups[i]);
      g_bytes_unref (contents[i]);
    }
}

/* How fast @g downloads once resumed: body bytes over the time from the first
 * request until it is complete (as test-scheduling measures it). */
static double
timed_download (Fixture *f, ItGroup *g, const char *route, guint64 size)
{
  gint64 start;
  double seconds;

  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (qmgr_test_server_wait_for_requests (f->server, route, 1, DEADLINE_MS));
  start = g_get_monotonic_time ();
  g_assert_true (wait_status (f, g, 0x140));
  seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  g_test_message ("%s: %" G_GUINT64_FORMAT " bytes in %.2f s: %.0f KiB/s", route, size,
                  seconds, (double) size / seconds / KIB);
  return (double) size / seconds;
}

/* Background work allowed on a metered network is held to MeteredBandwidthLimit;
 * on a free one the cap does not apply. */
static void
test_metered_bandwidth_limit (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const guint64 cap = 256 * KIB;
  const guint64 size = 768 * KIB;          /* 3 s at the cap */
  g_autoptr(GBytes) capped_content = NULL, free_content = NULL;
  g_autoptr(ItGroup) capped = new_group (f, "/capped", "capped", size, &capped_content);
  g_autoptr(ItGroup) free_group = new_group (f, "/free", "free", size, &free_content);
  double capped_rate, free_rate;

  set_manager_t (f, "MeteredBandwidthLimit", cap);
  it_set_group_u (f->d, capped, "TransferPolicy", POLICY_ALWAYS);
  it_set_group_u (f->d, free_group, "TransferPolicy", POLICY_ALWAYS);

  qmgr_test_nm_set_u (f->nm, "Metered", METERED_YES);
  g_assert_true (wait_cost (f, CAPPED));
  capped_rate = timed_download (f, capped, "/capped", size);
  qmgr_test_nm_set_u (f->nm, "Metered", METERED_NO);
  g_assert_true (wait_cost (f, UNRESTRICTED));
  free_rate = timed_download (f, free_group, "/free", size);

  g_assert_cmpfloat (capped_rate, <=, 1.5 * (double) cap);
  g_assert_cmpfloat (capped_rate, >=, 0.5 * (double) cap);
  g_assert_cmpfloat (free_rate, >=, 3.0 * capped_rate);
  assert_file_content (f, "capped", capped_content);
  assert_file_content (f, "free", free_content);
}

/* ---- network state ---- */

/* Offline stops every transfer, foreground ones too; back online they resume
 * within a second (a network wait is no retry and has no back-off). */
static void
test_offline (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GBytes) bg_content = NULL, fg_content = NULL;
  g_autoptr(ItGroup) bg = new_group (f, "/bg", "bg", 1 * MIB, &bg_content);
  g_autoptr(ItGroup) fg = new_group (f, "/fg", "fg", 1 * MIB, &fg_content);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  guint64 bg_kept;
  gint64 back;

  set_slow (f, "/bg", 256 * KIB);
  set_slow (f, "/fg", 256 * KIB);
  it_call_void (f->d, fg->path, GROUP, "SwitchToForeground", NULL);
  start_and_wait_bytes (f, bg, 32 * KIB);
  start_and_wait_bytes (f, fg, 32 * KIB);

  qmgr_test_nm_set_u (f->nm, "State", STATE_DISCONNECTED);
  g_assert_true (it_recorder_wait_property (rec, MANAGER_PATH, MANAGER, "Online",
                                            g_variant_new_boolean (FALSE), DEADLINE_MS));
  g_assert_true (wait_online (f, FALSE));
  g_assert_true (wait_reason (f, bg, "offline"));
  g_assert_true (wait_reason (f, fg, "offline"));
  bg_kept = assert_held (f, bg, bg_content, 300);
  g_assert_cmpuint (it_group_status (f->d, fg->path), ==, 0x480);
  g_assert_cmpuint (num_retries (f, fg), ==, 0);
  g_assert_cmpuint (it_get_u (f->d, MANAGER_PATH, MANAGER, "NetworkCostState"), ==,
                    UNRESTRICTED);

  qmgr_test_server_set_fault (f->server, "/bg", NULL);
  qmgr_test_server_set_fault (f->server, "/fg", NULL);
  back = g_get_monotonic_time ();
  qmgr_test_nm_set_u (f->nm, "State", STATE_CONNECTED_GLOBAL);
  g_assert_true (qmgr_test_server_wait_for_requests (f->server, "/bg", 2, 1000));
  g_test_message ("back online: resumed after %" G_GINT64_FORMAT " ms",
                  (g_get_monotonic_time () - back) / 1000);
  assert_resumed_at (f, "/bg", 2, bg_kept);
  g_assert_true (it_recorder_wait_property (rec, MANAGER_PATH, MANAGER, "Online",
                                            g_variant_new_boolean (TRUE), DEADLINE_MS));
  g_assert_true (wait_status (f, fg, 0x540));
  g_assert_true (wait_status (f, bg, 0x140));
  assert_file_content (f, "bg", bg_content);
  assert_file_content (f, "fg", fg_content);
}

/* A captive portal holds transfers as offline does, with its own WaitReason. */
static void
test_captive_portal (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GBytes) content = NULL;
  g_autoptr(ItGroup) g = new_group (f, "/cp", "cp", 1 * MIB, &content);
  guint64 kept;

  set_slow (f, "/cp", 256 * KIB);
  start_and_wait_bytes (f, g, 32 * KIB);
  qmgr_test_nm_set_u (f->nm, "Connectivity", CONNECTIVITY_PORTAL);
  g_assert_true (wait_reason (f, g, "captive-portal"));
  kept = assert_held (f, g, content, 300);
  g_assert_cmpuint (it_get_u (f->d, MANAGER_PATH, MANAGER, "NetworkCostState"), ==,
                    UNRESTRICTED);

  qmgr_test_server_set_fault (f->server, "/cp", NULL);
  qmgr_test_nm_set_u (f->nm, "Connectivity", CONNECTIVITY_FULL);
  assert_resumed_at (f, "/cp", 2, kept);
  g_assert_true (wait_status (f, g, 0x140));
  assert_file_content (f, "cp", content);
}

typedef struct {
  Fixture *f;
  ItGroup *g;
} RetryWait;

static gboolean
retry_counted (gpointer user_data)
{
  RetryWait *w = user_data;
  return num_retries (w->f, w->g) > 0;
}

/* While connectivity is limited, a transient failure waits and is retried as usual
 * but counts no retry; with full connectivity the next one counts. */
static void
test_limited_counts_no_retry (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  QmgrTestFault unavailable = { .kind = QMGR_FAULT_STATUS, .status = 503 };
  g_autoptr(GBytes) content = NULL;
  g_autoptr(ItGroup) g = new_group (f, "/lim", "lim", 16 * KIB, &content);
  RetryWait w = { f, g };

  it_set_group_u (f->d, g, "MinimumRetryDelay", 1);
  qmgr_test_server_set_fault (f->server, "/lim", &unavailable);
  qmgr_test_nm_set_u (f->nm, "Connectivity", CONNECTIVITY_LIMITED);
  g_assert_true (wait_online (f, TRUE));
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  /* The third request follows the second failure's wait: two failures recorded. */
  g_assert_true (qmgr_test_server_wait_for_requests (f->server, "/lim", 3, DEADLINE_MS));
  g_assert_cmpuint (num_retries (f, g), ==, 0);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, IT_STATUS_GROUP_INCOMPLETE);

  qmgr_test_nm_set_u (f->nm, "Connectivity", CONNECTIVITY_FULL);
  g_assert_true (it_poll_until (retry_counted, &w, 50, DEADLINE_MS));
  qmgr_test_server_set_fault (f->server, "/lim", NULL);
  g_assert_true (wait_status (f, g, 0x140));
  assert_file_content (f, "lim", content);
}

/* A NetworkManager that does not answer holds transfers back for a few seconds
 * at start, not longer; its answer, when it comes, still counts. */
static void
test_nm_hangs_at_start (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GBytes) content = NULL;
  g_autoptr(ItGroup) g = new_group (f, "/hang", "hang", 64 * KIB, &content);
  g_autofree char *log = NULL;

  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f, g, 0x140));
  assert_file_content (f, "hang", content);
  g_file_get_contents (qmgr_test_daemon_get_log (f->d), &log, NULL, NULL);
  g_assert_true (it_contains (log, "No answer from the network monitor"));
  g_assert_cmpuint (it_get_u (f->d, MANAGER_PATH, MANAGER, "NetworkCostState"), ==,
                    UNRESTRICTED);

  qmgr_test_nm_freeze (f->nm, FALSE);
  g_assert_true (wait_cost (f, CAPPED));
}

/* ---- NetworkManager coming and going ---- */

/* Leaving counts as no NetworkManager (UNRESTRICTED, online): a group held by the
 * cost goes on. A new instance is asked again, after a gap or taking over. */
static void
test_nm_restart (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GBytes) content = NULL;
  g_autoptr(ItGroup) g = new_group (f, "/nm", "nm", 64 * KIB, &content);
  g_autoptr(QmgrTestNm) second = NULL;
  g_autoptr(QmgrTestNm) third = NULL;

  qmgr_test_nm_set_u (f->nm, "Metered", METERED_YES);
  g_assert_true (wait_cost (f, CAPPED));
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_reason (f, g, "metered"));

  qmgr_test_nm_stop (f->nm);
  g_assert_true (wait_cost (f, UNRESTRICTED));
  g_assert_true (wait_online (f, TRUE));
  g_assert_true (wait_status (f, g, 0x140));
  assert_file_content (f, "nm", content);

  /* What only the new instance says (State DISCONNECTED, as a template parameter). */
  second = qmgr_test_nm_start (f->bus, "{\"State\": 20}", METERED_UNKNOWN);
  g_assert_true (wait_online (f, FALSE));
  third = qmgr_test_nm_start (f->bus, NULL, METERED_UNKNOWN);
  g_assert_true (wait_online (f, TRUE));
  qmgr_test_nm_stop (second);
  qmgr_test_nm_set_u (third, "Metered", METERED_GUESS_YES);
  g_assert_true (wait_cost (f, CAPPED));
  qmgr_test_nm_stop (third);
  g_assert_true (wait_cost (f, UNRESTRICTED));
}

/* A plain server: no system bus, or one without NetworkManager. The daemon runs,
 * UNRESTRICTED and online, and transfers. */
static void
test_no_network_manager (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GBytes) content = NULL;
  g_autoptr(ItGroup) g = new_group (f, "/plain", "plain", 64 * KIB, &content);

  g_assert_cmpuint (it_get_u (f->d, MANAGER_PATH, MANAGER, "NetworkCostState"), ==,
                    UNRESTRICTED);
  g_assert_true (wait_online (f, TRUE));
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f, g, 0x140));
  assert_file_content (f, "plain", content);
}

/* The system bus going away: the daemon goes on, as without NetworkManager. */
static void
test_system_bus_lost (Fixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GBytes) content = NULL;
  g_autoptr(ItGroup) g = new_group (f, "/lost", "lost", 64 * KIB, &content);

  qmgr_test_nm_set_u (f->nm, "Metered", METERED_YES);
  qmgr_test_nm_set_u (f->nm, "State", STATE_DISCONNECTED);
  g_assert_true (wait_cost (f, CAPPED));
  g_assert_true (wait_online (f, FALSE));
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_reason (f, g, "offline"));

  qmgr_test_system_bus_stop (f->bus);
  g_assert_true (wait_cost (f, UNRESTRICTED));
  g_assert_true (wait_online (f, TRUE));
  g_assert_true (wait_status (f, g, 0x140));
  assert_file_content (f, "lost", content);
  g_assert_true (qmgr_test_daemon_is_running (f->d));
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  net_add ("/network/cost/metered-values", WITH_NM, test_metered_values);
  net_add ("/network/cost/metered-background", WITH_NM, test_metered_background);
  net_add ("/network/cost/metered-at-start", WITH_NM, test_metered_at_start);
  net_add ("/network/cost/foreground", WITH_NM, test_metered_foreground);
  net_add ("/network/cost/transfer-policy", WITH_NM, test_transfer_policy);
  net_add ("/network/cost/metered-bandwidth-limit", WITH_NM, test_metered_bandwidth_limit);
  net_add ("/network/state/offline", WITH_NM, test_offline);
  net_add ("/network/state/captive-portal", WITH_NM, test_captive_portal);
  net_add ("/network/state/limited-counts-no-retry", WITH_NM, test_limited_counts_no_retry);
  net_add ("/network/nm/restart", WITH_NM, test_nm_restart);
  net_add ("/network/nm/hangs-at-start", NM_FROZEN, test_nm_hangs_at_start);
  net_add ("/network/nm/absent", WITHOUT_NM, test_no_network_manager);
  net_add ("/network/nm/no-system-bus", NO_SYSTEM_BUS, test_no_network_manager);
  net_add ("/network/nm/system-bus-lost", WITH_NM, test_system_bus_lost);
  return g_test_run ();
}
