/* qmgrd — the system clock: g_get_real_time, g_get_monotonic_time, and GLib
 * timeouts on the thread-default main context (rounded up to the millisecond:
 * a timer never fires before it is due). */
#include "qmgr-clock.h"

typedef struct {
  QmgrClockFunc func;
  gpointer user_data;
} SystemTimer;

static gint64
system_wall (QmgrClock *clock)
{
  return g_get_real_time ();
}

static gint64
system_monotonic (QmgrClock *clock)
{
  return g_get_monotonic_time ();
}

static gboolean
system_timer_fire (gpointer data)
{
  SystemTimer *t = data;
  t->func (t->user_data);
  return G_SOURCE_REMOVE;
}

static guint
system_add (QmgrClock *clock, gint64 delay_us, QmgrClockFunc func, gpointer user_data)
{
  SystemTimer *t = g_new (SystemTimer, 1);
  GSource *source;
  guint id;

  t->func = func;
  t->user_data = user_data;
  if (delay_us < 0)
    source = g_idle_source_new ();
  else
    {
      guint64 ms = ((guint64) delay_us + 999) / 1000;
      source = g_timeout_source_new ((guint) MIN (ms, (guint64) G_MAXUINT));
    }
  g_source_set_callback (source, system_timer_fire, t, g_free);
  id = g_source_attach (source, g_main_context_get_thread_default ());
  g_source_unref (source);
  return id;
}

static void
system_remove (QmgrClock *clock, guint id)
{
  GSource *source = g_main_context_find_source_by_id (g_main_context_get_thread_default (), id);

  if (source != NULL)
    g_source_destroy (source);
}

static const QmgrClockVTable system_vtable = {
  .wall = system_wall,
  .monotonic = system_monotonic,
  .add = system_add,
  .remove = system_remove,
};

static QmgrClock system_clock = { &system_vtable };

QmgrClock *
qmgr_clock_get_system (void)
{
  return &system_clock;
}

gint64
qmgr_clock_wall (QmgrClock *clock)
{
  return clock->vtable->wall (clock);
}

gint64
qmgr_clock_monotonic (QmgrClock *clock)
{
  return clock->vtable->monotonic (clock);
}

guint
qmgr_clock_add (QmgrClock *clock, gint64 delay_us, QmgrClockFunc func, gpointer user_data)
{
  return clock->vtable->add (clock, MAX (delay_us, 0), func, user_data);
}

guint
qmgr_clock_add_idle (QmgrClock *clock, QmgrClockFunc func, gpointer user_data)
{
  return clock->vtable->add (clock, -1, func, user_data);
}

void
qmgr_clock_clear (QmgrClock *clock, guint *id)
{
  if (*id != 0)
    {
      clock->vtable->remove (clock, *id);
      *id = 0;
    }
}
