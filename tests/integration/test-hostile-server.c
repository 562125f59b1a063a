/* qmgrd integration tests — docs/targets.md R10: a hostile HTTP server. Validators with
 * control bytes or 90 KiB long are never sent back; a 206 longer than its range
 * writes no byte past it; Retry-After beyond a week is capped, not ignored; a
 * server that sends the same first bytes on every attempt and never honours Range
 * does not defeat NoProgressTimeout. */
#include "it-faults.h"

#include <string.h>

static const char *const bad_response[] = { TRANSFER_ERROR ("BadResponse"), NULL };
static const char *const http_status[] = { TRANSFER_ERROR ("HttpStatus"), NULL };

/* The first answer carries @header verbatim and breaks off after PARTIAL bytes; the
 * next one is a plain server's (no validator at all). Nothing in @header may come
 * back: the resume starts from byte 0 without If-Range or Range. */
static void
assert_header_not_echoed (ItFixture *f, const char *route, const char *header)
{
  g_autoptr(Case) c = case_new (f, route, NULL, 0);
  QmgrTestFault fault = {
    .kind = QMGR_FAULT_RAW_HEADER, .target = header, .param = PARTIAL, .times = 1,
  };
  g_autofree char *if_range = NULL, *range = NULL, *injected = NULL;

  qmgr_test_server_set_fault (c->server, c->route, &fault);
  resume (c);
  assert_complete (c, c->content, 0);
  g_assert_cmpuint (requests (c), ==, 2);
  if_range = last_header (c, "If-Range");
  range = last_header (c, "Range");
  injected = last_header (c, "X-Injected");
  g_assert_null (if_range);
  g_assert_null (range);
  g_assert_null (injected);
}

static void
test_validator_with_cr (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  assert_header_not_echoed (f, "/cr.bin", "ETag: \"ab\rX-Injected: yes\"");
}

static void
test_last_modified_with_cr (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  assert_header_not_echoed (f, "/cr-date.bin",
                            "Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT\rX-Injected: yes");
}

static void
test_validator_too_long (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  GString *header = g_string_new ("ETag: \"");

  for (guint i = 0; i < 90 * 1024; i++)
    g_string_append_c (header, 'a' + i % 26);
  g_string_append_c (header, '"');
  assert_header_not_echoed (f, "/long-etag.bin", header->str);
  g_string_free (header, TRUE);
}

/* A resume answered with a 206 that carries 4 KiB more than its Content-Range: the
 * temp file gets the range and not a byte more (the file ends exact), and LastError
 * says what happened. */
static void
test_206_longer_than_range (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/long-range.bin", "v1", LM1);
  g_autofree char *message = NULL;

  make_partial (c, PARTIAL);
  set_fault (c, QMGR_FAULT_LONG_RANGE, 4096, 1);
  resume (c);
  assert_transient_signals (c, bad_response);
  assert_complete (c, c->content, LM1);
  {
    g_autoptr(GVariant) v = it_get_property (c->d, c->g->job_path, JOB, "LastError");
    g_variant_get (v, "(ss)", NULL, &message);
  }
  g_test_message ("LastError: %s", message);
  g_assert_nonnull (strstr (message, "more bytes than the range"));
}

typedef struct {
  Case *c;
  guint requests;
} RequestsWait;

static gboolean
more_requests (gpointer user_data)
{
  RequestsWait *w = user_data;
  return requests (w->c) > w->requests;
}

/* Retry-After of eight days: the group waits (a week, the most the daemon
 * waits), rather than ignoring the header and retrying after MinimumRetryDelay. */
static void
test_retry_after_beyond_a_week (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/later.bin", "v1", LM1);
  RequestsWait w = { c, 1 };

  set_status_fault (c, 503, 8 * 24 * 3600, 1);
  resume (c);
  assert_retrying (c, http_status, ANY, 503);
  /* MinimumRetryDelay is 1 s: a retry would come within 1.25 s. */
  g_assert_false (it_poll_until (more_requests, &w, 50, 3000));
  g_assert_cmpuint (requests (c), ==, 1);
  g_assert_cmpuint (it_group_status (c->d, c->g->path), ==, IT_STATUS_GROUP_INCOMPLETE);
}

/* Every attempt gets the same first 20,000 bytes (a 200 to the Range request),
 * then a reset: bytes come, but never past what the file already had, which is no
 * progress. NoProgressTimeout (3 s) ends it with a fatal NoProgress. */
static void
test_same_first_bytes (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Case) c = case_new (f, "/groundhog.bin", "v1", LM1);
  gint64 start = g_get_monotonic_time ();

  it_set_group_u (c->d, c->g, "NoProgressTimeout", 3);
  set_fault (c, QMGR_FAULT_RESET_IGNORING_RANGE, 20000, 0);
  resume (c);
  g_assert_true (wait_on_status (c, 0, 0xFFFFFFFFu, 0x380));
  g_test_message ("NoProgress after %" G_GINT64_FORMAT " ms and %u requests",
                  (g_get_monotonic_time () - start) / 1000, requests (c));
  assert_fatal (c, TRANSFER_ERROR ("NoProgress"), ANY, 0);
  g_assert_cmpuint (requests (c), >=, 2);
}

#define add it_add

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  add ("/hostile-server/etag-with-cr", test_validator_with_cr);
  add ("/hostile-server/last-modified-with-cr", test_last_modified_with_cr);
  add ("/hostile-server/etag-90k", test_validator_too_long);
  add ("/hostile-server/206-longer-than-range", test_206_longer_than_range);
  add ("/hostile-server/retry-after-beyond-a-week", test_retry_after_beyond_a_week);
  add ("/hostile-server/same-first-bytes", test_same_first_bytes);
  return g_test_run ();
}
