/* qmgr-test-httpd — the test server as a program, for the README demo and manual
 * testing: serves a generated /file.bin (ETag, Last-Modified, ranges) and the files of
 * --dir, prints its base URL on the first line of stdout, runs until SIGTERM/SIGINT. */
#include "qmgr-test-server.h"

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_SIZE (16 * 1024 * 1024)
#define CONTENT_SEED 1

typedef struct {
  QmgrTestServer *server;
  guint64 rate;
  guint count;
} Serving;

static void
serve (Serving *sv, const char *path, GBytes *content, const char *etag, gint64 mtime)
{
  qmgr_test_server_add_file (sv->server, path, content, etag, mtime);
  if (sv->rate > 0)
    {
      QmgrTestFault slow = { .kind = QMGR_FAULT_SLOW, .param = sv->rate };
      qmgr_test_server_set_fault (sv->server, path, &slow);
    }
  g_printerr ("qmgr-test-httpd: %s (%" G_GSIZE_FORMAT " bytes)\n", path,
              g_bytes_get_size (content));
  sv->count++;
}

/* Regular files under @dir, served at "/" + their path below @root.
 * Symbolic links are skipped: nothing outside the tree is served. */
static gboolean
serve_dir (Serving *sv, const char *root, const char *dir, GError **error)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, error);
  const char *name;

  if (d == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *full = g_build_filename (dir, name, NULL);
      struct stat st;

      if (lstat (full, &st) < 0)
        {
          int saved_errno = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       "%s: %s", full, g_strerror (saved_errno));
          return FALSE;
        }
      if (S_ISDIR (st.st_mode))
        {
          if (!serve_dir (sv, root, full, error))
            return FALSE;
          continue;
        }
      if (!S_ISREG (st.st_mode))
        continue;

      g_autoptr(GMappedFile) mapped = g_mapped_file_new (full, FALSE, error);
      if (mapped == NULL)
        return FALSE;
      g_autoptr(GBytes) content = g_mapped_file_get_bytes (mapped);
      const char *relative = full + strlen (root);
      while (*relative == G_DIR_SEPARATOR)
        relative++;
      /* Paths are matched decoded (libsoup undoes the percent-escapes). */
      g_autofree char *path = g_strconcat ("/", relative, NULL);
      g_autofree char *etag = g_strdup_printf ("%jx-%jx", (uintmax_t) st.st_size,
                                               (uintmax_t) st.st_mtime);
      serve (sv, path, content, etag, (gint64) st.st_mtime);
    }
  return TRUE;
}

static gboolean
on_signal (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  gint64 size = DEFAULT_SIZE;
  gint64 rate = 0;
  gint port = 0;
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "size", 0, 0, G_OPTION_ARG_INT64, &size,
      "Size of the generated /file.bin (default 16 MiB)", "BYTES" },
    { "rate", 0, 0, G_OPTION_ARG_INT64, &rate,
      "Send every body at this many bytes per second (default: as fast as possible)",
      "BYTES_PER_S" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Port on 127.0.0.1 (default: a free one)", "N" },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Also serve the files under DIR", "DIR" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("— serve test downloads");

  g_option_context_set_summary (context,
    "Serves /file.bin (generated, with ETag and Last-Modified) and the files under\n"
    "--dir on http://127.0.0.1:PORT, with Range and If-Range support. Prints the\n"
    "base URL on the first line of stdout; stops on SIGTERM or SIGINT.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("qmgr-test-httpd: %s\n", error->message);
      return 2;
    }
  if (argc > 1 || size < 0 || rate < 0 || port < 0 || port > G_MAXUINT16 ||
      (guint64) size > G_MAXSIZE)
    {
      g_printerr ("qmgr-test-httpd: bad arguments (see --help)\n");
      return 2;
    }

  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);

  Serving sv = { .rate = (guint64) rate };
  sv.server = qmgr_test_server_new_full ((guint) port, &error);
  if (sv.server == NULL)
    {
      g_printerr ("qmgr-test-httpd: %s\n", error->message);
      return 1;
    }

  g_autoptr(GBytes) content = qmgr_test_make_content ((gsize) size, CONTENT_SEED);
  g_autofree char *etag = g_strdup_printf ("qmgr-%" G_GINT64_FORMAT "-%d", size, CONTENT_SEED);
  serve (&sv, "/file.bin", content, etag, g_get_real_time () / G_USEC_PER_SEC);

  if (dir != NULL && !serve_dir (&sv, dir, dir, &error))
    {
      g_printerr ("qmgr-test-httpd: %s\n", error->message);
      qmgr_test_server_free (sv.server);
      return 1;
    }

  printf ("%s\n", qmgr_test_server_get_url (sv.server));
  fflush (stdout);

  g_main_loop_run (loop);

  qmgr_test_server_free (sv.server);
  return 0;
}
