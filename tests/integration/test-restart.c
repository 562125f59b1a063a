/* qmgrd integration tests — the store across restarts: groups, jobs, files, status
 * and properties come back identical after SIGTERM and after SIGKILL, cancelled groups
 * stay gone, and the stored password shows up nowhere it must not (GetProp, GetAll,
 * Introspect, GetManagedObjects, the log) while its file is private (0600). */
#include "it-util.h"

#include <string.h>
#include <sys/stat.h>

#define GROUP QMGR_TEST_GROUP_IFACE
#define JOB QMGR_TEST_JOB_IFACE
#define PASSWORD "pw-Zq81-s3cr3t-Value"

static void
setprop_ok (QmgrTestDaemon *d, const char *path, guint32 id, GVariant *value)
{
  g_autoptr(GError) error = NULL;

  it_setprop (d, path, id, value, &error);
  g_assert_no_error (error);
}

static void
set_ok (QmgrTestDaemon *d, const char *path, const char *name, GVariant *value)
{
  g_autoptr(GError) error = NULL;

  it_set_property (d, path, GROUP, name, value, &error);
  g_assert_no_error (error);
}

static void
add_file (QmgrTestDaemon *d, ItGroup *g, const char *name, guint64 hint)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *local = it_file (d, name);
  g_autofree char *url = g_strdup_printf ("https://example.invalid/files/%s?v=1", name);

  it_add_file (d, g->job_path, url, local, hint, &error);
  g_assert_no_error (error);
}

static void
add_owned (GVariantBuilder *builder, GVariant *value)
{
  g_variant_builder_add (builder, "v", value);
  g_variant_unref (value);
}

/* Everything a client can read about the queue, except what the scheduler may move
 * right after start-up (WaitReason), as one comparable value. */
static GVariant *
snapshot (QmgrTestDaemon *d)
{
  g_autoptr(GVariant) enum_reply = it_call_ok (d, QMGR_TEST_MANAGER_PATH,
                                               QMGR_TEST_MANAGER_IFACE, "EnumGroups",
                                               g_variant_new ("(u)", 0), "(as)");
  g_autofree const char **ids = NULL;
  GVariantBuilder groups;

  g_variant_get (enum_reply, "(^a&s)", &ids);
  g_variant_builder_init (&groups, G_VARIANT_TYPE ("av"));
  for (guint i = 0; ids[i]; i++)
    {
      g_autoptr(GVariant) get = it_call_ok (d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE,
                                            "GetGroup", g_variant_new ("(s)", ids[i]), "(o)");
      const char *path;
      g_autoptr(GVariant) all = NULL;
      g_autoptr(GVariant) status = NULL;
      g_autoptr(GVariant) jobs = NULL;
      g_autofree const char **job_ids = NULL;
      GVariantBuilder props, group, job;

      g_variant_get (get, "(&o)", &path);
      all = it_get_all (d, path, GROUP);
      status = it_call_ok (d, path, GROUP, "GetStatus", NULL, "(uu)");
      g_variant_builder_init (&props, G_VARIANT_TYPE ("a{sv}"));
      for (gsize k = 0; k < g_variant_n_children (all); k++)
        {
          const char *key;
          g_autoptr(GVariant) value = NULL;
          g_variant_get_child (all, k, "{&sv}", &key, &value);
          if (strcmp (key, "WaitReason") != 0)
            g_variant_builder_add (&props, "{sv}", key, value);
        }
      g_variant_builder_init (&group, G_VARIANT_TYPE ("av"));
      g_variant_builder_add (&group, "v", g_variant_new_string (ids[i]));
      g_variant_builder_add (&group, "v", g_variant_new_object_path (path));
      g_variant_builder_add (&group, "v", g_variant_builder_end (&props));
      g_variant_builder_add (&group, "v", status);
      for (guint32 id = 0; id <= 12; id++)
        {
          g_autoptr(GVariant) v = NULL;
          if ((id >= 3 && id <= 4) || (id >= 8 && id <= 10))
            continue;
          v = it_getprop (d, path, id, NULL);
          g_assert_nonnull (v);
          g_variant_builder_add (&group, "v", v);
        }

      jobs = it_call_ok (d, path, GROUP, "EnumJobs", g_variant_new ("(u)", 0), "(as)");
      g_variant_builder_add (&group, "v", jobs);
      g_variant_get (jobs, "(^a&s)", &job_ids);
      g_variant_builder_init (&job, G_VARIANT_TYPE ("av"));
      for (guint j = 0; job_ids[j]; j++)
        {
          g_autoptr(GVariant) job_get = it_call_ok (d, path, GROUP, "GetJob",
                                                    g_variant_new ("(s)", job_ids[j]), "(o)");
          const char *job_path;
          guint32 count;
          g_autoptr(GVariant) count_reply = NULL;

          g_variant_get (job_get, "(&o)", &job_path);
          g_variant_builder_add (&job, "v", g_variant_new_object_path (job_path));
          add_owned (&job, it_get_all (d, job_path, JOB));
          add_owned (&job, it_call_ok (d, job_path, JOB, "GetStatus", NULL, "(uuuu)"));
          count_reply = it_call_ok (d, job_path, JOB, "GetFileCount", NULL, "(u)");
          g_variant_get (count_reply, "(u)", &count);
          for (guint32 k = 0; k < count; k++)
            {
              add_owned (&job, it_call_ok (d, job_path, JOB, "GetFile",
                                           g_variant_new ("(u)", k), "((sst))"));
              add_owned (&job, it_call_ok (d, job_path, JOB, "GetFileStatus",
                                           g_variant_new ("(u)", k), "(utt(ss))"));
            }
        }
      g_variant_builder_add (&group, "v", g_variant_builder_end (&job));
      g_variant_builder_add (&groups, "v", g_variant_builder_end (&group));
    }
  return g_variant_ref_sink (g_variant_builder_end (&groups));
}

static void
assert_same_snapshot (GVariant *before, GVariant *after)
{
  g_autofree char *diff = it_variant_diff (before, after);

  if (diff != NULL)
    {
      g_autofree char *message = g_strdup_printf ("the queue changed across the restart at %s",
                                                  diff);
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, message);
    }
}

static char *
introspect (QmgrTestDaemon *d, const char *path)
{
  g_autoptr(GVariant) reply = it_call_ok (d, path, "org.freedesktop.DBus.Introspectable",
                                          "Introspect", NULL, "(s)");
  char *xml;

  g_variant_get (reply, "(s)", &xml);
  return xml;
}

static void
assert_password_hidden (QmgrTestDaemon *d, ItGroup *g)
{
  g_autofree char *log = NULL;
  g_autoptr(GVariant) all = it_get_all (d, g->path, GROUP);
  g_autoptr(GVariant) job_all = it_get_all (d, g->job_path, JOB);
  g_autoptr(GVariant) objects = it_call_ok (d, QMGR_TEST_MANAGER_PATH,
                                            "org.freedesktop.DBus.ObjectManager",
                                            "GetManagedObjects", NULL, "(a{oa{sa{sv}}})");
  const char *const paths[] = { QMGR_TEST_MANAGER_PATH, g->path, g->job_path };

  for (guint32 id = 0; id <= 12; id++)
    {
      g_autoptr(GVariant) v = it_getprop (d, g->path, id, NULL);
      g_autofree char *shown = v ? g_variant_print (v, FALSE) : NULL;
      g_assert_false (it_contains (shown, PASSWORD));
    }
  {
    g_autoptr(GVariant) v = it_getprop (d, g->path, 2, NULL);
    g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "");
  }
  {
    g_autofree char *shown = g_variant_print (all, FALSE);
    g_autofree char *shown_job = g_variant_print (job_all, FALSE);
    g_autofree char *shown_objects = g_variant_print (objects, FALSE);
    g_assert_false (it_contains (shown, PASSWORD));
    g_assert_false (it_contains (shown_job, PASSWORD));
    g_assert_false (it_contains (shown_objects, PASSWORD));
  }
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *xml = introspect (d, paths[i]);
      g_assert_false (it_contains (xml, PASSWORD));
    }
  g_assert_true (g_file_get_contents (qmgr_test_daemon_get_log (d), &log, NULL, NULL));
  g_assert_false (it_contains (log, PASSWORD));
}

static char *
store_file (QmgrTestDaemon *d, const char *guid)
{
  g_autofree char *hex = it_guid_hex (guid);
  g_autofree char *name = g_strconcat (hex, ".group", NULL);

  return g_build_filename (qmgr_test_daemon_get_state_dir (d), "groups", name, NULL);
}

static void
assert_store_private (QmgrTestDaemon *d, ItGroup *const *groups, guint n)
{
  struct stat st;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = store_file (d, groups[i]->id);
      g_test_message ("store file %s", path);
      g_assert_cmpint (stat (path, &st), ==, 0);
      g_assert_true (S_ISREG (st.st_mode));
      g_assert_cmpuint (st.st_mode & 07777, ==, 0600);
    }
}

typedef struct {
  ItGroup *a, *b, *c, *d, *e, *f;
} Queue;

static void
queue_clear (Queue *q)
{
  it_group_free (q->a);
  it_group_free (q->b);
  it_group_free (q->c);
  it_group_free (q->d);
  it_group_free (q->e);
  it_group_free (q->f);
}

/* B's file points at a server that never answers: whether or not its TransferPolicy
 * holds it back (test-group checks that), nothing about it moves across the restart. */
static void
build_queue (QmgrTestDaemon *d, Queue *q, ItBlackhole *hole)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *stalled_url = it_blackhole_url (hole, "/b1");
  g_autofree char *stalled = it_file (d, "b1");
  g_autofree char *long_desc = it_repeat ("\xc3\xa9t\xc3\xa9\n", 200);

  /* A: everything set, foreground, suspended. */
  q->a = it_group_create (d, TRUE);
  add_file (d, q->a, "a1", 0);
  add_file (d, q->a, "a2", G_MAXUINT64);
  setprop_ok (d, q->a->path, 11, g_variant_new_string ("Alpha — nightly"));
  setprop_ok (d, q->a->path, 12, g_variant_new_string (long_desc));
  setprop_ok (d, q->a->path, 6, g_variant_new_uint32 (0x5));
  setprop_ok (d, q->a->path, 7, g_variant_new_string ("org.example.A:/org/example/A/cb"));
  setprop_ok (d, q->a->path, 1, g_variant_new_string ("alice"));
  setprop_ok (d, q->a->path, 2, g_variant_new_string (PASSWORD));
  set_ok (d, q->a->path, "TransferPolicy", g_variant_new_uint32 (0x80000067u));
  set_ok (d, q->a->path, "BandwidthLimit", g_variant_new_uint64 (1000));
  set_ok (d, q->a->path, "MinimumRetryDelay", g_variant_new_uint32 (90));
  set_ok (d, q->a->path, "NoProgressTimeout", g_variant_new_uint32 (7200));
  it_call_void (d, q->a->path, GROUP, "SwitchToForeground", NULL);

  /* B: queued, held back by its policy. */
  q->b = it_group_create (d, TRUE);
  it_add_file (d, q->b->job_path, stalled_url, stalled, 100, &error);
  g_assert_no_error (error);
  it_resume_blocked (d, q->b->path);

  /* C: no job. D: a job without files. */
  q->c = it_group_create (d, FALSE);
  setprop_ok (d, q->c->path, 11, g_variant_new_string ("Gamma"));
  q->d = it_group_create (d, TRUE);

  /* E: cancelled. F: resumed, then suspended again. */
  q->e = it_group_create (d, TRUE);
  add_file (d, q->e, "e1", 0);
  it_call_void (d, q->e->path, GROUP, "CancelGroup", NULL);
  q->f = it_group_create (d, TRUE);
  add_file (d, q->f, "f1", 0);
  add_file (d, q->f, "f2", 0);
  add_file (d, q->f, "f3", 0);
  it_resume_blocked (d, q->f->path);
  it_call_void (d, q->f->path, GROUP, "SuspendGroup", NULL);
}

static void
assert_queue_state (QmgrTestDaemon *d, Queue *q)
{
  g_autoptr(GVariant) enum_reply = it_call_ok (d, QMGR_TEST_MANAGER_PATH,
                                               QMGR_TEST_MANAGER_IFACE, "EnumGroups",
                                               g_variant_new ("(u)", 0), "(as)");
  g_autofree const char **ids = NULL;
  const char *const expected[] = { q->a->id, q->b->id, q->c->id, q->d->id, q->f->id, NULL };

  g_variant_get (enum_reply, "(^a&s)", &ids);
  g_assert_cmpuint (g_strv_length ((char **) ids), ==, 5);
  for (guint i = 0; expected[i]; i++)
    g_assert_cmpstr (ids[i], ==, expected[i]);

  g_assert_cmpuint (it_group_status (d, q->a->path), ==, 0x580);
  g_assert_cmpuint (it_job_status (d, q->a->job_path), ==, 0x28);
  g_assert_cmpuint (it_group_status (d, q->b->path), ==, 0x80);
  g_assert_cmpuint (it_group_status (d, q->c->path), ==, 0x180);
  g_assert_cmpuint (it_group_status (d, q->d->path), ==, 0x180);
  g_assert_cmpuint (it_group_status (d, q->f->path), ==, 0x180);
  g_assert_true (it_wait_property (d, q->a->path, GROUP, "WaitReason",
                                   g_variant_new_string ("suspended"), 5000));
  {
    g_autoptr(GVariant) v = it_getprop (d, q->a->path, 1, NULL);
    g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "alice");
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = qmgr_test_call (d, QMGR_TEST_MANAGER_PATH,
                                                QMGR_TEST_MANAGER_IFACE, "GetGroup",
                                                g_variant_new ("(s)", q->e->id), "(o)", &error);
    g_assert_null (reply);
    qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
  }
  {
    g_autofree char *gone = store_file (d, q->e->id);
    g_assert_false (g_file_test (gone, G_FILE_TEST_EXISTS));
  }
}

static void
test_restart (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  const char *const args[] = { "--verbose", NULL };
  g_autoptr(ItBlackhole) hole = it_blackhole_new ();
  Queue q = { NULL };
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GVariant) objects_before = NULL;
  g_autoptr(GVariant) objects_after = NULL;

  qmgr_test_daemon_start (d, args);
  build_queue (d, &q, hole);
  assert_queue_state (d, &q);
  before = snapshot (d);
  objects_before = it_call_ok (d, QMGR_TEST_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                               "GetManagedObjects", NULL, "(a{oa{sa{sv}}})");
  assert_password_hidden (d, q.a);

  /* A stopped daemon leaves one private file per group (the journal folded). */
  qmgr_test_daemon_stop (d);
  {
    ItGroup *const stored[] = { q.a, q.b, q.c, q.d, q.f };
    assert_store_private (d, stored, G_N_ELEMENTS (stored));
  }
  qmgr_test_daemon_start (d, args);

  assert_queue_state (d, &q);
  after = snapshot (d);
  assert_same_snapshot (before, after);
  objects_after = it_call_ok (d, QMGR_TEST_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                              "GetManagedObjects", NULL, "(a{oa{sa{sv}}})");
  {
    /* The same objects (values may differ only in WaitReason, checked above). */
    g_autoptr(GVariant) list_before = g_variant_get_child_value (objects_before, 0);
    g_autoptr(GVariant) list_after = g_variant_get_child_value (objects_after, 0);
    g_assert_cmpuint (g_variant_n_children (list_after), ==, g_variant_n_children (list_before));
    for (gsize i = 0; i < g_variant_n_children (list_before); i++)
      {
        const char *path;
        g_autoptr(GVariant) ifaces = NULL;
        g_autoptr(GVariant) found = NULL;
        g_variant_get_child (list_before, i, "{&o@a{sa{sv}}}", &path, &ifaces);
        found = g_variant_lookup_value (list_after, path, NULL);
        g_test_message ("managed object %s", path);
        g_assert_nonnull (found);
      }
  }
  assert_password_hidden (d, q.a);
  {
    ItGroup *const stored[] = { q.a, q.b, q.c, q.d, q.f };
    assert_store_private (d, stored, G_N_ELEMENTS (stored));
  }

  /* The restored groups still work: the stored password is kept (write-only), the
   * destinations are still reserved, the state machine goes on. */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *a1 = it_file (d, "a1");
    g_assert_false (it_add_file (d, q.d->job_path, "http://example.invalid/x", a1, 0, &error));
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  }
  it_call_void (d, q.f->path, GROUP, "ResumeGroup", NULL);
  it_call_void (d, q.f->path, GROUP, "SuspendGroup", NULL);
  it_call_void (d, q.c->path, GROUP, "CancelGroup", NULL);
  /* The queued group is queued again, still held back by its stored policy. */
  g_assert_true (it_wait_property (d, q.b->path, GROUP, "WaitReason",
                                   g_variant_new_string ("metered"), 5000));
  it_call_void (d, q.b->path, GROUP, "SuspendGroup", NULL);
  g_assert_cmpuint (it_group_status (d, q.b->path), ==, 0x180);

  qmgr_test_daemon_stop (d);
  queue_clear (&q);
}

static void
test_restart_after_kill (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(ItBlackhole) hole = it_blackhole_new ();
  Queue q = { NULL };
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GError) error = NULL;

  qmgr_test_daemon_start (d, NULL);
  build_queue (d, &q, hole);
  /* Every reply means "on disk": changes made just before SIGKILL survive. */
  setprop_ok (d, q.c->path, 11, g_variant_new_string ("Gamma 2"));
  add_file (d, q.d, "d1", 5);
  it_set_property (d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, "MaxConcurrentTransfers",
                   g_variant_new_uint32 (3), &error);
  g_assert_no_error (error);
  before = snapshot (d);

  qmgr_test_daemon_kill (d);
  qmgr_test_daemon_start (d, NULL);

  after = snapshot (d);
  assert_same_snapshot (before, after);
  {
    g_autoptr(GVariant) v = it_getprop (d, q.c->path, 11, NULL);
    g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "Gamma 2");
  }
  g_assert_cmpuint (it_get_u (d, q.d->job_path, JOB, "FileCount"), ==, 1);
  g_assert_cmpuint (it_get_u (d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE,
                              "MaxConcurrentTransfers"), ==, 3);
  qmgr_test_daemon_stop (d);
  queue_clear (&q);
}

static void
test_restart_empty (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(GVariant) reply = NULL;

  /* An empty state directory, twice. */
  qmgr_test_daemon_start (d, NULL);
  qmgr_test_daemon_stop (d);
  qmgr_test_daemon_start (d, NULL);
  reply = it_call_ok (d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, "EnumGroups",
                      g_variant_new ("(u)", 0), "(as)");
  {
    g_autoptr(GVariant) ids = g_variant_get_child_value (reply, 0);
    g_assert_cmpuint (g_variant_n_children (ids), ==, 0);
  }
  qmgr_test_daemon_stop (d);
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  g_test_add_func ("/restart/sigterm", test_restart);
  g_test_add_func ("/restart/sigkill", test_restart_after_kill);
  g_test_add_func ("/restart/empty", test_restart_empty);
  return g_test_run ();
}
