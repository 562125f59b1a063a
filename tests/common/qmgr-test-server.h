/* qmgrd tests — a fault-injecting HTTP/1.1 server on 127.0.0.1 for the transfer
 * engine's tests (docs/targets.md R2). It runs in its own thread with its own
 * GMainContext, so a test thread blocked in a synchronous D-Bus call or iterating its
 * own context never stalls it. Every function here is safe to call from any thread. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _QmgrTestServer QmgrTestServer;

/* Started and listening on 127.0.0.1, on a random free port, on return (asserts). */
QmgrTestServer *qmgr_test_server_new (void);
/* As above on a given port (0 = random); NULL with @error set if it cannot listen. */
QmgrTestServer *qmgr_test_server_new_full (guint port, GError **error);
/* As qmgr_test_server_new_full (0, …), and also listening with TLS on a second random
 * port of 127.0.0.1, with a self-signed certificate made for it (CN and
 * subjectAltName 127.0.0.1, valid from a day ago for a year): a client that verifies
 * certificates must refuse it, for that reason only. The same files, faults and
 * counters answer on both ports. NULL with @error set if GIO has no TLS backend
 * (glib-networking) or either port cannot listen. */
QmgrTestServer *qmgr_test_server_new_tls (GError **error);
/* Closes every connection (stalled ones too), stops and joins the thread. NULL is ok. */
void qmgr_test_server_free (QmgrTestServer *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrTestServer, qmgr_test_server_free)

/* "http://127.0.0.1:PORT", no trailing slash; valid for the server's life. */
const char *qmgr_test_server_get_url (QmgrTestServer *s);
guint qmgr_test_server_get_port (QmgrTestServer *s);
/* get_url + @path (which starts with '/'); free with g_free. */
char *qmgr_test_server_get_url_for (QmgrTestServer *s, const char *path);
/* "https://127.0.0.1:PORT" of a server made by qmgr_test_server_new_tls, else NULL;
 * and the same + @path (free with g_free; NULL without TLS). */
const char *qmgr_test_server_get_https_url (QmgrTestServer *s);
char *qmgr_test_server_get_https_url_for (QmgrTestServer *s, const char *path);

/* Serves @content (referenced, not copied) at @path (e.g. "/a.bin"). Requests are
 * matched on their path as libsoup decodes it: percent-escapes undone ("/a%20b" is
 * "/a b"), dot segments removed, the query string ignored. The same holds for the
 * @path of the other functions. @etag: NULL for none; a value without quotes
 * is quoted ("abc" → "\"abc\""); a "W/" value is sent as is and, being weak, never
 * matches If-Range. @last_modified: unix seconds, 0 for none. Replaces an earlier file
 * at @path: that is how a test makes the "server-side file change".
 *
 * GET and HEAD. Accept-Ranges: bytes. A single range "bytes=N-", "bytes=N-M" or
 * "bytes=-N" gets 206 with Content-Range; a range starting at or past the end gets
 * 416 with "Content-Range: bytes * /SIZE" (no space); several ranges or a malformed
 * Range are ignored (200, full body). If-Range with an entity tag must equal the
 * strong ETag, with a date must equal Last-Modified exactly; otherwise the Range is
 * ignored (200, full body). A path with no file answers 404. */
void qmgr_test_server_add_file (QmgrTestServer *s, const char *path, GBytes *content,
                                const char *etag, gint64 last_modified);
void qmgr_test_server_remove_file (QmgrTestServer *s, const char *path);

/* Deterministic content: the little-endian 64-bit words of a splitmix64 sequence whose
 * state starts at @seed, truncated to @size bytes. */
GBytes *qmgr_test_make_content (gsize size, guint32 seed);

typedef enum {
  QMGR_FAULT_NONE,
  /* Headers, then @param bytes of the body, then a TCP RST (SO_LINGER {1,0} + close,
   * once the client has acknowledged what was sent): the client reads the bytes, then
   * ECONNRESET. */
  QMGR_FAULT_RESET_AFTER,
  /* Headers, then @param bytes of the body, then nothing; the connection stays open
   * until the client closes it or the server is freed. */
  QMGR_FAULT_STALL_AFTER,
  /* Answers @status (500 if 0) with a short text body. @retry_after > 0 adds
   * "Retry-After: N"; a 401 carries WWW-Authenticate: Basic; a 416 carries
   * "Content-Range: bytes * /SIZE" (no space) when the path has a file. */
  QMGR_FAULT_STATUS,
  /* 302 with "Location: @target", sent verbatim (absolute URL, another scheme, or a
   * relative path such as "/b.bin"); "/" if @target is NULL. */
  QMGR_FAULT_REDIRECT,
  /* 302 to the request's own path, for every request while the fault lasts. */
  QMGR_FAULT_REDIRECT_LOOP,
  /* 200 with the full body even to a Range request. */
  QMGR_FAULT_IGNORE_RANGE,
  /* 206 whose Content-Range (and body) start elsewhere than asked: at @param if
   * non-zero and inside the file, else at 0 when the request asked for N > 0, else
   * at 1. Also for a request without Range. */
  QMGR_FAULT_WRONG_CONTENT_RANGE,
  /* Content-Length as usual, but the body stops @param bytes short (at most all of
   * it), then the server closes (FIN). */
  QMGR_FAULT_SHORT_BODY,
  /* Content-Length as usual, but @param extra 'X' bytes follow the body, then FIN. */
  QMGR_FAULT_LONG_BODY,
  /* The request is read, then the connection is closed (FIN) without a byte. */
  QMGR_FAULT_CLOSE_BEFORE_HEADERS,
  /* Basic auth: a request whose Authorization is "Basic base64(@user:@password)" is
   * served normally; any other gets 401 with WWW-Authenticate: Basic realm="qmgr-test". */
  QMGR_FAULT_REQUIRE_AUTH,
  /* The normal response (ranges included), its body sent at @param bytes per second
   * (0 means 1). */
  QMGR_FAULT_SLOW,
  /* If-Range is not looked at: a Range is served from the current file (206) whatever
   * validator came with it, as a server without If-Range support does. The response
   * carries the current file's ETag and Last-Modified. */
  QMGR_FAULT_IGNORE_IF_RANGE,
  /* The normal response (ranges included), written raw with @target appended to its
   * header verbatim: one or more "Name: value" lines joined by "\r\n" (a bare CR or
   * an enormous value is sent as given). With @param > 0, a TCP RST follows that
   * many bytes of the body, as with RESET_AFTER. */
  QMGR_FAULT_RAW_HEADER,
  /* The normal response, but @param extra 'X' bytes follow the body and are counted
   * in Content-Length: a 206 longer than its Content-Range. */
  QMGR_FAULT_LONG_RANGE,
  /* 200 with the full body even to a Range request, then, as RESET_AFTER, a TCP RST
   * after @param bytes: every attempt gets the same first bytes and no further. */
  QMGR_FAULT_RESET_IGNORING_RANGE,
  /* 200 without Content-Length ("Connection: close") and a body that never ends:
   * 'E' bytes for ever (at @param bytes per second; 0: as fast as the client reads),
   * until the client closes. */
  QMGR_FAULT_ENDLESS,
} QmgrTestFaultKind;

/* Responses with RESET_AFTER, STALL_AFTER, SHORT_BODY, LONG_BODY,
 * CLOSE_BEFORE_HEADERS, SLOW, RAW_HEADER, LONG_RANGE, RESET_IGNORING_RANGE and
 * ENDLESS are written raw on the connection taken over from
 * libsoup (soup_server_message_steal_connection), with "Connection: close"; every
 * other response, faulty or not, is libsoup's own (keep-alive). */
typedef struct {
  QmgrTestFaultKind kind;
  guint64 param;            /* bytes, or bytes per second (SLOW) */
  guint status;             /* STATUS */
  guint retry_after;        /* STATUS: seconds; 0 = no Retry-After */
  const char *target;       /* REDIRECT, RAW_HEADER (copied) */
  const char *user;         /* REQUIRE_AUTH (copied) */
  const char *password;     /* REQUIRE_AUTH (copied) */
  guint times;              /* the next N requests for the path (any method), then
                               normal service; 0 = until changed */
} QmgrTestFault;

/* Sets the fault for @path (replacing any); NULL or QMGR_FAULT_NONE removes it. */
void qmgr_test_server_set_fault (QmgrTestServer *s, const char *path,
                                 const QmgrTestFault *fault);

/* What happened at @path since the start (or the last reset_stats). */
guint qmgr_test_server_get_request_count (QmgrTestServer *s, const char *path);
/* Body bytes written to clients for @path, all requests together (the extra bytes
 * of LONG_BODY included; headers never). */
guint64 qmgr_test_server_get_body_bytes_sent (QmgrTestServer *s, const char *path);
/* The named header of the latest request for @path (several fields of one name are
 * joined with ", "), or NULL if absent or no request yet. Free with g_free. */
char *qmgr_test_server_get_last_request_header (QmgrTestServer *s, const char *path,
                                                const char *header);
/* Method of the latest request for @path, or NULL. Free with g_free. */
char *qmgr_test_server_get_last_request_method (QmgrTestServer *s, const char *path);
/* Client connections (TCP, or TLS over TCP) that carried at least one request since
 * the start (or the last reset_stats), all paths together: a keep-alive connection
 * that serves several requests counts once. */
guint qmgr_test_server_get_connection_count (QmgrTestServer *s);
/* Forgets all counters and recorded headers (files and faults stay). */
void qmgr_test_server_reset_stats (QmgrTestServer *s);

/* Block until @path has seen at least @count requests, or until @timeout_ms passed;
 * returns whether it got there. Serves nothing in the calling thread, so only for
 * tests that need no main loop of their own meanwhile. */
gboolean qmgr_test_server_wait_for_requests (QmgrTestServer *s, const char *path,
                                             guint count, guint timeout_ms);
/* Same, for at least @bytes of body written for @path. */
gboolean qmgr_test_server_wait_for_body_bytes (QmgrTestServer *s, const char *path,
                                               guint64 bytes, guint timeout_ms);

G_END_DECLS
