/* qmgrd tests — the backend that moves nothing (see dummy-backend.h). Events
 * are delivered only by the test's calls, never from inside an op, as the
 * seam promises; delivering one the seam forbids (after a stop, say) is a
 * mistake of the test and aborts it. */
#include "dummy-backend.h"

struct _DummyBackend {
  QmgrBackend parent;
  GArray *ops;                /* DummyOp */
  GHashTable *items;          /* QmgrItemId* → DummyItem*, every item ever started */
  GPtrArray *order;           /* DummyItem*, in the order started */
  GString *violations;
};

static void
op_clear (gpointer data)
{
  DummyOp *op = data;

  g_free (op->url);
  g_free (op->dest_path);
  g_free (op->validator);
  g_free (op->user);
  g_free (op->password);
}

static DummyOp *
record (DummyBackend *b, DummyOpType type, QmgrItemId id)
{
  DummyOp op = { .type = type, .id = id };
  DummyItem *item = id != 0 ? dummy_backend_item (b, id) : NULL;

  op.live = item != NULL && item->state != DUMMY_ITEM_ENDED;
  g_array_append_val (b->ops, op);
  return &g_array_index (b->ops, DummyOp, b->ops->len - 1);
}

static void G_GNUC_PRINTF (2, 3)
violation (DummyBackend *b, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_string_append_vprintf (b->violations, format, args);
  va_end (args);
  g_string_append_c (b->violations, '\n');
}

static void
dummy_start (QmgrBackend *backend, const QmgrBackendRequest *req)
{
  DummyBackend *b = (DummyBackend *) backend;
  DummyOp *op = record (b, DUMMY_OP_START, req->id);
  DummyItem *item;

  op->owner = req->owner;
  op->url = g_strdup (req->url);
  op->dest_path = g_strdup (req->dest_path);
  op->job_id = req->job_id;
  op->index = req->index;
  op->validator = g_strdup (req->validator);
  op->user = g_strdup (req->user);
  op->password = g_strdup (req->password);
  op->stall_timeout = req->stall_timeout;
  op->background = req->background;
  op->budget = req->budget;

  item = dummy_backend_item (b, req->id);
  if (req->id == 0 || (item != NULL && item->state != DUMMY_ITEM_ENDED))
    {
      violation (b, "start: item id %" G_GUINT64_FORMAT " is in use", req->id);
      return;
    }
  /* An id may come back once its item ended (a new scheduler, say). */
  if (item != NULL)
    {
      g_ptr_array_remove (b->order, item);
      g_hash_table_remove (b->items, &req->id);
    }
  if (dummy_backend_find (b, req->job_id, req->index) != 0)
    violation (b, "start: file %u is being transferred already", req->index);
  item = g_new0 (DummyItem, 1);
  item->id = req->id;
  item->job_id = req->job_id;
  item->index = req->index;
  item->background = req->background;
  item->state = DUMMY_ITEM_TRANSFERRING;
  item->budget = req->budget;
  g_hash_table_insert (b->items, &item->id, item);
  g_ptr_array_add (b->order, item);
}

static void
dummy_response_done (QmgrBackend *backend, QmgrItemId id, gboolean ok)
{
  DummyBackend *b = (DummyBackend *) backend;
  DummyItem *item = dummy_backend_item (b, id);

  record (b, DUMMY_OP_RESPONSE_DONE, id)->ok = ok;
  if (item == NULL || item->state != DUMMY_ITEM_TRANSFERRING)
    violation (b, "response_done: item %" G_GUINT64_FORMAT " is not transferring", id);
}

static void
dummy_set_budget (QmgrBackend *backend, QmgrItemId id, gint64 budget)
{
  DummyBackend *b = (DummyBackend *) backend;
  DummyItem *item = dummy_backend_item (b, id);

  record (b, DUMMY_OP_SET_BUDGET, id)->budget = budget;
  if (item == NULL || item->state != DUMMY_ITEM_TRANSFERRING)
    {
      violation (b, "set_budget: item %" G_GUINT64_FORMAT " is not transferring", id);
      return;
    }
  /* As the engine does: the count starts again, and a positive (or no)
   * budget lets a waiting item write again. */
  item->budget = budget;
  item->budget_used = 0;
  if (budget > 0)
    item->granted += (guint64) budget;
  if (budget != 0)
    item->waiting_budget = FALSE;
}

static void
dummy_stop (QmgrBackend *backend, QmgrItemId id, gboolean discard)
{
  DummyBackend *b = (DummyBackend *) backend;
  DummyItem *item = dummy_backend_item (b, id);

  record (b, DUMMY_OP_STOP, id)->discard = discard;
  /* Unknown or ended items are ignored (backend.h); stopping one the backend
   * itself ended (a failure, a commit) is a message wasted, one that would
   * cross a process boundary for nothing in system mode. */
  if (item != NULL && item->state == DUMMY_ITEM_ENDED && !item->stopped)
    violation (b, "stop: item %" G_GUINT64_FORMAT " has ended already", id);
  if (item != NULL && item->state != DUMMY_ITEM_ENDED)
    {
      item->state = DUMMY_ITEM_ENDED;
      item->stopped = TRUE;
    }
}

static void
dummy_discard (QmgrBackend *backend, uid_t owner, const char *dest_path, QmgrGuid job_id,
               guint32 index)
{
  DummyBackend *b = (DummyBackend *) backend;
  DummyOp *op = record (b, DUMMY_OP_DISCARD, 0);

  op->owner = owner;
  op->dest_path = g_strdup (dest_path);
  op->job_id = job_id;
  op->index = index;
  if (dummy_backend_find (b, job_id, index) != 0)
    violation (b, "discard: file %u is still being transferred", index);
}

static void
dummy_set_background (QmgrBackend *backend, QmgrItemId id, gboolean background)
{
  DummyBackend *b = (DummyBackend *) backend;
  DummyItem *item = dummy_backend_item (b, id);

  record (b, DUMMY_OP_SET_BACKGROUND, id)->background = background;
  if (item == NULL || item->state != DUMMY_ITEM_TRANSFERRING)
    {
      violation (b, "set_background: item %" G_GUINT64_FORMAT " is not transferring", id);
      return;
    }
  item->background = background;
}

static void
dummy_sample (QmgrBackend *backend, QmgrItemId id)
{
  DummyBackend *b = (DummyBackend *) backend;
  DummyItem *item = dummy_backend_item (b, id);

  record (b, DUMMY_OP_SAMPLE, id);
  if (item == NULL || item->state != DUMMY_ITEM_TRANSFERRING)
    {
      violation (b, "sample: item %" G_GUINT64_FORMAT " is not transferring", id);
      return;
    }
  item->samples_owed++;
}

static void
dummy_free_op (QmgrBackend *backend)
{
  DummyBackend *b = (DummyBackend *) backend;

  g_array_unref (b->ops);
  g_hash_table_unref (b->items);
  g_ptr_array_unref (b->order);
  g_string_free (b->violations, TRUE);
  g_free (b);
}

static const QmgrBackendOps dummy_ops = {
  .start = dummy_start,
  .response_done = dummy_response_done,
  .set_budget = dummy_set_budget,
  .stop = dummy_stop,
  .discard = dummy_discard,
  .free = dummy_free_op,
  .set_background = dummy_set_background,
  .sample = dummy_sample,
};

DummyBackend *
dummy_backend_new (void)
{
  DummyBackend *b = g_new0 (DummyBackend, 1);

  b->parent.ops = &dummy_ops;
  b->ops = g_array_new (FALSE, TRUE, sizeof (DummyOp));
  g_array_set_clear_func (b->ops, op_clear);
  b->items = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  b->order = g_ptr_array_new ();
  b->violations = g_string_new ("");
  return b;
}

void
dummy_backend_free (DummyBackend *b)
{
  qmgr_backend_free (b != NULL ? &b->parent : NULL);
}

QmgrBackend *
dummy_backend_get (DummyBackend *b)
{
  return &b->parent;
}

/* ---- what the scheduler asked ---- */

guint
dummy_backend_n_ops (DummyBackend *b)
{
  return b->ops->len;
}

const DummyOp *
dummy_backend_op (DummyBackend *b, guint i)
{
  g_assert_cmpuint (i, <, b->ops->len);
  return &g_array_index (b->ops, DummyOp, i);
}

guint
dummy_backend_count_ops (DummyBackend *b, DummyOpType type)
{
  guint n = 0;

  for (guint i = 0; i < b->ops->len; i++)
    if (g_array_index (b->ops, DummyOp, i).type == type)
      n++;
  return n;
}

const DummyOp *
dummy_backend_last_op (DummyBackend *b, DummyOpType type)
{
  for (guint i = b->ops->len; i-- > 0;)
    if (g_array_index (b->ops, DummyOp, i).type == type)
      return &g_array_index (b->ops, DummyOp, i);
  return NULL;
}

void
dummy_backend_clear_ops (DummyBackend *b)
{
  g_array_set_size (b->ops, 0);
}

const char *
dummy_backend_violations (DummyBackend *b)
{
  return b->violations->str;
}

/* ---- items ---- */

DummyItem *
dummy_backend_item (DummyBackend *b, QmgrItemId id)
{
  return g_hash_table_lookup (b->items, &id);
}

QmgrItemId
dummy_backend_find (DummyBackend *b, QmgrGuid job_id, guint32 index)
{
  for (guint i = 0; i < b->order->len; i++)
    {
      DummyItem *item = g_ptr_array_index (b->order, i);
      if (item->state != DUMMY_ITEM_ENDED && item->index == index &&
          qmgr_guid_equal (item->job_id, job_id))
        return item->id;
    }
  return 0;
}

guint
dummy_backend_n_transferring (DummyBackend *b)
{
  guint n = 0;

  for (guint i = 0; i < b->order->len; i++)
    if (((DummyItem *) g_ptr_array_index (b->order, i))->state == DUMMY_ITEM_TRANSFERRING)
      n++;
  return n;
}

QmgrItemId
dummy_backend_nth_transferring (DummyBackend *b, guint n)
{
  for (guint i = 0; i < b->order->len; i++)
    {
      DummyItem *item = g_ptr_array_index (b->order, i);
      if (item->state == DUMMY_ITEM_TRANSFERRING && n-- == 0)
        return item->id;
    }
  return 0;
}

/* ---- events ---- */

/* The item an event is about, in the state the seam allows it in. */
static DummyItem *
event_item (DummyBackend *b, QmgrItemId id, DummyItemState state)
{
  DummyItem *item = dummy_backend_item (b, id);

  g_assert_nonnull (b->parent.events);
  g_assert_nonnull (item);
  g_assert_cmpint (item->state, ==, state);
  return item;
}

void
dummy_backend_started (DummyBackend *b, QmgrItemId id, guint64 bytes_in_file)
{
  DummyItem *item = event_item (b, id, DUMMY_ITEM_TRANSFERRING);

  item->bytes_in_file = bytes_in_file;
  b->parent.events->started (id, bytes_in_file, b->parent.events_data);
}

gboolean
dummy_backend_response (DummyBackend *b, QmgrItemId id, guint64 bytes_total,
                        const char *validator)
{
  guint before = b->ops->len;
  const DummyOp *op;

  event_item (b, id, DUMMY_ITEM_TRANSFERRING);
  b->parent.events->response (id, bytes_total, validator, b->parent.events_data);
  op = dummy_backend_last_op (b, DUMMY_OP_RESPONSE_DONE);
  g_assert_cmpuint (b->ops->len, >, before);
  g_assert_nonnull (op);
  g_assert_cmpuint (op->id, ==, id);
  return op->ok;
}

void
dummy_backend_progress (DummyBackend *b, QmgrItemId id, guint64 bytes_in_file)
{
  DummyItem *item = event_item (b, id, DUMMY_ITEM_TRANSFERRING);

  item->bytes_in_file = bytes_in_file;
  b->parent.events->progress (id, bytes_in_file, b->parent.events_data);
}

gsize
dummy_backend_write (DummyBackend *b, QmgrItemId id, gsize len)
{
  DummyItem *item = event_item (b, id, DUMMY_ITEM_TRANSFERRING);

  if (item->waiting_budget)
    return 0;
  if (item->budget != QMGR_BUDGET_UNLIMITED && item->budget <= 0)
    {
      item->waiting_budget = TRUE;
      b->parent.events->budget_spent (id, item->budget_used, b->parent.events_data);
      return 0;
    }
  if (item->budget != QMGR_BUDGET_UNLIMITED)
    {
      item->budget -= (gint64) len;
      item->budget_used += len;
    }
  dummy_backend_progress (b, id, item->bytes_in_file + len);
  return len;
}

void
dummy_backend_done (DummyBackend *b, QmgrItemId id, const QmgrBackendResult *result)
{
  DummyItem *item = event_item (b, id, DUMMY_ITEM_TRANSFERRING);

  item->state = result->outcome == QMGR_BACKEND_OK ? DUMMY_ITEM_COMMITTING : DUMMY_ITEM_ENDED;
  item->bytes_total = result->bytes_total;
  b->parent.events->done (id, result, b->parent.events_data);
}

void
dummy_backend_done_ok (DummyBackend *b, QmgrItemId id, guint64 bytes_total)
{
  QmgrBackendResult r = { .outcome = QMGR_BACKEND_OK, .bytes_total = bytes_total };

  dummy_backend_done (b, id, &r);
}

void
dummy_backend_fail (DummyBackend *b, QmgrItemId id, QmgrBackendOutcome outcome,
                    QmgrTransferError code, guint32 retry_after)
{
  g_autofree char *message = g_strdup_printf ("simulated failure %d of item %" G_GUINT64_FORMAT,
                                              (int) code, id);
  QmgrBackendResult r = {
    .outcome = outcome,
    .error = code,
    .message = message,
    .http_status = code != QMGR_TRANSFER_ERROR_HTTP_STATUS ? 0
                   : outcome == QMGR_BACKEND_FATAL ? 404 : 503,
    .retry_after = retry_after,
  };

  g_assert_cmpint (outcome, !=, QMGR_BACKEND_OK);
  dummy_backend_done (b, id, &r);
}

void
dummy_backend_committed (DummyBackend *b, QmgrItemId id, const QmgrBackendResult *result)
{
  DummyItem *item = event_item (b, id, DUMMY_ITEM_COMMITTING);

  item->state = DUMMY_ITEM_ENDED;
  b->parent.events->committed (id, result, b->parent.events_data);
}

void
dummy_backend_committed_ok (DummyBackend *b, QmgrItemId id)
{
  QmgrBackendResult r = { .outcome = QMGR_BACKEND_OK };

  g_assert_nonnull (dummy_backend_item (b, id));
  r.bytes_total = dummy_backend_item (b, id)->bytes_total;
  dummy_backend_committed (b, id, &r);
}

void
dummy_backend_commits_settled (DummyBackend *b)
{
  g_assert_nonnull (b->parent.events);
  b->parent.events->commits_settled (b->parent.events_data);
}

void
dummy_backend_finish (DummyBackend *b, QmgrItemId id, guint64 bytes_total)
{
  dummy_backend_done_ok (b, id, bytes_total);
  dummy_backend_committed_ok (b, id);
  dummy_backend_commits_settled (b);
}

void
dummy_backend_path_sample (DummyBackend *b, QmgrItemId id, guint32 rtt_us,
                           guint64 bytes_received, gboolean local)
{
  DummyItem *item = event_item (b, id, DUMMY_ITEM_TRANSFERRING);
  QmgrPathSample sample = { .rtt_us = rtt_us, .bytes_received = bytes_received, .local = local };

  g_assert_cmpuint (item->samples_owed, >, 0);
  item->samples_owed--;
  b->parent.events->path_sample (id, &sample, b->parent.events_data);
}

guint
dummy_backend_samples_owed (DummyBackend *b)
{
  guint n = 0;

  for (guint i = 0; i < b->order->len; i++)
    {
      DummyItem *item = g_ptr_array_index (b->order, i);
      if (item->state == DUMMY_ITEM_TRANSFERRING)
        n += item->samples_owed;
    }
  return n;
}
