/* qmgrd tests — a clock moved by hand (QmgrClock): wall and monotonic time
 * advance only when a test says so, and timers fire then, in the order they
 * are due. Nothing here waits. */
#pragma once

#include "qmgr-clock.h"

G_BEGIN_DECLS

typedef struct _DummyClock DummyClock;

/* Starts at @wall_us (µs since the epoch) and at a monotonic time of 1 s. */
DummyClock *dummy_clock_new (gint64 wall_us);
void dummy_clock_free (DummyClock *clock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DummyClock, dummy_clock_free)

QmgrClock *dummy_clock_get (DummyClock *clock);
/* Moves both clocks on by @us, firing every timer that comes due on the way
 * (each at its own time; idle timers first, and again after each timer). */
void dummy_clock_advance (DummyClock *clock, gint64 us);
/* Fires what is due now (idle timers, and timers due now) until none is. */
void dummy_clock_run_pending (DummyClock *clock);
/* Timers waiting, idle ones included. */
guint dummy_clock_pending (DummyClock *clock);
/* Microseconds until the next timer is due (0: one is due now or idle; -1: none). */
gint64 dummy_clock_next_due (DummyClock *clock);

G_END_DECLS
