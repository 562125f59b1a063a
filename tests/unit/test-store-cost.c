/* qmgrd unit tests — what a change costs the store (TARGETS.md B10): into a
 * job of 100,000 files with 2,200-byte URLs and 4,095-byte paths, AddFiles of
 * 1,000 more such files writes at most 3× their URLs and paths, and one
 * SetProp(DisplayName) at most 64 KiB; and the same holds with the fold of the
 * journal each is followed by counted in, on a group whose file is on disk
 * (5,000 files, 32 MB: the fold's cost must not depend on it). Bytes written
 * are counted by the kernel (/proc/self/io wchar: every byte this process and
 * its threads passed to write(); and, with the fold, write_bytes: what B10
 * counts, the page cache dirtied by pages or folios, metadata included),
 * around calls wrapped in a batch as the bus wraps them. Runs in a temp dir;
 * holds about 0.7 GB of model in memory. */
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <string.h>

#include "store.h"
#include "unit-common.h"

#define BASE_FILES 100000
#define ADDED_FILES 1000
#define URL_LEN 2200
#define PATH_LEN 4095
/* The group whose file is on disk, and what is added to it. */
#define FOLD_FILES 5000
#define FOLD_ADDED 500
/* Files whose record outgrows the journal's bound (32 MiB). */
#define BUSY_FILES 5600

/* A counter of /proc/self/io ("wchar": bytes this process and its threads
 * have passed to write() and friends; "write_bytes": bytes of the page cache
 * they dirtied, by pages or folios, and of metadata, which TARGETS.md B10
 * counts; 0 where the file system has no block device). */
static guint64
io_counter (const char *key)
{
  g_autofree char *io = NULL;
  g_autofree char *prefix = g_strconcat (key, ": ", NULL);
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/io", &io, NULL, NULL));
  line = strstr (io, prefix);
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen (prefix), NULL, 10);
}

static guint64
bytes_written (void)
{
  return io_counter ("wchar");
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

/* Puts @n files into @job directly, neither validated nor saved. */
static void
put_files (QmgrJob *job, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      QmgrFileSpec spec;
      QmgrFile *f;

      make_spec (&spec, i);
      f = qmgr_file_new (spec.remote_url, spec.local_path, 0);
      g_ptr_array_add (job->files, f);
      qmgr_job_tally (job, f);
      g_free ((char *) spec.remote_url);
      g_free ((char *) spec.local_path);
    }
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
  put_files (g->job, BASE_FILES);

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

/* Calls AddFiles of @n files (or SetProp when @n is 0) in a batch, then folds
 * the journal: the bytes written (wchar), the fold's included; *@dirtied
 * receives write_bytes for the same. */
static guint64
cost_with_fold (QmgrStore *store, QmgrGroup *g, guint first, guint n, guint64 *text,
                guint64 *dirtied)
{
  g_autoptr(GError) error = NULL;
  guint64 before = bytes_written ();

  *dirtied = io_counter ("write_bytes");

  qmgr_manager_begin_batch (g->manager);
  if (n > 0)
    add_files (g->job, first, n, text);
  else
    g_assert_true (qmgr_group_set_display_name (g, "renamed", &error));
  g_assert_true (qmgr_manager_end_batch (g->manager, &error));
  g_assert_no_error (error);
  qmgr_store_compact (store);
  *dirtied = io_counter ("write_bytes") - *dirtied;
  return bytes_written () - before;
}

static goffset
size_of (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  struct stat st;

  return stat (path, &st) == 0 ? st.st_size : -1;
}

static void
test_cost_with_fold (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("qmgr-unit-store-cost-XXXXXX", &error);
  g_autofree char *state = g_build_filename (tmp, "state", NULL);
  g_autofree char *groups = g_build_filename (state, "groups", NULL);
  g_autofree char *group_name = NULL, *parts_name = NULL;
  QmgrManager *m = unit_manager_new (0, FOLD_FILES + FOLD_ADDED);
  QmgrStore *store = qmgr_store_open (state, &error);
  QmgrManager *loaded;
  QmgrStore *store2;
  QmgrGroup *g, *back;
  char hex[QMGR_GUID_HEX_LEN + 1];
  guint64 add_cost, set_cost, add_dirtied, set_dirtied, added_text = 0;
  goffset file_len;

  g_assert_no_error (error);
  qmgr_manager_set_store (m, qmgr_store_hooks (), store);
  g = unit_create_group (m, GUID_A, UNIT_OWNER);
  unit_create_job (g, GUID_B);
  put_files (g->job, FOLD_FILES);
  g_assert_true (qmgr_manager_save_group (m, g, NULL, QMGR_SAVE_NOW, &error));
  g_assert_no_error (error);
  qmgr_store_compact (store);
  qmgr_guid_to_hex (g->id, hex);
  group_name = g_strconcat (hex, ".group", NULL);
  parts_name = g_strconcat (hex, ".parts", NULL);
  file_len = size_of (groups, group_name);
  g_assert_cmpint (file_len, >, 30 << 20);

  add_cost = cost_with_fold (store, g, FOLD_FILES, FOLD_ADDED, &added_text, &add_dirtied);
  set_cost = cost_with_fold (store, g, 0, 0, NULL, &set_dirtied);
  g_test_message ("With the fold, into a group file of %" G_GOFFSET_FORMAT " bytes: AddFiles "
                  "of %u files (%" G_GUINT64_FORMAT " bytes of URLs and paths): %"
                  G_GUINT64_FORMAT " bytes written (%.2f x), %" G_GUINT64_FORMAT " dirtied; "
                  "SetProp: %" G_GUINT64_FORMAT " written, %" G_GUINT64_FORMAT " dirtied",
                  file_len, FOLD_ADDED, added_text, add_cost,
                  (double) add_cost / (double) added_text, add_dirtied, set_cost, set_dirtied);
  g_assert_cmpuint (add_cost, >=, added_text);
  g_assert_cmpuint (add_cost, <=, 3 * added_text);
  g_assert_cmpuint (add_dirtied, <=, 3 * added_text);
  g_assert_cmpuint (set_cost, >, 0);
  g_assert_cmpuint (set_cost, <=, 64 << 10);
  g_assert_cmpuint (set_dirtied, <=, 64 << 10);
  /* Carried: the group file as it was, the changes beside it. */
  g_assert_cmpint (size_of (groups, group_name), ==, file_len);
  g_assert_cmpint (size_of (groups, parts_name), >, (goffset) added_text);

  /* What was carried loads back. */
  loaded = unit_manager_new (0, FOLD_FILES + FOLD_ADDED);
  store2 = qmgr_store_open (state, &error);
  g_assert_no_error (error);
  qmgr_manager_set_store (loaded, qmgr_store_hooks (), store2);
  g_assert_true (qmgr_store_load (store2, loaded, &error));
  g_assert_no_error (error);
  back = qmgr_manager_lookup_group (loaded, g->id);
  g_assert_nonnull (back);
  g_assert_cmpstr (back->display_name, ==, "renamed");
  g_assert_cmpuint (back->job->files->len, ==, FOLD_FILES + FOLD_ADDED);
  for (guint i = FOLD_FILES - 1; i < FOLD_FILES + FOLD_ADDED; i += FOLD_ADDED / 4)
    {
      QmgrFile *a = g_ptr_array_index (g->job->files, i);
      QmgrFile *b = g_ptr_array_index (back->job->files, i);

      g_assert_cmpstr (a->remote_url, ==, b->remote_url);
      g_assert_cmpstr (a->local_path, ==, b->local_path);
    }

  qmgr_manager_free (loaded);
  qmgr_store_free (store2);
  qmgr_manager_free (m);
  qmgr_store_free (store);
  remove_tree (tmp);
}

/* ---- a fold asked for while another runs ---- */

typedef struct {
  GMutex lock;
  GCond cond;
  gboolean held, released;
} Gate;

/* Holds the first fold once it has read its journals, until released. */
static void
hold_first_fold (const char *step, gpointer data)
{
  Gate *gate = data;

  if (strcmp (step, "replayed") != 0)
    return;
  g_mutex_lock (&gate->lock);
  if (!gate->held)
    {
      gate->held = TRUE;
      g_cond_broadcast (&gate->cond);
      while (!gate->released)
        g_cond_wait (&gate->cond, &gate->lock);
    }
  g_mutex_unlock (&gate->lock);
}

/* Whether a journal in @dir holds a record (anything but the zeros of its
 * room). */
static gboolean
journal_holds_records (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  gboolean found = FALSE;

  g_assert_nonnull (d);
  while (!found && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len;

      if (!g_str_has_prefix (name, "journal.") ||
          !g_file_get_contents (path, &contents, &len, NULL))
        continue;
      for (gsize i = 0; i < len && !found; i++)
        found = contents[i] != '\0';
    }
  g_dir_close (d);
  return found;
}

/* A journal past its size bound while the previous one is still being folded
 * is folded once that fold ends (the store asks again), not whenever a change
 * comes next: a burst of big changes leaves nothing in the journal. */
static void
test_fold_after_busy_fold (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("qmgr-unit-store-cost-XXXXXX", &error);
  g_autofree char *state = g_build_filename (tmp, "state", NULL);
  g_autofree char *groups = g_build_filename (state, "groups", NULL);
  QmgrManager *m = unit_manager_new (0, BUSY_FILES);
  QmgrStore *store = qmgr_store_open (state, &error);
  Gate gate = { 0 };
  gint64 deadline;
  QmgrGroup *g;

  g_assert_no_error (error);
  g_mutex_init (&gate.lock);
  g_cond_init (&gate.cond);
  qmgr_manager_set_store (m, qmgr_store_hooks (), store);
  qmgr_store_set_fold_hook (store, hold_first_fold, &gate);
  g = unit_create_group (m, GUID_A, UNIT_OWNER);
  unit_create_job (g, GUID_B);
  put_files (g->job, BUSY_FILES);

  /* 35 MB saved whole: past the bound, a fold starts (and is held). */
  g_assert_true (qmgr_manager_save_group (m, g, NULL, QMGR_SAVE_NOW, &error));
  g_assert_no_error (error);
  g_mutex_lock (&gate.lock);
  while (!gate.held)
    g_cond_wait (&gate.cond, &gate.lock);
  g_mutex_unlock (&gate.lock);
  /* Again, into the next journal: past the bound while the fold runs. */
  g_assert_true (qmgr_manager_save_group (m, g, NULL, QMGR_SAVE_NOW, &error));
  g_assert_no_error (error);
  g_mutex_lock (&gate.lock);
  gate.released = TRUE;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.lock);

  /* Within 10 s (the store's timer would take 30), by the store alone: its
   * timers run, and the journals are looked at every 50 ms. */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (journal_holds_records (groups) && g_get_monotonic_time () < deadline)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (50000);
    }
  g_assert_false (journal_holds_records (groups));

  qmgr_store_set_fold_hook (store, NULL, NULL);
  qmgr_manager_free (m);
  qmgr_store_free (store);
  g_mutex_clear (&gate.lock);
  g_cond_clear (&gate.cond);
  remove_tree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store-cost/add-files-and-set-prop", test_cost);
  g_test_add_func ("/store-cost/with-fold", test_cost_with_fold);
  g_test_add_func ("/store-cost/fold-after-busy-fold", test_fold_after_busy_fold);
  return g_test_run ();
}
