/* qmgrd scheduler — the pacer: how fast background work may go so that it
 * stays out of the way of the user's own traffic (BITS's "idle bandwidth").
 * A receiver-side LEDBAT-style loop (the model is the IETF's rLEDBAT): from
 * samples of its own background connections (the receiver's round-trip
 * estimate) and the receive counters of the links that carry the default
 * route, it backs off multiplicatively when queuing delay or other traffic
 * appears and creeps back up additively while the link is quiet, never below
 * a small floor. The result is one rate for all background work together,
 * which the scheduler applies with its background token bucket; foreground
 * work is never paced by it. It ticks only while background items transfer.
 * Time and the link counters are injected, for tests. */
#pragma once

#include "backend.h"
#include "qmgr-clock.h"

G_BEGIN_DECLS

/* The delay over the base round trip that the pacer lets background work add,
 * the lowest rate it ever sets, and how often it samples. */
#define QMGR_PACER_TARGET_US (5 * 1000)
#define QMGR_PACER_FLOOR     16384            /* bytes/s */
#define QMGR_PACER_TICK_US   (100 * 1000)

typedef struct {
  guint64 rx_bytes;           /* received by the links, all together, so far */
  guint64 links;              /* which links they are (a change makes the difference of
                                 two readings meaningless) */
} QmgrLinkCounters;

/* Reads the counters of the links that carry the default route; FALSE when
 * they cannot be known. */
typedef gboolean (*QmgrLinkReadFunc) (QmgrLinkCounters *counters, gpointer user_data);

/* The system's: /proc/net/route and /proc/net/ipv6_route for the links,
 * /sys/class/net/<link>/statistics/rx_bytes for their counters. */
gboolean qmgr_link_read_default_route (QmgrLinkCounters *counters, gpointer user_data);

typedef struct _QmgrPacer QmgrPacer;

typedef struct {
  /* Ask for a sample of item @id: its answer goes to qmgr_pacer_sample(). */
  void (*sample) (QmgrItemId id, gpointer user_data);
  /* The rate of all background work changed (bytes/s; 0: no cap of the pacer's). */
  void (*rate_changed) (guint64 rate, gpointer user_data);
} QmgrPacerFuncs;

QmgrPacer *qmgr_pacer_new (QmgrClock *clock, QmgrLinkReadFunc read_link, gpointer link_data);
void qmgr_pacer_free (QmgrPacer *pacer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrPacer, qmgr_pacer_free)
void qmgr_pacer_set_funcs (QmgrPacer *pacer, const QmgrPacerFuncs *funcs, gpointer user_data);

/* A background item started transferring, or stopped (ended, committing,
 * switched to the foreground). */
void qmgr_pacer_add_item (QmgrPacer *pacer, QmgrItemId id);
void qmgr_pacer_remove_item (QmgrPacer *pacer, QmgrItemId id);
/* The answer to a sample the pacer asked for (others are taken too). */
void qmgr_pacer_sample (QmgrPacer *pacer, QmgrItemId id, const QmgrPathSample *sample);

/* Bytes/s for all background work together; 0: not capped by the pacer. */
guint64 qmgr_pacer_get_rate (QmgrPacer *pacer);

G_END_DECLS
