/* qmgrd integration tests — a damaged store: a group file full of garbage, an empty
 * one, one that parses but makes no sense, one cut short, and a FIFO or a
 * symlink in place of one are each renamed to .broken with a warning, and the
 * daemon starts (without waiting on the FIFO) and serves the other groups; a
 * damaged journal record costs that record only. */
#include "it-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GROUP QMGR_TEST_GROUP_IFACE
#define JOB QMGR_TEST_JOB_IFACE

static char *
store_file (QmgrTestDaemon *d, const char *guid, const char *suffix)
{
  g_autofree char *hex = it_guid_hex (guid);
  g_autofree char *name = g_strconcat (hex, ".group", suffix, NULL);

  return g_build_filename (qmgr_test_daemon_get_state_dir (d), "groups", name, NULL);
}

static ItGroup *
make_group (QmgrTestDaemon *d, const char *name)
{
  ItGroup *g = it_group_create (d, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *local = it_file (d, name);

  it_add_file (d, g->job_path, "http://example.invalid/file", local, 42, &error);
  g_assert_no_error (error);
  it_setprop (d, g->path, 11, g_variant_new_string (name), &error);
  g_assert_no_error (error);
  return g;
}

static void
overwrite (const char *path, const char *contents, gssize len)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);
}

static char **
enum_groups (QmgrTestDaemon *d)
{
  g_autoptr(GVariant) reply = it_call_ok (d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE,
                                          "EnumGroups", g_variant_new ("(u)", 0), "(as)");
  char **ids;

  g_variant_get (reply, "(^as)", &ids);
  return ids;
}

static void
assert_broken (QmgrTestDaemon *d, const char *guid, const char *contents, gsize len,
               const char *log)
{
  g_autofree char *original = store_file (d, guid, "");
  g_autofree char *broken = store_file (d, guid, ".broken");
  g_autofree char *hex = it_guid_hex (guid);
  g_autofree char *kept = NULL;
  gsize kept_len = 0;
  g_autoptr(GError) error = NULL;

  g_test_message ("damaged store file %s", original);
  g_assert_false (g_file_test (original, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (broken, G_FILE_TEST_IS_REGULAR));
  /* Renamed, not rewritten: the evidence is kept as it was. */
  g_file_get_contents (broken, &kept, &kept_len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (kept, kept_len, contents, len);
  /* The warning names the file. */
  g_assert_true (it_contains (log, hex));
  /* The group is not served. */
  {
    g_autoptr(GVariant) reply = qmgr_test_call (d, QMGR_TEST_MANAGER_PATH,
                                                QMGR_TEST_MANAGER_IFACE, "GetGroup",
                                                g_variant_new ("(s)", guid), "(o)", &error);
    g_assert_null (reply);
    qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
  }
}

static void
test_damaged_store (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(ItGroup) good1 = NULL;
  g_autoptr(ItGroup) garbage = NULL;
  g_autoptr(ItGroup) empty = NULL;
  g_autoptr(ItGroup) nonsense = NULL;
  g_autoptr(ItGroup) good2 = NULL;
  g_autofree char *log = NULL;
  g_auto(GStrv) ids = NULL;
  static const char garbage_bytes[] = "\x00\x01\xff\xfe[[[not a key file\n\x80\x81=\x00zz";
  static const char nonsense_text[] = "[Group]\nStatus=banana\nSeq=-12\n[Job]\nFiles=;;;\n";

  qmgr_test_daemon_start (d, NULL);
  good1 = make_group (d, "good1");
  garbage = make_group (d, "garbage");
  empty = make_group (d, "empty");
  nonsense = make_group (d, "nonsense");
  good2 = make_group (d, "good2");
  it_resume_blocked (d, good2->path);
  qmgr_test_daemon_stop (d);

  {
    g_autofree char *path = store_file (d, garbage->id, "");
    overwrite (path, garbage_bytes, sizeof garbage_bytes - 1);
  }
  {
    g_autofree char *path = store_file (d, empty->id, "");
    overwrite (path, "", 0);
  }
  {
    g_autofree char *path = store_file (d, nonsense->id, "");
    overwrite (path, nonsense_text, -1);
  }

  qmgr_test_daemon_start (d, NULL);
  g_assert_true (qmgr_test_daemon_is_running (d));

  /* The intact groups are served, in their order, with their state. */
  ids = enum_groups (d);
  g_assert_cmpuint (g_strv_length (ids), ==, 2);
  g_assert_cmpstr (ids[0], ==, good1->id);
  g_assert_cmpstr (ids[1], ==, good2->id);
  g_assert_cmpuint (it_group_status (d, good1->path), ==, 0x180);
  g_assert_cmpuint (it_group_status (d, good2->path), ==, 0x80);
  g_assert_cmpuint (it_get_u (d, good1->job_path, JOB, "FileCount"), ==, 1);
  {
    g_autoptr(GVariant) name = it_getprop (d, good2->path, 11, NULL);
    g_assert_cmpstr (g_variant_get_string (name, NULL), ==, "good2");
  }

  g_assert_true (g_file_get_contents (qmgr_test_daemon_get_log (d), &log, NULL, NULL));
  assert_broken (d, garbage->id, garbage_bytes, sizeof garbage_bytes - 1, log);
  assert_broken (d, empty->id, "", 0, log);
  assert_broken (d, nonsense->id, nonsense_text, strlen (nonsense_text), log);

  /* Their GUIDs and destinations are free again. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = qmgr_test_call (d, QMGR_TEST_MANAGER_PATH,
                                                QMGR_TEST_MANAGER_IFACE, "CreateGroup",
                                                g_variant_new ("(s)", garbage->id), "(o)",
                                                &error);
    g_autofree char *local = it_file (d, "empty");
    g_assert_no_error (error);
    g_autoptr(GVariant) job = it_call_ok (d, garbage->path, GROUP, "CreateJob",
                                          g_variant_new ("(s)", ""), "(o)");
    it_add_file (d, good1->job_path, "http://example.invalid/again", local, 0, &error);
    g_assert_no_error (error);
  }
  qmgr_test_daemon_stop (d);

  /* The .broken files are left alone on the next start. */
  qmgr_test_daemon_start (d, NULL);
  g_strfreev (ids);
  ids = enum_groups (d);
  g_assert_cmpuint (g_strv_length (ids), ==, 3);
  g_assert_cmpstr (ids[2], ==, garbage->id);
  {
    g_autofree char *broken = store_file (d, empty->id, ".broken");
    g_assert_true (g_file_test (broken, G_FILE_TEST_IS_REGULAR));
  }
  qmgr_test_daemon_stop (d);
}

/* Files no group file should be (R11): a FIFO (start-up must not wait for a
 * writer), a symlink (never followed, its target never quoted), a file cut
 * short at [Job] (the end marker is missing). Each is set aside with a warning
 * naming it; the daemon starts and serves the rest. */
static void
test_unreadable_files (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(ItGroup) good = NULL;
  g_autoptr(ItGroup) fifo = NULL;
  g_autoptr(ItGroup) link = NULL;
  g_autoptr(ItGroup) cut = NULL;
  g_autofree char *log = NULL;
  g_autofree char *secret_path = NULL;
  g_auto(GStrv) ids = NULL;
  static const char secret[] = "root:SECRET-FIRST-LINE:0:0\n";
  ItGroup *damaged[3];

  qmgr_test_daemon_start (d, NULL);
  good = make_group (d, "good");
  fifo = make_group (d, "fifo");
  link = make_group (d, "link");
  cut = make_group (d, "cut");
  qmgr_test_daemon_stop (d);
  damaged[0] = fifo;
  damaged[1] = link;
  damaged[2] = cut;

  {
    g_autofree char *path = store_file (d, fifo->id, "");
    g_assert_cmpint (g_unlink (path), ==, 0);
    g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  }
  {
    g_autofree char *path = store_file (d, link->id, "");
    secret_path = g_build_filename (qmgr_test_daemon_get_state_dir (d), "elsewhere", NULL);
    g_assert_true (g_file_set_contents (secret_path, secret, -1, NULL));
    g_assert_cmpint (g_unlink (path), ==, 0);
    g_assert_cmpint (symlink (secret_path, path), ==, 0);
  }
  {
    g_autofree char *path = store_file (d, cut->id, "");
    g_autofree char *contents = NULL;
    const char *job;

    g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
    job = strstr (contents, "[Job]");
    g_assert_nonnull (job);
    overwrite (path, contents, job - contents);
  }

  qmgr_test_daemon_start (d, NULL);
  g_assert_true (qmgr_test_daemon_is_running (d));
  ids = enum_groups (d);
  g_assert_cmpuint (g_strv_length (ids), ==, 1);
  g_assert_cmpstr (ids[0], ==, good->id);
  g_assert_true (g_file_get_contents (qmgr_test_daemon_get_log (d), &log, NULL, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (damaged); i++)
    {
      g_autofree char *original = store_file (d, damaged[i]->id, "");
      g_autofree char *broken = store_file (d, damaged[i]->id, ".broken");
      g_autofree char *hex = it_guid_hex (damaged[i]->id);
      struct stat st;

      g_test_message ("set aside: %s", original);
      g_assert_cmpint (lstat (original, &st), <, 0);
      g_assert_cmpint (lstat (broken, &st), ==, 0);
      g_assert_true (it_contains (log, hex));
    }
  g_assert_false (it_contains (log, "SECRET"));
  qmgr_test_daemon_stop (d);
}

static char *
find_journal (QmgrTestDaemon *d, const char *suffix)
{
  g_autofree char *dir = g_build_filename (qmgr_test_daemon_get_state_dir (d), "groups", NULL);
  GDir *gdir = g_dir_open (dir, 0, NULL);
  const char *name;
  char *found = NULL;

  g_assert_nonnull (gdir);
  while ((name = g_dir_read_name (gdir)) != NULL)
    if (g_str_has_prefix (name, "journal.") && g_str_has_suffix (name, suffix) && found == NULL)
      found = g_build_filename (dir, name, NULL);
  g_dir_close (gdir);
  return found;
}

static gboolean
journal_set_aside (gpointer data)
{
  g_autofree char *broken = find_journal (data, ".broken");
  return broken != NULL;
}

/* A byte flipped in an acknowledged journal record (R11), the daemon killed
 * before it folded the journal: the next start loses that record only (its
 * group keeps its earlier state), says so naming the group and the journal,
 * and sets the journal aside. */
static void
test_damaged_journal (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func ((GDestroyNotify) it_group_free);
  g_autofree char *journal = NULL, *contents = NULL, *log = NULL, *hex = NULL;
  char *name_record;
  gsize len;

  qmgr_test_daemon_start (d, NULL);
  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *name = g_strdup_printf ("n%u", i);
      g_ptr_array_add (groups, make_group (d, name));
    }
  qmgr_test_daemon_kill (d);

  /* Group 0's last record, its SetProp(DisplayName). */
  journal = find_journal (d, "");
  g_assert_nonnull (journal);
  g_assert_true (g_file_get_contents (journal, &contents, &len, NULL));
  name_record = strstr (contents, "DisplayName=n0\n");
  g_assert_nonnull (name_record);
  name_record[strlen ("DisplayName=n")] = '7';
  g_assert_true (g_file_set_contents (journal, contents, (gssize) len, NULL));

  qmgr_test_daemon_start (d, NULL);
  for (guint i = 0; i < 10; i++)
    {
      ItGroup *g = g_ptr_array_index (groups, i);
      g_autofree char *expected = i == 0 ? g_strdup ("") : g_strdup_printf ("n%u", i);
      g_autoptr(GVariant) name = it_getprop (d, g->path, 11, NULL);

      g_assert_cmpstr (g_variant_get_string (name, NULL), ==, expected);
      g_assert_cmpuint (it_get_u (d, g->job_path, JOB, "FileCount"), ==, 1);
    }
  g_assert_true (it_poll_until (journal_set_aside, d, 50, 10000));
  g_assert_true (g_file_get_contents (qmgr_test_daemon_get_log (d), &log, NULL, NULL));
  hex = it_guid_hex (((ItGroup *) g_ptr_array_index (groups, 0))->id);
  g_assert_true (it_contains (log, hex));
  g_assert_true (it_contains (log, journal));
  qmgr_test_daemon_stop (d);
}

static void
test_stray_files (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(ItGroup) good = NULL;
  g_autofree char *dir = NULL;
  g_auto(GStrv) ids = NULL;
  g_autoptr(GError) error = NULL;

  qmgr_test_daemon_start (d, NULL);
  good = make_group (d, "good");
  qmgr_test_daemon_stop (d);

  /* Leftovers that are not group files must not stop the daemon. */
  dir = g_build_filename (qmgr_test_daemon_get_state_dir (d), "groups", NULL);
  {
    g_autofree char *tmp = g_build_filename (dir, ".0123456789abcdef0123456789abcdef.group.ABC123",
                                             NULL);
    g_autofree char *readme = g_build_filename (dir, "README", NULL);
    g_autofree char *subdir = g_build_filename (dir, "subdir.group", NULL);
    g_file_set_contents (tmp, "partial", -1, &error);
    g_assert_no_error (error);
    g_file_set_contents (readme, "hello", -1, &error);
    g_assert_no_error (error);
    g_assert_cmpint (g_mkdir_with_parents (subdir, 0700), ==, 0);
  }
  qmgr_test_daemon_start (d, NULL);
  ids = enum_groups (d);
  g_assert_cmpuint (g_strv_length (ids), ==, 1);
  g_assert_cmpstr (ids[0], ==, good->id);
  qmgr_test_daemon_stop (d);
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  g_test_add_func ("/damaged-store/broken-files", test_damaged_store);
  g_test_add_func ("/damaged-store/stray-files", test_stray_files);
  g_test_add_func ("/damaged-store/unreadable-files", test_unreadable_files);
  g_test_add_func ("/damaged-store/damaged-journal", test_damaged_journal);
  return g_test_run ();
}
