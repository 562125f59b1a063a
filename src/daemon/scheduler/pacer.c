/* qmgrd scheduler — the pacer's loop (see pacer.h and docs/architecture.md,
 * "Yielding to the user's traffic"). Every tick it asks each background item
 * for a sample of its connection; once all have answered it reads the link
 * counters and judges the window since the previous reading:
 *
 *   - queuing delay: a connection's receive-side round trip above its base
 *     (the smallest of the last minutes) by more than QMGR_PACER_TARGET_US:
 *     a multiplicative decrease, deeper the further above the target;
 *   - other traffic: the links received clearly more than our connections
 *     did while they are near their capacity: the rate halves;
 *   - quiet: the rate grows by a twentieth of the link's capacity estimate
 *     per tick (less as the delay nears the target), but by a two-hundredth
 *     near the rate at which the last queue appeared; after 10 s without a
 *     reason to slow down, or once it is twice that estimate, the cap is
 *     lifted.
 *
 * Pacing by reading makes the queue all or nothing: while the rate is below
 * the link's, the server sends what we read and the queue stays empty; above
 * it, the server fills the window the receive buffer allows (tcp-path.h) into
 * the queue at once. Hence the slow approach of the rate that last did that,
 * and no second decrease while the queue of the first drains.
 *
 * A decrease starts from what background work really received, never below
 * QMGR_PACER_FLOOR. Connections to this machine are ignored: loopback shares
 * no link with anybody. */
#include "pacer.h"

/* The base round trip of a connection is the smallest of the last
 * BASE_MINUTES minutes, one minimum kept per minute (LEDBAT's base history),
 * so that a route that got longer is learned in that time. */
#define BASE_MINUTES 10
#define MINUTE_US (60 * G_USEC_PER_SEC)

/* A connection's round trip is news once it received this much since the
 * last time it was: the kernel smooths it (a gain of 1/8 per echoed
 * timestamp, about one per two segments), so an old queue takes some twenty
 * samples to fade from it. A connection held at the floor would otherwise
 * report the queue of seconds ago for seconds. */
#define FRESH_BYTES (64 * 1024)

/* Our connections count TCP payload, the links' counters every header too
 * (66 bytes per 1448 on Ethernet with timestamps). */
#define OVERHEAD (1.0 / 16)

/* Other traffic: beyond a tenth of the capacity estimate (and chatter or
 * counting errors of FOREIGN_MIN bytes/s), while the links are busy, at four
 * fifths of the estimate or more. A link with room to spare is left to be
 * shared: the delay says when it is not. */
#define FOREIGN_SHARE 0.10
#define FOREIGN_MIN 16384.0
#define BUSY_SHARE 0.80

/* The capacity estimate is the highest receive rate seen, fading by half in
 * five minutes of a quieter link (the factor is per tick): slowly, or a link
 * carrying the same traffic for a while would always look busy. It is a lower
 * bound: a link never filled looks busy at less than its capacity, and
 * background work then yields more than it had to. */
#define PEAK_DECAY 0.99977
#define INCREASE_SHARE (1.0 / 20)
#define UNCAP_AFTER_TICKS 100
/* Near the rate that last made a queue (from 85 % of it): a tenth of the
 * step; 10 % above it without a queue, it is forgotten. */
#define PLATEAU_FROM 0.85
#define PLATEAU_SLOWER 10
#define PLATEAU_UNTIL 1.10

/* Idle this long, background work starts uncapped again; a job's next file
 * starting at once goes on at the rate the last one had. */
#define RESET_AFTER_US (30 * G_USEC_PER_SEC)

typedef struct {
  QmgrItemId id;
  guint32 base[BASE_MINUTES]; /* minimum round trip per minute, µs (0: none) */
  gint64 minute;              /* of the newest slot */
  guint32 rtt_us;             /* the latest */
  guint64 fresh;              /* bytes since its round trip was last news */
  gboolean local;
  gboolean asked;             /* a sample is owed */
} Item;

struct _QmgrPacer {
  QmgrClock *clock;
  QmgrLinkReadFunc read_link;
  gpointer link_data;
  const QmgrPacerFuncs *funcs;
  gpointer funcs_data;
  GHashTable *items;          /* QmgrItemId* → Item* */
  guint tick_timer;
  guint owed;                 /* samples asked for and not answered */
  gint64 idle_since;          /* monotonic µs; 0: items are transferring */

  /* The window being measured: since the last reading. */
  gboolean have_reading;
  gint64 read_at;
  gboolean link_ok;
  QmgrLinkCounters link;
  guint64 ours;               /* bytes our non-local connections received */
  gboolean remote;            /* a non-local connection said something */
  gint64 delay_us;            /* the largest fresh queuing delay; -1: none */
  gint64 last_delay_us;       /* that of the last window that had one */

  guint64 rate;               /* bytes/s; 0: uncapped */
  double peak;                /* capacity estimate, bytes/s */
  double ours_avg;            /* what background work received, bytes/s, smoothed over
                                 ~0.5 s: at a low rate a window sees one write or none */
  gboolean cooling;           /* decreased for a queue that has not drained yet */
  double queue_rate;          /* what we received when a queue last appeared; 0: none */
  guint quiet;                /* ticks since the last decrease */
};

static void on_tick (gpointer user_data);

/* ---- the base round trip ---- */

static guint32
item_base (Item *item)
{
  guint32 base = 0;

  for (guint i = 0; i < BASE_MINUTES; i++)
    if (item->base[i] != 0 && (base == 0 || item->base[i] < base))
      base = item->base[i];
  return base;
}

static void
item_note_rtt (Item *item, guint32 rtt_us, gint64 now)
{
  gint64 minute = now / MINUTE_US;
  guint32 *slot;

  /* Minutes gone by empty their slots (all of them after BASE_MINUTES). */
  for (gint64 m = item->minute + 1; m <= minute && m <= item->minute + BASE_MINUTES; m++)
    item->base[m % BASE_MINUTES] = 0;
  item->minute = MAX (item->minute, minute);
  slot = &item->base[item->minute % BASE_MINUTES];
  if (*slot == 0 || rtt_us < *slot)
    *slot = rtt_us;
  item->rtt_us = rtt_us;
}

/* ---- the rate ---- */

static void
set_rate (QmgrPacer *p, guint64 rate)
{
  if (rate == p->rate)
    return;
  g_debug ("Background rate: %" G_GUINT64_FORMAT " bytes/s%s (queuing delay %" G_GINT64_FORMAT
           " µs, capacity estimate %.0f bytes/s)", rate, rate == 0 ? " (no cap)" : "", p->delay_us,
           p->peak);
  p->rate = rate;
  if (p->funcs != NULL)
    p->funcs->rate_changed (rate, p->funcs_data);
}

/* From what background work received (or its cap, if lower), never below
 * the floor. */
static void
decrease (QmgrPacer *p, double ours_rate, double factor)
{
  double from = p->rate == 0 ? ours_rate : MIN ((double) p->rate, ours_rate);

  p->quiet = 0;
  set_rate (p, (guint64) MAX (from * factor, (double) QMGR_PACER_FLOOR));
}

/* Less as the delay nears the target. */
static void
increase (QmgrPacer *p, gint64 delay_us)
{
  double gain = 1.0, step;

  if (p->rate == 0)
    return;
  if (delay_us >= 0)
    gain = (double) (QMGR_PACER_TARGET_US - MIN (delay_us, QMGR_PACER_TARGET_US)) /
           QMGR_PACER_TARGET_US;
  step = MAX ((double) QMGR_PACER_FLOOR, p->peak * INCREASE_SHARE) * gain;
  if (p->queue_rate > 0 && (double) p->rate >= PLATEAU_UNTIL * p->queue_rate)
    p->queue_rate = 0;
  else if (p->queue_rate > 0 && (double) p->rate >= PLATEAU_FROM * p->queue_rate)
    step /= PLATEAU_SLOWER;
  if ((double) p->rate + step >= 2 * p->peak || p->quiet >= UNCAP_AFTER_TICKS)
    set_rate (p, 0);
  /* Held elsewhere (its server, a limit, a response to record): a rate it
   * does not use is no reason to grow. */
  else if (p->ours_avg >= (double) p->rate / 2)
    set_rate (p, p->rate + (guint64) step);
}

/* Judges the window of @seconds: @link_rate is what the links received
 * (negative: unknown), @ours_rate what our connections did. */
static void
judge (QmgrPacer *p, double link_rate, double ours_rate)
{
  gboolean other = FALSE;

  p->quiet++;
  p->ours_avg += (ours_rate - p->ours_avg) * 0.2;
  p->peak = MAX (MAX (p->peak * PEAK_DECAY, link_rate), ours_rate);
  if (link_rate >= 0)
    {
      double foreign = link_rate - ours_rate * (1 + OVERHEAD);
      other = foreign > MAX (FOREIGN_MIN, FOREIGN_SHARE * p->peak) &&
              link_rate >= BUSY_SHARE * p->peak;
    }
  if (other)
    {
      decrease (p, ours_rate, 0.5);
      p->cooling = FALSE;
    }
  else if (p->delay_us > QMGR_PACER_TARGET_US)
    {
      /* At twice the target, half the rate. Not again while the queue the
       * last decrease is draining shrinks (the kernel's estimate lags). */
      double over = (double) (p->delay_us - QMGR_PACER_TARGET_US) / QMGR_PACER_TARGET_US;

      if (!p->cooling || p->delay_us >= p->last_delay_us)
        {
          if (!p->cooling)
            p->queue_rate = ours_rate;
          decrease (p, ours_rate, CLAMP (1.0 - 0.5 * over, 0.5, 0.9));
          p->cooling = TRUE;
        }
    }
  else if (p->delay_us >= 0)
    {
      p->cooling = FALSE;
      increase (p, p->delay_us);
    }
  else if (!p->cooling && p->last_delay_us <= QMGR_PACER_TARGET_US)
    increase (p, p->last_delay_us);   /* no news: what was true still is */
  if (p->delay_us >= 0)
    p->last_delay_us = p->delay_us;
}

static gboolean
all_local (QmgrPacer *p)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, p->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (!((Item *) value)->local)
      return FALSE;
  return TRUE;
}

/* All samples are in (or the tick came first): the window ends now. The
 * first one only starts the count (the bytes before it are not in it). */
static void
evaluate (QmgrPacer *p)
{
  QmgrLinkCounters link = { 0 };
  gint64 now = qmgr_clock_monotonic (p->clock);
  gboolean link_ok;

  /* Too short a window says little (an item that ended right after one). */
  if (p->have_reading && now - p->read_at < QMGR_PACER_TICK_US / 2)
    return;
  link_ok = p->read_link != NULL && p->read_link (&link, p->link_data);
  if (p->have_reading && p->remote)
    {
      double seconds = (double) (now - p->read_at) / G_USEC_PER_SEC;
      gboolean same = link_ok && p->link_ok && link.links == p->link.links &&
                      link.rx_bytes >= p->link.rx_bytes;
      double link_rate = same ? (double) (link.rx_bytes - p->link.rx_bytes) / seconds : -1;

      judge (p, link_rate, (double) p->ours / seconds);
    }
  else if (p->have_reading && all_local (p))
    set_rate (p, 0);   /* nothing of ours crosses a link */
  p->have_reading = TRUE;
  p->read_at = now;
  p->link_ok = link_ok;
  p->link = link;
  p->ours = 0;
  p->remote = FALSE;
  p->delay_us = -1;
}

/* ---- items and ticks ---- */

static void
owed_one (QmgrPacer *p, Item *item)
{
  if (!item->asked)
    return;
  item->asked = FALSE;
  if (--p->owed == 0)
    evaluate (p);
}

static void
on_tick (gpointer user_data)
{
  QmgrPacer *p = user_data;
  GHashTableIter iter;
  gpointer value;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (QmgrItemId));

  p->tick_timer = qmgr_clock_add (p->clock, QMGR_PACER_TICK_US, on_tick, p);
  /* Samples not answered by now are not waited for any longer. */
  if (p->owed > 0)
    evaluate (p);
  g_hash_table_iter_init (&iter, p->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Item *item = value;
      item->asked = TRUE;
      g_array_append_val (ids, item->id);
    }
  p->owed = ids->len;
  /* The caller may end items from inside (a backend that answers at once). */
  for (guint i = 0; i < ids->len && p->funcs != NULL; i++)
    if (g_hash_table_contains (p->items, &g_array_index (ids, QmgrItemId, i)))
      p->funcs->sample (g_array_index (ids, QmgrItemId, i), p->funcs_data);
}

void
qmgr_pacer_add_item (QmgrPacer *p, QmgrItemId id)
{
  Item *item;
  gint64 now = qmgr_clock_monotonic (p->clock);

  if (g_hash_table_contains (p->items, &id))
    return;
  if (g_hash_table_size (p->items) == 0)
    {
      if (p->idle_since != 0 && now - p->idle_since >= RESET_AFTER_US)
        {
          set_rate (p, 0);
          p->cooling = FALSE;
          p->last_delay_us = -1;
          p->queue_rate = 0;
        }
      p->idle_since = 0;
      p->have_reading = FALSE;
      p->tick_timer = qmgr_clock_add (p->clock, QMGR_PACER_TICK_US, on_tick, p);
    }
  item = g_new0 (Item, 1);
  item->id = id;
  item->minute = now / MINUTE_US;
  g_hash_table_insert (p->items, &item->id, item);
}

void
qmgr_pacer_remove_item (QmgrPacer *p, QmgrItemId id)
{
  Item *item = g_hash_table_lookup (p->items, &id);
  gboolean asked;

  if (item == NULL)
    return;
  asked = item->asked;
  g_hash_table_remove (p->items, &id);
  if (g_hash_table_size (p->items) == 0)
    {
      /* Nothing to watch: no tick until background work transfers again. */
      qmgr_clock_clear (p->clock, &p->tick_timer);
      p->idle_since = MAX (qmgr_clock_monotonic (p->clock), 1);
      p->owed = 0;
      p->have_reading = FALSE;
      return;
    }
  if (asked && --p->owed == 0)
    evaluate (p);
}

void
qmgr_pacer_sample (QmgrPacer *p, QmgrItemId id, const QmgrPathSample *sample)
{
  Item *item = g_hash_table_lookup (p->items, &id);

  if (item == NULL)
    return;
  item->local = sample->local;
  if (!sample->local && (sample->bytes_received > 0 || sample->rtt_us > 0))
    {
      p->remote = TRUE;
      p->ours += sample->bytes_received;
      item->fresh += sample->bytes_received;
      if (sample->rtt_us > 0)
        {
          item_note_rtt (item, sample->rtt_us, qmgr_clock_monotonic (p->clock));
          if (item->fresh >= FRESH_BYTES)
            {
              p->delay_us = MAX (p->delay_us, (gint64) (sample->rtt_us - item_base (item)));
              item->fresh = 0;
            }
        }
    }
  owed_one (p, item);
}

guint64
qmgr_pacer_get_rate (QmgrPacer *p)
{
  return p->rate;
}

QmgrPacer *
qmgr_pacer_new (QmgrClock *clock, QmgrLinkReadFunc read_link, gpointer link_data)
{
  QmgrPacer *p = g_new0 (QmgrPacer, 1);

  p->clock = clock;
  p->read_link = read_link;
  p->link_data = link_data;
  p->items = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  p->delay_us = -1;
  p->last_delay_us = -1;
  return p;
}

void
qmgr_pacer_set_funcs (QmgrPacer *p, const QmgrPacerFuncs *funcs, gpointer user_data)
{
  p->funcs = funcs;
  p->funcs_data = user_data;
}

void
qmgr_pacer_free (QmgrPacer *p)
{
  if (p == NULL)
    return;
  qmgr_clock_clear (p->clock, &p->tick_timer);
  g_hash_table_unref (p->items);
  g_free (p);
}
