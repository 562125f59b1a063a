/* qmgrd unit tests — the scheduler's fixture: the real scheduler and core on a
 * dummy backend and a clock moved by hand, and the helpers its tests share.
 * No bus, no network, no files; simulated hours take microseconds. */
#pragma once

#include <glib.h>

#include "dummy-backend.h"
#include "scheduler.h"
#include "unit-common.h"

G_BEGIN_DECLS

#define SEC G_GINT64_CONSTANT (1000000)

/* A status event (OnStatus) the manager announced. */
typedef struct {
  QmgrGroup *group;
  guint32 file_index;
  QmgrStatusEvent event;
  guint syncs_before;         /* store syncs when it was heard */
} SchedHeardEvent;

typedef struct {
  UnitFakeStore fake;         /* first: the fake hooks take it for theirs */
  guint syncs;
} SchedCountingStore;

typedef struct {
  DummyClock *clock;
  QmgrManager *manager;
  DummyBackend *backend;
  QmgrScheduler *scheduler;
  GArray *heard;              /* SchedHeardEvent */
  SchedCountingStore store;   /* for a test that attaches it */
} SchedFixture;

void sched_fixture_setup (SchedFixture *f, gconstpointer data);
/* Checks that the backend saw no call against the seam's rules and that the
 * scheduler left no transfer and no timer behind. */
void sched_fixture_teardown (SchedFixture *f, gconstpointer data);

gint64 sched_mono (SchedFixture *f);
/* Runs what the scheduler deferred (it works from idle timers). */
void sched_run (SchedFixture *f);

/* A suspended background group with a job of @n_files files. */
QmgrGroup *sched_new_group (SchedFixture *f, guint n_files);
QmgrGroup *sched_foreground_group (SchedFixture *f, guint n_files);
void sched_resume (QmgrGroup *g);
/* A new group, resumed, and the scheduler run. */
QmgrGroup *sched_running_group (SchedFixture *f, guint n_files);

void sched_set_max (SchedFixture *f, guint32 max_concurrent_transfers);
void sched_set_network (SchedFixture *f, gboolean online, QmgrConnectivity connectivity,
                        guint32 cost_state);
void sched_set_policy (QmgrGroup *g, guint32 transfer_policy);
void sched_set_retry (QmgrGroup *g, guint32 minimum_retry_delay, guint32 no_progress_timeout);

/* The item transferring or committing file @index of @g, or 0. */
QmgrItemId sched_item_of (SchedFixture *f, QmgrGroup *g, guint32 index);
/* Ops of @type about @g's job (every job: NULL). */
guint sched_n_ops (SchedFixture *f, DummyOpType type, QmgrGroup *g);
guint sched_n_starts (SchedFixture *f, QmgrGroup *g);
const char *sched_wait_reason (QmgrGroup *g);

/* Moves the clock on timer by timer until @g is started again or @limit_us
 * has passed; returns the µs it took, or -1 (the clock then is @limit_us on). */
gint64 sched_time_to_start (SchedFixture *f, QmgrGroup *g, gint64 limit_us);
/* A transient failure (ConnectionFailed) of item @id. */
void sched_fail_transient (SchedFixture *f, QmgrItemId id, guint32 retry_after);

G_END_DECLS
