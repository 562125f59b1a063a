/* qmgrd integration tests — docs/targets.md R2: every fault the test server injects ends
 * in its documented state (docs/dbus-api.md "Errors" and "Notifications", docs/architecture.md
 * "Failures and retries"): complete and byte-exact, a transient retry (Status 0x80,
 * WaitReason "retrying", LastError, num_retries), or a fatal error (0x380, the error
 * name and codes, OnStatus); a destination is never spliced or truncated. */
#include "it-util.h"
#include "qmgr-test-server.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GROUP QMGR_TEST_GROUP_IFACE
#define JOB QMGR_TEST_JOB_IFACE
#define DEADLINE_MS 20000
#define NO_FILE 0xFFFFFFFFu
#define ANY G_MAXUINT32   /* a code the test does not check */
#define TRANSFER_ERROR(name) "io.github.qmgrd.QMgr1.Transfer." name

#define SIZE (256 * 1024)
#define PARTIAL (96 * 1024)
#define LM1 G_GINT64_CONSTANT (1700000000)      /* Tue, 14 Nov 2023 22:13:20 GMT */
#define LM1_HTTP "Tue, 14 Nov 2023 22:13:20 GMT"
#define LM2 G_GINT64_CONSTANT (1700003600)

/* ---- one file of one group, served by a fault-injecting server ---- */

typedef struct {
  QmgrTestDaemon *d;
  QmgrTestServer *server;
  ItRecorder *rec;
  ItGroup *g;
  char *route;
  char *dest;
  char *temp;
  GBytes *content;     /* what the server serves at route */
} Case;

static void
case_free (Case *c)
{
  it_recorder_free (c->rec);
  it_group_free (c->g);
  qmgr_test_server_free (c->server);
  g_free (c->route);
  g_free (c->dest);
  g_free (c->temp);
  g_bytes_unref (c->content);
  g_free (c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Case, case_free)

/* docs/architecture.md: <dir>/.qmgrd-<job guid hex>-<file index>.part */
static char *
temp_path_for (ItGroup *g, const char *dest, guint index)
{
  g_autofree char *hex = it_guid_hex (g->job_id);
  g_autofree char *name = g_strdup_printf (".qmgrd-%s-%u.part", hex, index);
  g_autofree char *dir = g_path_get_dirname (dest);

  return g_build_filename (dir, name, NULL);
}

/* A group with one file: @route on a new server (the file served with @etag and
 * @last_modified unless @content_size is 0), MinimumRetryDelay 1 s. @url overrides
 * the server's URL when not NULL. */
static Case *
case_new_full (ItFixture *f, const char *route, gsize content_size, guint32 seed,
               const char *etag, gint64 last_modified, const char *url)
{
  Case *c = g_new0 (Case, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *server_url = NULL;

  c->d = f->d;
  c->server = qmgr_test_server_new ();
  c->route = g_strdup (route);
  if (content_size > 0)
    {
      c->content = qmgr_test_make_content (content_size, seed);
      qmgr_test_server_add_file (c->server, route, c->content, etag, last_modified);
    }
  c->g = it_group_create (f->d, TRUE);
  it_set_group_u (f->d, c->g, "MinimumRetryDelay", 1);
  c->dest = it_file (f->d, route + 1);
  c->temp = temp_path_for (c->g, c->dest, 0);
  server_url = qmgr_test_server_get_url_for (c->server, route);
  it_add_file (f->d, c->g->job_path, url ? url : server_url, c->dest, content_size, &error);
  g_assert_no_error (error);
  c->rec = it_recorder_new (f->d);
  return c;
}

static Case *
case_new (ItFixture *f, const char *route, const char *etag, gint64 last_modified)
{
  return case_new_full (f, route, SIZE, 1, etag, last_modified, NULL);
}

/* The server's file changes: new content (same size, other bytes), validators. */
static void
case_replace_content (Case *c, GBytes *content, const char *etag, gint64 last_modified)
{
  g_clear_pointer (&c->content, g_bytes_unref);
  c->content = g_bytes_ref (content);
  qmgr_test_server_add_file (c->server, c->route, content, etag, last_modified);
}

static void
set_fault (Case *c, QmgrTestFaultKind kind, guint64 param, guint times)
{
  QmgrTestFault fault = { .kind = kind, .param = param, .times = times };

  qmgr_test_server_set_fault (c->server, c->route, &fault);
}

static void
set_status_fault (Case *c, guint status, guint retry_after, guint times)
{
  QmgrTestFault fault = {
    .kind = QMGR_FAULT_STATUS, .status = status, .retry_after = retry_after, .times = times,
  };

  qmgr_test_server_set_fault (c->server, c->route, &fault);
}

static void
clear_fault (Case *c)
{
  qmgr_test_server_set_fault (c->server, c->route, NULL);
}

static void
resume (Case *c)
{
  it_call_void (c->d, c->g->path, GROUP, "ResumeGroup", NULL);
}

static char *
last_header (Case *c, const char *name)
{
  return qmgr_test_server_get_last_request_header (c->server, c->route, name);
}

static guint
requests (Case *c)
{
  return qmgr_test_server_get_request_count (c->server, c->route);
}

/* ---- reading the daemon's state ---- */

typedef struct {
  guint32 status, win32, transport, retries;
} JobStatus;

static JobStatus
job_get_status (Case *c)
{
  g_autoptr(GVariant) reply = it_call_ok (c->d, c->g->job_path, JOB, "GetStatus", NULL,
                                          "(uuuu)");
  JobStatus s;

  g_variant_get (reply, "(uuuu)", &s.status, &s.win32, &s.transport, &s.retries);
  return s;
}

static char *
job_last_error_name (Case *c)
{
  g_autoptr(GVariant) v = it_get_property (c->d, c->g->job_path, JOB, "LastError");
  char *name = NULL;

  g_variant_get (v, "(ss)", &name, NULL);
  return name;
}

static char *
wait_reason (Case *c)
{
  return it_get_s (c->d, c->g->path, GROUP, "WaitReason");
}

static gboolean
name_in (const char *name, const char *const *names)
{
  return name != NULL && g_strv_contains (names, name);
}

/* ---- signals ---- */

typedef struct {
  guint32 index, status, retries, win32, transport;
  guint position;
} OnStatus;

/* The first OnStatus of the group's job with @index and a status whose bits in
 * @status_mask are @status_value, or FALSE. */
static gboolean
find_on_status (Case *c, guint32 index, guint32 status_mask, guint32 status_value,
                OnStatus *out)
{
  for (guint i = 0; i < c->rec->signals->len; i++)
    {
      ItSignal *s = g_ptr_array_index (c->rec->signals, i);
      const char *job;
      OnStatus o;

      if (g_strcmp0 (s->path, c->g->path) != 0 || g_strcmp0 (s->iface, GROUP) != 0 ||
          g_strcmp0 (s->member, "OnStatus") != 0)
        continue;
      g_assert_cmpstr (g_variant_get_type_string (s->params), ==, "(ouuuuu)");
      g_variant_get (s->params, "(&ouuuuu)", &job, &o.index, &o.status, &o.retries, &o.win32,
                     &o.transport);
      g_assert_cmpstr (job, ==, c->g->job_path);
      o.position = i;
      if (o.index == index && (o.status & status_mask) == status_value)
        {
          if (out != NULL)
            *out = o;
          return TRUE;
        }
    }
  return FALSE;
}

typedef struct {
  Case *c;
  guint32 index, mask, value;
} OnStatusWait;

static gboolean
on_status_seen (gpointer user_data)
{
  OnStatusWait *w = user_data;
  return find_on_status (w->c, w->index, w->mask, w->value, NULL);
}

static gboolean
wait_on_status (Case *c, guint32 index, guint32 mask, guint32 value)
{
  OnStatusWait w = { c, index, mask, value };
  return qmgr_test_wait_until (on_status_seen, &w, DEADLINE_MS);
}

/* Whether a PropertiesChanged of @iface on @path carried @prop with a value for which
 * @match holds. */
static gboolean
saw_change (Case *c, const char *path, const char *iface, const char *prop,
            gboolean (*match) (GVariant *, gconstpointer), gconstpointer data)
{
  for (guint i = 0; i < c->rec->signals->len; i++)
    {
      ItSignal *s = g_ptr_array_index (c->rec->signals, i);
      const char *changed_iface;
      g_autoptr(GVariant) changed = NULL;
      g_autoptr(GVariant) value = NULL;

      if (g_strcmp0 (s->path, path) != 0 || g_strcmp0 (s->member, "PropertiesChanged") != 0)
        continue;
      g_variant_get (s->params, "(&s@a{sv}as)", &changed_iface, &changed, NULL);
      if (g_strcmp0 (changed_iface, iface) != 0)
        continue;
      value = g_variant_lookup_value (changed, prop, NULL);
      if (value != NULL && match (value, data))
        return TRUE;
    }
  return FALSE;
}

static gboolean
is_retrying (GVariant *v, G_GNUC_UNUSED gconstpointer data)
{
  return g_variant_is_of_type (v, G_VARIANT_TYPE_STRING) &&
         strcmp (g_variant_get_string (v, NULL), "retrying") == 0;
}

static gboolean
error_named (GVariant *v, gconstpointer data)
{
  const char *name;

  if (!g_variant_is_of_type (v, G_VARIANT_TYPE ("(ss)")))
    return FALSE;
  g_variant_get (v, "(&ss)", &name, NULL);
  return name_in (name, data);
}

typedef struct {
  Case *c;
  const char *const *names;
} TransientWait;

static gboolean
transient_signals_seen (gpointer user_data)
{
  TransientWait *w = user_data;

  return saw_change (w->c, w->c->g->path, GROUP, "WaitReason", is_retrying, NULL) &&
         saw_change (w->c, w->c->g->job_path, JOB, "LastError", error_named, w->names);
}

/* A transient failure was announced, as it must be: WaitReason "retrying" and a
 * LastError named one of @names, in PropertiesChanged (so even a failure followed by
 * a quick successful retry is seen). */
static void
assert_transient_signals (Case *c, const char *const *names)
{
  TransientWait w = { c, names };
  g_autofree char *joined = g_strjoinv (" or ", (char **) names);

  g_test_message ("waiting for a transient %s", joined);
  g_assert_true (qmgr_test_wait_until (transient_signals_seen, &w, DEADLINE_MS));
}

typedef struct {
  Case *c;
  const char *const *names;
} RetryingWait;

static gboolean
retrying_now (gpointer user_data)
{
  RetryingWait *w = user_data;
  g_autofree char *reason = wait_reason (w->c);
  g_autofree char *name = job_last_error_name (w->c);

  return g_strcmp0 (reason, "retrying") == 0 && name_in (name, w->names);
}

/* The group waits for a retry after a transient failure named one of @names (a
 * fault that lasts): Status 0x80, job 0x8, LastError, GetStatus with the codes and
 * num_retries ≥ 1 (codes ANY are not checked); no OnStatus with ERROR. Returns
 * num_retries. */
static guint32
assert_retrying (Case *c, const char *const *names, guint32 win32, guint32 transport)
{
  RetryingWait w = { c, names };
  JobStatus s;

  g_assert_true (it_poll_until (retrying_now, &w, 10, DEADLINE_MS));
  s = job_get_status (c);
  g_test_message ("retrying: job status 0x%x, win32 %u, transport %u, retries %u", s.status,
                  s.win32, s.transport, s.retries);
  g_assert_cmpuint (it_group_status (c->d, c->g->path), ==, IT_STATUS_GROUP_INCOMPLETE);
  g_assert_cmpuint (s.status, ==, IT_STATUS_JOB_INCOMPLETE);
  if (win32 != ANY)
    g_assert_cmpuint (s.win32, ==, win32);
  if (transport != ANY)
    g_assert_cmpuint (s.transport, ==, transport);
  g_assert_cmpuint (s.retries, >=, 1);
  {
    g_autoptr(GVariant) reply = it_call_ok (c->d, c->g->job_path, JOB, "GetFileStatus",
                                            g_variant_new ("(u)", 0), "(utt(ss))");
    guint32 status;
    const char *name;

    g_variant_get (reply, "(utt(&ss))", &status, NULL, NULL, &name, NULL);
    g_assert_cmpuint (status, ==, IT_STATUS_FILE_INCOMPLETE);
    g_assert_true (name_in (name, names));
  }
  /* Transient failures emit no OnStatus. */
  it_recorder_sync (c->rec);
  g_assert_false (find_on_status (c, 0, IT_STATUS_GROUP_ERROR, IT_STATUS_GROUP_ERROR, NULL));
  g_assert_false (find_on_status (c, NO_FILE, IT_STATUS_GROUP_ERROR, IT_STATUS_GROUP_ERROR,
                                  NULL));
  return s.retries;
}

typedef struct {
  Case *c;
  guint32 at_least;
} RetriesWait;

static gboolean
retries_reached (gpointer user_data)
{
  RetriesWait *w = user_data;
  return job_get_status (w->c).retries >= w->at_least;
}

/* num_retries grows while the fault lasts. */
static void
assert_retries_grow (Case *c, guint32 from)
{
  RetriesWait w = { c, from + 1 };

  g_assert_true (it_poll_until (retries_reached, &w, 10, DEADLINE_MS));
  g_assert_cmpuint (it_group_status (c->d, c->g->path), ==, IT_STATUS_GROUP_INCOMPLETE);
}

/* ---- end states ---- */

static void
assert_no_temp_files (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, ".qmgrd-"))
      {
        g_test_message ("temp file left behind: %s", name);
        g_assert_not_reached ();
      }
}

static void
assert_file_equals (const char *path, GBytes *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (contents, len, g_bytes_get_data (expected, NULL),
                   g_bytes_get_size (expected));
}

/* The destination is absent (@old NULL) or still holds @old: a failed or unfinished
 * download never touches it. */
static void
assert_dest_untouched (Case *c, const char *old)
{
  if (old == NULL)
    g_assert_false (g_file_test (c->dest, G_FILE_TEST_EXISTS));
  else
    {
      g_autoptr(GBytes) bytes = g_bytes_new_static (old, strlen (old));
      assert_file_equals (c->dest, bytes);
    }
}

/* The group completed and the destination holds exactly @expected, with mode
 * 0666 & ~umask and mtime = Last-Modified (@mtime, 0: not checked); signals as
 * docs/dbus-api.md's table says and never an error OnStatus. */
static void
assert_complete (Case *c, GBytes *expected, gint64 mtime)
{
  gsize size = g_bytes_get_size (expected);
  mode_t mask = umask (0);
  OnStatus file_done, group_done;
  struct stat st;

  umask (mask);
  if (!it_wait_property (c->d, c->g->path, GROUP, "Status", g_variant_new_uint32 (0x140),
                         DEADLINE_MS))
    {
      g_autofree char *reason = wait_reason (c);
      g_autofree char *name = job_last_error_name (c);
      g_test_message ("not complete: Status 0x%x, WaitReason %s, LastError %s",
                      it_group_status (c->d, c->g->path), reason, name);
      g_assert_not_reached ();
    }
  g_assert_cmpuint (it_job_status (c->d, c->g->job_path), ==, IT_STATUS_JOB_COMPLETE);
  {
    g_autofree char *reason = wait_reason (c);
    g_assert_cmpstr (reason, ==, "complete");
  }
  {
    g_autoptr(GVariant) reply = it_call_ok (c->d, c->g->job_path, JOB, "GetFileStatus",
                                            g_variant_new ("(u)", 0), "(utt(ss))");
    guint32 status;
    guint64 total, transferred;

    g_variant_get (reply, "(utt(ss))", &status, &total, &transferred, NULL, NULL);
    g_assert_cmpuint (status, ==, IT_STATUS_FILE_COMPLETE);
    g_assert_cmpuint (total, ==, size);
    g_assert_cmpuint (transferred, ==, size);
  }
  assert_file_equals (c->dest, expected);
  g_assert_cmpint (stat (c->dest, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, 0666 & ~mask);
  if (mtime > 0)
    g_assert_cmpint ((gint64) st.st_mtime, ==, mtime);
  {
    g_autofree char *dir = g_path_get_dirname (c->dest);
    assert_no_temp_files (dir);
    assert_no_temp_files (qmgr_test_daemon_get_files_dir (c->d));
  }

  /* OnStatus for the file (the group's Status then: 0x80 or already 0x140), then for
   * the group; no error was ever signalled. */
  g_assert_true (wait_on_status (c, NO_FILE, 0xFFFFFFFFu, 0x140));
  it_recorder_sync (c->rec);
  g_assert_true (find_on_status (c, NO_FILE, 0xFFFFFFFFu, 0x140, &group_done));
  g_assert_true (find_on_status (c, 0, 0xFFFFFFFFu, 0x140, &file_done) ||
                 find_on_status (c, 0, 0xFFFFFFFFu, 0x80, &file_done));
  g_assert_cmpuint (file_done.position, <, group_done.position);
  g_assert_cmpuint (file_done.retries, ==, 0);
  g_assert_cmpuint (file_done.win32, ==, 0);
  g_assert_cmpuint (file_done.transport, ==, 0);
  g_assert_cmpuint (group_done.retries, ==, 0);
  g_assert_cmpuint (group_done.win32, ==, 0);
  g_assert_cmpuint (group_done.transport, ==, 0);
  g_assert_false (find_on_status (c, 0, IT_STATUS_GROUP_ERROR, IT_STATUS_GROUP_ERROR, NULL));
}

/* The group is in error for its file 0: Status 0x380, job 0x18, WaitReason "error",
 * GetStatus (0x18, @win32, @transport, n), LastError and the file's last error named
 * @name, and OnStatus (job, 0, 0x380, n, @win32, @transport). ANY: not checked. */
static void
assert_fatal (Case *c, const char *name, guint32 win32, guint32 transport)
{
  OnStatus o;
  JobStatus s;

  if (!wait_on_status (c, 0, 0xFFFFFFFFu, 0x380))
    {
      g_autofree char *reason = wait_reason (c);
      g_autofree char *last = job_last_error_name (c);
      g_test_message ("no error OnStatus: Status 0x%x, WaitReason %s, LastError %s",
                      it_group_status (c->d, c->g->path), reason, last);
      g_assert_not_reached ();
    }
  g_assert_true (find_on_status (c, 0, 0xFFFFFFFFu, 0x380, &o));
  g_assert_cmpuint (it_group_status (c->d, c->g->path), ==, 0x380);
  g_assert_cmpuint (it_job_status (c->d, c->g->job_path), ==, 0x18);
  {
    g_autofree char *reason = wait_reason (c);
    g_assert_cmpstr (reason, ==, "error");
  }
  s = job_get_status (c);
  g_test_message ("fatal: job status 0x%x, win32 %u, transport %u, retries %u", s.status,
                  s.win32, s.transport, s.retries);
  g_assert_cmpuint (s.status, ==, 0x18);
  if (win32 != ANY)
    {
      g_assert_cmpuint (s.win32, ==, win32);
      g_assert_cmpuint (o.win32, ==, win32);
    }
  if (transport != ANY)
    {
      g_assert_cmpuint (s.transport, ==, transport);
      g_assert_cmpuint (o.transport, ==, transport);
    }
  g_assert_cmpuint (o.retries, ==, s.retries);
  {
    g_autoptr(GVariant) v = it_get_property (c->d, c->g->job_path, JOB, "LastError");
    const char *error_name, *message;

    g_variant_get (v, "(&s&s)", &error_name, &message);
    g_test_message ("LastError: %s: %s", error_name, message);
    g_assert_cmpstr (error_name, ==, name);
    g_assert_cmpstr (message, !=, "");
  }
  {
    g_autoptr(GVariant) reply = it_call_ok (c->d, c->g->job_path, JOB, "GetFileStatus",
                                            g_variant_new ("(u)", 0), "(utt(ss))");
    guint32 status;
    const char *file_error;

    g_variant_get (reply, "(utt(&ss))", &status, NULL, NULL, &file_error, NULL);
    g_assert_cmpuint (status, ==, IT_STATUS_FILE_INCOMPLETE);
    g_assert_cmpstr (file_error, ==, name);
  }
}

/* ---- a partial download ---- */

typedef struct {
  const char *path;
  goffset size;
} SizeWait;

static gboolean
file_has_size (gpointer user_data)
{
  SizeWait *w = user_data;
  struct stat st;

  return stat (w->path, &st) == 0 && st.st_size == w->size;
}

/* The temp file holds the first @size bytes of @content (or less). */
static void
assert_temp_is_prefix (Case *c, GBytes *content)
{
  g_autofree char *data = NULL;
  gsize len;

  if (!g_file_get_contents (c->temp, &data, &len, NULL))
    return;
  g_assert_cmpuint (len, <=, g_bytes_get_size (content));
  g_assert_cmpmem (data, len, g_bytes_get_data (content, NULL), len);
}

/* The first attempt stops after @bytes of the body (the server stalls) and the group
 * is suspended: the temp file keeps exactly those bytes, the destination is absent,
 * and the validators of that first response are in the store. */
static void
make_partial (Case *c, gsize bytes)
{
  SizeWait w = { c->temp, (goffset) bytes };

  set_fault (c, QMGR_FAULT_STALL_AFTER, bytes, 1);
  resume (c);
  g_assert_true (it_poll_until (file_has_size, &w, 10, DEADLINE_MS));
  it_call_void (c->d, c->g->path, GROUP, "SuspendGroup", NULL);
  g_assert_cmpuint (it_group_status (c->d, c->g->path), ==, 0x180);
  g_assert_true (file_has_size (&w));
  assert_temp_is_prefix (c, c->content);
  assert_dest_untouched (c, NULL);
  g_assert_cmpuint (requests (c), ==, 1);
  it_recorder_sync (c->rec);
  it_recorder_clear (c->rec);
}

static void
assert_resumed_from (Case *c, gsize offset, const char *if_range)
{
  g_autofree char *range = last_header (c, "Range");
  g_autofree char *expected = g_strdup_printf ("bytes=%" G_GSIZE_FORMAT "-", offset);
  g_autofree char *validator = last_header (c, "If-Range");

  g_assert_cmpstr (range, ==, expected);
  g_assert_cmpstr (validator, ==, if_range);
}

static void
assert_not_ranged (Case *c)
{
  g_autofree char *range = last_header (c, "Range");
  g_autofree char *validator = last_header (c, "If-Range");

  g_assert_null (range);
  g_assert_null (validator);
}

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
