/* qmgrd scheduler — a token bucket for pacing: tokens (bytes) accrue at the
 * rate up to a burst; a write may take the bucket below zero, and the next one
 * waits until it is positive again, so the long-run rate is exact whatever the
 * size of the writes. Time is passed in, for tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 rate;        /* bytes per second; 0: unlimited */
  gint64 tokens;       /* may go negative */
  gint64 burst;
  gint64 updated;      /* monotonic µs */
} QmgrTokenBucket;

void qmgr_token_bucket_init (QmgrTokenBucket *b, guint64 rate, gint64 now);
void qmgr_token_bucket_set_rate (QmgrTokenBucket *b, guint64 rate, gint64 now);
/* TRUE when @bytes may pass now (and they are taken). */
gboolean qmgr_token_bucket_take (QmgrTokenBucket *b, gsize bytes, gint64 now);
/* Takes @bytes whatever the bucket holds (it may go below zero). */
void qmgr_token_bucket_charge (QmgrTokenBucket *b, guint64 bytes, gint64 now);
/* The bytes the bucket holds now (0 when empty or in debt); G_MAXINT64 when
 * unlimited. */
gint64 qmgr_token_bucket_available (QmgrTokenBucket *b, gint64 now);
/* Microseconds until a write may pass (0 when it may now). */
gint64 qmgr_token_bucket_wait (QmgrTokenBucket *b, gint64 now);

G_END_DECLS
