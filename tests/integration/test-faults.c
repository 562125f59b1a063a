/* qmgrd integration tests — docs/targets.md R2: every fault the test server injects ends
 * in its documented state (docs/dbus-api.md "Errors" and "Notifications", docs/architecture.md
 * "Failures and retries"): complete and byte-exact, a transient retry (Status 0x80,
 * WaitReason "retrying", LastError, num_retries), or a fatal error (0x380, the error
 * name and codes, OnStatus); a destination is never spliced or truncated. */
#include "it-faults.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const connection_failed[] = { TRANSFER_ERROR ("ConnectionFailed"), NULL };
static const char *const http_status[] = { TRANSFER_ERROR ("HttpStatus"), NULL };
static const char *const bad_response[] = { TRANSFER_ERROR ("BadResponse"), NULL };
/* The contract names no single error for a body cut short: either fits. */
static const char *const short_body[] = { TRANSFER_ERROR ("ConnectionFailed"),
                                          TRANSFER_ERROR ("BadResponse"), NULL };

/* ---- transient: the connection ---- */

/* Reset mid-body: a transient ConnectionFailed, then a Range resume with If-Range
 * from what the temp file holds; the file is exact and no byte is fetched twice. */
static void
test_reset_mid_body (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/reset.bin", "v1", LM1);
  g_autofree char *range = NULL;
  guint64 offset;

  set_fault (c, QMGR_FAULT_RESET_AFTER, PARTIAL, 1);
  resume (c);
  assert_transient_signals (c, connection_failed);
  /* The errno libcurl saw, kept until the next failure (and read long before the
   * retry, MinimumRetryDelay after the reset). */
  g_assert_cmpuint (job_get_status (c).win32, ==, ECONNRESET);
  assert_complete (c, c->content, LM1);

  g_assert_cmpuint (requests (c), ==, 2);
  range = last_header (c, "Range");
  g_assert_nonnull (range);
  g_assert_true (g_str_has_prefix (range, "bytes=") && g_str_has_suffix (range, "-"));
  offset = g_ascii_strtoull (range + 6, NULL, 10);
  g_test_message ("resumed with %s", range);
  g_assert_cmpuint (offset, >, 0);
  g_assert_cmpuint (offset, <=, PARTIAL);
  {
    g_autofree char *if_range = last_header (c, "If-Range");
    g_assert_cmpstr (if_range, ==, "\"v1\"");
  }
  {
    /* A compressed body would not be the file, and its ranges not the file's. */
    g_autofree char *accept_encoding = last_header (c, "Accept-Encoding");
    g_assert_cmpstr (accept_encoding, ==, "identity");
  }
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (c->server, c->route), ==,
                    PARTIAL + SIZE - offset);
}

/* The server closes before sending a header: transient ConnectionFailed while it
 * lasts (num_retries grows), complete once it answers. win32_result stays 0: an
 * orderly close fails no system call, so libcurl has no errno for it (its
 * CURLINFO_OS_ERRNO is 0 for "Empty reply from server"). */
static void
test_close_before_headers (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/close.bin", "v1", LM1);
  guint32 retries;

  set_fault (c, QMGR_FAULT_CLOSE_BEFORE_HEADERS, 0, 0);
  resume (c);
  retries = assert_retrying (c, connection_failed, 0, 0);
  assert_retries_grow (c, retries);
  assert_dest_untouched (c, NULL);
  clear_fault (c);
  assert_complete (c, c->content, LM1);
}

static guint16
unused_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Nothing listens (connection refused): transient ConnectionFailed with the errno,
 * ECONNREFUSED, as win32_result; once a server listens on that port the group
 * completes. */
static void
test_connection_refused (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  guint16 port = unused_port ();
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/refused.bin", port);
  g_autoptr(Case) c = case_new_full (f, "/refused.bin", SIZE, 1, "v1", LM1, url);
  g_autoptr(QmgrTestServer) late = NULL;
  g_autoptr(GError) error = NULL;

  resume (c);
  assert_retrying (c, connection_failed, ECONNREFUSED, 0);
  late = qmgr_test_server_new_full (port, &error);
  g_assert_no_error (error);
  qmgr_test_server_add_file (late, "/refused.bin", c->content, "v1", LM1);
  assert_complete (c, c->content, LM1);
}

/* A name that does not resolve (RFC 6761's .invalid) is transient
 * HostNotFound: the group waits and retries, nothing is an error yet. */
static const char *const host_not_found[] = { TRANSFER_ERROR ("HostNotFound"), NULL };

static void
test_host_not_found (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new_full (f, "/nowhere.bin", SIZE, 1, "v1", LM1,
                                     "http://qmgrd-test.invalid/nowhere.bin");

  resume (c);
  assert_retrying (c, host_not_found, ANY, 0);
  assert_dest_untouched (c, NULL);
}

/* ---- transient: the server's answer ---- */

/* 500, 408 and 429 are transient HttpStatus with the status as transport_result;
 * num_retries grows while they last; the group completes once the server recovers. */
static void
test_transient_status (ItFixture *f, gconstpointer data)
{
  guint status = GPOINTER_TO_UINT (data);
  g_autofree char *route = g_strdup_printf ("/status-%u.bin", status);
  g_autoptr(Case) c = case_new (f, route, "v1", LM1);
  guint32 retries;

  set_status_fault (c, status, 0, 0);
  resume (c);
  retries = assert_retrying (c, http_status, 0, status);
  assert_retries_grow (c, retries);
  g_assert_cmpuint (job_get_status (c).transport, ==, status);
  assert_dest_untouched (c, NULL);
  clear_fault (c);
  assert_complete (c, c->content, LM1);
  g_assert_cmpuint (requests (c), >=, 3);
}

/* 503 with Retry-After: transient, and no retry before the server's delay even
 * though MinimumRetryDelay is much shorter: 1 s, so a daemon that ignored the header
 * would come back within 1.25 s (its jitter adds at most a quarter), far below the
 * 4 s asked for. */
static void
test_503_retry_after (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const guint retry_after = 4;
  g_autoptr(Case) c = case_new (f, "/busy.bin", "v1", LM1);
  gint64 before, retried;

  set_status_fault (c, 503, retry_after, 1);
  /* Taken before the 503 exists and after the retry came: the interval measured
   * can only be longer than the daemon's wait, never shorter. */
  before = g_get_monotonic_time ();
  resume (c);
  g_assert_true (qmgr_test_server_wait_for_requests (c->server, c->route, 2, DEADLINE_MS));
  retried = g_get_monotonic_time ();
  g_test_message ("retried at most %" G_GINT64_FORMAT " ms after the 503 (Retry-After: %u)",
                  (retried - before) / 1000, retry_after);
  g_assert_cmpint (retried - before, >=, (gint64) retry_after * G_USEC_PER_SEC);

  assert_transient_signals (c, http_status);
  assert_complete (c, c->content, LM1);
  g_assert_cmpuint (requests (c), ==, 2);
}

/* ---- fatal: the server's answer ---- */

/* 404, 403, 410: fatal HttpStatus with the status; the destination is untouched;
 * ResumeGroup clears the error and retries at once. */
static void
test_fatal_status (ItFixture *f, gconstpointer data)
{
  guint status = GPOINTER_TO_UINT (data);
  g_autofree char *route = g_strdup_printf ("/fatal-%u.bin", status);
  g_autoptr(Case) c = case_new (f, route, "v1", LM1);

  /* A retry delay no test waits for: "at once" is then unmistakable. */
  it_set_group_u (c->d, c->g, "MinimumRetryDelay", 600);
  set_status_fault (c, status, 0, 0);
  resume (c);
  assert_fatal (c, TRANSFER_ERROR ("HttpStatus"), 0, status);
  assert_dest_untouched (c, NULL);
  g_assert_cmpuint (requests (c), ==, 1);   /* fatal: no retry */

  clear_fault (c);
  it_recorder_clear (c->rec);
  resume (c);
  g_assert_true (qmgr_test_server_wait_for_requests (c->server, c->route, 2, DEADLINE_MS));
  assert_complete (c, c->content, LM1);
  {
    g_autoptr(GVariant) v = it_get_property (c->d, c->g->job_path, JOB, "LastError");
    g_assert_true (g_variant_equal (v, g_variant_new ("(ss)", "", "")));
  }
}

static char *
basic_auth (const char *user, const char *password)
{
  g_autofree char *pair = g_strdup_printf ("%s:%s", user, password);
  g_autofree char *encoded = g_base64_encode ((const guchar *) pair, strlen (pair));

  return g_strconcat ("Basic ", encoded, NULL);
}

/* 401 without credentials and with wrong ones: fatal HttpStatus 401; with the right
 * REMOTEUSERID/REMOTEUSERPWD the group completes. */
static void
test_401 (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/private.bin", "v1", LM1);
  g_autoptr(GError) error = NULL;
  QmgrTestFault auth = {
    .kind = QMGR_FAULT_REQUIRE_AUTH, .user = "alice", .password = "s3cret-Right",
  };

  qmgr_test_server_set_fault (c->server, c->route, &auth);
  resume (c);
  assert_fatal (c, TRANSFER_ERROR ("HttpStatus"), 0, 401);
  assert_dest_untouched (c, NULL);
  {
    g_autofree char *authorization = last_header (c, "Authorization");
    g_assert_null (authorization);
  }

  /* Wrong password. */
  it_setprop (c->d, c->g->path, 1, g_variant_new_string ("alice"), &error);
  g_assert_no_error (error);
  it_setprop (c->d, c->g->path, 2, g_variant_new_string ("wrong"), &error);
  g_assert_no_error (error);
  it_recorder_clear (c->rec);
  resume (c);
  assert_fatal (c, TRANSFER_ERROR ("HttpStatus"), 0, 401);
  assert_dest_untouched (c, NULL);
  {
    g_autofree char *authorization = last_header (c, "Authorization");
    g_autofree char *wrong = basic_auth ("alice", "wrong");
    g_assert_cmpstr (authorization, ==, wrong);
  }

  /* The right one. */
  it_setprop (c->d, c->g->path, 2, g_variant_new_string ("s3cret-Right"), &error);
  g_assert_no_error (error);
  it_recorder_clear (c->rec);
  resume (c);
  assert_complete (c, c->content, LM1);
  {
    g_autofree char *authorization = last_header (c, "Authorization");
    g_autofree char *right = basic_auth ("alice", "s3cret-Right");
    g_assert_cmpstr (authorization, ==, right);
  }
}

/* A stall (headers and some bytes, then nothing) past NoProgressTimeout: fatal
 * NoProgress, judged from the last byte (not seconds late, as an averaged low-speed
 * check would); the partial data is kept, and ResumeGroup finishes the file with a
 * Range request. */
static void
test_stall_no_progress (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/stall.bin", "v1", LM1);
  gint64 start, stalled, latency;

  it_set_group_u (c->d, c->g, "NoProgressTimeout", 2);
  set_fault (c, QMGR_FAULT_STALL_AFTER, PARTIAL, 0);
  start = g_get_monotonic_time ();
  resume (c);
  /* The server counts the last bytes as it hands them to the socket; from then on,
   * nothing more comes. */
  g_assert_true (qmgr_test_server_wait_for_body_bytes (c->server, c->route, PARTIAL,
                                                       DEADLINE_MS));
  stalled = g_get_monotonic_time ();
  g_assert_true (wait_on_status (c, 0, 0xFFFFFFFFu, 0x380));
  latency = g_get_monotonic_time () - stalled;
  g_test_message ("NoProgress %" G_GINT64_FORMAT " ms after the stall, %" G_GINT64_FORMAT
                  " ms after ResumeGroup", latency / 1000,
                  (g_get_monotonic_time () - start) / 1000);
  g_assert_cmpint (latency, <, 4500 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC);
  assert_fatal (c, TRANSFER_ERROR ("NoProgress"), ETIMEDOUT, 0);
  g_assert_cmpuint (requests (c), ==, 1);
  assert_dest_untouched (c, NULL);
  assert_temp_is_prefix (c, c->content);

  clear_fault (c);
  it_recorder_clear (c->rec);
  resume (c);
  assert_complete (c, c->content, LM1);
  {
    g_autofree char *range = last_header (c, "Range");
    g_assert_nonnull (range);
    g_assert_true (g_str_has_prefix (range, "bytes="));
    g_assert_cmpuint (g_ascii_strtoull (range + 6, NULL, 10), >=, PARTIAL);
  }
}

/* R2's other stall: the headers come, then not one byte of the body. The same end:
 * fatal NoProgress with ETIMEDOUT once NoProgressTimeout has passed since the
 * request (the headers are the last thing that came), nothing kept; ResumeGroup
 * then fetches the whole file. */
static void
test_stall_before_body (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/stall0.bin", "v1", LM1);
  gint64 start, requested, latency;

  it_set_group_u (c->d, c->g, "NoProgressTimeout", 2);
  set_fault (c, QMGR_FAULT_STALL_AFTER, 0, 0);
  start = g_get_monotonic_time ();
  resume (c);
  g_assert_true (qmgr_test_server_wait_for_requests (c->server, c->route, 1, DEADLINE_MS));
  requested = g_get_monotonic_time ();
  g_assert_true (wait_on_status (c, 0, 0xFFFFFFFFu, 0x380));
  latency = g_get_monotonic_time () - requested;
  g_test_message ("NoProgress %" G_GINT64_FORMAT " ms after the request, %" G_GINT64_FORMAT
                  " ms after ResumeGroup", latency / 1000,
                  (g_get_monotonic_time () - start) / 1000);
  g_assert_cmpint (latency, <, 4500 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC);
  assert_fatal (c, TRANSFER_ERROR ("NoProgress"), ETIMEDOUT, 0);
  g_assert_cmpuint (requests (c), ==, 1);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (c->server, c->route), ==, 0);
  assert_dest_untouched (c, NULL);
  {
    struct stat st;
    if (stat (c->temp, &st) == 0)
      g_assert_cmpint (st.st_size, ==, 0);
  }

  clear_fault (c);
  it_recorder_clear (c->rec);
  resume (c);
  assert_complete (c, c->content, LM1);
  g_assert_cmpuint (requests (c), ==, 2);
}

static const char *const stalled_names[] = { TRANSFER_ERROR ("Timeout"),
                                             TRANSFER_ERROR ("NoProgress"), NULL };

/* Pacing holds the transfer longer than its stall timeout at a time (16 KiB writes
 * at 8 KiB/s against NoProgressTimeout 1 s): that is our wait, not the server's, so
 * no Timeout and no NoProgress; one request from the first byte to the last. */
static void
test_paced_not_stalled (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new_full (f, "/paced.bin", 64 * 1024, 3, "v1", LM1, NULL);
  g_autoptr(GError) error = NULL;
  gint64 start, elapsed;

  it_set_group_u (c->d, c->g, "NoProgressTimeout", 1);
  it_set_property (c->d, c->g->path, GROUP, "BandwidthLimit",
                   g_variant_new_uint64 (8 * 1024), &error);
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  resume (c);
  assert_complete (c, c->content, LM1);
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("paced transfer took %" G_GINT64_FORMAT " ms", elapsed / 1000);
  /* Held by the pacer for several stall timeouts in all. */
  g_assert_cmpint (elapsed, >=, 3 * G_USEC_PER_SEC);
  g_assert_cmpuint (requests (c), ==, 1);
  it_recorder_sync (c->rec);
  g_assert_false (saw_change (c, c->g->job_path, JOB, "LastError", error_named, stalled_names));
}

/* ---- ranges and validators ---- */

/* 416 to a resume whose Content-Range total is what the temp file already holds
 * (the server's file is now exactly that long, same ETag): complete, no byte more. */
static void
test_416_complete (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/416.bin", "v1", LM1);
  g_autoptr(GBytes) prefix = NULL;

  make_partial (c, PARTIAL);
  prefix = g_bytes_new_from_bytes (c->content, 0, PARTIAL);
  case_replace_content (c, prefix, "v1", LM1);
  resume (c);
  assert_complete (c, prefix, LM1);
  assert_resumed_from (c, PARTIAL, "\"v1\"");
  g_assert_cmpuint (requests (c), ==, 2);
  /* The first response's bytes, and the 416's one-line text body. */
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (c->server, c->route), <=,
                    PARTIAL + 64);
}

/* 416 whose total is not what we have: start again from byte 0. */
static void
test_416_restart (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/416r.bin", "v1", LM1);

  make_partial (c, PARTIAL);
  set_status_fault (c, 416, 0, 1);   /* Content-Range: bytes * /SIZE */
  resume (c);
  assert_complete (c, c->content, LM1);
  g_assert_cmpuint (requests (c), ==, 3);
  assert_not_ranged (c);
  /* The partial body, the 416's one-line text body, the whole file once. */
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (c->server, c->route), <=,
                    PARTIAL + SIZE + 64);
}

/* The file changed between attempts (new ETag, same size): If-Range with the old
 * ETag gets the whole new file, written from byte 0 — never spliced. */
static void
test_etag_changed (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/etag.bin", "v1", LM1);
  g_autoptr(GBytes) changed = qmgr_test_make_content (SIZE, 2);

  make_partial (c, PARTIAL);
  case_replace_content (c, changed, "v2", LM1);
  resume (c);
  assert_complete (c, changed, LM1);
  assert_resumed_from (c, PARTIAL, "\"v1\"");
  g_assert_cmpuint (requests (c), ==, 2);
}

/* Same with Last-Modified as the only validator. */
static void
test_last_modified_changed (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/lm.bin", NULL, LM1);
  g_autoptr(GBytes) changed = qmgr_test_make_content (SIZE, 3);

  make_partial (c, PARTIAL);
  case_replace_content (c, changed, NULL, LM2);
  resume (c);
  assert_complete (c, changed, LM2);
  assert_resumed_from (c, PARTIAL, LM1_HTTP);
  g_assert_cmpuint (requests (c), ==, 2);
}

/* The file changed and the server ignores If-Range: it answers the resume with a
 * 206 of its new file. That 206 carries a validator other than the one asked with
 * (@data: a strong ETag, else Last-Modified as the only validator), so nothing is
 * spliced: the file starts again from byte 0 and ends as the new content. */
static void
test_if_range_ignored (ItFixture *f, gconstpointer data)
{
  gboolean etag = GPOINTER_TO_INT (data);
  g_autoptr(Case) c = case_new (f, etag ? "/etag-ir.bin" : "/lm-ir.bin", etag ? "v1" : NULL,
                                LM1);
  g_autoptr(GBytes) changed = qmgr_test_make_content (SIZE, etag ? 11 : 12);
  gint64 mtime = etag ? LM1 : LM2;   /* with an ETag, only the ETag tells */

  make_partial (c, PARTIAL);
  case_replace_content (c, changed, etag ? "v2" : NULL, mtime);
  set_fault (c, QMGR_FAULT_IGNORE_IF_RANGE, 0, 0);
  resume (c);
  assert_complete (c, changed, mtime);
  /* The stalled first attempt, the resume whose 206 was refused, the restart: a
   * request without Range that got the whole file. */
  g_assert_cmpuint (requests (c), ==, 3);
  assert_not_ranged (c);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (c->server, c->route), >=,
                    PARTIAL + SIZE);
}

/* A weak ETag and no Last-Modified: nothing to resume safely with, so the next
 * attempt starts from byte 0 without Range. */
static void
test_no_validator (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/weak.bin", "W/\"weak\"", 0);
  g_autoptr(GBytes) changed = qmgr_test_make_content (SIZE, 4);

  make_partial (c, PARTIAL);
  case_replace_content (c, changed, "W/\"weak2\"", 0);
  resume (c);
  assert_complete (c, changed, 0);
  assert_not_ranged (c);
}

/* 200 with the whole body to a Range request: the temp file is emptied and that
 * body used from byte 0. */
static void
test_range_ignored (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/norange.bin", "v1", LM1);

  make_partial (c, PARTIAL);
  set_fault (c, QMGR_FAULT_IGNORE_RANGE, 0, 1);
  resume (c);
  assert_complete (c, c->content, LM1);
  assert_resumed_from (c, PARTIAL, "\"v1\"");
  g_assert_cmpuint (requests (c), ==, 2);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (c->server, c->route), ==,
                    PARTIAL + SIZE);
}

/* 206 with a Content-Range other than asked: start again from 0 at once. */
static void
test_wrong_content_range (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/wcr.bin", "v1", LM1);

  make_partial (c, PARTIAL);
  set_fault (c, QMGR_FAULT_WRONG_CONTENT_RANGE, 0, 1);
  resume (c);
  assert_complete (c, c->content, LM1);
  g_assert_cmpuint (requests (c), ==, 3);
  assert_not_ranged (c);
}

/* A server that always answers with the wrong range: three restarts in a row, then
 * a transient BadResponse; complete once it behaves. */
static void
test_wrong_content_range_persistent (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/wcr2.bin", "v1", LM1);

  set_fault (c, QMGR_FAULT_WRONG_CONTENT_RANGE, 0, 0);
  resume (c);
  assert_retrying (c, bad_response, 0, ANY);
  g_assert_cmpuint (requests (c), ==, 4);   /* the first attempt and 3 restarts */
  assert_dest_untouched (c, NULL);
  clear_fault (c);
  assert_complete (c, c->content, LM1);
}

/* ---- bodies that do not match Content-Length ---- */

/* Content-Length longer than the body (the server closes early): transient, then a
 * resume of the rest. */
static void
test_short_body (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const gsize missing = 50000;
  g_autoptr(Case) c = case_new (f, "/short.bin", "v1", LM1);

  set_fault (c, QMGR_FAULT_SHORT_BODY, missing, 1);
  resume (c);
  assert_transient_signals (c, short_body);
  assert_complete (c, c->content, LM1);
  assert_resumed_from (c, SIZE - missing, "\"v1\"");
  g_assert_cmpuint (requests (c), ==, 2);
}

/* Content-Length shorter than what the server sends: exactly Content-Length bytes
 * are kept. */
static void
test_long_body (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/long.bin", "v1", LM1);

  set_fault (c, QMGR_FAULT_LONG_BODY, 4096, 0);
  resume (c);
  assert_complete (c, c->content, LM1);
}

/* ---- redirects ---- */

/* A redirect within http is followed. */
static void
test_redirect_followed (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/moved.bin", "v1", LM1);
  g_autoptr(GBytes) real = qmgr_test_make_content (SIZE, 5);
  QmgrTestFault redirect = { .kind = QMGR_FAULT_REDIRECT, .target = "/real.bin" };

  qmgr_test_server_add_file (c->server, "/real.bin", real, "r1", LM2);
  qmgr_test_server_set_fault (c->server, c->route, &redirect);
  resume (c);
  assert_complete (c, real, LM2);
  g_assert_cmpuint (qmgr_test_server_get_request_count (c->server, "/real.bin"), ==, 1);
}

/* A redirect loop: fatal TooManyRedirects after 10 redirects. */
static void
test_redirect_loop (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/loop.bin", "v1", LM1);

  set_fault (c, QMGR_FAULT_REDIRECT_LOOP, 0, 0);
  resume (c);
  assert_fatal (c, TRANSFER_ERROR ("TooManyRedirects"), 0, ANY);
  assert_dest_untouched (c, NULL);
  g_assert_cmpuint (requests (c), ==, 11);
}

/* A redirect to another scheme (file://, ftp://): fatal ForbiddenRedirect, nothing
 * fetched from there, an existing destination untouched. */
static void
test_redirect_forbidden (ItFixture *f, gconstpointer data)
{
  const char *scheme = data;
  g_autoptr(Case) c = case_new (f, "/away.bin", "v1", LM1);
  g_autoptr(GError) error = NULL;
  g_autofree char *target = NULL;
  QmgrTestFault redirect = { .kind = QMGR_FAULT_REDIRECT };

  if (strcmp (scheme, "file") == 0)
    target = g_strdup ("file:///etc/passwd");
  else
    target = g_strdup_printf ("%s://127.0.0.1:%u/away.bin", scheme,
                              qmgr_test_server_get_port (c->server));
  redirect.target = target;
  qmgr_test_server_set_fault (c->server, c->route, &redirect);
  g_file_set_contents (c->dest, "old contents\n", -1, &error);
  g_assert_no_error (error);

  resume (c);
  assert_fatal (c, TRANSFER_ERROR ("ForbiddenRedirect"), 0, ANY);
  assert_dest_untouched (c, "old contents\n");
  assert_temp_is_prefix (c, c->content);
  {
    struct stat st;
    if (stat (c->temp, &st) == 0)
      g_assert_cmpint (st.st_size, ==, 0);
  }
  g_assert_cmpuint (requests (c), ==, 1);
}

/* ---- TLS ---- */

/* A server whose certificate nobody trusts (self-signed): fatal TlsFailure, no
 * request ever reaches it, and ResumeGroup fails the same way; verification is
 * never turned off. */
static void
test_tls_untrusted (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmgrTestServer) tls = qmgr_test_server_new_tls (&error);
  g_autofree char *url = NULL;
  g_autoptr(Case) c = NULL;

  g_assert_no_error (error);
  url = qmgr_test_server_get_https_url_for (tls, "/tls.bin");
  c = case_new_full (f, "/tls.bin", SIZE, 1, "v1", LM1, url);
  qmgr_test_server_add_file (tls, "/tls.bin", c->content, "v1", LM1);

  for (guint round = 0; round < 2; round++)
    {
      it_recorder_clear (c->rec);
      resume (c);
      assert_fatal (c, TRANSFER_ERROR ("TlsFailure"), 0, 0);
      assert_dest_untouched (c, NULL);
      g_assert_cmpuint (qmgr_test_server_get_request_count (tls, "/tls.bin"), ==, 0);
      g_assert_cmpuint (qmgr_test_server_get_connection_count (tls), ==, 0);
    }
}

/* ---- connections ---- */

/* The files of a job on one server share connections. One job moves as many files
 * at a time as MaxConcurrentTransfers allows (the scheduler's only bound on it), so
 * that many connections at most, whatever the number of files; one with 1. */
static void
test_connection_reuse (ItFixture *f, gconstpointer data)
{
  const guint max = GPOINTER_TO_UINT (data);
  const guint n_files = 3 * max + 2;
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GPtrArray) contents = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) dests = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;

  it_set_property (f->d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE,
                   "MaxConcurrentTransfers", g_variant_new_uint32 (max), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *route = g_strdup_printf ("/many-%u.bin", i);
      g_autofree char *url = qmgr_test_server_get_url_for (server, route);
      GBytes *content = qmgr_test_make_content (4096 + i, 100 + i);

      qmgr_test_server_add_file (server, route, content, NULL, LM1);
      g_ptr_array_add (contents, content);
      g_ptr_array_add (dests, it_file (f->d, route + 1));
      it_add_file (f->d, g->job_path, url, dests->pdata[i], 0, &error);
      g_assert_no_error (error);
    }
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (it_wait_property (f->d, g->path, GROUP, "Status",
                                   g_variant_new_uint32 (0x140), DEADLINE_MS));
  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *route = g_strdup_printf ("/many-%u.bin", i);
      assert_file_equals (dests->pdata[i], contents->pdata[i]);
      g_assert_cmpuint (qmgr_test_server_get_request_count (server, route), ==, 1);
    }
  g_test_message ("%u files, MaxConcurrentTransfers %u: %u connection(s)", n_files, max,
                  qmgr_test_server_get_connection_count (server));
  g_assert_cmpuint (qmgr_test_server_get_connection_count (server), >=, 1);
  g_assert_cmpuint (qmgr_test_server_get_connection_count (server), <=, max);
}

/* ---- the local side ---- */

/* The destination directory vanished: a fatal LocalFile with the errno; once it is
 * back, ResumeGroup completes the file. */
static void
test_local_file_fatal (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autofree char *dir = it_file (f->d, "sub");
  g_autoptr(Case) c = NULL;

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  c = case_new_full (f, "/sub/local.bin", SIZE, 6, "v1", LM1, NULL);
  g_assert_cmpint (rmdir (dir), ==, 0);

  resume (c);
  assert_fatal (c, TRANSFER_ERROR ("LocalFile"), ENOENT, 0);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  it_recorder_clear (c->rec);
  resume (c);
  assert_complete (c, c->content, LM1);
}

/* The test data is the case's parameter, not daemon arguments. */
static void
setup (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  it_fixture_setup (f, NULL);
}

static void
teardown (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  it_fixture_teardown (f, NULL);
}

#define add_with(name, data, func) \
  g_test_add ((name), ItFixture, (data), setup, (func), teardown)

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  it_add ("/faults/reset-mid-body", test_reset_mid_body);
  it_add ("/faults/close-before-headers", test_close_before_headers);
  it_add ("/faults/connection-refused", test_connection_refused);
  it_add ("/faults/host-not-found", test_host_not_found);
  add_with ("/faults/status-500", GUINT_TO_POINTER (500), test_transient_status);
  add_with ("/faults/status-408", GUINT_TO_POINTER (408), test_transient_status);
  add_with ("/faults/status-429", GUINT_TO_POINTER (429), test_transient_status);
  add_with ("/faults/status-404", GUINT_TO_POINTER (404), test_fatal_status);
  add_with ("/faults/status-403", GUINT_TO_POINTER (403), test_fatal_status);
  add_with ("/faults/status-410", GUINT_TO_POINTER (410), test_fatal_status);
  it_add ("/faults/status-401", test_401);
  it_add ("/faults/stall-no-progress", test_stall_no_progress);
  it_add ("/faults/stall-before-body", test_stall_before_body);
  it_add ("/faults/paced-not-stalled", test_paced_not_stalled);
  it_add ("/faults/416-complete", test_416_complete);
  it_add ("/faults/416-restart", test_416_restart);
  it_add ("/faults/etag-changed", test_etag_changed);
  it_add ("/faults/last-modified-changed", test_last_modified_changed);
  it_add ("/faults/no-validator", test_no_validator);
  add_with ("/faults/etag-changed-if-range-ignored", GINT_TO_POINTER (TRUE),
            test_if_range_ignored);
  add_with ("/faults/last-modified-changed-if-range-ignored", GINT_TO_POINTER (FALSE),
            test_if_range_ignored);
  it_add ("/faults/200-to-range", test_range_ignored);
  it_add ("/faults/wrong-content-range", test_wrong_content_range);
  it_add ("/faults/wrong-content-range-persistent", test_wrong_content_range_persistent);
  it_add ("/faults/content-length-longer-than-body", test_short_body);
  it_add ("/faults/content-length-shorter-than-body", test_long_body);
  it_add ("/faults/redirect-followed", test_redirect_followed);
  it_add ("/faults/redirect-loop", test_redirect_loop);
  add_with ("/faults/redirect-file", "file", test_redirect_forbidden);
  add_with ("/faults/redirect-ftp", "ftp", test_redirect_forbidden);
  it_add ("/faults/local-file-fatal", test_local_file_fatal);
  it_add ("/faults/tls-untrusted", test_tls_untrusted);
  add_with ("/faults/connection-reuse-1", GUINT_TO_POINTER (1), test_connection_reuse);
  add_with ("/faults/connection-reuse-4", GUINT_TO_POINTER (4), test_connection_reuse);
  /* Last: it measures time, and a failure ends the program. */
  it_add ("/faults/status-503-retry-after", test_503_retry_after);
  return g_test_run ();
}
