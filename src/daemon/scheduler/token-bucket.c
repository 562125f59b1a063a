/* qmgrd scheduler — token bucket arithmetic. */
#include "token-bucket.h"

/* A tenth of a second of traffic, at least one curl write (16 KiB). */
static gint64
burst_for (guint64 rate)
{
  return MAX ((gint64) (rate / 10), 16384);
}

static void
refill (QmgrTokenBucket *b, gint64 now)
{
  if (now > b->updated && b->rate > 0)
    {
      gint64 elapsed = now - b->updated;
      /* rate × elapsed µs can overflow for huge rates: cap elapsed first. */
      gint64 add = (gint64) ((double) b->rate * (double) MIN (elapsed, G_USEC_PER_SEC * 10) /
                             G_USEC_PER_SEC);
      b->tokens = MIN (b->tokens + add, b->burst);
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
  b->tokens -= (gint64) bytes;
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
  /* Until the bucket holds at least one byte again. */
  return (gint64) ((double) (1 - b->tokens) * G_USEC_PER_SEC / (double) b->rate) + 1;
}

void
qmgr_token_bucket_charge (QmgrTokenBucket *b, guint64 bytes, gint64 now)
{
  if (b->rate == 0)
    return;
  refill (b, now);
  b->tokens -= (gint64) MIN (bytes, (guint64) G_MAXINT64 / 2);
}

gint64
qmgr_token_bucket_available (QmgrTokenBucket *b, gint64 now)
{
  if (b->rate == 0)
    return G_MAXINT64;
  refill (b, now);
  return MAX (b->tokens, 0);
}
