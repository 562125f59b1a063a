/* qmgrd tests — the fault-injecting test server checked against real clients:
 * libsoup's SoupSession (synchronous, in the test thread, which is why the server has
 * its own) and raw sockets where the point is what happens on the wire. */
#include "qmgr-test-server.h"

#include <string.h>

#include <libsoup/soup.h>

#define FILE_SIZE 100000
#define ETAG "\"v1\""
#define LAST_MODIFIED G_GINT64_CONSTANT (1700000000)  /* Tue, 14 Nov 2023 22:13:20 GMT */
#define LAST_MODIFIED_HTTP "Tue, 14 Nov 2023 22:13:20 GMT"

/* ---------------------------------------------------------------- fixture */

typedef struct {
  QmgrTestServer *server;
  SoupSession *session;
  GBytes *content;
} Fixture;

static void
fixture_setup (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  fx->server = qmgr_test_server_new ();
  fx->session = soup_session_new ();
  fx->content = qmgr_test_make_content (FILE_SIZE, 42);
  qmgr_test_server_add_file (fx->server, "/a.bin", fx->content, "v1", LAST_MODIFIED);
}

static void
fixture_teardown (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_clear_object (&fx->session);
  g_clear_pointer (&fx->server, qmgr_test_server_free);
  g_clear_pointer (&fx->content, g_bytes_unref);
}

/* ---------------------------------------------------------------- a soup client */

typedef struct {
  guint status;
  SoupMessageHeaders *headers;  /* response headers */
  GBytes *body;
  GError *error;
} Reply;

static void
reply_clear (Reply *r)
{
  g_clear_pointer (&r->headers, soup_message_headers_unref);
  g_clear_pointer (&r->body, g_bytes_unref);
  g_clear_error (&r->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Reply, reply_clear)

/* @method on @path; the NULL-terminated @headers are name, value pairs. */
static void
soup_request (Fixture *fx, const char *method, const char *path, gboolean follow,
              Reply *out, ...)
{
  g_autofree char *url = qmgr_test_server_get_url_for (fx->server, path);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  va_list args;
  const char *name;

  g_assert_nonnull (msg);
  va_start (args, out);
  while ((name = va_arg (args, const char *)) != NULL)
    soup_message_headers_append (soup_message_get_request_headers (msg), name,
                                 va_arg (args, const char *));
  va_end (args);
  if (!follow)
    soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);

  memset (out, 0, sizeof *out);
  out->body = soup_session_send_and_read (fx->session, msg, NULL, &out->error);
  out->status = soup_message_get_status (msg);
  out->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
}

static void
assert_body_is_slice (GBytes *body, GBytes *content, gsize offset, gsize length)
{
  g_assert_nonnull (body);
  g_assert_cmpuint (offset + length, <=, g_bytes_get_size (content));
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                   (const guint8 *) g_bytes_get_data (content, NULL) + offset, length);
}

static void
assert_header (SoupMessageHeaders *headers, const char *name, const char *expected)
{
  g_assert_cmpstr (soup_message_headers_get_one (headers, name), ==, expected);
}

/* ---------------------------------------------------------------- a raw client */

typedef enum {
  RAW_END_EOF,                /* orderly close (FIN) */
  RAW_END_RESET,              /* ECONNRESET */
  RAW_END_OPEN,               /* we stopped reading; still open */
} RawEnd;

typedef struct {
  GSocket *socket;            /* kept open when the end is RAW_END_OPEN */
  GByteArray *data;           /* everything received */
  RawEnd end;
  /* parsed */
  guint status;
  SoupMessageHeaders *headers;
  gsize body_offset;          /* where the body starts in data */
} RawReply;

static void
raw_reply_clear (RawReply *r)
{
  if (r->socket != NULL)
    g_socket_close (r->socket, NULL);
  g_clear_object (&r->socket);
  g_clear_pointer (&r->data, g_byte_array_unref);
  g_clear_pointer (&r->headers, soup_message_headers_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RawReply, raw_reply_clear)

static gsize
raw_body_length (const RawReply *r)
{
  return r->data->len - r->body_offset;
}

static const guint8 *
raw_body (const RawReply *r)
{
  return r->data->data + r->body_offset;
}

#define RAW_ALL G_MAXSIZE

/* Where the body starts in @data, or 0 while the headers are incomplete. */
static gsize
find_body (GByteArray *data)
{
  const char *text = (const char *) data->data;
  const char *blank = data->len ? g_strstr_len (text, data->len, "\r\n\r\n") : NULL;
  return blank ? (gsize) (blank - text) + 4 : 0;
}

/* Sends "@method @path HTTP/1.1" with @extra_headers (CRLF-terminated lines, or NULL)
 * and reads until EOF, a reset, @idle_ms without a byte, or until the headers and at
 * least @body_wanted bytes of body are in (RAW_ALL: no such limit); in the last two
 * cases the connection is left open (RAW_END_OPEN). */
static void
raw_request_full (Fixture *fx, const char *method, const char *path,
                  const char *extra_headers, guint idle_ms, gsize body_wanted, RawReply *out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autofree char *request = NULL;
  guint8 buf[16384];

  memset (out, 0, sizeof *out);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1",
                                          (guint16) qmgr_test_server_get_port (fx->server),
                                          NULL, &error);
  g_assert_no_error (error);
  out->socket = g_object_ref (g_socket_connection_get_socket (conn));
  out->data = g_byte_array_new ();

  request = g_strdup_printf ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", method, path,
                             extra_headers ? extra_headers : "");
  g_assert_cmpint (g_socket_send (out->socket, request, strlen (request), NULL, &error), ==,
                   (gssize) strlen (request));
  g_assert_no_error (error);

  for (;;)
    {
      if (!g_socket_condition_timed_wait (out->socket, G_IO_IN, (gint64) idle_ms * 1000,
                                          NULL, &error))
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
          g_clear_error (&error);
          out->end = RAW_END_OPEN;
          break;
        }
      gssize n = g_socket_receive (out->socket, (char *) buf, sizeof buf, NULL, &error);
      if (n > 0)
        {
          g_byte_array_append (out->data, buf, (guint) n);
          gsize body = find_body (out->data);
          if (body_wanted != RAW_ALL && body > 0 && out->data->len - body >= body_wanted)
            {
              out->end = RAW_END_OPEN;
              break;
            }
          continue;
        }
      if (n == 0)
        out->end = RAW_END_EOF;
      else
        {
          /* GIO maps ECONNRESET to CONNECTION_CLOSED. */
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
          g_clear_error (&error);
          out->end = RAW_END_RESET;
        }
      break;
    }
  if (out->end != RAW_END_OPEN)
    {
      g_socket_close (out->socket, NULL);
      g_clear_object (&out->socket);
    }

  out->body_offset = find_body (out->data);
  if (out->body_offset > 0)
    {
      out->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
      g_assert_true (soup_headers_parse_response ((const char *) out->data->data,
                                                  (int) out->body_offset - 2, out->headers,
                                                  NULL, &out->status, NULL));
    }
  else
    out->body_offset = out->data->len;
}

/* Reads to the end (EOF or reset), @idle_ms at most between two reads. */
static void
raw_request (Fixture *fx, const char *method, const char *path, const char *extra_headers,
             guint idle_ms, RawReply *out)
{
  raw_request_full (fx, method, path, extra_headers, idle_ms, RAW_ALL, out);
}

/* Asserts nothing more arrives on a connection left open for @ms. */
static void
assert_silent (RawReply *r, guint ms)
{
  g_autoptr(GError) error = NULL;
  g_assert_nonnull (r->socket);
  g_assert_false (g_socket_condition_timed_wait (r->socket, G_IO_IN, (gint64) ms * 1000,
                                                 NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

/* ---------------------------------------------------------------- basics */

static void
test_make_content (void)
{
  g_autoptr(GBytes) a = qmgr_test_make_content (1000, 7);
  g_autoptr(GBytes) b = qmgr_test_make_content (1000, 7);
  g_autoptr(GBytes) prefix = qmgr_test_make_content (13, 7);
  g_autoptr(GBytes) other = qmgr_test_make_content (1000, 8);
  g_autoptr(GBytes) empty = qmgr_test_make_content (0, 7);

  g_assert_true (g_bytes_equal (a, b));
  g_assert_false (g_bytes_equal (a, other));
  g_assert_cmpmem (g_bytes_get_data (prefix, NULL), 13, g_bytes_get_data (a, NULL), 13);
  g_assert_cmpuint (g_bytes_get_size (empty), ==, 0);

  /* Not a constant or short-period pattern: most byte values show up. */
  const guint8 *d = g_bytes_get_data (a, NULL);
  gboolean seen[256] = { FALSE };
  guint distinct = 0;
  for (gsize i = 0; i < 1000; i++)
    if (!seen[d[i]])
      seen[d[i]] = TRUE, distinct++;
  g_assert_cmpuint (distinct, >, 200);
}

static void
test_url (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  const char *url = qmgr_test_server_get_url (fx->server);
  g_autofree char *expected = g_strdup_printf ("http://127.0.0.1:%u",
                                               qmgr_test_server_get_port (fx->server));
  g_autofree char *for_path = qmgr_test_server_get_url_for (fx->server, "/x/y.bin");
  g_autofree char *expected_for = g_strconcat (expected, "/x/y.bin", NULL);

  g_assert_cmpuint (qmgr_test_server_get_port (fx->server), >, 0);
  g_assert_cmpstr (url, ==, expected);
  g_assert_cmpstr (for_path, ==, expected_for);
}

static void
test_get_full (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(Reply) r;

  soup_request (fx, "GET", "/a.bin", FALSE, &r, NULL);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_true (g_bytes_equal (r.body, fx->content));
  g_assert_cmpint (soup_message_headers_get_content_length (r.headers), ==, FILE_SIZE);
  assert_header (r.headers, "Accept-Ranges", "bytes");
  assert_header (r.headers, "ETag", ETAG);
  assert_header (r.headers, "Last-Modified", LAST_MODIFIED_HTTP);
  assert_header (r.headers, "Content-Range", NULL);

  g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/a.bin"), ==, 1);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/a.bin"), ==, FILE_SIZE);
  g_autofree char *method = qmgr_test_server_get_last_request_method (fx->server, "/a.bin");
  g_assert_cmpstr (method, ==, "GET");
  /* libsoup's content decoder announces what it accepts; the server records it. */
  g_autofree char *accept_encoding =
    qmgr_test_server_get_last_request_header (fx->server, "/a.bin", "Accept-Encoding");
  g_assert_nonnull (accept_encoding);
  g_assert_nonnull (strstr (accept_encoding, "gzip"));
  g_autofree char *range = qmgr_test_server_get_last_request_header (fx->server, "/a.bin",
                                                                     "Range");
  g_assert_null (range);

  /* The query string does not change which file answers. */
  g_auto(Reply) q;
  soup_request (fx, "GET", "/a.bin?x=1", FALSE, &q, NULL);
  g_assert_cmpuint (q.status, ==, 200);
  g_assert_true (g_bytes_equal (q.body, fx->content));
  g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/a.bin"), ==, 2);
}

static void
test_not_found_and_method (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(Reply) r;
  g_auto(Reply) post;

  soup_request (fx, "GET", "/missing.bin", FALSE, &r, NULL);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 404);
  g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/missing.bin"), ==, 1);

  soup_request (fx, "POST", "/a.bin", FALSE, &post, NULL);
  g_assert_cmpuint (post.status, ==, 405);
  assert_header (post.headers, "Allow", "GET, HEAD");
}

static void
test_head (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(Reply) r;
  g_auto(Reply) ranged;

  soup_request (fx, "HEAD", "/a.bin", FALSE, &r, NULL);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpuint (g_bytes_get_size (r.body), ==, 0);
  g_assert_cmpint (soup_message_headers_get_content_length (r.headers), ==, FILE_SIZE);
  assert_header (r.headers, "ETag", ETAG);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/a.bin"), ==, 0);
  g_autofree char *method = qmgr_test_server_get_last_request_method (fx->server, "/a.bin");
  g_assert_cmpstr (method, ==, "HEAD");

  soup_request (fx, "HEAD", "/a.bin", FALSE, &ranged, "Range", "bytes=1000-", NULL);
  g_assert_cmpuint (ranged.status, ==, 206);
  g_assert_cmpint (soup_message_headers_get_content_length (ranged.headers), ==, FILE_SIZE - 1000);
  assert_header (ranged.headers, "Content-Range", "bytes 1000-99999/100000");

  /* The same on the wire: headers only, then the connection stays usable. */
  g_auto(RawReply) raw;
  raw_request_full (fx, "HEAD", "/a.bin", NULL, 5000, 0, &raw);
  g_assert_cmpuint (raw.status, ==, 200);
  g_assert_cmpuint (raw_body_length (&raw), ==, 0);
  g_assert_cmpint (soup_message_headers_get_content_length (raw.headers), ==, FILE_SIZE);
}

static void
test_large_body (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  const gsize size = 64 * 1024 * 1024 + 3;
  g_autoptr(GBytes) big = qmgr_test_make_content (size, 9);
  g_auto(Reply) r;

  qmgr_test_server_add_file (fx->server, "/big.bin", big, "big", 0);
  soup_request (fx, "GET", "/big.bin", FALSE, &r, "Range", "bytes=1-", NULL);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 206);
  assert_body_is_slice (r.body, big, 1, size - 1);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/big.bin"), ==, size - 1);

  /* A client that reads a little and leaves: the count drops back to what was
   * written, well short of the file. */
  qmgr_test_server_reset_stats (fx->server);
  {
    g_auto(RawReply) partial;
    raw_request_full (fx, "GET", "/big.bin", NULL, 10000, 100000, &partial);
    g_assert_cmpuint (partial.status, ==, 200);
  }
  guint64 sent = size;
  for (gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
       g_get_monotonic_time () < deadline; g_usleep (10 * 1000))
    if ((sent = qmgr_test_server_get_body_bytes_sent (fx->server, "/big.bin")) < size / 2)
      break;
  g_assert_cmpuint (sent, <, size / 2);   /* socket buffers hold a few MiB at most */
  g_assert_cmpuint (sent, >, 0);
}

/* ---------------------------------------------------------------- ranges */

static void
check_range (Fixture *fx, const char *range, guint expected_status, gsize offset,
             gsize length, const char *content_range)
{
  g_auto(Reply) r;

  soup_request (fx, "GET", "/a.bin", FALSE, &r, "Range", range, NULL);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, expected_status);
  assert_header (r.headers, "Content-Range", content_range);
  if (expected_status == 200 || expected_status == 206)
    {
      assert_body_is_slice (r.body, fx->content, offset, length);
      g_assert_cmpint (soup_message_headers_get_content_length (r.headers), ==, (goffset) length);
    }
  g_autofree char *seen = qmgr_test_server_get_last_request_header (fx->server, "/a.bin",
                                                                    "Range");
  g_assert_cmpstr (seen, ==, range);
}

static void
test_ranges (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  check_range (fx, "bytes=1000-", 206, 1000, FILE_SIZE - 1000, "bytes 1000-99999/100000");
  check_range (fx, "bytes=0-", 206, 0, FILE_SIZE, "bytes 0-99999/100000");
  check_range (fx, "bytes=10-19", 206, 10, 10, "bytes 10-19/100000");
  check_range (fx, "bytes=99999-99999", 206, 99999, 1, "bytes 99999-99999/100000");
  check_range (fx, "bytes=99990-200000", 206, 99990, 10, "bytes 99990-99999/100000");
  check_range (fx, "bytes=-100", 206, FILE_SIZE - 100, 100, "bytes 99900-99999/100000");
  /* Unsatisfiable: 416 with the size. */
  check_range (fx, "bytes=100000-", 416, 0, 0, "bytes */100000");
  check_range (fx, "bytes=200000-200010", 416, 0, 0, "bytes */100000");
  /* Several ranges, or nonsense: ignored, the whole file. */
  check_range (fx, "bytes=0-9,20-29", 200, 0, FILE_SIZE, NULL);
  check_range (fx, "bytes=abc", 200, 0, FILE_SIZE, NULL);
  check_range (fx, "bytes=20-10", 200, 0, FILE_SIZE, NULL);
  check_range (fx, "items=0-10", 200, 0, FILE_SIZE, NULL);

  guint64 expected = (FILE_SIZE - 1000) + FILE_SIZE + 10 + 1 + 10 + 100 + 4 * (guint64) FILE_SIZE;
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/a.bin"), ==,
                    expected + 2 * strlen ("qmgr-test-server: range not satisfiable\n"));
}

static void
test_if_range (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  struct {
    const char *if_range;
    guint status;
  } cases[] = {
    { ETAG, 206 },
    { "\"v2\"", 200 },
    { "W/\"v1\"", 200 },                /* weak never matches */
    { LAST_MODIFIED_HTTP, 206 },
    { "Tue, 14 Nov 2023 22:13:21 GMT", 200 },
    { "Mon, 13 Nov 2023 22:13:20 GMT", 200 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Reply) r;
      soup_request (fx, "GET", "/a.bin", FALSE, &r, "Range", "bytes=500-",
                    "If-Range", cases[i].if_range, NULL);
      g_assert_no_error (r.error);
      g_assert_cmpuint (r.status, ==, cases[i].status);
      if (cases[i].status == 206)
        assert_body_is_slice (r.body, fx->content, 500, FILE_SIZE - 500);
      else
        g_assert_true (g_bytes_equal (r.body, fx->content));
      g_autofree char *seen = qmgr_test_server_get_last_request_header (fx->server, "/a.bin",
                                                                        "If-Range");
      g_assert_cmpstr (seen, ==, cases[i].if_range);
    }

  /* The file changes on the server: a resume with the old validators gets the new
   * file whole, never a splice. */
  g_autoptr(GBytes) changed = qmgr_test_make_content (FILE_SIZE + 5, 43);
  qmgr_test_server_add_file (fx->server, "/a.bin", changed, "v2", LAST_MODIFIED + 60);
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, "Range", "bytes=500-", "If-Range", ETAG, NULL);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_true (g_bytes_equal (r.body, changed));
    assert_header (r.headers, "ETag", "\"v2\"");
  }
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, "Range", "bytes=500-",
                  "If-Range", LAST_MODIFIED_HTTP, NULL);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_true (g_bytes_equal (r.body, changed));
  }
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, "Range", "bytes=500-",
                  "If-Range", "\"v2\"", NULL);
    g_assert_cmpuint (r.status, ==, 206);
    assert_body_is_slice (r.body, changed, 500, FILE_SIZE + 5 - 500);
  }

  /* Without validators, a date never matches. */
  qmgr_test_server_add_file (fx->server, "/bare.bin", fx->content, NULL, 0);
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/bare.bin", FALSE, &r, "Range", "bytes=500-",
                  "If-Range", LAST_MODIFIED_HTTP, NULL);
    g_assert_cmpuint (r.status, ==, 200);
    assert_header (r.headers, "ETag", NULL);
    assert_header (r.headers, "Last-Modified", NULL);
  }
  qmgr_test_server_remove_file (fx->server, "/bare.bin");
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/bare.bin", FALSE, &r, NULL);
    g_assert_cmpuint (r.status, ==, 404);
  }
}

/* ---------------------------------------------------------------- faults on the wire */

static void
set_fault (Fixture *fx, const char *path, QmgrTestFaultKind kind, guint64 param, guint times)
{
  QmgrTestFault fault = { .kind = kind, .param = param, .times = times };
  qmgr_test_server_set_fault (fx->server, path, &fault);
}

static void
test_reset_after (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(RawReply) r;
  g_auto(RawReply) ranged;

  set_fault (fx, "/a.bin", QMGR_FAULT_RESET_AFTER, 30000, 0);
  raw_request (fx, "GET", "/a.bin", NULL, 5000, &r);
  g_assert_cmpint (r.end, ==, RAW_END_RESET);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpint (soup_message_headers_get_content_length (r.headers), ==, FILE_SIZE);
  assert_header (r.headers, "Connection", "close");
  g_assert_cmpmem (raw_body (&r), raw_body_length (&r), g_bytes_get_data (fx->content, NULL), 30000);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/a.bin"), ==, 30000);

  /* On a resume the reset still comes param bytes into the (partial) body. */
  raw_request (fx, "GET", "/a.bin", "Range: bytes=50000-\r\n", 5000, &ranged);
  g_assert_cmpint (ranged.end, ==, RAW_END_RESET);
  g_assert_cmpuint (ranged.status, ==, 206);
  assert_header (ranged.headers, "Content-Range", "bytes 50000-99999/100000");
  g_assert_cmpmem (raw_body (&ranged), raw_body_length (&ranged),
                   (const guint8 *) g_bytes_get_data (fx->content, NULL) + 50000, 30000);

  /* libsoup's client sees an error, not a complete body. */
  g_auto(Reply) s;
  soup_request (fx, "GET", "/a.bin", FALSE, &s, NULL);
  g_assert_nonnull (s.error);
  g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/a.bin"), ==, 3);
}

static void
test_stall_after (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(RawReply) r;

  set_fault (fx, "/a.bin", QMGR_FAULT_STALL_AFTER, 1234, 1);
  raw_request_full (fx, "GET", "/a.bin", NULL, 5000, 1234, &r);
  g_assert_cmpint (r.end, ==, RAW_END_OPEN);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpint (soup_message_headers_get_content_length (r.headers), ==, FILE_SIZE);
  g_assert_cmpmem (raw_body (&r), raw_body_length (&r), g_bytes_get_data (fx->content, NULL), 1234);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/a.bin"), ==, 1234);
  assert_silent (&r, 300);

  /* The stalled connection blocks nothing else: times was 1, so this is normal. */
  g_auto(Reply) s;
  soup_request (fx, "GET", "/a.bin", FALSE, &s, NULL);
  g_assert_no_error (s.error);
  g_assert_cmpuint (s.status, ==, 200);
  g_assert_true (g_bytes_equal (s.body, fx->content));

  /* Still open and still silent. */
  assert_silent (&r, 300);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/a.bin"), ==,
                    1234 + FILE_SIZE);
}

static void
test_stall_then_free (void)
{
  /* Freeing the server with a stalled connection open must not hang, and the client
   * then sees the connection end. */
  Fixture fx;
  g_auto(RawReply) r;
  guint8 byte;

  fixture_setup (&fx, NULL);
  set_fault (&fx, "/a.bin", QMGR_FAULT_STALL_AFTER, 10, 0);
  raw_request_full (&fx, "GET", "/a.bin", NULL, 5000, 10, &r);
  g_assert_cmpint (r.end, ==, RAW_END_OPEN);
  g_assert_cmpuint (raw_body_length (&r), ==, 10);
  g_clear_pointer (&fx.server, qmgr_test_server_free);

  g_assert_true (g_socket_condition_timed_wait (r.socket, G_IO_IN, 5 * G_USEC_PER_SEC, NULL, NULL));
  g_assert_cmpint (g_socket_receive (r.socket, (char *) &byte, 1, NULL, NULL), <=, 0);
  fixture_teardown (&fx, NULL);
}

static void
test_short_body (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(RawReply) r;
  g_auto(RawReply) ranged;
  g_auto(Reply) s;

  set_fault (fx, "/a.bin", QMGR_FAULT_SHORT_BODY, 100, 0);
  raw_request (fx, "GET", "/a.bin", NULL, 5000, &r);
  g_assert_cmpint (r.end, ==, RAW_END_EOF);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpint (soup_message_headers_get_content_length (r.headers), ==, FILE_SIZE);
  g_assert_cmpmem (raw_body (&r), raw_body_length (&r), g_bytes_get_data (fx->content, NULL),
                   FILE_SIZE - 100);

  raw_request (fx, "GET", "/a.bin", "Range: bytes=99000-\r\n", 5000, &ranged);
  g_assert_cmpint (ranged.end, ==, RAW_END_EOF);
  g_assert_cmpuint (ranged.status, ==, 206);
  g_assert_cmpint (soup_message_headers_get_content_length (ranged.headers), ==, 1000);
  g_assert_cmpuint (raw_body_length (&ranged), ==, 900);

  /* libsoup 3.2's client takes the early EOF as the end of the body, without an
   * error: it gets the short body, never more than was sent. */
  soup_request (fx, "GET", "/a.bin", FALSE, &s, NULL);
  assert_body_is_slice (s.body, fx->content, 0, FILE_SIZE - 100);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/a.bin"), ==,
                    2 * (FILE_SIZE - 100) + 900);
}

static void
test_long_body (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(RawReply) r;

  set_fault (fx, "/a.bin", QMGR_FAULT_LONG_BODY, 77, 0);
  raw_request (fx, "GET", "/a.bin", "Range: bytes=99000-\r\n", 5000, &r);
  g_assert_cmpint (r.end, ==, RAW_END_EOF);
  g_assert_cmpuint (r.status, ==, 206);
  g_assert_cmpint (soup_message_headers_get_content_length (r.headers), ==, 1000);
  g_assert_cmpuint (raw_body_length (&r), ==, 1077);
  g_assert_cmpmem (raw_body (&r), 1000,
                   (const guint8 *) g_bytes_get_data (fx->content, NULL) + 99000, 1000);
  for (gsize i = 1000; i < 1077; i++)
    g_assert_cmpint (raw_body (&r)[i], ==, 'X');
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/a.bin"), ==, 1077);
}

static void
test_raw_header (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(RawReply) r;
  QmgrTestFault fault = { .kind = QMGR_FAULT_RAW_HEADER,
                          .target = "ETag: \"raw-1\"\r\nX-Extra: yes" };

  qmgr_test_server_set_fault (fx->server, "/a.bin", &fault);
  raw_request (fx, "GET", "/a.bin", "Range: bytes=99000-\r\n", 5000, &r);
  g_assert_cmpint (r.end, ==, RAW_END_EOF);
  g_assert_cmpuint (r.status, ==, 206);
  assert_header (r.headers, "ETag", "\"raw-1\"");
  assert_header (r.headers, "X-Extra", "yes");
  assert_header (r.headers, "Content-Range", "bytes 99000-99999/100000");
  g_assert_cmpmem (raw_body (&r), raw_body_length (&r),
                   (const guint8 *) g_bytes_get_data (fx->content, NULL) + 99000, 1000);
}

static void
test_long_range (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(RawReply) r;

  set_fault (fx, "/a.bin", QMGR_FAULT_LONG_RANGE, 77, 0);
  raw_request (fx, "GET", "/a.bin", "Range: bytes=99000-\r\n", 5000, &r);
  g_assert_cmpint (r.end, ==, RAW_END_EOF);
  g_assert_cmpuint (r.status, ==, 206);
  assert_header (r.headers, "Content-Range", "bytes 99000-99999/100000");
  /* The extra bytes are framed: Content-Length counts them. */
  g_assert_cmpint (soup_message_headers_get_content_length (r.headers), ==, 1077);
  g_assert_cmpuint (raw_body_length (&r), ==, 1077);
  for (gsize i = 1000; i < 1077; i++)
    g_assert_cmpint (raw_body (&r)[i], ==, 'X');
}

static void
test_reset_ignoring_range (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(RawReply) r;

  set_fault (fx, "/a.bin", QMGR_FAULT_RESET_IGNORING_RANGE, 3000, 0);
  raw_request (fx, "GET", "/a.bin", "Range: bytes=50000-\r\n", 5000, &r);
  g_assert_cmpint (r.end, ==, RAW_END_RESET);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_null (soup_message_headers_get_one (r.headers, "Content-Range"));
  g_assert_cmpmem (raw_body (&r), raw_body_length (&r), g_bytes_get_data (fx->content, NULL), 3000);
}

static void
test_endless (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(RawReply) r;
  const gsize wanted = 3 * 1024 * 1024;   /* more than any file the server has */

  set_fault (fx, "/a.bin", QMGR_FAULT_ENDLESS, 0, 0);
  raw_request_full (fx, "GET", "/a.bin", "Range: bytes=10-\r\n", 5000, wanted, &r);
  g_assert_cmpint (r.end, ==, RAW_END_OPEN);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_null (soup_message_headers_get_one (r.headers, "Content-Length"));
  g_assert_cmpuint (raw_body_length (&r), >=, wanted);
  for (gsize i = 0; i < wanted; i += 4096)
    g_assert_cmpint (raw_body (&r)[i], ==, 'E');
}

static void
test_close_before_headers (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(RawReply) r;
  g_auto(Reply) s;

  set_fault (fx, "/a.bin", QMGR_FAULT_CLOSE_BEFORE_HEADERS, 0, 0);
  raw_request (fx, "GET", "/a.bin", NULL, 5000, &r);
  g_assert_cmpint (r.end, ==, RAW_END_EOF);
  g_assert_cmpuint (r.data->len, ==, 0);
  g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/a.bin"), ==, 1);

  soup_request (fx, "GET", "/a.bin", FALSE, &s, NULL);
  g_assert_nonnull (s.error);
  g_assert_null (s.body);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/a.bin"), ==, 0);
}

static void
test_slow (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  const guint64 rate = 40000;
  g_auto(Reply) r;

  set_fault (fx, "/a.bin", QMGR_FAULT_SLOW, rate, 0);
  gint64 start = g_get_monotonic_time ();
  soup_request (fx, "GET", "/a.bin", FALSE, &r, "Range", "bytes=80000-", NULL);
  gint64 elapsed = g_get_monotonic_time () - start;

  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 206);
  assert_body_is_slice (r.body, fx->content, 80000, 20000);
  /* 20000 bytes at 40000 B/s: about 0.5 s; the pacer lets one 20 ms tick out early,
   * so no less than 0.45 s. (Only the lower bound is the pacer's promise.) */
  g_assert_cmpint (elapsed, >=, 450 * 1000);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/a.bin"), ==, 20000);

  /* Bytes trickle: the first ones come in a small piece, not the whole body. */
  g_auto(RawReply) partial;
  raw_request_full (fx, "GET", "/a.bin", "Range: bytes=80000-\r\n", 5000, 1, &partial);
  g_assert_cmpint (partial.end, ==, RAW_END_OPEN);
  g_assert_cmpuint (partial.status, ==, 206);
  g_assert_cmpuint (raw_body_length (&partial), >, 0);
  g_assert_cmpuint (raw_body_length (&partial), <, 20000);
  g_assert_cmpmem (raw_body (&partial), raw_body_length (&partial),
                   (const guint8 *) g_bytes_get_data (fx->content, NULL) + 80000,
                   raw_body_length (&partial));
}

/* ---------------------------------------------------------------- faults in HTTP */

static void
test_status (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  const guint statuses[] = { 404, 500, 503, 408, 429, 401, 403, 410, 416 };

  for (gsize i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      QmgrTestFault fault = { .kind = QMGR_FAULT_STATUS, .status = statuses[i],
                              .retry_after = statuses[i] == 503 ? 7 : 0 };
      g_auto(Reply) r;
      qmgr_test_server_set_fault (fx->server, "/a.bin", &fault);
      soup_request (fx, "GET", "/a.bin", FALSE, &r, NULL);
      g_assert_no_error (r.error);
      g_assert_cmpuint (r.status, ==, statuses[i]);
      assert_header (r.headers, "Retry-After", statuses[i] == 503 ? "7" : NULL);
      assert_header (r.headers, "WWW-Authenticate",
                     statuses[i] == 401 ? "Basic realm=\"qmgr-test\"" : NULL);
      assert_header (r.headers, "Content-Range", statuses[i] == 416 ? "bytes */100000" : NULL);
      g_autofree char *text = g_strdup_printf ("qmgr-test-server: status %u\n", statuses[i]);
      g_assert_cmpmem (g_bytes_get_data (r.body, NULL), g_bytes_get_size (r.body),
                       text, strlen (text));
    }

  /* Status 0 means 500; Retry-After also with other codes (429). */
  QmgrTestFault fault = { .kind = QMGR_FAULT_STATUS, .retry_after = 3 };
  qmgr_test_server_set_fault (fx->server, "/a.bin", &fault);
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, NULL);
    g_assert_cmpuint (r.status, ==, 500);
    assert_header (r.headers, "Retry-After", "3");
  }
  fault.status = 429;
  qmgr_test_server_set_fault (fx->server, "/a.bin", &fault);
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, NULL);
    g_assert_cmpuint (r.status, ==, 429);
    assert_header (r.headers, "Retry-After", "3");
  }

  /* A status fault works on a path without a file too, and clears with NULL. */
  qmgr_test_server_set_fault (fx->server, "/nofile", &fault);
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/nofile", FALSE, &r, NULL);
    g_assert_cmpuint (r.status, ==, 429);
  }
  qmgr_test_server_set_fault (fx->server, "/a.bin", NULL);
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, NULL);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_true (g_bytes_equal (r.body, fx->content));
  }
}

static void
test_times (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  QmgrTestFault fault = { .kind = QMGR_FAULT_STATUS, .status = 503, .times = 2 };
  const guint expected[] = { 503, 503, 200, 200 };

  qmgr_test_server_set_fault (fx->server, "/a.bin", &fault);
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_auto(Reply) r;
      soup_request (fx, "GET", "/a.bin", FALSE, &r, NULL);
      g_assert_cmpuint (r.status, ==, expected[i]);
    }
  g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/a.bin"), ==, 4);

  /* Raw faults count the same way; HEAD counts too. */
  set_fault (fx, "/a.bin", QMGR_FAULT_CLOSE_BEFORE_HEADERS, 0, 1);
  {
    g_auto(RawReply) r;
    raw_request (fx, "HEAD", "/a.bin", NULL, 5000, &r);
    g_assert_cmpuint (r.data->len, ==, 0);
  }
  {
    g_auto(RawReply) r;
    raw_request_full (fx, "HEAD", "/a.bin", NULL, 5000, 0, &r);
    g_assert_cmpuint (r.status, ==, 200);
  }

  /* times = 0 is forever; a new fault replaces the old one. */
  set_fault (fx, "/a.bin", QMGR_FAULT_IGNORE_RANGE, 0, 0);
  for (int i = 0; i < 3; i++)
    {
      g_auto(Reply) r;
      soup_request (fx, "GET", "/a.bin", FALSE, &r, "Range", "bytes=10-", NULL);
      g_assert_cmpuint (r.status, ==, 200);
    }
  set_fault (fx, "/a.bin", QMGR_FAULT_STATUS, 0, 1);
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, "Range", "bytes=10-", NULL);
    g_assert_cmpuint (r.status, ==, 500);
  }
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, "Range", "bytes=10-", NULL);
    g_assert_cmpuint (r.status, ==, 206);
  }
}

static void
test_redirect (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  const char *targets[] = { "file:///etc/passwd", "ftp://x/", "/a.bin" };

  for (gsize i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      QmgrTestFault fault = { .kind = QMGR_FAULT_REDIRECT, .target = targets[i] };
      g_auto(Reply) r;
      qmgr_test_server_set_fault (fx->server, "/r", &fault);
      soup_request (fx, "GET", "/r", FALSE, &r, NULL);
      g_assert_no_error (r.error);
      g_assert_cmpuint (r.status, ==, 302);
      assert_header (r.headers, "Location", targets[i]);
    }

  /* Followed, the relative redirect lands on the file. */
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/r", TRUE, &r, NULL);
    g_assert_no_error (r.error);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_true (g_bytes_equal (r.body, fx->content));
    g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/r"), ==, 4);
    g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/a.bin"), ==, 1);
  }

  /* An absolute URL on this server. */
  g_autofree char *b_url = qmgr_test_server_get_url_for (fx->server, "/a.bin");
  QmgrTestFault fault = { .kind = QMGR_FAULT_REDIRECT, .target = b_url };
  qmgr_test_server_set_fault (fx->server, "/abs", &fault);
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/abs", TRUE, &r, NULL);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_true (g_bytes_equal (r.body, fx->content));
  }
}

static void
test_redirect_loop (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  set_fault (fx, "/loop", QMGR_FAULT_REDIRECT_LOOP, 0, 0);
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/loop", FALSE, &r, NULL);
    g_assert_cmpuint (r.status, ==, 302);
    assert_header (r.headers, "Location", "/loop");
  }
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/loop", TRUE, &r, NULL);
    g_assert_error (r.error, SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_TOO_MANY_REDIRECTS);
  }
  g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/loop"), >, 10);

  /* The Location of a path that needs escaping is escaped. */
  set_fault (fx, "/a loop", QMGR_FAULT_REDIRECT_LOOP, 0, 0);
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a%20loop", FALSE, &r, NULL);
    g_assert_cmpuint (r.status, ==, 302);
    assert_header (r.headers, "Location", "/a%20loop");
  }

  /* Limited by times, the loop ends on the file once it is there. */
  qmgr_test_server_reset_stats (fx->server);
  qmgr_test_server_add_file (fx->server, "/loop", fx->content, NULL, 0);
  set_fault (fx, "/loop", QMGR_FAULT_REDIRECT_LOOP, 0, 3);
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/loop", TRUE, &r, NULL);
    g_assert_no_error (r.error);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_true (g_bytes_equal (r.body, fx->content));
  }
  g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/loop"), ==, 4);
}

static void
test_ignore_range (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(Reply) r;

  set_fault (fx, "/a.bin", QMGR_FAULT_IGNORE_RANGE, 0, 0);
  soup_request (fx, "GET", "/a.bin", FALSE, &r, "Range", "bytes=5000-", "If-Range", ETAG, NULL);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 200);
  assert_header (r.headers, "Content-Range", NULL);
  g_assert_true (g_bytes_equal (r.body, fx->content));
}

static void
check_wrong_range (Fixture *fx, const char *range, gsize offset, gsize length,
                   const char *content_range)
{
  g_auto(Reply) r;
  if (range != NULL)
    soup_request (fx, "GET", "/a.bin", FALSE, &r, "Range", range, NULL);
  else
    soup_request (fx, "GET", "/a.bin", FALSE, &r, NULL);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 206);
  assert_header (r.headers, "Content-Range", content_range);
  assert_body_is_slice (r.body, fx->content, offset, length);
}

static void
test_wrong_content_range (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  set_fault (fx, "/a.bin", QMGR_FAULT_WRONG_CONTENT_RANGE, 0, 0);
  check_wrong_range (fx, "bytes=1000-", 0, FILE_SIZE - 1000, "bytes 0-98999/100000");
  check_wrong_range (fx, "bytes=1000-1999", 0, 1000, "bytes 0-999/100000");
  check_wrong_range (fx, "bytes=0-", 1, FILE_SIZE - 1, "bytes 1-99999/100000");
  check_wrong_range (fx, NULL, 1, FILE_SIZE - 1, "bytes 1-99999/100000");

  set_fault (fx, "/a.bin", QMGR_FAULT_WRONG_CONTENT_RANGE, 2000, 0);
  check_wrong_range (fx, "bytes=1000-1099", 2000, 100, "bytes 2000-2099/100000");
  check_wrong_range (fx, "bytes=2000-2099", 0, 100, "bytes 0-99/100000");
}

static void
test_require_auth (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  QmgrTestFault fault = { .kind = QMGR_FAULT_REQUIRE_AUTH, .user = "alice",
                          .password = "s3cret" };
  g_autofree char *good = NULL, *bad = NULL;

  qmgr_test_server_set_fault (fx->server, "/a.bin", &fault);
  good = g_strconcat ("Basic ", "YWxpY2U6czNjcmV0", NULL);  /* alice:s3cret */
  bad = g_strconcat ("Basic ", "YWxpY2U6d3Jvbmc=", NULL);   /* alice:wrong */

  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, NULL);
    g_assert_no_error (r.error);
    g_assert_cmpuint (r.status, ==, 401);
    assert_header (r.headers, "WWW-Authenticate", "Basic realm=\"qmgr-test\"");
    g_autofree char *seen = qmgr_test_server_get_last_request_header (fx->server, "/a.bin",
                                                                      "Authorization");
    g_assert_null (seen);
  }
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, "Authorization", bad, NULL);
    g_assert_cmpuint (r.status, ==, 401);
  }
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, "Authorization", good,
                  "Range", "bytes=99000-", NULL);
    g_assert_no_error (r.error);
    g_assert_cmpuint (r.status, ==, 206);
    assert_body_is_slice (r.body, fx->content, 99000, 1000);
    g_autofree char *seen = qmgr_test_server_get_last_request_header (fx->server, "/a.bin",
                                                                      "Authorization");
    g_assert_cmpstr (seen, ==, good);
  }
}

/* A server without If-Range support: the Range is served from the current file
 * whatever the validator, and the response names the current validators. */
static void
test_ignore_if_range (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GBytes) changed = qmgr_test_make_content (FILE_SIZE, 43);
  const char *stale[] = { ETAG, LAST_MODIFIED_HTTP, "W/\"v1\"" };

  qmgr_test_server_add_file (fx->server, "/a.bin", changed, "v2", LAST_MODIFIED + 60);
  set_fault (fx, "/a.bin", QMGR_FAULT_IGNORE_IF_RANGE, 0, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (stale); i++)
    {
      g_auto(Reply) r;
      soup_request (fx, "GET", "/a.bin", FALSE, &r, "Range", "bytes=500-",
                    "If-Range", stale[i], NULL);
      g_assert_no_error (r.error);
      g_assert_cmpuint (r.status, ==, 206);
      assert_header (r.headers, "Content-Range", "bytes 500-99999/100000");
      assert_header (r.headers, "ETag", "\"v2\"");
      assert_header (r.headers, "Last-Modified", "Tue, 14 Nov 2023 22:14:20 GMT");
      assert_body_is_slice (r.body, changed, 500, FILE_SIZE - 500);
    }
  /* Without a Range: the whole file, as usual. */
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, "If-Range", ETAG, NULL);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_true (g_bytes_equal (r.body, changed));
  }
}

/* ---------------------------------------------------------------- bookkeeping */

/* Connections are counted once however many requests they carry, again after
 * reset_stats, and a new one each time a client opens one. */
static void
test_connections (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_assert_cmpuint (qmgr_test_server_get_connection_count (fx->server), ==, 0);
  for (guint i = 0; i < 3; i++)
    {
      g_auto(Reply) r;
      soup_request (fx, "GET", i == 1 ? "/missing.bin" : "/a.bin", FALSE, &r, NULL);
      g_assert_no_error (r.error);
    }
  /* One SoupSession, keep-alive: one connection for the three. */
  g_assert_cmpuint (qmgr_test_server_get_connection_count (fx->server), ==, 1);

  /* Raw requests each open their own. */
  for (guint i = 0; i < 2; i++)
    {
      g_auto(RawReply) raw;
      raw_request_full (fx, "HEAD", "/a.bin", NULL, 5000, 0, &raw);
      g_assert_cmpuint (raw.status, ==, 200);
    }
  g_assert_cmpuint (qmgr_test_server_get_connection_count (fx->server), ==, 3);

  /* After a reset, the session's kept-alive connection counts once more. */
  qmgr_test_server_reset_stats (fx->server);
  g_assert_cmpuint (qmgr_test_server_get_connection_count (fx->server), ==, 0);
  for (guint i = 0; i < 2; i++)
    {
      g_auto(Reply) r;
      soup_request (fx, "GET", "/a.bin", FALSE, &r, NULL);
      g_assert_no_error (r.error);
    }
  g_assert_cmpuint (qmgr_test_server_get_connection_count (fx->server), ==, 1);
}

static gpointer
delayed_get (gpointer data)
{
  Fixture *fx = data;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = qmgr_test_server_get_url_for (fx->server, "/late.bin");
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);

  g_usleep (100 * 1000);
  g_autoptr(GBytes) body = soup_session_send_and_read (session, msg, NULL, NULL);
  return NULL;
}

static void
test_counters (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_auto(Reply) a;
  g_auto(Reply) b;

  g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/a.bin"), ==, 0);
  g_assert_null (qmgr_test_server_get_last_request_header (fx->server, "/a.bin", "Range"));
  g_assert_null (qmgr_test_server_get_last_request_method (fx->server, "/a.bin"));

  soup_request (fx, "GET", "/a.bin", FALSE, &a, "Range", "bytes=0-9", "X-Test", "one", NULL);
  soup_request (fx, "GET", "/b.bin", FALSE, &b, "X-Test", "two", NULL);
  g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/a.bin"), ==, 1);
  g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/b.bin"), ==, 1);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/a.bin"), ==, 10);
  g_autofree char *xa = qmgr_test_server_get_last_request_header (fx->server, "/a.bin", "x-test");
  g_autofree char *xb = qmgr_test_server_get_last_request_header (fx->server, "/b.bin", "X-Test");
  g_assert_cmpstr (xa, ==, "one");
  g_assert_cmpstr (xb, ==, "two");

  g_assert_true (qmgr_test_server_wait_for_requests (fx->server, "/a.bin", 1, 0));
  g_assert_false (qmgr_test_server_wait_for_requests (fx->server, "/a.bin", 2, 50));
  g_assert_true (qmgr_test_server_wait_for_body_bytes (fx->server, "/a.bin", 10, 0));
  g_assert_false (qmgr_test_server_wait_for_body_bytes (fx->server, "/a.bin", 11, 50));

  qmgr_test_server_reset_stats (fx->server);
  g_assert_cmpuint (qmgr_test_server_get_request_count (fx->server, "/a.bin"), ==, 0);
  g_assert_cmpuint (qmgr_test_server_get_body_bytes_sent (fx->server, "/a.bin"), ==, 0);
  g_assert_null (qmgr_test_server_get_last_request_header (fx->server, "/a.bin", "X-Test"));

  /* A request from another thread wakes a waiter. */
  GThread *thread = g_thread_new ("late-client", delayed_get, fx);
  g_assert_true (qmgr_test_server_wait_for_requests (fx->server, "/late.bin", 1, 10000));
  g_thread_join (thread);
}

static gboolean
accept_any_certificate (G_GNUC_UNUSED SoupMessage *msg, G_GNUC_UNUSED GTlsCertificate *cert,
                        G_GNUC_UNUSED GTlsCertificateFlags errors, gpointer user_data)
{
  *(GTlsCertificate **) user_data = g_object_ref (cert);
  return TRUE;
}

/* The HTTPS listener serves what the plain one does, with the self-signed test
 * certificate: refused by a verifying client, fine for one that accepts it. */
static void
test_tls (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new_tls (&error);
  g_autoptr(GBytes) content = qmgr_test_make_content (FILE_SIZE, 44);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *expected = NULL;
  g_autofree char *url = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (server);
  expected = g_strdup_printf ("https://127.0.0.1:%u", qmgr_test_server_get_port (server));
  g_assert_true (g_str_has_prefix (qmgr_test_server_get_https_url (server), "https://127.0.0.1:"));
  g_assert_cmpstr (qmgr_test_server_get_https_url (server), !=, expected);  /* its own port */
  g_assert_true (g_str_has_prefix (qmgr_test_server_get_url (server), "http://127.0.0.1:"));
  url = qmgr_test_server_get_https_url_for (server, "/t.bin");
  qmgr_test_server_add_file (server, "/t.bin", content, "t1", LAST_MODIFIED);

  /* Verified against the system's CAs: refused, and no request got through. */
  {
    g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
    g_autoptr(GBytes) body = soup_session_send_and_read (session, msg, NULL, &error);
    g_assert_null (body);
    g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
    g_clear_error (&error);
    g_assert_cmpuint (qmgr_test_server_get_request_count (server, "/t.bin"), ==, 0);
    g_assert_cmpuint (qmgr_test_server_get_connection_count (server), ==, 0);
  }
  /* Accepted: the file, ranges and all, over TLS. */
  {
    g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
    g_autoptr(GTlsCertificate) seen = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
    g_autoptr(GSocketConnectable) address = g_network_address_new ("127.0.0.1", 443);
    g_autoptr(GDateTime) after = NULL;
    g_autoptr(GDateTime) before = NULL;
    g_autoptr(GBytes) body = NULL;

    soup_message_headers_append (soup_message_get_request_headers (msg), "Range", "bytes=10-");
    g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_any_certificate), &seen);
    body = soup_session_send_and_read (session, msg, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (soup_message_get_status (msg), ==, 206);
    assert_body_is_slice (body, content, 10, FILE_SIZE - 10);
    g_assert_cmpuint (qmgr_test_server_get_request_count (server, "/t.bin"), ==, 1);
    g_assert_cmpuint (qmgr_test_server_get_connection_count (server), ==, 1);

    /* Untrusted only for being self-signed: checked as its own issuer (a NULL CA),
     * it is for 127.0.0.1 and valid now. */
    g_assert_nonnull (seen);
    g_assert_cmpint (g_tls_certificate_verify (seen, address, NULL), ==, 0);
    after = g_tls_certificate_get_not_valid_after (seen);
    before = g_tls_certificate_get_not_valid_before (seen);
    g_assert_cmpint (g_date_time_compare (before, now), <, 0);
    g_assert_cmpint (g_date_time_compare (now, after), <, 0);
  }
}

static void
test_own_context (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  /* A test thread busy with a context of its own (as the integration tests are with
   * D-Bus) does not starve the server: it runs on its own thread. */
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  {
    g_auto(Reply) r;
    soup_request (fx, "GET", "/a.bin", FALSE, &r, NULL);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_true (g_bytes_equal (r.body, fx->content));
  }
  g_main_context_pop_thread_default (context);
}

static void
test_fixed_port (void)
{
  g_autoptr(QmgrTestServer) first = qmgr_test_server_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(QmgrTestServer) clash = qmgr_test_server_new_full (qmgr_test_server_get_port (first),
                                                               &error);
  g_assert_null (clash);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_clear_error (&error);

  guint port = qmgr_test_server_get_port (first);
  g_clear_pointer (&first, qmgr_test_server_free);
  g_autoptr(QmgrTestServer) again = qmgr_test_server_new_full (port, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (qmgr_test_server_get_port (again), ==, port);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add (name, Fixture, NULL, fixture_setup, func, fixture_teardown)

  g_test_add_func ("/server/make-content", test_make_content);
  ADD ("/server/url", test_url);
  ADD ("/server/get-full", test_get_full);
  ADD ("/server/not-found-and-method", test_not_found_and_method);
  ADD ("/server/head", test_head);
  ADD ("/server/large-body", test_large_body);
  ADD ("/server/ranges", test_ranges);
  ADD ("/server/if-range", test_if_range);
  ADD ("/server/counters", test_counters);
  ADD ("/server/connections", test_connections);
  g_test_add_func ("/server/tls", test_tls);
  ADD ("/server/own-context", test_own_context);
  g_test_add_func ("/server/fixed-port", test_fixed_port);
  ADD ("/fault/reset-after", test_reset_after);
  ADD ("/fault/stall-after", test_stall_after);
  g_test_add_func ("/fault/stall-then-free", test_stall_then_free);
  ADD ("/fault/status", test_status);
  ADD ("/fault/times", test_times);
  ADD ("/fault/redirect", test_redirect);
  ADD ("/fault/redirect-loop", test_redirect_loop);
  ADD ("/fault/ignore-range", test_ignore_range);
  ADD ("/fault/wrong-content-range", test_wrong_content_range);
  ADD ("/fault/short-body", test_short_body);
  ADD ("/fault/long-body", test_long_body);
  ADD ("/fault/raw-header", test_raw_header);
  ADD ("/fault/long-range", test_long_range);
  ADD ("/fault/reset-ignoring-range", test_reset_ignoring_range);
  ADD ("/fault/endless", test_endless);
  ADD ("/fault/close-before-headers", test_close_before_headers);
  ADD ("/fault/require-auth", test_require_auth);
  ADD ("/fault/slow", test_slow);
  ADD ("/fault/ignore-if-range", test_ignore_if_range);

  return g_test_run ();
}
