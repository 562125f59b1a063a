/* qmgrd transfer — the backend of session mode: the transfer seam
 * (backend.h) served in the daemon itself, with the libcurl engine, temp
 * files and the commit queue (files/).
 *
 * What the engine and the commit queue report is queued as events and handed
 * to the scheduler from a source of its own, after libcurl's callbacks have
 * returned, so that the scheduler never runs inside them and may call the
 * seam back at once. Progress of an item is coalesced: one event carries its
 * latest count. A sample of an item's connection is taken when asked for, and
 * reported the same way. */
#include "local-backend.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "commit.h"
#include "engine.h"
#include "qmgr-constants.h"
#include "qmgr-io.h"
#include "tempfile.h"

/* A server whose file keeps changing under us is retried later. */
#define MAX_RESTARTS_IN_A_ROW 3

typedef enum {
  EVENT_STARTED,
  EVENT_RESPONSE,
  EVENT_PROGRESS,
  EVENT_BUDGET_SPENT,
  EVENT_DONE,
  EVENT_COMMITTED,
  EVENT_COMMITS_SETTLED,
  EVENT_PATH_SAMPLE,
} EventKind;

typedef struct {
  EventKind kind;
  QmgrItemId id;
  guint64 value;              /* bytes in the file, size, or budget used */
  char *validator;
  QmgrBackendResult result;   /* its message is owned (message below) */
  char *message;
  QmgrPathSample sample;
} Event;

typedef struct _LocalBackend LocalBackend;

typedef struct {
  LocalBackend *backend;
  QmgrItemId id;
  char *url;
  char *user;
  char *password;
  guint stall_timeout;
  QmgrTempFile *temp;
  QmgrTransfer *transfer;     /* NULL once done */
  guint restarts;
  gint64 budget;
  gboolean background;
  gboolean committing;        /* the commit queue holds the temp file */
  Event *progress;            /* its queued progress event, updated in place */
} Item;

typedef struct {
  GSource source;
  LocalBackend *backend;
} FlushSource;

struct _LocalBackend {
  QmgrBackend parent;
  QmgrTransferEngine *engine;
  QmgrCommitQueue *commits;
  GHashTable *items;          /* QmgrItemId* → Item* */
  GQueue events;              /* Event*, oldest first */
  GSource *flush;
};

static void
event_free (Event *e)
{
  g_free (e->validator);
  g_free (e->message);
  g_free (e);
}

static Event *
queue_event (LocalBackend *b, EventKind kind, QmgrItemId id)
{
  Event *e = g_new0 (Event, 1);
  Item *item = g_hash_table_lookup (b->items, &id);

  e->kind = kind;
  e->id = id;
  /* Coalesced progress stays before this: later bytes make a new event. */
  if (item != NULL)
    item->progress = NULL;
  g_queue_push_tail (&b->events, e);
  g_source_set_ready_time (b->flush, 0);
  return e;
}

static void
queue_result (LocalBackend *b, EventKind kind, QmgrItemId id, const QmgrBackendResult *r)
{
  Event *e = queue_event (b, kind, id);

  e->result = *r;
  e->message = g_strdup (r->message);
  e->result.message = e->message;
}

static void
item_free (Item *item)
{
  qmgr_transfer_cancel (item->transfer);
  qmgr_temp_file_free (item->temp);
  g_free (item->url);
  g_free (item->user);
  if (item->password != NULL)
    explicit_bzero (item->password, strlen (item->password));
  g_free (item->password);
  g_free (item);
}

/* No event of the item is delivered after it ends early. */
static void
drop_events_of (LocalBackend *b, QmgrItemId id)
{
  for (GList *l = b->events.head, *next; l != NULL; l = next)
    {
      Event *e = l->data;
      next = l->next;
      if (e->kind != EVENT_COMMITS_SETTLED && e->id == id)
        {
          event_free (e);
          g_queue_delete_link (&b->events, l);
        }
    }
}

/* Ends the item: its transfer stops, its temp file is closed. */
static void
forget_item (LocalBackend *b, Item *item)
{
  g_hash_table_remove (b->items, &item->id);   /* item_free */
}

/* ---- the engine's callbacks (inside libcurl's: they only queue) ---- */

static void
on_response (QmgrTransfer *t, guint64 bytes_total, const char *validator, gboolean restarted,
             gpointer user_data)
{
  Item *item = user_data;
  Event *e;

  if (restarted)
    queue_event (item->backend, EVENT_PROGRESS, item->id);   /* value 0: from byte 0 */
  e = queue_event (item->backend, EVENT_RESPONSE, item->id);
  e->value = bytes_total;
  e->validator = g_strdup (validator);
}

static void
on_progress (QmgrTransfer *t, guint64 bytes_in_file, gpointer user_data)
{
  Item *item = user_data;

  if (item->progress == NULL)
    item->progress = queue_event (item->backend, EVENT_PROGRESS, item->id);
  item->progress->value = bytes_in_file;
}

static void
on_budget_spent (QmgrTransfer *t, guint64 used, gpointer user_data)
{
  Item *item = user_data;

  queue_event (item->backend, EVENT_BUDGET_SPENT, item->id)->value = used;
}

static void start_transfer (Item *item, const char *validator);

static void
on_done (QmgrTransfer *t, const QmgrTransferResult *r, gpointer user_data)
{
  Item *item = user_data;
  LocalBackend *b = item->backend;
  QmgrBackendResult result = {
    .outcome = r->outcome == QMGR_TRANSFER_FATAL ? QMGR_BACKEND_FATAL : QMGR_BACKEND_TRANSIENT,
    .error = r->error,
    .message = r->message,
    .win32_result = r->win32_result,
    .http_status = r->http_status,
    .retry_after = r->retry_after,
    .bytes_total = r->bytes_total,
  };

  item->transfer = NULL;   /* the engine frees it after this */
  switch (r->outcome)
    {
    case QMGR_TRANSFER_OK:
      /* Made durable and put in place with the others that finish meanwhile. */
      result.outcome = QMGR_BACKEND_OK;
      item->committing = TRUE;
      qmgr_commit_queue_add (b->commits, g_steal_pointer (&item->temp), r->last_modified, item);
      queue_result (b, EVENT_DONE, item->id, &result);
      return;

    case QMGR_TRANSFER_RESTART:
      if (item->restarts < MAX_RESTARTS_IN_A_ROW && qmgr_temp_file_truncate (item->temp, NULL))
        {
          /* The server's file changed: start again from byte 0, now. */
          item->restarts++;
          queue_event (b, EVENT_PROGRESS, item->id);
          start_transfer (item, NULL);
          return;
        }
      break;

    case QMGR_TRANSFER_FATAL:
      /* A body of no announced size that filled the disk: its bytes go, so
       * that the disk does not stay full (the engine's classification). */
      if (r->error == QMGR_TRANSFER_ERROR_LOCAL_FILE && r->bytes_total == QMGR_SIZE_UNKNOWN &&
          (r->win32_result == ENOSPC || r->win32_result == EDQUOT) && item->temp != NULL &&
          unlinkat (item->temp->dir_fd, item->temp->name, 0) < 0)
        g_message ("Could not remove %s: %s", item->temp->name, g_strerror (errno));
      break;

    case QMGR_TRANSFER_TRANSIENT:
    default:
      break;
    }
  queue_result (b, EVENT_DONE, item->id, &result);
  forget_item (b, item);
}

static const QmgrTransferCallbacks transfer_callbacks = {
  .response = on_response,
  .progress = on_progress,
  .budget_spent = on_budget_spent,
  .done = on_done,
};

static void
start_transfer (Item *item, const char *validator)
{
  QmgrTransferRequest req = {
    .url = item->url,
    .fd = item->temp->fd,
    .offset = item->temp->size,
    .validator = validator,
    .user = item->user,
    .password = item->password,
    .stall_timeout = item->stall_timeout,
    .budget = item->budget,
    .background = item->background,
  };

  item->transfer = qmgr_transfer_start (item->backend->engine, &req, &transfer_callbacks, item);
}

/* ---- the commit queue's callbacks ---- */

static void
on_committed (gpointer data, const GError *error, gpointer user_data)
{
  Item *item = data;
  LocalBackend *b = user_data;
  QmgrBackendResult result = { .outcome = QMGR_BACKEND_OK };

  if (error != NULL)
    {
      int err = qmgr_io_error_errno (error);
      result.outcome = qmgr_io_errno_is_transient (err) ? QMGR_BACKEND_TRANSIENT
                                                         : QMGR_BACKEND_FATAL;
      result.error = QMGR_TRANSFER_ERROR_LOCAL_FILE;
      result.message = error->message;
      result.win32_result = (guint32) err;
    }
  queue_result (b, EVENT_COMMITTED, item->id, &result);
  forget_item (b, item);   /* the queue freed the temp file */
}

static void
on_commit_batch_end (gpointer user_data)
{
  LocalBackend *b = user_data;

  queue_event (b, EVENT_COMMITS_SETTLED, 0);
}

/* ---- events out ---- */

static void
deliver (LocalBackend *b, Event *e)
{
  const QmgrBackendEvents *ev = b->parent.events;
  gpointer data = b->parent.events_data;
  Item *item = g_hash_table_lookup (b->items, &e->id);

  if (item != NULL && item->progress == e)
    item->progress = NULL;
  switch (e->kind)
    {
    case EVENT_STARTED:
      ev->started (e->id, e->value, data);
      break;
    case EVENT_RESPONSE:
      ev->response (e->id, e->value, e->validator, data);
      break;
    case EVENT_PROGRESS:
      ev->progress (e->id, e->value, data);
      break;
    case EVENT_BUDGET_SPENT:
      ev->budget_spent (e->id, e->value, data);
      break;
    case EVENT_DONE:
      ev->done (e->id, &e->result, data);
      break;
    case EVENT_COMMITTED:
      ev->committed (e->id, &e->result, data);
      break;
    case EVENT_COMMITS_SETTLED:
      ev->commits_settled (data);
      break;
    case EVENT_PATH_SAMPLE:
      ev->path_sample (e->id, &e->sample, data);
      break;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
flush_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  LocalBackend *b = ((FlushSource *) source)->backend;
  Event *e;

  g_source_set_ready_time (source, -1);
  /* The scheduler may queue more (a restart) or drop some (a stop) meanwhile:
   * one at a time off the head. */
  while ((e = g_queue_pop_head (&b->events)) != NULL)
    {
      deliver (b, e);
      event_free (e);
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs flush_funcs = {
  .dispatch = flush_dispatch,
};

/* ---- the seam ---- */

static void
local_start (QmgrBackend *backend, const QmgrBackendRequest *req)
{
  LocalBackend *b = (LocalBackend *) backend;
  g_autoptr(GError) error = NULL;
  char hex[QMGR_GUID_HEX_LEN + 1];
  Item *item = g_new0 (Item, 1);

  item->backend = b;
  item->id = req->id;
  item->url = g_strdup (req->url);
  item->user = g_strdup (req->user);
  item->password = g_strdup (req->password);
  item->stall_timeout = req->stall_timeout;
  item->budget = req->budget;
  item->background = req->background;
  g_hash_table_insert (b->items, &item->id, item);

  qmgr_guid_to_hex (req->job_id, hex);
  item->temp = qmgr_temp_file_open (req->dest_path, hex, req->index, &error);
  if (item->temp == NULL)
    {
      int err = qmgr_io_error_errno (error);
      QmgrBackendResult r = {
        .outcome = qmgr_io_errno_is_transient (err) ? QMGR_BACKEND_TRANSIENT : QMGR_BACKEND_FATAL,
        .error = QMGR_TRANSFER_ERROR_LOCAL_FILE,
        .message = error->message,
        .win32_result = (guint32) err,
      };
      queue_result (b, EVENT_DONE, item->id, &r);
      forget_item (b, item);
      return;
    }
  /* Without a validator the bytes kept could be of another version. */
  queue_event (b, EVENT_STARTED, item->id)->value = req->validator != NULL ? item->temp->size : 0;
  start_transfer (item, req->validator);
}

static void
local_response_done (QmgrBackend *backend, QmgrItemId id, gboolean ok)
{
  LocalBackend *b = (LocalBackend *) backend;
  Item *item = g_hash_table_lookup (b->items, &id);

  if (item != NULL)
    qmgr_transfer_continue (item->transfer, ok);
}

static void
local_set_budget (QmgrBackend *backend, QmgrItemId id, gint64 budget)
{
  LocalBackend *b = (LocalBackend *) backend;
  Item *item = g_hash_table_lookup (b->items, &id);

  if (item == NULL)
    return;
  item->budget = budget;
  qmgr_transfer_set_budget (item->transfer, budget);
}

static void
local_set_background (QmgrBackend *backend, QmgrItemId id, gboolean background)
{
  LocalBackend *b = (LocalBackend *) backend;
  Item *item = g_hash_table_lookup (b->items, &id);

  if (item == NULL)
    return;
  item->background = background;   /* for a restart too */
  qmgr_transfer_set_background (item->transfer, background);
}

static void
local_sample (QmgrBackend *backend, QmgrItemId id)
{
  LocalBackend *b = (LocalBackend *) backend;
  Item *item = g_hash_table_lookup (b->items, &id);
  QmgrTransferSample sample;
  Event *e;

  if (item == NULL)
    return;
  /* Taken now; reported from the main loop, as every event. Committing:
   * zeros. */
  qmgr_transfer_sample (item->transfer, &sample);
  e = queue_event (b, EVENT_PATH_SAMPLE, id);
  e->sample.rtt_us = sample.rtt_us;
  e->sample.bytes_received = sample.bytes_received;
  e->sample.local = sample.local;
}

static void
local_stop (QmgrBackend *backend, QmgrItemId id, gboolean discard)
{
  LocalBackend *b = (LocalBackend *) backend;
  Item *item = g_hash_table_lookup (b->items, &id);

  drop_events_of (b, id);
  if (item == NULL)
    return;
  if (item->committing)
    qmgr_commit_queue_cancel (b->commits, item);   /* frees the temp file */
  else if (discard && item->temp != NULL)
    unlinkat (item->temp->dir_fd, item->temp->name, 0);
  forget_item (b, item);
}

static void
local_discard (QmgrBackend *backend, uid_t owner, const char *dest_path, QmgrGuid job_id,
               guint32 index)
{
  char hex[QMGR_GUID_HEX_LEN + 1];

  qmgr_guid_to_hex (job_id, hex);
  qmgr_temp_file_remove (dest_path, hex, index);
}

static void
local_free (QmgrBackend *backend)
{
  LocalBackend *b = (LocalBackend *) backend;

  /* Transfers stop; files not yet in place stay as temp files for the next start. */
  g_hash_table_unref (b->items);
  qmgr_commit_queue_free (b->commits);
  qmgr_transfer_engine_free (b->engine);
  g_queue_clear_full (&b->events, (GDestroyNotify) event_free);
  g_source_destroy (b->flush);
  g_source_unref (b->flush);
  g_free (b);
}

static const QmgrBackendOps local_ops = {
  .start = local_start,
  .response_done = local_response_done,
  .set_budget = local_set_budget,
  .stop = local_stop,
  .discard = local_discard,
  .free = local_free,
  .set_background = local_set_background,
  .sample = local_sample,
};

static guint
item_id_hash (gconstpointer key)
{
  return g_int64_hash (key);
}

QmgrBackend *
qmgr_local_backend_new (GError **error)
{
  g_autoptr(QmgrTransferEngine) engine = qmgr_transfer_engine_new (error);
  LocalBackend *b;

  if (engine == NULL)
    return NULL;
  b = g_new0 (LocalBackend, 1);
  b->parent.ops = &local_ops;
  b->engine = g_steal_pointer (&engine);
  b->items = g_hash_table_new_full (item_id_hash, g_int64_equal, NULL, (GDestroyNotify) item_free);
  b->commits = qmgr_commit_queue_new (on_committed, b);
  qmgr_commit_queue_set_batch_hooks (b->commits, NULL, on_commit_batch_end);
  g_queue_init (&b->events);
  b->flush = g_source_new (&flush_funcs, sizeof (FlushSource));
  ((FlushSource *) b->flush)->backend = b;
  g_source_set_name (b->flush, "qmgrd-backend-events");
  g_source_attach (b->flush, g_main_context_get_thread_default ());
  return &b->parent;
}
