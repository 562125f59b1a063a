/* qmgrd integration tests — io.github.qmgrd.QMgr1.Group on the real daemon: the
 * state machine and its Status values, CreateJob/GetJob/EnumJobs, the notification
 * pointer, GetProp/SetProp for every id, GetProgress, the D-Bus properties and their
 * PropertiesChanged signals. */
#include "it-util.h"
#include "qmgr-test-server.h"

#include <string.h>
#include <unistd.h>

#define GROUP QMGR_TEST_GROUP_IFACE
#define JOB QMGR_TEST_JOB_IFACE

static void
add_one_file (QmgrTestDaemon *d, ItGroup *g, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *local = it_file (d, name);
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:9/%s", name);

  it_add_file (d, g->job_path, url, local, 0, &error);
  g_assert_no_error (error);
}

static GVariant *
call_group (QmgrTestDaemon *d, ItGroup *g, const char *method, GVariant *params,
            const char *reply_type, GError **error)
{
  return qmgr_test_call (d, g->path, GROUP, method, params, reply_type, error);
}

static void
assert_group_call_fails (QmgrTestDaemon *d, ItGroup *g, const char *method, GVariant *params,
                         const char *dbus_error)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call_group (d, g, method, params, NULL, &error);

  g_test_message ("%s on %s: expecting %s", method, g->path, dbus_error);
  g_assert_null (reply);
  qmgr_test_assert_qmgr_error (error, dbus_error);
}

static char *
wait_reason (QmgrTestDaemon *d, ItGroup *g)
{
  return it_get_s (d, g->path, GROUP, "WaitReason");
}

static void
test_initial_state (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  static const struct {
    const char *name;
    const char *type;
  } expected[] = {
    { "GroupID", "s" }, { "Size", "t" }, { "Status", "u" }, { "DisplayName", "s" },
    { "Description", "s" }, { "NotifyFlags", "u" }, { "NotifyClsid", "s" },
    { "ProtocolFlags", "u" }, { "Priority", "u" }, { "TransferPolicy", "u" },
    { "BandwidthLimit", "t" }, { "WaitReason", "s" }, { "BytesTotal", "t" },
    { "BytesTransferred", "t" }, { "FilesTotal", "u" }, { "FilesTransferred", "u" },
    { "CreationTime", "t" }, { "ModificationTime", "t" }, { "CompletionTime", "t" },
    { "Owner", "u" }, { "MinimumRetryDelay", "u" }, { "NoProgressTimeout", "u" },
  };
  guint64 before = (guint64) g_get_real_time ();
  g_autoptr(ItGroup) g = it_group_create (f->d, FALSE);
  guint64 after = (guint64) g_get_real_time ();
  g_autoptr(GVariant) all = it_get_all (f->d, g->path, GROUP);
  g_autofree char *reason = NULL;
  g_autofree char *id = NULL;
  guint64 created, modified;

  g_assert_cmpuint (g_variant_n_children (all), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(GVariant) v = g_variant_lookup_value (all, expected[i].name, NULL);
      g_autoptr(GVariant) single = NULL;

      g_test_message ("Group property %s", expected[i].name);
      g_assert_nonnull (v);
      g_assert_cmpstr (g_variant_get_type_string (v), ==, expected[i].type);
      single = it_get_property (f->d, g->path, GROUP, expected[i].name);
      g_assert_true (g_variant_equal (single, v));
    }

  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x180);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "Status"), ==, 0x180);
  id = it_get_s (f->d, g->path, GROUP, "GroupID");
  g_assert_cmpstr (id, ==, g->id);
  reason = wait_reason (f->d, g);
  g_assert_cmpstr (reason, ==, "suspended");
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "Size"), ==, 0);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "BytesTotal"), ==, 0);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "BytesTransferred"), ==, 0);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "FilesTotal"), ==, 0);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "FilesTransferred"), ==, 0);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "Priority"), ==, 1);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "ProtocolFlags"), ==, 1);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "NotifyFlags"), ==, 0);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "TransferPolicy"), ==, 0);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "BandwidthLimit"), ==, 0);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "MinimumRetryDelay"), ==, 60);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "NoProgressTimeout"), ==, 1209600);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "Owner"), ==, getuid ());
  {
    g_autofree char *clsid = it_get_s (f->d, g->path, GROUP, "NotifyClsid");
    g_assert_cmpstr (clsid, ==, "");
  }
  created = it_get_t (f->d, g->path, GROUP, "CreationTime");
  modified = it_get_t (f->d, g->path, GROUP, "ModificationTime");
  g_assert_cmpuint (created, >=, before);
  g_assert_cmpuint (created, <=, after);
  g_assert_cmpuint (modified, >=, created);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "CompletionTime"), ==, 0);

  /* GetStatus: job_index is 0 (one job per group), with or without the job. */
  it_group_create_job (f->d, g);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x180);
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x8);
}

static void
test_resume_rules (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, FALSE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  g_autofree char *reason = NULL;
  guint64 modified;

  /* No job, then no files: InvalidState; the group stays suspended. */
  assert_group_call_fails (f->d, g, "ResumeGroup", NULL, IT_ERR_INVALID_STATE);
  it_group_create_job (f->d, g);
  assert_group_call_fails (f->d, g, "ResumeGroup", NULL, IT_ERR_INVALID_STATE);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x180);

  /* Suspending a suspended group is fine. */
  it_call_void (f->d, g->path, GROUP, "SuspendGroup", NULL);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x180);

  add_one_file (f->d, g, "a");
  modified = it_get_t (f->d, g->path, GROUP, "ModificationTime");
  it_recorder_clear (rec);
  /* Resumed but held back by its TransferPolicy: queued, INCOMPLETE only. */
  it_resume_blocked (f->d, g->path);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x80);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "Status"), ==, 0x80);
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x8);
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "Status",
                                            g_variant_new_uint32 (0x80), 5000));
  /* No longer "suspended" (which reason exactly is /group/transfer-policy's business). */
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "WaitReason", NULL, 5000));
  reason = wait_reason (f->d, g);
  g_assert_cmpstr (reason, !=, "suspended");
  g_clear_pointer (&reason, g_free);
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "ModificationTime"), >=, modified);

  /* Suspend: back to 0x180 / "suspended". */
  it_recorder_clear (rec);
  it_call_void (f->d, g->path, GROUP, "SuspendGroup", NULL);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x180);
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x8);
  reason = wait_reason (f->d, g);
  g_assert_cmpstr (reason, ==, "suspended");
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "Status",
                                            g_variant_new_uint32 (0x180), 5000));
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "WaitReason",
                                            g_variant_new_string ("suspended"), 5000));

  /* Resume again works. */
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x80);
  it_call_void (f->d, g->path, GROUP, "SuspendGroup", NULL);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x180);
}

static void
test_cancel_group (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) empty = it_group_create (f->d, FALSE);
  g_autoptr(ItGroup) queued = it_group_create (f->d, TRUE);
  g_autoptr(ItGroup) keep = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *a = it_file (f->d, "a");

  /* Any time: empty, queued. */
  it_call_void (f->d, empty->path, GROUP, "CancelGroup", NULL);
  add_one_file (f->d, queued, "a");
  it_resume_blocked (f->d, queued->path);
  it_call_void (f->d, queued->path, GROUP, "CancelGroup", NULL);

  /* Both objects are gone... */
  reply = call_group (f->d, empty, "GetStatus", NULL, "(uu)", &error);
  g_assert_null (reply);
  qmgr_test_assert_dbus_error (error, IT_ERR_UNKNOWN_OBJECT);
  reply = call_group (f->d, queued, "GetStatus", NULL, "(uu)", &error);
  g_assert_null (reply);
  qmgr_test_assert_dbus_error (error, IT_ERR_UNKNOWN_OBJECT);
  reply = qmgr_test_call (f->d, queued->job_path, JOB, "GetFileCount", NULL, "(u)", &error);
  g_assert_null (reply);
  qmgr_test_assert_dbus_error (error, IT_ERR_UNKNOWN_OBJECT);
  /* ...and so is their store entry and their GUIDs. */
  reply = qmgr_test_call (f->d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, "GetGroup",
                          g_variant_new ("(s)", queued->id), "(o)", &error);
  g_assert_null (reply);
  qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
  {
    g_autofree char *hex = it_guid_hex (queued->id);
    g_autofree char *name = g_strconcat (hex, ".group", NULL);
    g_autofree char *store = g_build_filename (qmgr_test_daemon_get_state_dir (f->d), "groups",
                                               name, NULL);
    g_assert_false (g_file_test (store, G_FILE_TEST_EXISTS));
  }
  reply = qmgr_test_call (f->d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, "EnumGroups",
                          g_variant_new ("(u)", 0), "(as)", &error);
  g_assert_no_error (error);
  {
    g_autofree const char **ids = NULL;
    g_variant_get (reply, "(^a&s)", &ids);
    g_assert_cmpuint (g_strv_length ((char **) ids), ==, 1);
    g_assert_cmpstr (ids[0], ==, keep->id);
  }
  g_clear_pointer (&reply, g_variant_unref);

  /* The cancelled group's destination is free for another group. */
  {
    g_autofree char *url = g_strdup ("http://127.0.0.1:9/a");
    it_add_file (f->d, keep->job_path, url, a, 0, &error);
    g_assert_no_error (error);
  }
  g_assert_nonnull (it_recorder_wait (rec, QMGR_TEST_MANAGER_PATH,
                                      "org.freedesktop.DBus.ObjectManager",
                                      "InterfacesRemoved", 5000));
  g_assert_true (qmgr_test_daemon_is_running (f->d));
}

static void
test_create_job (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, FALSE);
  g_autoptr(ItGroup) other = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GVariant) last_error = NULL;
  const char *const invalid[] = {
    "xyz",
    "00000000-0000-0000-0000-000000000000",
    "{0123456789abcdef0123456789abcdef}",
    "1b4e28ba-2fa1-11d2-883f-b9a761bde3fg",
  };
  static const struct {
    const char *name;
    const char *type;
  } expected[] = {
    { "JobID", "s" }, { "Group", "o" }, { "FileCount", "u" }, { "Status", "u" },
    { "BytesTotal", "t" }, { "BytesTransferred", "t" }, { "CurrentFileIndex", "u" },
    { "LastError", "(ss)" },
  };

  /* Malformed or taken GUIDs: InvalidArgs, nothing created. */
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      reply = call_group (f->d, g, "CreateJob", g_variant_new ("(s)", invalid[i]), "(o)",
                          &error);
      g_test_message ("CreateJob(\"%s\")", invalid[i]);
      g_assert_null (reply);
      qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
    }
  /* GUIDs are unique across the queue: groups' and other jobs' GUIDs are taken. */
  {
    const char *const taken[] = { g->id, other->id, other->job_id };
    for (guint i = 0; i < G_N_ELEMENTS (taken); i++)
      {
        g_autofree char *upper = g_ascii_strup (taken[i], -1);
        reply = call_group (f->d, g, "CreateJob", g_variant_new ("(s)", upper), "(o)", &error);
        g_assert_null (reply);
        qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
      }
  }
  reply = qmgr_test_call (f->d, g->path, "io.github.qmgrd.QMgr1.Group", "EnumJobs",
                          g_variant_new ("(u)", 0), "(as)", &error);
  g_assert_no_error (error);
  {
    g_autoptr(GVariant) ids = g_variant_get_child_value (reply, 0);
    g_assert_cmpuint (g_variant_n_children (ids), ==, 0);
  }
  g_clear_pointer (&reply, g_variant_unref);

  /* A valid GUID in the braced uppercase form: the path uses the lowercase hex. */
  g->job_id = g_strdup ("7d444840-9dc0-11d1-b245-5ffdce74fad2");
  g->job_path = it_job_path (g->id, g->job_id);
  reply = call_group (f->d, g, "CreateJob",
                      g_variant_new ("(s)", "{7D444840-9DC0-11D1-B245-5FFDCE74FAD2}"), "(o)",
                      &error);
  g_assert_no_error (error);
  {
    const char *path;
    g_variant_get (reply, "(&o)", &path);
    g_assert_cmpstr (path, ==, g->job_path);
  }
  g_clear_pointer (&reply, g_variant_unref);

  all = it_get_all (f->d, g->job_path, JOB);
  g_assert_cmpuint (g_variant_n_children (all), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(GVariant) v = g_variant_lookup_value (all, expected[i].name, NULL);
      g_test_message ("Job property %s", expected[i].name);
      g_assert_nonnull (v);
      g_assert_cmpstr (g_variant_get_type_string (v), ==, expected[i].type);
    }
  {
    g_autofree char *id = it_get_s (f->d, g->job_path, JOB, "JobID");
    g_autoptr(GVariant) group = it_get_property (f->d, g->job_path, JOB, "Group");
    g_assert_cmpstr (id, ==, g->job_id);
    g_assert_cmpstr (g_variant_get_string (group, NULL), ==, g->path);
  }
  g_assert_cmpuint (it_get_u (f->d, g->job_path, JOB, "FileCount"), ==, 0);
  g_assert_cmpuint (it_get_u (f->d, g->job_path, JOB, "Status"), ==, 0x8);
  g_assert_cmpuint (it_get_t (f->d, g->job_path, JOB, "BytesTotal"), ==, 0);
  g_assert_cmpuint (it_get_t (f->d, g->job_path, JOB, "BytesTransferred"), ==, 0);
  g_assert_cmpuint (it_get_u (f->d, g->job_path, JOB, "CurrentFileIndex"), ==, 0);
  last_error = it_get_property (f->d, g->job_path, JOB, "LastError");
  g_assert_true (g_variant_equal (last_error, g_variant_new ("(ss)", "", "")));

  /* A second job: NotSupported, whatever the GUID... */
  reply = call_group (f->d, g, "CreateJob",
                      g_variant_new ("(s)", "5a5a5a5a-5a5a-4a5a-8a5a-5a5a5a5a5a5a"), "(o)", &error);
  g_assert_null (reply);
  qmgr_test_assert_qmgr_error (error, IT_ERR_NOT_SUPPORTED);
  reply = call_group (f->d, g, "CreateJob", g_variant_new ("(s)", ""), "(o)", &error);
  g_assert_null (reply);
  qmgr_test_assert_qmgr_error (error, IT_ERR_NOT_SUPPORTED);
  /* ...except a bad argument, which comes first (precedence). */
  reply = call_group (f->d, g, "CreateJob", g_variant_new ("(s)", "xyz"), "(o)", &error);
  g_assert_null (reply);
  qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  reply = call_group (f->d, g, "CreateJob", g_variant_new ("(s)", g->job_id), "(o)", &error);
  g_assert_null (reply);
  qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);

  /* Not suspended (queued): "has a job" NotSupported wins over InvalidState; a group
   * without a job is always suspended, so the InvalidState rule only shows here. */
  add_one_file (f->d, g, "x");
  it_resume_blocked (f->d, g->path);
  reply = call_group (f->d, g, "CreateJob",
                      g_variant_new ("(s)", "6b6b6b6b-6b6b-4b6b-8b6b-6b6b6b6b6b6b"), "(o)", &error);
  g_assert_null (reply);
  qmgr_test_assert_qmgr_error (error, IT_ERR_NOT_SUPPORTED);
}

static void
test_create_job_generated (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call_group (f->d, g, "CreateJob", g_variant_new ("(s)", ""), "(o)",
                                          &error);
  g_autofree char *id = NULL;
  g_autofree char *expected = NULL;
  const char *path;

  g_assert_no_error (error);
  g_variant_get (reply, "(&o)", &path);
  id = it_get_s (f->d, path, JOB, "JobID");
  g_assert_true (it_is_v4_guid (id));
  expected = it_job_path (g->id, id);
  g_assert_cmpstr (path, ==, expected);
}

static void
test_get_job_enum_jobs (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, FALSE);
  g_autoptr(ItGroup) other = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  const guint32 bad_flags[] = { 1, 0x100, 0xffffffffu };

  /* No job yet. */
  reply = call_group (f->d, g, "GetJob", g_variant_new ("(s)", other->job_id), "(o)", &error);
  g_assert_null (reply);
  qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
  reply = call_group (f->d, g, "EnumJobs", g_variant_new ("(u)", 0), "(as)", &error);
  g_assert_no_error (error);
  {
    g_autofree const char **ids = NULL;
    g_variant_get (reply, "(^a&s)", &ids);
    g_assert_cmpuint (g_strv_length ((char **) ids), ==, 0);
  }
  g_clear_pointer (&reply, g_variant_unref);

  it_group_create_job (f->d, g);

  {
    g_autofree char *upper = g_ascii_strup (g->job_id, -1);
    g_autofree char *braced = g_strdup_printf ("{%s}", upper);
    g_autofree char *hex = it_guid_hex (g->job_id);
    const char *const forms[] = { g->job_id, upper, braced, hex };

    for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
      {
        const char *path;
        reply = call_group (f->d, g, "GetJob", g_variant_new ("(s)", forms[i]), "(o)", &error);
        g_assert_no_error (error);
        g_variant_get (reply, "(&o)", &path);
        g_assert_cmpstr (path, ==, g->job_path);
        g_clear_pointer (&reply, g_variant_unref);
      }
  }

  /* Another group's job, the group's own GUID, an unknown GUID: ItemNotFound. */
  {
    const char *const not_here[] = { other->job_id, g->id, other->id,
                                     "99999999-8888-4777-8666-555555555555" };
    for (guint i = 0; i < G_N_ELEMENTS (not_here); i++)
      {
        reply = call_group (f->d, g, "GetJob", g_variant_new ("(s)", not_here[i]), "(o)",
                            &error);
        g_assert_null (reply);
        qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
      }
  }
  /* Malformed: InvalidArgs. */
  {
    const char *const bad[] = { "", "xyz", "00000000-0000-0000-0000-000000000000",
                                "7d444840-9dc0-11d1-b245-5ffdce74fad" };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        reply = call_group (f->d, g, "GetJob", g_variant_new ("(s)", bad[i]), "(o)", &error);
        g_test_message ("GetJob(\"%s\")", bad[i]);
        g_assert_null (reply);
        qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
      }
  }

  reply = call_group (f->d, g, "EnumJobs", g_variant_new ("(u)", 0), "(as)", &error);
  g_assert_no_error (error);
  {
    g_autofree const char **ids = NULL;
    g_variant_get (reply, "(^a&s)", &ids);
    g_assert_cmpuint (g_strv_length ((char **) ids), ==, 1);
    g_assert_cmpstr (ids[0], ==, g->job_id);
  }
  g_clear_pointer (&reply, g_variant_unref);
  for (guint i = 0; i < G_N_ELEMENTS (bad_flags); i++)
    {
      reply = call_group (f->d, g, "EnumJobs", g_variant_new ("(u)", bad_flags[i]), "(as)",
                          &error);
      g_assert_null (reply);
      qmgr_test_assert_qmgr_error (error, IT_ERR_NOT_SUPPORTED);
    }
}

static void
test_query_new_job_interface (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  const char *const others[] = {
    "io.github.qmgrd.QMgr1.Group",
    "io.github.qmgrd.QMgr1.Manager",
    "io.github.qmgrd.QMgr1.Callback",
    "io.github.qmgrd.QMgr1.job",
    "org.freedesktop.DBus.Properties",
    "IBackgroundCopyJob1",
    "59F5553C-2031-4629-BB18-2645A6970947",
    "",
  };

  reply = call_group (f->d, g, "QueryNewJobInterface", g_variant_new ("(s)", JOB), "(o)",
                      &error);
  g_assert_null (reply);
  qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
  for (guint i = 0; i < G_N_ELEMENTS (others); i++)
    {
      reply = call_group (f->d, g, "QueryNewJobInterface", g_variant_new ("(s)", others[i]),
                          "(o)", &error);
      g_test_message ("QueryNewJobInterface(\"%s\") without a job", others[i]);
      g_assert_null (reply);
      qmgr_test_assert_qmgr_error (error, IT_ERR_NOT_SUPPORTED);
    }

  it_group_create_job (f->d, g);
  reply = call_group (f->d, g, "QueryNewJobInterface", g_variant_new ("(s)", JOB), "(o)",
                      &error);
  g_assert_no_error (error);
  {
    const char *path;
    g_variant_get (reply, "(&o)", &path);
    g_assert_cmpstr (path, ==, g->job_path);
  }
  g_clear_pointer (&reply, g_variant_unref);
  for (guint i = 0; i < G_N_ELEMENTS (others); i++)
    {
      reply = call_group (f->d, g, "QueryNewJobInterface", g_variant_new ("(s)", others[i]),
                          "(o)", &error);
      g_test_message ("QueryNewJobInterface(\"%s\") with a job", others[i]);
      g_assert_null (reply);
      qmgr_test_assert_qmgr_error (error, IT_ERR_NOT_SUPPORTED);
    }
}

static GVariant *
set_pointer (GDBusConnection *connection, const char *group_path,
             const char *iface, const char *path, GError **error)
{
  return g_dbus_connection_call_sync (connection, QMGR_TEST_BUS_NAME, group_path, GROUP,
                                      "SetNotificationPointer",
                                      g_variant_new ("(so)", iface, path), G_VARIANT_TYPE ("()"),
                                      G_DBUS_CALL_FLAGS_NONE, 25000, NULL, error);
}

static void
test_set_notification_pointer (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  GDBusConnection *main_connection = qmgr_test_daemon_get_connection (f->d);
  const char *const wrong[] = {
    JOB, GROUP, "io.github.qmgrd.QMgr1.callback", "IBackgroundCopyCallback1", "",
    "org.freedesktop.DBus.Properties",
  };

  for (guint i = 0; i < G_N_ELEMENTS (wrong); i++)
    {
      reply = set_pointer (main_connection, g->path, wrong[i], "/org/example/cb", &error);
      g_test_message ("SetNotificationPointer(\"%s\")", wrong[i]);
      g_assert_null (reply);
      qmgr_test_assert_qmgr_error (error, IT_ERR_NOT_SUPPORTED);
    }

  reply = set_pointer (main_connection, g->path, QMGR_TEST_CALLBACK_IFACE,
                       "/org/example/cb", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  /* Replacing and clearing. */
  reply = set_pointer (main_connection, g->path, QMGR_TEST_CALLBACK_IFACE,
                       "/org/example/other", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = set_pointer (main_connection, g->path, QMGR_TEST_CALLBACK_IFACE, "/", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  /* Clearing with nothing registered is fine too. */
  reply = set_pointer (main_connection, g->path, QMGR_TEST_CALLBACK_IFACE, "/", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);

  /* A second client registers and leaves the bus: the daemon forgets it and lives on. */
  for (guint round = 0; round < 3; round++)
    {
      g_autoptr(GDBusConnection) second = qmgr_test_daemon_new_connection (f->d);

      reply = set_pointer (second, g->path, QMGR_TEST_CALLBACK_IFACE, "/org/example/cb",
                           &error);
      g_assert_no_error (error);
      g_clear_pointer (&reply, g_variant_unref);
      g_dbus_connection_close_sync (second, NULL, &error);
      g_assert_no_error (error);
    }
  {
    g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
    /* The Ping in it_recorder_new makes sure the daemon saw the departures. */
    add_one_file (f->d, g, "n");
    it_resume_blocked (f->d, g->path);
    it_call_void (f->d, g->path, GROUP, "SuspendGroup", NULL);
    it_call_void (f->d, g->path, GROUP, "SwitchToForeground", NULL);
    it_recorder_sync (rec);
  }
  g_assert_true (qmgr_test_daemon_is_running (f->d));
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x580);

  /* Registration from the main connection still works afterwards. */
  reply = set_pointer (main_connection, g->path, QMGR_TEST_CALLBACK_IFACE,
                       "/org/example/cb", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  it_call_void (f->d, g->path, GROUP, "CancelGroup", NULL);
  g_assert_true (qmgr_test_daemon_is_running (f->d));
}

/* ---- where callbacks go when the live pointer's owner leaves ---- */

static gboolean
log_not_empty (gpointer user_data)
{
  return ((ItCallbackLog *) user_data)->calls->len > 0;
}

typedef struct {
  GDBusConnection *connection;
  const char *name;
} OwnerWait;

static gboolean
tick (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
name_gone (gpointer user_data)
{
  OwnerWait *w = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  gboolean owned;

  reply = g_dbus_connection_call_sync (w->connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "NameHasOwner", g_variant_new ("(s)", w->name),
                                       G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, 25000,
                                       NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(b)", &owned);
  return !owned;
}

/* Asks the bus every 20 ms until @name has no owner (deadline @timeout_ms). */
static gboolean
wait_name_gone (GDBusConnection *connection, const char *name, guint timeout_ms)
{
  OwnerWait w = { connection, name };
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!name_gone (&w))
    {
      gboolean ticked = FALSE;

      if (g_get_monotonic_time () >= deadline)
        return FALSE;
      g_timeout_add (20, tick, &ticked);
      while (!ticked)
        g_main_context_iteration (NULL, TRUE);
    }
  return TRUE;
}

/* GROUP_DONE callbacks of a group with a NOTIFYCLSID target, a file to fetch from
 * @route, and a live pointer at /org/example/live on @live. */
static void
setup_callback_group (QmgrTestDaemon *d, ItGroup *g, QmgrTestServer *server, const char *route,
                      GDBusConnection *live)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static ("fallback\n", 9);
  g_autofree char *url = qmgr_test_server_get_url_for (server, route);
  g_autofree char *local = it_file (d, route + 1);

  qmgr_test_server_add_file (server, route, body, NULL, 0);
  it_add_file (d, g->job_path, url, local, 0, &error);
  g_assert_no_error (error);
  it_setprop (d, g->path, 7,
              g_variant_new_string ("org.example.QmgrTestFallback:/org/example/Updater/cb"),
              &error);
  g_assert_no_error (error);
  it_setprop (d, g->path, 6, g_variant_new_uint32 (0x4), &error);   /* GROUP_DONE */
  g_assert_no_error (error);
  reply = set_pointer (live, g->path, QMGR_TEST_CALLBACK_IFACE, "/org/example/live", &error);
  g_assert_no_error (error);
}

/* The one call in @log: OnStatus for @g's completion. */
static void
assert_group_done_call (ItCallbackLog *log, ItGroup *g)
{
  GVariant *call;
  const char *method, *group_path, *job_path;
  g_autoptr(GVariant) params = NULL;
  guint32 index, status, retries, win32, transport;

  g_assert_cmpuint (log->calls->len, ==, 1);
  call = g_ptr_array_index (log->calls, 0);
  g_variant_get (call, "(&s@*)", &method, &params);
  g_assert_cmpstr (method, ==, "OnStatus");
  g_assert_cmpstr (g_variant_get_type_string (params), ==, "(oouuuuu)");
  g_variant_get (params, "(&o&ouuuuu)", &group_path, &job_path, &index, &status, &retries,
                 &win32, &transport);
  g_assert_cmpstr (group_path, ==, g->path);
  g_assert_cmpstr (job_path, ==, g->job_path);
  g_assert_cmpuint (index, ==, 0xFFFFFFFFu);
  g_assert_cmpuint (status, ==, 0x140);
}

/* A live pointer lasts until its connection leaves the bus; then the group's OnStatus
 * callbacks go to NOTIFYCLSID's name again, not to the departed pointer. */
static void
test_pointer_owner_leaves (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) before = it_group_create (f->d, TRUE);
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GDBusConnection) app = qmgr_test_daemon_new_connection (f->d);
  g_autoptr(GDBusConnection) live = qmgr_test_daemon_new_connection (f->d);
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *live_name = g_strdup (g_dbus_connection_get_unique_name (live));
  ItCallbackLog app_log = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref) };
  ItCallbackLog live_log = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref) };
  gboolean owned = FALSE;
  guint app_registration, live_registration, owner_id;

  info = qmgr_test_load_interface_xml (QMGR_TEST_CALLBACK_IFACE);
  /* The application behind NOTIFYCLSID, and a second client with a live pointer. */
  app_registration = g_dbus_connection_register_object (app, "/org/example/Updater/cb",
                                                        info->interfaces[0], &it_callback_log_vtable,
                                                        &app_log, NULL, &error);
  g_assert_no_error (error);
  owner_id = g_bus_own_name_on_connection (app, "org.example.QmgrTestFallback",
                                           G_BUS_NAME_OWNER_FLAGS_NONE, it_name_acquired, NULL,
                                           &owned, NULL);
  g_assert_true (qmgr_test_wait_until (it_flag_is_set, &owned, 5000));
  live_registration = g_dbus_connection_register_object (live, "/org/example/live",
                                                         info->interfaces[0], &it_callback_log_vtable,
                                                         &live_log, NULL, &error);
  g_assert_no_error (error);

  setup_callback_group (f->d, before, server, "/before", live);
  setup_callback_group (f->d, g, server, "/after", live);

  /* While its client is there, the live pointer is called, not NOTIFYCLSID's name. */
  it_call_void (f->d, before->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (qmgr_test_wait_until (log_not_empty, &live_log, 20000));
  assert_group_done_call (&live_log, before);
  g_assert_cmpuint (app_log.calls->len, ==, 0);

  /* The live pointer's client leaves; once the bus says so, the daemon has been told
   * (NameOwnerChanged went out before the bus answers our question, and the Ping
   * below is read after it). */
  g_dbus_connection_unregister_object (live, live_registration);
  g_dbus_connection_close_sync (live, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_name_gone (qmgr_test_daemon_get_connection (f->d), live_name, 20000));
  it_call_void (f->d, QMGR_TEST_MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL);

  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (it_wait_property (f->d, g->path, GROUP, "Status",
                                   g_variant_new_uint32 (0x140), 20000));
  /* Had the daemon kept the departed pointer, it would retry there and never get here. */
  g_assert_true (qmgr_test_wait_until (log_not_empty, &app_log, 20000));
  assert_group_done_call (&app_log, g);
  g_assert_cmpuint (live_log.calls->len, ==, 1);   /* still only the first group's */
  g_assert_true (qmgr_test_daemon_is_running (f->d));

  g_bus_unown_name (owner_id);
  g_dbus_connection_unregister_object (app, app_registration);
  g_dbus_connection_close_sync (app, NULL, NULL);
  g_ptr_array_unref (app_log.calls);
  g_ptr_array_unref (live_log.calls);
}

static void
test_take_ownership (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);

  assert_group_call_fails (f->d, g, "TakeOwnership", NULL, IT_ERR_NOT_SUPPORTED);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "Owner"), ==, getuid ());
}

static void
test_switch_to_foreground (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, FALSE);
  g_autoptr(ItGroup) h = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  g_autofree char *reason = NULL;

  /* Without a job, suspended: FOREGROUND added, still suspended. */
  it_call_void (f->d, g->path, GROUP, "SwitchToForeground", NULL);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x580);
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "Status",
                                            g_variant_new_uint32 (0x580), 5000));
  reason = wait_reason (f->d, g);
  g_assert_cmpstr (reason, ==, "suspended");
  /* Twice is fine; TransferPolicy still reads 0 (defaulted). */
  it_call_void (f->d, g->path, GROUP, "SwitchToForeground", NULL);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x580);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "TransferPolicy"), ==, 0);
  /* A job created later is a foreground job. */
  it_group_create_job (f->d, g);
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x28);
  g_assert_cmpuint (it_get_u (f->d, g->job_path, JOB, "Status"), ==, 0x28);

  /* With a job: the job gets 0x20. */
  it_call_void (f->d, h->path, GROUP, "SwitchToForeground", NULL);
  g_assert_cmpuint (it_group_status (f->d, h->path), ==, 0x580);
  g_assert_cmpuint (it_job_status (f->d, h->job_path), ==, 0x28);
  g_assert_true (it_recorder_wait_property (rec, h->job_path, JOB, "Status",
                                            g_variant_new_uint32 (0x28), 5000));

  /* FOREGROUND stays through resume and suspend. */
  add_one_file (f->d, h, "fg");
  it_resume_blocked (f->d, h->path);
  g_assert_cmpuint (it_group_status (f->d, h->path), ==, 0x480);
  g_assert_cmpuint (it_job_status (f->d, h->job_path), ==, 0x28);
  it_call_void (f->d, h->path, GROUP, "SuspendGroup", NULL);
  g_assert_cmpuint (it_group_status (f->d, h->path), ==, 0x580);
  g_assert_cmpuint (it_job_status (f->d, h->job_path), ==, 0x28);
}

/* ---- GetProp / SetProp ---- */

static void
assert_getprop (QmgrTestDaemon *d, ItGroup *g, guint32 id, GVariant *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) owned = g_variant_ref_sink (expected);
  g_autoptr(GVariant) v = it_getprop (d, g->path, id, &error);

  g_test_message ("GetProp(%u)", id);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (v), ==, g_variant_get_type_string (owned));
  g_assert_true (g_variant_equal (v, owned));
}

static void
assert_getprop_fails (QmgrTestDaemon *d, ItGroup *g, guint32 id, const char *dbus_error)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = it_getprop (d, g->path, id, &error);

  g_test_message ("GetProp(%u): expecting %s", id, dbus_error);
  g_assert_null (v);
  qmgr_test_assert_qmgr_error (error, dbus_error);
}

static void
assert_setprop_ok (QmgrTestDaemon *d, ItGroup *g, guint32 id, GVariant *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);
  g_autofree char *shown = g_variant_print (owned, TRUE);

  g_test_message ("SetProp(%u, %s)", id, shown);
  it_setprop (d, g->path, id, owned, &error);
  g_assert_no_error (error);
}

static void
assert_setprop_fails (QmgrTestDaemon *d, ItGroup *g, guint32 id, GVariant *value,
                      const char *dbus_error)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);
  g_autofree char *shown = g_variant_print (owned, TRUE);

  g_test_message ("SetProp(%u, %s): expecting %s", id, shown, dbus_error);
  g_assert_false (it_setprop (d, g->path, id, owned, &error));
  qmgr_test_assert_qmgr_error (error, dbus_error);
}

/* Values of every type that is not a number QMGR accepts. */
static GVariant *
non_numeric_value (guint i)
{
  switch (i)
    {
    case 0: return g_variant_new_string ("1");
    case 1: return g_variant_new_uint64 (1);
    case 2: return g_variant_new_int64 (1);
    case 3: return g_variant_new_byte (1);
    case 4: return g_variant_new_boolean (TRUE);
    case 5: return g_variant_new_double (1.0);
    case 6: return g_variant_new_object_path ("/");
    case 7: return g_variant_new ("(u)", 1);
    case 8: return g_variant_new ("au", NULL);
    default: return NULL;
    }
}

static GVariant *
non_string_value (guint i)
{
  switch (i)
    {
    case 0: return g_variant_new_uint32 (1);
    case 1: return g_variant_new_int32 (1);
    case 2: return g_variant_new_object_path ("/org/example");
    case 3: return g_variant_new_signature ("s");
    case 4: return g_variant_new_bytestring ("abc");
    case 5: return g_variant_new ("(s)", "abc");
    case 6: return g_variant_new_boolean (FALSE);
    default: return NULL;
    }
}

/* Each accepted integer type holding @value (when it fits). */
static void
setprop_all_int_types (QmgrTestDaemon *d, ItGroup *g, guint32 id, guint32 value,
                       gboolean expect_ok, const char *dbus_error)
{
  GVariant *values[4];
  guint n = 0;

  values[n++] = g_variant_new_uint32 (value);
  if (value <= G_MAXINT32)
    values[n++] = g_variant_new_int32 ((gint32) value);
  if (value <= G_MAXUINT16)
    values[n++] = g_variant_new_uint16 ((guint16) value);
  if (value <= G_MAXINT16)
    values[n++] = g_variant_new_int16 ((gint16) value);
  for (guint i = 0; i < n; i++)
    {
      if (expect_ok)
        {
          g_autoptr(GVariant) back = NULL;
          assert_setprop_ok (d, g, id, values[i]);
          back = it_getprop (d, g->path, id, NULL);
          g_assert_nonnull (back);
          g_assert_cmpstr (g_variant_get_type_string (back), ==, "u");
          g_assert_cmpuint (g_variant_get_uint32 (back), ==, value);
        }
      else
        assert_setprop_fails (d, g, id, values[i], dbus_error);
    }
}

static void
test_getprop_defaults (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  const guint32 unknown[] = { 13, 14, 100, 0x7fffffffu, 0xffffffffu };

  assert_getprop (f->d, g, 0, g_variant_new_uint32 (1));
  assert_getprop (f->d, g, 1, g_variant_new_string (""));
  assert_getprop (f->d, g, 2, g_variant_new_string (""));
  assert_getprop_fails (f->d, g, 3, IT_ERR_NOT_SUPPORTED);
  assert_getprop_fails (f->d, g, 4, IT_ERR_NOT_SUPPORTED);
  assert_getprop (f->d, g, 5, g_variant_new_uint32 (1));
  assert_getprop (f->d, g, 6, g_variant_new_uint32 (0));
  assert_getprop (f->d, g, 7, g_variant_new_string (""));
  assert_getprop_fails (f->d, g, 8, IT_ERR_NOT_SUPPORTED);
  assert_getprop_fails (f->d, g, 9, IT_ERR_NOT_SUPPORTED);
  assert_getprop_fails (f->d, g, 10, IT_ERR_NOT_SUPPORTED);
  assert_getprop (f->d, g, 11, g_variant_new_string (""));
  assert_getprop (f->d, g, 12, g_variant_new_string (""));
  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++)
    assert_getprop_fails (f->d, g, unknown[i], IT_ERR_INVALID_ARGS);
}

static void
test_setprop_numeric (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  const guint32 numeric[] = { 0, 5, 6 };
  const guint32 good_flags[] = { 0x1, 0x2, 0x4, 0x40, 0x80, 0x100, 0x7, 0x1c7, 0x144, 0 };
  const guint32 bad_flags[] = { 0x8, 0x10, 0x20, 0x200, 0x400, 0x1000, 0x10000, 0x80000000u,
                                0x1c8, 0xffffffffu };

  /* PRIORITY and PROTOCOLFLAGS: only 1. */
  setprop_all_int_types (f->d, g, 0, 1, TRUE, NULL);
  setprop_all_int_types (f->d, g, 5, 1, TRUE, NULL);
  for (guint32 v = 0; v <= 5; v++)
    if (v != 1)
      {
        /* FTP 2, SMB 3, CUSTOM 4 are not accepted either. */
        setprop_all_int_types (f->d, g, 0, v, FALSE, IT_ERR_INVALID_ARGS);
        setprop_all_int_types (f->d, g, 5, v, FALSE, IT_ERR_INVALID_ARGS);
      }
  setprop_all_int_types (f->d, g, 0, 0xffffffffu, FALSE, IT_ERR_INVALID_ARGS);
  setprop_all_int_types (f->d, g, 5, 0x80000001u, FALSE, IT_ERR_INVALID_ARGS);
  assert_getprop (f->d, g, 0, g_variant_new_uint32 (1));
  assert_getprop (f->d, g, 5, g_variant_new_uint32 (1));

  /* NOTIFYFLAGS: the known bits, alone and together. */
  for (guint i = 0; i < G_N_ELEMENTS (good_flags); i++)
    {
      setprop_all_int_types (f->d, g, 6, good_flags[i], TRUE, NULL);
      g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "NotifyFlags"), ==, good_flags[i]);
    }
  assert_setprop_ok (f->d, g, 6, g_variant_new_uint32 (0x7));
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "NotifyFlags",
                                            g_variant_new_uint32 (0x7), 5000));
  for (guint i = 0; i < G_N_ELEMENTS (bad_flags); i++)
    setprop_all_int_types (f->d, g, 6, bad_flags[i], FALSE, IT_ERR_INVALID_ARGS);
  assert_getprop (f->d, g, 6, g_variant_new_uint32 (0x7));

  /* Negative numbers and foreign types: InvalidArgs, for every numeric id. */
  for (guint i = 0; i < G_N_ELEMENTS (numeric); i++)
    {
      assert_setprop_fails (f->d, g, numeric[i], g_variant_new_int32 (-1), IT_ERR_INVALID_ARGS);
      assert_setprop_fails (f->d, g, numeric[i], g_variant_new_int16 (-1), IT_ERR_INVALID_ARGS);
      assert_setprop_fails (f->d, g, numeric[i], g_variant_new_int32 (G_MININT32),
                            IT_ERR_INVALID_ARGS);
      /* -1 as a 32-bit pattern would be 0xffffffff; -255 would be "known bits" if the
       * sign were dropped. */
      assert_setprop_fails (f->d, g, numeric[i], g_variant_new_int32 (-255),
                            IT_ERR_INVALID_ARGS);
      for (guint t = 0; non_numeric_value (t) != NULL; t++)
        assert_setprop_fails (f->d, g, numeric[i], non_numeric_value (t), IT_ERR_INVALID_ARGS);
    }
  assert_getprop (f->d, g, 0, g_variant_new_uint32 (1));
  assert_getprop (f->d, g, 5, g_variant_new_uint32 (1));
  assert_getprop (f->d, g, 6, g_variant_new_uint32 (0x7));
}

static void
test_setprop_not_supported (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  const guint32 unknown[] = { 13, 14, 100, 0x7fffffffu, 0xffffffffu };

  assert_setprop_fails (f->d, g, 3, g_variant_new_string ("user"), IT_ERR_NOT_SUPPORTED);
  assert_setprop_fails (f->d, g, 4, g_variant_new_string ("pass"), IT_ERR_NOT_SUPPORTED);
  for (guint32 id = 8; id <= 10; id++)
    {
      assert_setprop_fails (f->d, g, id, g_variant_new_uint32 (1), IT_ERR_NOT_SUPPORTED);
      assert_setprop_fails (f->d, g, id, g_variant_new_int32 (100), IT_ERR_NOT_SUPPORTED);
    }
  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      assert_setprop_fails (f->d, g, unknown[i], g_variant_new_uint32 (1), IT_ERR_INVALID_ARGS);
      assert_setprop_fails (f->d, g, unknown[i], g_variant_new_string ("x"),
                            IT_ERR_INVALID_ARGS);
    }
}

static void
test_setprop_strings (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  const guint32 strings[] = { 1, 2, 7, 11, 12 };

  /* Foreign types for every string id. */
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    for (guint t = 0; non_string_value (t) != NULL; t++)
      assert_setprop_fails (f->d, g, strings[i], non_string_value (t), IT_ERR_INVALID_ARGS);

  /* REMOTEUSERID: readable. REMOTEUSERPWD: write-only. */
  assert_setprop_ok (f->d, g, 1, g_variant_new_string ("alice"));
  assert_getprop (f->d, g, 1, g_variant_new_string ("alice"));
  assert_setprop_ok (f->d, g, 2, g_variant_new_string ("correct horse battery staple"));
  assert_getprop (f->d, g, 2, g_variant_new_string (""));
  assert_setprop_ok (f->d, g, 1, g_variant_new_string (""));
  assert_getprop (f->d, g, 1, g_variant_new_string (""));

  /* NOTIFYCLSID. */
  {
    const char *const good[] = {
      "org.example.Updater:/org/example/Updater/cb",
      "org.example.Updater",
      "org.example.Updater:/",
      "org.example_1.Up-dater2",
      "a.b",
    };
    const char *const bad[] = {
      "not a bus name",
      "org",
      ":1.42",
      ":1.42:/org/example",
      ".org.example",
      "org.example.",
      "org..example",
      "1org.example",
      "org.1example",
      "org.example.Updater:",
      "org.example.Updater:relative/path",
      "org.example.Updater:/a//b",
      "org.example.Updater:/a/",
      "org.example.Updater:/a-b",
      "/org/example/Updater",
      "org.example.Up dater",
      "org.exa$mple",
      "69AD4AEE-51BE-439B-A92C-86AE490E8B30",
      "{69AD4AEE-51BE-439B-A92C-86AE490E8B30}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (good); i++)
      {
        g_autofree char *back = NULL;
        assert_setprop_ok (f->d, g, 7, g_variant_new_string (good[i]));
        assert_getprop (f->d, g, 7, g_variant_new_string (good[i]));
        back = it_get_s (f->d, g->path, GROUP, "NotifyClsid");
        g_assert_cmpstr (back, ==, good[i]);
      }
    g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "NotifyClsid",
                                              g_variant_new_string ("a.b"), 5000));
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      assert_setprop_fails (f->d, g, 7, g_variant_new_string (bad[i]), IT_ERR_INVALID_ARGS);
    assert_getprop (f->d, g, 7, g_variant_new_string ("a.b"));
    /* "" clears. */
    assert_setprop_ok (f->d, g, 7, g_variant_new_string (""));
    assert_getprop (f->d, g, 7, g_variant_new_string (""));
  }

  /* DISPLAYNAME: ≤ 256 characters (not bytes), no control characters. */
  {
    g_autofree char *max_ascii = it_repeat ("n", 256);
    g_autofree char *max_wide = it_repeat ("\xc3\xa9", 256);   /* 256 × é = 512 bytes */
    g_autofree char *over = it_repeat ("n", 257);
    g_autofree char *over_wide = it_repeat ("\xe2\x82\xac", 257);
    const char *const bad[] = {
      over, over_wide, "a\nb", "a\tb", "a\rb", "\x01", "a\x1f", "a\x7f", "a\xc2\x85" "b",
      "trailing\n",
    };

    assert_setprop_ok (f->d, g, 11, g_variant_new_string (max_ascii));
    assert_getprop (f->d, g, 11, g_variant_new_string (max_ascii));
    assert_setprop_ok (f->d, g, 11, g_variant_new_string (max_wide));
    assert_getprop (f->d, g, 11, g_variant_new_string (max_wide));
    assert_setprop_ok (f->d, g, 11, g_variant_new_string ("Système update — 1/2"));
    assert_getprop (f->d, g, 11, g_variant_new_string ("Système update — 1/2"));
    {
      g_autofree char *back = it_get_s (f->d, g->path, GROUP, "DisplayName");
      g_assert_cmpstr (back, ==, "Système update — 1/2");
    }
    g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "DisplayName",
                                              g_variant_new_string ("Système update — 1/2"),
                                              5000));
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      assert_setprop_fails (f->d, g, 11, g_variant_new_string (bad[i]), IT_ERR_INVALID_ARGS);
    assert_getprop (f->d, g, 11, g_variant_new_string ("Système update — 1/2"));
    assert_setprop_ok (f->d, g, 11, g_variant_new_string (""));
    assert_getprop (f->d, g, 11, g_variant_new_string (""));
  }

  /* DESCRIPTION: ≤ 1,024 characters; newline and tab allowed. */
  {
    g_autofree char *max = it_repeat ("d", 1024);
    g_autofree char *max_wide = it_repeat ("\xe2\x82\xac", 1024);
    g_autofree char *over = it_repeat ("d", 1025);
    const char *const bad[] = { over, "a\rb", "\x01", "a\x1b[0m", "a\x7f", "a\x0b", "a\x0c" };

    assert_setprop_ok (f->d, g, 12, g_variant_new_string (max));
    assert_getprop (f->d, g, 12, g_variant_new_string (max));
    assert_setprop_ok (f->d, g, 12, g_variant_new_string (max_wide));
    assert_getprop (f->d, g, 12, g_variant_new_string (max_wide));
    assert_setprop_ok (f->d, g, 12, g_variant_new_string ("line one\nline two\twith a tab\n"));
    assert_getprop (f->d, g, 12, g_variant_new_string ("line one\nline two\twith a tab\n"));
    {
      g_autofree char *back = it_get_s (f->d, g->path, GROUP, "Description");
      g_assert_cmpstr (back, ==, "line one\nline two\twith a tab\n");
    }
    g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "Description", NULL, 5000));
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      assert_setprop_fails (f->d, g, 12, g_variant_new_string (bad[i]), IT_ERR_INVALID_ARGS);
    assert_getprop (f->d, g, 12, g_variant_new_string ("line one\nline two\twith a tab\n"));
  }
}

static void
test_rejected_setprop_is_silent (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  g_autofree char *long_name = it_repeat ("x", 300);
  g_autoptr(GError) error = NULL;

  assert_setprop_fails (f->d, g, 11, g_variant_new_string (long_name), IT_ERR_INVALID_ARGS);
  assert_setprop_fails (f->d, g, 6, g_variant_new_uint32 (0x8), IT_ERR_INVALID_ARGS);
  assert_setprop_fails (f->d, g, 7, g_variant_new_string ("bad name"), IT_ERR_INVALID_ARGS);
  g_assert_false (it_set_property (f->d, g->path, GROUP, "TransferPolicy",
                                   g_variant_new_uint32 (0x100), &error));
  qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  it_recorder_sync (rec);
  g_assert_cmpuint (it_recorder_count (rec, g->path, "org.freedesktop.DBus.Properties",
                                       "PropertiesChanged"), ==, 0);
}

static void
test_get_progress (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, FALSE);
  const guint32 invalid[] = { 0, 4, 5, 0x100, 0xffffffffu };

  for (guint with_job = 0; with_job < 3; with_job++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;

      if (with_job == 1)
        it_group_create_job (f->d, g);
      if (with_job == 2)
        {
          add_one_file (f->d, g, "p1");
          add_one_file (f->d, g, "p2");
        }
      for (guint32 type = 1; type <= 3; type += 2)
        {
          guint32 progress;
          reply = call_group (f->d, g, "GetProgress", g_variant_new ("(u)", type), "(u)",
                              &error);
          g_assert_no_error (error);
          g_variant_get (reply, "(u)", &progress);
          g_assert_cmpuint (progress, ==, 0);
          g_clear_pointer (&reply, g_variant_unref);
          if (with_job > 0)
            {
              reply = qmgr_test_call (f->d, g->job_path, JOB, "GetProgress",
                                      g_variant_new ("(u)", type), "(u)", &error);
              g_assert_no_error (error);
              g_variant_get (reply, "(u)", &progress);
              g_assert_cmpuint (progress, ==, 0);
              g_clear_pointer (&reply, g_variant_unref);
            }
        }
      assert_group_call_fails (f->d, g, "GetProgress", g_variant_new ("(u)", 2),
                               IT_ERR_NOT_SUPPORTED);
      for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
        assert_group_call_fails (f->d, g, "GetProgress", g_variant_new ("(u)", invalid[i]),
                                 IT_ERR_INVALID_ARGS);
      if (with_job > 0)
        {
          reply = qmgr_test_call (f->d, g->job_path, JOB, "GetProgress",
                                  g_variant_new ("(u)", 2), "(u)", &error);
          g_assert_null (reply);
          qmgr_test_assert_qmgr_error (error, IT_ERR_NOT_SUPPORTED);
          for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
            {
              reply = qmgr_test_call (f->d, g->job_path, JOB, "GetProgress",
                                      g_variant_new ("(u)", invalid[i]), "(u)", &error);
              g_assert_null (reply);
              qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
            }
        }
    }
}

static void
test_transfer_policy (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  const guint32 good[] = { 0x800000FFu, 0x8000007Fu, 0x8000006Fu, 0x80000067u, 0x80000021u,
                           0x1, 0x2, 0xFF, 0x80000080u, 0x21 };
  const guint32 bad[] = { 0x80000000u, 0x100, 0x800001FFu, 0x40000001u, 0xFFFFFFFFu,
                          0x00010001u, 0xC00000FFu };
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "TransferPolicy"), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      it_set_property (f->d, g->path, GROUP, "TransferPolicy", g_variant_new_uint32 (good[i]),
                       &error);
      g_test_message ("TransferPolicy = 0x%x", good[i]);
      g_assert_no_error (error);
      g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "TransferPolicy"), ==, good[i]);
    }
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "TransferPolicy",
                                            g_variant_new_uint32 (0x21), 5000));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("TransferPolicy = 0x%x (invalid)", bad[i]);
      g_assert_false (it_set_property (f->d, g->path, GROUP, "TransferPolicy",
                                       g_variant_new_uint32 (bad[i]), &error));
      qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
      g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "TransferPolicy"), ==, 0x21);
    }
  /* 0 restores the default, which reads 0. */
  it_set_property (f->d, g->path, GROUP, "TransferPolicy", g_variant_new_uint32 (0), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "TransferPolicy"), ==, 0);
  /* Wrong type. */
  g_assert_false (it_set_property (f->d, g->path, GROUP, "TransferPolicy",
                                   g_variant_new_int32 (1), &error));
  qmgr_test_assert_dbus_error (error, IT_ERR_INVALID_ARGS);

  /* A policy that excludes the current (UNRESTRICTED) network: queued, "metered". */
  add_one_file (f->d, g, "tp");
  it_resume_blocked (f->d, g->path);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, 0x80);
  g_assert_true (it_wait_property (f->d, g->path, GROUP, "WaitReason",
                                   g_variant_new_string ("metered"), 5000));
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, 0x8);
  {
    g_autoptr(GVariant) reply = qmgr_test_call (f->d, g->job_path, JOB, "GetStatus", NULL,
                                                "(uuuu)", &error);
    guint32 status, win32, transport, retries;
    g_assert_no_error (error);
    g_variant_get (reply, "(uuuu)", &status, &win32, &transport, &retries);
    /* Waiting for the network is not an error and counts no retry. */
    g_assert_cmpuint (win32, ==, 0);
    g_assert_cmpuint (transport, ==, 0);
    g_assert_cmpuint (retries, ==, 0);
  }
  it_call_void (f->d, g->path, GROUP, "SuspendGroup", NULL);
}

static void
test_dbus_properties (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  g_autoptr(GError) error = NULL;
  g_autofree char *long_name = it_repeat ("y", 257);
  g_autofree char *long_desc = it_repeat ("z", 1025);
  static const struct {
    const char *name;
    const char *value;  /* GVariant text */
    gboolean changes;   /* differs from the default, so PropertiesChanged is due */
  } writable[] = {
    { "DisplayName", "'Nightly images'", TRUE },
    { "Description", "'Two lines\\nof text'", TRUE },
    { "NotifyFlags", "uint32 4", TRUE },
    { "NotifyClsid", "'org.example.Updater:/cb'", TRUE },
    { "ProtocolFlags", "uint32 1", FALSE },
    { "Priority", "uint32 1", FALSE },
    { "TransferPolicy", "uint32 2147483751", TRUE },   /* STANDARD 0x80000067 */
    { "BandwidthLimit", "uint64 250000", TRUE },
    { "MinimumRetryDelay", "uint32 120", TRUE },
    { "NoProgressTimeout", "uint32 3600", TRUE },
  };
  static const struct {
    const char *name;
    const char *value;
  } invalid[] = {
    { "NotifyFlags", "uint32 8" },
    { "NotifyClsid", "'no such name'" },
    { "ProtocolFlags", "uint32 2" },
    { "ProtocolFlags", "uint32 0" },
    { "Priority", "uint32 0" },
    { "Priority", "uint32 2" },
    { "TransferPolicy", "uint32 256" },
  };
  const char *const read_only[] = {
    "GroupID", "Size", "Status", "WaitReason", "BytesTotal", "BytesTransferred", "FilesTotal",
    "FilesTransferred", "CreationTime", "ModificationTime", "CompletionTime", "Owner",
  };

  for (guint i = 0; i < G_N_ELEMENTS (writable); i++)
    {
      g_autoptr(GVariant) value = g_variant_parse (NULL, writable[i].value, NULL, NULL, &error);
      g_autoptr(GVariant) back = NULL;

      g_assert_no_error (error);
      g_test_message ("Set %s = %s", writable[i].name, writable[i].value);
      it_set_property (f->d, g->path, GROUP, writable[i].name, value, &error);
      g_assert_no_error (error);
      back = it_get_property (f->d, g->path, GROUP, writable[i].name);
      g_assert_true (g_variant_equal (back, value));
      if (writable[i].changes)
        g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, writable[i].name,
                                                  value, 5000));
    }
  /* Changes move ModificationTime, and say so. */
  g_assert_true (it_recorder_wait_property (rec, g->path, GROUP, "ModificationTime", NULL,
                                            5000));
  g_assert_cmpuint (it_get_t (f->d, g->path, GROUP, "ModificationTime"), >=,
                    it_get_t (f->d, g->path, GROUP, "CreationTime"));

  /* The same values through GetProp. */
  {
    g_autoptr(GVariant) v = it_getprop (f->d, g->path, 11, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "Nightly images");
  }
  {
    g_autoptr(GVariant) v = it_getprop (f->d, g->path, 6, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_variant_get_uint32 (v), ==, 4);
  }

  /* The string rules apply to Properties.Set too. */
  g_assert_false (it_set_property (f->d, g->path, GROUP, "DisplayName",
                                   g_variant_new_string (long_name), &error));
  qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  g_assert_false (it_set_property (f->d, g->path, GROUP, "DisplayName",
                                   g_variant_new_string ("tab\there"), &error));
  qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  g_assert_false (it_set_property (f->d, g->path, GROUP, "Description",
                                   g_variant_new_string (long_desc), &error));
  qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr(GVariant) value = g_variant_parse (NULL, invalid[i].value, NULL, NULL, &error);
      g_assert_no_error (error);
      g_test_message ("Set %s = %s (invalid)", invalid[i].name, invalid[i].value);
      g_assert_false (it_set_property (f->d, g->path, GROUP, invalid[i].name, value, &error));
      qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
    }
  /* Wrong types. */
  g_assert_false (it_set_property (f->d, g->path, GROUP, "DisplayName",
                                   g_variant_new_uint32 (1), &error));
  qmgr_test_assert_dbus_error (error, IT_ERR_INVALID_ARGS);
  g_assert_false (it_set_property (f->d, g->path, GROUP, "BandwidthLimit",
                                   g_variant_new_uint32 (1), &error));
  qmgr_test_assert_dbus_error (error, IT_ERR_INVALID_ARGS);
  for (guint i = 0; i < G_N_ELEMENTS (read_only); i++)
    {
      g_autoptr(GVariant) current = it_get_property (f->d, g->path, GROUP, read_only[i]);
      g_test_message ("Set %s (read-only)", read_only[i]);
      g_assert_false (it_set_property (f->d, g->path, GROUP, read_only[i], current, &error));
      qmgr_test_assert_dbus_error (error, IT_ERR_PROPERTY_READ_ONLY);
    }
  /* Unchanged by the failures. */
  {
    g_autofree char *name = it_get_s (f->d, g->path, GROUP, "DisplayName");
    g_assert_cmpstr (name, ==, "Nightly images");
  }
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "NotifyFlags"), ==, 4);
  g_assert_cmpuint (it_get_u (f->d, g->path, GROUP, "TransferPolicy"), ==, 0x80000067u);

  /* Job properties are read-only. */
  {
    g_assert_false (it_set_property (f->d, g->job_path, JOB, "FileCount",
                                     g_variant_new_uint32 (3), &error));
    qmgr_test_assert_dbus_error (error, IT_ERR_PROPERTY_READ_ONLY);
  }
}

static void
test_wait_reason_queued (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItBlackhole) hole = it_blackhole_new ();
  g_autoptr(ItGroup) first = it_group_create (f->d, TRUE);
  g_autoptr(ItGroup) second = it_group_create (f->d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *url1 = it_blackhole_url (hole, "/one");
  g_autofree char *url2 = it_blackhole_url (hole, "/two");
  g_autofree char *local1 = it_file (f->d, "one");
  g_autofree char *local2 = it_file (f->d, "two");

  /* One transfer slot, held by a transfer that never gets an answer. */
  it_set_property (f->d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE,
                   "MaxConcurrentTransfers", g_variant_new_uint32 (1), &error);
  g_assert_no_error (error);
  it_add_file (f->d, first->job_path, url1, local1, 0, &error);
  g_assert_no_error (error);
  it_add_file (f->d, second->job_path, url2, local2, 0, &error);
  g_assert_no_error (error);

  it_call_void (f->d, first->path, GROUP, "ResumeGroup", NULL);
  g_assert_true (it_wait_property (f->d, first->path, GROUP, "WaitReason",
                                   g_variant_new_string ("transferring"), 10000));
  it_call_void (f->d, second->path, GROUP, "ResumeGroup", NULL);
  g_assert_cmpuint (it_group_status (f->d, second->path), ==, 0x80);
  g_assert_true (it_wait_property (f->d, second->path, GROUP, "WaitReason",
                                   g_variant_new_string ("queued"), 5000));
  g_assert_cmpuint (it_group_status (f->d, first->path), ==, 0x80);

  /* Suspending the first hands the slot over. */
  it_call_void (f->d, first->path, GROUP, "SuspendGroup", NULL);
  g_assert_true (it_wait_property (f->d, second->path, GROUP, "WaitReason",
                                   g_variant_new_string ("transferring"), 10000));
  g_assert_true (it_wait_property (f->d, first->path, GROUP, "WaitReason",
                                   g_variant_new_string ("suspended"), 5000));
  it_call_void (f->d, second->path, GROUP, "CancelGroup", NULL);
  it_call_void (f->d, first->path, GROUP, "CancelGroup", NULL);
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  it_add ("/group/initial-state", test_initial_state);
  it_add ("/group/resume-suspend", test_resume_rules);
  it_add ("/group/cancel", test_cancel_group);
  it_add ("/group/create-job", test_create_job);
  it_add ("/group/create-job/generated", test_create_job_generated);
  it_add ("/group/get-job-enum-jobs", test_get_job_enum_jobs);
  it_add ("/group/query-new-job-interface", test_query_new_job_interface);
  it_add ("/group/set-notification-pointer", test_set_notification_pointer);
  it_add ("/group/set-notification-pointer/owner-leaves", test_pointer_owner_leaves);
  it_add ("/group/take-ownership", test_take_ownership);
  it_add ("/group/switch-to-foreground", test_switch_to_foreground);
  it_add ("/group/getprop/defaults", test_getprop_defaults);
  it_add ("/group/setprop/numeric", test_setprop_numeric);
  it_add ("/group/setprop/not-supported", test_setprop_not_supported);
  it_add ("/group/setprop/strings", test_setprop_strings);
  it_add ("/group/setprop/rejected-is-silent", test_rejected_setprop_is_silent);
  it_add ("/group/get-progress", test_get_progress);
  it_add ("/group/transfer-policy", test_transfer_policy);
  it_add ("/group/dbus-properties", test_dbus_properties);
  it_add ("/group/wait-reason-queued", test_wait_reason_queued);
  return g_test_run ();
}
