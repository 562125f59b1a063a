/* qmgrd integration tests — "a successful reply means the change is on disk": the
 * daemon runs with slow-journal-preload.c, which sleeps before every write to the
 * store's journal, so that a reply sent before the journal was written leaves the
 * record in the daemon's memory for that long. Each step makes one state-changing
 * call, SIGKILLs the daemon as soon as the reply arrives, restarts it on the same
 * state directory and checks everything changed so far, the last change included.
 *
 * A daemon that replies early fails here on the first step, every run (not once in
 * a while as in test-crash). Each reply must also have waited for the slowed write:
 * it arrives no sooner than the delay after the call. */
#include "it-util.h"

#include <string.h>

#define GROUP QMGR_TEST_GROUP_IFACE
#define JOB QMGR_TEST_JOB_IFACE

#ifndef SLOW_JOURNAL_PRELOAD
#error "SLOW_JOURNAL_PRELOAD (the path of the shim) must be defined by the build"
#endif

#define DELAY_MS 300
#define POLICY IT_TRANSFER_POLICY_CAPPED_ONLY

/* What the daemon must show after every restart: the effect of every call whose reply
 * arrived. */
typedef struct {
  QmgrTestDaemon *d;
  ItGroup *a;              /* NULL until created */
  ItGroup *b;
  char *b_id;              /* kept after B is cancelled */
  char *b_path;
  gboolean b_cancelled;
  const char *display_name;
  const char *description;
  guint32 policy;
  guint files;
  guint32 status;
} Model;

static void
model_clear (Model *m)
{
  g_clear_pointer (&m->a, it_group_free);
  g_clear_pointer (&m->b, it_group_free);
  g_clear_pointer (&m->b_id, g_free);
  g_clear_pointer (&m->b_path, g_free);
}

static void
start_slow (QmgrTestDaemon *d)
{
  const char *preload = g_getenv ("LD_PRELOAD");
  const char *asan = g_getenv ("ASAN_OPTIONS");
  g_autofree char *new_preload = NULL;
  g_autofree char *new_asan = NULL;
  g_autofree char *delay = g_strdup_printf ("%d", DELAY_MS);

  /* After whatever is preloaded already (a sanitizer runtime must stay first). */
  new_preload = preload != NULL && *preload != '\0'
                  ? g_strconcat (preload, ":", SLOW_JOURNAL_PRELOAD, NULL)
                  : g_strdup (SLOW_JOURNAL_PRELOAD);
  /* An ASan daemon refuses a preloaded library ahead of its runtime otherwise. */
  new_asan = asan != NULL && *asan != '\0'
               ? g_strconcat (asan, ":verify_asan_link_order=0", NULL)
               : g_strdup ("verify_asan_link_order=0");
  qmgr_test_daemon_set_env (d, "LD_PRELOAD", new_preload);
  qmgr_test_daemon_set_env (d, "ASAN_OPTIONS", new_asan);
  qmgr_test_daemon_set_env (d, "QMGR_TEST_SLOW_JOURNAL_MS", delay);
  qmgr_test_daemon_start (d, NULL);
}

static GStrv
enum_groups (QmgrTestDaemon *d)
{
  g_autoptr(GVariant) reply = it_call_ok (d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE,
                                          "EnumGroups", g_variant_new ("(u)", 0), "(as)");
  GStrv ids = NULL;

  g_variant_get (reply, "(^as)", &ids);
  return ids;
}

static void
assert_group_gone (QmgrTestDaemon *d, const char *id, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = qmgr_test_call (d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, "GetGroup",
                          g_variant_new ("(s)", id), "(o)", &error);
  g_assert_null (reply);
  qmgr_test_assert_dbus_error (error, IT_ERR_ITEM_NOT_FOUND);
  reply = qmgr_test_call (d, path, GROUP, "GetStatus", NULL, "(uu)", &error);
  g_assert_null (reply);
  qmgr_test_assert_dbus_error (error, IT_ERR_UNKNOWN_OBJECT);
}

static void
assert_model (Model *m)
{
  QmgrTestDaemon *d = m->d;
  g_auto(GStrv) ids = enum_groups (d);
  guint expected_groups = (m->a != NULL) + (m->b != NULL);

  g_assert_cmpuint (g_strv_length (ids), ==, expected_groups);
  if (m->b_cancelled)
    assert_group_gone (d, m->b_id, m->b_path);

  if (m->b != NULL)
    {
      g_autoptr(GVariant) reply = it_call_ok (d, QMGR_TEST_MANAGER_PATH,
                                              QMGR_TEST_MANAGER_IFACE, "GetGroup",
                                              g_variant_new ("(s)", m->b->id), "(o)");
      g_assert_true (g_strv_contains ((const char *const *) ids, m->b->id));
      g_assert_cmpuint (it_group_status (d, m->b->path), ==,
                        IT_STATUS_GROUP_SUSPENDED | IT_STATUS_GROUP_INCOMPLETE);
    }

  if (m->a != NULL)
    {
      g_autoptr(GVariant) reply = it_call_ok (d, QMGR_TEST_MANAGER_PATH,
                                              QMGR_TEST_MANAGER_IFACE, "GetGroup",
                                              g_variant_new ("(s)", m->a->id), "(o)");
      g_autoptr(GVariant) jobs = it_call_ok (d, m->a->path, GROUP, "EnumJobs",
                                             g_variant_new ("(u)", 0), "(as)");
      g_autoptr(GVariant) name = it_getprop (d, m->a->path, 11, NULL);
      g_autofree char *description = it_get_s (d, m->a->path, GROUP, "Description");
      g_autofree const char **job_ids = NULL;
      const char *path;

      g_assert_true (g_strv_contains ((const char *const *) ids, m->a->id));
      g_variant_get (reply, "(&o)", &path);
      g_assert_cmpstr (path, ==, m->a->path);
      g_assert_nonnull (name);
      g_assert_cmpstr (g_variant_get_string (name, NULL), ==,
                       m->display_name ? m->display_name : "");
      g_assert_cmpstr (description, ==, m->description ? m->description : "");
      g_assert_cmpuint (it_get_u (d, m->a->path, GROUP, "TransferPolicy"), ==, m->policy);
      g_assert_cmpuint (it_group_status (d, m->a->path), ==, m->status);
      g_assert_cmpuint (it_get_u (d, m->a->path, GROUP, "FilesTotal"), ==, m->files);

      g_variant_get (jobs, "(^a&s)", &job_ids);
      if (m->a->job_id == NULL)
        g_assert_cmpuint (g_strv_length ((char **) job_ids), ==, 0);
      else
        {
          g_autoptr(GVariant) count = NULL;
          guint32 n;

          g_assert_cmpuint (g_strv_length ((char **) job_ids), ==, 1);
          g_assert_cmpstr (job_ids[0], ==, m->a->job_id);
          count = it_call_ok (d, m->a->job_path, JOB, "GetFileCount", NULL, "(u)");
          g_variant_get (count, "(u)", &n);
          g_assert_cmpuint (n, ==, m->files);
          for (guint32 k = 0; k < n; k++)
            {
              g_autoptr(GVariant) file = it_call_ok (d, m->a->job_path, JOB, "GetFile",
                                                     g_variant_new ("(u)", k), "((sst))");
              g_autofree char *expected = g_strdup_printf ("f%u", k);
              g_autofree char *local = it_file (d, expected);
              const char *url, *local_path;
              guint64 size;

              g_variant_get (file, "((&s&st))", &url, &local_path, &size);
              g_assert_cmpstr (local_path, ==, local);
            }
        }
    }
}

static void
add_files (Model *m, guint n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sst)"));
  for (guint i = m->files; i < m->files + n; i++)
    {
      g_autofree char *name = g_strdup_printf ("f%u", i);
      g_autofree char *local = it_file (m->d, name);
      g_autofree char *url = g_strdup_printf ("https://example.invalid/%s", name);

      g_variant_builder_add (&b, "(sst)", url, local, (guint64) 1000 + i);
    }
  reply = qmgr_test_call (m->d, m->a->job_path, JOB, "AddFiles",
                          g_variant_new ("(a(sst))", &b), "()", &error);
  g_assert_no_error (error);
  m->files += n;
}

static void
set_ok (Model *m, const char *path, const char *name, GVariant *value)
{
  g_autoptr(GError) error = NULL;

  it_set_property (m->d, path, GROUP, name, value, &error);
  g_assert_no_error (error);
}

static void
setprop_ok (Model *m, const char *path, guint32 id, GVariant *value)
{
  g_autoptr(GError) error = NULL;

  it_setprop (m->d, path, id, value, &error);
  g_assert_no_error (error);
}

/* One state-changing call each; the model follows once the reply is in. */

static void
step_create_a (Model *m)
{
  m->a = it_group_create (m->d, FALSE);
  m->status = IT_STATUS_GROUP_SUSPENDED | IT_STATUS_GROUP_INCOMPLETE;
}

static void
step_setprop_name (Model *m)
{
  setprop_ok (m, m->a->path, 11, g_variant_new_string ("Durable — first name"));
  m->display_name = "Durable — first name";
}

static void
step_create_job (Model *m)
{
  it_group_create_job (m->d, m->a);
}

static void
step_add_file (Model *m)
{
  add_files (m, 1);
}

static void
step_set_description (Model *m)
{
  set_ok (m, m->a->path, "Description", g_variant_new_string ("set with Properties.Set"));
  m->description = "set with Properties.Set";
}

static void
step_add_two_files (Model *m)
{
  add_files (m, 2);
}

static void
step_create_b (Model *m)
{
  m->b = it_group_create (m->d, FALSE);
  m->b_id = g_strdup (m->b->id);
  m->b_path = g_strdup (m->b->path);
}

static void
step_set_policy (Model *m)
{
  set_ok (m, m->a->path, "TransferPolicy", g_variant_new_uint32 (POLICY));
  m->policy = POLICY;
}

static void
step_resume (Model *m)
{
  /* The policy holds it back: queued, nothing moves. */
  it_call_void (m->d, m->a->path, GROUP, "ResumeGroup", NULL);
  m->status = IT_STATUS_GROUP_INCOMPLETE;
}

static void
step_cancel_b (Model *m)
{
  it_call_void (m->d, m->b->path, GROUP, "CancelGroup", NULL);
  g_clear_pointer (&m->b, it_group_free);
  m->b_cancelled = TRUE;
}

static void
step_set_name_again (Model *m)
{
  set_ok (m, m->a->path, "DisplayName", g_variant_new_string ("Durable — second name"));
  m->display_name = "Durable — second name";
}

static void
step_suspend (Model *m)
{
  it_call_void (m->d, m->a->path, GROUP, "SuspendGroup", NULL);
  m->status = IT_STATUS_GROUP_SUSPENDED | IT_STATUS_GROUP_INCOMPLETE;
}

static const struct {
  const char *name;
  void (*run) (Model *m);
} steps[] = {
  { "Manager.CreateGroup", step_create_a },
  { "Group.SetProp DisplayName", step_setprop_name },
  { "Group.CreateJob", step_create_job },
  { "Job.AddFiles (one file)", step_add_file },
  { "Properties.Set Description", step_set_description },
  { "Job.AddFiles (two files)", step_add_two_files },
  { "Manager.CreateGroup (a second group)", step_create_b },
  { "Properties.Set TransferPolicy", step_set_policy },
  { "Group.ResumeGroup", step_resume },
  { "Group.CancelGroup (the second group)", step_cancel_b },
  { "Properties.Set DisplayName", step_set_name_again },
  { "Group.SuspendGroup", step_suspend },
};

static void
test_reply_means_on_disk (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autofree char *log = NULL;
  Model m = { .d = d };
  gint64 slowest = 0, fastest = G_MAXINT64;

  start_slow (d);
  assert_model (&m);

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      gint64 start = g_get_monotonic_time ();
      gint64 took_ms;

      steps[i].run (&m);
      took_ms = (g_get_monotonic_time () - start) / 1000;
      /* At once: a record the reply ran ahead of is still in the shim's sleep. */
      qmgr_test_daemon_kill (d);
      g_test_message ("step %u: %s replied after %" G_GINT64_FORMAT " ms; killed, restarting",
                      i + 1, steps[i].name, took_ms);
      slowest = MAX (slowest, took_ms);
      fastest = MIN (fastest, took_ms);

      start_slow (d);
      assert_model (&m);
      /* The reply waited for the (slowed) journal write. Checked after the state, so
       * that a daemon replying early is reported as the lost change it causes. */
      if (took_ms < DELAY_MS)
        {
          g_autofree char *msg = g_strdup_printf (
              "the reply to %s came after %" G_GINT64_FORMAT " ms, sooner than the "
              "%d ms every journal write takes here: it did not wait for the write",
              steps[i].name, took_ms, DELAY_MS);
          g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
        }
    }
  g_test_message ("replies took %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " ms", fastest,
                  slowest);

  /* The shim was loaded and slowed the journal down (it says so once per run). */
  g_assert_true (g_file_get_contents (qmgr_test_daemon_get_log (d), &log, NULL, NULL));
  g_assert_true (it_contains (log, "slow-journal-preload: delaying writes to journal."));
  qmgr_test_daemon_stop (d);
  model_clear (&m);
}

/* A signal announces a durable change too. The daemon is killed as soon as the
 * PropertiesChanged of a change arrives, its reply not waited for: restarted,
 * it shows the change. A daemon sending the signal while the record is still
 * in the shim's sleep fails here every run. */
static void
test_signal_means_on_disk (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(ItGroup) a = NULL;
  const char *names[] = { "Signalled — first", "Signalled — second" };

  start_slow (d);
  a = it_group_create (d, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(ItRecorder) rec = it_recorder_new (d);
      g_autoptr(GVariant) name = NULL;
      gint64 start = g_get_monotonic_time ();
      gint64 took_ms;

      /* The reply is never read: the daemon dies before it counts. */
      g_dbus_connection_call (qmgr_test_daemon_get_connection (d), QMGR_TEST_BUS_NAME, a->path,
                              GROUP, "SetProp",
                              g_variant_new ("(uv)", 11, g_variant_new_string (names[i])),
                              NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
      g_assert_true (it_recorder_wait_property (rec, a->path, GROUP, "DisplayName",
                                                g_variant_new_string (names[i]), 10000));
      took_ms = (g_get_monotonic_time () - start) / 1000;
      qmgr_test_daemon_kill (d);
      g_test_message ("PropertiesChanged %u came after %" G_GINT64_FORMAT " ms; killed",
                      i + 1, took_ms);

      start_slow (d);
      name = it_getprop (d, a->path, 11, NULL);
      g_assert_nonnull (name);
      g_assert_cmpstr (g_variant_get_string (name, NULL), ==, names[i]);
      g_assert_cmpint (took_ms, >=, DELAY_MS);
    }
  qmgr_test_daemon_stop (d);
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  g_test_add_func ("/durable/reply-means-on-disk", test_reply_means_on_disk);
  g_test_add_func ("/durable/signal-means-on-disk", test_signal_means_on_disk);
  return g_test_run ();
}
