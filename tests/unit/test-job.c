/* qmgrd unit tests — a Job: AddFiles (all or nothing, destinations, quota, error
 * precedence), GetFile/GetFileStatus, and the progress arithmetic of docs/dbus-api.md
 * ("Sizes and progress"). */
#include <string.h>

#include "unit-common.h"

typedef struct {
  QmgrManager *manager;
  QmgrGroup *group;
  QmgrJob *job;
  UnitFakeDestination dest;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  guint max_files = GPOINTER_TO_UINT (data);

  f->manager = unit_manager_new (0, max_files);
  memset (&f->dest, 0, sizeof f->dest);
  qmgr_manager_set_destination_check (f->manager, unit_fake_destination_check, &f->dest);
  f->group = unit_create_group (f->manager, GUID_A, UNIT_OWNER);
  f->job = unit_create_job (f->group, GUID_B);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  /* Whatever the test did, the job's sums match its files. */
  g_assert_true (qmgr_job_tallies_hold (f->job));
  qmgr_manager_free (f->manager);
}

static gboolean
add_one (QmgrJob *job, const char *url, const char *path, GError **error)
{
  QmgrFileSpec spec = { url, path, 0 };
  return qmgr_job_add_files (job, &spec, 1, error);
}

/* ---- AddFiles ---- */

static void
test_add_files_basic (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  QmgrFileSpec specs[] = {
    { "https://example.com/a.iso", "/tmp/qmgr-unit/basic/a.iso", 4700000000ull },
    { "http://example.com/b", "/tmp/qmgr-unit/basic/b", 0 },
    { "HTTPS://EXAMPLE.COM/C", "/tmp/qmgr-unit/basic/c", 12 },
  };
  gint64 before = f->group->modification_time;

  unit_clock_advance (5);
  g_assert_true (qmgr_job_add_files (f->job, specs, G_N_ELEMENTS (specs), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (qmgr_job_get_file_count (f->job), ==, 3);
  g_assert_cmpuint (qmgr_group_get_files_total (f->group), ==, 3);
  g_assert_cmpint (f->group->modification_time, >, before);
  /* The destination check ran for each entry, as the owner. */
  g_assert_cmpuint (f->dest.calls, >=, 3);
  g_assert_cmpuint (f->dest.last_owner, ==, UNIT_OWNER);

  for (guint32 i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      const QmgrFile *file = qmgr_job_get_file (f->job, i, &error);
      guint32 status;
      guint64 total, transferred;
      QmgrTransferError code = QMGR_TRANSFER_ERROR_CANCELLED;
      const char *message = NULL;

      g_assert_no_error (error);
      g_assert_nonnull (file);
      /* Returned as given, in order; the size hint never decides anything. */
      g_assert_cmpstr (file->remote_url, ==, specs[i].remote_url);
      g_assert_cmpstr (file->local_path, ==, specs[i].local_path);
      g_assert_cmpuint (file->size_hint, ==, specs[i].size_hint);
      g_assert_false (file->complete);
      g_assert_cmpuint (file->bytes_total, ==, QMGR_SIZE_UNKNOWN);

      g_assert_true (qmgr_job_get_file_status (f->job, i, &status, &total, &transferred, &code,
                                               &message, &error));
      g_assert_no_error (error);
      g_assert_cmphex (status, ==, QMGR_STATUS_FILE_INCOMPLETE);
      g_assert_cmpuint (total, ==, G_MAXUINT64);
      g_assert_cmpuint (transferred, ==, 0);
      g_assert_cmpstr (qmgr_transfer_error_name (code), ==, "");
      g_assert_cmpstr (message, ==, "");
    }

  /* Sizes are unknown: Size is 0, BytesTotal the partial sum (0). */
  g_assert_cmpuint (qmgr_group_get_size (f->group), ==, 0);
  g_assert_cmpuint (qmgr_group_get_bytes_total (f->group), ==, 0);
  g_assert_cmpuint (qmgr_job_get_bytes_total (f->job), ==, 0);
}

static void
test_get_file_out_of_range (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  guint32 status;
  guint64 total, transferred;
  QmgrTransferError code;
  const char *message;

  g_assert_null (qmgr_job_get_file (f->job, 0, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND);
  g_clear_error (&error);

  unit_add_files (f->job, 2);
  g_assert_nonnull (qmgr_job_get_file (f->job, 1, &error));
  g_assert_null (qmgr_job_get_file (f->job, 2, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (qmgr_job_get_file (f->job, G_MAXUINT32, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (qmgr_job_get_file_status (f->job, 2, &status, &total, &transferred, &code,
                                            &message, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (qmgr_job_file_completed (f->job, 2, 1, &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (qmgr_group_get_files_transferred (f->group), ==, 0);
}

static void
test_add_files_all_or_nothing (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  QmgrFileSpec good_then_bad[] = {
    { "https://example.com/1", "/tmp/qmgr-unit/aon/1", 0 },
    { "https://example.com/2", "/tmp/qmgr-unit/aon/2", 0 },
    { "ftp://example.com/3", "/tmp/qmgr-unit/aon/3", 0 },
  };
  QmgrFileSpec bad_path[] = {
    { "https://example.com/1", "/tmp/qmgr-unit/aon/1", 0 },
    { "https://example.com/4", "relative/4", 0 },
  };
  QmgrFileSpec user_info[] = {
    { "https://example.com/1", "/tmp/qmgr-unit/aon/1", 0 },
    { "https://u:p@example.com/5", "/tmp/qmgr-unit/aon/5", 0 },
  };
  QmgrFileSpec long_url[2] = {
    { "https://example.com/1", "/tmp/qmgr-unit/aon/1", 0 },
  };
  g_autofree char *url = NULL;
  GString *s = g_string_new ("https://example.com/");

  while (s->len < 2201)
    g_string_append_c (s, 'x');
  url = g_string_free (s, FALSE);
  long_url[1].remote_url = url;
  long_url[1].local_path = "/tmp/qmgr-unit/aon/6";

  g_assert_false (qmgr_job_add_files (f->job, good_then_bad, 3, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "ftp://example.com/3"));
  g_clear_error (&error);
  g_assert_false (qmgr_job_add_files (f->job, bad_path, 2, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (qmgr_job_add_files (f->job, user_info, 2, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (qmgr_job_add_files (f->job, long_url, 2, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  g_assert_cmpuint (qmgr_job_get_file_count (f->job), ==, 0);
  /* Nothing was reserved by the failed calls. */
  g_assert_false (qmgr_manager_destination_taken (f->manager, UNIT_OWNER, "/tmp/qmgr-unit/aon/1"));
  g_assert_true (qmgr_job_add_files (f->job, good_then_bad, 2, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (qmgr_job_get_file_count (f->job), ==, 2);
}

static void
test_add_files_while_queued (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;

  unit_add_files (f->job, 1);
  g_assert_true (qmgr_group_resume (f->group, &error));
  qmgr_group_set_run_state (f->group, QMGR_RUN_TRANSFERRING);
  unit_add_files (f->job, 2);
  g_assert_cmpuint (qmgr_job_get_file_count (f->job), ==, 3);
  g_assert_cmphex (qmgr_group_get_status (f->group), ==, 0x80);

  /* A group whose files are partly done keeps going with the new ones. */
  g_assert_true (qmgr_job_file_completed (f->job, 0, 1, &error));
  g_assert_true (qmgr_job_file_completed (f->job, 1, 1, &error));
  g_assert_cmphex (qmgr_group_get_status (f->group), ==, 0x80);
  unit_add_files (f->job, 1);
  g_assert_true (qmgr_job_file_completed (f->job, 2, 1, &error));
  g_assert_cmphex (qmgr_group_get_status (f->group), ==, 0x80);
  g_assert_true (qmgr_job_file_completed (f->job, 3, 1, &error));
  g_assert_no_error (error);
  g_assert_cmphex (qmgr_group_get_status (f->group), ==, 0x140);
}

static void
test_add_files_precedence_on_complete (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;

  unit_add_files (f->job, 1);
  unit_complete_all (f->job, 1);
  g_assert_cmphex (qmgr_group_get_status (f->group), ==, 0x140);

  /* InvalidArgs (the arguments) before InvalidState. */
  g_assert_false (add_one (f->job, "file:///etc/passwd", "/tmp/qmgr-unit/prec/1", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (add_one (f->job, "https://example.com/x", "/tmp/qmgr-unit/prec/../1", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  /* AccessDenied before InvalidState. */
  f->dest.deny_prefix = "/denied/";
  g_assert_false (add_one (f->job, "https://example.com/x", "/denied/x", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ACCESS_DENIED);
  g_clear_error (&error);

  g_assert_false (add_one (f->job, "https://example.com/x", "/tmp/qmgr-unit/prec/2", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE);
  g_assert_cmpuint (qmgr_job_get_file_count (f->job), ==, 1);
}

static void
test_add_files_destination_check (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  QmgrFileSpec denied_then_bad[] = {
    { "https://example.com/1", "/denied/1", 0 },
    { "gopher://example.com/2", "/tmp/qmgr-unit/dc/2", 0 },
  };
  QmgrFileSpec ok_then_denied[] = {
    { "https://example.com/1", "/tmp/qmgr-unit/dc/1", 0 },
    { "https://example.com/2", "/denied/2", 0 },
  };
  QmgrFileSpec denied_then_directory[] = {
    { "https://example.com/1", "/denied/3", 0 },
    { "https://example.com/2", "/dir/4", 0 },
  };

  f->dest.deny_prefix = "/denied/";
  f->dest.invalid_prefix = "/dir/";

  g_assert_false (add_one (f->job, "https://example.com/x", "/denied/x", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ACCESS_DENIED);
  g_clear_error (&error);

  g_assert_false (add_one (f->job, "https://example.com/x", "/dir/x", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  /* A malformed entry anywhere beats a denied one. */
  g_assert_false (qmgr_job_add_files (f->job, denied_then_bad, 2, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (qmgr_job_add_files (f->job, denied_then_directory, 2, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  g_assert_false (qmgr_job_add_files (f->job, ok_then_denied, 2, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ACCESS_DENIED);
  g_clear_error (&error);
  g_assert_cmpuint (qmgr_job_get_file_count (f->job), ==, 0);
  g_assert_false (qmgr_manager_destination_taken (f->manager, UNIT_OWNER, "/tmp/qmgr-unit/dc/1"));
}

static void
test_destination_unique (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  const char *path = "/tmp/qmgr-unit/unique/target";
  QmgrFileSpec twice[] = {
    { "https://example.com/1", path, 0 },
    { "https://example.com/2", path, 0 },
  };
  QmgrGroup *g2 = unit_create_group (f->manager, GUID_C, UNIT_OWNER);
  QmgrJob *j2 = unit_create_job (g2, GUID_D);
  QmgrGroup *g3 = unit_create_group (f->manager, GUID_E, UNIT_OTHER);
  QmgrJob *j3 = unit_create_job (g3, "");

  /* The same destination twice in one call. */
  g_assert_false (qmgr_job_add_files (f->job, twice, 2, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_cmpuint (qmgr_job_get_file_count (f->job), ==, 0);

  g_assert_true (add_one (f->job, "https://example.com/1", path, &error));
  g_assert_no_error (error);

  /* Again in the same job, or in another incomplete group of the same owner. */
  g_assert_false (add_one (f->job, "https://example.com/2", path, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (add_one (j2, "https://example.com/2", path, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_cmpuint (qmgr_job_get_file_count (j2), ==, 0);

  /* Another owner may use the same path. */
  g_assert_true (add_one (j3, "https://example.com/3", path, &error));
  g_assert_no_error (error);

  /* Once the group that held it completes, the path is free. */
  g_assert_true (qmgr_group_resume (f->group, &error));
  unit_complete_all (f->job, 10);
  g_assert_true (add_one (j2, "https://example.com/2", path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (qmgr_job_get_file_count (j2), ==, 1);

  /* g2 holds it now; cancelling g2 frees it. */
  {
    QmgrGroup *g4 = unit_create_group (f->manager, "", UNIT_OWNER);
    QmgrJob *j4 = unit_create_job (g4, "");

    g_assert_false (add_one (j4, "https://example.com/4", path, &error));
    g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
    g_clear_error (&error);
    g_assert_true (qmgr_group_cancel (g2, &error));
    g_assert_no_error (error);
    g_assert_true (add_one (j4, "https://example.com/4", path, &error));
    g_assert_no_error (error);

    /* CancelJob frees it too. */
    g_assert_true (qmgr_job_cancel (j4, &error));
    g_assert_no_error (error);
    g_assert_false (qmgr_manager_destination_taken (f->manager, UNIT_OWNER, path));
  }
}

static void
test_destination_same_path_different_spelling (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;

  /* Destinations are compared as normalized absolute paths: different paths differ. */
  g_assert_true (add_one (f->job, "https://example.com/1", "/tmp/qmgr-unit/spell/a", &error));
  g_assert_true (add_one (f->job, "https://example.com/1", "/tmp/qmgr-unit/spell/A", &error));
  g_assert_true (add_one (f->job, "https://example.com/1", "/tmp/qmgr-unit/spell/a.b", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (qmgr_job_get_file_count (f->job), ==, 3);
}

static void
test_files_quota (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  QmgrFileSpec two[] = {
    { "https://example.com/q1", "/tmp/qmgr-unit/quota/q1", 0 },
    { "https://example.com/q2", "/tmp/qmgr-unit/quota/q2", 0 },
  };
  QmgrFileSpec two_more[] = {
    { "https://example.com/q3", "/tmp/qmgr-unit/quota/q3", 0 },
    { "https://example.com/q4", "/tmp/qmgr-unit/quota/q4", 0 },
  };
  QmgrFileSpec bad_and_over[] = {
    { "https://example.com/q3", "/tmp/qmgr-unit/quota/q3", 0 },
    { "https://example.com/q4", "q4", 0 },
  };

  g_assert_cmpuint (f->manager->settings.max_files_per_job, ==, 3);
  g_assert_true (qmgr_job_add_files (f->job, two, 2, &error));
  g_assert_no_error (error);

  g_assert_false (qmgr_job_add_files (f->job, two_more, 2, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
  g_clear_error (&error);
  g_assert_cmpuint (qmgr_job_get_file_count (f->job), ==, 2);
  g_assert_false (qmgr_manager_destination_taken (f->manager, UNIT_OWNER,
                                                  "/tmp/qmgr-unit/quota/q3"));

  /* InvalidArgs before LimitsExceeded. */
  g_assert_false (qmgr_job_add_files (f->job, bad_and_over, 2, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  g_assert_true (qmgr_job_add_files (f->job, two_more, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (qmgr_job_get_file_count (f->job), ==, 3);
  g_assert_false (qmgr_job_add_files (f->job, &two_more[1], 1, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
  g_clear_error (&error);

  /* LimitsExceeded before InvalidState. */
  g_assert_true (qmgr_group_resume (f->group, &error));
  unit_complete_all (f->job, 1);
  g_assert_cmphex (qmgr_group_get_status (f->group), ==, 0x140);
  g_assert_false (qmgr_job_add_files (f->job, &two_more[1], 1, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
  g_clear_error (&error);

  /* The quota is per job: another job starts from zero. */
  {
    QmgrGroup *g2 = unit_create_group (f->manager, "", UNIT_OWNER);
    QmgrJob *j2 = unit_create_job (g2, "");
    unit_add_files (j2, 3);
  }
}

static void
test_files_quota_one_big_batch (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  QmgrFileSpec specs[4];
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      char *path = unit_unique_path ();
      g_ptr_array_add (paths, path);
      specs[i] = (QmgrFileSpec) { "https://example.com/big", path, 0 };
    }
  g_assert_false (qmgr_job_add_files (f->job, specs, G_N_ELEMENTS (specs), &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
  g_assert_cmpuint (qmgr_job_get_file_count (f->job), ==, 0);
}

static void
test_file_completed_twice (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;

  unit_add_files (f->job, 2);
  g_assert_true (qmgr_job_file_completed (f->job, 0, 50, &error));
  g_assert_no_error (error);
  g_assert_false (qmgr_job_file_completed (f->job, 0, 60, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpuint (qmgr_group_get_files_transferred (f->group), ==, 1);
  g_assert_cmpuint (qmgr_job_get_bytes_transferred (f->job), ==, 50);
  g_assert_cmphex (qmgr_group_get_status (f->group), ==, 0x180);
}

/* ---- sizes and progress ---- */

static guint32
progress_of (QmgrJob *job, guint32 type)
{
  g_autoptr(GError) error = NULL;
  guint32 job_value = 0xdeadbeef, group_value = 0xdeadbeef;

  g_assert_true (qmgr_job_get_progress (job, type, &job_value, &error));
  g_assert_no_error (error);
  g_assert_true (qmgr_group_get_progress (job->group, type, &group_value, &error));
  g_assert_no_error (error);
  /* The group's progress is its job's. */
  g_assert_cmpuint (job_value, ==, group_value);
  return job_value;
}

static QmgrFile *
file_at (QmgrJob *job, guint i)
{
  return g_ptr_array_index (job->files, i);
}

/* What the transfer engine records while bytes move. */
static void
set_bytes (QmgrJob *job, guint i, guint64 total, guint64 transferred)
{
  qmgr_job_untally (job, file_at (job, i));
  file_at (job, i)->bytes_total = total;
  file_at (job, i)->bytes_transferred = transferred;
  qmgr_job_tally (job, file_at (job, i));
}

static void
test_progress_types (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  guint32 invalid[] = { 0, 4, 5, 0x100, G_MAXUINT32 };
  guint32 value;

  /* Without a job: nothing has moved; the same argument rules. */
  {
    QmgrGroup *empty = unit_create_group (f->manager, GUID_C, UNIT_OWNER);

    g_assert_true (qmgr_group_get_progress (empty, QMGR_PROGRESS_PERCENT_DONE, &value, &error));
    g_assert_cmpuint (value, ==, 0);
    g_assert_true (qmgr_group_get_progress (empty, QMGR_PROGRESS_SIZE_DONE, &value, &error));
    g_assert_cmpuint (value, ==, 0);
    g_assert_no_error (error);
    g_assert_false (qmgr_group_get_progress (empty, QMGR_PROGRESS_TIME_DONE, &value, &error));
    g_assert_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED);
    g_clear_error (&error);
    for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
      {
        g_assert_false (qmgr_group_get_progress (empty, invalid[i], &value, &error));
        g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
        g_clear_error (&error);
      }
  }

  /* A job without files. */
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 0);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_SIZE_DONE), ==, 0);

  unit_add_files (f->job, 1);
  g_assert_false (qmgr_job_get_progress (f->job, QMGR_PROGRESS_TIME_DONE, &value, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_false (qmgr_group_get_progress (f->group, QMGR_PROGRESS_TIME_DONE, &value, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_assert_false (qmgr_job_get_progress (f->job, invalid[i], &value, &error));
      g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
      g_clear_error (&error);
      g_assert_false (qmgr_group_get_progress (f->group, invalid[i], &value, &error));
      g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
      g_clear_error (&error);
    }
}

static void
test_progress_files_based (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  unit_add_files (f->job, 4);
  g_assert_true (qmgr_group_resume (f->group, NULL));
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 0);

  /* One file is done, the others' sizes are unknown: files-based. */
  g_assert_true (qmgr_job_file_completed (f->job, 0, 1000, NULL));
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 25);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_SIZE_DONE), ==, 1000);
  g_assert_cmpuint (qmgr_group_get_size (f->group), ==, 0);
  g_assert_cmpuint (qmgr_group_get_bytes_total (f->group), ==, 1000);

  /* Bytes moving in a file of unknown size do not change the percentage. */
  set_bytes (f->job, 1, QMGR_SIZE_UNKNOWN, 123456);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 25);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_SIZE_DONE), ==, 1000 + 123456);
  g_assert_cmpuint (qmgr_group_get_bytes_transferred (f->group), ==, 1000 + 123456);

  /* A known size that is still partial keeps it files-based while others are unknown. */
  set_bytes (f->job, 2, 10, 9);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 25);
  g_assert_cmpuint (qmgr_group_get_bytes_total (f->group), ==, 1010);
  g_assert_cmpuint (qmgr_group_get_size (f->group), ==, 0);

  g_assert_true (qmgr_job_file_completed (f->job, 1, 200000, NULL));
  g_assert_true (qmgr_job_file_completed (f->job, 2, 10, NULL));
  /* All sizes but one known: 3 of 4 files. */
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 75);

  g_assert_true (qmgr_job_file_completed (f->job, 3, 5, NULL));
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 100);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_SIZE_DONE), ==, 201015);
  g_assert_cmpuint (qmgr_group_get_size (f->group), ==, 201015);
}

static void
test_progress_bytes_based (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  unit_add_files (f->job, 2);
  g_assert_true (qmgr_group_resume (f->group, NULL));

  set_bytes (f->job, 0, 1000, 500);
  set_bytes (f->job, 1, 1000, 0);
  g_assert_cmpuint (qmgr_group_get_size (f->group), ==, 2000);
  g_assert_cmpuint (qmgr_group_get_bytes_total (f->group), ==, 2000);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 25);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_SIZE_DONE), ==, 500);

  set_bytes (f->job, 1, 1000, 1000);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 75);

  /* 1999 of 2000 bytes rounds down, never up to 100. */
  set_bytes (f->job, 0, 1000, 999);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 99);

  /* Every byte is here but the files are not in place yet: still not 100. */
  set_bytes (f->job, 0, 1000, 1000);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), <, 100);

  g_assert_true (qmgr_job_file_completed (f->job, 0, 1000, NULL));
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), <, 100);
  g_assert_true (qmgr_job_file_completed (f->job, 1, 1000, NULL));
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 100);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_SIZE_DONE), ==, 2000);
}

static void
test_progress_empty_files (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  unit_add_files (f->job, 2);
  g_assert_true (qmgr_group_resume (f->group, NULL));

  /* Known sizes summing to 0: no division by zero, not 100 before complete. */
  set_bytes (f->job, 0, 0, 0);
  set_bytes (f->job, 1, 0, 0);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), <, 100);

  g_assert_true (qmgr_job_file_completed (f->job, 0, 0, NULL));
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), <, 100);
  g_assert_true (qmgr_job_file_completed (f->job, 1, 0, NULL));
  g_assert_cmphex (qmgr_group_get_status (f->group), ==, 0x140);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 100);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_SIZE_DONE), ==, 0);
}

static void
test_progress_clamps (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  const guint64 five_gib = G_GUINT64_CONSTANT (5) << 30;
  const guint64 huge = G_GUINT64_CONSTANT (1) << 62;

  unit_add_files (f->job, 2);
  g_assert_true (qmgr_group_resume (f->group, NULL));

  set_bytes (f->job, 0, five_gib, five_gib - 1);
  set_bytes (f->job, 1, five_gib, 0);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_SIZE_DONE), ==, 0xFFFFFFFFu);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 49);
  g_assert_cmpuint (qmgr_group_get_size (f->group), ==, 2 * five_gib);
  g_assert_cmpuint (qmgr_group_get_bytes_transferred (f->group), ==, five_gib - 1);

  /* Exactly at the clamp. */
  set_bytes (f->job, 0, five_gib, 0xFFFFFFFFu);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_SIZE_DONE), ==, 0xFFFFFFFFu);
  set_bytes (f->job, 0, five_gib, 0xFFFFFFFEu);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_SIZE_DONE), ==, 0xFFFFFFFEu);

  /* 100 × bytes must not overflow 64 bits. */
  set_bytes (f->job, 0, huge, huge / 2);
  set_bytes (f->job, 1, huge, huge / 2);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 50);
  set_bytes (f->job, 0, huge, huge);
  set_bytes (f->job, 1, huge, huge / 2);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 75);
  set_bytes (f->job, 0, G_MAXUINT64 / 4, G_MAXUINT64 / 40);
  set_bytes (f->job, 1, G_MAXUINT64 / 4, 0);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), ==, 5);
}

/* Sizes a server announced can sum past 2^64: the totals saturate, they never wrap
 * (a wrapped sum read as a small BytesTotal, and progress above 100 %). */
static void
test_sums_saturate (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  const guint64 huge = G_GUINT64_CONSTANT (1) << 63;

  unit_add_files (f->job, 3);
  set_bytes (f->job, 0, huge, huge / 2);
  g_assert_cmpuint (qmgr_job_get_bytes_total (f->job), ==, huge);
  set_bytes (f->job, 1, huge, huge / 2);
  set_bytes (f->job, 2, huge, huge - 1);
  g_assert_cmpuint (qmgr_job_get_bytes_total (f->job), ==, G_MAXUINT64);
  g_assert_cmpuint (qmgr_group_get_bytes_total (f->group), ==, G_MAXUINT64);
  g_assert_cmpuint (qmgr_group_get_size (f->group), ==, G_MAXUINT64);
  g_assert_cmpuint (qmgr_job_get_bytes_transferred (f->job), ==, G_MAXUINT64);
  g_assert_cmpuint (progress_of (f->job, QMGR_PROGRESS_PERCENT_DONE), <=, 99);
  g_assert_true (qmgr_job_tallies_hold (f->job));
  /* Back below 2^64, the exact sum again. */
  set_bytes (f->job, 1, 10, 0);
  set_bytes (f->job, 2, 20, 0);
  g_assert_cmpuint (qmgr_job_get_bytes_total (f->job), ==, huge + 30);
  g_assert_cmpuint (qmgr_job_get_bytes_transferred (f->job), ==, huge / 2);
  g_assert_true (qmgr_job_tallies_hold (f->job));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

#define ADD(path, fn, max_files)                                                  \
  g_test_add ((path), Fixture, GUINT_TO_POINTER (max_files), fixture_set_up, (fn), \
              fixture_tear_down)

  ADD ("/job/add-files/basic", test_add_files_basic, 0);
  ADD ("/job/add-files/all-or-nothing", test_add_files_all_or_nothing, 0);
  ADD ("/job/add-files/while-queued", test_add_files_while_queued, 0);
  ADD ("/job/add-files/precedence-on-complete", test_add_files_precedence_on_complete, 0);
  ADD ("/job/add-files/destination-check", test_add_files_destination_check, 0);
  ADD ("/job/add-files/destination-unique", test_destination_unique, 0);
  ADD ("/job/add-files/destination-spelling", test_destination_same_path_different_spelling, 0);
  ADD ("/job/add-files/quota", test_files_quota, 3);
  ADD ("/job/add-files/quota-one-batch", test_files_quota_one_big_batch, 3);
  ADD ("/job/get-file/out-of-range", test_get_file_out_of_range, 0);
  ADD ("/job/file-completed-twice", test_file_completed_twice, 0);
  ADD ("/job/progress/types", test_progress_types, 0);
  ADD ("/job/progress/files-based", test_progress_files_based, 0);
  ADD ("/job/progress/bytes-based", test_progress_bytes_based, 0);
  ADD ("/job/progress/empty-files", test_progress_empty_files, 0);
  ADD ("/job/progress/clamps", test_progress_clamps, 0);
  ADD ("/job/progress/sums-saturate", test_sums_saturate, 0);

  return g_test_run ();
}
