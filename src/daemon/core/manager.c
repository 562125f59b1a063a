/* qmgrd core — the Manager: groups by GUID and in creation order, owners and
 * their quotas, destination reservations, the settings and the network state,
 * listeners and the store hooks. */
#include "core-private.h"

#include <string.h>

#include "qmgr-constants.h"
#include "qmgr-log.h"

typedef struct {
  const QmgrManagerListener *listener;
  gpointer user_data;
} ListenerEntry;

void
qmgr_manager_settings_init_defaults (QmgrManagerSettings *settings, gboolean system_mode)
{
  memset (settings, 0, sizeof *settings);
  settings->system_mode = system_mode;
  settings->max_groups_per_owner = system_mode ? 1000 : 20000;
  settings->max_files_per_job = system_mode ? 10000 : 100000;
  settings->max_files_per_owner = system_mode ? 20000 : 200000;
  settings->max_string_bytes_per_owner = system_mode ? (1u << 20) : (8u << 20);
  settings->max_concurrent_transfers = 4;
}

QmgrManager *
qmgr_manager_new (const QmgrManagerSettings *settings)
{
  QmgrManager *m = g_new0 (QmgrManager, 1);

  m->settings = *settings;
  g_queue_init (&m->groups);
  m->groups_by_id = g_hash_table_new (qmgr_guid_hash, qmgr_guid_key_equal);
  m->jobs_by_id = g_hash_table_new (qmgr_guid_hash, qmgr_guid_key_equal);
  m->owners = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  m->destinations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  m->listeners = g_array_new (FALSE, FALSE, sizeof (ListenerEntry));
  m->next_seq = 1;
  m->network.cost_state = QMGR_COST_STATE_UNRESTRICTED;
  m->network.online = TRUE;
  m->network.connectivity = QMGR_CONNECTIVITY_FULL;
  m->clock = qmgr_clock_get_system ();
  return m;
}

void
qmgr_manager_free (QmgrManager *m)
{
  if (m == NULL)
    return;
  /* No listener hears about teardown: the process is going away, nothing changed. */
  g_array_set_size (m->listeners, 0);
  while (!g_queue_is_empty (&m->groups))
    qmgr_group_free (g_queue_pop_head (&m->groups));
  g_hash_table_unref (m->groups_by_id);
  g_hash_table_unref (m->jobs_by_id);
  g_hash_table_unref (m->owners);
  g_hash_table_unref (m->destinations);
  g_array_unref (m->listeners);
  g_free (m);
}

void
qmgr_manager_set_store (QmgrManager *m, const QmgrStoreHooks *hooks, gpointer store)
{
  m->store_hooks = hooks;
  m->store = store;
}

void
qmgr_manager_set_destination_check (QmgrManager *m, QmgrDestinationCheck check,
                                    gpointer user_data)
{
  m->destination_check = check;
  m->destination_check_data = user_data;
}

void
qmgr_manager_set_clock (QmgrManager *m, QmgrClock *clock)
{
  m->clock = clock;
}

gint64
qmgr_manager_now (QmgrManager *m)
{
  return qmgr_clock_wall (m->clock);
}

void
qmgr_manager_add_listener (QmgrManager *m, const QmgrManagerListener *listener,
                           gpointer user_data)
{
  ListenerEntry e = { listener, user_data };
  g_array_append_val (m->listeners, e);
}

void
qmgr_manager_remove_listener (QmgrManager *m, const QmgrManagerListener *listener,
                              gpointer user_data)
{
  for (guint i = 0; i < m->listeners->len; i++)
    {
      ListenerEntry *e = &g_array_index (m->listeners, ListenerEntry, i);
      if (e->listener == listener && e->user_data == user_data)
        {
          g_array_remove_index (m->listeners, i);
          return;
        }
    }
}

#define EMIT(m, member, ...)                                                  \
  G_STMT_START {                                                              \
    for (guint i_ = 0; i_ < (m)->listeners->len; i_++)                        \
      {                                                                       \
        ListenerEntry *e_ = &g_array_index ((m)->listeners, ListenerEntry, i_); \
        if (e_->listener->member != NULL)                                     \
          e_->listener->member (__VA_ARGS__, e_->user_data);                  \
      }                                                                       \
  } G_STMT_END

void
qmgr_manager_emit_group_changed (QmgrManager *m, QmgrGroup *group, QmgrGroupChange changes)
{
  if (changes != 0)
    EMIT (m, group_changed, group, changes);
}

void
qmgr_manager_emit_job_changed (QmgrManager *m, QmgrJob *job, QmgrJobChange changes)
{
  if (changes != 0)
    EMIT (m, job_changed, job, changes);
}

void
qmgr_manager_emit_job_added (QmgrManager *m, QmgrJob *job)
{
  EMIT (m, job_added, job);
}

void
qmgr_manager_emit_job_removing (QmgrManager *m, QmgrJob *job)
{
  EMIT (m, job_removing, job);
}

void
qmgr_manager_emit_runnable (QmgrManager *m, QmgrGroup *group)
{
  EMIT (m, group_runnable, group);
}

void
qmgr_manager_emit_stopped (QmgrManager *m, QmgrGroup *group)
{
  EMIT (m, group_stopped, group);
}

void
qmgr_manager_emit_status_event (QmgrManager *m, QmgrGroup *group, guint32 file_index,
                                QmgrStatusEvent event)
{
  EMIT (m, status_event, group, file_index, event);
}

void
qmgr_manager_emit_manager_changed (QmgrManager *m, QmgrManagerChange changes)
{
  if (changes != 0)
    EMIT (m, manager_changed, m, changes);
}

gboolean
qmgr_manager_save_group (QmgrManager *m, QmgrGroup *group, const QmgrGroupDelta *delta,
                         QmgrSaveMode mode, GError **error)
{
  const QmgrStoreHooks *hooks = m->store_hooks;

  if (hooks == NULL || mode == QMGR_SAVE_NONE)
    return TRUE;
  /* Without the hook, "soon" is now. */
  if (mode == QMGR_SAVE_SOON && hooks->save_group_soon != NULL)
    {
      hooks->save_group_soon (m->store, group, delta);
      return TRUE;
    }
  if (hooks->save_group == NULL)
    return TRUE;
  return hooks->save_group (m->store, group, delta, error);
}

void
qmgr_manager_begin_batch (QmgrManager *m)
{
  if (m->store_hooks != NULL && m->store_hooks->begin_batch != NULL)
    m->store_hooks->begin_batch (m->store);
}

gboolean
qmgr_manager_end_batch (QmgrManager *m, GError **error)
{
  if (m->store_hooks == NULL || m->store_hooks->end_batch == NULL)
    return TRUE;
  return m->store_hooks->end_batch (m->store, error);
}

gboolean
qmgr_manager_sync_store (QmgrManager *m, GError **error)
{
  if (m->store_hooks == NULL || m->store_hooks->sync == NULL)
    return TRUE;
  return m->store_hooks->sync (m->store, error);
}

gboolean
qmgr_manager_save_settings (QmgrManager *m, GError **error)
{
  if (m->store_hooks == NULL || m->store_hooks->save_settings == NULL)
    return TRUE;
  return m->store_hooks->save_settings (m->store, m, error);
}

gboolean
qmgr_manager_guid_in_use (QmgrManager *m, QmgrGuid id)
{
  return g_hash_table_contains (m->groups_by_id, &id) ||
         g_hash_table_contains (m->jobs_by_id, &id);
}

gboolean
qmgr_manager_claim_guid (QmgrManager *m, const char *text, QmgrGuid *id, GError **error)
{
  if (text[0] == '\0')
    {
      do
        *id = qmgr_guid_generate ();
      while (qmgr_manager_guid_in_use (m, *id));
      return TRUE;
    }
  if (!qmgr_guid_parse (text, id, error))
    return FALSE;
  if (qmgr_manager_guid_in_use (m, *id))
    {
      char s[QMGR_GUID_STRING_LEN + 1];
      qmgr_guid_to_string (*id, s);
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS, "GUID %s is already in use", s);
      return FALSE;
    }
  return TRUE;
}

static QmgrOwnerUsage *
usage_of (QmgrManager *m, uid_t owner)
{
  QmgrOwnerUsage *u = g_hash_table_lookup (m->owners, GUINT_TO_POINTER (owner));

  if (u == NULL)
    {
      u = g_new0 (QmgrOwnerUsage, 1);
      g_hash_table_insert (m->owners, GUINT_TO_POINTER (owner), u);
    }
  return u;
}

QmgrOwnerUsage
qmgr_manager_get_owner_usage (QmgrManager *m, uid_t owner)
{
  QmgrOwnerUsage *u = g_hash_table_lookup (m->owners, GUINT_TO_POINTER (owner));
  return u != NULL ? *u : (QmgrOwnerUsage) { 0, 0, 0 };
}

void
qmgr_manager_owner_charge (QmgrManager *m, uid_t owner, int groups, gint64 files, gint64 bytes)
{
  QmgrOwnerUsage *u = usage_of (m, owner);

  u->groups += (guint) groups;
  u->files += (guint64) files;
  u->string_bytes += (guint64) bytes;
  if (u->groups == 0)
    g_hash_table_remove (m->owners, GUINT_TO_POINTER (owner));
}

gboolean
qmgr_manager_owner_has_room (QmgrManager *m, uid_t owner, GError **error)
{
  if (qmgr_manager_get_owner_usage (m, owner).groups < m->settings.max_groups_per_owner)
    return TRUE;
  g_set_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED,
               "User %u already owns %u groups, the most allowed", (unsigned) owner,
               m->settings.max_groups_per_owner);
  return FALSE;
}

gboolean
qmgr_manager_owner_can_hold (QmgrManager *m, uid_t owner, guint64 files, guint64 bytes,
                             GError **error)
{
  QmgrOwnerUsage u = qmgr_manager_get_owner_usage (m, owner);

  if (files > 0 && (files > m->settings.max_files_per_owner ||
                    u.files > m->settings.max_files_per_owner - files))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED,
                   "User %u would hold %" G_GUINT64_FORMAT " files in all groups, more than "
                   "the %" G_GUINT64_FORMAT " allowed", (unsigned) owner, u.files + files,
                   m->settings.max_files_per_owner);
      return FALSE;
    }
  if (bytes > 0 && (bytes > m->settings.max_string_bytes_per_owner ||
                    u.string_bytes > m->settings.max_string_bytes_per_owner - bytes))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_LIMITS_EXCEEDED,
                   "User %u would hold %" G_GUINT64_FORMAT " bytes of names, descriptions "
                   "and callback targets in all groups, more than the %" G_GUINT64_FORMAT
                   " allowed", (unsigned) owner, u.string_bytes + bytes,
                   m->settings.max_string_bytes_per_owner);
      return FALSE;
    }
  return TRUE;
}

void
qmgr_manager_change_owner (QmgrManager *m, QmgrGroup *group, uid_t old_owner)
{
  if (group->job == NULL || group->state == QMGR_GROUP_STATE_COMPLETE)
    return;
  for (guint i = 0; i < group->job->files->len; i++)
    {
      QmgrFile *f = g_ptr_array_index (group->job->files, i);
      qmgr_manager_release_destination (m, old_owner, f);
      qmgr_manager_reserve_destination (m, group->owner, f);
    }
}

static void
index_group (QmgrManager *m, QmgrGroup *group)
{
  g_queue_push_tail (&m->groups, group);
  group->link = m->groups.tail;
  g_hash_table_insert (m->groups_by_id, &group->id, group);
  qmgr_manager_owner_charge (m, group->owner, +1, qmgr_group_get_files_total (group),
                             (gint64) qmgr_group_get_string_bytes (group));
  m->next_seq = MAX (m->next_seq, group->seq + 1);
  if (group->job != NULL)
    qmgr_manager_index_job (m, group->job);
}

static void
unindex_group (QmgrManager *m, QmgrGroup *group)
{
  if (group->job != NULL)
    qmgr_manager_unindex_job (m, group->job);
  g_queue_delete_link (&m->groups, group->link);
  group->link = NULL;
  g_hash_table_remove (m->groups_by_id, &group->id);
  qmgr_manager_owner_charge (m, group->owner, -1, -(gint64) qmgr_group_get_files_total (group),
                             -(gint64) qmgr_group_get_string_bytes (group));
}

void
qmgr_manager_index_job (QmgrManager *m, QmgrJob *job)
{
  g_hash_table_insert (m->jobs_by_id, &job->id, job);
  if (job->group->state == QMGR_GROUP_STATE_COMPLETE)
    return;
  for (guint i = 0; i < job->files->len; i++)
    qmgr_manager_reserve_destination (m, job->group->owner, g_ptr_array_index (job->files, i));
}

void
qmgr_manager_unindex_job (QmgrManager *m, QmgrJob *job)
{
  g_hash_table_remove (m->jobs_by_id, &job->id);
  for (guint i = 0; i < job->files->len; i++)
    qmgr_manager_release_destination (m, job->group->owner, g_ptr_array_index (job->files, i));
}

static char *
destination_key (uid_t owner, const char *path)
{
  return g_strdup_printf ("%u:%s", (unsigned) owner, path);
}

gboolean
qmgr_manager_destination_taken (QmgrManager *m, uid_t owner, const char *path)
{
  g_autofree char *key = destination_key (owner, path);
  return g_hash_table_contains (m->destinations, key);
}

void
qmgr_manager_reserve_destination (QmgrManager *m, uid_t owner, QmgrFile *file)
{
  g_hash_table_insert (m->destinations, destination_key (owner, file->local_path), file);
}

void
qmgr_manager_release_destination (QmgrManager *m, uid_t owner, QmgrFile *file)
{
  g_autofree char *key = destination_key (owner, file->local_path);
  /* Only the file that holds the reservation releases it. */
  if (g_hash_table_lookup (m->destinations, key) == file)
    g_hash_table_remove (m->destinations, key);
}

gboolean
qmgr_manager_check_destination (QmgrManager *m, uid_t owner, const char *path, GError **error)
{
  if (m->destination_check == NULL)
    return TRUE;
  return m->destination_check (owner, path, m->destination_check_data, error);
}

QmgrGroup *
qmgr_manager_create_group (QmgrManager *m, const char *group_id, uid_t caller, GError **error)
{
  QmgrGuid id;
  QmgrGroup *group;
  QmgrGroupDelta whole = { .job_replaced = TRUE, .first_new_file = G_MAXUINT };
  gint64 now;

  if (!qmgr_manager_claim_guid (m, group_id, &id, error))
    return NULL;
  if (!qmgr_manager_owner_has_room (m, caller, error))
    return NULL;

  group = qmgr_group_new (m, id, caller);
  now = qmgr_manager_now (m);
  group->seq = m->next_seq;
  group->creation_time = now;
  group->modification_time = now;

  /* Nothing to undo: a group that could not be saved was never seen. */
  if (!qmgr_manager_save_group (m, group, &whole, QMGR_SAVE_NOW, error))
    {
      qmgr_group_free (group);
      return NULL;
    }
  index_group (m, group);
  EMIT (m, group_added, group);
  return group;
}

QmgrGroup *
qmgr_manager_lookup_group (QmgrManager *m, QmgrGuid id)
{
  return g_hash_table_lookup (m->groups_by_id, &id);
}

QmgrJob *
qmgr_manager_lookup_job (QmgrManager *m, QmgrGuid id)
{
  return g_hash_table_lookup (m->jobs_by_id, &id);
}

gboolean
qmgr_manager_group_visible (QmgrManager *m, QmgrGroup *group, uid_t caller)
{
  /* The session bus belongs to one user: everyone on it sees every group. The
   * system-mode rules (owner or authorized administrator) come with system mode. */
  return !m->settings.system_mode || group->owner == caller;
}

QmgrGroup *
qmgr_manager_get_group (QmgrManager *m, const char *group_id, uid_t caller, GError **error)
{
  QmgrGuid id;
  QmgrGroup *group;

  if (!qmgr_guid_parse (group_id, &id, error))
    return NULL;
  group = qmgr_manager_lookup_group (m, id);
  if (group == NULL || !qmgr_manager_group_visible (m, group, caller))
    {
      char s[QMGR_GUID_STRING_LEN + 1];
      qmgr_guid_to_string (id, s);
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_ITEM_NOT_FOUND, "There is no group %s", s);
      return NULL;
    }
  return group;
}

char **
qmgr_manager_enum_groups (QmgrManager *m, guint32 flags, uid_t caller, GError **error)
{
  g_autoptr(GStrvBuilder) b = NULL;

  if (flags != 0)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_NOT_SUPPORTED,
                   "EnumGroups flags 0x%x are not supported (use 0)", flags);
      return NULL;
    }
  b = g_strv_builder_new ();
  for (GList *l = m->groups.head; l != NULL; l = l->next)
    {
      QmgrGroup *group = l->data;
      if (qmgr_manager_group_visible (m, group, caller))
        g_strv_builder_add (b, group->id_str);
    }
  return g_strv_builder_end (b);
}

gboolean
qmgr_manager_has_runnable_groups (QmgrManager *m)
{
  for (GList *l = m->groups.head; l != NULL; l = l->next)
    if (((QmgrGroup *) l->data)->state == QMGR_GROUP_STATE_QUEUED)
      return TRUE;
  return FALSE;
}

static gboolean
commit_setting (QmgrManager *m, gpointer field, gconstpointer value, gsize size,
                QmgrManagerChange change, GError **error)
{
  QmgrTxn txn;

  qmgr_txn_begin_manager (&txn, m);
  qmgr_txn_set_bytes (&txn, field, value, size);
  if (txn.undo == NULL)
    return TRUE;   /* unchanged */
  txn.manager_changes = change;
  return qmgr_txn_commit (&txn, QMGR_SAVE_NOW, error);
}

gboolean
qmgr_manager_set_bandwidth_limit (QmgrManager *m, guint64 limit, GError **error)
{
  return commit_setting (m, &m->settings.bandwidth_limit, &limit, sizeof limit,
                         QMGR_MANAGER_CHANGED_BANDWIDTH_LIMIT, error);
}

gboolean
qmgr_manager_set_metered_bandwidth_limit (QmgrManager *m, guint64 limit, GError **error)
{
  return commit_setting (m, &m->settings.metered_bandwidth_limit, &limit, sizeof limit,
                         QMGR_MANAGER_CHANGED_METERED_BANDWIDTH_LIMIT, error);
}

gboolean
qmgr_manager_set_max_concurrent_transfers (QmgrManager *m, guint32 value, GError **error)
{
  guint v = value;

  if (value == 0 || value > QMGR_MAX_CONCURRENT_TRANSFERS_MAX)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "MaxConcurrentTransfers %u is out of range (1 to %u)", value,
                   QMGR_MAX_CONCURRENT_TRANSFERS_MAX);
      return FALSE;
    }
  return commit_setting (m, &m->settings.max_concurrent_transfers, &v, sizeof v,
                         QMGR_MANAGER_CHANGED_MAX_CONCURRENT_TRANSFERS, error);
}

void
qmgr_manager_set_network (QmgrManager *m, const QmgrNetworkState *state)
{
  QmgrManagerChange changes = 0;

  if (state->cost_state != m->network.cost_state)
    changes |= QMGR_MANAGER_CHANGED_NETWORK_COST_STATE;
  if (state->online != m->network.online)
    changes |= QMGR_MANAGER_CHANGED_ONLINE;
  /* Connectivity is no property of its own; the scheduler hears it with the
   * others (a portal makes transfers wait). */
  if (state->connectivity != m->network.connectivity)
    changes |= QMGR_MANAGER_CHANGED_CONNECTIVITY;
  m->network = *state;
  qmgr_manager_emit_manager_changed (m, changes);
}

guint64
qmgr_manager_get_background_limit (QmgrManager *m)
{
  guint64 limit = m->settings.bandwidth_limit;
  guint64 metered = m->settings.metered_bandwidth_limit;

  if (m->network.cost_state == QMGR_COST_STATE_UNRESTRICTED || metered == 0)
    return limit;
  return limit == 0 ? metered : MIN (limit, metered);
}

guint
qmgr_manager_expire_groups (QmgrManager *m, gint64 max_age_us)
{
  gint64 cutoff = qmgr_manager_now (m) - max_age_us;
  guint n = 0;

  for (GList *l = m->groups.head, *next; l != NULL; l = next)
    {
      QmgrGroup *group = l->data;
      g_autoptr(GError) error = NULL;
      char id[QMGR_GUID_STRING_LEN + 1];

      next = l->next;
      if (group->state == QMGR_GROUP_STATE_QUEUED || group->modification_time >= cutoff)
        continue;
      g_strlcpy (id, group->id_str, sizeof id);   /* the group is freed when it goes */
      if (qmgr_group_cancel (group, &error))
        n++;
      else
        qmgr_log (G_LOG_LEVEL_WARNING, id, NULL, "Could not remove expired group %s: %s", id,
                  error->message);
    }
  return n;
}

gboolean
qmgr_manager_adopt_group (QmgrManager *m, QmgrGroup *group, GError **error)
{
  if (qmgr_manager_guid_in_use (m, group->id) ||
      (group->job != NULL && (qmgr_manager_guid_in_use (m, group->job->id) ||
                              qmgr_guid_equal (group->id, group->job->id))))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "Group %s reuses a GUID already restored", group->id_str);
      return FALSE;
    }
  index_group (m, group);
  return TRUE;
}

void
qmgr_manager_remove_group (QmgrManager *m, QmgrGroup *group)
{
  if (group->state == QMGR_GROUP_STATE_QUEUED)
    EMIT (m, group_stopped, group);
  if (group->job != NULL)
    EMIT (m, job_removing, group->job);
  EMIT (m, group_removing, group);
  unindex_group (m, group);
  qmgr_group_free (group);
}

gboolean
qmgr_manager_delete_group_from_store (QmgrManager *m, QmgrGroup *group, GError **error)
{
  if (m->store_hooks == NULL || m->store_hooks->delete_group == NULL)
    return TRUE;
  return m->store_hooks->delete_group (m->store, group, error);
}
