/* qmgrd integration tests — real transfers from a loopback HTTP server: completion
 * (Status 0x140 / 0x540, sizes, progress, file modes, OnStatus), the rules that only
 * apply to complete groups, fatal errors (0x380, LastError, ResumeGroup retries) and
 * the live callback pointer. */
#include "it-util.h"
#include "qmgr-test-server.h"

#include <string.h>
#include <sys/stat.h>

#define GROUP QMGR_TEST_GROUP_IFACE
#define JOB QMGR_TEST_JOB_IFACE
#define DEADLINE_MS 20000
#define NO_FILE 0xFFFFFFFFu

static char *
make_body (gsize len)
{
  char *body = g_malloc (len + 1);

  for (gsize i = 0; i < len; i++)
    body[i] = (char) ('a' + (i * 7 + i / 13) % 26);
  body[len] = '\0';
  return body;
}

/* Serves a copy of @body at @path: no ETag, no Last-Modified. */
static void
serve (QmgrTestServer *server, const char *path, const char *body, gsize len)
{
  g_autoptr(GBytes) content = g_bytes_new (body, len);

  qmgr_test_server_add_file (server, path, content, NULL, 0);
}

/* As serve, behind Basic authentication as @user / @password (401 otherwise). */
static void
serve_auth (QmgrTestServer *server, const char *path, const char *user,
            const char *password, const char *body, gsize len)
{
  QmgrTestFault fault = { .kind = QMGR_FAULT_REQUIRE_AUTH, .user = user,
                          .password = password };

  serve (server, path, body, len);
  qmgr_test_server_set_fault (server, path, &fault);
}

static void
add_file (QmgrTestDaemon *d, ItGroup *g, QmgrTestServer *server, const char *route,
          const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = qmgr_test_server_get_url_for (server, route);
  g_autofree char *local = it_file (d, name);

  it_add_file (d, g->job_path, url, local, 1, &error);
  g_assert_no_error (error);
}

static gboolean
wait_status (QmgrTestDaemon *d, ItGroup *g, guint32 status)
{
  return it_wait_property (d, g->path, GROUP, "Status", g_variant_new_uint32 (status),
                           DEADLINE_MS);
}

static guint32
progress (QmgrTestDaemon *d, const char *path, const char *iface, guint32 type)
{
  g_autoptr(GVariant) reply = it_call_ok (d, path, iface, "GetProgress",
                                          g_variant_new ("(u)", type), "(u)");
  guint32 value;

  g_variant_get (reply, "(u)", &value);
  return value;
}

static void
assert_no_temp_files (QmgrTestDaemon *d)
{
  g_autoptr(GDir) dir = g_dir_open (qmgr_test_daemon_get_files_dir (d), 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_test_message ("file left in the destination directory: %s", name);
      g_assert_false (g_str_has_prefix (name, ".qmgrd-"));
    }
}

static gboolean
find_on_status (ItRecorder *rec, const char *group_path, const char *job_path,
                guint32 file_index, guint32 status, guint32 *transport_result)
{
  for (guint i = 0; i < rec->signals->len; i++)
    {
      ItSignal *s = g_ptr_array_index (rec->signals, i);
      const char *job;
      guint32 index, st, retries, win32, transport;

      if (g_strcmp0 (s->path, group_path) != 0 || g_strcmp0 (s->iface, GROUP) != 0 ||
          g_strcmp0 (s->member, "OnStatus") != 0 ||
          !g_variant_is_of_type (s->params, G_VARIANT_TYPE ("(ouuuuu)")))
        continue;
      g_variant_get (s->params, "(&ouuuuu)", &job, &index, &st, &retries, &win32, &transport);
      if (g_strcmp0 (job, job_path) == 0 && index == file_index && st == status)
        {
          if (transport_result != NULL)
            *transport_result = transport;
          return TRUE;
        }
    }
  return FALSE;
}

typedef struct {
  ItRecorder *rec;
  const char *group_path;
  const char *job_path;
  guint32 file_index;
  guint32 status;
} OnStatusWait;

static gboolean
on_status_seen (gpointer user_data)
{
  OnStatusWait *w = user_data;
  return find_on_status (w->rec, w->group_path, w->job_path, w->file_index, w->status, NULL);
}

static gboolean
wait_on_status (ItRecorder *rec, ItGroup *g, guint32 file_index, guint32 status)
{
  OnStatusWait w = { rec, g->path, g->job_path, file_index, status };
  return qmgr_test_wait_until (on_status_seen, &w, DEADLINE_MS);
}

static void
test_complete (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  g_autoptr(GError) error = NULL;
  g_autofree char *small = g_strdup ("hello, qmgrd\n");
  g_autofree char *big = make_body (300 * 1024);
  g_autofree char *small_path = it_file (f->d, "small.txt");
  g_autofree char *big_path = it_file (f->d, "big.bin");
  guint64 total = strlen (small) + 300 * 1024;
  mode_t mask = umask (0);
  struct stat st;

  umask (mask);
  serve (server, "/small.txt", small, strlen (small));
  serve (server, "/big.bin", big, 300 * 1024);
  add_file (f->d, g, server, "/small.txt", "small.txt");
  add_file (f->d, g, server, "/big.bin", "big.bin");
  /* An existing destination is replaced when its download completes. */
  g_file_set_contents (big_path, "old contents", -1, &error);
  g_assert_no_error (error);

  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f->d, g, 0x140));

  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x140);
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x4);
  {
    g_autofree char *reason = it_get_s (f->d, g->path, GROUP, "WaitReason");
    g_assert_cmpstr (reason, ==, "complete");
  }
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "CompletionTime"), >, 0);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "FilesTotal"), ==, 2);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "FilesTransferred"), ==, 2);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "Size"), ==, total);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "BytesTotal"), ==, total);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "BytesTransferred"), ==, total);
  g_assert_cmpuint (it_get_t (f->d, g->job_path, JOB, "BytesTotal"), ==, total);
  g_assert_cmpuint (it_get_t (f->d, g->job_path, JOB, "BytesTransferred"), ==, total);
  g_assert_cmpuint (progress (f->d, g->path, GROUP, 1), ==, 100);
  g_assert_cmpuint (progress (f->d, g->path, GROUP, 3), ==, total);
  g_assert_cmpuint (progress (f->d, g->job_path, JOB, 1), ==, 100);
  g_assert_cmpuint (progress (f->d, g->job_path, JOB, 3), ==, total);
  {
    g_autoptr(GVariant) last_error = it_get_property (f->d, g->job_path, JOB, "LastError");
    g_assert_true (g_variant_equal (last_error, g_variant_new ("(ss)", "", "")));
  }
  for (guint32 i = 0; i < 2; i++)
    {
      g_autoptr(GVariant) reply = it_call_ok (f->d, g->job_path, JOB, "GetFileStatus",
                                              g_variant_new ("(u)", i), "(utt(ss))");
      guint32 status;
      guint64 bytes_total, bytes_transferred;
      const char *name, *message;
      guint64 size = i == 0 ? strlen (small) : 300 * 1024;

      g_variant_get (reply, "(utt(&s&s))", &status, &bytes_total, &bytes_transferred, &name,
                     &message);
      g_assert_cmpuint (status, ==, 0x1);
      g_assert_cmpuint (bytes_total, ==, size);
      g_assert_cmpuint (bytes_transferred, ==, size);
      g_assert_cmpstr (name, ==, "");
    }

  /* The files: exact contents, mode 0666 filtered by the umask, no temp files. */
  {
    g_autofree char *contents = NULL;
    gsize len;
    g_file_get_contents (small_path, &contents, &len, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (contents, len, small, strlen (small));
    g_clear_pointer (&contents, g_free);
    g_file_get_contents (big_path, &contents, &len, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (contents, len, big, 300 * 1024);
  }
  g_assert_cmpint (stat (small_path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, 0666 & ~mask);
  g_assert_cmpint (stat (big_path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, 0666 & ~mask);
  assert_no_temp_files (f->d);

  /* Signals: each file, then the group, with the group's Status. */
  g_assert_true (wait_on_status (rec, g, NO_FILE, 0x140));
  it_recorder_sync (rec);
  for (guint32 i = 0; i < 2; i++)
    {
      /* The status is the group's when the file completed: 0x80 or, last, 0x140. */
      g_test_message ("OnStatus for file %u", i);
      g_assert_true (find_on_status (rec, g->path, g->job_path, i, 0x80, NULL) ||
                     find_on_status (rec, g->path, g->job_path, i, 0x140, NULL));
    }
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "Status",
                                            g_variant_new_uint32 (0x140), 5000));
  /* Size is announced when it becomes known (both responses in), once: a
   * completed file does not announce it again. */
  g_assert_cmpuint (it_recorder_count_property (rec, g->path, GROUP, "Size", NULL), ==, 1);
  g_assert_cmpuint (it_recorder_count_property (rec, g->path, GROUP, "Size",
                                                g_variant_new_uint64 (total)), ==, 1);

  /* What a complete group refuses. */
  {
    g_autoptr(GVariant) reply = NULL;
    g_autofree char *more = it_file (f->d, "more");

    reply = qmgr_test_call (f->d, g->path, GROUP, "SuspendGroup", NULL, "()", &error);
    g_assert_null (reply);
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_STATE);
    reply = qmgr_test_call (f->d, g->path, GROUP, "ResumeGroup", NULL, "()", &error);
    g_assert_null (reply);
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_STATE);
    g_assert_false (it_add_file (f->d, g->job_path, "http://example.invalid/more", more, 0,
                                 &error));
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_STATE);
    /* Precedence: a bad argument is still InvalidArgs. */
    g_assert_false (it_add_file (f->d, g->job_path, "ftp://example.invalid/more", more, 0,
                                 &error));
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
    g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x140);
  }

  /* SwitchToForeground has no state rule: a completed foreground group reads 0x540. */
  it_call_void (f->d, g->path, GROUP, "SwitchToForeground", NULL);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x540);
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x24);

  /* A complete group's destinations are free for other groups. */
  {
    g_autoptr(ItGroup) other = it_group_create (f->d, TRUE);
    it_add_file (f->d, other->job_path, "http://example.invalid/again", small_path, 0, &error);
    g_assert_no_error (error);
  }

  /* Cancelling a complete group keeps its files. */
  it_call_void (f->d, g->path, GROUP, "CancelGroup", NULL);
  g_assert_true (g_file_test (small_path, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (big_path, G_FILE_TEST_IS_REGULAR));
}

static void
test_complete_foreground_and_restart (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  guint64 completed;

  serve (server, "/fg", "foreground\n", 11);
  add_file (f->d, g, server, "/fg", "fg");
  it_call_void (f->d, g->path, GROUP, "SwitchToForeground", NULL);
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f->d, g, 0x540));
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x24);
  completed = it_get_t (f->d, g->path, GROUP, "CompletionTime");
  g_assert_cmpuint (completed, >, 0);

  /* Completion survives a restart. */
  qmgr_test_daemon_stop (f->d);
  qmgr_test_daemon_start (f->d, NULL);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x540);
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x24);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "CompletionTime"), ==, completed);
  g_assert_cmpuint (progress (f->d, g->path, GROUP, 1), ==, 100);
  {
    g_autoptr(GVariant) reply = it_call_ok (f->d, g->job_path, JOB, "GetFileStatus",
                                            g_variant_new ("(u)", 0), "(utt(ss))");
    guint32 status;
    guint64 total, done;
    g_variant_get (reply, "(utt(ss))", &status, &total, &done, NULL, NULL);
    g_assert_cmpuint (status, ==, 0x1);
    g_assert_cmpuint (total, ==, 11);
    g_assert_cmpuint (done, ==, 11);
  }
  /* Transfers are not repeated. */
  g_assert_cmpuint (qmgr_test_server_get_request_count (server, "/fg"), ==, 1);
}

static void
test_fatal_error (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  g_autoptr(GError) error = NULL;
  g_autofree char *dest = it_file (f->d, "missing");
  guint32 transport = 0;

  serve (server, "/ok", "ok\n", 3);
  add_file (f->d, g, server, "/ok", "ok");
  add_file (f->d, g, server, "/missing", "missing");   /* the server answers 404 */
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f->d, g, 0x380));

  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x18);
  g_assert_cmpuint (it_get_u (f->d, g->job_path, JOB, "Status"), ==, 0x18);
  {
    g_autofree char *reason = it_get_s (f->d, g->path, GROUP, "WaitReason");
    g_assert_cmpstr (reason, ==, "error");
  }
  {
    g_autoptr(GVariant) reply = it_call_ok (f->d, g->job_path, JOB, "GetStatus", NULL,
                                            "(uuuu)");
    guint32 status, win32, transport_result, retries;
    g_variant_get (reply, "(uuuu)", &status, &win32, &transport_result, &retries);
    g_assert_cmpuint (status, ==, 0x18);
    g_assert_cmpuint (transport_result, ==, 404);
  }
  {
    g_autoptr(GVariant) last_error = it_get_property (f->d, g->job_path, JOB, "LastError");
    const char *name, *message;
    g_variant_get (last_error, "(&s&s)", &name, &message);
    g_assert_cmpstr (name, ==, "io.github.qmgrd.QMgr1.Transfer.HttpStatus");
    g_assert_cmpstr (message, !=, "");
  }
  {
    g_autoptr(GVariant) reply = it_call_ok (f->d, g->job_path, JOB, "GetFileStatus",
                                            g_variant_new ("(u)", 1), "(utt(ss))");
    guint32 status;
    const char *name;
    g_variant_get (reply, "(utt(&ss))", &status, NULL, NULL, &name, NULL);
    g_assert_cmpuint (status, ==, 0x2);
    g_assert_cmpstr (name, ==, "io.github.qmgrd.QMgr1.Transfer.HttpStatus");
  }
  /* OnStatus for the failing file, with the group's Status and the HTTP status. */
  {
    OnStatusWait w = { rec, g->path, g->job_path, 1, 0x380 };
    g_assert_true (qmgr_test_wait_until (on_status_seen, &w, DEADLINE_MS));
    g_assert_true (find_on_status (rec, g->path, g->job_path, 1, 0x380, &transport));
    g_assert_cmpuint (transport, ==, 404);
  }
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  /* An error is not COMPLETE: files can still be added. */
  {
    g_autofree char *extra = it_file (f->d, "extra");
    g_autofree char *url = qmgr_test_server_get_url_for (server, "/ok");
    it_add_file (f->d, g->job_path, url, extra, 0, &error);
    g_assert_no_error (error);
  }

  /* ResumeGroup clears the error and retries at once. */
  serve (server, "/missing", "found now\n", 10);
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f->d, g, 0x140));
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x4);
  {
    g_autoptr(GVariant) last_error = it_get_property (f->d, g->job_path, JOB, "LastError");
    g_assert_true (g_variant_equal (last_error, g_variant_new ("(ss)", "", "")));
  }
  g_assert_true (g_file_test (dest, G_FILE_TEST_IS_REGULAR));
  assert_no_temp_files (f->d);
}

/* ---- the live callback pointer ---- */

typedef struct {
  ItCallbackLog *log;
  const char *group_path;
  guint32 file_index;
  guint32 status;
} CallbackWait;

static gboolean
callback_seen (gpointer user_data)
{
  CallbackWait *w = user_data;

  for (guint i = 0; i < w->log->calls->len; i++)
    {
      GVariant *call = g_ptr_array_index (w->log->calls, i);
      const char *method;
      g_autoptr(GVariant) params = NULL;
      const char *group, *job;
      guint32 index, status, retries, win32, transport;

      g_variant_get (call, "(&s@*)", &method, &params);
      if (strcmp (method, "OnStatus") != 0 ||
          !g_variant_is_of_type (params, G_VARIANT_TYPE ("(oouuuuu)")))
        continue;
      g_variant_get (params, "(&o&ouuuuu)", &group, &job, &index, &status, &retries, &win32,
                     &transport);
      if (g_strcmp0 (group, w->group_path) == 0 && index == w->file_index &&
          status == w->status)
        return TRUE;
    }
  return FALSE;
}

static gboolean
either_callback_seen (gpointer user_data)
{
  CallbackWait *w = user_data;
  return callback_seen (&w[0]) || callback_seen (&w[1]);
}

static void
test_live_callback (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) done = it_group_create (f->d, TRUE);
  g_autoptr(ItGroup) failing = it_group_create (f->d, TRUE);
  g_autoptr(GDBusConnection) client = qmgr_test_daemon_new_connection (f->d);
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  ItCallbackLog log = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref) };
  guint registration;

  info = qmgr_test_load_interface_xml (QMGR_TEST_CALLBACK_IFACE);
  registration = g_dbus_connection_register_object (client, "/org/example/cb",
                                                    info->interfaces[0], &it_callback_log_vtable,
                                                    &log, NULL, &error);
  g_assert_no_error (error);

  /* GROUP_DONE asks for the completion callback; errors are always called back. */
  for (guint i = 0; i < 2; i++)
    {
      ItGroup *g = i == 0 ? done : failing;
      g_autoptr(GVariant) reply = NULL;

      reply = g_dbus_connection_call_sync (client, QMGR_TEST_BUS_NAME, g->path, GROUP,
                                           "SetNotificationPointer",
                                           g_variant_new ("(so)", QMGR_TEST_CALLBACK_IFACE,
                                                          "/org/example/cb"),
                                           G_VARIANT_TYPE ("()"), G_DBUS_CALL_FLAGS_NONE, 25000,
                                           NULL, &error);
      g_assert_no_error (error);
    }
  it_setprop (f->d, done->path, 6, g_variant_new_uint32 (0x4), &error);
  g_assert_no_error (error);

  serve (server, "/cb", "callback\n", 9);
  add_file (f->d, done, server, "/cb", "cb");
  add_file (f->d, failing, server, "/gone", "gone");
  it_call_void (f->d, done->path, GROUP, "ResumeGroup", NULL);
  it_call_void (f->d, failing->path, GROUP, "ResumeGroup", NULL);

  {
    CallbackWait w = { &log, done->path, NO_FILE, 0x140 };
    g_assert_true (qmgr_test_wait_until (callback_seen, &w, DEADLINE_MS));
  }
  {
    CallbackWait w = { &log, failing->path, 0, 0x380 };
    g_assert_true (qmgr_test_wait_until (callback_seen, &w, DEADLINE_MS));
  }

  g_dbus_connection_unregister_object (client, registration);
  g_dbus_connection_close_sync (client, NULL, NULL);
  g_ptr_array_unref (log.calls);
  g_assert_true (qmgr_test_daemon_is_running (f->d));
}

static guint
count_calls (ItCallbackLog *log, const char *method, const char *group_path)
{
  guint n = 0;

  for (guint i = 0; i < log->calls->len; i++)
    {
      GVariant *call = g_ptr_array_index (log->calls, i);
      const char *name;
      g_autoptr(GVariant) params = NULL;
      g_autoptr(GVariant) group = NULL;

      g_variant_get (call, "(&s@*)", &name, &params);
      if (strcmp (name, method) != 0 || g_variant_n_children (params) < 2)
        continue;
      group = g_variant_get_child_value (params, strcmp (method, "OnStatus") == 0 ? 0 : 1);
      if (g_variant_is_of_type (group, G_VARIANT_TYPE_OBJECT_PATH) &&
          g_strcmp0 (g_variant_get_string (group, NULL), group_path) == 0)
        n++;
    }
  return n;
}

/* Without a live pointer, callbacks go to NOTIFYCLSID's bus name and object path, as
 * NOTIFYFLAGS ask, and never with DISABLE_NOTIFY. */
static void
test_notify_clsid (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) quiet = it_group_create (f->d, TRUE);
  g_autoptr(ItGroup) loud = it_group_create (f->d, TRUE);
  g_autoptr(GDBusConnection) app = qmgr_test_daemon_new_connection (f->d);
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  ItCallbackLog log = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref) };
  gboolean owned = FALSE;
  guint registration, owner_id;

  info = qmgr_test_load_interface_xml (QMGR_TEST_CALLBACK_IFACE);
  registration = g_dbus_connection_register_object (app, "/org/example/Updater/cb",
                                                    info->interfaces[0], &it_callback_log_vtable,
                                                    &log, NULL, &error);
  g_assert_no_error (error);
  owner_id = g_bus_own_name_on_connection (app, "org.example.QmgrTestUpdater",
                                           G_BUS_NAME_OWNER_FLAGS_NONE, it_name_acquired, NULL,
                                           &owned, NULL);
  g_assert_true (qmgr_test_wait_until (it_flag_is_set, &owned, 5000));

  serve (server, "/q", "quiet\n", 6);
  serve (server, "/l", "loud\n", 5);
  add_file (f->d, quiet, server, "/q", "q");
  add_file (f->d, loud, server, "/l", "l");
  for (guint i = 0; i < 2; i++)
    {
      ItGroup *g = i == 0 ? quiet : loud;
      it_setprop (f->d, g->path, 7,
                  g_variant_new_string ("org.example.QmgrTestUpdater:/org/example/Updater/cb"),
                  &error);
      g_assert_no_error (error);
      /* GROUP_DONE | FILE_DONE, and for the quiet one DISABLE_NOTIFY on top. */
      it_setprop (f->d, g->path, 6, g_variant_new_uint32 (i == 0 ? 0x45 : 0x5), &error);
      g_assert_no_error (error);
    }

  /* The quiet group completes first, so any callback for it would come first. */
  it_call_void (f->d, quiet->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f->d, quiet, 0x140));
  it_call_void (f->d, loud->path, GROUP, "ResumeGroup", NULL);
  {
    CallbackWait w = { &log, loud->path, NO_FILE, 0x140 };
    g_assert_true (qmgr_test_wait_until (callback_seen, &w, DEADLINE_MS));
  }
  {
    /* FILE_DONE: the file's own callback, with the group's Status at that moment
     * (0x80, or 0x140 if the group was already complete then). */
    CallbackWait w[2] = { { &log, loud->path, 0, 0x140 }, { &log, loud->path, 0, 0x80 } };
    g_assert_true (qmgr_test_wait_until (either_callback_seen, w, DEADLINE_MS));
  }
  g_assert_cmpuint (count_calls (&log, "OnStatus", quiet->path), ==, 0);

  g_bus_unown_name (owner_id);
  g_dbus_connection_unregister_object (app, registration);
  g_dbus_connection_close_sync (app, NULL, NULL);
  g_ptr_array_unref (log.calls);
}

typedef struct {
  const char *path;
  char *contents;
} RecordWait;

static gboolean
record_written (gpointer user_data)
{
  RecordWait *w = user_data;

  if (w->contents == NULL)
    g_file_get_contents (w->path, &w->contents, NULL, NULL);
  return w->contents != NULL;
}

static gboolean
name_has_owner (GDBusConnection *connection, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  gboolean owned;

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", name), G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, 25000, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(b)", &owned);
  return owned;
}

/* A NOTIFYCLSID target that is not running is started by D-Bus activation: the
 * daemon's OnStatus call asks the bus to auto-start the name (the private bus has
 * a .service file for it), and the program it starts receives the call. */
static void
test_notify_clsid_activation (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const char *name = "org.example.QmgrTestActivated";
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *record = it_file (f->d, "activated.record");
  g_autofree char *xml = g_build_filename (g_getenv ("QMGR_INTROSPECTION_DIR"),
                                           QMGR_TEST_CALLBACK_IFACE ".xml", NULL);
  g_autofree char *expected = NULL;
  const char *const argv[] = {
    QMGR_CALLBACK_HELPER, "--name", name, "--path", "/org/example/Activated/cb",
    "--record", record, "--interface-xml", xml, NULL
  };
  RecordWait w = { record, NULL };

  g_assert_nonnull (g_getenv ("QMGR_INTROSPECTION_DIR"));
  qmgr_test_daemon_add_service (f->d, name, argv);
  g_assert_false (name_has_owner (qmgr_test_daemon_get_connection (f->d), name));

  serve (server, "/a", "activate\n", 9);
  add_file (f->d, g, server, "/a", "a");
  it_setprop (f->d, g->path, 7,
              g_variant_new_string ("org.example.QmgrTestActivated:/org/example/Activated/cb"),
              &error);
  g_assert_no_error (error);
  it_setprop (f->d, g->path, 6, g_variant_new_uint32 (0x4), &error);   /* GROUP_DONE */
  g_assert_no_error (error);

  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f->d, g, 0x140));
  /* Nobody but the bus starts the helper, and it records only the call it answers. */
  g_assert_true (it_poll_until (record_written, &w, 20, DEADLINE_MS));
  g_test_message ("the activated target recorded: %s", w.contents);
  expected = g_strdup_printf ("OnStatus %s %s %u %u 0 0 0 session\n", g->path, g->job_path,
                              NO_FILE, 0x140u);
  g_assert_cmpstr (w.contents, ==, expected);
  g_free (w.contents);
}

/* PROGRESS asks for progress callbacks on the live pointer, at most once a second;
 * with USE_PROGRESSEX they are OnProgressEx with empty data instead of OnProgress. */
static void
check_progress_callbacks (ItFixture *f, gboolean ex)
{
  const char *method = ex ? "OnProgressEx" : "OnProgress";
  const char *other = ex ? "OnProgress" : "OnProgressEx";
  const gsize size = 1024 * 1024;
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GDBusConnection) client = qmgr_test_daemon_new_connection (f->d);
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *body = make_body (size);
  ItCallbackLog log = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref) };
  guint registration, n_ex, n_mid = 0;
  gint64 start, elapsed_us;

  info = qmgr_test_load_interface_xml (QMGR_TEST_CALLBACK_IFACE);
  registration = g_dbus_connection_register_object (client, "/cb", info->interfaces[0],
                                                    &it_callback_log_vtable, &log, NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
        client, QMGR_TEST_BUS_NAME, g->path, GROUP, "SetNotificationPointer",
        g_variant_new ("(so)", QMGR_TEST_CALLBACK_IFACE, "/cb"), G_VARIANT_TYPE ("()"),
        G_DBUS_CALL_FLAGS_NONE, 25000, NULL, &error);
    g_assert_no_error (error);
  }
  it_setprop (f->d, g->path, 6, g_variant_new_uint32 (ex ? 0x180 : 0x100), &error);
  g_assert_no_error (error);
  it_set_property (f->d, g->path, GROUP, "BandwidthLimit", g_variant_new_uint64 (384 * 1024),
                   &error);
  g_assert_no_error (error);
  serve (server, "/p", body, size);
  add_file (f->d, g, server, "/p", "p");

  start = g_get_monotonic_time ();
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f->d, g, 0x140));
  elapsed_us = g_get_monotonic_time () - start;

  n_ex = count_calls (&log, method, g->path);
  g_test_message ("%u %s in %" G_GINT64_FORMAT " ms", n_ex, method, elapsed_us / 1000);
  g_assert_cmpuint (count_calls (&log, other, g->path), ==, 0);
  g_assert_cmpuint (n_ex, >=, 1);
  g_assert_cmpuint (n_ex, <=, (guint) ((elapsed_us + 999999) / 1000000) + 1);
  for (guint i = 0; i < log.calls->len; i++)
    {
      GVariant *call = g_ptr_array_index (log.calls, i);
      const char *name, *group, *job;
      g_autoptr(GVariant) params = NULL;
      g_autoptr(GVariant) extra = NULL;
      guint32 type, index, value;

      g_variant_get (call, "(&s@*)", &name, &params);
      if (strcmp (name, method) != 0)
        continue;
      if (ex)
        {
          g_assert_cmpstr (g_variant_get_type_string (params), ==, "(uoouuay)");
          g_variant_get (params, "(u&o&ouu@ay)", &type, &group, &job, &index, &value, &extra);
          g_assert_cmpuint (g_variant_n_children (extra), ==, 0);
        }
      else
        {
          g_assert_cmpstr (g_variant_get_type_string (params), ==, "(uoouu)");
          g_variant_get (params, "(u&o&ouu)", &type, &group, &job, &index, &value);
        }
      g_assert_cmpuint (type, ==, 3);
      g_assert_cmpstr (group, ==, g->path);
      g_assert_cmpstr (job, ==, g->job_path);
      g_assert_cmpuint (index, ==, 0);
      g_assert_cmpuint (value, <=, size);
      if (value > 0 && value < size)
        n_mid++;
    }
  /* 1 MiB at 384 KiB/s moves for over two seconds, called back once a second: some
   * callbacks came while the bytes moved, not only when they stopped. */
  g_test_message ("%u %s mid-transfer", n_mid, method);
  g_assert_cmpuint (n_mid, >=, 1);

  g_dbus_connection_unregister_object (client, registration);
  g_dbus_connection_close_sync (client, NULL, NULL);
  g_ptr_array_unref (log.calls);
}

static void
test_progress_callbacks (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  check_progress_callbacks (f, FALSE);
}

static void
test_progress_ex_callbacks (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  check_progress_callbacks (f, TRUE);
}

static void
test_cancel_while_transferring (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItBlackhole) hole = it_blackhole_new ();
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *url = it_blackhole_url (hole, "/stall");
  g_autofree char *local = it_file (f->d, "stall");

  it_add_file (f->d, g->job_path, url, local, 0, &error);
  g_assert_no_error (error);
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (it_wait_property (f->d, g->path, GROUP, "WaitReason",
                                   g_variant_new_string ("transferring"), DEADLINE_MS));
  /* Legal while transferring: appending files. */
  {
    g_autofree char *more = it_file (f->d, "more");
    g_autofree char *more_url = it_blackhole_url (hole, "/more");
    it_add_file (f->d, g->job_path, more_url, more, 0, &error);
    g_assert_no_error (error);
  }
  it_call_void (f->d, g->path, GROUP, "SuspendGroup", NULL);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x180);
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  it_call_void (f->d, g->path, GROUP, "CancelGroup", NULL);
  assert_no_temp_files (f->d);
  g_assert_false (g_file_test (local, G_FILE_TEST_EXISTS));
}

typedef struct {
  QmgrTestDaemon *d;
  const char *path;
  guint64 size;
} MidTransferWait;

static gboolean
bytes_mid_transfer (gpointer user_data)
{
  MidTransferWait *w = user_data;
  guint64 bytes = it_get_t (w->d, w->path, GROUP, "BytesTransferred");

  g_assert_cmpuint (bytes, <, w->size);   /* done before we looked: the pacing failed */
  return bytes > 0;
}

/* While the paced transfer runs, GetProgress of the group and of the job answers
 * what has moved so far, strictly between nothing and everything, and agrees with
 * the BytesTransferred properties read just before and after. */
static void
check_progress_mid_transfer (QmgrTestDaemon *d, ItGroup *g, guint64 size)
{
  MidTransferWait w = { d, g->path, size };
  guint64 before, job_bytes, after;
  guint32 group_size_done, group_percent, job_size_done, job_percent;

  g_assert_true (it_poll_until (bytes_mid_transfer, &w, 20, DEADLINE_MS));
  /* In the order of time: each value read is at least the one read before. */
  before = it_get_t (d, g->path, GROUP, "BytesTransferred");
  group_size_done = progress (d, g->path, GROUP, 3);
  group_percent = progress (d, g->path, GROUP, 1);
  job_size_done = progress (d, g->job_path, JOB, 3);
  job_percent = progress (d, g->job_path, JOB, 1);
  job_bytes = it_get_t (d, g->job_path, JOB, "BytesTransferred");
  after = it_get_t (d, g->path, GROUP, "BytesTransferred");
  g_test_message ("mid-transfer: %" G_GUINT64_FORMAT " <= %u (%u %%) <= %u (%u %%) <= %"
                  G_GUINT64_FORMAT " <= %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT,
                  before, group_size_done, group_percent, job_size_done, job_percent,
                  job_bytes, after, size);
  g_assert_cmpuint (before, >, 0);
  g_assert_cmpuint (group_size_done, >=, before);
  g_assert_cmpuint (job_size_done, >=, group_size_done);
  g_assert_cmpuint (job_bytes, >=, job_size_done);
  g_assert_cmpuint (after, >=, job_bytes);
  g_assert_cmpuint (after, <, size);
  /* Every size is known (Content-Length): percent is of bytes, never 100 before the end. */
  g_assert_cmpuint (group_percent, >=, before * 100 / size);
  g_assert_cmpuint (job_percent, >=, group_percent);
  g_assert_cmpuint (job_percent, <=, after * 100 / size);
  g_assert_cmpuint (job_percent, <, 100);
}

/* The group's BandwidthLimit paces the transfer; OnProgress and the byte counters'
 * PropertiesChanged come at most twice a second, carry values while the bytes move
 * (not only the final one), and the counters come once more when they stop. */
static void
test_progress_signals (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const gsize size = 1536 * 1024;
  const guint64 limit = 512 * 1024;
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *body = make_body (size);
  g_autoptr(ItRecorder) rec = NULL;
  guint32 last_progress = 0;
  guint n_progress = 0, n_bytes_changed = 0, n_progress_mid = 0, n_bytes_mid = 0;
  guint64 last_bytes = 0;
  gint64 start, elapsed_us;
  guint max_per_2hz;

  serve (server, "/paced", body, size);
  add_file (f->d, g, server, "/paced", "paced");
  it_set_property (f->d, g->path, GROUP, "BandwidthLimit", g_variant_new_uint64 (limit), &error);
  g_assert_no_error (error);

  rec = it_recorder_new (f->d);
  start = g_get_monotonic_time ();
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  check_progress_mid_transfer (f->d, g, size);
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "Status",
                                            g_variant_new_uint32 (0x140), 60000));
  elapsed_us = g_get_monotonic_time () - start;
  it_recorder_sync (rec);

  /* 1.5 MiB at 512 KiB/s is 3 s; even with a generous first burst, not under 1.5 s. */
  g_test_message ("transfer took %" G_GINT64_FORMAT " ms", elapsed_us / 1000);
  g_assert_cmpint (elapsed_us, >=, 1500000);
  max_per_2hz = 2 * (guint) ((elapsed_us + 999999) / 1000000) + 2;

  for (guint i = 0; i < rec->signals->len; i++)
    {
      ItSignal *sig = g_ptr_array_index (rec->signals, i);

      if (g_strcmp0 (sig->path, g->path) != 0)
        continue;
      if (g_strcmp0 (sig->member, "OnProgress") == 0)
        {
          guint32 type, index, value;
          const char *job;

          g_assert_cmpstr (g_variant_get_type_string (sig->params), ==, "(uouu)");
          g_variant_get (sig->params, "(u&ouu)", &type, &job, &index, &value);
          g_assert_cmpuint (type, ==, 3);
          g_assert_cmpstr (job, ==, g->job_path);
          g_assert_cmpuint (index, ==, 0);
          g_assert_cmpuint (value, >=, last_progress);
          g_assert_cmpuint (value, <=, size);
          last_progress = value;
          n_progress++;
          if (value > 0 && value < size)
            n_progress_mid++;
        }
      else if (g_strcmp0 (sig->member, "PropertiesChanged") == 0)
        {
          const char *iface;
          g_autoptr(GVariant) changed = NULL;
          g_autoptr(GVariant) bytes = NULL;

          g_variant_get (sig->params, "(&s@a{sv}@as)", &iface, &changed, NULL);
          bytes = g_variant_lookup_value (changed, "BytesTransferred", G_VARIANT_TYPE_UINT64);
          if (g_strcmp0 (iface, GROUP) != 0 || bytes == NULL)
            continue;
          g_assert_cmpuint (g_variant_get_uint64 (bytes), >=, last_bytes);
          last_bytes = g_variant_get_uint64 (bytes);
          n_bytes_changed++;
          if (last_bytes > 0 && last_bytes < size)
            n_bytes_mid++;
        }
    }
  g_test_message ("%u OnProgress (%u mid-transfer), %u BytesTransferred changes (%u "
                  "mid-transfer)", n_progress, n_progress_mid, n_bytes_changed, n_bytes_mid);
  g_assert_cmpuint (n_progress, >=, 1);
  g_assert_cmpuint (n_progress, <=, max_per_2hz);
  g_assert_cmpuint (n_bytes_changed, >=, 1);
  g_assert_cmpuint (n_bytes_changed, <=, max_per_2hz);
  /* The completion's flush alone would satisfy the counts above: values sent while
   * the transfer ran (≥ 1.5 s, announced twice a second) must be among them. */
  g_assert_cmpuint (n_progress_mid, >=, 1);
  g_assert_cmpuint (n_bytes_mid, >=, 1);
  /* Once when they stop: the last value sent is the final one. */
  g_assert_cmpuint (last_bytes, ==, size);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "BytesTransferred"), ==, size);
}

static guint64
get_file_status (QmgrTestDaemon *d, ItGroup *g, guint32 index, guint32 *status,
                 guint64 *transferred)
{
  g_autoptr(GVariant) reply = it_call_ok (d, g->job_path, JOB, "GetFileStatus",
                                          g_variant_new ("(u)", index), "(utt(ss))");
  guint64 total;

  g_variant_get (reply, "(utt(ss))", status, &total, transferred, NULL, NULL);
  return total;
}

typedef struct {
  const char *dir;
  const char *name;
} FileWait;

static gboolean
file_exists (gpointer user_data)
{
  FileWait *w = user_data;
  g_autofree char *path = g_build_filename (w->dir, w->name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* One file done, one whose size nobody has proved yet: Size stays 0 (QMGR) while
 * BytesTotal is the partial sum, and percent progress counts files. Cancelling
 * then keeps the completed file and removes the other's temp file. */
static void
test_partial_sizes (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItBlackhole) hole = it_blackhole_new ();
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *stalled_url = it_blackhole_url (hole, "/stalled");
  g_autofree char *stalled = it_file (f->d, "stalled");
  g_autofree char *contents = NULL;
  const char *body = "0123456789abcdef";
  guint32 status;
  guint64 transferred;

  serve (server, "/quick", body, 16);
  add_file (f->d, g, server, "/quick", "quick");
  g_file_set_contents (stalled, "old", -1, &error);
  g_assert_no_error (error);
  it_add_file (f->d, g->job_path, stalled_url, stalled, 0, &error);
  g_assert_no_error (error);
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);

  g_assert_true (it_wait_property (f->d, g->path, GROUP, "FilesTransferred",
                                   g_variant_new_uint32 (1), DEADLINE_MS));
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x80);
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x8);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "Size"), ==, 0);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "BytesTotal"), ==, 16);
  g_assert_cmpuint (it_get_t (f->d, g->job_path, JOB, "BytesTotal"), ==, 16);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "BytesTransferred"), ==, 16);
  g_assert_cmpuint (progress (f->d, g->path, GROUP, 1), ==, 50);
  g_assert_cmpuint (progress (f->d, g->job_path, JOB, 1), ==, 50);
  g_assert_cmpuint (progress (f->d, g->path, GROUP, 3), ==, 16);
  g_assert_cmpuint (get_file_status (f->d, g, 0, &status, &transferred), ==, 16);
  g_assert_cmpuint (status, ==, 0x1);
  g_assert_cmpuint (transferred, ==, 16);
  g_assert_cmpuint (get_file_status (f->d, g, 1, &status, &transferred), ==, G_MAXUINT64);
  g_assert_cmpuint (status, ==, 0x2);
  g_assert_cmpuint (transferred, ==, 0);
  /* The old destination is only replaced when its download completes. */
  g_file_get_contents (stalled, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "old");

  /* The stalled file's transfer has its temp file (opened when it starts), so that
   * the check after CancelGroup has something to find gone. */
  {
    g_autofree char *hex = it_guid_hex (g->job_id);
    g_autofree char *temp = g_strdup_printf (".qmgrd-%s-1.part", hex);
    FileWait w = { qmgr_test_daemon_get_files_dir (f->d), temp };

    g_assert_true (it_poll_until (file_exists, &w, 20, DEADLINE_MS));
  }

  it_call_void (f->d, g->path, GROUP, "CancelGroup", NULL);
  g_clear_pointer (&contents, g_free);
  g_file_get_contents (stalled, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "old");
  assert_no_temp_files (f->d);
  /* The completed file stays, as it was. */
  {
    g_autofree char *quick = it_file (f->d, "quick");
    g_autofree char *kept = NULL;
    gsize len;

    g_file_get_contents (quick, &kept, &len, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (kept, len, body, 16);
  }
}

/* REMOTEUSERID/REMOTEUSERPWD answer a Basic challenge; without them the 401 is a
 * fatal HttpStatus error; the password never reaches the log, even verbose. */
static void
test_http_auth (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const char *password = "Tr0ub4dor-and-3";
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) with = it_group_create (f->d, TRUE);
  g_autoptr(ItGroup) without = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *pair = g_strconcat ("alice:", password, NULL);
  g_autofree char *encoded = g_base64_encode ((const guchar *) pair, strlen (pair));
  g_autofree char *log = NULL;

  serve_auth (server, "/private", "alice", password, "secret data\n", 12);
  serve_auth (server, "/private2", "alice", password, "secret data\n", 12);
  add_file (f->d, with, server, "/private", "private");
  add_file (f->d, without, server, "/private2", "private2");
  it_setprop (f->d, with->path, 1, g_variant_new_string ("alice"), &error);
  g_assert_no_error (error);
  it_setprop (f->d, with->path, 2, g_variant_new_string (password), &error);
  g_assert_no_error (error);

  it_call_void (f->d, with->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f->d, with, 0x140));
  {
    g_autofree char *expected = g_strconcat ("Basic ", encoded, NULL);
    g_autofree char *sent = qmgr_test_server_get_last_request_header (server, "/private",
                                                                      "Authorization");
    g_assert_cmpstr (sent, ==, expected);
  }
  it_call_void (f->d, without->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (wait_status (f->d, without, 0x380));
  {
    g_autoptr(GVariant) reply = it_call_ok (f->d, without->job_path, JOB, "GetStatus", NULL,
                                            "(uuuu)");
    g_autoptr(GVariant) last_error = it_get_property (f->d, without->job_path, JOB,
                                                      "LastError");
    guint32 status, win32, transport, retries;
    const char *name;

    g_variant_get (reply, "(uuuu)", &status, &win32, &transport, &retries);
    g_assert_cmpuint (status, ==, 0x18);
    g_assert_cmpuint (transport, ==, 401);
    g_variant_get (last_error, "(&ss)", &name, NULL);
    g_assert_cmpstr (name, ==, "io.github.qmgrd.QMgr1.Transfer.HttpStatus");
  }

  qmgr_test_daemon_stop (f->d);
  g_assert_true (g_file_get_contents (qmgr_test_daemon_get_log (f->d), &log, NULL, NULL));
  g_assert_false (it_contains (log, password));
  g_assert_false (it_contains (log, encoded));
  qmgr_test_daemon_start (f->d, data);
}

static const char *const verbose_args[] = { "--verbose", NULL };

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  it_add ("/transfer/complete", test_complete);
  it_add ("/transfer/complete-foreground-restart", test_complete_foreground_and_restart);
  it_add ("/transfer/fatal-error", test_fatal_error);
  it_add ("/transfer/live-callback", test_live_callback);
  it_add ("/transfer/cancel-while-transferring", test_cancel_while_transferring);
  it_add ("/transfer/progress-signals", test_progress_signals);
  it_add ("/transfer/partial-sizes", test_partial_sizes);
  it_add_with_args ("/transfer/http-auth", verbose_args, test_http_auth);
  it_add ("/transfer/notify-clsid", test_notify_clsid);
  it_add ("/transfer/notify-clsid-activation", test_notify_clsid_activation);
  it_add ("/transfer/progress-callbacks", test_progress_callbacks);
  it_add ("/transfer/progress-ex-callbacks", test_progress_ex_callbacks);
  return g_test_run ();
}
