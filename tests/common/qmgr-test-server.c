/* qmgrd tests — the fault-injecting HTTP server (see qmgr-test-server.h). SoupServer
 * answers everything it can say in valid HTTP; the faults that break the framing
 * (reset, stall, short or long body, no headers, pacing) take the connection over
 * from libsoup and write raw bytes with GIO, all on the server's own thread. */
#include "qmgr-test-server.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libsoup/soup.h>

#define BODY_CHUNK_SIZE (256 * 1024)
#define SLOW_TICK_MS 20
/* Before a reset, wait (at most this long) until the client has acknowledged every
 * byte, so that it surely reads them before it sees the RST. */
#define RESET_DRAIN_TIMEOUT_US (2 * G_USEC_PER_SEC)
#define AUTH_REALM "qmgr-test"

typedef struct {
  GBytes *content;
  char *etag;                 /* as sent, quotes included; NULL = none */
  gint64 last_modified;       /* 0 = none */
} FileEntry;                  /* atomic rc box, immutable once made */

typedef struct {
  QmgrTestFault fault;        /* strings owned */
  guint remaining;            /* 0 = forever (under the server lock) */
} FaultEntry;                 /* atomic rc box */

typedef struct {
  guint requests;
  guint64 body_bytes;
  char *method;
  SoupMessageHeaders *headers; /* a copy of the latest request's */
} PathStats;

struct _QmgrTestServer {
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  char *url;
  guint port;
  gboolean tls;               /* also an HTTPS listener */
  char *https_url;

  /* Server thread only. */
  SoupServer *soup;
  GList *raw_conns;           /* RawConn*, connections taken over from libsoup */
  GCancellable *cancellable;  /* cancelled at shutdown */

  GMutex lock;
  GCond cond;                 /* start-up, and every change of the stats */
  gboolean started;
  GError *start_error;
  GHashTable *files;          /* path → FileEntry */
  GHashTable *faults;         /* path → FaultEntry */
  GHashTable *stats;          /* path → PathStats */
  guint connections;          /* that carried a request in this generation */
  guint generation;           /* of the stats: reset_stats starts a new one */
};

/* On a client's GSocket: the stats generation in which it was counted. */
#define COUNTED_KEY "qmgr-test-server-counted"

/* ---------------------------------------------------------------- entries */

static void
file_entry_clear (gpointer data)
{
  FileEntry *f = data;
  g_bytes_unref (f->content);
  g_free (f->etag);
}

static void
file_entry_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, file_entry_clear);
}

static void
fault_entry_clear (gpointer data)
{
  FaultEntry *e = data;
  g_free ((char *) e->fault.target);
  g_free ((char *) e->fault.user);
  g_free ((char *) e->fault.password);
}

static void
fault_entry_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, fault_entry_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FileEntry, file_entry_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FaultEntry, fault_entry_unref)

static void
path_stats_free (gpointer data)
{
  PathStats *st = data;
  g_free (st->method);
  g_clear_pointer (&st->headers, soup_message_headers_unref);
  g_free (st);
}

/* Under the lock. */
static PathStats *
stats_for (QmgrTestServer *s, const char *path)
{
  PathStats *st = g_hash_table_lookup (s->stats, path);
  if (st == NULL)
    {
      st = g_new0 (PathStats, 1);
      g_hash_table_insert (s->stats, g_strdup (path), st);
    }
  return st;
}

static void
copy_header (const char *name, const char *value, gpointer user_data)
{
  soup_message_headers_append (user_data, name, value);
}

static void
record_request (QmgrTestServer *s, const char *path, const char *method,
                SoupMessageHeaders *request_headers, GSocket *socket)
{
  SoupMessageHeaders *copy = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  soup_message_headers_foreach (request_headers, copy_header, copy);

  g_mutex_lock (&s->lock);
  /* A mark on the socket object rather than its address or fd, which a later
   * connection may reuse. */
  if (socket != NULL &&
      GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (socket), COUNTED_KEY)) != s->generation)
    {
      g_object_set_data (G_OBJECT (socket), COUNTED_KEY, GUINT_TO_POINTER (s->generation));
      s->connections++;
    }
  PathStats *st = stats_for (s, path);
  st->requests++;
  g_free (st->method);
  st->method = g_strdup (method);
  g_clear_pointer (&st->headers, soup_message_headers_unref);
  st->headers = copy;
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
}

/* Adds @about_to_send, takes back @not_sent (counted before, never written). */
static void
record_body_bytes (QmgrTestServer *s, const char *path, guint64 about_to_send,
                   guint64 not_sent)
{
  if (about_to_send == 0 && not_sent == 0)
    return;
  g_mutex_lock (&s->lock);
  PathStats *st = stats_for (s, path);
  st->body_bytes += about_to_send;
  st->body_bytes -= MIN (st->body_bytes, not_sent);
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
}

static FileEntry *
lookup_file (QmgrTestServer *s, const char *path)
{
  g_mutex_lock (&s->lock);
  FileEntry *f = g_hash_table_lookup (s->files, path);
  if (f != NULL)
    f = g_atomic_rc_box_acquire (f);
  g_mutex_unlock (&s->lock);
  return f;
}

/* The fault that applies to this request, counting it against `times`. */
static FaultEntry *
take_fault (QmgrTestServer *s, const char *path)
{
  g_mutex_lock (&s->lock);
  FaultEntry *e = g_hash_table_lookup (s->faults, path);
  if (e != NULL)
    {
      e = g_atomic_rc_box_acquire (e);
      if (e->remaining > 0 && --e->remaining == 0)
        g_hash_table_remove (s->faults, path);
    }
  g_mutex_unlock (&s->lock);
  return e;
}

/* ---------------------------------------------------------------- content */

static guint64
splitmix64_next (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

GBytes *
qmgr_test_make_content (gsize size, guint32 seed)
{
  guint8 *data = g_malloc (size);
  guint64 state = seed;

  for (gsize off = 0; off < size; off += 8)
    {
      guint64 word = GUINT64_TO_LE (splitmix64_next (&state));
      memcpy (data + off, &word, MIN ((gsize) 8, size - off));
    }
  return g_bytes_new_take (data, size);
}

/* ---------------------------------------------------------------- planning */

/* What to answer, decided once and then written by libsoup or raw. */
typedef struct {
  guint status;
  GPtrArray *headers;         /* name, value, name, value … (owned) */
  GBytes *body;               /* the entity body (also kept for HEAD) */
} Response;

static void
response_init (Response *r)
{
  r->status = SOUP_STATUS_OK;
  r->headers = g_ptr_array_new_with_free_func (g_free);
  r->body = NULL;
}

static void
response_clear (Response *r)
{
  g_clear_pointer (&r->headers, g_ptr_array_unref);
  g_clear_pointer (&r->body, g_bytes_unref);
}

G_GNUC_PRINTF (3, 4)
static void
response_add_header (Response *r, const char *name, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_ptr_array_add (r->headers, g_strdup (name));
  g_ptr_array_add (r->headers, g_strdup_vprintf (format, args));
  va_end (args);
}

static void
response_set_text (Response *r, guint status, const char *text)
{
  r->status = status;
  g_clear_pointer (&r->body, g_bytes_unref);
  r->body = g_bytes_new (text, strlen (text));
  response_add_header (r, "Content-Type", "text/plain; charset=utf-8");
}

typedef enum {
  RANGE_ABSENT,               /* none, malformed, or several: serve it all */
  RANGE_SATISFIABLE,
  RANGE_UNSATISFIABLE,
} RangeKind;

static gboolean
parse_decimal (const char **p, guint64 *out)
{
  const char *c = *p;
  guint64 v = 0;

  if (!g_ascii_isdigit (*c))
    return FALSE;
  for (; g_ascii_isdigit (*c); c++)
    {
      guint digit = (guint) (*c - '0');
      if (v > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      v = v * 10 + digit;
    }
  *p = c;
  *out = v;
  return TRUE;
}

static RangeKind
parse_range (const char *value, guint64 size, guint64 *start, guint64 *end)
{
  const char *p = value;
  guint64 first, last;

  while (*p == ' ' || *p == '\t')
    p++;
  if (g_ascii_strncasecmp (p, "bytes", 5) != 0)
    return RANGE_ABSENT;
  p += 5;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p++ != '=')
    return RANGE_ABSENT;
  while (*p == ' ' || *p == '\t')
    p++;
  if (strchr (p, ',') != NULL)
    return RANGE_ABSENT;

  if (*p == '-')
    {
      p++;
      if (!parse_decimal (&p, &last))
        return RANGE_ABSENT;
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p != '\0')
        return RANGE_ABSENT;
      if (last == 0 || size == 0)
        return RANGE_UNSATISFIABLE;
      *start = size > last ? size - last : 0;
      *end = size - 1;
      return RANGE_SATISFIABLE;
    }

  if (!parse_decimal (&p, &first) || *p++ != '-')
    return RANGE_ABSENT;
  gboolean has_last = parse_decimal (&p, &last);
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p != '\0' || (has_last && last < first))
    return RANGE_ABSENT;
  if (first >= size)
    return RANGE_UNSATISFIABLE;
  *start = first;
  *end = has_last ? MIN (last, size - 1) : size - 1;
  return RANGE_SATISFIABLE;
}

static char *
format_http_date (gint64 unix_seconds)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (unix_seconds);
  return soup_date_time_to_string (dt, SOUP_DATE_HTTP);
}

static gboolean
if_range_matches (const char *if_range, const FileEntry *file)
{
  while (*if_range == ' ')
    if_range++;
  if (if_range[0] == '"' || g_str_has_prefix (if_range, "W/"))
    return file->etag != NULL && !g_str_has_prefix (file->etag, "W/") &&
           !g_str_has_prefix (if_range, "W/") && strcmp (if_range, file->etag) == 0;

  if (file->last_modified == 0)
    return FALSE;
  g_autoptr(GDateTime) dt = soup_date_time_new_from_http_string (if_range);
  return dt != NULL && g_date_time_to_unix (dt) == file->last_modified;
}

static gboolean
auth_matches (const char *authorization, const QmgrTestFault *fault)
{
  if (authorization == NULL || g_ascii_strncasecmp (authorization, "Basic ", 6) != 0)
    return FALSE;
  const char *token = authorization + 6;
  while (*token == ' ')
    token++;
  g_autofree char *pair = g_strdup_printf ("%s:%s", fault->user ? fault->user : "",
                                           fault->password ? fault->password : "");
  g_autofree char *expected = g_base64_encode ((const guchar *) pair, strlen (pair));
  return strcmp (token, expected) == 0;
}

/* The answer a correct server gives for @file (NULL: 404), maybe bent by @kind. */
static void
plan_file_response (Response *r, SoupMessageHeaders *req, const FileEntry *file,
                    const FaultEntry *fault)
{
  QmgrTestFaultKind kind = fault ? fault->fault.kind : QMGR_FAULT_NONE;

  if (file == NULL)
    {
      response_set_text (r, SOUP_STATUS_NOT_FOUND, "qmgr-test-server: no such file\n");
      return;
    }

  guint64 size = g_bytes_get_size (file->content);
  guint64 start = 0, end = size ? size - 1 : 0;
  RangeKind range = RANGE_ABSENT;
  const char *range_value = soup_message_headers_get_one (req, "Range");
  const char *if_range = soup_message_headers_get_one (req, "If-Range");

  response_add_header (r, "Accept-Ranges", "bytes");
  if (file->etag != NULL)
    response_add_header (r, "ETag", "%s", file->etag);
  if (file->last_modified != 0)
    {
      g_autofree char *date = format_http_date (file->last_modified);
      response_add_header (r, "Last-Modified", "%s", date);
    }

  if (range_value != NULL && kind != QMGR_FAULT_IGNORE_RANGE &&
      kind != QMGR_FAULT_RESET_IGNORING_RANGE && kind != QMGR_FAULT_ENDLESS &&
      (if_range == NULL || kind == QMGR_FAULT_IGNORE_IF_RANGE ||
       if_range_matches (if_range, file)))
    range = parse_range (range_value, size, &start, &end);

  if (kind == QMGR_FAULT_WRONG_CONTENT_RANGE && size > 0)
    {
      guint64 asked = range == RANGE_ABSENT ? 0 : start;
      guint64 length = range == RANGE_SATISFIABLE ? end - start + 1 : size;
      guint64 param = fault->fault.param;
      guint64 claimed = (param != 0 && param < size && param != asked) ? param
                        : asked > 0 ? 0 : 1;
      if (claimed >= size)              /* a one-byte file asked from 0 */
        claimed = 0;
      start = claimed;
      end = MIN (size - 1, claimed + length - 1);
      range = RANGE_SATISFIABLE;
    }

  switch (range)
    {
    case RANGE_UNSATISFIABLE:
      response_set_text (r, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE,
                         "qmgr-test-server: range not satisfiable\n");
      response_add_header (r, "Content-Range", "bytes */%" G_GUINT64_FORMAT, size);
      return;
    case RANGE_SATISFIABLE:
      r->status = SOUP_STATUS_PARTIAL_CONTENT;
      response_add_header (r, "Content-Range",
                           "bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                           start, end, size);
      r->body = g_bytes_new_from_bytes (file->content, start, end - start + 1);
      break;
    case RANGE_ABSENT:
    default:
      r->status = SOUP_STATUS_OK;
      r->body = g_bytes_ref (file->content);
      break;
    }
  response_add_header (r, "Content-Type", "application/octet-stream");
}

static void
plan_response (Response *r, const char *path, SoupMessageHeaders *req,
               const FileEntry *file, const FaultEntry *fault)
{
  QmgrTestFaultKind kind = fault ? fault->fault.kind : QMGR_FAULT_NONE;

  switch (kind)
    {
    case QMGR_FAULT_STATUS:
      {
        guint status = fault->fault.status ? fault->fault.status : 500;
        g_autofree char *text = g_strdup_printf ("qmgr-test-server: status %u\n", status);
        response_set_text (r, status, text);
        if (fault->fault.retry_after > 0)
          response_add_header (r, "Retry-After", "%u", fault->fault.retry_after);
        if (status == SOUP_STATUS_UNAUTHORIZED)
          response_add_header (r, "WWW-Authenticate", "Basic realm=\"" AUTH_REALM "\"");
        if (status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE && file != NULL)
          response_add_header (r, "Content-Range", "bytes */%" G_GSIZE_FORMAT,
                               g_bytes_get_size (file->content));
        return;
      }
    case QMGR_FAULT_REDIRECT:
      response_set_text (r, SOUP_STATUS_FOUND, "qmgr-test-server: redirect\n");
      response_add_header (r, "Location", "%s",
                           fault->fault.target ? fault->fault.target : "/");
      return;
    case QMGR_FAULT_REDIRECT_LOOP:
      {
        /* @path is decoded: escape it again for the header. */
        g_autofree char *location =
          g_uri_escape_string (path, G_URI_RESERVED_CHARS_ALLOWED_IN_PATH, FALSE);
        response_set_text (r, SOUP_STATUS_FOUND, "qmgr-test-server: redirect\n");
        response_add_header (r, "Location", "%s", location);
        return;
      }
    case QMGR_FAULT_REQUIRE_AUTH:
      if (!auth_matches (soup_message_headers_get_one (req, "Authorization"), &fault->fault))
        {
          response_set_text (r, SOUP_STATUS_UNAUTHORIZED,
                             "qmgr-test-server: authorization required\n");
          response_add_header (r, "WWW-Authenticate", "Basic realm=\"" AUTH_REALM "\"");
          return;
        }
      break;
    case QMGR_FAULT_NONE:
    case QMGR_FAULT_RESET_AFTER:
    case QMGR_FAULT_STALL_AFTER:
    case QMGR_FAULT_IGNORE_RANGE:
    case QMGR_FAULT_WRONG_CONTENT_RANGE:
    case QMGR_FAULT_SHORT_BODY:
    case QMGR_FAULT_LONG_BODY:
    case QMGR_FAULT_CLOSE_BEFORE_HEADERS:
    case QMGR_FAULT_SLOW:
    case QMGR_FAULT_IGNORE_IF_RANGE:
    case QMGR_FAULT_RAW_HEADER:
    case QMGR_FAULT_LONG_RANGE:
    case QMGR_FAULT_RESET_IGNORING_RANGE:
    case QMGR_FAULT_ENDLESS:
    default:
      break;
    }
  plan_file_response (r, req, file, fault);
}

/* ---------------------------------------------------------------- libsoup path */

/* The body goes to libsoup one chunk at a time, each counted in the stats just before
 * libsoup gets it, so that a client never holds bytes the counter does not show yet
 * (a count made after the write would race with a client that already has them).
 * When the message ends, whatever libsoup did not write is taken back off. */
typedef struct {
  QmgrTestServer *server;
  char *path;
  GBytes *body;
  gsize offset;               /* handed to libsoup so far (and counted) */
  gsize written;              /* libsoup's wrote-body-data, added up */
} SoupBodyFeed;

static void
soup_body_feed_free (gpointer data, G_GNUC_UNUSED GClosure *closure)
{
  SoupBodyFeed *feed = data;
  g_bytes_unref (feed->body);
  g_free (feed->path);
  g_free (feed);
}

static void
soup_body_feed_next (SoupServerMessage *msg, SoupBodyFeed *feed)
{
  gsize size = g_bytes_get_size (feed->body);
  gsize chunk = MIN (size - feed->offset, (gsize) BODY_CHUNK_SIZE);

  if (chunk == 0)
    return;
  record_body_bytes (feed->server, feed->path, chunk, 0);
  g_autoptr(GBytes) piece = g_bytes_new_from_bytes (feed->body, feed->offset, chunk);
  feed->offset += chunk;
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), piece);
  if (feed->offset == size)
    soup_message_body_complete (soup_server_message_get_response_body (msg));
}

static void
on_wrote_chunk (SoupServerMessage *msg, gpointer user_data)
{
  soup_body_feed_next (msg, user_data);
}

static void
on_wrote_body_data (G_GNUC_UNUSED SoupServerMessage *msg, guint chunk_size, gpointer user_data)
{
  SoupBodyFeed *feed = user_data;
  feed->written += chunk_size;
}

static void
on_finished (G_GNUC_UNUSED SoupServerMessage *msg, gpointer user_data)
{
  SoupBodyFeed *feed = user_data;
  if (feed->written < feed->offset)
    record_body_bytes (feed->server, feed->path, 0, feed->offset - feed->written);
  feed->offset = feed->written;
}

static void
respond_with_soup (QmgrTestServer *s, SoupServerMessage *msg, const char *path,
                   Response *r)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  gsize length = r->body ? g_bytes_get_size (r->body) : 0;

  soup_server_message_set_status (msg, r->status, NULL);
  for (guint i = 0; i + 1 < r->headers->len; i += 2)
    soup_message_headers_append (headers, r->headers->pdata[i], r->headers->pdata[i + 1]);
  soup_message_headers_set_content_length (headers, length);
  /* Written chunks are dropped, and libsoup's own partial-GET rewriting (which
   * wants an accumulated body) stays off. */
  soup_message_body_set_accumulate (body, FALSE);

  if (length == 0 || strcmp (soup_server_message_get_method (msg), SOUP_METHOD_HEAD) == 0)
    {
      soup_message_body_complete (body);
      return;
    }

  SoupBodyFeed *feed = g_new0 (SoupBodyFeed, 1);
  feed->server = s;
  feed->path = g_strdup (path);
  feed->body = g_bytes_ref (r->body);
  g_signal_connect_data (msg, "wrote-chunk", G_CALLBACK (on_wrote_chunk), feed, NULL, 0);
  g_signal_connect_data (msg, "wrote-body-data", G_CALLBACK (on_wrote_body_data), feed,
                         NULL, 0);
  g_signal_connect_data (msg, "finished", G_CALLBACK (on_finished), feed,
                         soup_body_feed_free, 0);
  soup_body_feed_next (msg, feed);
}

/* ---------------------------------------------------------------- raw path */

typedef enum {
  RAW_END_CLOSE,              /* FIN */
  RAW_END_RESET,              /* RST */
  RAW_END_STALL,              /* keep open until the peer goes away */
} RawEnd;

typedef struct {
  QmgrTestServer *server;
  char *path;
  GIOStream *stream;
  GSocket *socket;
  GBytes *head;
  GBytes *body;               /* exactly the body bytes to write */
  gsize body_off;
  gsize in_flight;            /* counted, being written */
  guint64 rate;               /* bytes per second, 0 = unpaced */
  gint64 body_start_us;
  gint64 reset_deadline_us;
  RawEnd end;
  GSource *timer;
  guint8 scratch[512];
  gboolean endless;           /* ENDLESS: the body starts over at its end */
} RawConn;

static void raw_conn_send_more (RawConn *c);

static void
raw_conn_finish (RawConn *c)
{
  QmgrTestServer *s = c->server;

  if (c->timer != NULL)
    {
      g_source_destroy (c->timer);
      g_source_unref (c->timer);
    }
  g_socket_close (c->socket, NULL);
  s->raw_conns = g_list_remove (s->raw_conns, c);
  g_object_unref (c->stream);
  g_object_unref (c->socket);
  g_bytes_unref (c->head);
  g_bytes_unref (c->body);
  g_free (c->path);
  g_free (c);
}

static void
raw_conn_set_timer (RawConn *c, guint ms, GSourceFunc func)
{
  g_assert (c->timer == NULL);
  c->timer = g_timeout_source_new (ms);
  g_source_set_callback (c->timer, func, c, NULL);
  g_source_attach (c->timer, c->server->context);
}

static void
raw_conn_clear_timer (RawConn *c)
{
  g_clear_pointer (&c->timer, g_source_unref);
}

static void
raw_conn_reset_now (RawConn *c)
{
  struct linger lin = { .l_onoff = 1, .l_linger = 0 };
  if (setsockopt (g_socket_get_fd (c->socket), SOL_SOCKET, SO_LINGER, &lin, sizeof lin) < 0)
    g_warning ("qmgr-test-server: SO_LINGER: %s", g_strerror (errno));
  raw_conn_finish (c);
}

static gboolean
raw_conn_reset_poll (gpointer data)
{
  RawConn *c = data;
  int unacked = 0;

  raw_conn_clear_timer (c);
  if (ioctl (g_socket_get_fd (c->socket), SIOCOUTQ, &unacked) < 0 || unacked == 0 ||
      g_get_monotonic_time () >= c->reset_deadline_us)
    raw_conn_reset_now (c);
  else
    raw_conn_set_timer (c, 1, raw_conn_reset_poll);
  return G_SOURCE_REMOVE;
}

static void
stall_read_done (GObject *source, GAsyncResult *result, gpointer data)
{
  RawConn *c = data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0)                   /* peer closed, error, or shutdown */
    {
      raw_conn_finish (c);
      return;
    }
  g_input_stream_read_async (G_INPUT_STREAM (source), c->scratch, sizeof c->scratch,
                             G_PRIORITY_DEFAULT, c->server->cancellable, stall_read_done, c);
}

static void
raw_conn_body_done (RawConn *c)
{
  switch (c->end)
    {
    case RAW_END_RESET:
      c->reset_deadline_us = g_get_monotonic_time () + RESET_DRAIN_TIMEOUT_US;
      raw_conn_reset_poll (c);
      break;
    case RAW_END_STALL:
      g_input_stream_read_async (g_io_stream_get_input_stream (c->stream), c->scratch,
                                 sizeof c->scratch, G_PRIORITY_DEFAULT,
                                 c->server->cancellable, stall_read_done, c);
      break;
    case RAW_END_CLOSE:
    default:
      g_socket_shutdown (c->socket, FALSE, TRUE, NULL);
      raw_conn_finish (c);
      break;
    }
}

static void
body_written (GObject *source, GAsyncResult *result, gpointer data)
{
  RawConn *c = data;
  gsize written = 0;
  gboolean ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result,
                                                  &written, NULL);

  record_body_bytes (c->server, c->path, 0, c->in_flight - written);
  c->in_flight = 0;
  c->body_off += written;
  if (!ok)
    raw_conn_finish (c);
  else
    raw_conn_send_more (c);
}

static gboolean
raw_conn_tick (gpointer data)
{
  RawConn *c = data;
  raw_conn_clear_timer (c);
  raw_conn_send_more (c);
  return G_SOURCE_REMOVE;
}

static void
raw_conn_send_more (RawConn *c)
{
  gsize size = g_bytes_get_size (c->body);
  gsize chunk;

  if (c->endless && c->body_off == size)
    c->body_off = 0;
  chunk = MIN (size - c->body_off, (gsize) BODY_CHUNK_SIZE);

  if (chunk == 0)
    {
      raw_conn_body_done (c);
      return;
    }
  if (c->rate > 0)
    {
      /* Allowance so far: rate × elapsed, plus one tick's worth up front. */
      gint64 elapsed_us = g_get_monotonic_time () - c->body_start_us;
      guint64 tick = MAX ((guint64) 1, c->rate * SLOW_TICK_MS / 1000);
      guint64 allowed = (guint64) ((double) c->rate * (double) elapsed_us / G_USEC_PER_SEC) + tick;
      if (allowed <= c->body_off)
        {
          guint64 wait_ms = (c->body_off + 1 - allowed) * 1000 / c->rate + 1;
          raw_conn_set_timer (c, (guint) CLAMP (wait_ms, (guint64) SLOW_TICK_MS, (guint64) 1000),
                              raw_conn_tick);
          return;
        }
      chunk = (gsize) MIN ((guint64) chunk, allowed - c->body_off);
    }
  /* Counted before the write: see SoupBodyFeed. */
  record_body_bytes (c->server, c->path, chunk, 0);
  c->in_flight = chunk;
  g_output_stream_write_all_async (g_io_stream_get_output_stream (c->stream),
                                   (const guint8 *) g_bytes_get_data (c->body, NULL) + c->body_off,
                                   chunk, G_PRIORITY_DEFAULT, c->server->cancellable,
                                   body_written, c);
}

static void
head_written (GObject *source, GAsyncResult *result, gpointer data)
{
  RawConn *c = data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL))
    {
      raw_conn_finish (c);
      return;
    }
  c->body_start_us = g_get_monotonic_time ();
  raw_conn_send_more (c);
}

static GBytes *
raw_head (const Response *r, gsize content_length, const char *extra)
{
  GString *head = g_string_new (NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = soup_date_time_to_string (now, SOUP_DATE_HTTP);

  g_string_append_printf (head, "HTTP/1.1 %u %s\r\n", r->status,
                          soup_status_get_phrase (r->status));
  g_string_append_printf (head, "Date: %s\r\nServer: qmgr-test-server\r\n", date);
  for (guint i = 0; i + 1 < r->headers->len; i += 2)
    g_string_append_printf (head, "%s: %s\r\n", (const char *) r->headers->pdata[i],
                            (const char *) r->headers->pdata[i + 1]);
  if (extra != NULL)
    g_string_append_printf (head, "%s\r\n", extra);
  if (content_length != G_MAXSIZE)
    g_string_append_printf (head, "Content-Length: %" G_GSIZE_FORMAT "\r\n", content_length);
  g_string_append (head, "Connection: close\r\n\r\n");
  return g_string_free_to_bytes (head);
}

/* The body bytes the fault lets out of @body (may be longer, for LONG_BODY). */
static GBytes *
raw_body (GBytes *body, gboolean head_only, const QmgrTestFault *fault)
{
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  GBytes *full = body ? body : empty;
  gsize size = g_bytes_get_size (full);
  gsize cut = (gsize) MIN ((guint64) size, fault->param);

  if (head_only || fault->kind == QMGR_FAULT_CLOSE_BEFORE_HEADERS)
    return g_bytes_ref (empty);
  switch (fault->kind)
    {
    case QMGR_FAULT_RESET_AFTER:
    case QMGR_FAULT_STALL_AFTER:
    case QMGR_FAULT_RESET_IGNORING_RANGE:
      return g_bytes_new_from_bytes (full, 0, cut);
    case QMGR_FAULT_SHORT_BODY:
      return g_bytes_new_from_bytes (full, 0, size - cut);
    case QMGR_FAULT_LONG_BODY:
    case QMGR_FAULT_LONG_RANGE:
      {
        gsize extra = (gsize) fault->param;
        guint8 *data = g_malloc (size + extra);
        if (size > 0)
          memcpy (data, g_bytes_get_data (full, NULL), size);
        memset (data + size, 'X', extra);
        return g_bytes_new_take (data, size + extra);
      }
    case QMGR_FAULT_NONE:
    case QMGR_FAULT_STATUS:
    case QMGR_FAULT_REDIRECT:
    case QMGR_FAULT_REDIRECT_LOOP:
    case QMGR_FAULT_IGNORE_RANGE:
    case QMGR_FAULT_WRONG_CONTENT_RANGE:
    case QMGR_FAULT_CLOSE_BEFORE_HEADERS:
    case QMGR_FAULT_REQUIRE_AUTH:
    case QMGR_FAULT_RAW_HEADER:
      return fault->param > 0 ? g_bytes_new_from_bytes (full, 0, cut) : g_bytes_ref (full);
    case QMGR_FAULT_ENDLESS:
      {
        guint8 *endless = g_malloc (BODY_CHUNK_SIZE);
        memset (endless, 'E', BODY_CHUNK_SIZE);
        return g_bytes_new_take (endless, BODY_CHUNK_SIZE);
      }
    case QMGR_FAULT_SLOW:
    case QMGR_FAULT_IGNORE_IF_RANGE:
    default:
      return g_bytes_ref (full);
    }
}

static gboolean
fault_is_raw (const FaultEntry *fault)
{
  if (fault == NULL)
    return FALSE;
  switch (fault->fault.kind)
    {
    case QMGR_FAULT_RESET_AFTER:
    case QMGR_FAULT_STALL_AFTER:
    case QMGR_FAULT_SHORT_BODY:
    case QMGR_FAULT_LONG_BODY:
    case QMGR_FAULT_CLOSE_BEFORE_HEADERS:
    case QMGR_FAULT_SLOW:
    case QMGR_FAULT_RAW_HEADER:
    case QMGR_FAULT_LONG_RANGE:
    case QMGR_FAULT_RESET_IGNORING_RANGE:
    case QMGR_FAULT_ENDLESS:
      return TRUE;
    case QMGR_FAULT_NONE:
    case QMGR_FAULT_STATUS:
    case QMGR_FAULT_REDIRECT:
    case QMGR_FAULT_REDIRECT_LOOP:
    case QMGR_FAULT_IGNORE_RANGE:
    case QMGR_FAULT_WRONG_CONTENT_RANGE:
    case QMGR_FAULT_REQUIRE_AUTH:
    case QMGR_FAULT_IGNORE_IF_RANGE:
    default:
      return FALSE;
    }
}

static void
respond_raw (QmgrTestServer *s, SoupServerMessage *msg, const char *path,
             const Response *r, const QmgrTestFault *fault)
{
  gboolean head_only = strcmp (soup_server_message_get_method (msg), SOUP_METHOD_HEAD) == 0;
  GSocket *socket = soup_server_message_get_socket (msg);
  RawConn *c;

  g_return_if_fail (G_IS_SOCKET (socket));
  c = g_new0 (RawConn, 1);
  c->server = s;
  c->path = g_strdup (path);
  c->socket = g_object_ref (socket);
  c->stream = soup_server_message_steal_connection (msg);
  c->body = raw_body (r->body, head_only, fault);
  if (fault->kind == QMGR_FAULT_CLOSE_BEFORE_HEADERS)
    c->head = g_bytes_new (NULL, 0);
  else
    c->head = raw_head (r,
                        fault->kind == QMGR_FAULT_ENDLESS ? G_MAXSIZE
                        : fault->kind == QMGR_FAULT_LONG_RANGE ? g_bytes_get_size (c->body)
                        : r->body ? g_bytes_get_size (r->body) : 0,
                        fault->kind == QMGR_FAULT_RAW_HEADER ? fault->target : NULL);
  c->endless = fault->kind == QMGR_FAULT_ENDLESS && !head_only;
  c->rate = fault->kind == QMGR_FAULT_SLOW ? MAX (fault->param, (guint64) 1)
            : fault->kind == QMGR_FAULT_ENDLESS ? fault->param : 0;
  c->end = fault->kind == QMGR_FAULT_RESET_AFTER ||
           fault->kind == QMGR_FAULT_RESET_IGNORING_RANGE ||
           (fault->kind == QMGR_FAULT_RAW_HEADER && fault->param > 0) ? RAW_END_RESET
           : fault->kind == QMGR_FAULT_STALL_AFTER ? RAW_END_STALL
           : RAW_END_CLOSE;
  s->raw_conns = g_list_prepend (s->raw_conns, c);

  gsize head_size;
  gconstpointer head_data = g_bytes_get_data (c->head, &head_size);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (c->stream), head_data,
                                   head_size, G_PRIORITY_DEFAULT, s->cancellable,
                                   head_written, c);
}

/* ---------------------------------------------------------------- the handler */

static void
handle_request (G_GNUC_UNUSED SoupServer *server, SoupServerMessage *msg, const char *path,
                G_GNUC_UNUSED GHashTable *query, gpointer user_data)
{
  QmgrTestServer *s = user_data;
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  Response r;

  record_request (s, path, method, req, soup_server_message_get_socket (msg));
  g_autoptr(FileEntry) file = lookup_file (s, path);
  g_autoptr(FaultEntry) fault = take_fault (s, path);

  response_init (&r);
  if (strcmp (method, SOUP_METHOD_GET) != 0 && strcmp (method, SOUP_METHOD_HEAD) != 0)
    {
      response_set_text (&r, SOUP_STATUS_METHOD_NOT_ALLOWED, "qmgr-test-server: GET or HEAD\n");
      response_add_header (&r, "Allow", "GET, HEAD");
    }
  else
    plan_response (&r, path, req, file, fault);

  /* libsoup would turn our deliberate 200-to-a-Range answers into 206 (its own
   * partial-GET support); the decision is already made, so hide the Range. */
  soup_message_headers_remove (req, "Range");

  if (fault_is_raw (fault))
    respond_raw (s, msg, path, &r, &fault->fault);
  else
    respond_with_soup (s, msg, path, &r);
  response_clear (&r);
}

/* ---------------------------------------------------------------- the thread */

static void
drain_context (GMainContext *context)
{
  while (g_main_context_iteration (context, FALSE))
    ;
}

/* A self-signed certificate for 127.0.0.1 and its key (ECDSA P-256), made now: valid
 * from a day ago for a year, so that a client refuses it only for being untrusted.
 * Made rather than committed: no private key in the tree and no expiry to watch;
 * GnuTLS, which glib-networking uses anyway, makes it in about a millisecond. */
static GTlsCertificate *
make_certificate (GError **error)
{
  static const unsigned char loopback[4] = { 127, 0, 0, 1 };
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t crt_pem = { NULL, 0 }, key_pem = { NULL, 0 };
  time_t now = time (NULL);
  guint8 serial[8];
  GTlsCertificate *certificate = NULL;
  int rc;

  for (gsize i = 0; i < sizeof serial; i++)
    serial[i] = (guint8) g_random_int_range (0, 256);
  serial[0] = (serial[0] & 0x7f) | 0x01;  /* positive, and not 0 */

  rc = gnutls_x509_privkey_init (&key);
  if (rc >= 0)
    rc = gnutls_x509_privkey_generate (key, GNUTLS_PK_ECDSA,
                                       GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0);
  if (rc >= 0)
    rc = gnutls_x509_crt_init (&crt);
  if (rc >= 0)
    rc = gnutls_x509_crt_set_version (crt, 3);
  if (rc >= 0)
    rc = gnutls_x509_crt_set_serial (crt, serial, sizeof serial);
  if (rc >= 0)
    rc = gnutls_x509_crt_set_activation_time (crt, now - 24 * 3600);
  if (rc >= 0)
    rc = gnutls_x509_crt_set_expiration_time (crt, now + 365 * 24 * 3600);
  if (rc >= 0)
    rc = gnutls_x509_crt_set_dn (crt, "O=qmgrd tests,CN=127.0.0.1", NULL);
  if (rc >= 0)
    rc = gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS, loopback,
                                               sizeof loopback, GNUTLS_FSAN_SET);
  if (rc >= 0)
    rc = gnutls_x509_crt_set_basic_constraints (crt, 0, -1);
  if (rc >= 0)
    rc = gnutls_x509_crt_set_key (crt, key);
  if (rc >= 0)
    rc = gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0);
  if (rc >= 0)
    rc = gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &crt_pem);
  if (rc >= 0)
    rc = gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                            &key_pem);
  if (rc >= 0)
    {
      g_autofree char *pem = g_strdup_printf ("%.*s%.*s", (int) crt_pem.size,
                                              (const char *) crt_pem.data, (int) key_pem.size,
                                              (const char *) key_pem.data);
      certificate = g_tls_certificate_new_from_pem (pem, -1, error);
    }
  else
    g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC, "qmgr-test-server: GnuTLS: %s",
                 gnutls_strerror (rc));
  gnutls_free (crt_pem.data);
  gnutls_free (key_pem.data);
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
  if (key != NULL)
    gnutls_x509_privkey_deinit (key);
  return certificate;
}

/* The HTTPS listener: SoupServer does the TLS (GIO's backend, glib-networking). */
static gboolean
listen_tls (QmgrTestServer *s, GError **error)
{
  g_autoptr(GTlsCertificate) certificate = make_certificate (error);

  if (certificate == NULL)
    return FALSE;
  g_object_set (s->soup, "tls-certificate", certificate, NULL);
  return soup_server_listen_local (s->soup, 0,
                                   SOUP_SERVER_LISTEN_IPV4_ONLY | SOUP_SERVER_LISTEN_HTTPS,
                                   error);
}

static gpointer
server_thread (gpointer data)
{
  QmgrTestServer *s = data;
  GError *error = NULL;

  g_main_context_push_thread_default (s->context);

  s->soup = soup_server_new ("server-header", "qmgr-test-server", NULL);
  soup_server_add_handler (s->soup, NULL, handle_request, s, NULL);
  if (soup_server_listen_local (s->soup, s->port, SOUP_SERVER_LISTEN_IPV4_ONLY, &error) &&
      s->tls)
    listen_tls (s, &error);
  if (error == NULL)
    {
      GSList *uris = soup_server_get_uris (s->soup);
      g_assert (uris != NULL);
      for (GSList *l = uris; l != NULL; l = l->next)
        {
          guint port = (guint) g_uri_get_port (l->data);
          if (strcmp (g_uri_get_scheme (l->data), "https") == 0)
            s->https_url = g_strdup_printf ("https://127.0.0.1:%u", port);
          else
            {
              s->port = port;
              s->url = g_strdup_printf ("http://127.0.0.1:%u", port);
            }
        }
      g_assert (s->url != NULL && s->tls == (s->https_url != NULL));
      g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
    }

  g_mutex_lock (&s->lock);
  s->started = TRUE;
  s->start_error = error;
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);

  if (error == NULL)
    g_main_loop_run (s->loop);

  /* Shutdown: no new connections, libsoup's closed, the raw ones cancelled and
   * reaped (their callbacks run here, so iterate until none is left). */
  soup_server_disconnect (s->soup);
  g_cancellable_cancel (s->cancellable);
  for (GList *l = s->raw_conns, *next; l != NULL; l = next)
    {
      RawConn *c = l->data;
      next = l->next;
      if (c->timer != NULL)     /* waiting on a timer, not on an I/O */
        raw_conn_finish (c);
    }
  while (s->raw_conns != NULL)
    g_main_context_iteration (s->context, TRUE);
  g_clear_object (&s->soup);
  drain_context (s->context);

  g_main_context_pop_thread_default (s->context);
  return NULL;
}

static QmgrTestServer *
server_new (guint port, gboolean tls, GError **error)
{
  QmgrTestServer *s;

  g_return_val_if_fail (port <= G_MAXUINT16, NULL);

  s = g_new0 (QmgrTestServer, 1);
  s->tls = tls;
  s->generation = 1;
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  s->port = port;
  s->context = g_main_context_new ();
  s->loop = g_main_loop_new (s->context, FALSE);
  s->cancellable = g_cancellable_new ();
  s->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, file_entry_unref);
  s->faults = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, fault_entry_unref);
  s->stats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, path_stats_free);
  s->thread = g_thread_new ("qmgr-test-server", server_thread, s);

  g_mutex_lock (&s->lock);
  while (!s->started)
    g_cond_wait (&s->cond, &s->lock);
  g_mutex_unlock (&s->lock);

  if (s->start_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&s->start_error));
      qmgr_test_server_free (s);
      return NULL;
    }
  return s;
}

QmgrTestServer *
qmgr_test_server_new_full (guint port, GError **error)
{
  return server_new (port, FALSE, error);
}

QmgrTestServer *
qmgr_test_server_new_tls (GError **error)
{
  return server_new (0, TRUE, error);
}

QmgrTestServer *
qmgr_test_server_new (void)
{
  g_autoptr(GError) error = NULL;
  QmgrTestServer *s = qmgr_test_server_new_full (0, &error);
  g_assert_no_error (error);
  return s;
}

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

void
qmgr_test_server_free (QmgrTestServer *s)
{
  if (s == NULL)
    return;
  if (s->thread != NULL)
    {
      /* A source, not g_main_loop_quit(): the thread may not be in g_main_loop_run()
       * yet, and a quit before the run would be lost. */
      GSource *quit = g_idle_source_new ();
      g_source_set_callback (quit, quit_loop, s->loop, NULL);
      g_source_attach (quit, s->context);
      g_source_unref (quit);
      g_thread_join (s->thread);
    }
  g_main_loop_unref (s->loop);
  g_main_context_unref (s->context);
  g_object_unref (s->cancellable);
  g_hash_table_unref (s->files);
  g_hash_table_unref (s->faults);
  g_hash_table_unref (s->stats);
  g_clear_error (&s->start_error);
  g_free (s->url);
  g_free (s->https_url);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s);
}

/* ---------------------------------------------------------------- public setters */

const char *
qmgr_test_server_get_url (QmgrTestServer *s)
{
  return s->url;
}

guint
qmgr_test_server_get_port (QmgrTestServer *s)
{
  return s->port;
}

char *
qmgr_test_server_get_url_for (QmgrTestServer *s, const char *path)
{
  g_return_val_if_fail (path != NULL && path[0] == '/', NULL);
  return g_strconcat (s->url, path, NULL);
}

const char *
qmgr_test_server_get_https_url (QmgrTestServer *s)
{
  return s->https_url;
}

char *
qmgr_test_server_get_https_url_for (QmgrTestServer *s, const char *path)
{
  g_return_val_if_fail (path != NULL && path[0] == '/', NULL);
  return s->https_url != NULL ? g_strconcat (s->https_url, path, NULL) : NULL;
}

void
qmgr_test_server_add_file (QmgrTestServer *s, const char *path, GBytes *content,
                           const char *etag, gint64 last_modified)
{
  g_return_if_fail (path != NULL && path[0] == '/');
  g_return_if_fail (content != NULL);

  FileEntry *f = g_atomic_rc_box_new0 (FileEntry);
  f->content = g_bytes_ref (content);
  if (etag != NULL)
    f->etag = (etag[0] == '"' || g_str_has_prefix (etag, "W/")) ? g_strdup (etag)
              : g_strdup_printf ("\"%s\"", etag);
  f->last_modified = last_modified;

  g_mutex_lock (&s->lock);
  g_hash_table_replace (s->files, g_strdup (path), f);
  g_mutex_unlock (&s->lock);
}

void
qmgr_test_server_remove_file (QmgrTestServer *s, const char *path)
{
  g_mutex_lock (&s->lock);
  g_hash_table_remove (s->files, path);
  g_mutex_unlock (&s->lock);
}

void
qmgr_test_server_set_fault (QmgrTestServer *s, const char *path, const QmgrTestFault *fault)
{
  g_return_if_fail (path != NULL && path[0] == '/');

  g_mutex_lock (&s->lock);
  if (fault == NULL || fault->kind == QMGR_FAULT_NONE)
    g_hash_table_remove (s->faults, path);
  else
    {
      FaultEntry *e = g_atomic_rc_box_new0 (FaultEntry);
      e->fault = *fault;
      e->fault.target = g_strdup (fault->target);
      e->fault.user = g_strdup (fault->user);
      e->fault.password = g_strdup (fault->password);
      e->remaining = fault->times;
      g_hash_table_replace (s->faults, g_strdup (path), e);
    }
  g_mutex_unlock (&s->lock);
}

/* ---------------------------------------------------------------- public getters */

guint
qmgr_test_server_get_request_count (QmgrTestServer *s, const char *path)
{
  g_mutex_lock (&s->lock);
  PathStats *st = g_hash_table_lookup (s->stats, path);
  guint n = st ? st->requests : 0;
  g_mutex_unlock (&s->lock);
  return n;
}

guint64
qmgr_test_server_get_body_bytes_sent (QmgrTestServer *s, const char *path)
{
  g_mutex_lock (&s->lock);
  PathStats *st = g_hash_table_lookup (s->stats, path);
  guint64 n = st ? st->body_bytes : 0;
  g_mutex_unlock (&s->lock);
  return n;
}

char *
qmgr_test_server_get_last_request_header (QmgrTestServer *s, const char *path,
                                          const char *header)
{
  char *value = NULL;

  g_mutex_lock (&s->lock);
  PathStats *st = g_hash_table_lookup (s->stats, path);
  if (st != NULL && st->headers != NULL)
    value = g_strdup (soup_message_headers_get_list (st->headers, header));
  g_mutex_unlock (&s->lock);
  return value;
}

char *
qmgr_test_server_get_last_request_method (QmgrTestServer *s, const char *path)
{
  g_mutex_lock (&s->lock);
  PathStats *st = g_hash_table_lookup (s->stats, path);
  char *method = st ? g_strdup (st->method) : NULL;
  g_mutex_unlock (&s->lock);
  return method;
}

guint
qmgr_test_server_get_connection_count (QmgrTestServer *s)
{
  g_mutex_lock (&s->lock);
  guint n = s->connections;
  g_mutex_unlock (&s->lock);
  return n;
}

void
qmgr_test_server_reset_stats (QmgrTestServer *s)
{
  g_mutex_lock (&s->lock);
  g_hash_table_remove_all (s->stats);
  s->connections = 0;
  s->generation++;
  g_mutex_unlock (&s->lock);
}

static gboolean
wait_for (QmgrTestServer *s, const char *path, guint count, guint64 bytes, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean reached;

  g_mutex_lock (&s->lock);
  for (;;)
    {
      PathStats *st = g_hash_table_lookup (s->stats, path);
      reached = st != NULL && st->requests >= count && st->body_bytes >= bytes;
      if (reached || !g_cond_wait_until (&s->cond, &s->lock, deadline))
        break;
    }
  if (!reached)
    {
      PathStats *st = g_hash_table_lookup (s->stats, path);
      reached = st != NULL && st->requests >= count && st->body_bytes >= bytes;
    }
  g_mutex_unlock (&s->lock);
  return reached;
}

gboolean
qmgr_test_server_wait_for_requests (QmgrTestServer *s, const char *path, guint count,
                                    guint timeout_ms)
{
  return wait_for (s, path, count, 0, timeout_ms);
}

gboolean
qmgr_test_server_wait_for_body_bytes (QmgrTestServer *s, const char *path, guint64 bytes,
                                      guint timeout_ms)
{
  return wait_for (s, path, 0, bytes, timeout_ms);
}
