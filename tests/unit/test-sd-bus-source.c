/* qmgrd unit tests — the sd-bus GSource when its connection fails: the error
 * is reported once, and the dead socket then wakes the main loop no more (a
 * hung-up fd left in the poll set would make every iteration dispatch). */
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "qmgr-sd-bus-source.h"

typedef struct {
  int errors;
  int last_error;
} Failure;

static void
on_error (int error, gpointer user_data)
{
  Failure *f = user_data;
  f->errors++;
  f->last_error = error;
}

static gboolean
on_deadline (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_peer_gone (void)
{
  GMainContext *context = g_main_context_new ();
  int pair[2];
  sd_bus *bus = NULL;
  Failure f = { 0 };
  gboolean expired = FALSE;
  GSource *source, *deadline;

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair));
  g_assert_cmpint (sd_bus_new (&bus), >=, 0);
  g_assert_cmpint (sd_bus_set_fd (bus, pair[0], pair[0]), >=, 0);
  g_assert_cmpint (sd_bus_start (bus), >=, 0);

  source = qmgr_sd_bus_source_new (bus, on_error, &f);
  g_source_attach (source, context);
  deadline = g_timeout_source_new_seconds (10);
  g_source_set_callback (deadline, on_deadline, &expired, NULL);
  g_source_attach (deadline, context);

  /* The other end goes away in the middle of the authentication. */
  g_assert_no_errno (close (pair[1]));
  while (f.errors == 0 && !expired)
    g_main_context_iteration (context, TRUE);
  g_assert_false (expired);
  g_assert_cmpint (f.errors, ==, 1);
  g_assert_cmpint (f.last_error, <, 0);

  /* Nothing is ready any more: the loop would sleep. */
  for (int i = 0; i < 100; i++)
    g_assert_false (g_main_context_iteration (context, FALSE));
  g_assert_cmpint (f.errors, ==, 1);

  g_source_destroy (deadline);
  g_source_unref (deadline);
  g_source_destroy (source);
  g_source_unref (source);
  sd_bus_flush_close_unref (bus);
  g_main_context_unref (context);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sd-bus-source/peer-gone", test_peer_gone);
  return g_test_run ();
}
