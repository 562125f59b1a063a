/* qmgrd unit tests — what one owner may hold in all its groups: files, and bytes
 * of the strings clients set (names, descriptions, callback targets,
 * credentials). Past either quota a change is LimitsExceeded and changes nothing;
 * the totals follow every change, cancel and change of owner. */
#include "unit-common.h"

#include <string.h>

static QmgrManager *
manager_with_quotas (guint64 files, guint64 bytes, gboolean system_mode)
{
  QmgrManager *m = system_mode ? unit_manager_new_system () : unit_manager_new (0, 0);

  m->settings.max_files_per_owner = files;
  m->settings.max_string_bytes_per_owner = bytes;
  return m;
}

static void
assert_usage (QmgrManager *m, uid_t owner, guint groups, guint64 files, guint64 bytes)
{
  QmgrOwnerUsage u = qmgr_manager_get_owner_usage (m, owner);

  g_assert_cmpuint (u.groups, ==, groups);
  g_assert_cmpuint (u.files, ==, files);
  g_assert_cmpuint (u.string_bytes, ==, bytes);
}

static void
test_files_per_owner (void)
{
  g_autoptr(QmgrManager) m = manager_with_quotas (5, 1 << 20, FALSE);
  g_autoptr(GError) error = NULL;
  QmgrGroup *a = unit_group_with_files (m, GUID_A, UNIT_OWNER, 3, FALSE);
  QmgrGroup *b = unit_create_group (m, GUID_B, UNIT_OWNER);
  QmgrJob *job = unit_create_job (b, GUID_C);
  QmgrFileSpec specs[3] = {
    { "https://example.com/1", "/tmp/qmgr-unit/quota/1", 0 },
    { "https://example.com/2", "/tmp/qmgr-unit/quota/2", 0 },
    { "https://example.com/3", "/tmp/qmgr-unit/quota/3", 0 },
  };

  assert_usage (m, UNIT_OWNER, 2, 3, 0);
  /* 3 + 3 > 5, across the two groups: nothing added. */
  g_assert_false (qmgr_job_add_files (job, specs, 3, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
  g_clear_error (&error);
  g_assert_cmpuint (qmgr_job_get_file_count (job), ==, 0);
  assert_usage (m, UNIT_OWNER, 2, 3, 0);

  /* Bad arguments are reported before the quota. */
  specs[0].remote_url = "ftp://example.com/1";
  g_assert_false (qmgr_job_add_files (job, specs, 3, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  specs[0].remote_url = "https://example.com/1";

  g_assert_true (qmgr_job_add_files (job, specs, 2, &error));
  g_assert_no_error (error);
  assert_usage (m, UNIT_OWNER, 2, 5, 0);

  /* Another owner has a quota of its own. */
  unit_group_with_files (m, GUID_D, UNIT_OTHER, 5, FALSE);
  assert_usage (m, UNIT_OTHER, 1, 5, 0);

  /* Cancelling gives the room back. */
  g_assert_true (qmgr_job_cancel (a->job, &error));
  assert_usage (m, UNIT_OWNER, 2, 2, 0);
  g_assert_true (qmgr_group_cancel (b, &error));
  assert_usage (m, UNIT_OWNER, 1, 0, 0);
  g_assert_no_error (error);
}

static void
test_string_bytes_per_owner (void)
{
  g_autoptr(QmgrManager) m = manager_with_quotas (100, 100, FALSE);
  g_autoptr(GError) error = NULL;
  QmgrGroup *a = unit_create_group (m, GUID_A, UNIT_OWNER);
  QmgrGroup *b = unit_create_group (m, GUID_B, UNIT_OWNER);
  g_autofree char *sixty = g_strnfill (60, 'x');
  g_autofree char *forty = g_strnfill (40, 'y');

  g_assert_true (qmgr_group_set_display_name (a, sixty, &error));
  g_assert_true (qmgr_group_set_description (b, forty, &error));
  g_assert_no_error (error);
  assert_usage (m, UNIT_OWNER, 2, 0, 100);

  /* One byte more, in either group and any string: refused, nothing changed. */
  g_assert_false (qmgr_group_set_notify_clsid (b, "a.b", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
  g_clear_error (&error);
  g_assert_cmpstr (b->notify_clsid, ==, "");
  g_assert_false (qmgr_group_set_remote_user_password (a, "p", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
  g_clear_error (&error);
  /* Counted in bytes: sixteen characters of four bytes each are 64, more than
   * the 60 they would replace; fifteen are exactly as many. */
  {
    GString *emoji = g_string_new (NULL);

    for (int i = 0; i < 16; i++)
      g_string_append (emoji, "\360\237\230\200");
    g_assert_false (qmgr_group_set_display_name (a, emoji->str, &error));
    g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
    g_clear_error (&error);
    g_assert_cmpstr (a->display_name, ==, sixty);
    g_string_truncate (emoji, 15 * 4);
    g_assert_true (qmgr_group_set_display_name (a, emoji->str, &error));
    g_assert_no_error (error);
    assert_usage (m, UNIT_OWNER, 2, 0, 100);
    g_string_free (emoji, TRUE);
  }

  /* A shorter value always fits, and gives room back. */
  g_assert_true (qmgr_group_set_display_name (a, "short", &error));
  assert_usage (m, UNIT_OWNER, 2, 0, 45);
  g_assert_true (qmgr_group_set_notify_clsid (b, "org.example.App", &error));
  g_assert_no_error (error);
  assert_usage (m, UNIT_OWNER, 2, 0, 60);
  g_assert_true (qmgr_group_cancel (b, &error));
  assert_usage (m, UNIT_OWNER, 1, 0, 5);
}

/* A change that cannot be saved charges nothing. */
static void
test_failed_save_charges_nothing (void)
{
  g_autoptr(QmgrManager) m = manager_with_quotas (100, 100, FALSE);
  g_autoptr(GError) error = NULL;
  UnitFakeStore store = { 0 };
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 2, FALSE);
  QmgrFileSpec spec = { "https://example.com/more", "/tmp/qmgr-unit/quota/more", 0 };

  qmgr_manager_set_store (m, &unit_fake_store_hooks, &store);
  store.fail_save = TRUE;

  g_assert_false (qmgr_group_set_display_name (g, "name", &error));
  g_clear_error (&error);
  g_assert_false (qmgr_job_add_files (g->job, &spec, 1, &error));
  g_clear_error (&error);
  assert_usage (m, UNIT_OWNER, 1, 2, 0);
}

/* TakeOwnership moves the files and names to the new owner (credentials and
 * callback target are cleared), within the new owner's quotas. */
static void
test_take_ownership_moves_usage (void)
{
  g_autoptr(QmgrManager) m = manager_with_quotas (4, 100, TRUE);
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (m, GUID_A, UNIT_OWNER, 3, FALSE);

  g_assert_true (qmgr_group_set_display_name (g, "name", &error));
  g_assert_true (qmgr_group_set_remote_user_id (g, "alice", &error));
  g_assert_no_error (error);
  assert_usage (m, UNIT_OWNER, 1, 3, 9);

  /* The new owner has 2 files already: 2 + 3 > 4. */
  unit_group_with_files (m, GUID_B, UNIT_OTHER, 2, FALSE);
  g_assert_false (qmgr_group_take_ownership (g, UNIT_OTHER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED);
  g_clear_error (&error);
  g_assert_cmpuint (g->owner, ==, UNIT_OWNER);

  g_assert_true (qmgr_group_take_ownership (g, 0, &error));
  g_assert_no_error (error);
  assert_usage (m, UNIT_OWNER, 0, 0, 0);
  assert_usage (m, 0, 1, 3, 4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quota/files-per-owner", test_files_per_owner);
  g_test_add_func ("/quota/string-bytes-per-owner", test_string_bytes_per_owner);
  g_test_add_func ("/quota/failed-save-charges-nothing", test_failed_save_charges_nothing);
  g_test_add_func ("/quota/take-ownership", test_take_ownership_moves_usage);
  return g_test_run ();
}
