/* qmgrd core — the one commit path: every change to a group (or to the
 * manager's settings) is made in a QmgrTxn, saved through the store hooks,
 * and either undone (the save failed) or announced, derived values included. */
#include "core-private.h"

#include <string.h>

#include "qmgr-constants.h"

typedef enum {
  UNDO_BYTES,
  UNDO_STRING,
  UNDO_FUNC,
} UndoKind;

typedef struct {
  UndoKind kind;
  gpointer field;
  gsize size;
  union {
    guint8 bytes[8];
    char *string;
  } old;
  gboolean secret;
  QmgrTxnFunc func;
  gpointer data;
} UndoEntry;

typedef struct {
  QmgrTxnFunc func;
  gpointer data;
} Step;

typedef struct {
  guint32 file_index;
  QmgrStatusEvent event;
} Event;

static void
view_of (QmgrGroup *g, QmgrTxnView *v)
{
  v->status = qmgr_group_get_status (g);
  v->wait_reason = qmgr_group_get_wait_reason (g);
  v->size = qmgr_group_get_size (g);
  v->bytes_total = qmgr_group_get_bytes_total (g);
  v->bytes_transferred = qmgr_group_get_bytes_transferred (g);
  v->files_total = qmgr_group_get_files_total (g);
  v->files_transferred = qmgr_group_get_files_transferred (g);
  v->transfer_policy = qmgr_group_get_effective_transfer_policy (g);
  v->completion_time = g->completion_time;
  v->job_status = g->job != NULL ? qmgr_job_get_status (g->job) : 0;
  v->owner = g->owner;
  v->string_bytes = qmgr_group_get_string_bytes (g);
}

/* What the group's owner holds follows the change (from one owner to another
 * when it took the group). */
static void
charge_owner (QmgrTxn *txn, const QmgrTxnView *after)
{
  const QmgrTxnView *b = &txn->before;
  QmgrManager *m = txn->manager;

  if (after->owner != b->owner)
    {
      qmgr_manager_owner_charge (m, b->owner, -1, -(gint64) b->files_total,
                                 -(gint64) b->string_bytes);
      qmgr_manager_owner_charge (m, after->owner, +1, after->files_total,
                                 (gint64) after->string_bytes);
    }
  else if (after->files_total != b->files_total || after->string_bytes != b->string_bytes)
    qmgr_manager_owner_charge (m, after->owner, 0,
                               (gint64) after->files_total - (gint64) b->files_total,
                               (gint64) after->string_bytes - (gint64) b->string_bytes);
}

void
qmgr_txn_begin (QmgrTxn *txn, QmgrGroup *group)
{
  memset (txn, 0, sizeof *txn);
  txn->manager = group->manager;
  txn->group = group;
  txn->job = group->job;
  txn->state = group->state;
  txn->delta.first_new_file = G_MAXUINT;
  view_of (group, &txn->before);
}

void
qmgr_txn_begin_manager (QmgrTxn *txn, QmgrManager *manager)
{
  memset (txn, 0, sizeof *txn);
  txn->manager = manager;
}

static UndoEntry *
push_undo (QmgrTxn *txn, UndoKind kind)
{
  UndoEntry e = { .kind = kind };

  if (txn->undo == NULL)
    txn->undo = g_array_new (FALSE, FALSE, sizeof (UndoEntry));
  g_array_append_val (txn->undo, e);
  return &g_array_index (txn->undo, UndoEntry, txn->undo->len - 1);
}

void
qmgr_txn_set_bytes (QmgrTxn *txn, gpointer field, gconstpointer value, gsize size)
{
  UndoEntry *e;

  g_return_if_fail (size <= sizeof e->old.bytes);
  if (memcmp (field, value, size) == 0)
    return;
  e = push_undo (txn, UNDO_BYTES);
  e->field = field;
  e->size = size;
  memcpy (e->old.bytes, field, size);
  memcpy (field, value, size);
}

void
qmgr_txn_set_string (QmgrTxn *txn, char **field, const char *value, gboolean secret)
{
  UndoEntry *e;

  if (g_strcmp0 (*field, value) == 0)
    return;
  e = push_undo (txn, UNDO_STRING);
  e->field = field;
  e->old.string = *field;
  e->secret = secret;
  *field = g_strdup (value);
}

void
qmgr_txn_touch (QmgrTxn *txn)
{
  qmgr_txn_set (txn, &txn->group->modification_time, qmgr_manager_now (txn->manager));
  txn->group_changes |= QMGR_GROUP_CHANGED_MODIFICATION_TIME;
}

void
qmgr_txn_changed (QmgrTxn *txn, QmgrGroupChange group_changes, QmgrJobChange job_changes)
{
  txn->group_changes |= group_changes;
  txn->job_changes |= job_changes;
}

void
qmgr_txn_file_changed (QmgrTxn *txn, guint index)
{
  GArray *changed;

  if (index >= txn->delta.first_new_file)
    return;   /* appended in this very change */
  if (txn->delta.changed_files == NULL)
    txn->delta.changed_files = g_array_new (FALSE, FALSE, sizeof (guint));
  changed = txn->delta.changed_files;
  for (guint i = 0; i < changed->len; i++)
    if (g_array_index (changed, guint, i) == index)
      return;
  g_array_append_val (changed, index);
}

void
qmgr_txn_files_appended (QmgrTxn *txn, guint first)
{
  txn->delta.first_new_file = MIN (txn->delta.first_new_file, first);
}

void
qmgr_txn_on_failure (QmgrTxn *txn, QmgrTxnFunc undo, gpointer data)
{
  UndoEntry *e = push_undo (txn, UNDO_FUNC);
  e->func = undo;
  e->data = data;
}

void
qmgr_txn_on_success (QmgrTxn *txn, QmgrTxnFunc done, gpointer data)
{
  Step s = { done, data };

  if (txn->on_success == NULL)
    txn->on_success = g_array_new (FALSE, FALSE, sizeof (Step));
  g_array_append_val (txn->on_success, s);
}

void
qmgr_txn_status_event (QmgrTxn *txn, guint32 file_index, QmgrStatusEvent event)
{
  Event e = { file_index, event };

  if (txn->events == NULL)
    txn->events = g_array_new (FALSE, FALSE, sizeof (Event));
  g_array_append_val (txn->events, e);
}

static gint
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;
  return x < y ? -1 : x > y;
}

static void
wipe (char *s)
{
  if (s != NULL)
    explicit_bzero (s, strlen (s));
}

/* Puts every old value back, newest first. */
static void
undo_all (QmgrTxn *txn)
{
  for (guint i = txn->undo != NULL ? txn->undo->len : 0; i-- > 0;)
    {
      UndoEntry *e = &g_array_index (txn->undo, UndoEntry, i);
      char **field = e->field;

      switch (e->kind)
        {
        case UNDO_BYTES:
          memcpy (e->field, e->old.bytes, e->size);
          break;
        case UNDO_STRING:
          if (e->secret)
            wipe (*field);
          g_free (*field);
          *field = e->old.string;
          break;
        case UNDO_FUNC:
          e->func (txn->group, e->data);
          break;
        }
    }
}

/* Lets go of the old values, wiping secrets. */
static void
release_all (QmgrTxn *txn)
{
  for (guint i = 0; txn->undo != NULL && i < txn->undo->len; i++)
    {
      UndoEntry *e = &g_array_index (txn->undo, UndoEntry, i);
      if (e->kind != UNDO_STRING)
        continue;
      if (e->secret)
        wipe (e->old.string);
      g_free (e->old.string);
    }
}

static void
txn_clear (QmgrTxn *txn)
{
  g_clear_pointer (&txn->undo, g_array_unref);
  g_clear_pointer (&txn->on_success, g_array_unref);
  g_clear_pointer (&txn->events, g_array_unref);
  g_clear_pointer (&txn->delta.changed_files, g_array_unref);
}

void
qmgr_txn_abort (QmgrTxn *txn)
{
  undo_all (txn);
  txn_clear (txn);
}

static gboolean
save (QmgrTxn *txn, QmgrSaveMode mode, GError **error)
{
  if (mode == QMGR_SAVE_NONE)
    return TRUE;
  if (txn->group == NULL)
    return qmgr_manager_save_settings (txn->manager, error);
  if (txn->delta.changed_files != NULL)
    g_array_sort (txn->delta.changed_files, (GCompareFunc) compare_uint);
  return qmgr_manager_save_group (txn->manager, txn->group, &txn->delta, mode, error);
}

/* The changes to announce: those named, and every derived value that moved. */
static void
collect_changes (QmgrTxn *txn)
{
  QmgrGroup *g = txn->group;
  const QmgrTxnView *b = &txn->before;
  QmgrTxnView a;

  view_of (g, &a);
  charge_owner (txn, &a);
  if (a.status != b->status)
    txn->group_changes |= QMGR_GROUP_CHANGED_STATUS;
  if (strcmp (a.wait_reason, b->wait_reason) != 0)
    txn->group_changes |= QMGR_GROUP_CHANGED_WAIT_REASON;
  if (a.size != b->size)
    txn->group_changes |= QMGR_GROUP_CHANGED_SIZE;
  if (a.bytes_total != b->bytes_total)
    txn->group_changes |= QMGR_GROUP_CHANGED_BYTES_TOTAL;
  if (a.bytes_transferred != b->bytes_transferred)
    txn->group_changes |= QMGR_GROUP_CHANGED_BYTES_TRANSFERRED;
  if (a.files_total != b->files_total)
    txn->group_changes |= QMGR_GROUP_CHANGED_FILES_TOTAL;
  if (a.files_transferred != b->files_transferred)
    txn->group_changes |= QMGR_GROUP_CHANGED_FILES_TRANSFERRED;
  if (a.transfer_policy != b->transfer_policy)
    txn->group_changes |= QMGR_GROUP_CHANGED_TRANSFER_POLICY;
  if (a.completion_time != b->completion_time)
    txn->group_changes |= QMGR_GROUP_CHANGED_COMPLETION_TIME;
  /* The job's own properties, while it is the same job (one that came or went
   * is announced as added or removed). */
  if (g->job != NULL && g->job == txn->job)
    {
      /* The job's status follows the group's: announced with it. */
      if (a.job_status != b->job_status || a.status != b->status)
        txn->job_changes |= QMGR_JOB_CHANGED_STATUS;
      if (a.files_total != b->files_total)
        txn->job_changes |= QMGR_JOB_CHANGED_FILE_COUNT;
      if (a.bytes_total != b->bytes_total)
        txn->job_changes |= QMGR_JOB_CHANGED_BYTES_TOTAL;
      if (a.bytes_transferred != b->bytes_transferred)
        txn->job_changes |= QMGR_JOB_CHANGED_BYTES_TRANSFERRED;
    }
  else
    txn->job_changes = 0;
}

/* Saves; on failure every change is undone. */
static gboolean
save_or_undo (QmgrTxn *txn, QmgrSaveMode mode, GError **error)
{
  if (!save (txn, mode, error))
    {
      qmgr_txn_abort (txn);
      return FALSE;
    }
  release_all (txn);
  for (guint i = 0; txn->on_success != NULL && i < txn->on_success->len; i++)
    {
      Step *s = &g_array_index (txn->on_success, Step, i);
      s->func (txn->group, s->data);
    }
  return TRUE;
}

gboolean
qmgr_txn_commit (QmgrTxn *txn, QmgrSaveMode mode, GError **error)
{
  QmgrManager *m = txn->manager;
  QmgrGroup *g = txn->group;

  if (!save_or_undo (txn, mode, error))
    return FALSE;
  if (g == NULL)
    {
      if (txn->manager_changes != 0)
        qmgr_manager_emit_manager_changed (m, txn->manager_changes);
      txn_clear (txn);
      return TRUE;
    }
  collect_changes (txn);
  qmgr_manager_emit_group_changed (m, g, txn->group_changes);
  if (g->job != NULL)
    qmgr_manager_emit_job_changed (m, g->job, txn->job_changes);
  for (guint i = 0; txn->events != NULL && i < txn->events->len; i++)
    {
      Event *e = &g_array_index (txn->events, Event, i);
      qmgr_manager_emit_status_event (m, g, e->file_index, e->event);
    }
  if (g->state == QMGR_GROUP_STATE_QUEUED && txn->state != QMGR_GROUP_STATE_QUEUED)
    qmgr_manager_emit_runnable (m, g);
  else if (g->state != QMGR_GROUP_STATE_QUEUED && txn->state == QMGR_GROUP_STATE_QUEUED)
    qmgr_manager_emit_stopped (m, g);
  txn_clear (txn);
  return TRUE;
}

gboolean
qmgr_txn_commit_deferred (QmgrTxn *txn, QmgrSaveMode mode, QmgrCompletion *announcement,
                          GError **error)
{
  QmgrGroup *g = txn->group;

  memset (announcement, 0, sizeof *announcement);
  if (!save_or_undo (txn, mode, error))
    return FALSE;
  collect_changes (txn);
  announcement->group_id = g->id;
  announcement->job_id = g->job != NULL ? g->job->id : QMGR_GUID_NULL;
  announcement->group_changes = txn->group_changes;
  announcement->job_changes = txn->job_changes;
  for (guint i = 0; txn->events != NULL && i < txn->events->len; i++)
    {
      Event *e = &g_array_index (txn->events, Event, i);
      g_assert (announcement->n_events < G_N_ELEMENTS (announcement->events));
      announcement->events[announcement->n_events].file_index = e->file_index;
      announcement->events[announcement->n_events].event = e->event;
      announcement->n_events++;
    }
  announcement->stopped = g->state != QMGR_GROUP_STATE_QUEUED &&
                          txn->state == QMGR_GROUP_STATE_QUEUED;
  announcement->all_done = g->state == QMGR_GROUP_STATE_COMPLETE;
  txn_clear (txn);
  return TRUE;
}

void
qmgr_manager_announce_completion (QmgrManager *m, const QmgrCompletion *c)
{
  QmgrGroup *g = qmgr_manager_lookup_group (m, c->group_id);
  QmgrJob *j = qmgr_manager_lookup_job (m, c->job_id);

  if (g == NULL)
    return;   /* cancelled meanwhile: its removal was announced instead */
  /* The callbacks it queued may go now (and those after them). */
  for (guint i = 0; i < g->pending_notifications->len; i++)
    g_array_index (g->pending_notifications, QmgrPendingNotification, i).held = FALSE;
  if (j == NULL || j->group != g)
    return;
  qmgr_manager_emit_group_changed (m, g, c->group_changes);
  qmgr_manager_emit_job_changed (m, j, c->job_changes);
  for (guint i = 0; i < c->n_events; i++)
    qmgr_manager_emit_status_event (m, g, c->events[i].file_index, c->events[i].event);
  if (c->stopped)
    qmgr_manager_emit_stopped (m, g);
}
