/* Unit tests of the scheduler's arithmetic: token buckets and retry back-off. */
#include <glib.h>

#include "scheduler.h"
#include "token-bucket.h"

#define SEC G_USEC_PER_SEC

/* Feed 16 KiB writes for @seconds of simulated time, each as soon as the bucket
 * allows; return the bytes that passed. */
static guint64
simulate (guint64 rate, double seconds)
{
  QmgrTokenBucket b;
  gint64 now = 1000 * SEC, end = now + (gint64) (seconds * SEC);
  guint64 passed = 0;

  qmgr_token_bucket_init (&b, rate, now);
  while (now < end)
    {
      gint64 wait = qmgr_token_bucket_wait (&b, now);
      if (wait > 0)
        {
          now += wait;
          continue;
        }
      g_assert_true (qmgr_token_bucket_take (&b, 16384, now));
      passed += 16384;
    }
  return passed;
}

static void
test_bucket_rate (void)
{
  const guint64 rates[] = { 100000, 4 * 1024 * 1024, 100 * 1024 * 1024 };

  for (guint i = 0; i < G_N_ELEMENTS (rates); i++)
    {
      guint64 passed = simulate (rates[i], 20.0);
      double rate = (double) passed / 20.0;
      g_test_message ("rate %" G_GUINT64_FORMAT ": measured %.0f", rates[i], rate);
      /* The burst (a tenth of a second) and one write of slack at most. */
      g_assert_cmpfloat (rate, <=, rates[i] * 1.0 + (rates[i] / 10.0 + 2 * 16384) / 20.0);
      g_assert_cmpfloat (rate, >=, rates[i] * 0.99);
    }
}

/* A limit near 2^64 bytes/s: refilling after a long pause must not overflow
 * (UBSan reports the conversion) and must never hold a write. */
static void
test_bucket_huge_rate (void)
{
  QmgrTokenBucket b;
  gint64 now = 1000 * SEC;

  qmgr_token_bucket_init (&b, G_MAXUINT64 - 1, now);
  for (int i = 0; i < 100; i++)
    {
      now += (i % 2 == 0) ? 1 : (gint64) 3600 * SEC;
      g_assert_cmpint (qmgr_token_bucket_wait (&b, now), ==, 0);
      g_assert_true (qmgr_token_bucket_take (&b, 1 << 20, now));
      g_assert_cmpint (qmgr_token_bucket_available (&b, now), >, 0);
    }
  /* Charged beyond any plausible debt: it saturates, and the wait stays finite. */
  for (int i = 0; i < 8; i++)
    qmgr_token_bucket_charge (&b, G_MAXUINT64, now);
  qmgr_token_bucket_set_rate (&b, 1, now);
  g_assert_cmpint (qmgr_token_bucket_wait (&b, now), >, 0);
  g_assert_cmpint (qmgr_token_bucket_wait (&b, now), <=, (gint64) 86400 * SEC + 1);
}

static void
test_bucket_unlimited (void)
{
  QmgrTokenBucket b;

  qmgr_token_bucket_init (&b, 0, 0);
  for (int i = 0; i < 1000; i++)
    g_assert_true (qmgr_token_bucket_take (&b, 1 << 20, 0));
  g_assert_cmpint (qmgr_token_bucket_wait (&b, 0), ==, 0);
}

static void
test_bucket_wait_exact (void)
{
  QmgrTokenBucket b;

  qmgr_token_bucket_init (&b, 1000000, 0);
  /* Spend the burst (100,000 bytes) and then some: debt of 100,000 bytes. */
  g_assert_true (qmgr_token_bucket_take (&b, 200000, 0));
  g_assert_false (qmgr_token_bucket_take (&b, 1, 0));
  /* 100,001 bytes at 1 MB/s: a little over 0.1 s. */
  g_assert_cmpint (qmgr_token_bucket_wait (&b, 0), >=, SEC / 10);
  g_assert_cmpint (qmgr_token_bucket_wait (&b, 0), <=, SEC / 10 + 10);
  g_assert_cmpint (qmgr_token_bucket_wait (&b, SEC / 10 + 10), ==, 0);
  g_assert_true (qmgr_token_bucket_take (&b, 1, SEC / 10 + 10));
}

static void
test_bucket_set_rate (void)
{
  QmgrTokenBucket b;

  qmgr_token_bucket_init (&b, 0, 0);
  qmgr_token_bucket_set_rate (&b, 50000, 0);
  /* The burst is one write (16 KiB) at this rate; the next waits a third of a second. */
  g_assert_true (qmgr_token_bucket_take (&b, 16384, 0));
  g_assert_false (qmgr_token_bucket_take (&b, 16384, 0));
  g_assert_cmpint (qmgr_token_bucket_wait (&b, 0), >, 0);
  g_assert_true (qmgr_token_bucket_take (&b, 16384, SEC / 2));
  qmgr_token_bucket_set_rate (&b, 0, 0);
  g_assert_true (qmgr_token_bucket_take (&b, 16384, 0));
}

static void
test_retry_delay (void)
{
  /* Doubling from MinimumRetryDelay up to max(600 s, MinimumRetryDelay). */
  g_assert_cmpuint (qmgr_scheduler_retry_delay (60, 1, 0.0), ==, 60);
  g_assert_cmpuint (qmgr_scheduler_retry_delay (60, 2, 0.0), ==, 120);
  g_assert_cmpuint (qmgr_scheduler_retry_delay (60, 4, 0.0), ==, 480);
  g_assert_cmpuint (qmgr_scheduler_retry_delay (60, 5, 0.0), ==, 600);
  g_assert_cmpuint (qmgr_scheduler_retry_delay (60, 500, 0.0), ==, 600);
  g_assert_cmpuint (qmgr_scheduler_retry_delay (900, 1, 0.0), ==, 900);
  g_assert_cmpuint (qmgr_scheduler_retry_delay (900, 9, 0.0), ==, 900);
  g_assert_cmpuint (qmgr_scheduler_retry_delay (1, 3, 0.0), ==, 4);
  /* Jitter adds at most a quarter. */
  g_assert_cmpuint (qmgr_scheduler_retry_delay (60, 1, 0.999), <=, 75);
  g_assert_cmpuint (qmgr_scheduler_retry_delay (60, 1, 0.999), >, 60);
  /* A MinimumRetryDelay near 2^32 s plus its jitter does not wrap. */
  g_assert_cmpuint (qmgr_scheduler_retry_delay (G_MAXUINT32, 1, 0.999), >=, G_MAXUINT32);
  g_assert_cmpuint (qmgr_scheduler_retry_delay (G_MAXUINT32, 40, 0.0), ==, G_MAXUINT32);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pacing/bucket/rate", test_bucket_rate);
  g_test_add_func ("/pacing/bucket/unlimited", test_bucket_unlimited);
  g_test_add_func ("/pacing/bucket/huge-rate", test_bucket_huge_rate);
  g_test_add_func ("/pacing/bucket/wait-exact", test_bucket_wait_exact);
  g_test_add_func ("/pacing/bucket/set-rate", test_bucket_set_rate);
  g_test_add_func ("/pacing/retry-delay", test_retry_delay);
  return g_test_run ();
}
