/* qmgrd backend — the seam's calls, dispatched to the backend in use. */
#include "backend.h"

void
qmgr_backend_set_events (QmgrBackend *b, const QmgrBackendEvents *events, gpointer user_data)
{
  b->events = events;
  b->events_data = user_data;
}

void
qmgr_backend_start (QmgrBackend *b, const QmgrBackendRequest *request)
{
  b->ops->start (b, request);
}

void
qmgr_backend_response_done (QmgrBackend *b, QmgrItemId id, gboolean ok)
{
  b->ops->response_done (b, id, ok);
}

void
qmgr_backend_set_budget (QmgrBackend *b, QmgrItemId id, gint64 budget)
{
  b->ops->set_budget (b, id, budget);
}

void
qmgr_backend_stop (QmgrBackend *b, QmgrItemId id, gboolean discard)
{
  b->ops->stop (b, id, discard);
}

void
qmgr_backend_discard (QmgrBackend *b, uid_t owner, const char *dest_path, QmgrGuid job_id,
                      guint32 index)
{
  b->ops->discard (b, owner, dest_path, job_id, index);
}

void
qmgr_backend_set_background (QmgrBackend *b, QmgrItemId id, gboolean background)
{
  b->ops->set_background (b, id, background);
}

void
qmgr_backend_sample (QmgrBackend *b, QmgrItemId id)
{
  b->ops->sample (b, id);
}

void
qmgr_backend_free (QmgrBackend *b)
{
  if (b != NULL)
    b->ops->free (b);
}
