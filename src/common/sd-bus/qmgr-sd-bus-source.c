/* qmgrd — a GSource for sd-bus: before every poll it re-arms the fd's events
 * from sd_bus_get_events() and its ready time from sd_bus_get_timeout() (absolute
 * CLOCK_MONOTONIC µs, the clock of g_get_monotonic_time()); it dispatches with
 * sd_bus_process() until there is nothing left, capped for fairness; the
 * messages of one dispatch form a batch (see the batch hooks). */
#include "qmgr-sd-bus-source.h"

#include <poll.h>

#define MAX_PROCESS_PER_DISPATCH 64

typedef struct {
  GSource source;
  sd_bus *bus;
  gpointer fd_tag;
  GIOCondition armed;         /* what the fd is watched for now */
  void (*on_error) (int error, gpointer user_data);
  gpointer on_error_data;
  gboolean failed;
  void (*batch_begin) (gpointer user_data);
  void (*batch_end) (gpointer user_data);
  gpointer batch_data;
} BusSource;

static GIOCondition
poll_to_gio (int events)
{
  GIOCondition c = 0;
  if (events & POLLIN)
    c |= G_IO_IN;
  if (events & POLLOUT)
    c |= G_IO_OUT;
  return c;
}

/* A failed connection is done with: the fd is no longer watched (a hung-up
 * socket would otherwise wake the loop on every iteration until the owner
 * destroys the source) and nothing is dispatched again. */
static void
fail (BusSource *s, int r)
{
  if (s->failed)
    return;
  s->failed = TRUE;
  g_source_remove_unix_fd ((GSource *) s, s->fd_tag);
  s->fd_tag = NULL;
  g_source_set_ready_time ((GSource *) s, -1);
  if (s->on_error != NULL)
    s->on_error (r, s->on_error_data);
}

static gboolean
bus_source_prepare (GSource *source, gint *timeout)
{
  BusSource *s = (BusSource *) source;
  int events;
  uint64_t usec;

  *timeout = -1;
  if (s->failed)
    return FALSE;
  events = sd_bus_get_events (s->bus);
  if (events < 0)
    {
      fail (s, events);
      return FALSE;
    }
  /* Only on a change: GLib wakes its context up on every modification, so an
   * unconditional re-arm would spin the loop. */
  if ((poll_to_gio (events) | G_IO_ERR | G_IO_HUP) != s->armed)
    {
      s->armed = poll_to_gio (events) | G_IO_ERR | G_IO_HUP;
      g_source_modify_unix_fd (source, s->fd_tag, s->armed);
    }

  if (sd_bus_get_timeout (s->bus, &usec) >= 0 && usec != UINT64_MAX)
    {
      if (usec == 0)
        {
          *timeout = 0;
          return TRUE;
        }
      g_source_set_ready_time (source, (gint64) MIN (usec, (uint64_t) G_MAXINT64));
    }
  else
    g_source_set_ready_time (source, -1);
  return FALSE;
}

static gboolean
bus_source_check (GSource *source)
{
  BusSource *s = (BusSource *) source;
  return s->fd_tag != NULL && g_source_query_unix_fd (source, s->fd_tag) != 0;
}

static gboolean
bus_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  BusSource *s = (BusSource *) source;

  if (s->batch_begin != NULL)
    s->batch_begin (s->batch_data);
  for (int i = 0; i < MAX_PROCESS_PER_DISPATCH && !s->failed; i++)
    {
      int r = sd_bus_process (s->bus, NULL);
      if (r < 0)
        {
          fail (s, r);
          break;
        }
      if (r == 0)
        break;
    }
  if (s->batch_end != NULL)
    s->batch_end (s->batch_data);
  return G_SOURCE_CONTINUE;
}

static void
bus_source_finalize (GSource *source)
{
  BusSource *s = (BusSource *) source;
  sd_bus_unref (s->bus);
}

static GSourceFuncs bus_source_funcs = {
  .prepare = bus_source_prepare,
  .check = bus_source_check,
  .dispatch = bus_source_dispatch,
  .finalize = bus_source_finalize,
};

GSource *
qmgr_sd_bus_source_new (sd_bus *bus, void (*on_error) (int error, gpointer user_data),
                        gpointer user_data)
{
  GSource *source = g_source_new (&bus_source_funcs, sizeof (BusSource));
  BusSource *s = (BusSource *) source;

  s->bus = sd_bus_ref (bus);
  s->on_error = on_error;
  s->on_error_data = user_data;
  s->armed = G_IO_IN;
  s->fd_tag = g_source_add_unix_fd (source, sd_bus_get_fd (bus), s->armed);
  g_source_set_name (source, "sd-bus");
  return source;
}

void
qmgr_sd_bus_source_set_batch_hooks (GSource *source, void (*begin) (gpointer user_data),
                                    void (*end) (gpointer user_data), gpointer user_data)
{
  BusSource *s = (BusSource *) source;

  s->batch_begin = begin;
  s->batch_end = end;
  s->batch_data = user_data;
}
