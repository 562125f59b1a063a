/* qmgrd transfer — the libcurl multi glue. One GSource carries every socket
 * libcurl wants watched (g_source_add_unix_fd, re-armed from the socket
 * callback) and libcurl's single timer (a deadline its prepare() turns into the
 * poll timeout: unlike g_source_set_ready_time(), setting it writes nothing to
 * the main context's wake-up fd, once per file otherwise). The curl
 * callbacks only record what libcurl asked for; curl_multi_socket_action runs
 * from the source's dispatch, and completions are drained with
 * curl_multi_info_read until it returns NULL. No polling, no threads, and no
 * wake-up while nothing transfers. A stall is judged by the engine itself: one
 * timer per transfer, due stall_timeout after its last byte. The connection
 * of a background transfer gets a small receive buffer as soon as libcurl
 * asks to watch it for the transfer (a new one while it connects, or one
 * from libcurl's pool), and loses it when the transfer stops being background
 * work (tcp-path.c). The socket callback is the one place that tells which
 * socket a transfer uses: CURLINFO_ACTIVESOCKET answers -1 until the
 * transfer is over in libcurl 7.88. */
#include "config.h"

#include "engine.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "qmgr-constants.h"
#include "qmgr-io.h"
#include "tcp-path.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURL, curl_easy_cleanup)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURLM, curl_multi_cleanup)

#define MAX_REDIRECTS 10
#define CONNECT_TIMEOUT_S 30
/* No byte for this long: a transient Timeout. Timed by the engine from the last
 * byte, not by libcurl's low-speed check, which averages over a window and notices
 * a stall seconds late. */
#define STALL_TIMEOUT_S 60
#define RECEIVE_BUFFER 102400   /* as the curl tool: a sixth of the loop turns of the default */
/* A paced transfer reads one buffer per budget, and the server sends as much
 * into the window that opens, at once: for background work over a network, a
 * read that makes a short burst (16 KiB is 6.5 ms of a 20 Mbit/s link). */
#define BACKGROUND_RECEIVE_BUFFER 16384
/* The longest validator kept (and sent back in If-Range): any server's real ETag
 * or date fits; a longer one is treated as none. */
#define VALIDATOR_MAX 1024
/* Retry-After beyond this is taken as this: docs/dbus-api.md, "Transfers". */
#define RETRY_AFTER_MAX_S (7 * 24 * 3600)

typedef struct {
  GSource source;
  QmgrTransferEngine *engine;
} EngineSource;

struct _QmgrTransferEngine {
  CURLM *multi;
  GSource *source;
  gint64 timer_due;           /* libcurl's timer, monotonic µs; -1: none */
  GHashTable *transfers;      /* CURL* → QmgrTransfer* */
  GHashTable *sockets;        /* socket fd → its tag in source */
  GHashTable *clamped;        /* socket fds whose receive buffer we clamped (until closed) */
};

struct _QmgrTransfer {
  QmgrTransferEngine *engine;
  CURL *easy;
  struct curl_slist *headers;
  QmgrTransferCallbacks callbacks;
  gpointer user_data;
  int fd;
  guint64 offset;             /* where the body starts in the file */
  guint64 written;            /* body bytes written at offset */
  char *validator;            /* what we asked If-Range with */

  /* The current response's headers (reset at each status line). */
  char *etag;
  char *last_modified;
  char *content_range;
  guint32 retry_after;

  gboolean evaluated;         /* the response was judged (first body byte or end) */
  gboolean http_error;        /* a status we do not take a body from */
  gboolean restart;           /* the server's file changed under a ranged request */
  gboolean overlong;          /* a 206 carried more than its Content-Range */
  guint64 range_end;          /* a 206's last byte + 1 (0: not a ranged answer) */
  guint64 bytes_total;
  int write_errno;

  /* Held by us, not by the server (no stall is judged meanwhile): a response
   * waits to be recorded, or the budget is spent. */
  gboolean held;
  gboolean unlimited;         /* no budget */
  gint64 budget;              /* body bytes still allowed; may go negative */
  guint64 budget_used;        /* since the budget was set */
  gboolean waiting_budget;
  /* Set up failed: done runs from this idle source. */
  guint fail_source;
  CURLcode setup_error;

  /* Stall detection: the body writer only stamps last_byte (no timer work per
   * chunk); the stall source, due at last_byte + stall_us, moves itself on when
   * bytes came meanwhile. Suspended (ready time -1) while pacing holds us. */
  GSource *stall;
  gint64 stall_us;
  gint64 last_byte;           /* monotonic µs: the last byte, the start, or an unpause */
  gboolean stalled;

  /* The connection libcurl last watched for it, for the receive buffer and
   * the samples. */
  gboolean background;
  gboolean loopback;          /* the URL names this machine: not a socket to look at */
  curl_socket_t sock;
  int sock_local;             /* qmgr_tcp_is_local(): -1 until it is connected */
  guint64 sock_received;      /* its tcpi_bytes_received at the last sample */
};

typedef struct {
  GSource source;
  QmgrTransfer *transfer;
} StallSource;

/* ---- results ---- */

static void
result_init (QmgrTransfer *t, QmgrTransferResult *r)
{
  memset (r, 0, sizeof *r);
  r->bytes_total = t->bytes_total;
  if (t->last_modified != NULL)
    {
      time_t when = curl_getdate (t->last_modified, NULL);
      r->last_modified = when > 0 ? (gint64) when : 0;
    }
}

static void
fail (QmgrTransferResult *r, QmgrTransferOutcome outcome, QmgrTransferError error,
      const char *message)
{
  r->outcome = outcome;
  r->error = error;
  r->message = message;
}

static void
classify_status (QmgrTransfer *t, long status, QmgrTransferResult *r, char *buf, gsize buf_len)
{
  r->http_status = (guint32) status;
  r->retry_after = t->retry_after;
  g_snprintf (buf, buf_len, "The server answered HTTP %ld", status);
  if (status == 408 || status == 429 || (status >= 500 && status <= 599))
    fail (r, QMGR_TRANSFER_TRANSIENT, QMGR_TRANSFER_ERROR_HTTP_STATUS, buf);
  else if (status >= 200 && status < 300)
    {
      g_snprintf (buf, buf_len, "The server answered HTTP %ld without the file", status);
      fail (r, QMGR_TRANSFER_TRANSIENT, QMGR_TRANSFER_ERROR_BAD_RESPONSE, buf);
    }
  else
    fail (r, QMGR_TRANSFER_FATAL, QMGR_TRANSFER_ERROR_HTTP_STATUS, buf);
}

static void
classify_curl_error (QmgrTransfer *t, CURLcode code, QmgrTransferResult *r)
{
  const char *what = curl_easy_strerror (code);
  long os_errno = 0;

  /* The errno of a failed connect, send or receive (ECONNREFUSED, ECONNRESET…);
   * libcurl leaves it 0 when no system call failed (a peer's orderly close). */
  if (t->easy != NULL && curl_easy_getinfo (t->easy, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
      os_errno > 0)
    r->win32_result = (guint32) os_errno;

  switch (code)
    {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      fail (r, QMGR_TRANSFER_TRANSIENT, QMGR_TRANSFER_ERROR_HOST_NOT_FOUND, what);
      break;
    case CURLE_OPERATION_TIMEDOUT:
      r->win32_result = ETIMEDOUT;
      fail (r, QMGR_TRANSFER_TRANSIENT, QMGR_TRANSFER_ERROR_TIMEOUT, what);
      break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      fail (r, QMGR_TRANSFER_TRANSIENT, QMGR_TRANSFER_ERROR_CONNECTION_FAILED, what);
      break;
    case CURLE_TOO_MANY_REDIRECTS:
      fail (r, QMGR_TRANSFER_FATAL, QMGR_TRANSFER_ERROR_TOO_MANY_REDIRECTS, what);
      break;
    case CURLE_OUT_OF_MEMORY:
      r->win32_result = ENOMEM;
      fail (r, QMGR_TRANSFER_TRANSIENT, QMGR_TRANSFER_ERROR_LOCAL_FILE, what);
      break;
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_URL_MALFORMAT:
      fail (r, QMGR_TRANSFER_FATAL, QMGR_TRANSFER_ERROR_BAD_RESPONSE, what);
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
      fail (r, QMGR_TRANSFER_FATAL, QMGR_TRANSFER_ERROR_FORBIDDEN_REDIRECT,
            "A redirect led to a scheme other than http or https");
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      fail (r, QMGR_TRANSFER_FATAL, QMGR_TRANSFER_ERROR_TLS_FAILURE, what);
      break;
    case CURLE_WRITE_ERROR:
      r->win32_result = (guint32) t->write_errno;
      if ((t->write_errno == ENOSPC || t->write_errno == EDQUOT) &&
          t->bytes_total == QMGR_SIZE_UNKNOWN)
        /* A body of no announced size filled the disk: it may never end, and
         * waiting for space would keep the disk full (docs/dbus-api.md,
         * "Transfers"). The backend removes what it wrote. */
        fail (r, QMGR_TRANSFER_FATAL, QMGR_TRANSFER_ERROR_LOCAL_FILE,
              "The disk is full, and the server never said how much it would send; "
              "what it sent was removed");
      else if (qmgr_io_errno_is_transient (t->write_errno))
        fail (r, QMGR_TRANSFER_TRANSIENT, QMGR_TRANSFER_ERROR_LOCAL_FILE, g_strerror (t->write_errno));
      else
        fail (r, QMGR_TRANSFER_FATAL, QMGR_TRANSFER_ERROR_LOCAL_FILE, g_strerror (t->write_errno));
      break;
    default:
      fail (r, QMGR_TRANSFER_TRANSIENT, QMGR_TRANSFER_ERROR_BAD_RESPONSE, what);
      break;
    }
}

/* ---- the response ---- */

static gboolean
parse_content_range (const char *value, guint64 *start, guint64 *end, guint64 *total)
{
  char *p;

  /* "bytes a-b/total", total may be "*"; "bytes * /total" for 416 */
  if (value == NULL || g_ascii_strncasecmp (value, "bytes ", 6) != 0)
    return FALSE;
  value += 6;
  while (*value == ' ')
    value++;
  if (*value == '*')
    {
      *start = *end = G_MAXUINT64;
      p = (char *) value + 1;
    }
  else
    {
      *start = g_ascii_strtoull (value, &p, 10);
      if (p == value || *p != '-')
        return FALSE;
      value = p + 1;
      *end = g_ascii_strtoull (value, &p, 10);
      if (p == value || *end < *start)
        return FALSE;
    }
  if (*p != '/')
    return FALSE;
  value = p + 1;
  if (*value == '*')
    *total = QMGR_SIZE_UNKNOWN;
  else
    {
      *total = g_ascii_strtoull (value, &p, 10);
      if (p == value)
        return FALSE;
    }
  return TRUE;
}

/* Validators go back to the server in If-Range (and to the store): only a
 * well-formed header value of bounded length is kept, never one that could
 * carry a CR or LF into a request. An entity-tag is [W/]"etagc*" (RFC 9110:
 * etagc is %x21 / %x23-7E / obs-text); a date is printable ASCII that parses. */
static gboolean
etag_is_valid (const char *v)
{
  gsize len = strlen (v);

  if (len > VALIDATOR_MAX)
    return FALSE;
  if (g_str_has_prefix (v, "W/"))
    {
      v += 2;
      len -= 2;
    }
  if (len < 2 || v[0] != '"' || v[len - 1] != '"')
    return FALSE;
  for (gsize i = 1; i + 1 < len; i++)
    {
      guchar c = (guchar) v[i];
      if (c < 0x21 || c == '"' || c == 0x7f)
        return FALSE;
    }
  return TRUE;
}

static gboolean
date_is_valid (const char *v)
{
  gsize len = strlen (v);

  if (len == 0 || len > 64)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar) v[i] < 0x20 || (guchar) v[i] > 0x7e)
      return FALSE;
  return curl_getdate (v, NULL) > 0;
}

static gboolean
validator_is_valid (const char *v)
{
  return v != NULL && (v[0] == '"' || g_str_has_prefix (v, "W/") ? etag_is_valid (v)
                                                                   : date_is_valid (v));
}

/* A validator good for If-Range: a strong ETag, else Last-Modified. */
static const char *
response_validator (QmgrTransfer *t)
{
  if (t->etag != NULL && !g_str_has_prefix (t->etag, "W/"))
    return t->etag;
  return t->last_modified;
}

/* Whether a 206 comes from another version of the file than the one whose bytes
 * we hold: its validator of the kind we asked If-Range with differs. A server
 * that ignores If-Range answers with the range of its current file; only this
 * comparison keeps those bytes from being spliced onto the old ones. */
static gboolean
validator_changed (QmgrTransfer *t)
{
  if (t->validator == NULL)
    return FALSE;
  if (t->validator[0] == '"')
    return t->etag != NULL && strcmp (t->validator, t->etag) != 0;
  /* A Last-Modified date: the same instant, however the server spells it. */
  if (t->last_modified == NULL || strcmp (t->validator, t->last_modified) == 0)
    return FALSE;
  time_t ours = curl_getdate (t->validator, NULL);
  return ours == -1 || ours != curl_getdate (t->last_modified, NULL);
}

/* Decides, before the first body byte is kept, what the answer means; TRUE
 * when its body is to be kept, once the caller recorded the response. */
static gboolean
evaluate_response (QmgrTransfer *t)
{
  long status = 0;
  curl_off_t length = -1;
  gboolean restarted = FALSE;

  t->evaluated = TRUE;
  curl_easy_getinfo (t->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo (t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);

  if (status == 206)
    {
      guint64 start, end, total;
      if (t->offset == 0 || !parse_content_range (t->content_range, &start, &end, &total) ||
          start != t->offset || (total != QMGR_SIZE_UNKNOWN && end >= total) ||
          validator_changed (t))
        {
          /* Not the bytes we asked for, or not of the same file: never splice. */
          t->restart = TRUE;
          return FALSE;
        }
      t->bytes_total = total;
      t->range_end = end + 1;
    }
  else if (status == 200)
    {
      if (t->offset > 0)
        {
          /* A full answer to a ranged request: the file changed or ranges are
           * not supported. Start again from byte 0 with this very body. */
          if (ftruncate (t->fd, 0) < 0)
            {
              t->write_errno = errno;
              return FALSE;
            }
          t->offset = 0;
          restarted = TRUE;
        }
      t->bytes_total = length >= 0 ? (guint64) length : QMGR_SIZE_UNKNOWN;
    }
  else
    {
      t->http_error = TRUE;
      return FALSE;
    }
  if (t->callbacks.response != NULL)
    t->callbacks.response (t, t->bytes_total, response_validator (t), restarted, t->user_data);
  return TRUE;
}

/* Held by us: libcurl keeps the bytes it offered and hands them over again
 * once unpaused; the server is not stalled meanwhile. */
static size_t
hold (QmgrTransfer *t)
{
  g_source_set_ready_time (t->stall, -1);
  return CURL_WRITEFUNC_PAUSE;
}

/* Lets a held transfer go on, unless something still holds it. Not from
 * inside a libcurl callback. */
static void
release (QmgrTransfer *t)
{
  CURLcode code;

  if (t->held || t->waiting_budget)
    return;
  /* The server gets a full stall_timeout again. Before unpausing, which may
   * deliver held bytes and pause again at once. */
  t->last_byte = g_get_monotonic_time ();
  g_source_set_ready_time (t->stall, t->last_byte + t->stall_us);
  code = curl_easy_pause (t->easy, CURLPAUSE_CONT);
  if (code != CURLE_OK)
    g_warning ("Could not resume a transfer: %s", curl_easy_strerror (code));
}

/* ---- the connection ---- */

/* Clamps or unclamps the connection's receive buffer as the transfer needs.
 * The mark stays with the socket, which libcurl may hand to a later transfer
 * of the other kind. */
static void
apply_background (QmgrTransfer *t)
{
  GHashTable *clamped = t->engine->clamped;
  gboolean is = g_hash_table_contains (clamped, GINT_TO_POINTER (t->sock));
  gboolean want = t->background && t->sock_local == 0;

  if (t->sock == CURL_SOCKET_BAD || want == is)
    return;
  if (!qmgr_tcp_set_background (t->sock, want))
    g_debug ("Could not set the receive buffer of a connection: %s", g_strerror (errno));
  if (want)
    g_hash_table_add (clamped, GINT_TO_POINTER (t->sock));
  else
    g_hash_table_remove (clamped, GINT_TO_POINTER (t->sock));
}

/* The connection libcurl watches for the transfer: a new one is looked at
 * once. From libcurl's socket callback: no libcurl call here. */
static void
watch_socket (QmgrTransfer *t, curl_socket_t sock)
{
  guint32 rtt;

  if (sock != t->sock && t->loopback)
    {
      /* Nothing to clamp or sample, and no system call per file (B2). */
      t->sock = sock;
      t->sock_local = 1;
    }
  if (sock != t->sock)
    {
      t->sock = sock;
      t->sock_local = -1;
      /* What it received before (for an earlier transfer) is not ours; a
       * socket still connecting has received nothing. */
      if (!qmgr_tcp_read_info (sock, &rtt, &t->sock_received))
        t->sock_received = 0;
    }
  /* Clamped once it is known to cross a link: when connected. */
  if (t->sock_local < 0)
    {
      t->sock_local = qmgr_tcp_is_local (sock);
      apply_background (t);
    }
}

void
qmgr_transfer_set_background (QmgrTransfer *t, gboolean background)
{
  if (t == NULL || t->background == background)
    return;
  t->background = background;
  apply_background (t);
}

void
qmgr_transfer_sample (QmgrTransfer *t, QmgrTransferSample *sample)
{
  guint64 received;

  memset (sample, 0, sizeof *sample);
  if (t == NULL || t->sock == CURL_SOCKET_BAD)
    return;
  sample->local = t->sock_local == 1;
  if (sample->local || !qmgr_tcp_read_info (t->sock, &sample->rtt_us, &received))
    return;
  sample->bytes_received = received >= t->sock_received ? received - t->sock_received : 0;
  t->sock_received = received;
}

/* Every socket libcurl closes passes here, so that a clamp mark never stays
 * on a number the kernel gives to another socket. */
static int
on_close_socket (void *clientp, curl_socket_t sock)
{
  QmgrTransferEngine *e = clientp;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_remove (e->clamped, GINT_TO_POINTER (sock));
  /* Its number may come back for another socket. */
  g_hash_table_iter_init (&iter, e->transfers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((QmgrTransfer *) value)->sock == sock)
      ((QmgrTransfer *) value)->sock = CURL_SOCKET_BAD;
  return close (sock);
}

static void
replace_string (char **field, const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

static size_t
on_header (char *buffer, size_t size, size_t n, void *userdata)
{
  QmgrTransfer *t = userdata;
  gsize len = size * n;
  g_autofree char *line = g_strndup (buffer, len);
  char *colon;

  t->last_byte = g_get_monotonic_time ();  /* a few lines per response: cheap */
  g_strchomp (line);
  if (g_str_has_prefix (line, "HTTP/"))
    {
      /* A new response (after a redirect or an interim answer). */
      g_clear_pointer (&t->etag, g_free);
      g_clear_pointer (&t->last_modified, g_free);
      g_clear_pointer (&t->content_range, g_free);
      t->retry_after = 0;
      return len;
    }
  colon = strchr (line, ':');
  if (colon == NULL)
    return len;
  *colon = '\0';
  colon = g_strstrip (colon + 1);
  if (g_ascii_strcasecmp (line, "ETag") == 0)
    replace_string (&t->etag, etag_is_valid (colon) ? colon : NULL);
  else if (g_ascii_strcasecmp (line, "Last-Modified") == 0)
    replace_string (&t->last_modified, date_is_valid (colon) ? colon : NULL);
  else if (g_ascii_strcasecmp (line, "Content-Range") == 0)
    replace_string (&t->content_range, colon);
  else if (g_ascii_strcasecmp (line, "Retry-After") == 0)
    {
      guint64 secs;
      if (g_ascii_string_to_unsigned (colon, 10, 0, G_MAXUINT64, &secs, NULL))
        t->retry_after = (guint32) MIN (secs, (guint64) RETRY_AFTER_MAX_S);
      else
        {
          time_t when = curl_getdate (colon, NULL);
          time_t now = time (NULL);
          if (when > now)
            t->retry_after = (guint32) MIN (when - now, (time_t) RETRY_AFTER_MAX_S);
        }
    }
  return len;
}

static size_t
on_body (char *data, size_t size, size_t n, void *userdata)
{
  QmgrTransfer *t = userdata;
  gsize len = size * n;

  if (!t->evaluated && evaluate_response (t) && t->callbacks.response != NULL)
    {
      t->held = TRUE;   /* until qmgr_transfer_continue() */
      return hold (t);
    }
  if (t->http_error || t->restart || t->write_errno != 0)
    return 0;  /* abort: the outcome is decided by the flags */
  if (t->held)
    return hold (t);
  if (!t->unlimited && t->budget <= 0)
    {
      t->waiting_budget = TRUE;
      if (t->callbacks.budget_spent != NULL)
        t->callbacks.budget_spent (t, t->budget_used, t->user_data);
      return hold (t);
    }

  if (t->range_end > 0 && t->offset + t->written + len > t->range_end)
    {
      /* More than the range announced: never a byte past it. */
      len = (gsize) (t->range_end - (t->offset + t->written));
      t->overlong = TRUE;
    }
  t->write_errno = qmgr_io_write_all (t->fd, data, len, (gint64) (t->offset + t->written));
  if (t->write_errno != 0)
    return 0;
  t->written += len;
  if (!t->unlimited)
    {
      t->budget -= (gint64) len;
      t->budget_used += len;
    }
  if (t->callbacks.progress != NULL)
    t->callbacks.progress (t, t->offset + t->written, t->user_data);
  /* After progress: a stall is then never judged before the caller's own
   * no-progress clock, stamped in that callback, has run as long. */
  t->last_byte = g_get_monotonic_time ();
  return t->overlong ? 0 : size * n;
}

static void
finish (QmgrTransfer *t, CURLcode code)
{
  QmgrTransferResult r;
  char buf[128];
  long status = 0;

  if (!t->evaluated && code == CURLE_OK)
    evaluate_response (t);  /* an empty body never reached on_body */
  curl_easy_getinfo (t->easy, CURLINFO_RESPONSE_CODE, &status);
  result_init (t, &r);

  if (t->restart)
    fail (&r, QMGR_TRANSFER_RESTART, QMGR_TRANSFER_ERROR_BAD_RESPONSE,
          "The server sent other bytes than asked for; starting again from byte 0");
  else if (t->http_error && status == 416 && t->offset > 0)
    {
      guint64 start, end, total;
      if (parse_content_range (t->content_range, &start, &end, &total) && total == t->offset)
        {
          /* Everything was already here. */
          r.bytes_total = total;
          r.outcome = QMGR_TRANSFER_OK;
        }
      else
        fail (&r, QMGR_TRANSFER_RESTART, QMGR_TRANSFER_ERROR_HTTP_STATUS,
              "The server refused the range; starting again from byte 0");
    }
  else if (t->http_error)
    classify_status (t, status, &r, buf, sizeof buf);
  else if (t->overlong)
    {
      g_snprintf (buf, sizeof buf,
                  "The server sent more bytes than the range it announced (up to byte %"
                  G_GUINT64_FORMAT "); the rest was not kept", t->range_end - 1);
      fail (&r, QMGR_TRANSFER_TRANSIENT, QMGR_TRANSFER_ERROR_BAD_RESPONSE, buf);
    }
  else if (t->write_errno != 0)
    classify_curl_error (t, CURLE_WRITE_ERROR, &r);
  else if (t->stalled)
    {
      classify_curl_error (t, CURLE_OPERATION_TIMEDOUT, &r);
      g_snprintf (buf, sizeof buf, "Timeout was reached: no data for %" G_GINT64_FORMAT " s",
                  t->stall_us / G_USEC_PER_SEC);
      r.message = buf;
    }
  else if (code != CURLE_OK)
    classify_curl_error (t, code, &r);
  else if (t->bytes_total != QMGR_SIZE_UNKNOWN && t->offset + t->written != t->bytes_total)
    fail (&r, QMGR_TRANSFER_TRANSIENT, QMGR_TRANSFER_ERROR_BAD_RESPONSE,
          "The server sent fewer bytes than it announced");
  else
    {
      r.outcome = QMGR_TRANSFER_OK;
      r.bytes_total = t->offset + t->written;
    }
  t->callbacks.done (t, &r, t->user_data);
}

/* ---- the loop glue ---- */

/* Takes @t out of the multi, reports its outcome and frees it. Not from inside a
 * libcurl callback. */
static void
complete (QmgrTransfer *t, CURLcode code)
{
  CURLMcode mc;

  g_hash_table_remove (t->engine->transfers, t->easy);
  mc = curl_multi_remove_handle (t->engine->multi, t->easy);
  if (mc != CURLM_OK)
    g_warning ("libcurl could not let go of a transfer: %s", curl_multi_strerror (mc));
  finish (t, code);
  qmgr_transfer_cancel (t);  /* frees; already out of the multi */
}

static gboolean
stall_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  QmgrTransfer *t = ((StallSource *) source)->transfer;
  gint64 deadline = t->last_byte + t->stall_us;

  if (t->held || t->waiting_budget)
    {
      g_source_set_ready_time (source, -1);
      return G_SOURCE_CONTINUE;
    }
  if (g_get_monotonic_time () < deadline)
    {
      /* Bytes came since the timer was set: wait for the new deadline. */
      g_source_set_ready_time (source, deadline);
      return G_SOURCE_CONTINUE;
    }
  /* The main loop holds a reference to this source while it dispatches, so the
   * transfer (and with it this source) may be freed here. */
  g_source_set_ready_time (source, -1);
  t->stalled = TRUE;
  complete (t, CURLE_OPERATION_TIMEDOUT);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs stall_source_funcs = {
  .dispatch = stall_source_dispatch,
};

static void
drain_completions (QmgrTransferEngine *e)
{
  CURLMsg *msg;
  int left;

  while ((msg = curl_multi_info_read (e->multi, &left)) != NULL)
    {
      QmgrTransfer *t;

      if (msg->msg != CURLMSG_DONE)
        continue;
      t = g_hash_table_lookup (e->transfers, msg->easy_handle);
      if (t == NULL)
        continue;
      /* msg is invalid once the handle is removed: complete() gets a copy. */
      complete (t, msg->data.result);
    }
}

static int
on_socket (CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
  QmgrTransferEngine *e = userp;
  QmgrTransfer *t = g_hash_table_lookup (e->transfers, easy);
  GIOCondition cond = 0;

  if (t != NULL && what != CURL_POLL_REMOVE)
    watch_socket (t, s);
  if (what == CURL_POLL_REMOVE)
    {
      if (socketp != NULL)
        g_source_remove_unix_fd (e->source, socketp);
      g_hash_table_remove (e->sockets, GINT_TO_POINTER (s));
      return curl_multi_assign (e->multi, s, NULL) == CURLM_OK ? 0 : -1;
    }
  if (what & CURL_POLL_IN)
    cond |= G_IO_IN;
  if (what & CURL_POLL_OUT)
    cond |= G_IO_OUT;
  cond |= G_IO_ERR | G_IO_HUP;
  if (socketp == NULL)
    {
      gpointer tag = g_source_add_unix_fd (e->source, s, cond);
      g_hash_table_insert (e->sockets, GINT_TO_POINTER (s), tag);
      if (curl_multi_assign (e->multi, s, tag) != CURLM_OK)
        {
          /* libcurl no longer knows the socket: -1 fails its transfer. */
          g_source_remove_unix_fd (e->source, tag);
          g_hash_table_remove (e->sockets, GINT_TO_POINTER (s));
          return -1;
        }
    }
  else
    g_source_modify_unix_fd (e->source, socketp, cond);
  return 0;
}

static int
on_timer (CURLM *multi, long timeout_ms, void *userp)
{
  QmgrTransferEngine *e = userp;

  /* Always called on the main loop's thread, which calls prepare() again
   * before it next polls: no wake-up needed. */
  e->timer_due = timeout_ms < 0 ? -1 : g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  return 0;
}

static gboolean
engine_source_prepare (GSource *source, gint *timeout)
{
  QmgrTransferEngine *e = ((EngineSource *) source)->engine;
  gint64 now;

  *timeout = -1;
  if (e->timer_due < 0)
    return FALSE;
  now = g_source_get_time (source);
  if (e->timer_due <= now)
    return TRUE;
  /* Rounded up: waking before the deadline would only poll again. */
  *timeout = (gint) MIN ((e->timer_due - now + 999) / 1000, G_MAXINT);
  return FALSE;
}

static gboolean
engine_source_check (GSource *source)
{
  /* Ready sockets make the source dispatch without this. */
  QmgrTransferEngine *e = ((EngineSource *) source)->engine;
  return e->timer_due >= 0 && e->timer_due <= g_source_get_time (source);
}

typedef struct {
  curl_socket_t fd;
  int events;
} Ready;

/* A failed socket action is libcurl's own trouble (memory, a socket it lost
 * track of); the transfers it concerns end through curl_multi_info_read. */
static void
check_multi (CURLMcode code)
{
  if (code != CURLM_OK)
    g_warning ("libcurl: %s", curl_multi_strerror (code));
}

static gboolean
engine_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  QmgrTransferEngine *e = ((EngineSource *) source)->engine;
  g_autoptr(GArray) ready = g_array_new (FALSE, FALSE, sizeof (Ready));
  GHashTableIter iter;
  gpointer key, tag;
  gboolean timer_expired = engine_source_check (source);
  int running;

  /* A fired timer is spent now: libcurl calls on_timer only when its next
   * deadline differs from the last one it reported, so one it reports during
   * the socket actions below must survive. */
  if (timer_expired)
    e->timer_due = -1;
  /* Collect first: curl_multi_socket_action changes the watch set. */
  g_hash_table_iter_init (&iter, e->sockets);
  while (g_hash_table_iter_next (&iter, &key, &tag))
    {
      GIOCondition revents = g_source_query_unix_fd (source, tag);
      Ready r = { GPOINTER_TO_INT (key), 0 };

      if (revents == 0)
        continue;
      if (revents & G_IO_IN)
        r.events |= CURL_CSELECT_IN;
      if (revents & G_IO_OUT)
        r.events |= CURL_CSELECT_OUT;
      if (revents & (G_IO_ERR | G_IO_HUP))
        r.events |= CURL_CSELECT_ERR;
      g_array_append_val (ready, r);
    }
  for (guint i = 0; i < ready->len; i++)
    {
      Ready *r = &g_array_index (ready, Ready, i);
      check_multi (curl_multi_socket_action (e->multi, r->fd, r->events, &running));
    }
  if (timer_expired)
    check_multi (curl_multi_socket_action (e->multi, CURL_SOCKET_TIMEOUT, 0, &running));
  drain_completions (e);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs engine_source_funcs = {
  .prepare = engine_source_prepare,
  .check = engine_source_check,
  .dispatch = engine_source_dispatch,
};

QmgrTransferEngine *
qmgr_transfer_engine_new (GError **error)
{
  g_autoptr(CURLM) multi = NULL;
  QmgrTransferEngine *e;
  static gsize curl_ready = 0;

  if (g_once_init_enter (&curl_ready))
    {
      CURLcode code = curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&curl_ready, code == CURLE_OK ? 1 : 2);
    }
  if (curl_ready != 1)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_DOWNLOADER_UNAVAILABLE,
                   "libcurl could not be initialized");
      return NULL;
    }

  multi = curl_multi_init ();
  if (multi == NULL)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_DOWNLOADER_UNAVAILABLE,
                   "libcurl could not create a transfer handle");
      return NULL;
    }
  e = g_new0 (QmgrTransferEngine, 1);
  e->timer_due = -1;
  {
    CURLMcode code;
    if ((code = curl_multi_setopt (multi, CURLMOPT_SOCKETFUNCTION, on_socket)) != CURLM_OK ||
        (code = curl_multi_setopt (multi, CURLMOPT_SOCKETDATA, e)) != CURLM_OK ||
        (code = curl_multi_setopt (multi, CURLMOPT_TIMERFUNCTION, on_timer)) != CURLM_OK ||
        (code = curl_multi_setopt (multi, CURLMOPT_TIMERDATA, e)) != CURLM_OK ||
        (code = curl_multi_setopt (multi, CURLMOPT_PIPELINING, (long) CURLPIPE_MULTIPLEX)) != CURLM_OK)
      {
        g_free (e);
        g_set_error (error, QMGR_ERROR, QMGR_ERROR_DOWNLOADER_UNAVAILABLE,
                     "libcurl could not be set up: %s", curl_multi_strerror (code));
        return NULL;
      }
  }
  e->multi = g_steal_pointer (&multi);
  e->transfers = g_hash_table_new (g_direct_hash, g_direct_equal);
  e->sockets = g_hash_table_new (g_direct_hash, g_direct_equal);
  e->clamped = g_hash_table_new (g_direct_hash, g_direct_equal);
  e->source = g_source_new (&engine_source_funcs, sizeof (EngineSource));
  ((EngineSource *) e->source)->engine = e;
  g_source_set_name (e->source, "curl");
  g_source_attach (e->source, g_main_context_get_thread_default ());
  return e;
}

void
qmgr_transfer_engine_free (QmgrTransferEngine *e)
{
  GHashTableIter iter;
  gpointer t;

  if (e == NULL)
    return;
  g_hash_table_iter_init (&iter, e->transfers);
  while (g_hash_table_iter_next (&iter, NULL, &t))
    {
      g_hash_table_iter_steal (&iter);
      qmgr_transfer_cancel (t);
    }
  curl_multi_cleanup (e->multi);   /* closes the pooled connections (on_close_socket) */
  g_source_destroy (e->source);
  g_source_unref (e->source);
  g_hash_table_unref (e->transfers);
  g_hash_table_unref (e->sockets);
  g_hash_table_unref (e->clamped);
  g_free (e);
}

/* localhost, 127.0.0.0/8, ::1 (and names under .localhost, RFC 6761). */
static gboolean
url_is_loopback (const char *url)
{
  CURLU *u = curl_url ();
  char *host = NULL;
  gboolean loopback = FALSE;

  if (u != NULL && curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get (u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
    loopback = g_ascii_strcasecmp (host, "localhost") == 0 ||
               g_str_has_suffix (host, ".localhost") || g_str_has_prefix (host, "127.") ||
               strcmp (host, "[::1]") == 0;
  curl_free (host);
  curl_url_cleanup (u);
  return loopback;
}

/* Everything libcurl needs to know about the transfer; the first option it
 * refuses is returned. */
static CURLcode
set_up (QmgrTransfer *t, const QmgrTransferRequest *req)
{
  CURL *c = t->easy;
  CURLcode code;

#define SET(option, value)                                     \
  G_STMT_START {                                               \
    if ((code = curl_easy_setopt (c, option, value)) != CURLE_OK) \
      return code;                                             \
  } G_STMT_END
  SET (CURLOPT_URL, req->url);
  SET (CURLOPT_PROTOCOLS_STR, "http,https");
  SET (CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  SET (CURLOPT_FOLLOWLOCATION, 1L);
  SET (CURLOPT_MAXREDIRS, (long) MAX_REDIRECTS);
  SET (CURLOPT_SSL_VERIFYPEER, 1L);
  SET (CURLOPT_SSL_VERIFYHOST, 2L);
  SET (CURLOPT_NOSIGNAL, 1L);
  /* Chosen before there is a socket to ask: by the URL's host. A loopback
   * transfer yields to nobody and pays for each read (B1c). */
  SET (CURLOPT_BUFFERSIZE, (long) (req->background && !t->loopback
                                   ? BACKGROUND_RECEIVE_BUFFER : RECEIVE_BUFFER));
  SET (CURLOPT_CONNECTTIMEOUT, (long) CONNECT_TIMEOUT_S);
  SET (CURLOPT_USERAGENT, "qmgrd/" PACKAGE_VERSION);
  SET (CURLOPT_HEADERFUNCTION, on_header);
  SET (CURLOPT_HEADERDATA, t);
  SET (CURLOPT_WRITEFUNCTION, on_body);
  SET (CURLOPT_WRITEDATA, t);
  SET (CURLOPT_PRIVATE, t);
  /* Kept by the connection, which may outlive the transfer in the pool. */
  SET (CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
  SET (CURLOPT_CLOSESOCKETDATA, t->engine);
  /* HTTP/2 where TLS offers it; a libcurl built without it speaks HTTP/1.1. */
  code = curl_easy_setopt (c, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_2TLS);
  if (code != CURLE_OK)
    g_debug ("HTTP/2 is not available: %s", curl_easy_strerror (code));

  t->headers = curl_slist_append (t->headers, "Accept-Encoding: identity");
  if (t->headers == NULL)
    return CURLE_OUT_OF_MEMORY;
  if (t->offset > 0)
    {
      char range[64];
      g_autofree char *if_range = g_strconcat ("If-Range: ", req->validator, NULL);
      struct curl_slist *more = curl_slist_append (t->headers, if_range);

      if (more == NULL)
        return CURLE_OUT_OF_MEMORY;
      t->headers = more;
      g_snprintf (range, sizeof range, "%" G_GUINT64_FORMAT "-", t->offset);
      SET (CURLOPT_RANGE, range);
    }
  SET (CURLOPT_HTTPHEADER, t->headers);
  if (req->user != NULL && req->user[0] != '\0')
    {
      SET (CURLOPT_USERNAME, req->user);
      SET (CURLOPT_PASSWORD, req->password != NULL ? req->password : "");
      SET (CURLOPT_HTTPAUTH, (long) CURLAUTH_ANY);
    }
#undef SET
  return CURLE_OK;
}

static gboolean
on_setup_failed (gpointer user_data)
{
  QmgrTransfer *t = user_data;
  QmgrTransferResult r;

  t->fail_source = 0;
  result_init (t, &r);
  classify_curl_error (t, t->setup_error, &r);
  t->callbacks.done (t, &r, t->user_data);
  qmgr_transfer_cancel (t);
  return G_SOURCE_REMOVE;
}

QmgrTransfer *
qmgr_transfer_start (QmgrTransferEngine *e, const QmgrTransferRequest *req,
                     const QmgrTransferCallbacks *callbacks, gpointer user_data)
{
  QmgrTransfer *t = g_new0 (QmgrTransfer, 1);
  CURLMcode mc;

  t->engine = e;
  t->callbacks = *callbacks;
  t->user_data = user_data;
  t->fd = req->fd;
  t->bytes_total = QMGR_SIZE_UNKNOWN;
  t->unlimited = req->budget < 0;
  t->budget = req->budget;
  t->background = req->background;
  t->loopback = url_is_loopback (req->url);
  t->sock = CURL_SOCKET_BAD;
  /* Without a validator a resume could splice two versions: start over. One
   * that is not a well-formed header value is never sent back. */
  if (validator_is_valid (req->validator))
    {
      t->offset = req->offset;
      t->validator = g_strdup (req->validator);
    }
  if (t->offset == 0 && req->offset > 0 && ftruncate (t->fd, 0) < 0)
    t->write_errno = errno;

  t->stall_us = (gint64) (req->stall_timeout > 0 ? req->stall_timeout : STALL_TIMEOUT_S) *
                G_USEC_PER_SEC;
  t->last_byte = g_get_monotonic_time ();
  t->stall = g_source_new (&stall_source_funcs, sizeof (StallSource));
  ((StallSource *) t->stall)->transfer = t;
  g_source_set_name (t->stall, "transfer stall");
  g_source_attach (t->stall, g_source_get_context (e->source));

  t->easy = curl_easy_init ();
  t->setup_error = t->easy == NULL ? CURLE_OUT_OF_MEMORY : set_up (t, req);
  if (t->setup_error == CURLE_OK)
    {
      mc = curl_multi_add_handle (e->multi, t->easy);   /* libcurl sets its timer to start it */
      if (mc == CURLM_OK)
        {
          g_hash_table_insert (e->transfers, t->easy, t);
          g_source_set_ready_time (t->stall, t->last_byte + t->stall_us);
          return t;
        }
      g_debug ("libcurl could not start a transfer: %s", curl_multi_strerror (mc));
      t->setup_error = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
    }
  t->fail_source = g_idle_add (on_setup_failed, t);
  return t;
}

void
qmgr_transfer_continue (QmgrTransfer *t, gboolean ok)
{
  if (t == NULL || !t->held)
    return;
  t->held = FALSE;
  if (!ok)
    t->write_errno = EIO;   /* what the body is could not be recorded: keep none of it */
  release (t);
}

void
qmgr_transfer_set_budget (QmgrTransfer *t, gint64 budget)
{
  if (t == NULL)
    return;
  t->unlimited = budget < 0;
  t->budget = budget;
  t->budget_used = 0;
  if (t->waiting_budget && (t->unlimited || budget > 0))
    {
      t->waiting_budget = FALSE;
      release (t);
    }
}

void
qmgr_transfer_cancel (QmgrTransfer *t)
{
  if (t == NULL)
    return;
  if (t->fail_source != 0)
    g_source_remove (t->fail_source);
  if (t->easy != NULL && g_hash_table_remove (t->engine->transfers, t->easy))
    {
      CURLMcode mc = curl_multi_remove_handle (t->engine->multi, t->easy);
      if (mc != CURLM_OK)
        g_warning ("libcurl could not let go of a transfer: %s", curl_multi_strerror (mc));
    }
  if (t->stall != NULL)
    {
      g_source_destroy (t->stall);
      g_source_unref (t->stall);
    }
  if (t->easy != NULL)
    curl_easy_cleanup (t->easy);
  curl_slist_free_all (t->headers);
  g_free (t->validator);
  g_free (t->etag);
  g_free (t->last_modified);
  g_free (t->content_range);
  g_free (t);
}
