/* qmgrd integration tests — io.github.qmgrd.QMgr1.Job on the real daemon: every
 * AddFiles rule (all or nothing), the files-per-job quota, GetFile, GetFileCount,
 * GetFileStatus, GetStatus, GetProgress, CancelJob and SwitchToForeground. */
#include "it-util.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GROUP QMGR_TEST_GROUP_IFACE
#define JOB QMGR_TEST_JOB_IFACE

typedef struct {
  const char *url;
  const char *path;
  guint64 hint;
} Entry;

static gboolean
add_files (QmgrTestDaemon *d, const char *job_path, const Entry *entries, guint n,
           GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sst)"));
  for (guint i = 0; i < n; i++)
    g_variant_builder_add (&b, "(sst)", entries[i].url, entries[i].path, entries[i].hint);
  reply = qmgr_test_call (d, job_path, JOB, "AddFiles", g_variant_new ("(a(sst))", &b), "()",
                          error);
  return reply != NULL;
}

static guint32
file_count (QmgrTestDaemon *d, const char *job_path)
{
  g_autoptr(GVariant) reply = it_call_ok (d, job_path, JOB, "GetFileCount", NULL, "(u)");
  guint32 n;

  g_variant_get (reply, "(u)", &n);
  g_assert_cmpuint (it_get_u (d, job_path, JOB, "FileCount"), ==, n);
  return n;
}

static void
assert_file (QmgrTestDaemon *d, const char *job_path, guint32 index, const char *url,
             const char *path, guint64 hint)
{
  g_autoptr(GVariant) reply = it_call_ok (d, job_path, JOB, "GetFile",
                                          g_variant_new ("(u)", index), "((sst))");
  const char *got_url, *got_path;
  guint64 got_hint;

  g_variant_get (reply, "((&s&st))", &got_url, &got_path, &got_hint);
  g_assert_cmpstr (got_url, ==, url);
  g_assert_cmpstr (got_path, ==, path);
  g_assert_cmpuint (got_hint, ==, hint);
}

static void
assert_add_fails (QmgrTestDaemon *d, const char *job_path, const char *url, const char *path,
                  const char *dbus_error)
{
  g_autoptr(GError) error = NULL;
  guint32 before = file_count (d, job_path);
  g_autofree char *shown_url = g_strescape (url, NULL);
  g_autofree char *shown_path = g_strescape (path, NULL);

  g_test_message ("AddFiles(\"%.80s\", \"%.120s\"): expecting %s", shown_url, shown_path,
                  dbus_error);
  g_assert_false (it_add_file (d, job_path, url, path, 0, &error));
  qmgr_test_assert_qmgr_error (error, dbus_error);
  g_assert_cmpuint (file_count (d, job_path), ==, before);
}

static void
test_add_files_valid (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  g_autoptr(GError) error = NULL;
  g_autofree char *a = it_file (f->d, "a");
  g_autofree char *b = it_file (f->d, "b.iso");
  g_autofree char *c = it_file (f->d, "with space and ünïcödé");
  g_autofree char *url_max = NULL;
  g_autofree char *max_path = it_file (f->d, "max");
  const Entry batch[] = {
    { "http://example.invalid/a", a, 0 },
    { "https://example.invalid:8443/dir/b.iso?x=1&y=%20#frag", b, 1234 },
    { "http://[::1]:8080/c", c, G_MAXUINT64 },
  };

  g_assert_cmpuint (file_count (f->d, g->job_path), ==, 0);
  g_assert_true (add_files (f->d, g->job_path, batch, G_N_ELEMENTS (batch), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_count (f->d, g->job_path), ==, 3);
  for (guint i = 0; i < G_N_ELEMENTS (batch); i++)
    assert_file (f->d, g->job_path, i, batch[i].url, batch[i].path, batch[i].hint);
  g_assert_true (it_recorder_wait_property (rec, g->job_path, JOB, "FileCount",
                                            g_variant_new_uint32 (3), 5000));
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "FilesTotal"), ==, 3);
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "FilesTotal",
                                            g_variant_new_uint32 (3), 5000));
  /* The size hint is only a hint: sizes stay unknown. */
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "Size"), ==, 0);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "BytesTotal"), ==, 0);
  g_assert_cmpuint (it_get_t (f->d, g->job_path, JOB, "BytesTotal"), ==, 0);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "FilesTransferred"), ==, 0);

  /* A URL of exactly 2,200 bytes is accepted. */
  {
    g_autofree char *prefix = g_strdup ("http://example.invalid/");
    g_autofree char *pad = it_repeat ("u", 2200 - strlen (prefix));
    url_max = g_strconcat (prefix, pad, NULL);
    g_assert_cmpuint (strlen (url_max), ==, 2200);
    it_add_file (f->d, g->job_path, url_max, max_path, 7, &error);
    g_assert_no_error (error);
    assert_file (f->d, g->job_path, 3, url_max, max_path, 7);
  }

  /* Index ≥ count: ItemNotFound. */
  {
    const guint32 bad[] = { 4, 5, 1000, G_MAXUINT32 };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GVariant) reply = qmgr_test_call (f->d, g->job_path, JOB, "GetFile",
                                                    g_variant_new ("(u)", bad[i]), "((sst))",
                                                    &error);
        g_assert_null (reply);
        qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
      }
  }

  /* An empty batch adds nothing and fails nothing. */
  g_assert_true (add_files (f->d, g->job_path, NULL, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_count (f->d, g->job_path), ==, 4);
}

static void
test_add_files_urls (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autofree char *path = it_file (f->d, "u");
  g_autofree char *long_url = NULL;
  {
    g_autofree char *pad = it_repeat ("u", 2201 - strlen ("http://example.invalid/"));
    long_url = g_strconcat ("http://example.invalid/", pad, NULL);
    g_assert_cmpuint (strlen (long_url), ==, 2201);
  }
  {
    const char *const bad[] = {
      long_url,
      "",
      "example.invalid/file",
      "//example.invalid/file",
      "/file",
      "ftp://example.invalid/file",
      "file:///etc/passwd",
      "smb://server/share/file",
      "data:text/plain,hello",
      "gopher://example.invalid/",
      "httpx://example.invalid/",
      "http://user:pass@example.invalid/file",
      "https://user@example.invalid/file",
      "http://:pass@example.invalid/file",
      "http://example.invalid/a b",
      " http://example.invalid/a",
      "http://example.invalid/a ",
      "http://example.invalid/a\tb",
      "http://example.invalid/a\nb",
      "http://example.invalid/a\r\nHost: evil",
      "http://example.invalid/a\x01",
      "http://example.invalid/a\x7f",
      "http://example.invalid/\xc2\xa0",    /* NO-BREAK SPACE */
      "http://example.invalid/\xe2\x80\x83", /* EM SPACE */
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      assert_add_fails (f->d, g->job_path, bad[i], path, IT_ERR_INVALID_ARGS);
  }
  /* The rejected URL is named in the message. */
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (it_add_file (f->d, g->job_path, "ftp://example.invalid/named", path, 0,
                                 &error));
    it_assert_message_contains (error, "ftp://example.invalid/named");
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  }
}

static void
test_add_files_paths (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  const char *files = qmgr_test_daemon_get_files_dir (f->d);
  const char *url = "http://example.invalid/x";
  g_autofree char *plain = it_file (f->d, "plain");
  g_autofree char *sub = it_file (f->d, "sub");
  g_autofree char *in_plain = g_build_filename (plain, "x", NULL);
  g_autofree char *missing = g_build_filename (files, "missing", "x", NULL);
  g_autofree char *missing_deep = g_build_filename (files, "missing", "deeper", "x", NULL);
  g_autofree char *dot = g_strconcat (files, "/./x", NULL);
  g_autofree char *dotdot = g_strconcat (files, "/sub/../x", NULL);
  g_autofree char *dotdot_end = g_strconcat (files, "/sub/..", NULL);
  g_autofree char *dot_end = g_strconcat (files, "/sub/.", NULL);
  g_autofree char *double_slash = g_strconcat (files, "//x", NULL);
  g_autofree char *trailing = g_strconcat (files, "/x/", NULL);
  g_autofree char *newline = g_strconcat (files, "/a\nb", NULL);
  g_autofree char *control = g_strconcat (files, "/a\x01", NULL);
  g_autofree char *escape = g_strconcat (files, "/a\x1b", NULL);
  g_autofree char *del = g_strconcat (files, "/a\x7f", NULL);
  g_autofree char *too_long = NULL;
  g_autoptr(GError) error = NULL;

  g_file_set_contents (plain, "not a directory", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  {
    g_autofree char *component = it_repeat ("p", 200);
    GString *s = g_string_new (files);
    while (s->len <= PATH_MAX + 10)
      g_string_append_printf (s, "/%s", component);
    too_long = g_string_free (s, FALSE);
  }

  {
    const char *const bad[] = {
      "", "x", "relative/path", "./x", "../x", "~/x", dot, dotdot, dotdot_end, dot_end,
      double_slash, trailing, "/", newline, control, escape, del, too_long,
      missing, missing_deep, in_plain, sub, files,
    };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      assert_add_fails (f->d, g->job_path, url, bad[i], IT_ERR_INVALID_ARGS);
  }
  /* The rejected path is named in the message. */
  {
    g_autoptr(GError) e = NULL;
    g_assert_false (it_add_file (f->d, g->job_path, url, "relative/named", 0, &e));
    it_assert_message_contains (e, "relative/named");
    qmgr_test_assert_qmgr_error (e, IT_ERR_INVALID_ARGS);
  }

  /* Still fine: a file inside the sub-directory, an existing file (replaced on
   * completion), a name with dots that are not components. */
  {
    g_autofree char *inside = g_build_filename (sub, "x", NULL);
    g_autofree char *dots = g_build_filename (files, "..x.", NULL);
    it_add_file (f->d, g->job_path, url, inside, 0, &error);
    g_assert_no_error (error);
    it_add_file (f->d, g->job_path, url, plain, 0, &error);
    g_assert_no_error (error);
    it_add_file (f->d, g->job_path, url, dots, 0, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (file_count (f->d, g->job_path), ==, 3);
  }
}

static void
test_add_files_not_writable (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autofree char *ro = it_file (f->d, "read-only");
  g_autofree char *target = g_build_filename (ro, "x", NULL);

  if (geteuid () == 0)
    {
      g_test_skip ("root can write into any directory");
      return;
    }
  g_assert_cmpint (g_mkdir (ro, 0500), ==, 0);
  assert_add_fails (f->d, g->job_path, "http://example.invalid/x", target, IT_ERR_ACCESS_DENIED);
  /* Precedence: a bad URL in the same batch is InvalidArgs. */
  assert_add_fails (f->d, g->job_path, "ftp://example.invalid/x", target, IT_ERR_INVALID_ARGS);
  g_chmod (ro, 0700);
}

static void
test_add_files_destination_in_use (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g1 = it_group_create (f->d, TRUE);
  g_autoptr(ItGroup) g2 = it_group_create (f->d, TRUE);
  g_autofree char *x = it_file (f->d, "x");
  g_autofree char *y = it_file (f->d, "y");
  g_autoptr(GError) error = NULL;

  it_add_file (f->d, g1->job_path, "http://example.invalid/x", x, 0, &error);
  g_assert_no_error (error);

  /* Another incomplete group of the same owner, or the same job again. */
  assert_add_fails (f->d, g2->job_path, "http://example.invalid/other", x, IT_ERR_INVALID_ARGS);
  assert_add_fails (f->d, g1->job_path, "http://example.invalid/x", x, IT_ERR_INVALID_ARGS);
  /* Twice in one batch. */
  {
    const Entry twice[] = {
      { "http://example.invalid/y1", y, 0 },
      { "http://example.invalid/y2", y, 0 },
    };
    g_assert_false (add_files (f->d, g2->job_path, twice, 2, &error));
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
    g_assert_cmpuint (file_count (f->d, g2->job_path), ==, 0);
  }
  /* Suspended or queued makes no difference. */
  it_resume_blocked (f->d, g1->path);
  assert_add_fails (f->d, g2->job_path, "http://example.invalid/other", x, IT_ERR_INVALID_ARGS);

  /* Cancelling the job frees the destination. */
  it_call_void (f->d, g1->job_path, JOB, "CancelJob", NULL);
  g_clear_pointer (&g1->job_id, g_free);
  g_clear_pointer (&g1->job_path, g_free);
  it_add_file (f->d, g2->job_path, "http://example.invalid/other", x, 0, &error);
  g_assert_no_error (error);
  /* And cancelling the group frees it too. */
  it_call_void (f->d, g2->path, GROUP, "CancelGroup", NULL);
  it_group_create_job (f->d, g1);
  it_add_file (f->d, g1->job_path, "http://example.invalid/x", x, 0, &error);
  g_assert_no_error (error);
}

static void
test_add_files_all_or_nothing (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *a = it_file (f->d, "a");
  g_autofree char *b = it_file (f->d, "b");
  g_autofree char *c = it_file (f->d, "c");
  const Entry bad_last[] = {
    { "http://example.invalid/a", a, 0 },
    { "http://example.invalid/b", b, 0 },
    { "ftp://example.invalid/c", c, 0 },
  };
  const Entry bad_first[] = {
    { "http://example.invalid/a", "relative", 0 },
    { "http://example.invalid/b", b, 0 },
  };
  const Entry bad_middle[] = {
    { "http://example.invalid/a", a, 0 },
    { "http://u:p@example.invalid/b", b, 0 },
    { "http://example.invalid/c", c, 0 },
  };
  const Entry good[] = {
    { "http://example.invalid/a", a, 1 },
    { "http://example.invalid/b", b, 2 },
    { "http://example.invalid/c", c, 3 },
  };

  g_assert_false (add_files (f->d, g->job_path, bad_last, 3, &error));
  qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  g_assert_false (add_files (f->d, g->job_path, bad_first, 2, &error));
  qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  g_assert_false (add_files (f->d, g->job_path, bad_middle, 3, &error));
  qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  g_assert_cmpuint (file_count (f->d, g->job_path), ==, 0);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "FilesTotal"), ==, 0);

  /* Nothing was reserved by the failed batches: the same destinations are free. */
  g_assert_true (add_files (f->d, g->job_path, good, 3, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_count (f->d, g->job_path), ==, 3);
  for (guint i = 0; i < 3; i++)
    assert_file (f->d, g->job_path, i, good[i].url, good[i].path, good[i].hint);

  /* Appending while queued is legal. */
  it_resume_blocked (f->d, g->path);
  {
    g_autofree char *d4 = it_file (f->d, "d");
    it_add_file (f->d, g->job_path, "https://example.invalid/d", d4, 0, &error);
    g_assert_no_error (error);
    assert_file (f->d, g->job_path, 3, "https://example.invalid/d", d4, 0);
  }
  g_assert_cmpuint (file_count (f->d, g->job_path), ==, 4);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "FilesTotal"), ==, 4);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x80);
}

static char *
write_config (QmgrTestDaemon *d, const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (qmgr_test_daemon_get_config_dir (d), "qmgrd.conf", NULL);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_files_quota (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autofree char *config = write_config (d, "[Manager]\nMaxFilesPerJob=3\n");
  const char *const args[] = { "--config", config, NULL };
  g_autoptr(ItGroup) g = NULL;
  g_autoptr(ItGroup) other = NULL;
  g_autoptr(GError) error = NULL;
  char *p[6] = { NULL };
  Entry e[6];

  qmgr_test_daemon_start (d, args);
  g = it_group_create (d, TRUE);
  other = it_group_create (d, TRUE);
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *name = g_strdup_printf ("q%u", i);
      p[i] = it_file (d, name);
      e[i].url = "http://example.invalid/q";
      e[i].path = p[i];
      e[i].hint = i;
    }

  g_assert_true (add_files (d, g->job_path, e, 2, &error));
  g_assert_no_error (error);
  /* 2 + 2 > 3: the whole batch is refused. */
  g_assert_false (add_files (d, g->job_path, e + 2, 2, &error));
  qmgr_test_assert_qmgr_error (error, IT_ERR_LIMITS);
  g_assert_cmpuint (file_count (d, g->job_path), ==, 2);
  /* Precedence: an invalid entry makes it InvalidArgs. */
  {
    const Entry mixed[] = { e[2], { "ftp://example.invalid/q", p[3], 0 } };
    g_assert_false (add_files (d, g->job_path, mixed, 2, &error));
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  }
  g_assert_true (add_files (d, g->job_path, e + 2, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_count (d, g->job_path), ==, 3);
  g_assert_false (add_files (d, g->job_path, e + 3, 1, &error));
  qmgr_test_assert_qmgr_error (error, IT_ERR_LIMITS);
  g_assert_cmpuint (file_count (d, g->job_path), ==, 3);

  /* The quota is per job. */
  g_assert_true (add_files (d, other->job_path, e + 3, 3, &error));
  g_assert_no_error (error);
  g_assert_true (add_files (d, other->job_path, e, 0, &error));
  g_assert_no_error (error);
  {
    g_autofree char *extra = it_file (d, "q-extra");
    const Entry one_more[] = { { "http://example.invalid/q", extra, 0 } };
    g_assert_false (add_files (d, other->job_path, one_more, 1, &error));
    qmgr_test_assert_qmgr_error (error, IT_ERR_LIMITS);
  }

  /* A batch larger than the quota on an empty job. */
  it_call_void (d, g->job_path, JOB, "CancelJob", NULL);
  g_clear_pointer (&g->job_id, g_free);
  g_clear_pointer (&g->job_path, g_free);
  it_group_create_job (d, g);
  {
    char *z[4] = { NULL };
    Entry ze[4];
    for (guint i = 0; i < 4; i++)
      {
        g_autofree char *name = g_strdup_printf ("z%u", i);
        z[i] = it_file (d, name);
        ze[i].url = "http://example.invalid/z";
        ze[i].path = z[i];
        ze[i].hint = 0;
      }
    g_assert_false (add_files (d, g->job_path, ze, 4, &error));
    qmgr_test_assert_qmgr_error (error, IT_ERR_LIMITS);
    g_assert_cmpuint (file_count (d, g->job_path), ==, 0);
    g_assert_true (add_files (d, g->job_path, ze, 3, &error));
    g_assert_no_error (error);
    for (guint i = 0; i < 4; i++)
      g_free (z[i]);
  }
  for (guint i = 0; i < 6; i++)
    g_free (p[i]);
  qmgr_test_daemon_stop (d);
}

static void
test_get_file_status (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *a = it_file (f->d, "a");
  g_autofree char *b = it_file (f->d, "b");
  const Entry entries[] = {
    { "http://example.invalid/a", a, 0 },
    { "http://example.invalid/b", b, 4096 },
  };

  /* No files yet: any index is out of range. */
  {
    g_autoptr(GVariant) reply = qmgr_test_call (f->d, g->job_path, JOB, "GetFileStatus",
                                                g_variant_new ("(u)", 0), "(utt(ss))", &error);
    g_assert_null (reply);
    qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
  }
  g_assert_true (add_files (f->d, g->job_path, entries, 2, &error));
  g_assert_no_error (error);
  for (guint32 i = 0; i < 2; i++)
    {
      g_autoptr(GVariant) reply = it_call_ok (f->d, g->job_path, JOB, "GetFileStatus",
                                              g_variant_new ("(u)", i), "(utt(ss))");
      guint32 status;
      guint64 total, transferred;
      const char *name, *message;

      g_variant_get (reply, "(utt(&s&s))", &status, &total, &transferred, &name, &message);
      g_assert_cmpuint (status, ==, 0x2);
      /* Unknown until the server proves it, whatever the hint said. */
      g_assert_cmpuint (total, ==, G_MAXUINT64);
      g_assert_cmpuint (transferred, ==, 0);
      g_assert_cmpstr (name, ==, "");
      g_assert_cmpstr (message, ==, "");
    }
  {
    const guint32 bad[] = { 2, 3, G_MAXUINT32 };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GVariant) reply = qmgr_test_call (f->d, g->job_path, JOB, "GetFileStatus",
                                                    g_variant_new ("(u)", bad[i]), "(utt(ss))",
                                                    &error);
        g_assert_null (reply);
        qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
      }
  }
}

static void
test_get_status (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GVariant) reply = NULL;
  guint32 status, win32, transport, retries;

  reply = it_call_ok (f->d, g->job_path, JOB, "GetStatus", NULL, "(uuuu)");
  g_variant_get (reply, "(uuuu)", &status, &win32, &transport, &retries);
  g_assert_cmpuint (status, ==, 0x8);
  g_assert_cmpuint (win32, ==, 0);
  g_assert_cmpuint (transport, ==, 0);
  g_assert_cmpuint (retries, ==, 0);
  g_assert_cmpuint (it_get_u (f->d, g->job_path, JOB, "Status"), ==, 0x8);
  g_assert_cmpuint (it_get_u (f->d, g->job_path, JOB, "CurrentFileIndex"), ==, 0);
  {
    g_autoptr(GVariant) last_error = it_get_property (f->d, g->job_path, JOB, "LastError");
    g_assert_cmpstr (g_variant_get_type_string (last_error), ==, "(ss)");
    g_assert_true (g_variant_equal (last_error, g_variant_new ("(ss)", "", "")));
  }
}

static void
test_cancel_job (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *a = it_file (f->d, "a");
  g_autofree char *old_job_id = NULL;
  g_autofree char *old_job_path = NULL;

  it_add_file (f->d, g->job_path, "http://example.invalid/a", a, 0, &error);
  g_assert_no_error (error);
  it_resume_blocked (f->d, g->path);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x80);

  it_call_void (f->d, g->job_path, JOB, "CancelJob", NULL);
  old_job_id = g_steal_pointer (&g->job_id);
  old_job_path = g_steal_pointer (&g->job_path);

  /* The group is empty and suspended. */
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x180);
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "Status",
                                            g_variant_new_uint32 (0x180), 5000));
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "FilesTotal"), ==, 0);
  {
    g_autofree char *reason = it_get_s (f->d, g->path, GROUP, "WaitReason");
    g_assert_cmpstr (reason, ==, "suspended");
  }
  /* The job object is gone. */
  reply = qmgr_test_call (f->d, old_job_path, JOB, "GetFileCount", NULL, "(u)", &error);
  g_assert_null (reply);
  qmgr_test_assert_dbus_error (error, IT_ERR_UNKNOWN_OBJECT);
  reply = qmgr_test_call (f->d, old_job_path, JOB, "CancelJob", NULL, "()", &error);
  g_assert_null (reply);
  qmgr_test_assert_dbus_error (error, IT_ERR_UNKNOWN_OBJECT);
  reply = qmgr_test_call (f->d, g->path, GROUP, "GetJob", g_variant_new ("(s)", old_job_id),
                          "(o)", &error);
  g_assert_null (reply);
  qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
  reply = qmgr_test_call (f->d, g->path, GROUP, "QueryNewJobInterface",
                          g_variant_new ("(s)", JOB), "(o)", &error);
  g_assert_null (reply);
  qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
  reply = it_call_ok (f->d, g->path, GROUP, "EnumJobs", g_variant_new ("(u)", 0), "(as)");
  {
    g_autoptr(GVariant) ids = g_variant_get_child_value (reply, 0);
    g_assert_cmpuint (g_variant_n_children (ids), ==, 0);
  }
  g_clear_pointer (&reply, g_variant_unref);
  /* Nothing to resume any more. */
  reply = qmgr_test_call (f->d, g->path, GROUP, "ResumeGroup", NULL, "()", &error);
  g_assert_null (reply);
  qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_STATE);

  /* A new job can be created, and the destination is free again. */
  it_group_create_job (f->d, g);
  it_add_file (f->d, g->job_path, "http://example.invalid/a", a, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "FilesTotal"), ==, 1);

  /* CancelJob on a suspended job with no files works too. */
  it_call_void (f->d, g->job_path, JOB, "CancelJob", NULL);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x180);
}

static void
test_switch_to_foreground (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);

  it_call_void (f->d, g->job_path, JOB, "SwitchToForeground", NULL);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x580);
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x28);
  g_assert_cmpuint (it_get_u (f->d, g->job_path, JOB, "Status"), ==, 0x28);
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "Status",
                                            g_variant_new_uint32 (0x580), 5000));
  /* Twice is harmless. */
  it_call_void (f->d, g->job_path, JOB, "SwitchToForeground", NULL);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x580);
}

static void
test_resume_without_files (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = qmgr_test_call (f->d, g->path, GROUP, "ResumeGroup", NULL, "()", &error);
  g_assert_null (reply);
  it_assert_message_contains (error, g->id);
  qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_STATE);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x180);
}

/* What one call changes on an object is announced together: AddFiles moves
 * several properties of the job and of the group, each object sends one
 * PropertiesChanged carrying them all. */
static void
test_add_files_one_signal_per_object (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  g_autoptr(GError) error = NULL;
  g_autofree char *a = it_file (f->d, "a");
  const char *props = "org.freedesktop.DBus.Properties";

  g_assert_true (it_add_file (f->d, g->job_path, "http://example.invalid/a", a, 10, &error));
  g_assert_no_error (error);
  it_recorder_sync (rec);
  g_assert_cmpuint (it_recorder_count (rec, g->job_path, props, "PropertiesChanged"), ==, 1);
  g_assert_true (it_recorder_saw_property (rec, g->job_path, JOB, "FileCount"));
  g_assert_cmpuint (it_recorder_count (rec, g->path, props, "PropertiesChanged"), ==, 1);
  g_assert_true (it_recorder_saw_property (rec, g->path, GROUP, "FilesTotal"));
  g_assert_true (it_recorder_saw_property (rec, g->path, GROUP, "ModificationTime"));
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  it_add ("/job/add-files/valid", test_add_files_valid);
  it_add ("/job/add-files/one-signal-per-object", test_add_files_one_signal_per_object);
  it_add ("/job/add-files/urls", test_add_files_urls);
  it_add ("/job/add-files/paths", test_add_files_paths);
  it_add ("/job/add-files/not-writable", test_add_files_not_writable);
  it_add ("/job/add-files/destination-in-use", test_add_files_destination_in_use);
  it_add ("/job/add-files/all-or-nothing", test_add_files_all_or_nothing);
  g_test_add_func ("/job/add-files/quota", test_files_quota);
  it_add ("/job/get-file-status", test_get_file_status);
  it_add ("/job/get-status", test_get_status);
  it_add ("/job/cancel-job", test_cancel_job);
  it_add ("/job/switch-to-foreground", test_switch_to_foreground);
  it_add ("/job/resume-without-files", test_resume_without_files);
  return g_test_run ();
}
