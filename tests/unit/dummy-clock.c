/* qmgrd tests — the hand-moved clock. */
#include "dummy-clock.h"

typedef struct {
  guint id;
  gint64 due;                 /* monotonic µs; G_MININT64: idle */
  guint64 seq;                /* order among timers due at once */
  QmgrClockFunc func;
  gpointer user_data;
} Timer;

struct _DummyClock {
  QmgrClock parent;
  gint64 wall;
  gint64 monotonic;
  guint next_id;
  guint64 next_seq;
  GArray *timers;             /* Timer */
};

static gint64
dummy_wall (QmgrClock *c)
{
  return ((DummyClock *) c)->wall;
}

static gint64
dummy_monotonic (QmgrClock *c)
{
  return ((DummyClock *) c)->monotonic;
}

static guint
dummy_add (QmgrClock *c, gint64 delay_us, QmgrClockFunc func, gpointer user_data)
{
  DummyClock *d = (DummyClock *) c;
  Timer t = {
    .id = ++d->next_id,
    .due = delay_us < 0 ? G_MININT64 : d->monotonic + delay_us,
    .seq = d->next_seq++,
    .func = func,
    .user_data = user_data,
  };

  g_array_append_val (d->timers, t);
  return t.id;
}

static void
dummy_remove (QmgrClock *c, guint id)
{
  DummyClock *d = (DummyClock *) c;

  for (guint i = 0; i < d->timers->len; i++)
    if (g_array_index (d->timers, Timer, i).id == id)
      {
        g_array_remove_index (d->timers, i);
        return;
      }
}

static const QmgrClockVTable dummy_vtable = {
  .wall = dummy_wall,
  .monotonic = dummy_monotonic,
  .add = dummy_add,
  .remove = dummy_remove,
};

DummyClock *
dummy_clock_new (gint64 wall_us)
{
  DummyClock *d = g_new0 (DummyClock, 1);

  d->parent.vtable = &dummy_vtable;
  d->wall = wall_us;
  d->monotonic = G_USEC_PER_SEC;
  d->timers = g_array_new (FALSE, FALSE, sizeof (Timer));
  return d;
}

void
dummy_clock_free (DummyClock *d)
{
  if (d == NULL)
    return;
  g_array_unref (d->timers);
  g_free (d);
}

QmgrClock *
dummy_clock_get (DummyClock *d)
{
  return &d->parent;
}

/* The index of the earliest timer due at or before @limit, or -1. */
static int
earliest (DummyClock *d, gint64 limit)
{
  int best = -1;

  for (guint i = 0; i < d->timers->len; i++)
    {
      Timer *t = &g_array_index (d->timers, Timer, i);
      Timer *b;

      if (t->due > limit)
        continue;
      b = best < 0 ? NULL : &g_array_index (d->timers, Timer, best);
      if (b == NULL || t->due < b->due || (t->due == b->due && t->seq < b->seq))
        best = (int) i;
    }
  return best;
}

static gboolean
fire_one (DummyClock *d, gint64 limit)
{
  int i = earliest (d, limit);
  Timer t;

  if (i < 0)
    return FALSE;
  t = g_array_index (d->timers, Timer, i);
  g_array_remove_index (d->timers, (guint) i);
  if (t.due != G_MININT64 && t.due > d->monotonic)
    {
      d->wall += t.due - d->monotonic;
      d->monotonic = t.due;
    }
  t.func (t.user_data);
  return TRUE;
}

void
dummy_clock_run_pending (DummyClock *d)
{
  while (fire_one (d, d->monotonic))
    ;
}

void
dummy_clock_advance (DummyClock *d, gint64 us)
{
  gint64 end = d->monotonic + us;

  while (fire_one (d, end))
    ;
  d->wall += end - d->monotonic;
  d->monotonic = end;
}

guint
dummy_clock_pending (DummyClock *d)
{
  return d->timers->len;
}

gint64
dummy_clock_next_due (DummyClock *d)
{
  int i = earliest (d, G_MAXINT64);

  if (i < 0)
    return -1;
  return MAX (g_array_index (d->timers, Timer, i).due - d->monotonic, 0);
}
