/* qmgrd tests — a transfer backend (backend.h) that moves nothing: it records
 * every call made through the seam, keeps the state a real backend would
 * (items, budgets), and delivers an event only when a test says so. */
#pragma once

#include "backend.h"

G_BEGIN_DECLS

typedef enum {
  DUMMY_OP_START,
  DUMMY_OP_RESPONSE_DONE,
  DUMMY_OP_SET_BUDGET,
  DUMMY_OP_STOP,
  DUMMY_OP_DISCARD,
  DUMMY_OP_SET_BACKGROUND,
  DUMMY_OP_SAMPLE,
} DummyOpType;

/* One call, with what it was given (strings copied). */
typedef struct {
  DummyOpType type;
  QmgrItemId id;              /* 0 for DISCARD */
  gboolean live;              /* the item was transferring or committing then */
  uid_t owner;                /* START, DISCARD */
  char *url;                  /* START */
  char *dest_path;            /* START, DISCARD */
  QmgrGuid job_id;            /* START, DISCARD */
  guint32 index;              /* START, DISCARD */
  char *validator;            /* START */
  char *user;                 /* START */
  char *password;             /* START */
  guint stall_timeout;        /* START */
  gboolean background;        /* START, SET_BACKGROUND */
  gint64 budget;              /* START: the first budget; SET_BUDGET */
  gboolean ok;                /* RESPONSE_DONE */
  gboolean discard;           /* STOP */
} DummyOp;

typedef enum {
  DUMMY_ITEM_TRANSFERRING,
  DUMMY_ITEM_COMMITTING,      /* done OK; committed follows */
  DUMMY_ITEM_ENDED,           /* stopped, failed or committed */
} DummyItemState;

typedef struct {
  QmgrItemId id;
  QmgrGuid job_id;
  guint32 index;
  gboolean background;
  DummyItemState state;
  gboolean stopped;           /* ended by a stop op */
  gint64 budget;              /* left to write (QMGR_BUDGET_UNLIMITED: no limit) */
  guint64 budget_used;        /* written since the budget was set */
  gboolean waiting_budget;    /* budget_spent was reported, no budget came since */
  guint64 granted;            /* sum of the positive budgets it was given */
  guint64 bytes_in_file;
  guint64 bytes_total;        /* as done OK said */
  guint samples_owed;         /* sample ops not answered yet */
} DummyItem;

typedef struct _DummyBackend DummyBackend;

DummyBackend *dummy_backend_new (void);
void dummy_backend_free (DummyBackend *backend);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DummyBackend, dummy_backend_free)
QmgrBackend *dummy_backend_get (DummyBackend *backend);

/* ---- what the scheduler asked ---- */

guint dummy_backend_n_ops (DummyBackend *backend);
const DummyOp *dummy_backend_op (DummyBackend *backend, guint i);
guint dummy_backend_count_ops (DummyBackend *backend, DummyOpType type);
/* The last op of @type, or NULL. */
const DummyOp *dummy_backend_last_op (DummyBackend *backend, DummyOpType type);
/* Forgets the ops recorded so far (items stay). */
void dummy_backend_clear_ops (DummyBackend *backend);
/* Calls that break the seam's rules (a file started twice at once, a budget
 * for an item that is not transferring, ...), one a line; "" when none. */
const char *dummy_backend_violations (DummyBackend *backend);

/* ---- items ---- */

DummyItem *dummy_backend_item (DummyBackend *backend, QmgrItemId id);
/* The item transferring or committing file @index of @job_id, or 0. */
QmgrItemId dummy_backend_find (DummyBackend *backend, QmgrGuid job_id, guint32 index);
guint dummy_backend_n_transferring (DummyBackend *backend);
/* The @n-th transferring item in the order they were started, or 0. */
QmgrItemId dummy_backend_nth_transferring (DummyBackend *backend, guint n);

/* ---- events, delivered now ---- */

void dummy_backend_started (DummyBackend *backend, QmgrItemId id, guint64 bytes_in_file);
/* Returns what response_done said (it must come at once). */
gboolean dummy_backend_response (DummyBackend *backend, QmgrItemId id, guint64 bytes_total,
                                 const char *validator);
void dummy_backend_progress (DummyBackend *backend, QmgrItemId id, guint64 bytes_in_file);
/* One write of @len bytes from the server, as the engine does it: written
 * (progress) while budget is left, a write may overshoot it; when none is
 * left budget_spent is reported once and nothing is written. Returns the
 * bytes written. */
gsize dummy_backend_write (DummyBackend *backend, QmgrItemId id, gsize len);
void dummy_backend_done (DummyBackend *backend, QmgrItemId id, const QmgrBackendResult *result);
void dummy_backend_done_ok (DummyBackend *backend, QmgrItemId id, guint64 bytes_total);
/* A failure with @code (and a message naming it). */
void dummy_backend_fail (DummyBackend *backend, QmgrItemId id, QmgrBackendOutcome outcome,
                         QmgrTransferError code, guint32 retry_after);
void dummy_backend_committed (DummyBackend *backend, QmgrItemId id,
                              const QmgrBackendResult *result);
void dummy_backend_committed_ok (DummyBackend *backend, QmgrItemId id);
void dummy_backend_commits_settled (DummyBackend *backend);
/* done OK, committed OK and commits settled, for a file of @bytes_total. */
void dummy_backend_finish (DummyBackend *backend, QmgrItemId id, guint64 bytes_total);
/* Answers one sample op of item @id (it must owe one). */
void dummy_backend_path_sample (DummyBackend *backend, QmgrItemId id, guint32 rtt_us,
                                guint64 bytes_received, gboolean local);
/* Sample ops not answered yet, all items together. */
guint dummy_backend_samples_owed (DummyBackend *backend);

G_END_DECLS
