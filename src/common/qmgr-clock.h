/* qmgrd — time, injected: the wall clock, the monotonic clock and one-shot
 * timers with user data. The daemon uses the system clock on the GLib main
 * loop; tests pass a clock they move by hand (tests/unit), so that back-off,
 * timeouts and pacing are tested without waiting. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _QmgrClock QmgrClock;
typedef void (*QmgrClockFunc) (gpointer user_data);

typedef struct {
  gint64 (*wall) (QmgrClock *clock);        /* µs since the epoch */
  gint64 (*monotonic) (QmgrClock *clock);   /* µs, never going back */
  /* A one-shot timer: @func runs once, @delay_us from now; a negative delay
   * means "when the loop is next idle". Returns an id, never 0. */
  guint (*add) (QmgrClock *clock, gint64 delay_us, QmgrClockFunc func, gpointer user_data);
  /* Cancels a timer that has not run (an id that ran or was removed is fine). */
  void (*remove) (QmgrClock *clock, guint id);
} QmgrClockVTable;

struct _QmgrClock {
  const QmgrClockVTable *vtable;
};

/* The real clocks, timers on the thread-default main context. Not freed. */
QmgrClock *qmgr_clock_get_system (void);

gint64 qmgr_clock_wall (QmgrClock *clock);
gint64 qmgr_clock_monotonic (QmgrClock *clock);
guint qmgr_clock_add (QmgrClock *clock, gint64 delay_us, QmgrClockFunc func, gpointer user_data);
guint qmgr_clock_add_idle (QmgrClock *clock, QmgrClockFunc func, gpointer user_data);
/* Removes the timer *@id if it is set, and clears it. */
void qmgr_clock_clear (QmgrClock *clock, guint *id);

G_END_DECLS
