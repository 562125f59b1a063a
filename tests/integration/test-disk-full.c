/* qmgrd integration tests — docs/targets.md R6: the disk fills up during a transfer. The
 * destination lives on a small tmpfs (in a private mount namespace when the test may
 * make one); the write fails with ENOSPC, a transient LocalFile error (win32_result
 * 28, WaitReason "retrying", retries counted); once the tmpfs is remounted bigger the
 * transfer resumes where it stopped and the file is exact. Without the right to mount
 * the test is skipped. */
#include "it-util.h"
#include "qmgr-test-server.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#define GROUP QMGR_TEST_GROUP_IFACE
#define JOB QMGR_TEST_JOB_IFACE
#define DEADLINE_MS 20000
#define FILE_SIZE (1024 * 1024)
#define SMALL "size=256k,mode=0700"
#define BIG "size=4m,mode=0700"
#define LOCAL_FILE_ERROR "io.github.qmgrd.QMgr1.Transfer.LocalFile"

static gboolean private_namespace;

typedef struct {
  QmgrTestDaemon *d;
  ItGroup *g;
  guint32 min_retries;
} RetryWait;

static void
job_status (QmgrTestDaemon *d, ItGroup *g, guint32 *status, guint32 *win32,
            guint32 *transport, guint32 *retries)
{
  g_autoptr(GVariant) reply = it_call_ok (d, g->job_path, JOB, "GetStatus", NULL, "(uuuu)");

  g_variant_get (reply, "(uuuu)", status, win32, transport, retries);
}

/* Waiting for a retry after a LocalFile error, with at least @min_retries counted. */
static gboolean
retrying_after_local_error (gpointer user_data)
{
  RetryWait *w = user_data;
  g_autofree char *reason = it_get_s (w->d, w->g->path, GROUP, "WaitReason");
  g_autoptr(GVariant) last_error = it_get_property (w->d, w->g->job_path, JOB, "LastError");
  const char *name;
  guint32 status, win32, transport, retries;

  g_variant_get (last_error, "(&ss)", &name, NULL);
  if (g_strcmp0 (reason, "retrying") != 0 || g_strcmp0 (name, LOCAL_FILE_ERROR) != 0)
    return FALSE;
  job_status (w->d, w->g, &status, &win32, &transport, &retries);
  return retries >= w->min_retries;
}

static goffset
size_of (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 ? st.st_size : -1;
}

static void
test_disk_full (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(GBytes) content = qmgr_test_make_content (FILE_SIZE, 28);
  g_autoptr(ItGroup) g = NULL;
  g_autoptr(ItRecorder) rec = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *mount_point = it_file (f->d, "small");
  g_autofree char *dest = g_build_filename (mount_point, "big.bin", NULL);
  g_autofree char *url = qmgr_test_server_get_url_for (server, "/big.bin");
  g_autofree char *hex = NULL;
  g_autofree char *temp = NULL;
  g_autofree char *data_read = NULL;
  guint32 status, win32, transport, retries;
  goffset partial;
  gsize len;

  g_assert_cmpint (g_mkdir (mount_point, 0700), ==, 0);
  if (mount ("tmpfs", mount_point, "tmpfs", MS_NOSUID | MS_NODEV, SMALL) < 0)
    {
      g_autofree char *why = g_strdup_printf ("cannot mount a tmpfs: %s", g_strerror (errno));
      g_test_skip (why);
      return;
    }
  g_test_message ("tmpfs (%s) at %s, %s mount namespace", SMALL, mount_point,
                  private_namespace ? "in a private" : "in the shared");

  qmgr_test_server_add_file (server, "/big.bin", content, "v1", 1700000000);
  g = it_group_create (f->d, TRUE);
  hex = it_guid_hex (g->job_id);
  temp = g_strdup_printf ("%s/.qmgrd-%s-0.part", mount_point, hex);
  it_set_property (f->d, g->path, GROUP, "MinimumRetryDelay", g_variant_new_uint32 (1), &error);
  g_assert_no_error (error);
  it_add_file (f->d, g->job_path, url, dest, FILE_SIZE, &error);
  g_assert_no_error (error);
  rec = it_recorder_new (f->d);
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);

  /* Full: a transient LocalFile error with the errno. */
  {
    RetryWait w = { f->d, g, 1 };
    g_assert_true (it_poll_until (retrying_after_local_error, &w, 10, DEADLINE_MS));
  }
  job_status (f->d, g, &status, &win32, &transport, &retries);
  g_test_message ("disk full: job status 0x%x, win32 %u, transport %u, retries %u", status,
                  win32, transport, retries);
  g_assert_cmpuint (status, ==, IT_STATUS_JOB_INCOMPLETE);
  g_assert_cmpuint (win32, ==, ENOSPC);
  g_assert_cmpuint (transport, ==, 0);
  g_assert_cmpuint (retries, >=, 1);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, IT_STATUS_GROUP_INCOMPLETE);
  {
    g_autoptr(GVariant) reply = it_call_ok (f->d, g->job_path, JOB, "GetFileStatus",
                                            g_variant_new ("(u)", 0), "(utt(ss))");
    guint32 file_status;
    const char *name;

    g_variant_get (reply, "(utt(&ss))", &file_status, NULL, NULL, &name, NULL);
    g_assert_cmpuint (file_status, ==, IT_STATUS_FILE_INCOMPLETE);
    g_assert_cmpstr (name, ==, LOCAL_FILE_ERROR);
  }
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));

  /* It stays transient while the disk is full: retries grow, no error OnStatus. */
  {
    RetryWait w = { f->d, g, retries + 1 };
    g_assert_true (it_poll_until (retrying_after_local_error, &w, 10, DEADLINE_MS));
  }
  it_recorder_sync (rec);
  g_assert_cmpuint (it_recorder_count (rec, g->path, GROUP, "OnStatus"), ==, 0);
  g_assert_cmpuint (it_group_status (f->d, g->path), ==, IT_STATUS_GROUP_INCOMPLETE);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));

  /* What arrived is kept, and is the start of the file. */
  g_assert_true (g_file_get_contents (temp, &data_read, &len, NULL));
  partial = (goffset) len;
  g_test_message ("%" G_GSIZE_FORMAT " bytes in the temp file", len);
  g_assert_cmpuint (len, >, 0);
  g_assert_cmpuint (len, <, FILE_SIZE);
  g_assert_cmpmem (data_read, len, g_bytes_get_data (content, NULL), len);

  /* Space returns: the next retry resumes where the data stopped and completes. */
  g_assert_cmpint (mount ("tmpfs", mount_point, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV, BIG),
                   ==, 0);
  g_assert_true (it_wait_property (f->d, g->path, GROUP, "Status", g_variant_new_uint32 (0x140),
                                   DEADLINE_MS));
  g_assert_cmpuint (it_job_status (f->d, g->job_path), ==, IT_STATUS_JOB_COMPLETE);
  g_clear_pointer (&data_read, g_free);
  g_file_get_contents (dest, &data_read, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (data_read, len, g_bytes_get_data (content, NULL), FILE_SIZE);
  g_assert_cmpint (size_of (temp), ==, -1);
  {
    g_autofree char *range = qmgr_test_server_get_last_request_header (server, "/big.bin",
                                                                        "Range");
    g_autofree char *expected = g_strdup_printf ("bytes=%" G_GOFFSET_FORMAT "-", partial);
    g_assert_cmpstr (range, ==, expected);
  }
  {
    g_autoptr(GDir) dir = g_dir_open (mount_point, 0, NULL);
    const char *name;

    g_assert_nonnull (dir);
    while ((name = g_dir_read_name (dir)) != NULL)
      g_assert_false (g_str_has_prefix (name, ".qmgrd-"));
  }

  g_assert_cmpint (umount2 (mount_point, MNT_DETACH), ==, 0);
}

/* A server that never says how much it sends, and sends for ever, into a small
 * disk: waiting for space would keep the disk full, so the file fails (a fatal
 * LocalFile error with ENOSPC) and what it wrote is removed. The group can be
 * resumed later. */
static void
test_endless_body (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(GBytes) content = qmgr_test_make_content (4096, 29);
  g_autoptr(ItGroup) g = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *mount_point = it_file (f->d, "small-endless");
  g_autofree char *dest = g_build_filename (mount_point, "endless.bin", NULL);
  g_autofree char *url = qmgr_test_server_get_url_for (server, "/endless.bin");
  QmgrTestFault endless = { .kind = QMGR_FAULT_ENDLESS };
  guint32 status, win32, transport, retries;

  g_assert_cmpint (g_mkdir (mount_point, 0700), ==, 0);
  if (mount ("tmpfs", mount_point, "tmpfs", MS_NOSUID | MS_NODEV, SMALL) < 0)
    {
      g_autofree char *why = g_strdup_printf ("cannot mount a tmpfs: %s", g_strerror (errno));
      g_test_skip (why);
      return;
    }
  qmgr_test_server_add_file (server, "/endless.bin", content, NULL, 0);
  qmgr_test_server_set_fault (server, "/endless.bin", &endless);
  g = it_group_create (f->d, TRUE);
  it_add_file (f->d, g->job_path, url, dest, 0, &error);
  g_assert_no_error (error);
  it_call_void (f->d, g->path, GROUP, "ResumeGroup", NULL);

  g_assert_true (it_wait_property (f->d, g->path, GROUP, "Status",
                                   g_variant_new_uint32 (IT_STATUS_GROUP_ERROR |
                                                         IT_STATUS_GROUP_SUSPENDED |
                                                         IT_STATUS_GROUP_INCOMPLETE),
                                   DEADLINE_MS));
  job_status (f->d, g, &status, &win32, &transport, &retries);
  g_assert_cmpuint (win32, ==, ENOSPC);
  {
    g_autoptr(GVariant) last_error = it_get_property (f->d, g->job_path, JOB, "LastError");
    const char *name, *message;

    g_variant_get (last_error, "(&s&s)", &name, &message);
    g_test_message ("LastError: %s", message);
    g_assert_cmpstr (name, ==, LOCAL_FILE_ERROR);
  }
  /* The disk is free again: nothing of ours is left on it. */
  {
    g_autoptr(GDir) dir = g_dir_open (mount_point, 0, NULL);
    const char *name;

    g_assert_nonnull (dir);
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_test_message ("left on the disk: %s", name);
        g_assert_not_reached ();
      }
  }
  g_assert_cmpint (umount2 (mount_point, MNT_DETACH), ==, 0);
}

int
main (int argc, char **argv)
{
  /* Before any thread exists: the daemon and the bus, started later, share the new
   * namespace, and the tmpfs disappears with them. Without it the mount (if allowed)
   * is made in the shared namespace and unmounted at the end. */
  private_namespace = unshare (CLONE_NEWNS) == 0 &&
                      mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
  it_init (&argc, &argv);
  it_add ("/disk-full/enospc-then-space", test_disk_full);
  it_add ("/disk-full/endless-body", test_endless_body);
  return g_test_run ();
}
