/* qmgrd integration tests — the shared fault-case helpers (it-faults.h). */
#include "it-faults.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- one file of one group, served by a fault-injecting server ---- */


void
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
Case *
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

Case *
case_new (ItFixture *f, const char *route, const char *etag, gint64 last_modified)
{
  return case_new_full (f, route, SIZE, 1, etag, last_modified, NULL);
}

/* The server's file changes: new content (same size, other bytes), validators. */
void
case_replace_content (Case *c, GBytes *content, const char *etag, gint64 last_modified)
{
  g_clear_pointer (&c->content, g_bytes_unref);
  c->content = g_bytes_ref (content);
  qmgr_test_server_add_file (c->server, c->route, content, etag, last_modified);
}

void
set_fault (Case *c, QmgrTestFaultKind kind, guint64 param, guint times)
{
  QmgrTestFault fault = { .kind = kind, .param = param, .times = times };

  qmgr_test_server_set_fault (c->server, c->route, &fault);
}

void
set_status_fault (Case *c, guint status, guint retry_after, guint times)
{
  QmgrTestFault fault = {
    .kind = QMGR_FAULT_STATUS, .status = status, .retry_after = retry_after, .times = times,
  };

  qmgr_test_server_set_fault (c->server, c->route, &fault);
}

void
clear_fault (Case *c)
{
  qmgr_test_server_set_fault (c->server, c->route, NULL);
}

void
resume (Case *c)
{
  it_call_void (c->d, c->g->path, GROUP, "ResumeGroup", NULL);
}

char *
last_header (Case *c, const char *name)
{
  return qmgr_test_server_get_last_request_header (c->server, c->route, name);
}

guint
requests (Case *c)
{
  return qmgr_test_server_get_request_count (c->server, c->route);
}

/* ---- reading the daemon's state ---- */


JobStatus
job_get_status (Case *c)
{
  g_autoptr(GVariant) reply = it_call_ok (c->d, c->g->job_path, JOB, "GetStatus", NULL,
                                          "(uuuu)");
  JobStatus s;

  g_variant_get (reply, "(uuuu)", &s.status, &s.win32, &s.transport, &s.retries);
  return s;
}

char *
job_last_error_name (Case *c)
{
  g_autoptr(GVariant) v = it_get_property (c->d, c->g->job_path, JOB, "LastError");
  char *name = NULL;

  g_variant_get (v, "(ss)", &name, NULL);
  return name;
}

char *
wait_reason (Case *c)
{
  return it_get_s (c->d, c->g->path, GROUP, "WaitReason");
}

gboolean
name_in (const char *name, const char *const *names)
{
  return name != NULL && g_strv_contains (names, name);
}

/* ---- signals ---- */


/* The first OnStatus of the group's job with @index and a status whose bits in
 * @status_mask are @status_value, or FALSE. */
gboolean
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

gboolean
wait_on_status (Case *c, guint32 index, guint32 mask, guint32 value)
{
  OnStatusWait w = { c, index, mask, value };
  return qmgr_test_wait_until (on_status_seen, &w, DEADLINE_MS);
}

/* Whether a PropertiesChanged of @iface on @path carried @prop with a value for which
 * @match holds. */
gboolean
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

gboolean
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
void
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
guint32
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
void
assert_retries_grow (Case *c, guint32 from)
{
  RetriesWait w = { c, from + 1 };

  g_assert_true (it_poll_until (retries_reached, &w, 10, DEADLINE_MS));
  g_assert_cmpuint (it_group_status (c->d, c->g->path), ==, IT_STATUS_GROUP_INCOMPLETE);
}

/* ---- end states ---- */

void
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

void
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
void
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
void
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
void
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
void
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
void
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

void
assert_resumed_from (Case *c, gsize offset, const char *if_range)
{
  g_autofree char *range = last_header (c, "Range");
  g_autofree char *expected = g_strdup_printf ("bytes=%" G_GSIZE_FORMAT "-", offset);
  g_autofree char *validator = last_header (c, "If-Range");

  g_assert_cmpstr (range, ==, expected);
  g_assert_cmpstr (validator, ==, if_range);
}

void
assert_not_ranged (Case *c)
{
  g_autofree char *range = last_header (c, "Range");
  g_autofree char *validator = last_header (c, "If-Range");

  g_assert_null (range);
  g_assert_null (validator);
}
