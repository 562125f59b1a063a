/* qmgrd unit tests — the store: groups saved through the manager's hooks load into
 * a fresh manager unchanged, from the journal and from the group files it is
 * folded into; damaged files are set aside as .broken while the rest load; a
 * record cut short by a crash is ignored; files are private (0600). Runs in a
 * temp dir. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/resource.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "store-format.h"
#include "unit-common.h"

/* ---- capturing the store's warnings (structured logging: no expect_message) ---- */

static GPtrArray *captured_warnings;   /* char*, while capturing */

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                gpointer data)
{
  if (captured_warnings != NULL && (level & G_LOG_LEVEL_WARNING))
    {
      for (gsize i = 0; i < n_fields; i++)
        if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
          {
            gssize len = fields[i].length;
            g_ptr_array_add (captured_warnings,
                             len < 0 ? g_strdup (fields[i].value)
                                     : g_strndup (fields[i].value, (gsize) len));
          }
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, data);
}

/* For g_log() callers (no G_LOG_USE_STRUCTURED): keep captured warnings non-fatal. */
static gboolean
fatal_handler (const char *domain G_GNUC_UNUSED, GLogLevelFlags level,
               const char *message G_GNUC_UNUSED, gpointer data G_GNUC_UNUSED)
{
  return !(captured_warnings != NULL && (level & G_LOG_LEVEL_WARNING));
}

static void
capture_start (void)
{
  g_assert_null (captured_warnings);
  captured_warnings = g_ptr_array_new_with_free_func (g_free);
}

static GPtrArray *
capture_stop (void)
{
  return g_steal_pointer (&captured_warnings);
}

static gboolean
warnings_mention (GPtrArray *warnings, const char *text)
{
  for (guint i = 0; i < warnings->len; i++)
    if (strstr (g_ptr_array_index (warnings, i), text) != NULL)
      return TRUE;
  return FALSE;
}

/* ---- fixture ---- */

typedef struct {
  char *tmp;
  char *state_dir;
  char *groups_dir;
  QmgrStore *store;
  QmgrManager *manager;
} Fixture;

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
          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static QmgrStore *
open_store (const char *state_dir)
{
  g_autoptr(GError) error = NULL;
  QmgrStore *store = qmgr_store_open (state_dir, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

static void
fixture_set_up (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("qmgr-unit-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->state_dir = g_build_filename (f->tmp, "state", "qmgrd", NULL);
  f->groups_dir = g_build_filename (f->state_dir, "groups", NULL);
  f->store = open_store (f->state_dir);
  f->manager = unit_manager_new (0, 0);
  qmgr_manager_set_store (f->manager, qmgr_store_hooks (), f->store);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  qmgr_manager_free (f->manager);
  qmgr_store_free (f->store);
  remove_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->state_dir);
  g_free (f->groups_dir);
}

/* A fresh manager loaded from the fixture's state directory. */
static QmgrManager *
reload (Fixture *f, QmgrStore **store_out)
{
  g_autoptr(GError) error = NULL;
  QmgrStore *store;
  QmgrManager *m = unit_manager_new (0, 0);

  /* What the daemon learned by itself is written in batches: write it now, as
   * the daemon does before it exits. */
  qmgr_store_flush (f->store);
  store = open_store (f->state_dir);

  qmgr_manager_set_store (m, qmgr_store_hooks (), store);
  g_assert_true (qmgr_store_load (store, m, &error));
  g_assert_no_error (error);
  *store_out = store;
  return m;
}

/* groups/<hex of @guid><@suffix>. */
static char *
state_file (Fixture *f, const char *guid, const char *suffix)
{
  QmgrGuid id = unit_guid (guid);
  char hex[QMGR_GUID_HEX_LEN + 1];
  g_autofree char *name = NULL;

  qmgr_guid_to_hex (id, hex);
  name = g_strconcat (hex, suffix, NULL);
  return g_build_filename (f->groups_dir, name, NULL);
}

static char *
group_file (Fixture *f, const char *guid)
{
  return state_file (f, guid, ".group");
}

/* Files in @dir_path whose names start with @prefix and end with @suffix. */
static guint
count_files (const char *dir_path, const char *prefix, const char *suffix)
{
  GDir *dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, prefix) && g_str_has_suffix (name, suffix))
      n++;
  g_dir_close (dir);
  return n;
}

static void
assert_same_file (const QmgrFile *a, const QmgrFile *b)
{
  g_assert_cmpstr (a->remote_url, ==, b->remote_url);
  g_assert_cmpstr (a->local_path, ==, b->local_path);
  g_assert_cmpuint (a->size_hint, ==, b->size_hint);
  g_assert_cmpuint (a->bytes_total, ==, b->bytes_total);
  g_assert_cmpint (a->complete, ==, b->complete);
  if (!a->complete)
    g_assert_cmpuint (a->furthest, ==, b->furthest);
  /* Partial downloads are never in the store: the temp file is the truth. */
  if (a->complete)
    g_assert_cmpuint (a->bytes_transferred, ==, b->bytes_transferred);
  /* No validator and an empty one mean the same here; validator-absent checks NULL. */
  g_assert_cmpstr (a->validator ? a->validator : "", ==, b->validator ? b->validator : "");
  g_assert_cmpint (a->error, ==, b->error);
  g_assert_cmpstr (a->error_message, ==, b->error_message);
}

static void
assert_same_group (QmgrGroup *a, QmgrGroup *b)
{
  g_assert_true (qmgr_guid_equal (a->id, b->id));
  g_assert_cmpstr (a->id_str, ==, b->id_str);
  g_assert_cmpuint (a->seq, ==, b->seq);
  g_assert_cmpuint (a->owner, ==, b->owner);
  g_assert_cmpint (a->state, ==, b->state);
  g_assert_cmpint (a->foreground, ==, b->foreground);
  g_assert_cmphex (qmgr_group_get_status (a), ==, qmgr_group_get_status (b));
  g_assert_cmpstr (a->display_name, ==, b->display_name);
  g_assert_cmpstr (a->description, ==, b->description);
  g_assert_cmpstr (a->remote_user_id, ==, b->remote_user_id);
  g_assert_cmpstr (a->remote_user_password, ==, b->remote_user_password);
  g_assert_cmphex (a->notify_flags, ==, b->notify_flags);
  g_assert_cmpstr (a->notify_clsid, ==, b->notify_clsid);
  g_assert_cmphex (a->transfer_policy, ==, b->transfer_policy);
  g_assert_cmpuint (a->bandwidth_limit, ==, b->bandwidth_limit);
  g_assert_cmpuint (a->minimum_retry_delay, ==, b->minimum_retry_delay);
  g_assert_cmpuint (a->no_progress_timeout, ==, b->no_progress_timeout);
  g_assert_cmpint (a->creation_time, ==, b->creation_time);
  g_assert_cmpint (a->modification_time, ==, b->modification_time);
  g_assert_cmpint (a->completion_time, ==, b->completion_time);
  g_assert_cmpint (a->retrying_since, ==, b->retrying_since);
  g_assert_cmpuint (a->pending_notifications->len, ==, b->pending_notifications->len);
  for (guint i = 0; i < a->pending_notifications->len; i++)
    {
      QmgrPendingNotification *x = &g_array_index (a->pending_notifications,
                                                   QmgrPendingNotification, i);
      QmgrPendingNotification *y = &g_array_index (b->pending_notifications,
                                                   QmgrPendingNotification, i);

      g_assert_cmpuint (x->file_index, ==, y->file_index);
      g_assert_cmphex (x->status, ==, y->status);
      g_assert_cmpuint (x->num_retries, ==, y->num_retries);
      g_assert_cmpuint (x->win32_result, ==, y->win32_result);
      g_assert_cmpuint (x->transport_result, ==, y->transport_result);
      g_assert_cmpint (x->created, ==, y->created);
      /* Held is memory only: what was loaded is durable, deliverable. */
      g_assert_false (y->held);
    }
  /* Live pointers are not persisted. */
  g_assert_false (b->live_callback);

  g_assert_cmpint (a->job == NULL, ==, b->job == NULL);
  if (a->job == NULL)
    return;
  g_assert_true (b->job->group == b);
  g_assert_true (qmgr_guid_equal (a->job->id, b->job->id));
  g_assert_cmpstr (a->job->id_str, ==, b->job->id_str);
  g_assert_cmphex (qmgr_job_get_status (a->job), ==, qmgr_job_get_status (b->job));
  g_assert_cmpuint (a->job->current_file, ==, b->job->current_file);
  g_assert_cmpint (a->job->error, ==, b->job->error);
  g_assert_cmpstr (a->job->error_message, ==, b->job->error_message);
  g_assert_cmpuint (a->job->win32_result, ==, b->job->win32_result);
  g_assert_cmpuint (a->job->transport_result, ==, b->job->transport_result);
  g_assert_cmpuint (a->job->num_retries, ==, b->job->num_retries);
  g_assert_cmpuint (a->job->error_file_index, ==, b->job->error_file_index);
  g_assert_cmpuint (a->job->files->len, ==, b->job->files->len);
  for (guint i = 0; i < a->job->files->len; i++)
    assert_same_file (g_ptr_array_index (a->job->files, i), g_ptr_array_index (b->job->files, i));
  /* Loading sums the files anew (bytes of incomplete files are not stored). */
  g_assert_true (qmgr_job_tallies_hold (b->job));
  g_assert_cmpuint (qmgr_group_get_size (a), ==, qmgr_group_get_size (b));
  g_assert_cmpuint (qmgr_group_get_files_transferred (a), ==, qmgr_group_get_files_transferred (b));
}

/* Saves @group now, telling the store that file @index changed: what the
 * core's calls do, for tests that change a file's fields directly. */
static void
save_file_changed (QmgrGroup *group, guint index)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) changed = g_array_new (FALSE, FALSE, sizeof (guint));
  QmgrGroupDelta delta = { FALSE, G_MAXUINT, changed };

  g_array_append_val (changed, index);
  g_assert_true (qmgr_manager_save_group (group->manager, group, &delta, QMGR_SAVE_NOW, &error));
  g_assert_no_error (error);
}

/* Groups in every shape the store must keep. */
static void
populate (QmgrManager *m)
{
  g_autoptr(GError) error = NULL;
  QmgrGroup *g1, *g2, *g3, *g4;
  QmgrFileSpec specs[] = {
    { "https://example.com/one?x=1&y=%20", "/tmp/qmgr-unit/store/one", 123 },
    { "http://example.com:8080/two", "/tmp/qmgr-unit/store/caf\xc3\xa9 two", 0 },
    { "https://example.com/three", "/tmp/qmgr-unit/store/three", G_MAXUINT64 },
  };
  QmgrFileSpec done_spec = { "https://example.com/done", "/tmp/qmgr-unit/store/done", 7 };
  QmgrFile *file;

  /* 1: no job; every property set; foreground. */
  unit_clock_advance (1000);
  g1 = unit_create_group (m, GUID_A, UNIT_OWNER);
  g_assert_true (qmgr_group_set_display_name (g1, "Caf\xc3\xa9 \xe6\x97\xa5 [updates] = x", &error));
  g_assert_true (qmgr_group_set_description (g1, "Line one\nLine two\twith tab; # not a comment\n"
                                             "\\backslash", &error));
  g_assert_true (qmgr_group_set_notify_flags (g1, QMGR_NOTIFY_GROUP_DONE |
                                              QMGR_NOTIFY_PROGRESS, &error));
  g_assert_true (qmgr_group_set_notify_clsid (g1, "org.example.App:/org/example/cb", &error));
  g_assert_true (qmgr_group_set_remote_user_id (g1, "alice", &error));
  g_assert_true (qmgr_group_set_remote_user_password (g1, "p@ss word=;#", &error));
  g_assert_true (qmgr_group_set_transfer_policy (g1, QMGR_TRANSFER_POLICY_STANDARD, &error));
  g_assert_true (qmgr_group_set_bandwidth_limit (g1, G_GUINT64_CONSTANT (1) << 40, &error));
  g_assert_true (qmgr_group_set_minimum_retry_delay (g1, 300, &error));
  g_assert_true (qmgr_group_set_no_progress_timeout (g1, 86400, &error));
  g_assert_true (qmgr_group_switch_to_foreground (g1, &error));
  qmgr_group_set_live_callback (g1, TRUE);
  g_assert_no_error (error);

  /* 2: a queued job with three files, one complete, with errors and validators. */
  unit_clock_advance (1000);
  g2 = unit_create_group (m, GUID_B, UNIT_OWNER);
  unit_create_job (g2, GUID_C);
  g_assert_true (qmgr_job_add_files (g2->job, specs, G_N_ELEMENTS (specs), &error));
  g_assert_true (qmgr_group_resume (g2, &error));
  /* A FILE_DONE callback owed to a NOTIFYCLSID target. */
  g_assert_true (qmgr_group_set_notify_clsid (g2, "org.example.App2:/cb", &error));
  g_assert_true (qmgr_group_set_notify_flags (g2, QMGR_NOTIFY_FILE_DONE, &error));
  unit_clock_advance (1000);
  g_assert_true (qmgr_job_file_completed (g2->job, 1, 4096, &error));
  g_assert_cmpuint (g2->pending_notifications->len, ==, 1);
  g_assert_no_error (error);
  g2->retrying_since = g2->creation_time + 500;   /* retrying since (saved with the group) */
  file = g_ptr_array_index (g2->job->files, 0);
  qmgr_job_untally (g2->job, file);
  file->bytes_total = 10000;
  file->bytes_transferred = 5000;
  file->furthest = 7000;   /* it got further once (NoProgressTimeout) */
  qmgr_job_tally (g2->job, file);
  file->validator = g_strdup ("\"etag-123\"");
  file->error = QMGR_TRANSFER_ERROR_TIMEOUT;
  file->error_message = g_strdup ("No data for 60 s");
  g2->job->current_file = 0;
  g2->job->error = QMGR_TRANSFER_ERROR_TIMEOUT;
  g2->job->error_message = g_strdup ("No data for 60 s");
  g2->job->win32_result = 110;
  g2->job->num_retries = 2;
  g2->job->error_file_index = 0;
  /* A change saves the group's own fields and the files it names. */
  save_file_changed (g2, 0);
  g_assert_true (qmgr_group_set_display_name (g2, "queued", &error));
  g_assert_no_error (error);

  /* 3: complete. */
  unit_clock_advance (1000);
  g3 = unit_group_with_files (m, GUID_D, UNIT_OWNER, 0, FALSE);
  g_assert_true (qmgr_job_add_files (g3->job, &done_spec, 1, &error));
  g_assert_true (qmgr_group_resume (g3, &error));
  unit_clock_advance (1000);
  g_assert_true (qmgr_job_file_completed (g3->job, 0, 7, &error));
  g_assert_no_error (error);
  g_assert_cmphex (qmgr_group_get_status (g3), ==, 0x140);

  /* 4: another owner; a job without files. */
  unit_clock_advance (1000);
  g4 = unit_create_group (m, GUID_E, UNIT_OTHER);
  unit_create_job (g4, "");
}

static void
rewrite_file (const char *path, const char *data, gsize len)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, data, (gssize) len, &error));
  g_assert_no_error (error);
}

/* The standard CRC-32 (IEEE 802.3, reflected), bit by bit: the journal's
 * record format, whatever computes it in the daemon. */
static guint32
reference_crc32 (guint32 crc, const char *data, gsize len)
{
  crc = ~crc;
  for (gsize i = 0; i < len; i++)
    {
      crc ^= (guint8) data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc & 1) ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
    }
  return ~crc;
}

/* ---- tests ---- */

static void
test_open_creates_dirs (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  struct stat st;

  g_assert_cmpint (stat (f->state_dir, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (stat (f->groups_dir, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpuint (st.st_mode & 0777, ==, 0700);
}

static void
test_open_fails_on_file (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_build_filename (f->tmp, "plain-file", NULL);
  g_autoptr(QmgrStore) store = NULL;

  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  store = qmgr_store_open (file, &error);
  g_assert_null (store);
  g_assert_nonnull (error);
}

static void
test_roundtrip (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_auto(GStrv) before = NULL;
  g_auto(GStrv) after = NULL;

  populate (f->manager);
  loaded = reload (f, &store);

  before = qmgr_manager_enum_groups (f->manager, 0, UNIT_OWNER, NULL);
  after = qmgr_manager_enum_groups (loaded, 0, UNIT_OWNER, NULL);
  g_assert_cmpuint (g_strv_length (after), ==, 4);
  g_assert_cmpstrv (after, before);

  for (GList *l = f->manager->groups.head; l != NULL; l = l->next)
    {
      QmgrGroup *a = l->data;
      QmgrGroup *b = qmgr_manager_lookup_group (loaded, a->id);

      g_test_message ("group %s", a->id_str);
      g_assert_nonnull (b);
      if (b == NULL)
        continue;
      g_assert_true (b->manager == loaded);
      assert_same_group (a, b);
      if (a->job != NULL)
        g_assert_true (qmgr_manager_lookup_job (loaded, a->job->id) == b->job);
    }
  g_assert_true (qmgr_manager_has_runnable_groups (loaded));
}

static void
test_restored_manager_state (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = NULL;
  QmgrGroup *fresh;
  QmgrGroup *other;
  QmgrJob *other_job;

  populate (f->manager);
  loaded = reload (f, &store);

  /* GUIDs are in use, groups and jobs alike. */
  g_assert_null (qmgr_manager_create_group (loaded, GUID_A, UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_null (qmgr_manager_create_group (loaded, GUID_C, UNIT_OWNER, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  /* New groups come after the restored ones. */
  fresh = unit_create_group (loaded, "", UNIT_OWNER);
  ids = qmgr_manager_enum_groups (loaded, 0, UNIT_OWNER, NULL);
  g_assert_cmpuint (g_strv_length (ids), ==, 5);
  g_assert_cmpstr (ids[4], ==, fresh->id_str);

  /* Destinations of restored incomplete groups are taken; of complete ones, free. */
  other = unit_create_group (loaded, "", UNIT_OWNER);
  other_job = unit_create_job (other, "");
  {
    QmgrFileSpec taken = { "https://example.com/x", "/tmp/qmgr-unit/store/one", 0 };
    QmgrFileSpec taken_done = { "https://example.com/x", "/tmp/qmgr-unit/store/caf\xc3\xa9 two", 0 };
    QmgrFileSpec free_now = { "https://example.com/x", "/tmp/qmgr-unit/store/done", 0 };

    g_assert_false (qmgr_job_add_files (other_job, &taken, 1, &error));
    g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
    g_clear_error (&error);
    /* A completed file of an incomplete group still reserves its path. */
    g_assert_false (qmgr_job_add_files (other_job, &taken_done, 1, &error));
    g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
    g_clear_error (&error);
    g_assert_true (qmgr_job_add_files (other_job, &free_now, 1, &error));
    g_assert_no_error (error);
  }

  /* The restored groups work: resume, complete, cancel. */
  {
    QmgrGroup *g2 = qmgr_manager_lookup_group (loaded, unit_guid (GUID_B));
    g_autofree char *path = group_file (f, GUID_B);

    g_assert_cmphex (qmgr_group_get_status (g2), ==, 0x80);
    unit_complete_all (g2->job, 1);
    g_assert_cmphex (qmgr_group_get_status (g2), ==, 0x140);
    g_assert_true (qmgr_group_cancel (g2, &error));
    g_assert_no_error (error);
    qmgr_store_compact (store);
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }
}

static void
check_private_files (const char *dir_path)
{
  GDir *dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      struct stat st;

      g_assert_cmpint (lstat (path, &st), ==, 0);
      g_assert_cmpuint (st.st_mode & 07777, ==, 0600);
    }
  g_dir_close (dir);
}

static void
test_file_modes (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *settings = g_build_filename (f->state_dir, "settings.conf", NULL);
  mode_t old_umask = umask (0);
  GDir *dir;
  const char *name;
  guint n = 0;
  struct stat st;

  populate (f->manager);
  g_assert_true (qmgr_manager_set_bandwidth_limit (f->manager, 1000, NULL));
  /* The journal and, once it is folded into them, the group files. */
  g_assert_cmpuint (count_files (f->groups_dir, "", ".group"), ==, 0);
  g_assert_cmpuint (count_files (f->groups_dir, "journal.", ""), ==, 1);
  check_private_files (f->groups_dir);
  qmgr_store_compact (f->store);
  umask (old_umask);

  dir = g_dir_open (f->groups_dir, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->groups_dir, name, NULL);

      g_assert_cmpint (lstat (path, &st), ==, 0);
      g_assert_true (S_ISREG (st.st_mode));
      g_assert_cmpuint (st.st_mode & 07777, ==, 0600);
      if (g_str_has_suffix (name, ".group"))
        n++;
      else
        g_assert_true (g_str_has_prefix (name, "journal."));
    }
  g_dir_close (dir);
  g_assert_cmpuint (n, ==, 4);
  /* All folded: the next journal comes with the next change. */
  g_assert_cmpuint (count_files (f->groups_dir, "journal.", ""), ==, 0);

  g_assert_cmpint (lstat (settings, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, 0600);
  g_assert_cmpint (lstat (f->groups_dir, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, 0700);
}

static void
test_one_file_per_group (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = group_file (f, GUID_A);
  QmgrGroup *g;

  /* A change goes to the journal; folding it writes the group's file. */
  g = unit_create_group (f->manager, GUID_A, UNIT_OWNER);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  qmgr_store_compact (f->store);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (count_files (f->groups_dir, "", ".group"), ==, 1);

  /* Every change after that rewrites it in place: no temp files, no old
   * journals left over. */
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("name %u", i);
      g_assert_true (qmgr_group_set_display_name (g, name, &error));
      if (i % 2 == 0)
        qmgr_store_compact (f->store);
    }
  g_assert_no_error (error);
  qmgr_store_compact (f->store);
  g_assert_cmpuint (count_files (f->groups_dir, "", ".group"), ==, 1);
  g_assert_cmpuint (count_files (f->groups_dir, "", ".tmp"), ==, 0);
  g_assert_cmpuint (count_files (f->groups_dir, "journal.", ""), ==, 0);
  {
    g_autofree char *contents = NULL;
    g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
    g_assert_nonnull (strstr (contents, "DisplayName=name 4\n"));
  }

  /* CancelGroup removes its store entry. */
  g_assert_true (qmgr_group_cancel (g, &error));
  g_assert_no_error (error);
  qmgr_store_compact (f->store);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_files (f->groups_dir, "", ".group"), ==, 0);
}

static void
test_damaged_files (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  g_autofree char *garbage = group_file (f, GUID_A);
  g_autofree char *bad_url = group_file (f, GUID_B);
  g_autofree char *good = group_file (f, GUID_D);
  g_autofree char *other_owner = group_file (f, GUID_E);
  g_autofree char *garbage_broken = g_strconcat (garbage, ".broken", NULL);
  g_autofree char *bad_url_broken = g_strconcat (bad_url, ".broken", NULL);
  g_autofree char *leftover_tmp = g_strconcat (good, ".tmp", NULL);
  g_autofree char *unrelated = g_build_filename (f->groups_dir, "README", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *damaged = NULL;
  g_auto(GStrv) ids = NULL;

  populate (f->manager);
  qmgr_store_compact (f->store);

  /* A: not a key file at all. */
  g_assert_true (g_file_set_contents (garbage, "\x01\x02 this is [[[ not a key file", -1, NULL));
  /* B: a key file whose first file has a forbidden URL. */
  g_assert_true (g_file_get_contents (bad_url, &contents, NULL, NULL));
  {
    g_auto(GStrv) parts = g_strsplit (contents, "https://example.com/one", 2);
    g_assert_cmpuint (g_strv_length (parts), ==, 2);
    damaged = g_strjoinv ("file:///etc/shadow?", parts);
  }
  g_assert_true (g_file_set_contents (bad_url, damaged, -1, NULL));
  /* A write interrupted by a crash, and a file that is not ours. */
  g_assert_true (g_file_set_contents (leftover_tmp, "half a", -1, NULL));
  g_assert_true (g_file_set_contents (unrelated, "hello", -1, NULL));

  capture_start ();
  loaded = reload (f, &store);
  warnings = capture_stop ();

  ids = qmgr_manager_enum_groups (loaded, 0, UNIT_OWNER, NULL);
  g_assert_cmpuint (g_strv_length (ids), ==, 2);
  g_assert_cmpstr (ids[0], ==, GUID_D);
  g_assert_cmpstr (ids[1], ==, GUID_E);
  g_assert_null (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A)));
  g_assert_null (qmgr_manager_lookup_group (loaded, unit_guid (GUID_B)));
  assert_same_group (qmgr_manager_lookup_group (f->manager, unit_guid (GUID_D)),
                     qmgr_manager_lookup_group (loaded, unit_guid (GUID_D)));

  /* Damaged files are set aside, not deleted, and said so. */
  g_assert_false (g_file_test (garbage, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (garbage_broken, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (bad_url, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (bad_url_broken, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (warnings->len, >=, 2);
  g_assert_true (warnings_mention (warnings, garbage));
  g_assert_true (warnings_mention (warnings, bad_url));
  /* Named, never quoted: a file's contents are no business of the log. */
  g_assert_false (warnings_mention (warnings, "not a key file"));
  g_assert_false (warnings_mention (warnings, "shadow"));
  g_assert_true (g_file_test (good, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (other_owner, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (leftover_tmp, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (unrelated, G_FILE_TEST_IS_REGULAR));

  /* Their GUIDs are free again; the .broken files stay out of the way. */
  unit_create_group (loaded, GUID_A, UNIT_OWNER);
  qmgr_store_compact (store);
  g_assert_true (g_file_test (garbage, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (garbage_broken, G_FILE_TEST_IS_REGULAR));
}

static void
test_misnamed_and_duplicate (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  g_autofree char *source = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *misnamed = NULL;
  g_autofree char *copy_path = NULL;
  g_autofree char *copy = NULL;
  const char *misnamed_guid = "11111111-2222-4333-8444-555555555555";
  const char *copy_guid = "99999999-8888-4777-8666-555555555555";
  QmgrGroup *g;
  guint loaded_of_pair = 0;

  g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 1, FALSE);
  qmgr_store_compact (f->store);
  source = group_file (f, GUID_A);
  g_assert_true (g_file_get_contents (source, &contents, NULL, NULL));

  /* The same content under another group's name: the id does not match the name. */
  misnamed = group_file (f, misnamed_guid);
  g_assert_true (g_file_set_contents (misnamed, contents, -1, NULL));

  /* Another group id that claims the same job GUID: only one may be restored. */
  copy_path = group_file (f, copy_guid);
  {
    g_auto(GStrv) parts = g_strsplit (contents, g->id_str, -1);
    copy = g_strjoinv (copy_guid, parts);
  }
  g_assert_true (g_file_set_contents (copy_path, copy, -1, NULL));

  capture_start ();
  loaded = reload (f, &store);
  warnings = capture_stop ();

  g_assert_null (qmgr_manager_lookup_group (loaded, unit_guid (misnamed_guid)));
  g_assert_true (g_file_test (misnamed, G_FILE_TEST_EXISTS) == FALSE);
  g_assert_true (warnings_mention (warnings, misnamed));

  loaded_of_pair += qmgr_manager_lookup_group (loaded, unit_guid (GUID_A)) != NULL;
  loaded_of_pair += qmgr_manager_lookup_group (loaded, unit_guid (copy_guid)) != NULL;
  g_assert_cmpuint (loaded_of_pair, ==, 1);
  g_assert_nonnull (qmgr_manager_lookup_job (loaded, g->job->id));
  g_assert_cmpuint (count_files (f->groups_dir, "", ".broken"), ==, 2);
}

/* ---- group files that must not load, or not as they are ---- */

/* Loads the fixture's state directory within 10 s (a FIFO read without
 * O_NONBLOCK would wait for a writer forever: SIGALRM ends the test then). */
static QmgrManager *
reload_promptly (Fixture *f, QmgrStore **store, GPtrArray **warnings)
{
  QmgrManager *m;
  gint64 start = g_get_monotonic_time ();

  capture_start ();
  alarm (10);
  m = reload (f, store);
  alarm (0);
  *warnings = capture_stop ();
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  return m;
}

/* Sets up group A (suspended, with two files) and group D in their files;
 * returns A's file. */
static char *
two_group_files (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  QmgrGroup *a = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 2, FALSE);

  g_assert_true (qmgr_group_set_display_name (a, "name", &error));
  g_assert_no_error (error);
  unit_group_with_files (f->manager, GUID_D, UNIT_OWNER, 1, FALSE);
  qmgr_store_compact (f->store);
  return group_file (f, GUID_A);
}

/* After a reload: A did not load, its file is set aside under .broken, a
 * warning names it, and D loaded. */
static void
assert_set_aside (Fixture *f, QmgrManager *loaded, GPtrArray *warnings, const char *path)
{
  g_autofree char *broken = g_strconcat (path, ".broken", NULL);
  struct stat st;

  g_assert_null (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A)));
  g_assert_nonnull (qmgr_manager_lookup_group (loaded, unit_guid (GUID_D)));
  g_assert_cmpint (lstat (path, &st), <, 0);
  g_assert_cmpint (lstat (broken, &st), ==, 0);
  g_assert_true (warnings_mention (warnings, path));
}

/* A file cut short anywhere, at [Job] say, lacks the end marker: set aside,
 * not loaded as a group without its job. */
static void
test_load_cut_at_job (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *path = two_group_files (f);
  g_autofree char *contents = NULL;
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  const char *job;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  job = strstr (contents, "[Job]");
  g_assert_nonnull (job);
  rewrite_file (path, contents, (gsize) (job - contents));
  loaded = reload_promptly (f, &store, &warnings);
  assert_set_aside (f, loaded, warnings, path);
  g_assert_true (warnings_mention (warnings, "cut short"));
}

/* A record as journal-read.c writes it. */
static char *
make_record (char op, const char *hex, const char *payload, gsize n, gsize *len)
{
  char op_text[2] = { op, '\0' };
  guint32 crc = reference_crc32 (reference_crc32 (reference_crc32 (0, op_text, 1), hex, 32),
                                 payload, n);
  g_autofree char *header = g_strdup_printf ("QJ1 %c %s %" G_GSIZE_FORMAT " %08x\n", op, hex, n,
                                             crc);
  GString *record = g_string_new (header);

  g_string_append_len (record, payload, (gssize) n);
  g_string_append_c (record, '\n');
  *len = record->len;
  return g_string_free (record, FALSE);
}

/* A group file cut anywhere (in its end marker too), alone or under a part
 * the journal holds: it never loads, and it is set aside. */
static void
test_load_cut_anywhere (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *path = two_group_files (f);
  g_autofree char *contents = NULL, *part = NULL, *record = NULL;
  QmgrGroup *a = qmgr_manager_lookup_group (f->manager, unit_guid (GUID_A));
  char hex[QMGR_GUID_HEX_LEN + 1];
  gsize len, part_len, record_len;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  qmgr_guid_to_hex (a->id, hex);
  part = qmgr_store_group_part_to_data (a, NULL, 0, &part_len);
  record = make_record ('P', hex, part, part_len, &record_len);
  for (gsize cut = 0; cut < len; cut += cut + 24 < len ? MAX (len / 16, 1) : 1)
    for (int with_part = 0; with_part < 2; with_part++)
      {
        g_autofree char *dir = g_build_filename (f->tmp, "cut", NULL);
        g_autofree char *groups = g_build_filename (dir, "groups", NULL);
        g_autofree char *name = g_strconcat (hex, ".group", NULL);
        g_autofree char *file = g_build_filename (groups, name, NULL);
        g_autofree char *broken = g_strconcat (file, ".broken", NULL);
        g_autofree char *journal = g_build_filename (groups, "journal.0000000000000001", NULL);
        g_autoptr(QmgrManager) loaded = unit_manager_new (0, 0);
        g_autoptr(QmgrStore) store = NULL;
        g_autoptr(GPtrArray) warnings = NULL;
        g_autoptr(GError) error = NULL;

        g_test_message ("cut at %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT "%s", cut, len,
                        with_part ? ", with a part" : "");
        g_assert_cmpint (g_mkdir_with_parents (groups, 0700), ==, 0);
        rewrite_file (file, contents, cut);
        if (with_part)
          rewrite_file (journal, record, record_len);
        capture_start ();
        store = open_store (dir);
        qmgr_manager_set_store (loaded, qmgr_store_hooks (), store);
        g_assert_true (qmgr_store_load (store, loaded, &error));
        qmgr_store_compact (store);
        warnings = capture_stop ();
        g_assert_null (qmgr_manager_lookup_group (loaded, a->id));
        g_assert_true (g_file_test (broken, G_FILE_TEST_IS_REGULAR));
        g_assert_true (warnings_mention (warnings, hex));
        g_clear_pointer (&loaded, qmgr_manager_free);
        g_clear_pointer (&store, qmgr_store_free);
        remove_tree (dir);
      }
}

/* A part whose checksum holds but whose sections are not as written (no
 * daemon writes one): skipped with a warning, the group loads from its file,
 * which the fold leaves as it was, and the journal is set aside. */
static void
test_load_part_that_does_not_read (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *path = two_group_files (f);
  g_autofree char *before = NULL, *after = NULL, *record = NULL;
  g_autofree char *journal = g_build_filename (f->groups_dir, "journal.00000000000000f0", NULL);
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  static const char part[] = "[Group]\nVersion=2\n\n[File 3]\nUrl=https://example.com/x\n";
  char hex[QMGR_GUID_HEX_LEN + 1];
  gsize len;

  qmgr_guid_to_hex (unit_guid (GUID_A), hex);
  record = make_record ('P', hex, part, strlen (part), &len);
  rewrite_file (journal, record, len);
  g_assert_true (g_file_get_contents (path, &before, NULL, NULL));

  loaded = reload_promptly (f, &store, &warnings);
  g_assert_cmpstr (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A))->display_name, ==,
                   "name");
  g_assert_true (warnings_mention (warnings, hex));
  g_assert_true (warnings_mention (warnings, journal));
  qmgr_store_compact (store);
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (count_files (f->groups_dir, "journal.00000000000000f0", ".broken"), ==, 1);
}

/* A changed byte that still parses (a name) breaks the checksum. */
static void
test_load_changed_byte (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *path = two_group_files (f);
  g_autofree char *contents = NULL;
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  char *name;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  name = strstr (contents, "DisplayName=name\n");
  g_assert_nonnull (name);
  name[strlen ("DisplayName=n")] = 'o';
  rewrite_file (path, contents, len);
  loaded = reload_promptly (f, &store, &warnings);
  assert_set_aside (f, loaded, warnings, path);
  g_assert_true (warnings_mention (warnings, "checksum"));
}

/* A FIFO in place of a group file: never waited on. */
static void
test_load_fifo (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *path = two_group_files (f);
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;

  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  loaded = reload_promptly (f, &store, &warnings);
  assert_set_aside (f, loaded, warnings, path);
}

/* A file bigger than anything the writer can make (sparse here: no GBs
 * written) is set aside without being read. */
static void
test_load_oversized (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *path = two_group_files (f);
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  guint64 max = qmgr_store_group_file_max (f->manager->settings.max_files_per_job);
  int fd = open (path, O_WRONLY);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) max + 1), ==, 0);
  close (fd);
  loaded = reload_promptly (f, &store, &warnings);
  assert_set_aside (f, loaded, warnings, path);
  g_assert_true (warnings_mention (warnings, "bytes"));
}

/* A symlink in place of a group file is not followed; what it points to is
 * neither read into the log nor touched. */
static void
test_load_symlink (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *path = two_group_files (f);
  g_autofree char *target = g_build_filename (f->tmp, "elsewhere", NULL);
  g_autofree char *kept = NULL;
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  static const char secret[] = "root:SECRET-FIRST-LINE:0:0\n";

  rewrite_file (target, secret, strlen (secret));
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (symlink (target, path), ==, 0);
  loaded = reload_promptly (f, &store, &warnings);
  assert_set_aside (f, loaded, warnings, path);
  g_assert_false (warnings_mention (warnings, "SECRET"));
  g_assert_true (g_file_get_contents (target, &kept, NULL, NULL));
  g_assert_cmpstr (kept, ==, secret);
}

/* A group file as the previous version wrote it (version 1, no end marker),
 * and a journal record of one, still load; the next write of each is in
 * today's format, with its end marker. */
static const char legacy_group[] =
  "[Group]\nVersion=1\nId=1b4e28ba-2fa1-11d2-883f-0016d3cca427\nSequence=1\nOwner=1000\n"
  "State=suspended\nForeground=false\nDisplayName=\\sold\\\\name\nRemoteUserPassword=pw\n"
  "NotifyFlags=3\nNotifyClsid=org.example.App:/cb\n"
  "TransferPolicy=0\nBandwidthLimit=0\nMinimumRetryDelay=600\nNoProgressTimeout=1209600\n"
  "CreationTime=1000\nModificationTime=2000\nCompletionTime=0\nPendingNotifications=1\n"
  "\n[Notification 0]\nFileIndex=1\nStatus=321\nNumRetries=2\nWin32Result=3\n"
  "TransportResult=4\nCreated=1500\n"
  "\n[Job]\nId=0f8fad5b-d9cb-469f-a165-70867728950e\nFiles=2\nCurrentFile=1\n"
  "ErrorName=io.github.qmgrd.QMgr1.Transfer.Timeout\nErrorMessage=No data for 60 s\n"
  "ErrorFileIndex=1\n"
  "Win32Result=110\nTransportResult=0\nNumRetries=2\n"
  "\n[File 0]\nUrl=https://example.com/a\nPath=/tmp/qmgr-unit/legacy/a\nSizeHint=5\nSize=5\n"
  "Complete=true\nValidator=\"etag\"\n"
  "\n[File 1]\nUrl=https://example.com/b\nPath=/tmp/qmgr-unit/legacy/b\nSizeHint=0\n"
  "Complete=false\nErrorName=io.github.qmgrd.QMgr1.Transfer.Timeout\n"
  "ErrorMessage=No data for 60 s\n";

static void
assert_legacy_group (QmgrGroup *g)
{
  QmgrFile *f0, *f1;

  g_assert_nonnull (g);
  g_assert_cmpstr (g->display_name, ==, " old\\name");
  g_assert_cmpstr (g->remote_user_password, ==, "pw");
  g_assert_cmpuint (g->pending_notifications->len, ==, 1);
  g_assert_cmpuint (g_array_index (g->pending_notifications, QmgrPendingNotification,
                                   0).transport_result, ==, 4);
  g_assert_nonnull (g->job);
  g_assert_cmpuint (g->job->files->len, ==, 2);
  g_assert_cmpuint (g->job->num_retries, ==, 2);
  f0 = g_ptr_array_index (g->job->files, 0);
  f1 = g_ptr_array_index (g->job->files, 1);
  g_assert_true (f0->complete);
  g_assert_cmpstr (f0->validator, ==, "\"etag\"");
  g_assert_cmpstr (f1->local_path, ==, "/tmp/qmgr-unit/legacy/b");
  g_assert_cmpint (f1->error, ==, QMGR_TRANSFER_ERROR_TIMEOUT);
}

/* A journal record as the previous version wrote it. */
static char *
legacy_record (const char *hex, const char *payload, gsize *len)
{
  gsize n = strlen (payload);
  guint32 crc = reference_crc32 (reference_crc32 (reference_crc32 (0, "S", 1), hex, 32),
                                 payload, n);
  char *record = g_strdup_printf ("QJ1 S %s %" G_GSIZE_FORMAT " %08x\n%s\n", hex, n, crc,
                                  payload);

  *len = strlen (record);
  return record;
}

static void
test_load_legacy (Fixture *f, gconstpointer data)
{
  gboolean from_journal = GPOINTER_TO_INT (data);
  g_autofree char *path = group_file (f, GUID_A);
  g_autofree char *contents = NULL;
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  char hex[QMGR_GUID_HEX_LEN + 1];

  qmgr_guid_to_hex (unit_guid (GUID_A), hex);
  if (from_journal)
    {
      g_autofree char *journal = g_build_filename (f->groups_dir, "journal.00000000000000ff",
                                                   NULL);
      gsize len;
      g_autofree char *record = legacy_record (hex, legacy_group, &len);

      rewrite_file (journal, record, len);
    }
  else
    rewrite_file (path, legacy_group, strlen (legacy_group));

  loaded = reload_promptly (f, &store, &warnings);
  for (guint i = 0; i < warnings->len; i++)
    g_test_message ("%s", (char *) warnings->pdata[i]);
  g_assert_cmpuint (warnings->len, ==, 0);
  assert_legacy_group (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A)));

  /* Written again, in today's format, soon after the start. */
  qmgr_store_compact (store);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_true (g_str_has_prefix (contents, "[Group]\nVersion=2\n"));
  g_assert_nonnull (strstr (contents, "\n[End]\nCRC32="));
  g_clear_pointer (&loaded, qmgr_manager_free);
  g_clear_pointer (&store, qmgr_store_free);
  g_clear_pointer (&warnings, g_ptr_array_unref);
  loaded = reload_promptly (f, &store, &warnings);
  assert_legacy_group (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A)));
}

/* ---- parts: a change writes the group's header and the files it touched ---- */

/* Changes group @g through the core's own calls, each saving a part: files
 * appended, files changed in place (now, and "soon", merged), the group's
 * fields. */
static void
change_in_parts (QmgrGroup *g)
{
  g_autoptr(GError) error = NULL;
  QmgrFileSpec more[] = {
    { "https://example.com/more/1", "/tmp/qmgr-unit/store/more-1", 10 },
    { "https://example.com/more/2", "/tmp/qmgr-unit/store/more-2", 20 },
  };

  unit_clock_advance (1000);
  g_assert_true (qmgr_job_add_files (g->job, more, G_N_ELEMENTS (more), &error));
  g_assert_true (qmgr_group_resume (g, &error));
  /* Saved soon: first validators; merged with the later ones of the group. */
  g_assert_true (qmgr_job_file_response (g->job, 0, 100, "\"v0\"", &error));
  g_assert_true (qmgr_job_file_response (g->job, 3, 300, "\"v3\"", &error));
  g_assert_true (qmgr_job_file_transient_error (g->job, 1, QMGR_TRANSFER_ERROR_TIMEOUT,
                                                "slow", 110, 0, 1, &error));
  qmgr_store_flush (g->manager->store);
  /* Saved now: a validator replacing another, a completion, a name. */
  g_assert_true (qmgr_job_file_response (g->job, 0, 100, "\"v0b\"", &error));
  g_assert_true (qmgr_job_file_completed (g->job, 4, 20, &error));
  g_assert_true (qmgr_group_set_display_name (g, "in parts", &error));
  g_assert_no_error (error);
}

static void
assert_reloads_same (Fixture *f, QmgrGroup *g)
{
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  QmgrGroup *back;

  capture_start ();
  loaded = reload (f, &store);
  warnings = capture_stop ();
  g_assert_cmpuint (warnings->len, ==, 0);
  back = qmgr_manager_lookup_group (loaded, g->id);
  g_assert_nonnull (back);
  if (back != NULL)
    assert_same_group (g, back);
  /* Its journals folded into the group files (the fixture's store is not to
   * be used after this: its journal went with them). */
  qmgr_store_compact (store);
}

/* Parts on top of the group's file, and on top of a whole record: what the
 * journal and the file hold together loads as the group was; folded into the
 * file, the same. */
static void
test_parts_replay (Fixture *f, gconstpointer data)
{
  gboolean on_file = GPOINTER_TO_INT (data);
  g_autofree char *path = group_file (f, GUID_A);
  g_autofree char *contents = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 3, FALSE);

  g_assert_true (qmgr_group_set_notify_flags (g, QMGR_NOTIFY_FILE_DONE, NULL));
  g_assert_true (qmgr_group_set_notify_clsid (g, "org.example.App:/cb", NULL));
  if (on_file)
    qmgr_store_compact (f->store);
  change_in_parts (g);
  g_assert_cmpuint (g->job->files->len, ==, 5);
  g_assert_cmpuint (g->pending_notifications->len, ==, 1);
  assert_reloads_same (f, g);

  /* Folded, and loaded from the file alone. */
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "[File 4]\n"));
  g_assert_nonnull (strstr (contents, "\n[End]\nCRC32="));
  assert_reloads_same (f, g);
}

/* A group of more files than one writev takes (IOV_MAX pieces): folded from
 * its file and a part (half its files changed: more than a quarter of its
 * file, so it is written anew), byte for byte what the writer writes. */
static void
test_parts_many_files (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *path = group_file (f, GUID_A);
  g_autofree char *contents = NULL, *expected = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 1500, FALSE);
  gsize len, expected_len;

  qmgr_store_compact (f->store);
  for (guint i = 0; i < 1500; i += 2)
    g_assert_true (qmgr_job_file_response (g->job, i, 7, "\"a validator of some length\"",
                                           NULL));
  qmgr_store_flush (f->store);
  assert_reloads_same (f, g);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  expected = qmgr_store_group_to_data (g, &expected_len);
  g_assert_cmpmem (contents, len, expected, expected_len);
}

/* A job replaced after parts: written whole again, nothing of the old job
 * comes back. */
static void
test_parts_job_replaced (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 3, FALSE);

  qmgr_store_compact (f->store);
  change_in_parts (g);
  g_assert_true (qmgr_job_cancel (g->job, &error));
  unit_create_job (g, GUID_C);
  unit_add_files (g->job, 1);
  g_assert_no_error (error);
  assert_reloads_same (f, g);
  assert_reloads_same (f, g);
}

/* Parts whose group file is damaged: the group cannot be rebuilt. Its file is
 * set aside with a warning, the fold goes on without it, and the next start
 * is quiet. */
static void
test_parts_on_damaged_file (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *path = two_group_files (f);
  g_autofree char *broken = g_strconcat (path, ".broken", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  QmgrGroup *a = qmgr_manager_lookup_group (f->manager, unit_guid (GUID_A));
  gsize len;

  g_assert_true (qmgr_group_set_display_name (a, "a part", NULL));
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  contents[len / 2] ^= 0x01;
  rewrite_file (path, contents, len);

  loaded = reload_promptly (f, &store, &warnings);
  assert_set_aside (f, loaded, warnings, path);
  g_assert_true (g_file_test (broken, G_FILE_TEST_IS_REGULAR));
  qmgr_store_compact (store);
  g_assert_cmpuint (count_files (f->groups_dir, "journal.", ".broken"), ==, 0);
  g_clear_pointer (&loaded, qmgr_manager_free);
  g_clear_pointer (&store, qmgr_store_free);
  g_clear_pointer (&warnings, g_ptr_array_unref);
  loaded = reload_promptly (f, &store, &warnings);
  g_assert_cmpuint (warnings->len, ==, 0);
  g_assert_null (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A)));
  g_assert_nonnull (qmgr_manager_lookup_group (loaded, unit_guid (GUID_D)));
}

static void
test_validator_absent (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 2, FALSE);
  QmgrGroup *back;
  QmgrFile *with, *without;

  with = g_ptr_array_index (g->job->files, 0);
  with->validator = g_strdup ("W/\"weak-etag\"");
  save_file_changed (g, 0);

  loaded = reload (f, &store);
  back = qmgr_manager_lookup_group (loaded, g->id);
  g_assert_nonnull (back);
  with = g_ptr_array_index (back->job->files, 0);
  without = g_ptr_array_index (back->job->files, 1);
  g_assert_cmpstr (with->validator, ==, "W/\"weak-etag\"");
  /* No validator was remembered: none must come back (an empty If-Range is not
   * "no If-Range"). */
  g_assert_null (without->validator);
  g_assert_cmpint (without->error, ==, QMGR_TRANSFER_ERROR_NONE);
  g_assert_null (without->error_message);
  g_assert_cmpint (back->job->error, ==, QMGR_TRANSFER_ERROR_NONE);
}

static void
test_settings (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (qmgr_manager_set_bandwidth_limit (f->manager, 1000000, &error));
  g_assert_true (qmgr_manager_set_metered_bandwidth_limit (f->manager, 50000, &error));
  g_assert_true (qmgr_manager_set_max_concurrent_transfers (f->manager, 9, &error));
  g_assert_no_error (error);

  loaded = reload (f, &store);
  g_assert_cmpuint (loaded->settings.bandwidth_limit, ==, 1000000);
  g_assert_cmpuint (loaded->settings.metered_bandwidth_limit, ==, 50000);
  g_assert_cmpuint (loaded->settings.max_concurrent_transfers, ==, 9);
  /* Quotas and the mode are not D-Bus settings: they stay as configured. */
  g_assert_cmpuint (loaded->settings.max_groups_per_owner, ==, 20000);
  g_assert_false (loaded->settings.system_mode);
}

static void
test_no_settings_file (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;

  loaded = reload (f, &store);
  g_assert_cmpuint (loaded->settings.bandwidth_limit, ==, 0);
  g_assert_cmpuint (loaded->settings.max_concurrent_transfers, ==, 4);
  g_assert_cmpuint (g_queue_get_length (&loaded->groups), ==, 0);
}

static void
test_keyfile_roundtrip (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(QmgrManager) other = unit_manager_new (0, 0);
  g_autoptr(GError) error = NULL;

  populate (f->manager);
  for (GList *l = f->manager->groups.head; l != NULL; l = l->next)
    {
      QmgrGroup *a = l->data;
      g_autoptr(GKeyFile) kf = qmgr_store_group_to_keyfile (a);
      QmgrGroup *b = qmgr_store_group_from_keyfile (other, kf, &error);

      g_assert_no_error (error);
      g_assert_nonnull (b);
      if (b == NULL)
        continue;
      assert_same_group (a, b);
      qmgr_group_free (b);
    }
}

/* A group with every field away from its default, callbacks owed with every
 * field set, and files in every state: what populate() leaves out. */
static QmgrGroup *
every_field_group (QmgrManager *m)
{
  g_autoptr(GError) error = NULL;
  QmgrGroup *g = unit_group_with_files (m, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", UNIT_OTHER, 3,
                                        TRUE);
  QmgrFile *file;

  g_assert_true (qmgr_group_set_display_name (g, " leading blank", &error));
  g_assert_true (qmgr_group_set_description (g, "\\tab\there\n", &error));
  g_assert_true (qmgr_group_set_notify_clsid (g, "org.example.Cb", &error));
  g_assert_true (qmgr_group_set_notify_flags (g, QMGR_NOTIFY_ALL_FLAGS, &error));
  g_assert_true (qmgr_group_set_remote_user_id (g, "\\bob", &error));
  g_assert_true (qmgr_group_set_remote_user_password (g, " sec\\ret ", &error));
  g_assert_true (qmgr_group_set_bandwidth_limit (g, G_MAXUINT64, &error));
  g_assert_true (qmgr_group_set_minimum_retry_delay (g, G_MAXUINT32, &error));
  g_assert_true (qmgr_group_set_no_progress_timeout (g, 0, &error));
  g_assert_no_error (error);
  g->retrying_since = G_MININT64;
  g->completion_time = G_MAXINT64;
  for (guint i = 0; i < 3; i++)
    {
      QmgrPendingNotification n = {
        .file_index = i == 2 ? QMGR_FILE_INDEX_NONE : i, .status = 0x140 + i,
        .num_retries = G_MAXUINT32 - i, .win32_result = 0x80070000u + i,
        .transport_result = 404 + i, .created = -1 - (gint64) i,
      };
      g_array_append_val (g->pending_notifications, n);
    }
  file = g_ptr_array_index (g->job->files, 0);
  qmgr_job_untally (g->job, file);
  file->complete = TRUE;
  file->bytes_total = file->bytes_transferred = G_MAXUINT64 - 1;
  qmgr_job_tally (g->job, file);
  file = g_ptr_array_index (g->job->files, 1);
  qmgr_job_untally (g->job, file);
  file->bytes_total = 0;
  qmgr_job_tally (g->job, file);
  file->validator = g_strdup ("Tue, 15 Nov 1994 08:12:31 GMT");
  file->error = QMGR_TRANSFER_ERROR_HTTP_STATUS;
  file->error_message = g_strdup ("\n 503 = [x]");
  g->job->error = QMGR_TRANSFER_ERROR_HTTP_STATUS;
  g->job->error_message = g_strdup (file->error_message);
  g->job->error_file_index = 1;
  g->job->current_file = 2;
  g->job->win32_result = G_MAXUINT32;
  g->job->transport_result = 503;
  g->job->num_retries = 7;
  return g;
}

/* The format on its own (no journal): what the writer writes, the reader reads
 * back to an equal group; and what the reader accepted, the writer writes again
 * byte for byte. */
static void
test_format_roundtrip (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(QmgrManager) other = unit_manager_new (0, 0);
  guint n = 0;

  populate (f->manager);
  every_field_group (f->manager);
  for (GList *l = f->manager->groups.head; l != NULL; l = l->next, n++)
    {
      QmgrGroup *a = l->data;
      g_autoptr(GError) error = NULL;
      g_autofree char *text = NULL, *again = NULL;
      gsize len, again_len;
      gboolean legacy = TRUE;
      QmgrGroup *b;

      text = qmgr_store_group_to_data (a, &len);
      b = qmgr_store_group_from_data (other, text, len, &legacy, &error);
      g_assert_no_error (error);
      g_assert_false (legacy);
      g_assert_nonnull (b);
      if (b == NULL)
        continue;
      assert_same_group (a, b);
      again = qmgr_store_group_to_data (b, &again_len);
      g_assert_cmpmem (again, again_len, text, len);
      qmgr_group_free (b);
    }
  g_assert_cmpuint (n, ==, 5);
}

/* A group owing more callbacks than a group file may hold (the core bounds
 * its queue; the store must not count on it): the newest are written, with a
 * warning, and what is written loads. */
static void
test_pending_over_limit (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 1, FALSE);
  QmgrGroup *back;
  const guint limit = QMGR_PENDING_NOTIFICATIONS_MAX;

  for (guint i = 0; i < limit + 1; i++)
    {
      QmgrPendingNotification n = { .file_index = 0, .status = 0x140, .created = i };
      g_array_append_val (g->pending_notifications, n);
    }
  capture_start ();
  g_assert_true (qmgr_group_set_display_name (g, "owes many", &error));
  g_assert_no_error (error);
  loaded = reload (f, &store);
  warnings = capture_stop ();

  back = qmgr_manager_lookup_group (loaded, g->id);
  g_assert_nonnull (back);
  if (back == NULL)
    return;
  g_assert_cmpstr (back->display_name, ==, "owes many");
  g_assert_cmpuint (back->pending_notifications->len, ==, limit);
  /* The oldest went. */
  g_assert_cmpint (g_array_index (back->pending_notifications, QmgrPendingNotification, 0).created,
                   ==, 1);
  g_assert_cmpint (g_array_index (back->pending_notifications, QmgrPendingNotification,
                                  limit - 1).created, ==, limit);
  g_assert_true (warnings_mention (warnings, g->id_str));
  g_assert_false (warnings_mention (warnings, "damaged"));
}

static void
test_keyfile_rejects (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 1, TRUE);
  struct {
    const char *section;
    const char *key;
    const char *value;   /* NULL: remove the key */
  } cases[] = {
    { "Group", "Version", "99" },
    { "Group", "Version", NULL },
    { "Group", "Id", NULL },
    { "Group", "Id", "not-a-guid" },
    { "Group", "Id", "00000000-0000-0000-0000-000000000000" },
    { "Group", "State", "sleeping" },
    { "Group", "Owner", "-5" },
    { "Group", "NotifyFlags", "8" },
    { "Group", "NotifyClsid", ":1.5" },
    { "Group", "TransferPolicy", "4294967295" },
    { "Group", "TransferPolicy", "256" },
    { "Group", "DisplayName", "bad\\nname" },
    { "Job", "Id", "junk" },
    { "Job", "Files", "2" },
    { "File 0", "Url", "file:///etc/passwd" },
    { "File 0", "Path", "relative/path" },
    { "File 0", "Path", NULL },
    { "File 0", "Complete", "maybe" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GKeyFile) kf = qmgr_store_group_to_keyfile (g);
      g_autoptr(GError) error = NULL;
      QmgrGroup *back;

      if (cases[i].value == NULL)
        g_key_file_remove_key (kf, cases[i].section, cases[i].key, NULL);
      else
        g_key_file_set_value (kf, cases[i].section, cases[i].key, cases[i].value);
      back = qmgr_store_group_from_keyfile (f->manager, kf, &error);
      if (back != NULL)
        {
          const char *shown = cases[i].value ? cases[i].value : "(removed)";

          /* Every rejected case is listed, not only the first. */
          g_test_message ("[%s] %s=%s was accepted", cases[i].section, cases[i].key, shown);
          g_test_fail_printf ("[%s] %s=%s was accepted", cases[i].section, cases[i].key, shown);
          qmgr_group_free (back);
          continue;
        }
      g_assert_nonnull (error);
    }

  /* A queued or complete group without its job cannot be. */
  {
    g_autoptr(GKeyFile) kf = qmgr_store_group_to_keyfile (g);
    g_autoptr(GError) error = NULL;

    g_key_file_remove_group (kf, "Job", NULL);
    g_assert_null (qmgr_store_group_from_keyfile (f->manager, kf, &error));
    g_assert_nonnull (error);
  }
}

/* The journal file being written (the only one once everything is folded). */
static char *
current_journal (Fixture *f)
{
  GDir *dir = g_dir_open (f->groups_dir, 0, NULL);
  const char *name;
  char *found = NULL;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "journal."))
      {
        g_assert_null (found);
        found = g_build_filename (f->groups_dir, name, NULL);
      }
  g_dir_close (dir);
  g_assert_nonnull (found);
  return found;
}

/* The end of the records in a journal (the room after them is zeros). */
static goffset
file_size_of_records (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  while (len > 0 && contents[len - 1] == '\0')
    len--;
  return (goffset) len;
}

static goffset
file_size (const char *path)
{
  struct stat st;
  g_assert_cmpint (stat (path, &st), ==, 0);
  return st.st_size;
}

/* Writes fail once the journal reaches @limit bytes (RLIMIT_FSIZE; EFBIG even
 * for root), part of a record getting in first when @limit allows. */
static void
limit_file_size (rlim_t limit, struct rlimit *old)
{
  struct rlimit rl;

  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, old), ==, 0);
  rl = *old;
  rl.rlim_cur = limit;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &rl), ==, 0);
}

static void
test_store_failure_keeps_model (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(UnitRecorder) rec = unit_recorder_new (f->manager);
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  QmgrGroup *g = unit_create_group (f->manager, GUID_A, UNIT_OWNER);
  g_autofree char *journal = NULL;
  goffset before;
  struct rlimit old;

  qmgr_store_compact (f->store);
  g_assert_true (qmgr_group_set_display_name (g, "saved", &error));
  g_assert_no_error (error);
  journal = current_journal (f);
  before = file_size (journal);
  signal (SIGXFSZ, SIG_IGN);

  /* Room for part of the next record only: it is written halfway, fails, and
   * is taken back. Then no room at all. */
  for (int room = 20; room >= 0; room -= 20)
    {
      limit_file_size ((rlim_t) (before + room), &old);
      unit_recorder_clear (rec);
      g_assert_false (qmgr_group_set_display_name (g, "never saved", &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_null (qmgr_manager_create_group (f->manager, GUID_B, UNIT_OWNER, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old), ==, 0);

      /* The model and the journal are as they were, and nobody heard of it. */
      g_assert_cmpint (file_size (journal), ==, before);
      g_assert_cmpstr (g->display_name, ==, "saved");
      g_assert_null (qmgr_manager_lookup_group (f->manager, unit_guid (GUID_B)));
      g_assert_cmpuint (unit_recorder_total (rec), ==, 0);
    }
  signal (SIGXFSZ, SIG_DFL);

  /* The journal still works, and what it holds loads. */
  g_assert_true (qmgr_group_set_display_name (g, "after", &error));
  g_assert_no_error (error);
  loaded = reload (f, &store);
  g_assert_cmpstr (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A))->display_name, ==,
                   "after");
  g_assert_null (qmgr_manager_lookup_group (loaded, unit_guid (GUID_B)));
}

/* A crash while a record was being appended: the record is cut short. What came
 * before it loads; the cut record (never acknowledged) is ignored, and so is a
 * record whose bytes changed. */
static void
test_journal_torn_tail (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *journal = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  goffset complete;
  QmgrGroup *g = unit_create_group (f->manager, GUID_A, UNIT_OWNER);

  g_assert_true (qmgr_group_set_display_name (g, "first", &error));
  g_assert_no_error (error);
  journal = current_journal (f);
  complete = file_size (journal);
  g_assert_true (qmgr_group_set_display_name (g, "second", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (journal, &contents, &len, NULL));
  g_assert_cmpuint (len, >, (gsize) complete + 10);

  /* Every cut of the last record, and a flipped byte in it, each loaded from
   * a state directory of its own holding only that journal. */
  for (gsize cut = (gsize) complete; cut <= len; cut += MAX ((len - complete) / 7, 1))
    for (int flip = 0; flip < 2; flip++)
      {
        g_autofree char *dir = g_build_filename (f->tmp, "torn", NULL);
        g_autofree char *groups = g_build_filename (dir, "groups", NULL);
        g_autofree char *copy = g_build_filename (groups, "journal.0000000000000001", NULL);
        g_autofree char *damaged = g_memdup2 (contents, len);
        const char *expect = cut == len && !flip ? "second" : "first";
        g_autoptr(QmgrManager) loaded = unit_manager_new (0, 0);
        g_autoptr(QmgrStore) store = NULL;
        QmgrGroup *lg;

        if (flip && cut == (gsize) complete)
          continue;
        if (flip)
          damaged[cut - 1] ^= 0x20;
        g_assert_cmpint (g_mkdir_with_parents (groups, 0700), ==, 0);
        g_assert_true (g_file_set_contents (copy, damaged, (gssize) cut, NULL));
        store = open_store (dir);
        qmgr_manager_set_store (loaded, qmgr_store_hooks (), store);
        g_assert_true (qmgr_store_load (store, loaded, &error));
        g_assert_no_error (error);
        lg = qmgr_manager_lookup_group (loaded, unit_guid (GUID_A));
        g_assert_nonnull (lg);
        g_assert_cmpstr (lg->display_name, ==, expect);
        /* Folded into the group file, the same. */
        qmgr_store_compact (store);
        g_clear_pointer (&loaded, qmgr_manager_free);
        g_clear_pointer (&store, qmgr_store_free);
        {
          g_autoptr(QmgrManager) again = unit_manager_new (0, 0);
          g_autoptr(QmgrStore) store2 = open_store (dir);
          qmgr_manager_set_store (again, qmgr_store_hooks (), store2);
          g_assert_true (qmgr_store_load (store2, again, &error));
          lg = qmgr_manager_lookup_group (again, unit_guid (GUID_A));
          g_assert_nonnull (lg);
          g_assert_cmpstr (lg->display_name, ==, expect);
        }
        remove_tree (dir);
      }
}

static char *
group_hex (QmgrGroup *g)
{
  char hex[QMGR_GUID_HEX_LEN + 1];

  qmgr_guid_to_hex (g->id, hex);
  return g_strdup (hex);
}

/* Ten acknowledged records, each made durable on its own: the first renames
 * group A (whose file says "one") unless @first_creates, then new groups.
 * Returns the journal's path; @starts receives where each record starts, and
 * its end. */
static char *
ten_records (Fixture *f, gboolean first_creates, goffset starts[11], GPtrArray *ids)
{
  g_autoptr(GError) error = NULL;
  QmgrGroup *a = NULL;
  char *journal;

  if (!first_creates)
    {
      a = unit_create_group (f->manager, GUID_A, UNIT_OWNER);
      g_assert_true (qmgr_group_set_display_name (a, "one", &error));
      g_assert_no_error (error);
    }
  qmgr_store_compact (f->store);
  /* All folded: no journal until the first record creates one. */
  g_assert_cmpuint (count_files (f->groups_dir, "journal.", ""), ==, 0);
  journal = NULL;
  starts[0] = 0;
  for (guint i = 0; i < 10; i++)
    {
      QmgrGroup *g;

      if (i == 0 && a != NULL)
        {
          g_assert_true (qmgr_group_set_display_name (a, "two", &error));
          g_assert_no_error (error);
          g = a;
        }
      else
        g = unit_create_group (f->manager, "", UNIT_OWNER);
      g_ptr_array_add (ids, g_strdup (g->id_str));
      if (journal == NULL)
        journal = current_journal (f);
      starts[i + 1] = file_size_of_records (journal);
    }
  return journal;
}

/* A byte flipped in the first of ten acknowledged records (in its payload, or
 * in the group id of its header): that record is skipped with a warning naming
 * the journal (and its group when the header reads), the nine after it load,
 * its group keeps the state its file holds, and the fold sets the journal
 * aside instead of deleting it. */
static void
test_journal_damaged_record (Fixture *f, gconstpointer data)
{
  gboolean first_creates = GPOINTER_TO_INT (data) == 0;
  gboolean in_header = GPOINTER_TO_INT (data) == 2;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) warnings = NULL;
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autofree char *journal = NULL, *contents = NULL, *hex = NULL, *broken = NULL;
  goffset starts[11];
  gsize len;

  journal = ten_records (f, first_creates, starts, ids);
  hex = group_hex (qmgr_manager_lookup_group (f->manager, unit_guid (ids->pdata[0])));
  broken = g_strconcat (journal, ".broken", NULL);
  qmgr_store_flush (f->store);
  g_assert_true (g_file_get_contents (journal, &contents, &len, NULL));
  /* "QJ1 S <hex>": the id's first digit; or a byte in the middle of the payload. */
  if (in_header)
    contents[starts[0] + 6] ^= 0x20;
  else
    contents[(starts[0] + starts[1]) / 2] ^= 0x01;
  rewrite_file (journal, contents, len);

  capture_start ();
  loaded = reload (f, &store);
  warnings = capture_stop ();

  for (guint i = 1; i < 10; i++)
    g_assert_nonnull (qmgr_manager_lookup_group (loaded, unit_guid (ids->pdata[i])));
  if (first_creates)
    g_assert_null (qmgr_manager_lookup_group (loaded, unit_guid (ids->pdata[0])));
  else
    g_assert_cmpstr (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A))->display_name, ==,
                     "one");
  g_assert_cmpuint (warnings->len, ==, 1);
  g_assert_true (warnings_mention (warnings, journal));
  g_assert_true (warnings_mention (warnings, in_header ? "unreadable" : hex));

  /* Folded, and kept aside rather than deleted. */
  qmgr_store_compact (store);
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (broken, G_FILE_TEST_IS_REGULAR));
  g_clear_pointer (&loaded, qmgr_manager_free);
  g_clear_pointer (&store, qmgr_store_free);

  /* The next start finds the same groups, without a word. */
  capture_start ();
  loaded = reload (f, &store);
  g_clear_pointer (&warnings, g_ptr_array_unref);
  warnings = capture_stop ();
  g_assert_cmpuint (warnings->len, ==, 0);
  for (guint i = 1; i < 10; i++)
    g_assert_nonnull (qmgr_manager_lookup_group (loaded, unit_guid (ids->pdata[i])));
}

/* The last of ten records cut short (a crash while it was written): the nine
 * before it load, quietly, and the journal is folded and removed as usual. */
static void
test_journal_cut_last_record (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) warnings = NULL;
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autofree char *journal = NULL, *contents = NULL, *broken = NULL;
  goffset starts[11];
  gsize len;

  journal = ten_records (f, TRUE, starts, ids);
  broken = g_strconcat (journal, ".broken", NULL);
  qmgr_store_flush (f->store);
  g_assert_true (g_file_get_contents (journal, &contents, &len, NULL));
  rewrite_file (journal, contents, (gsize) (starts[9] + starts[10]) / 2);

  capture_start ();
  loaded = reload (f, &store);
  warnings = capture_stop ();
  for (guint i = 0; i < 9; i++)
    g_assert_nonnull (qmgr_manager_lookup_group (loaded, unit_guid (ids->pdata[i])));
  g_assert_null (qmgr_manager_lookup_group (loaded, unit_guid (ids->pdata[9])));
  g_assert_cmpuint (warnings->len, ==, 0);
  qmgr_store_compact (store);
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (broken, G_FILE_TEST_EXISTS));
}

/* Checks the record at @p (in @contents of @size): "QJ1 <op> <hex> <len>
 * <crc>\n<payload>\n". Returns the next record's offset; *@payload and *@len
 * receive its payload. */
static gsize
check_record (const char *contents, gsize at, gsize size, char op, const char *hex,
              const char **payload, guint64 *len)
{
  g_auto(GStrv) header = NULL;
  g_autofree char *line = NULL;
  const char *end = memchr (contents + at, '\n', size - at);
  char op_text[2] = { op, '\0' };
  guint32 crc;

  g_assert_nonnull (end);
  line = g_strndup (contents + at, (gsize) (end - (contents + at)));
  header = g_strsplit (line, " ", -1);
  g_assert_cmpuint (g_strv_length (header), ==, 5);
  g_assert_cmpstr (header[0], ==, "QJ1");
  g_assert_cmpstr (header[1], ==, op_text);
  g_assert_cmpstr (header[2], ==, hex);
  *len = g_ascii_strtoull (header[3], NULL, 10);
  crc = (guint32) g_ascii_strtoull (header[4], NULL, 16);
  g_assert_cmpuint (strlen (header[4]), ==, 8);
  *payload = end + 1;
  g_assert_cmpuint ((gsize) (*payload - contents) + *len + 1, <=, size);
  g_assert_cmpint ((*payload)[*len], ==, '\n');
  g_assert_cmphex (crc, ==,
                   reference_crc32 (reference_crc32 (reference_crc32 (0, op_text, 1), hex, 32),
                                    *payload, *len));
  return (gsize) (*payload - contents) + *len + 1;
}

/* Records on disk are as journal-read.c's header comment says: a new group is
 * written whole (its file's text, end marker included), a change to it as a
 * part (its header and the files the change named), a cancelled group as a
 * deletion. Journals written by one version load in the next. */
static void
test_journal_record_format (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *journal = NULL;
  g_autofree char *contents = NULL;
  QmgrGroup *g;
  const char *payload;
  guint64 len;
  gsize size, at;
  char hex[QMGR_GUID_HEX_LEN + 1];
  QmgrFileSpec spec = { "https://example.com/added", "/tmp/qmgr-unit/store/added", 0 };

  g_assert_cmphex (reference_crc32 (0, "123456789", 9), ==, 0xcbf43926u);
  qmgr_store_compact (f->store);
  g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 2, FALSE);
  qmgr_guid_to_hex (g->id, hex);
  journal = current_journal (f);
  at = (gsize) file_size_of_records (journal);
  g_assert_true (qmgr_store_hooks ()->save_group (f->store, g, &(QmgrGroupDelta) {
                   TRUE, G_MAXUINT, NULL }, &error));
  g_assert_true (qmgr_group_set_display_name (g, "format", &error));
  g_assert_true (qmgr_job_add_files (g->job, &spec, 1, &error));
  g_assert_true (qmgr_group_cancel (g, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (journal, &contents, NULL, NULL));
  size = (gsize) file_size_of_records (journal);

  /* The group saved whole. */
  at = check_record (contents, at, size, 'S', hex, &payload, &len);
  g_assert_true (g_str_has_prefix (payload, "[Group]\nVersion=2\n"));
  g_assert_nonnull (g_strstr_len (payload, (gssize) len, "[File 1]\n"));
  g_assert_nonnull (g_strstr_len (payload, (gssize) len, "\n[End]\nCRC32="));
  /* SetProp: the header alone. */
  at = check_record (contents, at, size, 'P', hex, &payload, &len);
  g_assert_nonnull (g_strstr_len (payload, (gssize) len, "DisplayName=format\n"));
  g_assert_nonnull (g_strstr_len (payload, (gssize) len, "\n[Job]\n"));
  g_assert_null (g_strstr_len (payload, (gssize) len, "[File "));
  g_assert_null (g_strstr_len (payload, (gssize) len, "[End]"));
  /* AddFiles: the header and the new file. */
  at = check_record (contents, at, size, 'P', hex, &payload, &len);
  g_assert_nonnull (g_strstr_len (payload, (gssize) len, "\nFiles=3\n"));
  g_assert_null (g_strstr_len (payload, (gssize) len, "[File 1]"));
  g_assert_nonnull (g_strstr_len (payload, (gssize) len,
                                  "[File 2]\nUrl=https://example.com/added\n"));
  /* CancelGroup. */
  at = check_record (contents, at, size, 'D', hex, &payload, &len);
  g_assert_cmpuint (len, ==, 0);
  g_assert_cmpuint (at, ==, size);
}

/* Held records that cannot be written are lost: the batch fails, and from then
 * on the journal refuses everything rather than acknowledge records that a
 * later replay could not be trusted to reach. What was durable before stays. */
static void
test_batch_write_failure (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autofree char *journal = NULL;
  QmgrGroup *g = unit_create_group (f->manager, GUID_A, UNIT_OWNER);
  struct rlimit old;
  gboolean ended;

  g_assert_true (qmgr_group_set_display_name (g, "durable", &error));
  g_assert_no_error (error);
  journal = current_journal (f);

  qmgr_manager_begin_batch (f->manager);
  g_assert_true (qmgr_group_set_display_name (g, "held", &error));   /* room reserved */
  g_assert_no_error (error);
  signal (SIGXFSZ, SIG_IGN);
  limit_file_size ((rlim_t) file_size_of_records (journal), &old);
  capture_start ();
  ended = qmgr_manager_end_batch (f->manager, &error);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old), ==, 0);
  signal (SIGXFSZ, SIG_DFL);
  g_assert_false (ended);
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* Refused from now on, with a reason, even though the disk has room again. */
  g_assert_false (qmgr_group_set_display_name (g, "after", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "restart"));
  g_clear_error (&error);

  /* A restart finds what was durable. */
  loaded = reload (f, &store);
  warnings = capture_stop ();
  g_assert_true (warnings_mention (warnings, "changes are refused"));
  g_assert_cmpstr (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A))->display_name, ==,
                   "durable");
}

/* Saves inside a batch are made durable together, at its end. */
static void
test_batch (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autofree char *journal = NULL;
  goffset before;

  unit_create_group (f->manager, GUID_A, UNIT_OWNER);
  journal = current_journal (f);
  before = file_size (journal);
  qmgr_manager_begin_batch (f->manager);
  for (guint i = 0; i < 10; i++)
    {
      QmgrGroup *g = qmgr_manager_lookup_group (f->manager, unit_guid (GUID_A));
      g_autofree char *name = g_strdup_printf ("n%u", i);
      g_assert_true (qmgr_group_set_display_name (g, name, &error));
      g_assert_no_error (error);
    }
  unit_create_group (f->manager, GUID_B, UNIT_OWNER);
  /* Held back (where the file system can reserve the room), written and made
   * durable at the end of the batch. */
  g_assert_true (qmgr_manager_end_batch (f->manager, &error));
  g_assert_no_error (error);
  g_assert_cmpint (file_size (journal), >, before);
  /* With room written ahead (zeros), which loading skips without a word. */
  g_assert_cmpint (file_size (journal), >, file_size_of_records (journal));

  loaded = reload (f, &store);
  g_assert_cmpstr (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A))->display_name, ==,
                   "n9");
  g_assert_nonnull (qmgr_manager_lookup_group (loaded, unit_guid (GUID_B)));
}

/* The group file's text is written without GKeyFile: every string must come
 * out escaped exactly as g_key_file_set_string() escapes it, and read back. */
static void
test_keyfile_escapes (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  static const char *const tricky[] = {
    " leading", "\tleading tab", " \t \tmixed", "trailing ", "a\nb", "a\rb", "\n\n",
    "back\\slash", "\\ after", " \\ x", "x\t y", "=[]#;,", "caf\xc3\xa9 \xc3\xbcn\xc3\xaf" "code",
    "[Group]\nKey=value", "\\s\\t\\n", " ",
  };
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 1, FALSE);
  QmgrFile *file = g_ptr_array_index (g->job->files, 0);

  for (gsize i = 0; i < G_N_ELEMENTS (tricky); i++)
    {
      g_autoptr(GKeyFile) reference = g_key_file_new ();
      g_autoptr(GKeyFile) parsed = NULL;
      g_autofree char *ref_text = NULL, *line = NULL, *text = NULL, *back = NULL;
      gsize len;

      g_key_file_set_string (reference, "G", "ErrorMessage", tricky[i]);
      ref_text = g_key_file_to_data (reference, NULL, NULL);
      g_assert_true (g_str_has_prefix (ref_text, "[G]\n"));
      line = g_strdup (ref_text + strlen ("[G]\n"));

      g_free (file->error_message);
      file->error = QMGR_TRANSFER_ERROR_BAD_RESPONSE;
      file->error_message = g_strdup (tricky[i]);
      text = qmgr_store_group_to_data (g, &len);
      g_assert_cmpuint (strlen (text), ==, len);
      g_test_message ("%s", line);
      g_assert_nonnull (strstr (text, line));

      parsed = qmgr_store_group_to_keyfile (g);
      back = g_key_file_get_string (parsed, "File 0", "ErrorMessage", NULL);
      g_assert_cmpstr (back, ==, tricky[i]);
    }
}

/* Numbers are written as GKeyFile reads them, at both ends of their range. */
static void
test_keyfile_numbers (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  static const gint64 times[] = { 0, 1, -1, 9, 10, -10, G_MAXINT64, G_MININT64 };
  static const guint64 sizes[] = { 0, 1, 9, 10, 99, 100, 4294967296, G_MAXUINT64 };
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, 1, FALSE);
  QmgrFile *file = g_ptr_array_index (g->job->files, 0);

  for (gsize i = 0; i < G_N_ELEMENTS (times); i++)
    {
      g_autoptr(GKeyFile) parsed = NULL;
      g_autofree char *text = NULL;
      g_autofree char *expected = g_strdup_printf ("\nCompletionTime=%" G_GINT64_FORMAT "\n",
                                                   times[i]);
      gsize len;

      g->completion_time = times[i];
      file->size_hint = sizes[i];
      text = qmgr_store_group_to_data (g, &len);
      g_assert_cmpuint (strlen (text), ==, len);
      g_assert_nonnull (strstr (text, expected));
      parsed = qmgr_store_group_to_keyfile (g);
      g_assert_cmpint (g_key_file_get_int64 (parsed, "Group", "CompletionTime", NULL), ==,
                       times[i]);
      g_assert_cmpuint (g_key_file_get_uint64 (parsed, "File 0", "SizeHint", NULL), ==,
                        sizes[i]);
    }
}

/* ---- carried parts: a big group changed a little keeps its file ---- */

/* About 110 KB of group file: more than the fold's small file (64 KiB). */
#define BIG_FILES 1000

static char *
parts_file (Fixture *f, const char *guid)
{
  return state_file (f, guid, ".parts");
}

static goffset
size_or_zero (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0 ? st.st_size : 0;
}

static ino_t
inode_of (const char *path)
{
  struct stat st;
  g_assert_cmpint (stat (path, &st), ==, 0);
  return st.st_ino;
}

/* Bytes this process and its threads have passed to write() so far. */
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

/* Changes file @index of @g in place (its validator) and saves it now. */
static void
change_file (QmgrGroup *g, guint index, const char *validator)
{
  QmgrFile *file = g_ptr_array_index (g->job->files, index);

  g_free (file->validator);
  file->validator = g_strdup (validator);
  save_file_changed (g, index);
}

/* A SetProp and a changed file on a big group: the fold carries them into its
 * parts file and leaves its file as it is; they load back, restart after
 * restart. */
static void
test_carry_small_change (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *path = group_file (f, GUID_A);
  g_autofree char *parts = parts_file (f, GUID_A);
  g_autofree char *before = NULL, *after = NULL;
  gsize before_len, after_len;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, BIG_FILES, FALSE);

  qmgr_store_compact (f->store);
  g_assert_true (g_file_get_contents (path, &before, &before_len, NULL));
  g_assert_cmpuint (before_len, >, 64 << 10);
  g_assert_false (g_file_test (parts, G_FILE_TEST_EXISTS));

  g_assert_true (qmgr_group_set_display_name (g, "carried", NULL));
  change_file (g, 7, "\"seven\"");
  qmgr_store_compact (f->store);
  g_assert_true (g_file_get_contents (path, &after, &after_len, NULL));
  g_assert_cmpmem (after, after_len, before, before_len);
  g_assert_cmpint (size_or_zero (parts), >, 0);
  g_assert_cmpint (size_or_zero (parts), <, 4096);
  g_assert_cmpuint (count_files (f->groups_dir, "journal.", ""), ==, 0);
  check_private_files (f->groups_dir);

  assert_reloads_same (f, g);
  assert_reloads_same (f, g);
}

/* A stream of small changes to a big group, each folded: the parts file
 * stays under a quarter of the group file, no journal stays behind, when the
 * parts add up the group file is written anew (and holds them), and a change
 * with its fold costs 64 KiB on average (TARGETS.md B10's bound for one
 * SetProp; the group file is about twice that). */
static void
test_carry_bounded (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *path = group_file (f, GUID_A);
  g_autofree char *parts = parts_file (f, GUID_A);
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, BIG_FILES, FALSE);
  guint rewrites = 0, carried = 0;
  guint64 written;
  ino_t inode;

  qmgr_store_compact (f->store);
  inode = inode_of (path);
  written = bytes_written ();
  for (guint i = 0; i < 120; i++)
    {
      g_autofree char *name = g_strdup_printf ("round %u", i);
      g_autofree char *validator = g_strdup_printf ("\"round %u\"", i);
      goffset file_len = size_or_zero (path);

      /* As the bus makes a call: in a batch (room is written ahead). */
      qmgr_manager_begin_batch (f->manager);
      g_assert_true (qmgr_group_set_display_name (g, name, NULL));
      change_file (g, (i * 7) % BIG_FILES, validator);
      g_assert_true (qmgr_manager_end_batch (f->manager, NULL));
      qmgr_store_compact (f->store);

      g_assert_cmpint (size_or_zero (parts), <, file_len / 4);
      g_assert_cmpuint (count_files (f->groups_dir, "journal.", ""), ==, 0);
      if (inode_of (path) != inode)
        {
          /* Written anew: its parts are in it. */
          g_autofree char *contents = NULL, *expected = NULL;
          gsize len, expected_len;

          rewrites++;
          inode = inode_of (path);
          g_assert_false (g_file_test (parts, G_FILE_TEST_EXISTS));
          g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
          expected = qmgr_store_group_to_data (g, &expected_len);
          g_assert_cmpmem (contents, len, expected, expected_len);
        }
      else
        carried++;
    }
  written = bytes_written () - written;
  g_test_message ("%u folds carried, %u wrote the group file; %" G_GUINT64_FORMAT " bytes "
                  "written per change", carried, rewrites, written / 120);
  g_assert_cmpuint (written / 120, <=, 64 << 10);
  g_assert_cmpuint (rewrites, >=, 1);
  g_assert_cmpuint (rewrites, <=, 10);
  assert_reloads_same (f, g);
}

/* ---- crashes during a fold: the state directory at each step ---- */

typedef struct {
  const char *state_dir;
  char *root;
  GPtrArray *dirs;            /* one copy of the state directory per step */
} Snapshots;

static void
copy_tree (const char *from, const char *to)
{
  GDir *dir = g_dir_open (from, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  g_assert_cmpint (g_mkdir_with_parents (to, 0700), ==, 0);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *src = g_build_filename (from, name, NULL);
      g_autofree char *dst = g_build_filename (to, name, NULL);
      g_autofree char *contents = NULL;
      gsize len;

      if (g_file_test (src, G_FILE_TEST_IS_DIR))
        copy_tree (src, dst);
      else if (g_file_get_contents (src, &contents, &len, NULL))
        rewrite_file (dst, contents, len);
    }
  g_dir_close (dir);
}

/* What a crash right now would leave (every write so far on disk). */
static void
snapshot (const char *step, gpointer data)
{
  Snapshots *s = data;
  char *dir = g_strdup_printf ("%s/%02u-%s", s->root, s->dirs->len, step);

  copy_tree (s->state_dir, dir);
  g_ptr_array_add (s->dirs, dir);
}

/* Loads @dir as a start after a crash would, twice (the second time after
 * the first start's fold): groups @guids as @m has them, without a warning. */
static void
check_snapshot (const char *dir, QmgrManager *m, const char *const *guids)
{
  g_test_message ("crash at %s", dir);
  for (int pass = 0; pass < 2; pass++)
    {
      g_autoptr(QmgrManager) loaded = unit_manager_new (0, 0);
      g_autoptr(QmgrStore) store = open_store (dir);
      g_autoptr(GPtrArray) warnings = NULL;
      g_autoptr(GError) error = NULL;

      capture_start ();
      qmgr_manager_set_store (loaded, qmgr_store_hooks (), store);
      g_assert_true (qmgr_store_load (store, loaded, &error));
      g_assert_no_error (error);
      qmgr_store_compact (store);
      warnings = capture_stop ();
      for (guint i = 0; i < warnings->len; i++)
        g_test_message ("%s", (char *) warnings->pdata[i]);
      g_assert_cmpuint (warnings->len, ==, 0);
      for (guint i = 0; guids[i] != NULL; i++)
        {
          QmgrGroup *back = qmgr_manager_lookup_group (loaded, unit_guid (guids[i]));

          g_assert_nonnull (back);
          if (back != NULL)
            assert_same_group (qmgr_manager_lookup_group (m, unit_guid (guids[i])), back);
        }
    }
}

static void
check_snapshots (Snapshots *s, QmgrManager *m, const char *const *guids, guint expected)
{
  g_assert_cmpuint (s->dirs->len, ==, expected);
  for (guint i = 0; i < s->dirs->len; i++)
    {
      check_snapshot (g_ptr_array_index (s->dirs, i), m, guids);
      remove_tree (g_ptr_array_index (s->dirs, i));
    }
  g_ptr_array_set_size (s->dirs, 0);
}

/* A crash before the journal is closed, after it is (the fold has read it),
 * and after each step of a fold that carries a big group's parts and writes
 * a small group anew, then of one that writes the big group anew over its
 * parts file, and in the middle of appending to a parts file: every start
 * after it finds every acknowledged change, and so does the one after that. */
static void
test_carry_crash (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  static const char *const guids[] = { GUID_A, GUID_D, NULL };
  g_autofree char *parts = parts_file (f, GUID_A);
  g_autofree char *written_parts = NULL, *contents = NULL;
  Snapshots snaps = { f->state_dir, g_build_filename (f->tmp, "crash", NULL),
                      g_ptr_array_new_with_free_func (g_free) };
  QmgrGroup *a = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, BIG_FILES, FALSE);
  QmgrGroup *d = unit_group_with_files (f->manager, GUID_D, UNIT_OWNER, 2, FALSE);
  goffset carried_before;
  gsize len;

  qmgr_store_compact (f->store);
  qmgr_store_set_fold_hook (f->store, snapshot, &snaps);

  /* Carrying A's change, writing D anew. */
  g_assert_true (qmgr_group_set_display_name (a, "carried", NULL));
  change_file (a, 3, "\"three\"");
  g_assert_true (qmgr_group_set_display_name (d, "written anew", NULL));
  snapshot ("before-rotating", &snaps);
  qmgr_store_compact (f->store);
  g_assert_true (g_file_test (parts, G_FILE_TEST_IS_REGULAR));
  check_snapshots (&snaps, f->manager, guids, 6);

  /* Writing A anew over its parts file: half its files changed, and what the
   * parts file holds (a parts file left over would bring it back). */
  for (guint i = 0; i < BIG_FILES; i += 2)
    g_assert_true (qmgr_job_file_response (a->job, i, 7, "\"half of them\"", NULL));
  qmgr_store_flush (f->store);
  g_assert_true (qmgr_group_set_display_name (a, "written anew", NULL));
  change_file (a, 3, "\"three again\"");
  snapshot ("before-rotating", &snaps);
  qmgr_store_compact (f->store);
  g_assert_false (g_file_test (parts, G_FILE_TEST_EXISTS));
  check_snapshots (&snaps, f->manager, guids, 6);

  /* Carrying again, cut short while its record was appended. */
  g_assert_true (qmgr_group_set_display_name (a, "carried again", NULL));
  g_assert_true (qmgr_group_set_display_name (d, "again", NULL));
  carried_before = size_or_zero (parts);
  qmgr_store_compact (f->store);
  g_assert_cmpuint (snaps.dirs->len, ==, 5);
  written_parts = g_build_filename (g_ptr_array_index (snaps.dirs, 1), "groups",
                                    strrchr (parts, '/') + 1, NULL);
  g_assert_true (g_file_get_contents (written_parts, &contents, &len, NULL));
  g_assert_cmpuint (len, >, (gsize) carried_before);
  rewrite_file (written_parts, contents, (gsize) carried_before + (len - carried_before) / 2);
  check_snapshots (&snaps, f->manager, guids, 5);

  qmgr_store_set_fold_hook (f->store, NULL, NULL);
  g_ptr_array_unref (snaps.dirs);
  g_free (snaps.root);
}

/* A byte changed in a parts file's first record: that record is skipped with
 * a warning naming the file, the group loads from what else there is (here
 * the later record holds the same fields), is written whole, and the parts
 * file is set aside; the next start is quiet. */
static void
test_carry_damaged (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *parts = parts_file (f, GUID_A);
  g_autofree char *broken = g_strconcat (parts, ".broken", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, BIG_FILES, FALSE);
  goffset first;
  gsize len;

  qmgr_store_compact (f->store);
  g_assert_true (qmgr_group_set_display_name (g, "first", NULL));
  qmgr_store_compact (f->store);
  first = size_or_zero (parts);
  g_assert_true (qmgr_group_set_display_name (g, "second", NULL));
  qmgr_store_compact (f->store);
  g_assert_true (g_file_get_contents (parts, &contents, &len, NULL));
  g_assert_cmpuint (len, >, (gsize) first);
  contents[first / 2] ^= 0x01;
  rewrite_file (parts, contents, len);

  loaded = reload_promptly (f, &store, &warnings);
  g_assert_true (warnings_mention (warnings, parts));
  assert_same_group (g, qmgr_manager_lookup_group (loaded, unit_guid (GUID_A)));
  qmgr_store_compact (store);
  g_assert_false (g_file_test (parts, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (broken, G_FILE_TEST_IS_REGULAR));
  g_clear_pointer (&loaded, qmgr_manager_free);
  g_clear_pointer (&store, qmgr_store_free);
  g_clear_pointer (&warnings, g_ptr_array_unref);

  loaded = reload_promptly (f, &store, &warnings);
  g_assert_cmpuint (warnings->len, ==, 0);
  assert_same_group (g, qmgr_manager_lookup_group (loaded, unit_guid (GUID_A)));
}

/* A record a crash cut short at the end of a parts file (never acknowledged:
 * the journal still held its change): ignored without a warning, and cut off
 * at start-up, so that the next start does not meet it again. */
static void
test_carry_torn_tail (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *parts = parts_file (f, GUID_A);
  g_autofree char *contents = NULL, *torn = NULL;
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, BIG_FILES, FALSE);
  gsize len;

  qmgr_store_compact (f->store);
  g_assert_true (qmgr_group_set_display_name (g, "carried", NULL));
  qmgr_store_compact (f->store);
  g_assert_true (g_file_get_contents (parts, &contents, &len, NULL));
  torn = g_malloc (len + len / 2);
  memcpy (torn, contents, len);
  memcpy (torn + len, contents, len / 2);
  rewrite_file (parts, torn, len + len / 2);

  loaded = reload_promptly (f, &store, &warnings);
  g_assert_cmpuint (warnings->len, ==, 0);
  assert_same_group (g, qmgr_manager_lookup_group (loaded, unit_guid (GUID_A)));
  g_assert_cmpint (size_or_zero (parts), ==, (goffset) len);
}

/* A FIFO in place of a parts file: never waited on; the group loads from its
 * file (the carried change is lost, and said), and the FIFO is set aside. */
static void
test_carry_fifo (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *parts = parts_file (f, GUID_A);
  g_autofree char *broken = g_strconcat (parts, ".broken", NULL);
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, BIG_FILES, FALSE);

  g_assert_true (qmgr_group_set_display_name (g, "in the file", NULL));
  qmgr_store_compact (f->store);
  g_assert_true (qmgr_group_set_display_name (g, "carried", NULL));
  qmgr_store_compact (f->store);
  g_assert_cmpint (g_unlink (parts), ==, 0);
  g_assert_cmpint (mkfifo (parts, 0600), ==, 0);

  loaded = reload_promptly (f, &store, &warnings);
  g_assert_true (warnings_mention (warnings, parts));
  g_assert_cmpstr (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A))->display_name, ==,
                   "in the file");
  qmgr_store_compact (store);
  g_assert_true (g_file_test (broken, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (parts, G_FILE_TEST_EXISTS));
  g_clear_pointer (&loaded, qmgr_manager_free);
  g_clear_pointer (&store, qmgr_store_free);
  g_clear_pointer (&warnings, g_ptr_array_unref);
  loaded = reload_promptly (f, &store, &warnings);
  g_assert_cmpuint (warnings->len, ==, 0);
  g_assert_cmpstr (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A))->display_name, ==,
                   "in the file");
}

/* A carried group whose job is replaced: the whole record written into its
 * file, the parts file gone, nothing of the old job back after a restart. */
static void
test_carry_job_replaced (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *parts = parts_file (f, GUID_A);
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, BIG_FILES, FALSE);

  qmgr_store_compact (f->store);
  g_assert_true (qmgr_group_set_display_name (g, "carried", NULL));
  change_file (g, 5, "\"five\"");
  qmgr_store_compact (f->store);
  g_assert_true (g_file_test (parts, G_FILE_TEST_IS_REGULAR));
  g_assert_true (qmgr_job_cancel (g->job, &error));
  unit_create_job (g, GUID_C);
  unit_add_files (g->job, 2);
  g_assert_no_error (error);
  qmgr_store_compact (f->store);
  g_assert_false (g_file_test (parts, G_FILE_TEST_EXISTS));
  assert_reloads_same (f, g);
}

/* A carried group cancelled: its file and its parts file go. */
static void
test_carry_deleted (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = group_file (f, GUID_A);
  g_autofree char *parts = parts_file (f, GUID_A);
  g_autoptr(QmgrManager) loaded = NULL;
  g_autoptr(QmgrStore) store = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  QmgrGroup *g = unit_group_with_files (f->manager, GUID_A, UNIT_OWNER, BIG_FILES, FALSE);

  qmgr_store_compact (f->store);
  g_assert_true (qmgr_group_set_display_name (g, "carried", NULL));
  qmgr_store_compact (f->store);
  g_assert_true (g_file_test (parts, G_FILE_TEST_IS_REGULAR));
  g_assert_true (qmgr_group_cancel (g, &error));
  g_assert_no_error (error);
  qmgr_store_compact (f->store);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (parts, G_FILE_TEST_EXISTS));
  loaded = reload_promptly (f, &store, &warnings);
  g_assert_cmpuint (warnings->len, ==, 0);
  g_assert_null (qmgr_manager_lookup_group (loaded, unit_guid (GUID_A)));
}

int
main (int argc, char **argv)
{
  g_log_set_writer_func (capture_writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_log_set_fatal_handler (fatal_handler, NULL);
  g_test_set_nonfatal_assertions ();

#define ADD(path, fn) g_test_add ((path), Fixture, NULL, fixture_set_up, (fn), fixture_tear_down)

  ADD ("/store/open/creates-dirs", test_open_creates_dirs);
  ADD ("/store/open/fails-on-file", test_open_fails_on_file);
  ADD ("/store/roundtrip", test_roundtrip);
  ADD ("/store/restored-manager-state", test_restored_manager_state);
  ADD ("/store/file-modes", test_file_modes);
  ADD ("/store/one-file-per-group", test_one_file_per_group);
  ADD ("/store/journal/record-format", test_journal_record_format);
  ADD ("/store/journal/torn-tail", test_journal_torn_tail);
  g_test_add ("/store/journal/damaged-first-of-ten", Fixture, GINT_TO_POINTER (0), fixture_set_up,
              test_journal_damaged_record, fixture_tear_down);
  g_test_add ("/store/journal/damaged-keeps-file-state", Fixture, GINT_TO_POINTER (1),
              fixture_set_up, test_journal_damaged_record, fixture_tear_down);
  g_test_add ("/store/journal/damaged-header", Fixture, GINT_TO_POINTER (2), fixture_set_up,
              test_journal_damaged_record, fixture_tear_down);
  ADD ("/store/journal/cut-last-of-ten", test_journal_cut_last_record);
  ADD ("/store/journal/batch", test_batch);
  ADD ("/store/journal/batch-write-failure", test_batch_write_failure);
  ADD ("/store/damaged-files", test_damaged_files);
  ADD ("/store/misnamed-and-duplicate", test_misnamed_and_duplicate);
  ADD ("/store/load/cut-at-job", test_load_cut_at_job);
  ADD ("/store/load/cut-anywhere", test_load_cut_anywhere);
  ADD ("/store/load/part-that-does-not-read", test_load_part_that_does_not_read);
  ADD ("/store/load/changed-byte", test_load_changed_byte);
  ADD ("/store/load/fifo", test_load_fifo);
  ADD ("/store/load/oversized", test_load_oversized);
  ADD ("/store/load/symlink", test_load_symlink);
  g_test_add ("/store/load/legacy-file", Fixture, GINT_TO_POINTER (0), fixture_set_up,
              test_load_legacy, fixture_tear_down);
  g_test_add ("/store/load/legacy-journal", Fixture, GINT_TO_POINTER (1), fixture_set_up,
              test_load_legacy, fixture_tear_down);
  g_test_add ("/store/parts/on-file", Fixture, GINT_TO_POINTER (1), fixture_set_up,
              test_parts_replay, fixture_tear_down);
  g_test_add ("/store/parts/on-whole-record", Fixture, GINT_TO_POINTER (0), fixture_set_up,
              test_parts_replay, fixture_tear_down);
  ADD ("/store/parts/job-replaced", test_parts_job_replaced);
  ADD ("/store/parts/many-files", test_parts_many_files);
  ADD ("/store/parts/on-damaged-file", test_parts_on_damaged_file);
  ADD ("/store/validator-absent", test_validator_absent);
  ADD ("/store/settings", test_settings);
  ADD ("/store/no-settings-file", test_no_settings_file);
  ADD ("/store/keyfile/roundtrip", test_keyfile_roundtrip);
  ADD ("/store/format/roundtrip", test_format_roundtrip);
  ADD ("/store/pending-over-limit", test_pending_over_limit);
  ADD ("/store/keyfile/escapes", test_keyfile_escapes);
  ADD ("/store/keyfile/numbers", test_keyfile_numbers);
  ADD ("/store/keyfile/rejects", test_keyfile_rejects);
  ADD ("/store/failure-keeps-model", test_store_failure_keeps_model);
  ADD ("/store/carry/small-change", test_carry_small_change);
  ADD ("/store/carry/bounded", test_carry_bounded);
  ADD ("/store/carry/crash", test_carry_crash);
  ADD ("/store/carry/damaged", test_carry_damaged);
  ADD ("/store/carry/torn-tail", test_carry_torn_tail);
  ADD ("/store/carry/fifo", test_carry_fifo);
  ADD ("/store/carry/deleted", test_carry_deleted);
  ADD ("/store/carry/job-replaced", test_carry_job_replaced);

  return g_test_run ();
}
