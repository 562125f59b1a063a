/* Unit tests of the pacer (scheduler/pacer.c) on its own: a hand-moved clock,
 * link counters the test sets, and samples the test answers. Each tick the
 * test says what the connection received, what its round trip was, and what
 * else the link received. Also the reader of the default route's links
 * (scheduler/link.c) on a fake /proc and /sys. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>

#include "dummy-clock.h"
#include "pacer.h"

#define TICKS_PER_S (G_USEC_PER_SEC / QMGR_PACER_TICK_US)
#define LINK 2500000.0         /* bytes/s: a 20 Mbit/s link */
#define BASE_US 1000

typedef struct {
  DummyClock *clock;
  QmgrPacer *pacer;
  QmgrLinkCounters link;
  gboolean link_ok;
  GArray *asked;              /* QmgrItemId, since the last tick */
  guint rate_changes;
} Fixture;

static gboolean
read_link (QmgrLinkCounters *counters, gpointer user_data)
{
  Fixture *f = user_data;

  *counters = f->link;
  return f->link_ok;
}

static void
on_sample (QmgrItemId id, gpointer user_data)
{
  Fixture *f = user_data;

  g_array_append_val (f->asked, id);
}

static void
on_rate (guint64 rate, gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_cmpuint (rate, ==, qmgr_pacer_get_rate (f->pacer));
  f->rate_changes++;
}

static const QmgrPacerFuncs funcs = { .sample = on_sample, .rate_changed = on_rate };

static void
setup (Fixture *f, gconstpointer data)
{
  f->clock = dummy_clock_new (G_GINT64_CONSTANT (1700000000000000));
  f->link.links = 1;
  f->link_ok = TRUE;
  f->asked = g_array_new (FALSE, FALSE, sizeof (QmgrItemId));
  f->pacer = qmgr_pacer_new (dummy_clock_get (f->clock), read_link, f);
  qmgr_pacer_set_funcs (f->pacer, &funcs, f);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  qmgr_pacer_free (f->pacer);
  /* The pacer's tick went with it. */
  g_assert_cmpuint (dummy_clock_pending (f->clock), ==, 0);
  dummy_clock_free (f->clock);
  g_array_unref (f->asked);
}

static guint64
rate (Fixture *f)
{
  return qmgr_pacer_get_rate (f->pacer);
}

/* One tick: over it our connections received @ours_per_s (split between
 * the items asked), each saw @rtt_us, and the link received that (with 4 %
 * of headers) plus @foreign_per_s of somebody else's. */
static void
tick_full (Fixture *f, guint32 rtt_us, double ours_per_s, double foreign_per_s, gboolean local)
{
  guint64 ours = (guint64) (ours_per_s / TICKS_PER_S);
  guint n;

  f->link.rx_bytes += (local ? 0 : ours + ours / 25) + (guint64) (foreign_per_s / TICKS_PER_S);
  g_array_set_size (f->asked, 0);
  dummy_clock_advance (f->clock, QMGR_PACER_TICK_US);
  n = f->asked->len;
  for (guint i = 0; i < n; i++)
    {
      QmgrPathSample s = { .rtt_us = rtt_us, .bytes_received = ours / n, .local = local };
      qmgr_pacer_sample (f->pacer, g_array_index (f->asked, QmgrItemId, i), &s);
    }
}

static void
tick (Fixture *f, guint32 rtt_us, double ours_per_s, double foreign_per_s)
{
  tick_full (f, rtt_us, ours_per_s, foreign_per_s, FALSE);
}

/* What background work receives under the pacer's rate on a link of @link
 * shared with @foreign: the rate if set and lower, else what is left. */
static double
receives (Fixture *f, double link, double foreign)
{
  double left = MAX (link - foreign, 0);

  return rate (f) == 0 ? left : MIN ((double) rate (f), left);
}

/* One item saturating the link with no queue for @seconds: it knows the
 * base round trip and the link's capacity. */
static void
run_quiet (Fixture *f, double seconds)
{
  for (int i = 0; i < seconds * TICKS_PER_S; i++)
    tick (f, BASE_US, receives (f, LINK, 0), 0);
}

static void
test_quiet_uncapped (Fixture *f, gconstpointer data)
{
  qmgr_pacer_add_item (f->pacer, 1);
  run_quiet (f, 20);
  /* Sampled every tick, never slowed down. */
  g_assert_cmpuint (f->asked->len, ==, 1);
  g_assert_cmpuint (rate (f), ==, 0);
  g_assert_cmpuint (f->rate_changes, ==, 0);
  qmgr_pacer_remove_item (f->pacer, 1);
}

static void
test_delay_backoff (Fixture *f, gconstpointer data)
{
  guint64 last;

  qmgr_pacer_add_item (f->pacer, 1);
  run_quiet (f, 2);
  /* A queue of 20 ms, four times the target: the rate halves, from what the
   * item received. */
  tick (f, BASE_US + 20000, LINK, 0);
  g_assert_cmpuint (rate (f), >=, LINK * 0.5 * 0.99);
  g_assert_cmpuint (rate (f), <=, LINK * 0.5 * 1.01);
  /* The next window shows the queue draining (the kernel's estimate lags):
   * no decrease while it shrinks. */
  last = rate (f);
  tick (f, BASE_US + 12000, receives (f, LINK, 0), 0);
  g_assert_cmpuint (rate (f), ==, last);
  tick (f, BASE_US + 9000, receives (f, LINK, 0), 0);
  g_assert_cmpuint (rate (f), ==, last);
  /* It does not drain: lower again, in proportion. */
  tick (f, BASE_US + 9000, receives (f, LINK, 0), 0);
  g_assert_cmpuint (rate (f), <, last * 0.7);
  g_assert_cmpuint (rate (f), >, last * 0.5);
  last = rate (f);
  /* A queue that stays: lower with each news of it (less often as the item
   * moves fewer bytes), by half at most each time, down to the floor. */
  for (int i = 0; i < 200; i++)
    {
      tick (f, BASE_US + 20000, receives (f, LINK, 0), 0);
      g_assert_cmpuint (rate (f), <=, last);
      g_assert_cmpuint (rate (f), >=, MAX (last / 2 - 10, QMGR_PACER_FLOOR));
      last = rate (f);
    }
  g_assert_cmpuint (rate (f), ==, QMGR_PACER_FLOOR);
  qmgr_pacer_remove_item (f->pacer, 1);
}

/* A little over the target, a little slower; at the target, no decrease. */
static void
test_delay_proportional (Fixture *f, gconstpointer data)
{
  qmgr_pacer_add_item (f->pacer, 1);
  run_quiet (f, 2);
  tick (f, BASE_US + QMGR_PACER_TARGET_US, LINK, 0);
  g_assert_cmpuint (rate (f), ==, 0);
  tick (f, BASE_US + QMGR_PACER_TARGET_US + 1000, LINK, 0);
  g_assert_cmpuint (rate (f), >=, LINK * 0.9 * 0.99);
  g_assert_cmpuint (rate (f), <=, LINK * 0.9 * 1.01);
  qmgr_pacer_remove_item (f->pacer, 1);
}

static void
test_foreign_backoff (Fixture *f, gconstpointer data)
{
  guint64 last;

  qmgr_pacer_add_item (f->pacer, 1);
  run_quiet (f, 2);
  /* The user's download takes most of the link (TCP shares it): the rate
   * halves from what was left to us, and again every tick while it goes on,
   * whatever the round trip says. */
  tick (f, BASE_US, 500000, 2000000);
  g_assert_cmpuint (rate (f), >=, 500000 * 0.5 * 0.99);
  g_assert_cmpuint (rate (f), <=, 500000 * 0.5 * 1.01);
  for (int i = 0; i < 10; i++)
    {
      double ours = receives (f, LINK, 2000000);
      last = rate (f);
      tick (f, BASE_US, ours, LINK - ours);
      g_assert_cmpuint (rate (f), >=, MAX (last / 2 - 10, QMGR_PACER_FLOOR));
      g_assert_cmpuint (rate (f), <=, MAX (last / 2, QMGR_PACER_FLOOR));
    }
  g_assert_cmpuint (rate (f), ==, QMGR_PACER_FLOOR);
  /* At the floor it stays while the link is busy with the other traffic. */
  for (int i = 0; i < 50; i++)
    {
      tick (f, BASE_US, receives (f, LINK, LINK - QMGR_PACER_FLOOR), LINK - QMGR_PACER_FLOOR);
      g_assert_cmpuint (rate (f), ==, QMGR_PACER_FLOOR);
    }
  qmgr_pacer_remove_item (f->pacer, 1);
}

/* Other traffic that leaves the link room to spare is no reason to yield
 * (the delay says when it is), nor is chatter on a busy link. */
static void
test_foreign_not_busy (Fixture *f, gconstpointer data)
{
  qmgr_pacer_add_item (f->pacer, 1);
  run_quiet (f, 2);
  for (int i = 0; i < 20; i++)
    tick (f, BASE_US, 1000000, 500000);
  g_assert_cmpuint (rate (f), ==, 0);
  for (int i = 0; i < 20; i++)
    tick (f, BASE_US, LINK - 10000, 10000);
  g_assert_cmpuint (rate (f), ==, 0);
  qmgr_pacer_remove_item (f->pacer, 1);
}

static void
test_additive_increase (Fixture *f, gconstpointer data)
{
  guint64 steps[30];

  qmgr_pacer_add_item (f->pacer, 1);
  run_quiet (f, 2);
  for (int i = 0; i < 10; i++)
    {
      double ours = receives (f, LINK, 2000000);
      tick (f, BASE_US, ours, LINK - ours);
    }
  g_assert_cmpuint (rate (f), ==, QMGR_PACER_FLOOR);
  /* The other download ended: the link is quiet, the rate grows by the same
   * step each tick (a twentieth of the link), not by a factor. */
  for (int i = 0; i < 30; i++)
    {
      guint64 before = rate (f);
      tick (f, BASE_US, receives (f, LINK, 0), 0);
      g_assert_cmpuint (rate (f), >, before);
      steps[i] = rate (f) - before;
    }
  for (int i = 1; i < 30; i++)
    {
      g_assert_cmpuint (steps[i], <=, steps[0] * 1.05);
      g_assert_cmpuint (steps[i], >=, steps[0] * 0.85);
    }
  g_assert_cmpuint (steps[0], >=, LINK / 20 * 0.95);
  g_assert_cmpuint (steps[0], <=, LINK * 1.04 / 20 * 1.01);
  /* Within 10 s of quiet the cap is gone. */
  for (int i = 0; i < 10 * TICKS_PER_S && rate (f) != 0; i++)
    tick (f, BASE_US, receives (f, LINK, 0), 0);
  g_assert_cmpuint (rate (f), ==, 0);
  qmgr_pacer_remove_item (f->pacer, 1);
}

/* Near the rate at which the last queue appeared, the rate grows ten times
 * slower: reading faster than the link fills the queue at once. */
static void
test_plateau (Fixture *f, gconstpointer data)
{
  guint64 before;
  int i;

  qmgr_pacer_add_item (f->pacer, 1);
  run_quiet (f, 2);
  tick (f, BASE_US + 20000, LINK, 0);
  g_assert_cmpuint (rate (f), <, LINK * 0.51);
  for (i = 0; i < 100 && rate (f) < LINK * 0.85 * 0.95; i++)
    {
      before = rate (f);
      tick (f, BASE_US, receives (f, LINK, 0), 0);
      g_assert_cmpuint (rate (f) - before, >, LINK / 25);
    }
  /* Past 85 % of it, small steps. */
  while (rate (f) < LINK * 0.85)
    tick (f, BASE_US, receives (f, LINK, 0), 0);
  for (i = 0; i < 10; i++)
    {
      before = rate (f);
      tick (f, BASE_US, receives (f, LINK, 0), 0);
      g_assert_cmpuint (rate (f) - before, <, LINK / 150);
      g_assert_cmpuint (rate (f), >, before);
    }
  qmgr_pacer_remove_item (f->pacer, 1);
}

/* A rate the item does not use (its server is slower) is no reason to grow
 * (once the smoothed use has caught up: a few ticks). */
static void
test_no_increase_unused (Fixture *f, gconstpointer data)
{
  guint64 capped;

  qmgr_pacer_add_item (f->pacer, 1);
  run_quiet (f, 2);
  tick (f, BASE_US + 20000, LINK, 0);
  capped = rate (f);
  g_assert_cmpuint (capped, >, 0);
  for (int i = 0; i < TICKS_PER_S; i++)
    tick (f, BASE_US, LINK / 8, 0);
  capped = rate (f);
  g_assert_cmpuint (capped, <, LINK);
  for (int i = 0; i < 5 * TICKS_PER_S; i++)
    tick (f, BASE_US, LINK / 8, 0);
  g_assert_cmpuint (rate (f), ==, capped);
  qmgr_pacer_remove_item (f->pacer, 1);
}

/* The round trip of a connection that moved few bytes is old news (the
 * kernel's estimate moves a little with each segment): held at the floor by
 * a queue, the item waits until enough bytes passed to trust that the queue
 * is gone, and then grows again. */
static void
test_stale_delay (Fixture *f, gconstpointer data)
{
  int i;

  qmgr_pacer_add_item (f->pacer, 1);
  run_quiet (f, 2);
  for (i = 0; i < 60 * TICKS_PER_S && rate (f) != QMGR_PACER_FLOOR; i++)
    tick (f, BASE_US + 30000, receives (f, LINK, 0), 0);
  g_assert_cmpuint (rate (f), ==, QMGR_PACER_FLOOR);
  /* 64 KiB at the floor take 4 s. */
  for (i = 0; i < 3 * TICKS_PER_S; i++)
    {
      tick (f, BASE_US, receives (f, LINK, 0), 0);
      g_assert_cmpuint (rate (f), ==, QMGR_PACER_FLOOR);
    }
  for (i = 0; i < 2 * TICKS_PER_S && rate (f) == QMGR_PACER_FLOOR; i++)
    tick (f, BASE_US, receives (f, LINK, 0), 0);
  g_assert_cmpuint (rate (f), >, QMGR_PACER_FLOOR);
  qmgr_pacer_remove_item (f->pacer, 1);
}

/* The base round trip is that of the last ten minutes: a longer route is
 * learned, not taken for a queue for ever. */
static void
test_base_ages_out (Fixture *f, gconstpointer data)
{
  qmgr_pacer_add_item (f->pacer, 1);
  run_quiet (f, 2);
  for (int i = 0; i < 5 * TICKS_PER_S; i++)
    tick (f, BASE_US + 30000, receives (f, LINK, 0), 0);
  g_assert_cmpuint (rate (f), <, LINK / 4);
  for (int i = 0; i < 11 * 60 * TICKS_PER_S; i++)
    tick (f, BASE_US + 30000, receives (f, LINK, 0), 0);
  g_assert_cmpuint (rate (f), ==, 0);
  qmgr_pacer_remove_item (f->pacer, 1);
}

/* Connections to this machine cross no link: nothing they see slows them. */
static void
test_local_ignored (Fixture *f, gconstpointer data)
{
  qmgr_pacer_add_item (f->pacer, 1);
  for (int i = 0; i < 5 * TICKS_PER_S; i++)
    tick_full (f, BASE_US + 50000 * (i % 2), 50e6, i > 10 ? LINK : 0, TRUE);
  g_assert_cmpuint (rate (f), ==, 0);
  g_assert_cmpuint (f->rate_changes, ==, 0);
  qmgr_pacer_remove_item (f->pacer, 1);
}

/* Without link counters the delay still works. */
static void
test_no_link (Fixture *f, gconstpointer data)
{
  f->link_ok = FALSE;
  qmgr_pacer_add_item (f->pacer, 1);
  run_quiet (f, 2);
  tick (f, BASE_US, 500000, 2000000);
  g_assert_cmpuint (rate (f), ==, 0);
  tick (f, BASE_US + 20000, LINK, 0);
  g_assert_cmpuint (rate (f), >, 0);
  g_assert_cmpuint (rate (f), <, LINK);
  qmgr_pacer_remove_item (f->pacer, 1);
}

/* No tick while nothing transfers; the rate is shared by every item. */
static void
test_ticks_only_while_busy (Fixture *f, gconstpointer data)
{
  g_assert_cmpuint (dummy_clock_pending (f->clock), ==, 0);
  qmgr_pacer_add_item (f->pacer, 1);
  qmgr_pacer_add_item (f->pacer, 2);
  g_assert_cmpuint (dummy_clock_pending (f->clock), ==, 1);
  tick (f, BASE_US, LINK, 0);
  g_assert_cmpuint (f->asked->len, ==, 2);
  /* An item that ends owes no sample: the window closes without it. */
  g_array_set_size (f->asked, 0);
  dummy_clock_advance (f->clock, QMGR_PACER_TICK_US);
  g_assert_cmpuint (f->asked->len, ==, 2);
  qmgr_pacer_remove_item (f->pacer, 2);
  qmgr_pacer_sample (f->pacer, 1, &(QmgrPathSample) { .rtt_us = BASE_US + 40000,
                                                       .bytes_received = 250000 });
  g_assert_cmpuint (rate (f), >, 0);
  qmgr_pacer_remove_item (f->pacer, 1);
  g_assert_cmpuint (dummy_clock_pending (f->clock), ==, 0);
  dummy_clock_advance (f->clock, (gint64) 3600 * G_USEC_PER_SEC);
  g_assert_cmpuint (f->asked->len, ==, 2);
  g_assert_cmpuint (dummy_clock_pending (f->clock), ==, 0);
}

/* After a while without background work it starts uncapped again; right
 * away (a job's next file), at the rate it had. */
static void
test_reset_after_idle (Fixture *f, gconstpointer data)
{
  guint64 capped;

  qmgr_pacer_add_item (f->pacer, 1);
  run_quiet (f, 2);
  tick (f, BASE_US + 20000, LINK, 0);
  capped = rate (f);
  g_assert_cmpuint (capped, >, 0);
  qmgr_pacer_remove_item (f->pacer, 1);
  qmgr_pacer_add_item (f->pacer, 2);
  g_assert_cmpuint (rate (f), ==, capped);
  qmgr_pacer_remove_item (f->pacer, 2);
  dummy_clock_advance (f->clock, (gint64) 60 * G_USEC_PER_SEC);
  qmgr_pacer_add_item (f->pacer, 3);
  g_assert_cmpuint (rate (f), ==, 0);
  qmgr_pacer_remove_item (f->pacer, 3);
}

/* ---- the links of the default route ---- */

static void
write_file (const char *root, const char *path, const char *contents)
{
  g_autofree char *full = g_build_filename (root, path, NULL);
  g_autofree char *dir = g_path_get_dirname (full);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (full, contents, -1, &error));
  g_assert_no_error (error);
}

#define ROUTE_HEADER \
  "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
#define V6_ZERO    "00000000000000000000000000000000"
#define V6_GATEWAY "fe800000000000000000000000000001"

static void
test_link_default_route (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("qmgr-link-XXXXXX", &error);
  QmgrLinkCounters c = { 0 }, c2 = { 0 };

  g_assert_no_error (error);
  /* No default route: unknown. */
  write_file (root, "proc/net/route", ROUTE_HEADER
              "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
  g_assert_false (qmgr_link_read_default_route (&c, root));
  /* IPv4 default on eth0 (a rejected one on eth1 does not count); IPv6
   * default on wlan0; lo's unreachable default is not a link. */
  write_file (root, "proc/net/route", ROUTE_HEADER
              "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
              "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
              "eth1\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0\n");
  write_file (root, "proc/net/ipv6_route",
              /* default via fe80::1 on wlan0, up */
              V6_ZERO " 00 " V6_ZERO " 00 " V6_GATEWAY " 00000400 00000001 00000000 00000003"
              "   wlan0\n"
              /* lo's unreachable default: up and reject */
              V6_ZERO " 00 " V6_ZERO " 00 " V6_ZERO " ffffffff 00000001 00000000 00200200"
              "       lo\n");
  write_file (root, "sys/class/net/eth0/statistics/rx_bytes", "1000\n");
  write_file (root, "sys/class/net/eth1/statistics/rx_bytes", "50000\n");
  write_file (root, "sys/class/net/wlan0/statistics/rx_bytes", "234\n");
  write_file (root, "sys/class/net/lo/statistics/rx_bytes", "99999\n");
  g_assert_true (qmgr_link_read_default_route (&c, root));
  g_assert_cmpuint (c.rx_bytes, ==, 1234);
  /* The same links, more bytes: the same set. */
  write_file (root, "sys/class/net/eth0/statistics/rx_bytes", "2000\n");
  g_assert_true (qmgr_link_read_default_route (&c2, root));
  g_assert_cmpuint (c2.rx_bytes, ==, 2234);
  g_assert_cmpuint (c2.links, ==, c.links);
  /* Another set of links: another id. */
  write_file (root, "proc/net/ipv6_route", "");
  g_assert_true (qmgr_link_read_default_route (&c2, root));
  g_assert_cmpuint (c2.rx_bytes, ==, 2000);
  g_assert_cmpuint (c2.links, !=, c.links);
  /* A counter that cannot be read: unknown. */
  write_file (root, "sys/class/net/eth0/statistics/rx_bytes", "n/a\n");
  g_assert_false (qmgr_link_read_default_route (&c2, root));

  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", root);
    g_assert_cmpint (system (cmd), ==, 0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add ("/pacer/" path, Fixture, NULL, setup, fn, teardown)
  ADD ("quiet-uncapped", test_quiet_uncapped);
  ADD ("delay/backoff", test_delay_backoff);
  ADD ("delay/proportional", test_delay_proportional);
  ADD ("delay/stale", test_stale_delay);
  ADD ("delay/base-ages-out", test_base_ages_out);
  ADD ("foreign/backoff", test_foreign_backoff);
  ADD ("foreign/not-busy", test_foreign_not_busy);
  ADD ("increase/additive", test_additive_increase);
  ADD ("increase/not-unused", test_no_increase_unused);
  ADD ("increase/plateau", test_plateau);
  ADD ("local-ignored", test_local_ignored);
  ADD ("no-link", test_no_link);
  ADD ("ticks-only-while-busy", test_ticks_only_while_busy);
  ADD ("reset-after-idle", test_reset_after_idle);
#undef ADD
  g_test_add_func ("/pacer/link/default-route", test_link_default_route);
  return g_test_run ();
}
