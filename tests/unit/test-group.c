/* qmgrd unit tests — the Manager and the Group state machine through the core API:
 * the status table of docs/dbus-api.md ("Status values"), which calls are legal in which
 * state, the error precedence, GUID uniqueness, quotas and visibility. */
#include <string.h>

#include "unit-common.h"

#define assert_status(group, gstatus, jstatus)                                   \
  G_STMT_START {                                                                 \
    g_assert_cmphex (qmgr_group_get_status (group), ==, (gstatus));              \
    if ((group)->job != NULL)                                                    \
      g_assert_cmphex (qmgr_job_get_status ((group)->job), ==, (jstatus));       \
  } G_STMT_END

/* ---- the status table ---- */

static void
test_created_group (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  QmgrGroup *g = unit_create_group (m, GUID_A, UNIT_OWNER);
  QmgrJob *job;

  g_assert_cmpstr (g->id_str, ==, GUID_A);
  g_assert_cmpuint (g->owner, ==, UNIT_OWNER);
  g_assert_cmphex (qmgr_group_get_status (g), ==, 0x180);
  g_assert_cmpstr (qmgr_group_get_wait_reason (g), ==, "suspended");
  g_assert_null (g->job);
  g_assert_cmpint (g->creation_time, ==, unit_now);
  g_assert_cmpint (g->modification_time, ==, unit_now);
  g_assert_cmpint (g->completion_time, ==, 0);
  g_assert_false (g->foreground);
  g_assert_cmpuint (qmgr_group_get_files_total (g), ==, 0);
  g_assert_cmpuint (qmgr_group_get_files_transferred (g), ==, 0);
  g_assert_cmpuint (qmgr_group_get_size (g), ==, 0);
  g_assert_cmpuint (qmgr_group_get_bytes_total (g), ==, 0);
  g_assert_cmpuint (qmgr_group_get_bytes_transferred (g), ==, 0);

  job = unit_create_job (g, GUID_B);
  g_assert_cmpstr (job->id_str, ==, GUID_B);
  g_assert_true (job->group == g);
  g_assert_true (g->job == job);
  assert_status (g, 0x180, 0x8);
  g_assert_cmpuint (qmgr_job_get_file_count (job), ==, 0);
}

static void
test_resume_and_suspend (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 2, FALSE);

  assert_status (g, 0x180, 0x8);
  g_assert_false (qmgr_manager_has_runnable_groups (m));

  g_assert_true (qmgr_group_resume (g, &error));
  g_assert_no_error (error);
  assert_status (g, 0x80, 0x8);
  g_assert_cmpstr (qmgr_group_get_wait_reason (g), ==, "queued");
  g_assert_true (qmgr_manager_has_runnable_groups (m));

  /* Resuming a queued group again changes nothing. */
  g_assert_true (qmgr_group_resume (g, &error));
  g_assert_no_error (error);
  assert_status (g, 0x80, 0x8);

  g_assert_true (qmgr_group_suspend (g, &error));
  g_assert_no_error (error);
  assert_status (g, 0x180, 0x8);
  g_assert_cmpstr (qmgr_group_get_wait_reason (g), ==, "suspended");
  g_assert_false (qmgr_manager_has_runnable_groups (m));

  /* Suspending a suspended group is legal and changes nothing. */
  g_assert_true (qmgr_group_suspend (g, &error));
  g_assert_no_error (error);
  assert_status (g, 0x180, 0x8);

  g_assert_true (qmgr_group_resume (g, &error));
  g_assert_no_error (error);
  assert_status (g, 0x80, 0x8);
}

static void
test_wait_reasons (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 1, TRUE);
  struct {
    QmgrRunState state;
    const char *reason;
  } cases[] = {
    { QMGR_RUN_TRANSFERRING, "transferring" },
    { QMGR_RUN_METERED, "metered" },
    { QMGR_RUN_OFFLINE, "offline" },
    { QMGR_RUN_CAPTIVE_PORTAL, "captive-portal" },
    { QMGR_RUN_RETRYING, "retrying" },
    { QMGR_RUN_QUEUED, "queued" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      qmgr_group_set_run_state (g, cases[i].state);
      g_assert_cmpstr (qmgr_group_get_wait_reason (g), ==, cases[i].reason);
      /* Waiting is not an error and not a suspension. */
      assert_status (g, 0x80, 0x8);
    }

  /* A suspended group says so, whatever the scheduler last reported. */
  qmgr_group_set_run_state (g, QMGR_RUN_TRANSFERRING);
  g_assert_true (qmgr_group_suspend (g, NULL));
  g_assert_cmpstr (qmgr_group_get_wait_reason (g), ==, "suspended");
}

static void
test_resume_needs_files (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_create_group (m, GUID_A, UNIT_OWNER);

  /* No job. */
  g_assert_false (qmgr_group_resume (g, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE);
  g_assert_nonnull (strstr (error->message, GUID_A));
  g_clear_error (&error);
  assert_status (g, 0x180, 0);

  /* A job without files. */
  unit_create_job (g, "");
  g_assert_false (qmgr_group_resume (g, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE);
  g_clear_error (&error);
  assert_status (g, 0x180, 0x8);
  g_assert_false (qmgr_manager_has_runnable_groups (m));
}

static void
test_complete (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 3, TRUE);
  QmgrJob *job = g->job;
  gint64 done_at;

  unit_clock_advance (1000);
  g_assert_true (qmgr_job_file_completed (job, 0, 100, &error));
  g_assert_no_error (error);
  assert_status (g, 0x80, 0x8);
  g_assert_cmpint (g->completion_time, ==, 0);
  g_assert_cmpuint (qmgr_group_get_files_transferred (g), ==, 1);

  unit_clock_advance (1000);
  g_assert_true (qmgr_job_file_completed (job, 2, 300, &error));
  g_assert_no_error (error);
  assert_status (g, 0x80, 0x8);
  g_assert_cmpint (g->completion_time, ==, 0);

  unit_clock_advance (1000);
  done_at = unit_now;
  g_assert_true (qmgr_job_file_completed (job, 1, 200, &error));
  g_assert_no_error (error);
  assert_status (g, 0x140, 0x4);
  g_assert_cmpint (g->completion_time, ==, done_at);
  g_assert_cmpint (g->modification_time, ==, done_at);
  g_assert_cmpstr (qmgr_group_get_wait_reason (g), ==, "complete");
  g_assert_cmpuint (qmgr_group_get_files_transferred (g), ==, 3);
  g_assert_cmpuint (qmgr_group_get_files_total (g), ==, 3);
  g_assert_cmpuint (qmgr_group_get_size (g), ==, 600);
  g_assert_cmpuint (qmgr_group_get_bytes_total (g), ==, 600);
  g_assert_cmpuint (qmgr_group_get_bytes_transferred (g), ==, 600);
  g_assert_false (qmgr_manager_has_runnable_groups (m));

  /* Every file reads complete. */
  for (guint32 i = 0; i < 3; i++)
    {
      guint32 status;
      guint64 total, transferred;
      QmgrTransferError code;
      const char *message;

      g_assert_true (qmgr_job_get_file_status (job, i, &status, &total, &transferred, &code,
                                               &message, &error));
      g_assert_no_error (error);
      g_assert_cmphex (status, ==, QMGR_STATUS_FILE_COMPLETE);
      g_assert_cmpuint (total, ==, (i + 1) * 100);
      g_assert_cmpuint (transferred, ==, total);
    }
}

static void
test_complete_while_suspended_group_never_resumed (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 1, FALSE);

  /* The transfer engine may report a file done right after a suspend. */
  g_assert_true (qmgr_job_file_completed (g->job, 0, 10, &error));
  g_assert_no_error (error);
  assert_status (g, 0x140, 0x4);
}

static void
test_complete_is_final (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 1, TRUE);
  g_autofree char *path = unit_unique_path ();
  QmgrFileSpec spec = { "https://example.com/late", path, 0 };

  unit_complete_all (g->job, 5);
  assert_status (g, 0x140, 0x4);

  g_assert_false (qmgr_group_suspend (g, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE);
  g_clear_error (&error);
  assert_status (g, 0x140, 0x4);

  g_assert_false (qmgr_group_resume (g, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE);
  g_clear_error (&error);
  assert_status (g, 0x140, 0x4);

  g_assert_false (qmgr_job_add_files (g->job, &spec, 1, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE);
  g_clear_error (&error);
  g_assert_cmpuint (qmgr_job_get_file_count (g->job), ==, 1);

  /* The group has a job: NotSupported wins over the state. */
  g_assert_null (qmgr_group_create_job (g, "", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  assert_status (g, 0x140, 0x4);
  g_assert_cmpstr (qmgr_group_get_wait_reason (g), ==, "complete");
}

static void
test_foreground (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 2, FALSE);

  g_assert_cmphex (qmgr_group_get_effective_transfer_policy (g), ==,
                   QMGR_TRANSFER_POLICY_UNRESTRICTED);

  g_assert_true (qmgr_group_switch_to_foreground (g, &error));
  g_assert_no_error (error);
  g_assert_true (g->foreground);
  /* SwitchToForeground does not resume a suspended group. */
  assert_status (g, 0x580, 0x28);
  g_assert_cmpstr (qmgr_group_get_wait_reason (g), ==, "suspended");
  g_assert_false (qmgr_manager_has_runnable_groups (m));
  /* A defaulted TransferPolicy is ALWAYS for foreground groups. */
  g_assert_cmphex (g->transfer_policy, ==, 0);
  g_assert_cmphex (qmgr_group_get_effective_transfer_policy (g), ==,
                   QMGR_TRANSFER_POLICY_ALWAYS);

  /* Again: no change, no error. */
  g_assert_true (qmgr_group_switch_to_foreground (g, &error));
  g_assert_no_error (error);
  assert_status (g, 0x580, 0x28);

  g_assert_true (qmgr_group_resume (g, &error));
  g_assert_no_error (error);
  assert_status (g, 0x480, 0x28);

  g_assert_true (qmgr_group_suspend (g, &error));
  assert_status (g, 0x580, 0x28);
  g_assert_true (qmgr_group_resume (g, &error));

  unit_complete_all (g->job, 1);
  /* FOREGROUND stays for the group's life. */
  assert_status (g, 0x540, 0x24);
}

static void
test_foreground_while_transferring (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 1, TRUE);

  qmgr_group_set_run_state (g, QMGR_RUN_TRANSFERRING);
  g_assert_true (qmgr_group_switch_to_foreground (g, &error));
  g_assert_no_error (error);
  assert_status (g, 0x480, 0x28);
  /* Switching to the foreground does not stop a transfer in progress, and the
   * scheduler hears of no state change that would make it report again. */
  g_assert_cmpstr (qmgr_group_get_wait_reason (g), ==, "transferring");
}

/* The core has no public seam yet that puts a group in error (the transfer
 * engine will have one); set the state the way that seam will and check the
 * status table and ResumeGroup's rule ("clears the error and retries at once"). */
static void
test_error_state (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(UnitRecorder) rec = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 2, TRUE);
  QmgrJob *job = g->job;

  g->state = QMGR_GROUP_STATE_ERROR;
  job->error = QMGR_TRANSFER_ERROR_HTTP_STATUS;
  job->error_message = g_strdup ("404 Not Found");
  job->transport_result = 404;
  job->win32_result = 5;
  job->num_retries = 3;
  job->error_file_index = 1;
  g->retrying_since = G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC;

  assert_status (g, 0x380, 0x18);
  g_assert_cmpstr (qmgr_group_get_wait_reason (g), ==, "error");
  g_assert_false (qmgr_manager_has_runnable_groups (m));

  /* An errored group is suspended: suspending it is legal and changes nothing. */
  g_assert_true (qmgr_group_suspend (g, &error));
  g_assert_no_error (error);
  assert_status (g, 0x380, 0x18);

  g_assert_true (qmgr_group_switch_to_foreground (g, &error));
  g_assert_no_error (error);
  assert_status (g, 0x780, 0x38);

  rec = unit_recorder_new (m);
  g_assert_true (qmgr_group_resume (g, &error));
  g_assert_no_error (error);
  assert_status (g, 0x480, 0x28);
  g_assert_cmpint (job->error, ==, QMGR_TRANSFER_ERROR_NONE);
  g_assert_null (job->error_message);
  g_assert_cmpuint (job->num_retries, ==, 0);
  /* GetStatus: no failure since; NoProgressTimeout starts anew. */
  g_assert_cmpuint (job->win32_result, ==, 0);
  g_assert_cmpuint (job->transport_result, ==, 0);
  g_assert_cmpint (g->retrying_since, ==, 0);
  g_assert_cmpuint (unit_recorder_count (rec, EV_GROUP_RUNNABLE), ==, 1);
  g_assert_true (unit_recorder_changes (rec, EV_JOB_CHANGED, job) & QMGR_JOB_CHANGED_LAST_ERROR);
  g_assert_true (unit_recorder_changes (rec, EV_GROUP_CHANGED, g) & QMGR_GROUP_CHANGED_STATUS);
}

/* ---- CreateJob ---- */

static void
test_create_job_rules (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_create_group (m, GUID_A, UNIT_OWNER);
  QmgrGroup *other = unit_create_group (m, GUID_C, UNIT_OWNER);
  QmgrJob *other_job = unit_create_job (other, GUID_D);
  QmgrJob *job;

  /* A GUID in use anywhere in the queue: InvalidArgs. */
  g_assert_null (qmgr_group_create_job (g, GUID_A, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "in use"));
  g_clear_error (&error);
  g_assert_null (qmgr_group_create_job (g, "{1B4E28BA-2FA1-11D2-883F-0016D3CCA427}", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_null (qmgr_group_create_job (g, GUID_C, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_null (qmgr_group_create_job (g, GUID_D, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_null (qmgr_group_create_job (g, "00000000-0000-0000-0000-000000000000", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_null (qmgr_group_create_job (g, "junk", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_null (g->job);

  /* Any accepted form; stored in the canonical form. */
  job = qmgr_group_create_job (g, "{6FA459EA-EE8A-3CA4-894E-DB77E160355E}", &error);
  g_assert_no_error (error);
  g_assert_nonnull (job);
  g_assert_cmpstr (job->id_str, ==, GUID_B);
  g_assert_true (qmgr_manager_lookup_job (m, job->id) == job);
  g_assert_true (qmgr_manager_guid_in_use (m, job->id));

  /* A second job: NotSupported. */
  g_assert_null (qmgr_group_create_job (g, GUID_E, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_null (qmgr_group_create_job (g, "", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_true (g->job == job);
  /* The failed attempt did not reserve its GUID. */
  g_assert_false (qmgr_manager_guid_in_use (m, unit_guid (GUID_E)));

  /* Argument errors come first: a malformed GUID on a group that has a job. */
  g_assert_null (qmgr_group_create_job (g, "not-a-guid", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  /* ... and the group's own GUID ("in use"). */
  g_assert_null (qmgr_group_create_job (g, GUID_A, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "in use"));
  g_clear_error (&error);
  /* ... and its own job's GUID. */
  g_assert_null (qmgr_group_create_job (g, GUID_B, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  g_assert_true (other->job == other_job);
}

static void
test_create_job_generated_guid (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  QmgrGroup *g = unit_create_group (m, "", UNIT_OWNER);
  QmgrJob *job = unit_create_job (g, "");
  QmgrGuid parsed;

  g_assert_false (qmgr_guid_equal (job->id, g->id));
  g_assert_false (qmgr_guid_is_null (job->id));
  g_assert_true (qmgr_guid_parse (job->id_str, &parsed, NULL));
  g_assert_true (qmgr_guid_equal (parsed, job->id));
  g_assert_cmpuint (strlen (job->id_str), ==, QMGR_GUID_STRING_LEN);
  g_assert_cmpuint (job->id.bytes[6] >> 4, ==, 4);
}

static void
test_create_job_state (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 1, TRUE);

  /* A resumed group always has a job: NotSupported wins over InvalidState. */
  g_assert_null (qmgr_group_create_job (g, "", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  /* CancelJob leaves the group empty and suspended: a job can be created again. */
  g_assert_true (qmgr_job_cancel (g->job, &error));
  g_assert_no_error (error);
  assert_status (g, 0x180, 0);
  unit_create_job (g, GUID_C);
}

/* The "group not suspended" rule, in a state the public API cannot reach without
 * a job (queued groups always have one): set it directly. */
static void
test_create_job_not_suspended (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_create_group (m, GUID_A, UNIT_OWNER);

  g->state = QMGR_GROUP_STATE_QUEUED;
  g_assert_null (qmgr_group_create_job (g, GUID_B, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE);
  g_clear_error (&error);
  g_assert_null (g->job);
  /* Argument errors still come first. */
  g_assert_null (qmgr_group_create_job (g, "bad", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g->state = QMGR_GROUP_STATE_SUSPENDED;
}

/* ---- CancelJob and CancelGroup ---- */

static void
test_cancel_job (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 3, TRUE);
  QmgrGuid job_id = g->job->id;
  g_auto(GStrv) jobs = NULL;

  unit_clock_advance (10);
  g_assert_true (qmgr_job_cancel (g->job, &error));
  g_assert_no_error (error);
  g_assert_null (g->job);
  assert_status (g, 0x180, 0);
  g_assert_cmpstr (qmgr_group_get_wait_reason (g), ==, "suspended");
  g_assert_cmpuint (qmgr_group_get_files_total (g), ==, 0);
  g_assert_null (qmgr_manager_lookup_job (m, job_id));
  g_assert_false (qmgr_manager_guid_in_use (m, job_id));
  g_assert_true (qmgr_manager_lookup_group (m, g->id) == g);
  g_assert_cmpint (g->modification_time, ==, unit_now);
  g_assert_false (qmgr_manager_has_runnable_groups (m));

  jobs = qmgr_group_enum_jobs (g, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (jobs), ==, 0);

  g_assert_false (qmgr_group_resume (g, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_STATE);
}

static void
test_cancel_job_of_complete_group (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 1, TRUE);

  unit_complete_all (g->job, 1);
  assert_status (g, 0x140, 0x4);
  g_assert_true (qmgr_job_cancel (g->job, &error));
  g_assert_no_error (error);
  /* "the group becomes empty and suspended" */
  assert_status (g, 0x180, 0);
  g_assert_cmpstr (qmgr_group_get_wait_reason (g), ==, "suspended");
  unit_create_job (g, "");
}

static void
test_cancel_group (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 2, TRUE);
  QmgrGuid group_id = g->id;
  QmgrGuid job_id = g->job->id;
  g_auto(GStrv) ids = NULL;

  unit_create_group (m, GUID_C, UNIT_OWNER);
  g_assert_true (qmgr_group_cancel (g, &error));
  g_assert_no_error (error);

  g_assert_null (qmgr_manager_lookup_group (m, group_id));
  g_assert_null (qmgr_manager_lookup_job (m, job_id));
  g_assert_null (qmgr_manager_get_group (m, GUID_A, UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (qmgr_manager_has_runnable_groups (m));

  ids = qmgr_manager_enum_groups (m, 0, UNIT_OWNER, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (ids), ==, 1);
  g_assert_cmpstr (ids[0], ==, GUID_C);

  /* The GUIDs are free again. */
  g_assert_false (qmgr_manager_guid_in_use (m, group_id));
  g_assert_false (qmgr_manager_guid_in_use (m, job_id));
  g = unit_create_group (m, GUID_A, UNIT_OWNER);
  g_assert_cmphex (qmgr_group_get_status (g), ==, 0x180);
}

static void
test_cancel_in_every_state (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *empty = unit_create_group (m, GUID_A, UNIT_OWNER);
  QmgrGroup *suspended = unit_group_with_files (m, GUID_B, UNIT_OWNER, 1, FALSE);
  QmgrGroup *queued = unit_group_with_files (m, GUID_C, UNIT_OWNER, 1, TRUE);
  QmgrGroup *complete = unit_group_with_files (m, GUID_D, UNIT_OWNER, 1, TRUE);
  QmgrGroup *fg = unit_group_with_files (m, GUID_E, UNIT_OWNER, 1, TRUE);
  g_auto(GStrv) ids = NULL;

  unit_complete_all (complete->job, 7);
  g_assert_true (qmgr_group_switch_to_foreground (fg, NULL));

  g_assert_true (qmgr_group_cancel (complete, &error));
  g_assert_true (qmgr_group_cancel (queued, &error));
  g_assert_true (qmgr_group_cancel (empty, &error));
  g_assert_true (qmgr_group_cancel (fg, &error));
  g_assert_true (qmgr_group_cancel (suspended, &error));
  g_assert_no_error (error);

  ids = qmgr_manager_enum_groups (m, 0, UNIT_OWNER, &error);
  g_assert_cmpuint (g_strv_length (ids), ==, 0);
  g_assert_cmpuint (g_hash_table_size (m->groups_by_id), ==, 0);
  g_assert_cmpuint (g_hash_table_size (m->jobs_by_id), ==, 0);
  g_assert_cmpuint (g_hash_table_size (m->destinations), ==, 0);
}

/* ---- Manager: CreateGroup, GetGroup, EnumGroups ---- */

static void
test_create_group_guids (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g;
  QmgrGroup *gen;
  QmgrGroup *with_job;

  g = qmgr_manager_create_group (m, "{1B4E28BA-2FA1-11D2-883F-0016D3CCA427}", UNIT_OWNER, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g->id_str, ==, GUID_A);

  /* In use, in any form: InvalidArgs naming it. */
  g_assert_null (qmgr_manager_create_group (m, GUID_A, UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, GUID_A));
  g_clear_error (&error);
  g_assert_null (qmgr_manager_create_group (m, "1b4e28ba2fa111d2883f0016d3cca427", UNIT_OTHER,
                                            &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  /* A job's GUID is in use too. */
  with_job = unit_create_group (m, GUID_C, UNIT_OWNER);
  unit_create_job (with_job, GUID_D);
  g_assert_null (qmgr_manager_create_group (m, GUID_D, UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  g_assert_null (qmgr_manager_create_group (m, "00000000-0000-0000-0000-000000000000",
                                            UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_null (qmgr_manager_create_group (m, "bogus", UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  gen = unit_create_group (m, "", UNIT_OWNER);
  g_assert_false (qmgr_guid_is_null (gen->id));
  g_assert_cmpuint (gen->id.bytes[6] >> 4, ==, 4);
  g_assert_true (qmgr_manager_lookup_group (m, gen->id) == gen);
  g_assert_cmpuint (g_hash_table_size (m->groups_by_id), ==, 3);
}

static void
test_get_group (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_create_group (m, GUID_A, UNIT_OWNER);

  g_assert_true (qmgr_manager_get_group (m, GUID_A, UNIT_OWNER, &error) == g);
  g_assert_true (qmgr_manager_get_group (m, "{1b4e28ba-2fa1-11d2-883f-0016d3cca427}",
                                         UNIT_OWNER, &error) == g);
  g_assert_true (qmgr_manager_get_group (m, "1B4E28BA2FA111D2883F0016D3CCA427", UNIT_OWNER,
                                         &error) == g);
  g_assert_no_error (error);

  g_assert_null (qmgr_manager_get_group (m, GUID_B, UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND);
  g_clear_error (&error);

  g_assert_null (qmgr_manager_get_group (m, "junk", UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  /* "" generates a GUID only for the calls that create something. */
  g_assert_null (qmgr_manager_get_group (m, "", UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  /* A job GUID is not a group GUID. */
  unit_create_job (g, GUID_B);
  g_assert_null (qmgr_manager_get_group (m, GUID_B, UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND);
  g_clear_error (&error);

  /* GetGroup never changes the owner. */
  g_assert_cmpuint (g->owner, ==, UNIT_OWNER);
}

static void
test_enum_groups (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  const char *order[] = { GUID_D, GUID_A, GUID_E, GUID_B };
  g_auto(GStrv) ids = NULL;
  g_auto(GStrv) after = NULL;
  char **none;

  ids = qmgr_manager_enum_groups (m, 0, UNIT_OWNER, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ids);
  g_assert_cmpuint (g_strv_length (ids), ==, 0);
  g_clear_pointer (&ids, g_strfreev);

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    unit_create_group (m, order[i], UNIT_OWNER);

  ids = qmgr_manager_enum_groups (m, 0, UNIT_OWNER, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (ids), ==, G_N_ELEMENTS (order));
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    g_assert_cmpstr (ids[i], ==, order[i]);

  /* Creation order survives a cancel in the middle. */
  g_assert_true (qmgr_group_cancel (qmgr_manager_get_group (m, GUID_A, UNIT_OWNER, NULL),
                                    &error));
  g_assert_no_error (error);
  unit_create_group (m, GUID_A, UNIT_OWNER);
  after = qmgr_manager_enum_groups (m, 0, UNIT_OWNER, &error);
  g_assert_cmpuint (g_strv_length (after), ==, 4);
  g_assert_cmpstr (after[0], ==, GUID_D);
  g_assert_cmpstr (after[1], ==, GUID_E);
  g_assert_cmpstr (after[2], ==, GUID_B);
  g_assert_cmpstr (after[3], ==, GUID_A);

  none = qmgr_manager_enum_groups (m, 1, UNIT_OWNER, &error);
  g_assert_null (none);
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  none = qmgr_manager_enum_groups (m, 0xFFFFFFFF, UNIT_OWNER, &error);
  g_assert_null (none);
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED);
}

static void
test_system_mode_visibility (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new_system ();
  g_autoptr(GError) error = NULL;
  QmgrGroup *mine = unit_create_group (m, GUID_A, UNIT_OWNER);
  QmgrGroup *theirs = unit_create_group (m, GUID_B, UNIT_OTHER);
  g_auto(GStrv) ids = NULL;

  g_assert_true (qmgr_manager_group_visible (m, mine, UNIT_OWNER));
  g_assert_false (qmgr_manager_group_visible (m, theirs, UNIT_OWNER));

  g_assert_true (qmgr_manager_get_group (m, GUID_A, UNIT_OWNER, &error) == mine);
  g_assert_null (qmgr_manager_get_group (m, GUID_B, UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND);
  g_clear_error (&error);
  /* Not visible still means in use. */
  g_assert_null (qmgr_manager_create_group (m, GUID_B, UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  ids = qmgr_manager_enum_groups (m, 0, UNIT_OWNER, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (ids), ==, 1);
  g_assert_cmpstr (ids[0], ==, GUID_A);
  g_assert_cmpuint (theirs->owner, ==, UNIT_OTHER);
}

static void
test_group_quota (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (2, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *first;

  first = unit_create_group (m, GUID_A, UNIT_OWNER);
  unit_create_group (m, "", UNIT_OWNER);

  g_assert_null (qmgr_manager_create_group (m, GUID_B, UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
  g_clear_error (&error);
  g_assert_null (qmgr_manager_create_group (m, "", UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
  g_clear_error (&error);
  g_assert_false (qmgr_manager_guid_in_use (m, unit_guid (GUID_B)));

  /* Argument errors come first. */
  g_assert_null (qmgr_manager_create_group (m, "malformed", UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_null (qmgr_manager_create_group (m, GUID_A, UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  /* The quota is per owner. */
  unit_create_group (m, GUID_B, UNIT_OTHER);
  unit_create_group (m, "", UNIT_OTHER);
  g_assert_null (qmgr_manager_create_group (m, "", UNIT_OTHER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
  g_clear_error (&error);

  /* Completed groups still count; cancelled ones do not. */
  g_assert_true (qmgr_group_cancel (first, &error));
  g_assert_no_error (error);
  unit_create_group (m, GUID_C, UNIT_OWNER);
  g_assert_null (qmgr_manager_create_group (m, "", UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
}

static void
test_default_settings (void)
{
  QmgrManagerSettings session, system;

  qmgr_manager_settings_init_defaults (&session, FALSE);
  qmgr_manager_settings_init_defaults (&system, TRUE);
  g_assert_false (session.system_mode);
  g_assert_cmpuint (session.max_groups_per_owner, ==, 20000);
  g_assert_cmpuint (session.max_files_per_job, ==, 100000);
  g_assert_cmpuint (session.max_concurrent_transfers, ==, 4);
  g_assert_cmpuint (session.bandwidth_limit, ==, 0);
  g_assert_cmpuint (session.metered_bandwidth_limit, ==, 0);
  g_assert_true (system.system_mode);
  g_assert_cmpuint (system.max_groups_per_owner, ==, 1000);
  g_assert_cmpuint (system.max_files_per_job, ==, 10000);
  g_assert_cmpuint (system.max_concurrent_transfers, ==, 4);
}

static void
test_group_defaults (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  QmgrGroup *g = unit_create_group (m, GUID_A, UNIT_OWNER);

  g_assert_cmpuint (g->minimum_retry_delay, ==, 60);
  g_assert_cmpuint (g->no_progress_timeout, ==, 1209600);
  g_assert_cmpuint (g->bandwidth_limit, ==, 0);
  g_assert_cmphex (g->transfer_policy, ==, 0);
  g_assert_cmphex (g->notify_flags, ==, 0);
  g_assert_cmpstr (g->display_name, ==, "");
  g_assert_cmpstr (g->description, ==, "");
  g_assert_cmpstr (g->notify_clsid, ==, "");
  g_assert_false (g->live_callback);
}

/* ---- GetJob, EnumJobs, QueryNewJobInterface, SetNotificationPointer ---- */

static void
test_get_and_enum_jobs (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_create_group (m, GUID_A, UNIT_OWNER);
  QmgrGroup *other = unit_create_group (m, GUID_C, UNIT_OWNER);
  QmgrJob *job;
  g_auto(GStrv) none = NULL;
  g_auto(GStrv) one = NULL;

  none = qmgr_group_enum_jobs (g, 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (none);
  g_assert_cmpuint (g_strv_length (none), ==, 0);

  g_assert_null (qmgr_group_get_job (g, GUID_B, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND);
  g_clear_error (&error);

  job = unit_create_job (g, GUID_B);
  unit_create_job (other, GUID_D);

  one = qmgr_group_enum_jobs (g, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (one), ==, 1);
  g_assert_cmpstr (one[0], ==, GUID_B);

  g_assert_null (qmgr_group_enum_jobs (g, 1, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  g_assert_true (qmgr_group_get_job (g, GUID_B, &error) == job);
  g_assert_true (qmgr_group_get_job (g, "{6FA459EA-EE8A-3CA4-894E-DB77E160355E}", &error) == job);
  g_assert_no_error (error);
  /* Another group's job: ItemNotFound. */
  g_assert_null (qmgr_group_get_job (g, GUID_D, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (qmgr_group_get_job (g, GUID_A, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (qmgr_group_get_job (g, "nope", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
}

/* The job behind QueryNewJobInterface (the bus layer checks the interface
 * name: test-group's integration test). */
static void
test_query_job (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_create_group (m, GUID_A, UNIT_OWNER);
  QmgrJob *job;

  g_assert_null (qmgr_group_query_job (g, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND);
  g_clear_error (&error);

  job = unit_create_job (g, GUID_B);
  g_assert_true (qmgr_group_query_job (g, &error) == job);
  g_assert_no_error (error);
}

/* A live callback pointer counts as a callback target (where it points is the
 * bus layer's: test-callback-give-up). */
static void
test_live_callback (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  QmgrGroup *g = unit_create_group (m, GUID_A, UNIT_OWNER);

  g_assert_false (qmgr_group_has_callback_target (g));
  qmgr_group_set_live_callback (g, TRUE);
  g_assert_true (g->live_callback);
  g_assert_true (qmgr_group_has_callback_target (g));
  qmgr_group_set_live_callback (g, FALSE);
  g_assert_false (qmgr_group_has_callback_target (g));
  g_assert_true (qmgr_group_set_notify_clsid (g, "org.example.App:/cb", NULL));
  g_assert_true (qmgr_group_has_callback_target (g));
}

/* Groups that are complete, suspended or in error and unchanged for the age
 * given expire; queued groups and recently changed ones stay. */
static void
test_expire (void)
{
  const gint64 day = (gint64) 24 * 3600 * G_USEC_PER_SEC;
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  QmgrGroup *complete = unit_group_with_files (m, GUID_A, UNIT_OWNER, 1, TRUE);
  QmgrGroup *queued = unit_group_with_files (m, GUID_B, UNIT_OWNER, 1, TRUE);
  QmgrGroup *suspended;

  unit_complete_all (complete->job, 10);
  g_assert_cmpint (complete->state, ==, QMGR_GROUP_STATE_COMPLETE);
  unit_create_group (m, GUID_C, UNIT_OWNER);
  unit_clock_advance (89 * day);
  g_assert_cmpuint (qmgr_manager_expire_groups (m, 90 * day), ==, 0);

  /* Touched on day 89: it lives 90 days from then. */
  suspended = unit_create_group (m, GUID_D, UNIT_OWNER);
  unit_clock_advance (2 * day);
  g_assert_cmpuint (qmgr_manager_expire_groups (m, 90 * day), ==, 2);
  g_assert_null (qmgr_manager_lookup_group (m, unit_guid (GUID_A)));
  g_assert_null (qmgr_manager_lookup_group (m, unit_guid (GUID_C)));
  g_assert_true (qmgr_manager_lookup_group (m, unit_guid (GUID_B)) == queued);
  g_assert_true (qmgr_manager_lookup_group (m, unit_guid (GUID_D)) == suspended);
}

/* ---- TakeOwnership ---- */

static void
test_take_ownership_session (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_create_group (m, GUID_A, UNIT_OWNER);

  g_assert_false (qmgr_group_take_ownership (g, UNIT_OTHER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED);
  g_assert_cmpuint (g->owner, ==, UNIT_OWNER);
}

static void
test_take_ownership_system (void)
{
  g_autoptr(QmgrManager) m = unit_manager_new_system ();
  g_autoptr(GError) error = NULL;
  g_autoptr(UnitRecorder) rec = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 1, FALSE);
  g_auto(GStrv) mine = NULL;
  g_auto(GStrv) theirs = NULL;

  g_assert_true (qmgr_group_set_remote_user_id (g, "alice", NULL));
  g_assert_true (qmgr_group_set_remote_user_password (g, "secret", NULL));
  g_assert_true (qmgr_group_set_notify_clsid (g, "org.example.App", NULL));
  qmgr_group_set_live_callback (g, TRUE);
  rec = unit_recorder_new (m);

  /* The bus layer has checked io.github.qmgrd.manage-all; the core moves the group. */
  if (!qmgr_group_take_ownership (g, UNIT_OTHER, &error))
    {
      g_test_fail_printf ("TakeOwnership in system mode failed: %s", error->message);
      return;
    }
  g_assert_cmpuint (g->owner, ==, UNIT_OTHER);
  /* Stored credentials and notification targets are cleared. */
  g_assert_cmpstr (g->remote_user_id, ==, "");
  g_assert_cmpstr (g->remote_user_password, ==, "");
  g_assert_cmpstr (g->notify_clsid, ==, "");
  g_assert_false (g->live_callback);
  g_assert_true (unit_recorder_changes (rec, EV_GROUP_CHANGED, g) & QMGR_GROUP_CHANGED_OWNER);

  mine = qmgr_manager_enum_groups (m, 0, UNIT_OWNER, NULL);
  theirs = qmgr_manager_enum_groups (m, 0, UNIT_OTHER, NULL);
  g_assert_cmpuint (g_strv_length (mine), ==, 0);
  g_assert_cmpuint (g_strv_length (theirs), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/group/status/created", test_created_group);
  g_test_add_func ("/group/status/resume-suspend", test_resume_and_suspend);
  g_test_add_func ("/group/status/wait-reasons", test_wait_reasons);
  g_test_add_func ("/group/status/resume-needs-files", test_resume_needs_files);
  g_test_add_func ("/group/status/complete", test_complete);
  g_test_add_func ("/group/status/complete-while-suspended",
                   test_complete_while_suspended_group_never_resumed);
  g_test_add_func ("/group/status/complete-is-final", test_complete_is_final);
  g_test_add_func ("/group/status/foreground", test_foreground);
  g_test_add_func ("/group/status/foreground-while-transferring",
                   test_foreground_while_transferring);
  g_test_add_func ("/group/status/error", test_error_state);
  g_test_add_func ("/group/create-job/rules", test_create_job_rules);
  g_test_add_func ("/group/create-job/generated-guid", test_create_job_generated_guid);
  g_test_add_func ("/group/create-job/state", test_create_job_state);
  g_test_add_func ("/group/create-job/not-suspended", test_create_job_not_suspended);
  g_test_add_func ("/group/cancel-job", test_cancel_job);
  g_test_add_func ("/group/cancel-job-complete", test_cancel_job_of_complete_group);
  g_test_add_func ("/group/cancel", test_cancel_group);
  g_test_add_func ("/group/cancel-every-state", test_cancel_in_every_state);
  g_test_add_func ("/manager/create-group/guids", test_create_group_guids);
  g_test_add_func ("/manager/get-group", test_get_group);
  g_test_add_func ("/manager/enum-groups", test_enum_groups);
  g_test_add_func ("/manager/system-mode-visibility", test_system_mode_visibility);
  g_test_add_func ("/manager/group-quota", test_group_quota);
  g_test_add_func ("/manager/default-settings", test_default_settings);
  g_test_add_func ("/group/defaults", test_group_defaults);
  g_test_add_func ("/group/jobs", test_get_and_enum_jobs);
  g_test_add_func ("/group/query-job", test_query_job);
  g_test_add_func ("/group/live-callback", test_live_callback);
  g_test_add_func ("/manager/expire", test_expire);
  g_test_add_func ("/group/take-ownership/session", test_take_ownership_session);
  g_test_add_func ("/group/take-ownership/system", test_take_ownership_system);

  return g_test_run ();
}
