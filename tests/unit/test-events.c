/* qmgrd unit tests — what listeners hear (QmgrManagerListener) and when: change
 * masks, runnable/stopped, removal while lookups still work, and nothing at all
 * when a store hook fails (the model must stay as it was). */
#include <string.h>

#include "unit-common.h"

typedef struct {
  QmgrManager *manager;
  UnitFakeStore store;
  UnitRecorder *rec;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  f->manager = unit_manager_new (0, 0);
  memset (&f->store, 0, sizeof f->store);
  qmgr_manager_set_store (f->manager, &unit_fake_store_hooks, &f->store);
  f->rec = unit_recorder_new (f->manager);
  f->store.recorder = f->rec;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  unit_recorder_free (f->rec);
  qmgr_manager_free (f->manager);
}

#define assert_has(mask, bits) g_assert_cmphex ((mask) & (bits), ==, (bits))
#define assert_lacks(mask, bits) g_assert_cmphex ((mask) & (bits), ==, 0)

/* ---- change masks ---- */

static void
test_group_added (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = unit_create_group (f->manager, GUID_A, UNIT_OWNER);
  const UnitEvent *ev = unit_recorder_nth (f->rec, EV_GROUP_ADDED, 0);

  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_ADDED), ==, 1);
  g_assert_nonnull (ev);
  g_assert_true (ev->object == g);
  g_assert_cmpstr (ev->id, ==, GUID_A);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_RUNNABLE), ==, 0);
  /* Saved once, before anyone heard of it. */
  g_assert_cmpuint (f->store.saves, ==, 1);
  g_assert_true (f->store.last_saved == g);
  g_assert_cmpuint (f->store.events_at_last_save, ==, 0);
}

static void
test_property_masks (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = unit_create_group (f->manager, GUID_A, UNIT_OWNER);
  struct {
    const char *what;
    guint expected;
  } steps[] = {
    { "display name", QMGR_GROUP_CHANGED_DISPLAY_NAME },
    { "description", QMGR_GROUP_CHANGED_DESCRIPTION },
    { "notify flags", QMGR_GROUP_CHANGED_NOTIFY_FLAGS },
    { "notify clsid", QMGR_GROUP_CHANGED_NOTIFY_CLSID },
    { "transfer policy", QMGR_GROUP_CHANGED_TRANSFER_POLICY },
    { "bandwidth limit", QMGR_GROUP_CHANGED_BANDWIDTH_LIMIT },
    { "minimum retry delay", QMGR_GROUP_CHANGED_MINIMUM_RETRY_DELAY },
    { "no progress timeout", QMGR_GROUP_CHANGED_NO_PROGRESS_TIMEOUT },
  };

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ok = FALSE;
      guint saves = f->store.saves;
      guint mask;

      unit_recorder_clear (f->rec);
      unit_clock_advance (1);
      switch (i)
        {
        case 0: ok = qmgr_group_set_display_name (g, "Name", &error); break;
        case 1: ok = qmgr_group_set_description (g, "Text", &error); break;
        case 2: ok = qmgr_group_set_notify_flags (g, QMGR_NOTIFY_GROUP_DONE, &error); break;
        case 3: ok = qmgr_group_set_notify_clsid (g, "org.example.App", &error); break;
        case 4: ok = qmgr_group_set_transfer_policy (g, QMGR_TRANSFER_POLICY_STANDARD, &error); break;
        case 5: ok = qmgr_group_set_bandwidth_limit (g, 4096, &error); break;
        case 6: ok = qmgr_group_set_minimum_retry_delay (g, 120, &error); break;
        case 7: ok = qmgr_group_set_no_progress_timeout (g, 7200, &error); break;
        default: g_assert_not_reached ();
        }
      g_assert_no_error (error);
      g_assert_true (ok);
      g_test_message ("%s", steps[i].what);
      g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_CHANGED), ==, 1);
      g_assert_cmpuint (unit_recorder_total (f->rec), ==, 1);
      mask = unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g);
      assert_has (mask, steps[i].expected | QMGR_GROUP_CHANGED_MODIFICATION_TIME);
      assert_lacks (mask, QMGR_GROUP_CHANGED_STATUS | QMGR_GROUP_CHANGED_OWNER);
      g_assert_cmpint (g->modification_time, ==, unit_now);
      /* Durable before announced. */
      g_assert_cmpuint (f->store.saves, ==, saves + 1);
      g_assert_cmpuint (f->store.events_at_last_save, ==, 0);
    }
}

static void
test_set_prop_mask (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = unit_create_group (f->manager, GUID_A, UNIT_OWNER);
  g_autoptr(GVariant) name = g_variant_ref_sink (g_variant_new_string ("Via SetProp"));
  g_autoptr(GVariant) flags = g_variant_ref_sink (g_variant_new_int32 (QMGR_NOTIFY_JOB_DONE));
  g_autoptr(GError) error = NULL;

  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_group_set_prop (g, QMGR_GROUPPROP_DISPLAYNAME, name, "s", &error));
  g_assert_no_error (error);
  assert_has (unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g),
              QMGR_GROUP_CHANGED_DISPLAY_NAME | QMGR_GROUP_CHANGED_MODIFICATION_TIME);

  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_group_set_prop (g, QMGR_GROUPPROP_NOTIFYFLAGS, flags, "i", &error));
  assert_has (unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g),
              QMGR_GROUP_CHANGED_NOTIFY_FLAGS | QMGR_GROUP_CHANGED_MODIFICATION_TIME);

  /* A rejected value: no event. */
  unit_recorder_clear (f->rec);
  g_assert_false (qmgr_group_set_prop (g, QMGR_GROUPPROP_DISPLAYNAME, flags, "i", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_assert_cmpuint (unit_recorder_total (f->rec), ==, 0);
}

static void
test_job_events (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = unit_create_group (f->manager, GUID_A, UNIT_OWNER);
  QmgrJob *job;
  const UnitEvent *ev;

  unit_recorder_clear (f->rec);
  job = unit_create_job (g, GUID_B);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_JOB_ADDED), ==, 1);
  ev = unit_recorder_nth (f->rec, EV_JOB_ADDED, 0);
  g_assert_true (ev->object == job);
  g_assert_cmpstr (ev->id, ==, GUID_B);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_ADDED), ==, 0);
  g_assert_cmpuint (f->store.events_at_last_save, ==, 0);

  unit_recorder_clear (f->rec);
  unit_add_files (job, 2);
  assert_has (unit_recorder_changes (f->rec, EV_JOB_CHANGED, job), QMGR_JOB_CHANGED_FILE_COUNT);
  assert_has (unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g),
              QMGR_GROUP_CHANGED_FILES_TOTAL | QMGR_GROUP_CHANGED_MODIFICATION_TIME);
  assert_lacks (unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g), QMGR_GROUP_CHANGED_STATUS);
  g_assert_cmpuint (f->store.events_at_last_save, ==, 0);
}

static void
test_resume_suspend_events (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 1, FALSE);
  guint mask;

  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_group_resume (g, &error));
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_RUNNABLE), ==, 1);
  g_assert_true (unit_recorder_nth (f->rec, EV_GROUP_RUNNABLE, 0)->object == g);
  mask = unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g);
  assert_has (mask, QMGR_GROUP_CHANGED_STATUS | QMGR_GROUP_CHANGED_WAIT_REASON);
  assert_has (unit_recorder_changes (f->rec, EV_JOB_CHANGED, g->job), QMGR_JOB_CHANGED_STATUS);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_STOPPED), ==, 0);
  g_assert_cmpuint (f->store.events_at_last_save, ==, 0);

  /* Resuming again: nothing new to hear, and not runnable twice. */
  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_group_resume (g, &error));
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_RUNNABLE), ==, 0);
  g_assert_cmpuint (unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g) &
                    QMGR_GROUP_CHANGED_STATUS, ==, 0);

  /* The scheduler's reports change WaitReason only. */
  unit_recorder_clear (f->rec);
  qmgr_group_set_run_state (g, QMGR_RUN_TRANSFERRING);
  g_assert_cmphex (unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g), ==,
                   QMGR_GROUP_CHANGED_WAIT_REASON);
  unit_recorder_clear (f->rec);
  qmgr_group_set_run_state (g, QMGR_RUN_TRANSFERRING);
  g_assert_cmpuint (unit_recorder_total (f->rec), ==, 0);

  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_group_suspend (g, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_STOPPED), ==, 1);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_RUNNABLE), ==, 0);
  assert_has (unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g),
              QMGR_GROUP_CHANGED_STATUS | QMGR_GROUP_CHANGED_WAIT_REASON);
  assert_has (unit_recorder_changes (f->rec, EV_JOB_CHANGED, g->job), QMGR_JOB_CHANGED_STATUS);

  /* Suspending again: nothing. */
  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_group_suspend (g, &error));
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_STOPPED), ==, 0);
}

static void
test_foreground_events (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 1, FALSE);

  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_group_switch_to_foreground (g, NULL));
  assert_has (unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g), QMGR_GROUP_CHANGED_STATUS);
  assert_has (unit_recorder_changes (f->rec, EV_JOB_CHANGED, g->job), QMGR_JOB_CHANGED_STATUS);
  /* Not resumed. */
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_RUNNABLE), ==, 0);
}

static void
test_completion_events (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 2, TRUE);
  QmgrJob *job = g->job;
  guint mask;

  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_job_file_completed (job, 0, 10, NULL));
  mask = unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g);
  assert_has (mask, QMGR_GROUP_CHANGED_FILES_TRANSFERRED | QMGR_GROUP_CHANGED_BYTES_TRANSFERRED);
  assert_lacks (mask, QMGR_GROUP_CHANGED_STATUS | QMGR_GROUP_CHANGED_COMPLETION_TIME);
  assert_has (unit_recorder_changes (f->rec, EV_JOB_CHANGED, job),
              QMGR_JOB_CHANGED_BYTES_TRANSFERRED);
  assert_lacks (unit_recorder_changes (f->rec, EV_JOB_CHANGED, job), QMGR_JOB_CHANGED_STATUS);
  g_assert_cmpuint (f->store.events_at_last_save, ==, 0);

  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_job_file_completed (job, 1, 20, NULL));
  mask = unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g);
  assert_has (mask, QMGR_GROUP_CHANGED_STATUS | QMGR_GROUP_CHANGED_COMPLETION_TIME |
                    QMGR_GROUP_CHANGED_WAIT_REASON | QMGR_GROUP_CHANGED_FILES_TRANSFERRED);
  assert_has (unit_recorder_changes (f->rec, EV_JOB_CHANGED, job), QMGR_JOB_CHANGED_STATUS);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_RUNNABLE), ==, 0);
  g_assert_cmpuint (f->store.events_at_last_save, ==, 0);
}

static void
test_cancel_group_events (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 1, TRUE);
  QmgrJob *job = g->job;
  g_autofree char *job_id = g_strdup (job->id_str);
  const UnitEvent *job_ev, *group_ev;
  int job_at, group_at;

  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_group_cancel (g, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->store.deletes, ==, 1);

  g_assert_cmpuint (unit_recorder_count (f->rec, EV_JOB_REMOVING), ==, 1);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_REMOVING), ==, 1);
  job_ev = unit_recorder_nth (f->rec, EV_JOB_REMOVING, 0);
  group_ev = unit_recorder_nth (f->rec, EV_GROUP_REMOVING, 0);
  g_assert_true (job_ev->object == job);
  g_assert_cmpstr (job_ev->id, ==, job_id);
  g_assert_cmpstr (group_ev->id, ==, GUID_A);
  /* Heard while the group and its job could still be looked up. */
  g_assert_true (job_ev->lookup_ok);
  g_assert_true (group_ev->lookup_ok);
  /* The job goes first. */
  job_at = unit_recorder_index (f->rec, EV_JOB_REMOVING);
  group_at = unit_recorder_index (f->rec, EV_GROUP_REMOVING);
  g_assert_cmpint (job_at, <, group_at);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_ADDED), ==, 0);
}

static void
test_cancel_queued_group_stops_it (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 1, TRUE);

  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_group_cancel (g, &error));
  /* model.h: group_stopped — "The group stopped being runnable (suspended,
   * cancelled, job cancelled)". */
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_STOPPED), ==, 1);
}

static void
test_cancel_job_events (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 2, TRUE);
  QmgrJob *job = g->job;
  const UnitEvent *ev;
  guint mask;

  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_job_cancel (job, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_JOB_REMOVING), ==, 1);
  ev = unit_recorder_nth (f->rec, EV_JOB_REMOVING, 0);
  g_assert_true (ev->lookup_ok);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_REMOVING), ==, 0);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_STOPPED), ==, 1);
  mask = unit_recorder_changes (f->rec, EV_GROUP_CHANGED, g);
  assert_has (mask, QMGR_GROUP_CHANGED_STATUS | QMGR_GROUP_CHANGED_FILES_TOTAL |
                    QMGR_GROUP_CHANGED_WAIT_REASON);
  g_assert_cmpuint (f->store.events_at_last_save, ==, 0);
}

static void
test_manager_changed (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_assert_true (qmgr_manager_set_bandwidth_limit (f->manager, 100, NULL));
  g_assert_true (qmgr_manager_set_metered_bandwidth_limit (f->manager, 50, NULL));
  g_assert_true (qmgr_manager_set_max_concurrent_transfers (f->manager, 2, NULL));
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_MANAGER_CHANGED), ==, 3);
  g_assert_cmphex (unit_recorder_nth (f->rec, EV_MANAGER_CHANGED, 0)->mask, ==,
                   QMGR_MANAGER_CHANGED_BANDWIDTH_LIMIT);
  g_assert_cmphex (unit_recorder_nth (f->rec, EV_MANAGER_CHANGED, 1)->mask, ==,
                   QMGR_MANAGER_CHANGED_METERED_BANDWIDTH_LIMIT);
  g_assert_cmphex (unit_recorder_nth (f->rec, EV_MANAGER_CHANGED, 2)->mask, ==,
                   QMGR_MANAGER_CHANGED_MAX_CONCURRENT_TRANSFERS);
  g_assert_cmpuint (f->store.settings_saves, ==, 3);

  /* The same values again: no change. */
  unit_recorder_clear (f->rec);
  g_assert_true (qmgr_manager_set_bandwidth_limit (f->manager, 100, NULL));
  g_assert_true (qmgr_manager_set_max_concurrent_transfers (f->manager, 2, NULL));
  g_assert_cmpuint (unit_recorder_total (f->rec), ==, 0);
}

static void
test_listeners_add_remove (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(UnitRecorder) second = unit_recorder_new (f->manager);

  unit_create_group (f->manager, GUID_A, UNIT_OWNER);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_ADDED), ==, 1);
  g_assert_cmpuint (unit_recorder_count (second, EV_GROUP_ADDED), ==, 1);

  unit_recorder_free (g_steal_pointer (&second));
  unit_create_group (f->manager, GUID_B, UNIT_OWNER);
  g_assert_cmpuint (unit_recorder_count (f->rec, EV_GROUP_ADDED), ==, 2);
}

static void
test_notification_pointer_not_durable (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = unit_create_group (f->manager, GUID_A, UNIT_OWNER);
  guint saves = f->store.saves;

  /* Live pointers are not persisted. */
  qmgr_group_set_live_callback (g, TRUE);
  qmgr_group_set_live_callback (g, FALSE);
  g_assert_cmpuint (f->store.saves, ==, saves);
}

/* The core's messages about a group carry its GUID as QMGR_GROUP_ID. */
static char *last_core_group_id;

static GLogWriterOutput
core_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                 gpointer user_data)
{
  gboolean core = FALSE;
  const char *group_id = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        core = g_strcmp0 (fields[i].value, "qmgr-core") == 0;
      else if (g_str_equal (fields[i].key, "QMGR_GROUP_ID"))
        group_id = fields[i].value;
    }
  if (core)
    {
      g_free (last_core_group_id);
      last_core_group_id = g_strdup (group_id);
    }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* Callbacks owed to a target that never answers are bounded: beyond
 * QMGR_PENDING_NOTIFICATIONS_MAX the oldest FILE_DONE goes, and the job's and
 * group's own events stay; a change that cannot be saved puts back what it
 * dropped. */
static void
test_pending_notifications_bounded (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  const guint n_files = QMGR_PENDING_NOTIFICATIONS_MAX + 5;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, n_files, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) before = NULL;
  GArray *pending = g->pending_notifications;

  g_assert_true (qmgr_group_set_notify_clsid (g, "org.example.Absent", &error));
  g_assert_true (qmgr_group_set_notify_flags (g, QMGR_NOTIFY_FILE_DONE | QMGR_NOTIFY_JOB_DONE |
                                              QMGR_NOTIFY_GROUP_DONE, &error));
  for (guint i = 0; i + 1 < n_files; i++)
    g_assert_true (qmgr_job_file_completed (g->job, i, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pending->len, ==, QMGR_PENDING_NOTIFICATIONS_MAX);
  /* Said in the log, about this group. */
  g_assert_cmpstr (last_core_group_id, ==, GUID_A);
  /* The oldest went: the first kept is file 4's (files 0 to 3 finished first). */
  g_assert_cmpuint (g_array_index (pending, QmgrPendingNotification, 0).file_index, ==, 4);

  /* The last completion cannot be saved: nothing changes, nothing is dropped. */
  before = g_array_copy (pending);
  f->store.fail_save = TRUE;
  g_assert_false (qmgr_job_file_completed (g->job, n_files - 1, 1, &error));
  g_clear_error (&error);
  g_assert_cmpuint (pending->len, ==, before->len);
  g_assert_cmpmem (pending->data, pending->len * sizeof (QmgrPendingNotification), before->data,
                   before->len * sizeof (QmgrPendingNotification));

  f->store.fail_save = FALSE;
  g_assert_true (qmgr_job_file_completed (g->job, n_files - 1, 1, &error));
  g_assert_cmpuint (pending->len, ==, QMGR_PENDING_NOTIFICATIONS_MAX);
  /* The last three: the last file, the job, the group. */
  g_assert_cmpuint (g_array_index (pending, QmgrPendingNotification, pending->len - 3).file_index,
                    ==, n_files - 1);
  g_assert_cmpuint (g_array_index (pending, QmgrPendingNotification, pending->len - 2).file_index,
                    ==, QMGR_FILE_INDEX_NONE);
  g_assert_cmpuint (g_array_index (pending, QmgrPendingNotification, pending->len - 1).file_index,
                    ==, QMGR_FILE_INDEX_NONE);
  g_assert_cmphex (g_array_index (pending, QmgrPendingNotification, pending->len - 1).status, ==,
                   0x140);
  /* Announced: none is held any more. */
  for (guint i = 0; i < pending->len; i++)
    g_assert_false (g_array_index (pending, QmgrPendingNotification, i).held);
}

/* ---- a failing store ---- */

static char *
snapshot (QmgrManager *m)
{
  GString *s = g_string_new ("");

  g_string_append_printf (s, "groups=%u jobs=%u dest=%u seq=%" G_GUINT64_FORMAT
                          " bw=%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " mct=%u\n",
                          g_hash_table_size (m->groups_by_id), g_hash_table_size (m->jobs_by_id),
                          g_hash_table_size (m->destinations), m->next_seq,
                          m->settings.bandwidth_limit, m->settings.metered_bandwidth_limit,
                          m->settings.max_concurrent_transfers);
  for (GList *l = m->groups.head; l != NULL; l = l->next)
    {
      QmgrGroup *g = l->data;

      g_string_append_printf (s, "group %s owner=%u state=%d run=%d fg=%d status=0x%x "
                              "name=%s desc=%s user=%s pwd=%s nf=0x%x clsid=%s tp=0x%x "
                              "bw=%" G_GUINT64_FORMAT " mrd=%u npt=%u c=%" G_GINT64_FORMAT
                              " m=%" G_GINT64_FORMAT " done=%" G_GINT64_FORMAT " live=%d\n",
                              g->id_str, (unsigned) g->owner, g->state, g->run_state,
                              g->foreground, qmgr_group_get_status (g), g->display_name,
                              g->description, g->remote_user_id, g->remote_user_password,
                              g->notify_flags, g->notify_clsid, g->transfer_policy,
                              g->bandwidth_limit, g->minimum_retry_delay,
                              g->no_progress_timeout, g->creation_time, g->modification_time,
                              g->completion_time, g->live_callback);
      if (g->job == NULL)
        continue;
      g_string_append_printf (s, " job %s status=0x%x files=%u\n", g->job->id_str,
                              qmgr_job_get_status (g->job), g->job->files->len);
      for (guint i = 0; i < g->job->files->len; i++)
        {
          QmgrFile *file = g_ptr_array_index (g->job->files, i);
          g_string_append_printf (s, "  %s %s %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                                  " %" G_GUINT64_FORMAT " %d\n", file->remote_url,
                                  file->local_path, file->size_hint, file->bytes_total,
                                  file->bytes_transferred, file->complete);
        }
    }
  return g_string_free (s, FALSE);
}

#define assert_store_failure(ok, error)                                       \
  G_STMT_START {                                                              \
    g_assert_false (ok);                                                      \
    g_assert_error ((error), QMGR_ERROR, QMGR_ERROR_FAILED);                  \
    g_clear_error (&(error));                                                 \
  } G_STMT_END

static void
test_failing_store (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  QmgrGroup *empty = unit_create_group (f->manager, GUID_A, UNIT_OWNER);
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_B, UNIT_OWNER, 2, FALSE);
  QmgrGroup *complete = unit_group_with_files (f->manager, GUID_C, UNIT_OWNER, 1, TRUE);
  QmgrGroup *queued = unit_group_with_files (f->manager, GUID_D, UNIT_OWNER, 2, TRUE);
  g_autoptr(GVariant) name_value = g_variant_ref_sink (g_variant_new_string ("New"));
  g_autofree char *path = unit_unique_path ();
  QmgrFileSpec spec = { "https://example.com/new", path, 0 };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  unit_complete_all (complete->job, 1);
  g_assert_true (qmgr_job_file_completed (queued->job, 0, 1, NULL));

  before = snapshot (f->manager);
  unit_recorder_clear (f->rec);
  f->store.fail_save = TRUE;
  f->store.fail_delete = TRUE;
  f->store.fail_settings = TRUE;
  unit_clock_advance (G_USEC_PER_SEC);

  assert_store_failure (qmgr_manager_create_group (f->manager, GUID_E, UNIT_OWNER, &error) != NULL,
                        error);
  g_assert_false (qmgr_manager_guid_in_use (f->manager, unit_guid (GUID_E)));
  assert_store_failure (qmgr_manager_create_group (f->manager, "", UNIT_OWNER, &error) != NULL,
                        error);
  assert_store_failure (qmgr_group_create_job (empty, GUID_E, &error) != NULL, error);
  g_assert_null (empty->job);
  g_assert_false (qmgr_manager_guid_in_use (f->manager, unit_guid (GUID_E)));

  assert_store_failure (qmgr_group_set_display_name (g, "New", &error), error);
  assert_store_failure (qmgr_group_set_prop (g, QMGR_GROUPPROP_DISPLAYNAME, name_value, "s",
                                             &error), error);
  assert_store_failure (qmgr_group_set_description (g, "New", &error), error);
  assert_store_failure (qmgr_group_set_notify_flags (g, QMGR_NOTIFY_GROUP_DONE, &error), error);
  assert_store_failure (qmgr_group_set_notify_clsid (g, "org.example.App", &error), error);
  assert_store_failure (qmgr_group_set_remote_user_id (g, "bob", &error), error);
  assert_store_failure (qmgr_group_set_remote_user_password (g, "pw", &error), error);
  assert_store_failure (qmgr_group_set_transfer_policy (g, QMGR_TRANSFER_POLICY_ALWAYS, &error),
                        error);
  assert_store_failure (qmgr_group_set_bandwidth_limit (g, 99, &error), error);
  assert_store_failure (qmgr_group_set_minimum_retry_delay (g, 99, &error), error);
  assert_store_failure (qmgr_group_set_no_progress_timeout (g, 99, &error), error);

  assert_store_failure (qmgr_job_add_files (g->job, &spec, 1, &error), error);
  g_assert_false (qmgr_manager_destination_taken (f->manager, UNIT_OWNER, path));
  assert_store_failure (qmgr_group_resume (g, &error), error);
  assert_store_failure (qmgr_group_switch_to_foreground (g, &error), error);
  assert_store_failure (qmgr_group_suspend (queued, &error), error);
  assert_store_failure (qmgr_group_switch_to_foreground (queued, &error), error);
  assert_store_failure (qmgr_job_file_completed (g->job, 0, 5, &error), error);
  assert_store_failure (qmgr_job_file_response (g->job, 1, 77, "\"v1\"", &error), error);
  /* The last file of a queued group: it must not become complete. */
  assert_store_failure (qmgr_job_file_completed (queued->job, 1, 5, &error), error);
  assert_store_failure (qmgr_job_cancel (g->job, &error), error);
  assert_store_failure (qmgr_group_cancel (g, &error), error);
  assert_store_failure (qmgr_group_cancel (queued, &error), error);
  assert_store_failure (qmgr_job_cancel (complete->job, &error), error);
  assert_store_failure (qmgr_group_cancel (complete, &error), error);
  assert_store_failure (qmgr_manager_set_bandwidth_limit (f->manager, 5, &error), error);
  assert_store_failure (qmgr_manager_set_metered_bandwidth_limit (f->manager, 5, &error), error);
  assert_store_failure (qmgr_manager_set_max_concurrent_transfers (f->manager, 5, &error), error);

  /* Argument errors are still argument errors. */
  g_assert_false (qmgr_group_set_display_name (g, "bad\x01", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  after = snapshot (f->manager);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (unit_recorder_total (f->rec), ==, 0);
  g_assert_true (qmgr_job_tallies_hold (g->job));
  g_assert_true (qmgr_job_tallies_hold (queued->job));
  g_assert_cmpuint (qmgr_group_get_files_transferred (queued), ==, 1);
  g_assert_cmpuint (qmgr_group_get_bytes_total (g), ==, 0);

  /* Everything works once the store does. */
  f->store.fail_save = FALSE;
  f->store.fail_delete = FALSE;
  g_assert_true (qmgr_job_file_completed (queued->job, 1, 5, &error));
  g_assert_no_error (error);
  g_assert_cmphex (qmgr_group_get_status (queued), ==, 0x140);
  g_assert_true (qmgr_job_add_files (g->job, &spec, 1, &error));
  g_assert_no_error (error);
  g_assert_nonnull (qmgr_group_create_job (empty, GUID_E, &error));
  g_assert_no_error (error);
  g_assert_true (qmgr_job_tallies_hold (g->job));
  g_assert_true (qmgr_job_tallies_hold (queued->job));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (core_log_writer, NULL, NULL);
  g_test_set_nonfatal_assertions ();

#define ADD(path, fn) g_test_add ((path), Fixture, NULL, fixture_set_up, (fn), fixture_tear_down)

  ADD ("/events/group-added", test_group_added);
  ADD ("/events/property-masks", test_property_masks);
  ADD ("/events/set-prop-mask", test_set_prop_mask);
  ADD ("/events/job", test_job_events);
  ADD ("/events/resume-suspend", test_resume_suspend_events);
  ADD ("/events/foreground", test_foreground_events);
  ADD ("/events/completion", test_completion_events);
  ADD ("/events/cancel-group", test_cancel_group_events);
  ADD ("/events/cancel-queued-group-stops", test_cancel_queued_group_stops_it);
  ADD ("/events/cancel-job", test_cancel_job_events);
  ADD ("/events/manager-changed", test_manager_changed);
  ADD ("/events/listeners-add-remove", test_listeners_add_remove);
  ADD ("/events/notification-pointer-not-durable", test_notification_pointer_not_durable);
  ADD ("/events/failing-store", test_failing_store);
  ADD ("/events/pending-notifications-bounded", test_pending_notifications_bounded);

  return g_test_run ();
}
