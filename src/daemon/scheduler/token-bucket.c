/* qmgrd scheduler — token bucket arithmetic. */
#include "token-bucket.h"

/* A tenth of a second of traffic, at least one curl write (16 KiB). */
static gint64
burst_for (guint64 rate)
{
  return MAX ((gint64) (rate / 10), 16384);
}

/* Debt is bounded too: charges saturate here rather than wrap. */
#define TOKENS_FLOOR (G_MININT64 / 4)

static void
refill (QmgrTokenBucket *b, gint64 now)
{
  if (now > b->updated && b->rate > 0)
    {
      /* In floating point, compared before converting: rate × elapsed can be far
       * beyond 2^63 for a rate near 2^64 (and the bucket holds a burst at most). */
      double add = (double) b->rate * (double) (now - b->updated) / G_USEC_PER_SEC;
      double room = (double) b->burst - (double) b->tokens;

      b->tokens = add >= room ? b->burst : b->tokens + (gint64) add;
    }
  b->updated = now;
}

void
qmgr_token_bucket_init (QmgrTokenBucket *b, guint64 rate, gint64 now)
{
  b->rate = rate;
  b->burst = burst_for (rate);
  b->tokens = b->burst;
  b->updated = now;
}

void
qmgr_token_bucket_set_rate (QmgrTokenBucket *b, guint64 rate, gint64 now)
{
  refill (b, now);
  b->rate = rate;
  b->burst = burst_for (rate);
  b->tokens = MIN (b->tokens, b->burst);
}

gboolean
qmgr_token_bucket_take (QmgrTokenBucket *b, gsize bytes, gint64 now)
{
  if (b->rate == 0)
    return TRUE;
  refill (b, now);
  if (b->tokens <= 0)
    return FALSE;
  qmgr_token_bucket_charge (b, bytes, now);
  return TRUE;
}

gint64
qmgr_token_bucket_wait (QmgrTokenBucket *b, gint64 now)
{
  if (b->rate == 0)
    return 0;
  refill (b, now);
  if (b->tokens > 0)
    return 0;
  /* Until the bucket holds at least one byte again (at most a day: a debt that
   * large is a limit that was lowered by orders of magnitude). */
  return (gint64) MIN ((double) (1 - b->tokens) * G_USEC_PER_SEC / (double) b->rate,
                       (double) G_USEC_PER_SEC * 86400) + 1;
}

void
qmgr_token_bucket_charge (QmgrTokenBucket *b, guint64 bytes, gint64 now)
{
  if (b->rate == 0)
    return;
  refill (b, now);
  if ((guint64) (b->tokens - TOKENS_FLOOR) <= bytes)
    b->tokens = TOKENS_FLOOR;
  else
    b->tokens -= (gint64) bytes;
}

gint64
qmgr_token_bucket_available (QmgrTokenBucket *b, gint64 now)
{
  if (b->rate == 0)
    return G_MAXINT64;
  refill (b, now);
  return MAX (b->tokens, 0);
}
