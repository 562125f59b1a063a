/* libqmgr — the two QMGR enumerators. Each is a snapshot of the GUID list the
 * daemon returned and a position in it, as QMGR's enumerators are: later
 * changes to the queue do not show, and a clone keeps the position. */
#include "config.h"

#include "qmgr.h"

/* What both enumerators share: the snapshot and the position. */
typedef struct {
  char **ids;
  guint count;
  guint position;
} GuidList;

static void
guid_list_init (GuidList *list, char **ids, guint position)
{
  list->ids = ids != NULL ? ids : g_new0 (char *, 1);
  list->count = g_strv_length (list->ids);
  list->position = MIN (position, list->count);
}

static void
guid_list_clear (GuidList *list)
{
  g_clear_pointer (&list->ids, g_strfreev);
}

/* Next: up to @count GUIDs from the position; TRUE (S_OK) only if all @count
 * were there, FALSE (S_FALSE) for a short read. */
static gboolean
guid_list_next (GuidList *list, guint count, char ***ids)
{
  guint n = MIN (count, list->count - list->position);

  if (ids != NULL)
    {
      *ids = g_new0 (char *, n + 1);
      for (guint i = 0; i < n; i++)
        (*ids)[i] = g_strdup (list->ids[list->position + i]);
    }
  list->position += n;
  return n == count;
}

static gboolean
guid_list_skip (GuidList *list, guint count)
{
  return guid_list_next (list, count, NULL);
}

/* The asynchronous constructors: one call each, whose answer is the snapshot. */
static void
enum_groups_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  char **ids = NULL;

  if (!qmgr_manager_call_enum_groups_finish (QMGR_MANAGER (source), &ids, result, &error))
    {
      qmgr_client_error_convert (&error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, ids, (GDestroyNotify) g_strfreev);
}

static void
enum_jobs_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  char **ids = NULL;

  if (!qmgr_group_call_enum_jobs_finish (QMGR_GROUP (source), &ids, result, &error))
    {
      qmgr_client_error_convert (&error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, ids, (GDestroyNotify) g_strfreev);
}

/* ----- QmgrEnumGroups ----- */

/**
 * QmgrEnumGroups:
 *
 * The GUIDs of the caller's groups (IEnumBackgroundCopyGroups), in creation
 * order, as io.github.qmgrd.QMgr1.Manager.EnumGroups() returned them when
 * the enumerator was made. Look a group up with
 * io.github.qmgrd.QMgr1.Manager.GetGroup() or qmgr_path_for_group().
 */
struct _QmgrEnumGroups {
  GObject parent_instance;
  GuidList list;
};

G_DEFINE_TYPE (QmgrEnumGroups, qmgr_enum_groups, G_TYPE_OBJECT)

static void
qmgr_enum_groups_finalize (GObject *object)
{
  guid_list_clear (&QMGR_ENUM_GROUPS (object)->list);
  G_OBJECT_CLASS (qmgr_enum_groups_parent_class)->finalize (object);
}

static void
qmgr_enum_groups_class_init (QmgrEnumGroupsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = qmgr_enum_groups_finalize;
}

static void
qmgr_enum_groups_init (QmgrEnumGroups *self)
{
  guid_list_init (&self->list, NULL, 0);
}

static QmgrEnumGroups *
enum_groups_new_take (char **ids, guint position)
{
  QmgrEnumGroups *self = g_object_new (QMGR_TYPE_ENUM_GROUPS, NULL);

  guid_list_clear (&self->list);
  guid_list_init (&self->list, ids, position);
  return self;
}

/**
 * qmgr_enum_groups_new:
 * @manager: the queue
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the enumerator is ready
 * @user_data: data for @callback
 *
 * Calls io.github.qmgrd.QMgr1.Manager.EnumGroups() and makes an enumerator
 * of its answer. Finish with qmgr_enum_groups_new_finish().
 */
void
qmgr_enum_groups_new (QmgrManager *manager, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail (QMGR_IS_MANAGER (manager));
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, qmgr_enum_groups_new);
  qmgr_manager_call_enum_groups (manager, 0, G_DBUS_CALL_FLAGS_NONE, -1, cancellable,
                                 enum_groups_done, task);
}

/**
 * qmgr_enum_groups_new_finish:
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a %QMGR_CLIENT_ERROR error
 *
 * Finishes qmgr_enum_groups_new().
 *
 * Returns: (transfer full): the enumerator, or %NULL with @error set
 */
QmgrEnumGroups *
qmgr_enum_groups_new_finish (GAsyncResult *result, GError **error)
{
  char **ids;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  ids = g_task_propagate_pointer (G_TASK (result), error);
  return ids != NULL ? enum_groups_new_take (ids, 0) : NULL;
}

/**
 * qmgr_enum_groups_new_sync:
 * @manager: the queue
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a %QMGR_CLIENT_ERROR error
 *
 * Calls io.github.qmgrd.QMgr1.Manager.EnumGroups() and makes an enumerator
 * of its answer, blocking the calling thread.
 *
 * Returns: (transfer full): the enumerator, or %NULL with @error set
 */
QmgrEnumGroups *
qmgr_enum_groups_new_sync (QmgrManager *manager, GCancellable *cancellable, GError **error)
{
  char **ids = NULL;

  g_return_val_if_fail (QMGR_IS_MANAGER (manager), NULL);
  if (!qmgr_manager_call_enum_groups_sync (manager, 0, G_DBUS_CALL_FLAGS_NONE, -1, &ids,
                                           cancellable, error))
    {
      qmgr_client_error_convert (error);
      return NULL;
    }
  return enum_groups_new_take (ids, 0);
}

/**
 * qmgr_enum_groups_next:
 * @self: the enumerator
 * @count: how many GUIDs to fetch
 * @ids: (out) (optional) (array zero-terminated=1) (transfer full): the GUIDs
 *   fetched, at most @count; their number is what QMGR's Next calls
 *   pceltFetched
 *
 * Fetches the next @count GUIDs, or as many as remain (IEnumBackgroundCopyGroups::Next).
 *
 * Returns: %TRUE (S_OK) if @count GUIDs were fetched, %FALSE (S_FALSE) if
 *   fewer remained
 */
gboolean
qmgr_enum_groups_next (QmgrEnumGroups *self, guint count, char ***ids)
{
  g_return_val_if_fail (QMGR_IS_ENUM_GROUPS (self), FALSE);
  return guid_list_next (&self->list, count, ids);
}

/**
 * qmgr_enum_groups_skip:
 * @self: the enumerator
 * @count: how many GUIDs to skip
 *
 * Skips @count GUIDs, or moves to the end if fewer remain.
 *
 * Returns: %TRUE (S_OK) if @count GUIDs were skipped, %FALSE (S_FALSE) if
 *   fewer remained
 */
gboolean
qmgr_enum_groups_skip (QmgrEnumGroups *self, guint count)
{
  g_return_val_if_fail (QMGR_IS_ENUM_GROUPS (self), FALSE);
  return guid_list_skip (&self->list, count);
}

/**
 * qmgr_enum_groups_reset:
 * @self: the enumerator
 *
 * Goes back to the first GUID.
 */
void
qmgr_enum_groups_reset (QmgrEnumGroups *self)
{
  g_return_if_fail (QMGR_IS_ENUM_GROUPS (self));
  self->list.position = 0;
}

/**
 * qmgr_enum_groups_clone:
 * @self: the enumerator
 *
 * A new enumerator over the same GUIDs, at the same position; the two move
 * independently.
 *
 * Returns: (transfer full): the copy
 */
QmgrEnumGroups *
qmgr_enum_groups_clone (QmgrEnumGroups *self)
{
  g_return_val_if_fail (QMGR_IS_ENUM_GROUPS (self), NULL);
  return enum_groups_new_take (g_strdupv (self->list.ids), self->list.position);
}

/**
 * qmgr_enum_groups_get_count:
 * @self: the enumerator
 *
 * Counts the GUIDs of the enumeration (IEnumBackgroundCopyGroups::GetCount).
 *
 * Returns: the number of GUIDs in the enumeration, wherever the position is
 */
guint
qmgr_enum_groups_get_count (QmgrEnumGroups *self)
{
  g_return_val_if_fail (QMGR_IS_ENUM_GROUPS (self), 0);
  return self->list.count;
}

/* ----- QmgrEnumJobs ----- */

/**
 * QmgrEnumJobs:
 *
 * The GUIDs of a group's jobs (IEnumBackgroundCopyJobs1): none, or the
 * group's one job, as io.github.qmgrd.QMgr1.Group.EnumJobs() returned them
 * when the enumerator was made. Look a job up with
 * io.github.qmgrd.QMgr1.Group.GetJob() or qmgr_path_for_job().
 */
struct _QmgrEnumJobs {
  GObject parent_instance;
  GuidList list;
};

G_DEFINE_TYPE (QmgrEnumJobs, qmgr_enum_jobs, G_TYPE_OBJECT)

static void
qmgr_enum_jobs_finalize (GObject *object)
{
  guid_list_clear (&QMGR_ENUM_JOBS (object)->list);
  G_OBJECT_CLASS (qmgr_enum_jobs_parent_class)->finalize (object);
}

static void
qmgr_enum_jobs_class_init (QmgrEnumJobsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = qmgr_enum_jobs_finalize;
}

static void
qmgr_enum_jobs_init (QmgrEnumJobs *self)
{
  guid_list_init (&self->list, NULL, 0);
}

static QmgrEnumJobs *
enum_jobs_new_take (char **ids, guint position)
{
  QmgrEnumJobs *self = g_object_new (QMGR_TYPE_ENUM_JOBS, NULL);

  guid_list_clear (&self->list);
  guid_list_init (&self->list, ids, position);
  return self;
}

/**
 * qmgr_enum_jobs_new:
 * @group: the group
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the enumerator is ready
 * @user_data: data for @callback
 *
 * Calls io.github.qmgrd.QMgr1.Group.EnumJobs() and makes an enumerator of
 * its answer. Finish with qmgr_enum_jobs_new_finish().
 */
void
qmgr_enum_jobs_new (QmgrGroup *group, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail (QMGR_IS_GROUP (group));
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, qmgr_enum_jobs_new);
  qmgr_group_call_enum_jobs (group, 0, G_DBUS_CALL_FLAGS_NONE, -1, cancellable, enum_jobs_done,
                             task);
}

/**
 * qmgr_enum_jobs_new_finish:
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a %QMGR_CLIENT_ERROR error
 *
 * Finishes qmgr_enum_jobs_new().
 *
 * Returns: (transfer full): the enumerator, or %NULL with @error set
 */
QmgrEnumJobs *
qmgr_enum_jobs_new_finish (GAsyncResult *result, GError **error)
{
  char **ids;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  ids = g_task_propagate_pointer (G_TASK (result), error);
  return ids != NULL ? enum_jobs_new_take (ids, 0) : NULL;
}

/**
 * qmgr_enum_jobs_new_sync:
 * @group: the group
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a %QMGR_CLIENT_ERROR error
 *
 * Calls io.github.qmgrd.QMgr1.Group.EnumJobs() and makes an enumerator of
 * its answer, blocking the calling thread.
 *
 * Returns: (transfer full): the enumerator, or %NULL with @error set
 */
QmgrEnumJobs *
qmgr_enum_jobs_new_sync (QmgrGroup *group, GCancellable *cancellable, GError **error)
{
  char **ids = NULL;

  g_return_val_if_fail (QMGR_IS_GROUP (group), NULL);
  if (!qmgr_group_call_enum_jobs_sync (group, 0, G_DBUS_CALL_FLAGS_NONE, -1, &ids, cancellable,
                                       error))
    {
      qmgr_client_error_convert (error);
      return NULL;
    }
  return enum_jobs_new_take (ids, 0);
}

/**
 * qmgr_enum_jobs_next:
 * @self: the enumerator
 * @count: how many GUIDs to fetch
 * @ids: (out) (optional) (array zero-terminated=1) (transfer full): the GUIDs
 *   fetched, at most @count
 *
 * Fetches the next @count GUIDs, or as many as remain (IEnumBackgroundCopyJobs1::Next).
 *
 * Returns: %TRUE (S_OK) if @count GUIDs were fetched, %FALSE (S_FALSE) if
 *   fewer remained
 */
gboolean
qmgr_enum_jobs_next (QmgrEnumJobs *self, guint count, char ***ids)
{
  g_return_val_if_fail (QMGR_IS_ENUM_JOBS (self), FALSE);
  return guid_list_next (&self->list, count, ids);
}

/**
 * qmgr_enum_jobs_skip:
 * @self: the enumerator
 * @count: how many GUIDs to skip
 *
 * Skips @count GUIDs, or moves to the end if fewer remain.
 *
 * Returns: %TRUE (S_OK) if @count GUIDs were skipped, %FALSE (S_FALSE) if
 *   fewer remained
 */
gboolean
qmgr_enum_jobs_skip (QmgrEnumJobs *self, guint count)
{
  g_return_val_if_fail (QMGR_IS_ENUM_JOBS (self), FALSE);
  return guid_list_skip (&self->list, count);
}

/**
 * qmgr_enum_jobs_reset:
 * @self: the enumerator
 *
 * Goes back to the first GUID.
 */
void
qmgr_enum_jobs_reset (QmgrEnumJobs *self)
{
  g_return_if_fail (QMGR_IS_ENUM_JOBS (self));
  self->list.position = 0;
}

/**
 * qmgr_enum_jobs_clone:
 * @self: the enumerator
 *
 * A new enumerator over the same GUIDs, at the same position.
 *
 * Returns: (transfer full): the copy
 */
QmgrEnumJobs *
qmgr_enum_jobs_clone (QmgrEnumJobs *self)
{
  g_return_val_if_fail (QMGR_IS_ENUM_JOBS (self), NULL);
  return enum_jobs_new_take (g_strdupv (self->list.ids), self->list.position);
}

/**
 * qmgr_enum_jobs_get_count:
 * @self: the enumerator
 *
 * Counts the GUIDs of the enumeration (IEnumBackgroundCopyJobs1::GetCount).
 *
 * Returns: the number of GUIDs in the enumeration
 */
guint
qmgr_enum_jobs_get_count (QmgrEnumJobs *self)
{
  g_return_val_if_fail (QMGR_IS_ENUM_JOBS (self), 0);
  return self->list.count;
}
