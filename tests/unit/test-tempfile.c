/* Unit tests of temp files: never follow a symlink, never write through a file
 * that is not ours, resume from what is there, commit atomically. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commit.h"
#include "qmgr-io.h"
#include "tempfile.h"

#define HEX "0123456789abcdef0123456789abcdef"

typedef struct {
  char *dir;
  char *dest;
  char *temp;      /* the path qmgrd uses for file 0 of job HEX */
  char *outside;   /* a file an attacker would like us to overwrite */
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("qmgr-tempfile-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->dest = g_build_filename (f->dir, "dest.bin", NULL);
  f->temp = g_build_filename (f->dir, ".qmgrd-" HEX "-0.part", NULL);
  f->outside = g_build_filename (f->dir, "precious", NULL);
  g_assert_true (g_file_set_contents (f->outside, "precious", -1, NULL));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->dest);
  g_free (f->temp);
  g_free (f->outside);
}

static void
assert_outside_untouched (Fixture *f)
{
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (f->outside, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "precious");
}

static void
write_all (int fd, const char *data)
{
  g_assert_cmpint (write (fd, data, strlen (data)), ==, (ssize_t) strlen (data));
}

static void
test_create (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmgrTempFile) tf = qmgr_temp_file_open (f->dest, HEX, 0, &error);
  struct stat st;

  g_assert_no_error (error);
  g_assert_cmpuint (tf->size, ==, 0);
  g_assert_cmpint (lstat (f->temp, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
}

static void
test_resume_own (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmgrTempFile) tf = NULL;

  g_assert_true (g_file_set_contents (f->temp, "0123456789", -1, NULL));
  g_chmod (f->temp, 0600);
  tf = qmgr_temp_file_open (f->dest, HEX, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tf->size, ==, 10);
  g_assert_true (qmgr_temp_file_truncate (tf, &error));
  g_assert_cmpuint (tf->size, ==, 0);
}

static void
test_symlink_replaced (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmgrTempFile) tf = NULL;
  struct stat st;

  g_assert_cmpint (symlink (f->outside, f->temp), ==, 0);
  tf = qmgr_temp_file_open (f->dest, HEX, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tf->size, ==, 0);
  write_all (tf->fd, "attacker wanted this in precious");
  g_assert_cmpint (lstat (f->temp, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  assert_outside_untouched (f);
}

static void
test_hard_link_replaced (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmgrTempFile) tf = NULL;

  g_assert_cmpint (link (f->outside, f->temp), ==, 0);
  tf = qmgr_temp_file_open (f->dest, HEX, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tf->size, ==, 0);
  write_all (tf->fd, "overwrite");
  assert_outside_untouched (f);
}

static void
test_fifo_replaced (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmgrTempFile) tf = NULL;
  struct stat st;

  /* Opening a FIFO without O_NONBLOCK would hang the daemon. */
  g_assert_cmpint (mkfifo (f->temp, 0600), ==, 0);
  tf = qmgr_temp_file_open (f->dest, HEX, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fstat (tf->fd, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
}

typedef struct {
  guint calls;
  GPtrArray *done;        /* the data pointers, in order */
  GPtrArray *errors;      /* their errors' messages, or "" */
} Committed;

static void
on_committed (gpointer data, const GError *error, gpointer user_data)
{
  Committed *c = user_data;

  c->calls++;
  g_ptr_array_add (c->done, data);
  g_ptr_array_add (c->errors, g_strdup (error != NULL ? error->message : ""));
}

static void
wait_committed (Committed *c, guint n)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (c->calls < n && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (c->calls, ==, n);
}

static void
test_commit (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  QmgrTempFile *tf;
  g_autofree char *contents = NULL;
  struct stat st;
  mode_t mask = umask (022);
  Committed c = { 0, g_ptr_array_new (), g_ptr_array_new_with_free_func (g_free) };
  QmgrCommitQueue *q = qmgr_commit_queue_new (on_committed, &c);

  umask (mask);
  /* A symlink at the destination is replaced, not followed. */
  g_assert_cmpint (symlink (f->outside, f->dest), ==, 0);
  tf = qmgr_temp_file_open (f->dest, HEX, 0, &error);
  g_assert_no_error (error);
  write_all (tf->fd, "the downloaded file");
  qmgr_commit_queue_add (q, tf, 1000000000, GUINT_TO_POINTER (1));
  /* Not in place before it is on disk, which the main loop learns. */
  g_assert_true (g_file_test (f->temp, G_FILE_TEST_EXISTS));
  wait_committed (&c, 1);
  g_assert_cmpstr (g_ptr_array_index (c.errors, 0), ==, "");

  g_assert_cmpint (lstat (f->dest, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0666 & ~mask);
  g_assert_cmpint (st.st_mtime, ==, 1000000000);
  g_assert_true (g_file_get_contents (f->dest, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "the downloaded file");
  g_assert_false (g_file_test (f->temp, G_FILE_TEST_EXISTS));
  assert_outside_untouched (f);
  qmgr_commit_queue_free (q);
  g_ptr_array_unref (c.done);
  g_ptr_array_unref (c.errors);
}

/* Many files at once (the syncfs path), one of them cancelled, one that cannot
 * be renamed: each is reported on its own, in order; the cancelled one is not
 * put in place and not reported. */
static void
test_commit_batch (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Committed c = { 0, g_ptr_array_new (), g_ptr_array_new_with_free_func (g_free) };
  QmgrCommitQueue *q = qmgr_commit_queue_new (on_committed, &c);
  const guint n = 12, cancelled = 5, blocked = 7;
  guint expected = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("file-%u", i);
      g_autofree char *dest = g_build_filename (f->dir, name, NULL);
      QmgrTempFile *tf;

      if (i == blocked)
        {
          /* A non-empty directory at the destination: the rename fails. */
          g_autofree char *inside = g_build_filename (dest, "x", NULL);
          g_assert_cmpint (g_mkdir (dest, 0700), ==, 0);
          g_assert_true (g_file_set_contents (inside, "x", -1, NULL));
        }
      tf = qmgr_temp_file_open (dest, HEX, i, &error);
      g_assert_no_error (error);
      write_all (tf->fd, name);
      qmgr_commit_queue_add (q, tf, 0, GUINT_TO_POINTER (i + 1));
    }
  qmgr_commit_queue_cancel (q, GUINT_TO_POINTER (cancelled + 1));
  wait_committed (&c, n - 1);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("file-%u", i);
      g_autofree char *dest = g_build_filename (f->dir, name, NULL);
      g_autofree char *temp = g_strdup_printf ("%s/.qmgrd-%s-%u.part", f->dir, HEX, i);
      g_autofree char *contents = NULL;

      if (i == cancelled)
        {
          g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
          continue;
        }
      g_assert_cmpuint (GPOINTER_TO_UINT (g_ptr_array_index (c.done, expected)), ==, i + 1);
      if (i == blocked)
        {
          g_assert_nonnull (strstr (g_ptr_array_index (c.errors, expected), "rename"));
          g_assert_true (g_file_test (temp, G_FILE_TEST_IS_REGULAR));   /* kept for a retry */
        }
      else
        {
          g_assert_cmpstr (g_ptr_array_index (c.errors, expected), ==, "");
          g_assert_true (g_file_get_contents (dest, &contents, NULL, NULL));
          g_assert_cmpstr (contents, ==, name);
          g_assert_false (g_file_test (temp, G_FILE_TEST_EXISTS));
        }
      expected++;
    }
  qmgr_commit_queue_free (q);
  g_ptr_array_unref (c.done);
  g_ptr_array_unref (c.errors);
}

/* A file whose final mode cannot be set (here: its descriptor is gone) is
 * reported failed through the callback, on its own: it is not renamed, its temp
 * file stays for a retry, and the others of its batch are put in place. */
static void
test_commit_finish_fails (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Committed c = { 0, g_ptr_array_new (), g_ptr_array_new_with_free_func (g_free) };
  QmgrCommitQueue *q = qmgr_commit_queue_new (on_committed, &c);
  g_autofree char *other_dest = g_build_filename (f->dir, "other.bin", NULL);
  QmgrTempFile *tf, *other;

  tf = qmgr_temp_file_open (f->dest, HEX, 0, &error);
  g_assert_no_error (error);
  write_all (tf->fd, "never in place");
  g_assert_cmpint (close (tf->fd), ==, 0);
  tf->fd = -1;
  other = qmgr_temp_file_open (other_dest, HEX, 1, &error);
  g_assert_no_error (error);
  write_all (other->fd, "in place");
  qmgr_commit_queue_add (q, tf, 1000000000, GUINT_TO_POINTER (1));
  qmgr_commit_queue_add (q, other, 0, GUINT_TO_POINTER (2));
  wait_committed (&c, 2);

  g_assert_cmpuint (GPOINTER_TO_UINT (g_ptr_array_index (c.done, 0)), ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (c.errors, 0), "set the mode of"));
  g_assert_false (g_file_test (f->dest, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (f->temp, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (GPOINTER_TO_UINT (g_ptr_array_index (c.done, 1)), ==, 2);
  g_assert_cmpstr (g_ptr_array_index (c.errors, 1), ==, "");
  g_assert_true (g_file_test (other_dest, G_FILE_TEST_IS_REGULAR));
  qmgr_commit_queue_free (q);
  g_ptr_array_unref (c.done);
  g_ptr_array_unref (c.errors);
}

static void
test_remove (Fixture *f, gconstpointer data)
{
  g_assert_true (g_file_set_contents (f->temp, "partial", -1, NULL));
  qmgr_temp_file_remove (f->dest, HEX, 0);
  g_assert_false (g_file_test (f->temp, G_FILE_TEST_EXISTS));
  /* Another index's temp file is left alone. */
  qmgr_temp_file_remove (f->dest, HEX, 1);
}

static void
test_missing_directory (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dest = g_build_filename (f->dir, "no-such-dir", "x", NULL);
  g_autoptr(QmgrTempFile) tf = qmgr_temp_file_open (dest, HEX, 0, &error);

  g_assert_null (tf);
  g_assert_cmpint (qmgr_io_error_errno (error), ==, ENOENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add ("/tempfile/" name, Fixture, NULL, setup, fn, teardown)
  ADD ("create", test_create);
  ADD ("resume-own", test_resume_own);
  ADD ("symlink-replaced", test_symlink_replaced);
  ADD ("hard-link-replaced", test_hard_link_replaced);
  ADD ("fifo-replaced", test_fifo_replaced);
  ADD ("commit", test_commit);
  ADD ("commit-batch", test_commit_batch);
  ADD ("commit-finish-fails", test_commit_finish_fails);
  ADD ("remove", test_remove);
  ADD ("missing-directory", test_missing_directory);
  return g_test_run ();
}
