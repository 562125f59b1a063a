/* qmgrd scheduler — what scheduler.c (choosing, outcomes, the core's
 * events) and rates.c (budgets, the pacer's rate) share. Not for other
 * layers. */
#pragma once

#include "pacer.h"
#include "scheduler.h"
#include "token-bucket.h"

G_BEGIN_DECLS

typedef struct {
  QmgrScheduler *scheduler;
  QmgrItemId id;
  QmgrGroup *group;
  QmgrJob *job;
  guint index;
  QmgrFile *file;
  gboolean committing;      /* transferred; the backend makes it durable */
  gboolean paced;           /* its bytes are budgeted */
  gboolean background;      /* as the backend was told: it yields (the pacer watches it) */
  gint64 granted;           /* the last budget, already taken from the buckets */
  guint grant_timer;        /* waiting for tokens */
  guint64 bytes_total;      /* once transferred */
} Active;

typedef struct {
  QmgrScheduler *scheduler;
  QmgrGroup *group;
  guint retry_timer;        /* waiting for a retry */
  gint64 last_progress;     /* monotonic µs */
  guint cursor;             /* files before it are complete */
  guint64 turn;             /* when it joined the queue: later ones yield first */
  QmgrTokenBucket bucket;   /* the group's own BandwidthLimit */
} GroupState;

struct _QmgrScheduler {
  QmgrManager *manager;
  QmgrBackend *backend;
  QmgrClock *clock;
  GQueue queue;             /* QmgrGroup*, runnable, in the order resumed */
  GHashTable *states;       /* QmgrGroup* → GroupState* */
  GHashTable *items;        /* QmgrItemId* → Active*: transferring or committing */
  GHashTable *by_file;      /* QmgrFile* → Active* */
  guint n_transferring;
  QmgrItemId next_id;
  guint64 next_turn;
  GArray *completions;      /* QmgrCompletion: recorded, not yet announced */
  guint announce_timer;
  guint schedule_timer;
  QmgrTokenBucket background_bucket;  /* the manager's limits and the pacer's on background work */
  QmgrPacer *pacer;         /* NULL: background work obeys the limits alone */
};

/* scheduler.c */
gint64 qmgr_sched_now (QmgrScheduler *s);
GroupState *qmgr_sched_group_state (QmgrScheduler *s, QmgrGroup *g);
Active *qmgr_sched_active_lookup (QmgrScheduler *s, QmgrItemId id);

/* rates.c */
/* The rate of all background work together; 0: none. */
guint64 qmgr_sched_background_limit (QmgrScheduler *s);
/* Whether the group's bytes are budgeted. */
gboolean qmgr_sched_is_paced (QmgrScheduler *s, QmgrGroup *g);
/* Limits changed: items now paced ask for budgets, items no longer paced
 * get an unlimited one. */
void qmgr_sched_repace (QmgrScheduler *s);
/* The backend's budget_spent event. */
void qmgr_sched_on_budget_spent (QmgrItemId id, guint64 used, gpointer user_data);
/* The group may have been switched to the foreground. */
void qmgr_sched_follow_foreground (QmgrScheduler *s, QmgrGroup *g);

G_END_DECLS
