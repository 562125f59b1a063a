/* qmgrd unit tests — what a change costs the store (TARGETS.md B10): into a
 * job of 100,000 files with 2,200-byte URLs and 4,095-byte paths, AddFiles of
 * 1,000 more such files writes at most 3× their URLs and paths, and one
 * SetProp(DisplayName) at most 64 KiB. Bytes written are counted by the
 * kernel (/proc/self/io wchar: every byte this process passed to write()),
 * around calls wrapped in a batch as the bus wraps them. Runs in a temp dir;
 * holds about 0.7 GB of model in memory. */
#include <glib/gstdio.h>
#include <string.h>

#include "store.h"
#include "unit-common.h"

#define BASE_FILES 100000
#define ADDED_FILES 1000
#define URL_LEN 2200
#define PATH_LEN 4095

/* Bytes this process has passed to write() and friends so far. */
static guint64
bytes_written (void)
{
  g_autofree char *io = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/io", &io, NULL, NULL));
  line = strstr (io, "wchar: ");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("wchar: "), NULL, 10);
}

/* A URL of exactly URL_LEN bytes and a path of exactly PATH_LEN bytes, both
 * unique to @index. */
static void
make_spec (QmgrFileSpec *spec, guint index)
{
  GString *url = g_string_new (NULL);
  GString *path = g_string_new (NULL);

  g_string_printf (url, "https://example.com/%08u/", index);
  while (url->len < URL_LEN)
    g_string_append_c (url, 'u');
  g_string_printf (path, "/tmp/qmgr-unit-cost/%08u", index);
  /* Components of 200 bytes (NAME_MAX is 255). */
  while (path->len < PATH_LEN)
    {
      gsize room = PATH_LEN - path->len;

      if (room < 3)
        {
          g_string_append_len (path, "ppp", (gssize) room);
          break;
        }
      g_string_append_c (path, '/');
      for (gsize i = 0; i < MIN (room - 1, 200); i++)
        g_string_append_c (path, 'p');
    }
  g_assert_cmpuint (url->len, ==, URL_LEN);
  g_assert_cmpuint (path->len, ==, PATH_LEN);
  spec->remote_url = g_string_free (url, FALSE);
  spec->local_path = g_string_free (path, FALSE);
  spec->size_hint = 0;
}

/* AddFiles of @n files, as a client makes it. */
static void
add_files (QmgrJob *job, guint first, guint n, guint64 *text_bytes)
{
  g_autoptr(GError) error = NULL;
  QmgrFileSpec *specs = g_new0 (QmgrFileSpec, n);

  for (guint i = 0; i < n; i++)
    {
      make_spec (&specs[i], first + i);
      *text_bytes += strlen (specs[i].remote_url) + strlen (specs[i].local_path);
    }
  g_assert_true (qmgr_job_add_files (job, specs, n, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      g_free ((char *) specs[i].remote_url);
      g_free ((char *) specs[i].local_path);
    }
  g_free (specs);
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
              !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static void
test_cost (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("qmgr-unit-store-cost-XXXXXX", &error);
  g_autofree char *state = g_build_filename (tmp, "state", NULL);
  QmgrManager *m = unit_manager_new (0, BASE_FILES + ADDED_FILES);
  QmgrStore *store = qmgr_store_open (state, &error);
  QmgrGroup *g;
  guint64 before, add_cost, set_cost, added_text = 0;

  g_assert_no_error (error);
  qmgr_manager_set_store (m, qmgr_store_hooks (), store);
  g = unit_create_group (m, GUID_A, UNIT_OWNER);
  unit_create_job (g, GUID_B);

  /* The 100,000 files are put in directly, neither validated nor saved: what
   * they would write once (0.6 GB) is not what is measured, a fold of it
   * would run beside the calls that are, and validating them all takes most
   * of a minute under ASan. The records below are then parts of a group whose
   * file is missing: nothing reloads them. */
  for (guint i = 0; i < BASE_FILES; i++)
    {
      QmgrFileSpec spec;
      QmgrFile *f;

      make_spec (&spec, i);
      f = qmgr_file_new (spec.remote_url, spec.local_path, 0);
      g_ptr_array_add (g->job->files, f);
      qmgr_job_tally (g->job, f);
      g_free ((char *) spec.remote_url);
      g_free ((char *) spec.local_path);
    }

  before = bytes_written ();
  qmgr_manager_begin_batch (m);
  add_files (g->job, BASE_FILES, ADDED_FILES, &added_text);
  g_assert_true (qmgr_manager_end_batch (m, &error));
  g_assert_no_error (error);
  add_cost = bytes_written () - before;

  before = bytes_written ();
  qmgr_manager_begin_batch (m);
  g_assert_true (qmgr_group_set_display_name (g, "renamed", &error));
  g_assert_true (qmgr_manager_end_batch (m, &error));
  g_assert_no_error (error);
  set_cost = bytes_written () - before;

  g_test_message ("AddFiles of %u files (%" G_GUINT64_FORMAT " bytes of URLs and paths) into "
                  "%u: %" G_GUINT64_FORMAT " bytes written (%.2f x)", ADDED_FILES, added_text,
                  BASE_FILES, add_cost, (double) add_cost / (double) added_text);
  g_test_message ("SetProp(DisplayName): %" G_GUINT64_FORMAT " bytes written", set_cost);
  g_assert_cmpuint (g->job->files->len, ==, BASE_FILES + ADDED_FILES);
  g_assert_cmpuint (add_cost, >=, added_text);   /* it was written at all */
  g_assert_cmpuint (add_cost, <=, 3 * added_text);
  g_assert_cmpuint (set_cost, >, 0);
  g_assert_cmpuint (set_cost, <=, 64 << 10);

  qmgr_manager_free (m);
  qmgr_store_free (store);
  remove_tree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store-cost/add-files-and-set-prop", test_cost);
  return g_test_run ();
}
