/* qmgrd unit tests — shared fixtures (see unit-common.h). */
#include "unit-common.h"

#include <string.h>

DummyClock *
unit_dummy_clock (void)
{
  static DummyClock *clock;

  if (clock == NULL)
    clock = dummy_clock_new (G_GINT64_CONSTANT (1700000000000000));
  return clock;
}

QmgrClock *
unit_clock (void)
{
  return dummy_clock_get (unit_dummy_clock ());
}

void
unit_clock_advance (gint64 usec)
{
  dummy_clock_advance (unit_dummy_clock (), usec);
}

QmgrGuid
unit_guid (const char *text)
{
  QmgrGuid guid;

  g_assert_true (qmgr_guid_parse (text, &guid, NULL));
  return guid;
}

QmgrManager *
unit_manager_new (guint max_groups_per_owner, guint max_files_per_job)
{
  QmgrManagerSettings settings;
  QmgrManager *manager;

  qmgr_manager_settings_init_defaults (&settings, FALSE);
  if (max_groups_per_owner != 0)
    settings.max_groups_per_owner = max_groups_per_owner;
  if (max_files_per_job != 0)
    settings.max_files_per_job = max_files_per_job;
  manager = qmgr_manager_new (&settings);
  qmgr_manager_set_clock (manager, unit_clock ());
  return manager;
}

QmgrManager *
unit_manager_new_system (void)
{
  QmgrManagerSettings settings;
  QmgrManager *manager;

  qmgr_manager_settings_init_defaults (&settings, TRUE);
  manager = qmgr_manager_new (&settings);
  qmgr_manager_set_clock (manager, unit_clock ());
  return manager;
}

QmgrGroup *
unit_create_group (QmgrManager *manager, const char *id, uid_t owner)
{
  g_autoptr(GError) error = NULL;
  QmgrGroup *group = qmgr_manager_create_group (manager, id, owner, &error);

  g_assert_no_error (error);
  g_assert_nonnull (group);
  return group;
}

QmgrJob *
unit_create_job (QmgrGroup *group, const char *id)
{
  g_autoptr(GError) error = NULL;
  QmgrJob *job = qmgr_group_create_job (group, id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (job);
  return job;
}

char *
unit_unique_path (void)
{
  static guint counter;
  return g_strdup_printf ("/tmp/qmgr-unit/file-%u.bin", ++counter);
}

void
unit_add_files (QmgrJob *job, guint n)
{
  g_autoptr(GError) error = NULL;
  g_autofree QmgrFileSpec *specs = g_new0 (QmgrFileSpec, n);
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < n; i++)
    {
      char *url = g_strdup_printf ("https://example.com/download/%u", i);
      char *path = unit_unique_path ();
      g_ptr_array_add (strings, url);
      g_ptr_array_add (strings, path);
      specs[i].remote_url = url;
      specs[i].local_path = path;
      specs[i].size_hint = 0;
    }
  g_assert_true (qmgr_job_add_files (job, specs, n, &error));
  g_assert_no_error (error);
}

void
unit_complete_all (QmgrJob *job, guint64 size)
{
  guint32 n = qmgr_job_get_file_count (job);

  for (guint32 i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      const QmgrFile *file = qmgr_job_get_file (job, i, &error);
      g_assert_no_error (error);
      if (file->complete)
        continue;
      g_assert_true (qmgr_job_file_completed (job, i, size, &error));
      g_assert_no_error (error);
    }
}

QmgrGroup *
unit_group_with_files (QmgrManager *manager, const char *id, uid_t owner, guint n_files,
                       gboolean resume)
{
  QmgrGroup *group = unit_create_group (manager, id, owner);
  QmgrJob *job = unit_create_job (group, "");

  if (n_files > 0)
    unit_add_files (job, n_files);
  if (resume)
    {
      g_autoptr(GError) error = NULL;
      g_assert_true (qmgr_group_resume (group, &error));
      g_assert_no_error (error);
    }
  return group;
}

guint32
unit_get_u32_prop (QmgrGroup *group, guint32 prop_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = qmgr_group_get_prop (group, prop_id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_cmpstr (g_variant_get_type_string (v), ==, "u");
  return g_variant_get_uint32 (v);
}

char *
unit_get_string_prop (QmgrGroup *group, guint32 prop_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = qmgr_group_get_prop (group, prop_id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_cmpstr (g_variant_get_type_string (v), ==, "s");
  return g_variant_dup_string (v, NULL);
}

/* ---- events ---- */

static void
record (UnitRecorder *r, UnitEventType type, gconstpointer object, guint mask,
        gboolean lookup_ok, const char *id)
{
  UnitEvent ev = { type, object, mask, lookup_ok, "" };

  if (id != NULL)
    g_strlcpy (ev.id, id, sizeof ev.id);
  g_array_append_val (r->events, ev);
}

static void
on_group_added (QmgrGroup *group, gpointer user_data)
{
  record (user_data, EV_GROUP_ADDED, group, 0, TRUE, group->id_str);
}

static void
on_group_removing (QmgrGroup *group, gpointer user_data)
{
  UnitRecorder *r = user_data;
  gboolean found = qmgr_manager_lookup_group (r->manager, group->id) == group;

  if (group->job != NULL)
    found = found && qmgr_manager_lookup_job (r->manager, group->job->id) == group->job;
  record (r, EV_GROUP_REMOVING, group, 0, found, group->id_str);
}

static void
on_group_changed (QmgrGroup *group, QmgrGroupChange changes, gpointer user_data)
{
  record (user_data, EV_GROUP_CHANGED, group, changes, TRUE, group->id_str);
}

static void
on_job_added (QmgrJob *job, gpointer user_data)
{
  record (user_data, EV_JOB_ADDED, job, 0, TRUE, job->id_str);
}

static void
on_job_removing (QmgrJob *job, gpointer user_data)
{
  UnitRecorder *r = user_data;
  gboolean found = qmgr_manager_lookup_job (r->manager, job->id) == job &&
                   job->group != NULL && job->group->job == job;

  record (r, EV_JOB_REMOVING, job, 0, found, job->id_str);
}

static void
on_job_changed (QmgrJob *job, QmgrJobChange changes, gpointer user_data)
{
  record (user_data, EV_JOB_CHANGED, job, changes, TRUE, job->id_str);
}

static void
on_group_runnable (QmgrGroup *group, gpointer user_data)
{
  record (user_data, EV_GROUP_RUNNABLE, group, 0, TRUE, group->id_str);
}

static void
on_group_stopped (QmgrGroup *group, gpointer user_data)
{
  record (user_data, EV_GROUP_STOPPED, group, 0, TRUE, group->id_str);
}

static void
on_manager_changed (QmgrManager *manager, QmgrManagerChange changes, gpointer user_data)
{
  record (user_data, EV_MANAGER_CHANGED, manager, changes, TRUE, NULL);
}

static const QmgrManagerListener recorder_listener = {
  .group_added = on_group_added,
  .group_removing = on_group_removing,
  .group_changed = on_group_changed,
  .job_added = on_job_added,
  .job_removing = on_job_removing,
  .job_changed = on_job_changed,
  .group_runnable = on_group_runnable,
  .group_stopped = on_group_stopped,
  .manager_changed = on_manager_changed,
};

UnitRecorder *
unit_recorder_new (QmgrManager *manager)
{
  UnitRecorder *r = g_new0 (UnitRecorder, 1);

  r->manager = manager;
  r->events = g_array_new (FALSE, TRUE, sizeof (UnitEvent));
  qmgr_manager_add_listener (manager, &recorder_listener, r);
  return r;
}

void
unit_recorder_free (UnitRecorder *r)
{
  if (r == NULL)
    return;
  qmgr_manager_remove_listener (r->manager, &recorder_listener, r);
  g_array_unref (r->events);
  g_free (r);
}

void
unit_recorder_clear (UnitRecorder *r)
{
  g_array_set_size (r->events, 0);
}

guint
unit_recorder_total (UnitRecorder *r)
{
  return r->events->len;
}

guint
unit_recorder_count (UnitRecorder *r, UnitEventType type)
{
  guint n = 0;

  for (guint i = 0; i < r->events->len; i++)
    if (g_array_index (r->events, UnitEvent, i).type == type)
      n++;
  return n;
}

guint
unit_recorder_changes (UnitRecorder *r, UnitEventType type, gconstpointer object)
{
  guint mask = 0;

  for (guint i = 0; i < r->events->len; i++)
    {
      const UnitEvent *ev = &g_array_index (r->events, UnitEvent, i);
      if (ev->type == type && ev->object == object)
        mask |= ev->mask;
    }
  return mask;
}

const UnitEvent *
unit_recorder_nth (UnitRecorder *r, UnitEventType type, guint nth)
{
  for (guint i = 0; i < r->events->len; i++)
    {
      const UnitEvent *ev = &g_array_index (r->events, UnitEvent, i);
      if (ev->type == type && nth-- == 0)
        return ev;
    }
  return NULL;
}

int
unit_recorder_index (UnitRecorder *r, UnitEventType type)
{
  for (guint i = 0; i < r->events->len; i++)
    if (g_array_index (r->events, UnitEvent, i).type == type)
      return (int) i;
  return -1;
}

/* ---- fake store ---- */

static gboolean
fake_save_group (gpointer store, QmgrGroup *group, const QmgrGroupDelta *delta, GError **error)
{
  UnitFakeStore *s = store;

  if (s->fail_save)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "Simulated store failure for %s",
                   group->id_str);
      return FALSE;
    }
  s->saves++;
  s->last_saved = group;
  if (s->recorder != NULL)
    s->events_at_last_save = unit_recorder_total (s->recorder);
  return TRUE;
}

static gboolean
fake_delete_group (gpointer store, QmgrGroup *group, GError **error)
{
  UnitFakeStore *s = store;

  if (s->fail_delete)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "Simulated delete failure for %s",
                   group->id_str);
      return FALSE;
    }
  s->deletes++;
  return TRUE;
}

static gboolean
fake_save_settings (gpointer store, QmgrManager *manager G_GNUC_UNUSED, GError **error)
{
  UnitFakeStore *s = store;

  if (s->fail_settings)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "Simulated settings failure");
      return FALSE;
    }
  s->settings_saves++;
  return TRUE;
}

const QmgrStoreHooks unit_fake_store_hooks = {
  .save_group = fake_save_group,
  .delete_group = fake_delete_group,
  .save_settings = fake_save_settings,
};

/* ---- fake destination check ---- */

gboolean
unit_fake_destination_check (uid_t owner, const char *path, gpointer user_data, GError **error)
{
  UnitFakeDestination *d = user_data;

  d->calls++;
  d->last_owner = owner;
  if (d->deny_prefix != NULL && g_str_has_prefix (path, d->deny_prefix))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_ACCESS_DENIED,
                   "User %u cannot write %s", (unsigned) owner, path);
      return FALSE;
    }
  if (d->invalid_prefix != NULL && g_str_has_prefix (path, d->invalid_prefix))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS, "%s is a directory", path);
      return FALSE;
    }
  return TRUE;
}
