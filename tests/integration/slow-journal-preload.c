/* qmgrd integration tests — an LD_PRELOAD shim for the daemon (test-durable): every
 * write(), writev(), pwrite() and pwritev() to a file whose name starts with "journal." (the
 * store's journal) first sleeps $QMGR_TEST_SLOW_JOURNAL_MS milliseconds (default 300),
 * then writes. A method reply sent before the daemon wrote and synced the journal
 * then reaches the client while the record is still only in the daemon's memory, and
 * a SIGKILL right after the reply loses it every time instead of by chance.
 *
 * The first delayed write of each process is announced on stderr (the daemon's log),
 * so that the test can tell the shim was loaded and saw the journal. Test-only code:
 * not async-signal-safe, no caching (a descriptor number may be reused for another
 * file), one readlink() per write. */
#undef _FILE_OFFSET_BITS /* pwrite and pwrite64 are two symbols here, both wrapped */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_DELAY_MS 300
#define JOURNAL_PREFIX "journal."

typedef ssize_t (*WriteFunc) (int, const void *, size_t);
typedef ssize_t (*WritevFunc) (int, const struct iovec *, int);
typedef ssize_t (*PwriteFunc) (int, const void *, size_t, off_t);
typedef ssize_t (*Pwrite64Func) (int, const void *, size_t, off64_t);
typedef ssize_t (*PwritevFunc) (int, const struct iovec *, int, off_t);
typedef ssize_t (*Pwritev64Func) (int, const struct iovec *, int, off64_t);

static WriteFunc real_write;
static WritevFunc real_writev;
static PwriteFunc real_pwrite;
static Pwrite64Func real_pwrite64;
static PwritevFunc real_pwritev;
static Pwritev64Func real_pwritev64;

static void *
next_symbol (const char *name)
{
  void *sym = dlsym (RTLD_NEXT, name);

  if (sym == NULL)
    abort ();
  return sym;
}

static void
resolve (void)
{
  if (real_write == NULL)
    real_write = (WriteFunc) next_symbol ("write");
  if (real_writev == NULL)
    real_writev = (WritevFunc) next_symbol ("writev");
  if (real_pwrite == NULL)
    real_pwrite = (PwriteFunc) next_symbol ("pwrite");
  if (real_pwrite64 == NULL)
    real_pwrite64 = (Pwrite64Func) next_symbol ("pwrite64");
  if (real_pwritev == NULL)
    real_pwritev = (PwritevFunc) next_symbol ("pwritev");
  if (real_pwritev64 == NULL)
    real_pwritev64 = (Pwritev64Func) next_symbol ("pwritev64");
}

static long
delay_ms (void)
{
  const char *s = getenv ("QMGR_TEST_SLOW_JOURNAL_MS");
  char *end;
  long v;

  if (s == NULL || *s == '\0')
    return DEFAULT_DELAY_MS;
  v = strtol (s, &end, 10);
  return *end == '\0' && v >= 0 ? v : DEFAULT_DELAY_MS;
}

static int
is_journal (int fd)
{
  char link[64];
  char target[4096];
  const char *base;
  ssize_t n;

  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  n = readlink (link, target, sizeof target - 1);
  if (n <= 0)
    return 0;
  target[n] = '\0';
  base = strrchr (target, '/');
  base = base != NULL ? base + 1 : target;
  return strncmp (base, JOURNAL_PREFIX, strlen (JOURNAL_PREFIX)) == 0;
}

/* Sleeps before a write to a journal; leaves errno as it was. */
static void
maybe_delay (int fd)
{
  static int announced;
  int saved = errno;
  long ms;
  struct timespec ts;

  resolve ();
  if (fd < 0 || !is_journal (fd))
    {
      errno = saved;
      return;
    }
  ms = delay_ms ();
  if (!announced)
    {
      char msg[128];
      int len = snprintf (msg, sizeof msg,
                          "slow-journal-preload: delaying writes to " JOURNAL_PREFIX
                          "* by %ld ms\n", ms);

      announced = 1;
      if (len > 0)
        (void) !real_write (STDERR_FILENO, msg, (size_t) len);
    }
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
  errno = saved;
}

ssize_t
write (int fd, const void *buf, size_t count)
{
  maybe_delay (fd);
  return real_write (fd, buf, count);
}

ssize_t
writev (int fd, const struct iovec *iov, int iovcnt)
{
  maybe_delay (fd);
  return real_writev (fd, iov, iovcnt);
}

ssize_t
pwrite (int fd, const void *buf, size_t count, off_t offset)
{
  maybe_delay (fd);
  return real_pwrite (fd, buf, count, offset);
}

ssize_t
pwrite64 (int fd, const void *buf, size_t count, off64_t offset)
{
  maybe_delay (fd);
  return real_pwrite64 (fd, buf, count, offset);
}

ssize_t
pwritev (int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
  maybe_delay (fd);
  return real_pwritev (fd, iov, iovcnt, offset);
}

ssize_t
pwritev64 (int fd, const struct iovec *iov, int iovcnt, off64_t offset)
{
  maybe_delay (fd);
  return real_pwritev64 (fd, iov, iovcnt, offset);
}
