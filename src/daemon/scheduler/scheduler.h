/* qmgrd scheduler — policy only: which files transfer now (foreground groups
 * first and at once, background groups in the order they were resumed, at
 * most MaxConcurrentTransfers in all), what waits for the network or for a
 * cheaper one, back-off after transient failures, NoProgressTimeout, and the
 * rates (budgets handed to the backend from token buckets). Listens to the
 * core; moves no byte itself: the backend (backend.h) does. */
#pragma once

#include "backend.h"
#include "manager.h"
#include "pacer.h"

G_BEGIN_DECLS

typedef struct _QmgrScheduler QmgrScheduler;

/* Takes over every group that is queued already (restored from the store).
 * @clock times retries, pacing and announcements (tests pass one they move). */
QmgrScheduler *qmgr_scheduler_new (QmgrManager *manager, QmgrBackend *backend, QmgrClock *clock);
/* Makes background work yield to other traffic (pacer.h); the scheduler
 * owns @pacer from now on. Without one, background work obeys the limits
 * alone. */
void qmgr_scheduler_set_pacer (QmgrScheduler *scheduler, QmgrPacer *pacer);
/* Stops every transfer (temp files stay for the next start). */
void qmgr_scheduler_free (QmgrScheduler *scheduler);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrScheduler, qmgr_scheduler_free)

/* Back-off in seconds before retry @n (1-based) of a group whose
 * MinimumRetryDelay is @minimum_s; @jitter in [0, 1) spreads retries. Exposed
 * for tests. */
guint64 qmgr_scheduler_retry_delay (guint32 minimum_s, guint32 n, double jitter);

G_END_DECLS
