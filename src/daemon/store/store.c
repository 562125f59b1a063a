/* qmgrd store — durable groups and settings. The store never holds partial
 * downloads: the temp file on disk is the truth for bytes received. Passwords
 * live in the group files and the journal, which like the directory are
 * readable by their owner only, and are wiped from memory once written. */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "qmgr-constants.h"
#include "qmgr-error.h"
#include "qmgr-io.h"
#include "validate.h"

#define STORE_VERSION 1
#define GROUP_SUFFIX ".group"
#define SETTINGS_FILE "settings.conf"

#define FLUSH_DELAY_MS 200
/* The journal is folded into the group files (in a thread) once it is this big,
 * or this long after its first record. */
#define COMPACT_SIZE (G_GUINT64_CONSTANT (32) << 20)
#define COMPACT_AFTER_S 30

struct _QmgrStore {
  char *state_dir;
  char *groups_dir;
  int state_fd;
  int groups_fd;
  QmgrJournal *journal;
  GHashTable *replayed;       /* hex → GBytes (a group file) or NULL (deleted), until load */
  GHashTable *dirty;          /* QmgrGroup* saved "soon" and not yet written */
  guint flush_source;
  guint compact_source;
  guint batch_depth;          /* > 0: appends wait for qmgr_store_end_batch's sync */
};

static int
open_dir (const char *path, GError **error)
{
  int fd;

  if (g_mkdir_with_parents (path, 0700) < 0)
    {
      qmgr_io_set_error (error, errno, "create", path);
      return -1;
    }
  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    qmgr_io_set_error (error, errno, "open", path);
  return fd;
}

static void
on_replay (const char *hex, const char *data, gsize len, gpointer user_data)
{
  QmgrStore *s = user_data;

  g_hash_table_insert (s->replayed, g_strdup (hex),
                       data != NULL ? g_bytes_new (data, len) : NULL);
}

/* A replayed record may hold a password: wiped before it is freed. */
static void
secret_bytes_free (gpointer bytes)
{
  gsize len;
  gpointer data;

  if (bytes == NULL)
    return;
  data = (gpointer) g_bytes_get_data (bytes, &len);   /* our own copy */
  explicit_bzero (data, len);
  g_bytes_unref (bytes);
}

QmgrStore *
qmgr_store_open (const char *state_dir, GError **error)
{
  g_autoptr(QmgrStore) s = g_new0 (QmgrStore, 1);

  s->state_fd = s->groups_fd = -1;
  s->dirty = g_hash_table_new (g_direct_hash, g_direct_equal);
  s->replayed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       secret_bytes_free);
  s->state_dir = g_strdup (state_dir);
  s->groups_dir = g_build_filename (state_dir, "groups", NULL);
  s->state_fd = open_dir (s->state_dir, error);
  if (s->state_fd < 0)
    return NULL;
  s->groups_fd = open_dir (s->groups_dir, error);
  if (s->groups_fd < 0)
    return NULL;
  s->journal = qmgr_journal_open (s->groups_fd, s->groups_dir, on_replay, s, error);
  if (s->journal == NULL)
    return NULL;
  return g_steal_pointer (&s);
}

void
qmgr_store_free (QmgrStore *s)
{
  if (s == NULL)
    return;
  if (g_hash_table_size (s->dirty) > 0)
    g_message ("%u groups were not written before the store was closed",
               g_hash_table_size (s->dirty));
  if (s->flush_source != 0)
    g_source_remove (s->flush_source);
  if (s->compact_source != 0)
    g_source_remove (s->compact_source);
  g_hash_table_unref (s->dirty);
  g_clear_pointer (&s->replayed, g_hash_table_unref);
  qmgr_journal_free (s->journal);
  if (s->state_fd >= 0)
    close (s->state_fd);
  if (s->groups_fd >= 0)
    close (s->groups_fd);
  g_free (s->state_dir);
  g_free (s->groups_dir);
  g_free (s);
}

/* temp file, write, fsync, rename, fsync of the directory */
static gboolean
write_atomically (int dir_fd, const char *dir_path, const char *name, const char *data,
                  gsize len, GError **error)
{
  g_autofree char *tmp = g_strconcat (name, ".tmp", NULL);
  g_autofree char *path = g_build_filename (dir_path, name, NULL);
  int fd;

  fd = openat (dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return qmgr_io_set_error (error, errno, "create", path);
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int err = errno;
          close (fd);
          unlinkat (dir_fd, tmp, 0);
          return qmgr_io_set_error (error, err, "write", path);
        }
      data += n;
      len -= (gsize) n;
    }
  if (fsync (fd) < 0 || close (fd) < 0)
    {
      int err = errno;
      unlinkat (dir_fd, tmp, 0);
      return qmgr_io_set_error (error, err, "sync", path);
    }
  if (renameat (dir_fd, tmp, dir_fd, name) < 0)
    {
      int err = errno;
      unlinkat (dir_fd, tmp, 0);
      return qmgr_io_set_error (error, err, "rename into place", path);
    }
  if (fsync (dir_fd) < 0)
    return qmgr_io_set_error (error, errno, "sync the directory of", path);
  return TRUE;
}

/* ---- writing group files ----
 *
 * The text of a group file is written directly, in the syntax GKeyFile writes
 * and reads (g_key_file_set_string's escapes: \s and \t for leading blanks,
 * \n, \r and \\): building a GKeyFile for every change cost a fifth of the
 * daemon's time under many small requests (B3). The loader still parses with
 * GKeyFile, and qmgr_store_group_to_keyfile() goes through that parser. */

static void
kf_group (GString *out, const char *name)
{
  if (out->len > 0)
    g_string_append_c (out, '\n');
  g_string_append_c (out, '[');
  g_string_append (out, name);
  g_string_append (out, "]\n");
}

static void
kf_key (GString *out, const char *key)
{
  g_string_append (out, key);
  g_string_append_c (out, '=');
}

static void
kf_string (GString *out, const char *key, const char *value)
{
  gboolean leading = TRUE;

  kf_key (out, key);
  for (const char *p = value; *p != '\0'; p++)
    switch (*p)
      {
      case ' ':
        g_string_append (out, leading ? "\\s" : " ");
        break;
      case '\t':
        g_string_append (out, leading ? "\\t" : "\t");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        leading = FALSE;
        break;
      default:
        g_string_append_c (out, *p);
        leading = FALSE;
        break;
      }
  g_string_append_c (out, '\n');
}

static void
kf_optional_string (GString *out, const char *key, const char *value)
{
  if (value != NULL && value[0] != '\0')
    kf_string (out, key, value);
}

/* Decimal digits and a newline, without printf's machinery (a group's text is
 * written on every change). */
static void
append_decimal (GString *out, gboolean negative, guint64 magnitude)
{
  char buf[24];
  char *p = buf + sizeof buf;

  *--p = '\n';
  do
    {
      *--p = (char) ('0' + magnitude % 10);
      magnitude /= 10;
    }
  while (magnitude != 0);
  if (negative)
    *--p = '-';
  g_string_append_len (out, p, buf + sizeof buf - p);
}

static void
kf_u64 (GString *out, const char *key, guint64 value)
{
  kf_key (out, key);
  append_decimal (out, FALSE, value);
}

static void
kf_i64 (GString *out, const char *key, gint64 value)
{
  kf_key (out, key);
  /* The magnitude of G_MININT64 only fits unsigned. */
  append_decimal (out, value < 0, value < 0 ? -(guint64) value : (guint64) value);
}

static void
kf_bool (GString *out, const char *key, gboolean value)
{
  kf_key (out, key);
  g_string_append (out, value ? "true\n" : "false\n");
}

/* About the length of a group's text: one allocation of the right size, not a
 * dozen doublings that leave holes of every size in the heap (a group of
 * thousands of files is written on every change). */
static gsize
estimate_length (QmgrGroup *g)
{
  gsize n = 1024 + 160 * g->pending_notifications->len;

  if (g->job != NULL)
    for (guint i = 0; i < g->job->files->len; i++)
      {
        QmgrFile *f = g_ptr_array_index (g->job->files, i);
        /* Escapes may make it longer; then the string grows as usual. */
        n += 200 + strlen (f->remote_url) + strlen (f->local_path) +
             (f->validator != NULL ? strlen (f->validator) : 0) +
             (f->error_message != NULL ? strlen (f->error_message) : 0);
      }
  return n;
}

char *
qmgr_store_group_to_data (QmgrGroup *g, gsize *length)
{
  GString *out = g_string_sized_new (estimate_length (g));

  kf_group (out, "Group");
  kf_u64 (out, "Version", STORE_VERSION);
  kf_string (out, "Id", g->id_str);
  kf_u64 (out, "Sequence", g->seq);
  kf_u64 (out, "Owner", g->owner);
  kf_string (out, "State", qmgr_group_state_to_string (g->state));
  kf_bool (out, "Foreground", g->foreground);
  kf_optional_string (out, "DisplayName", g->display_name);
  kf_optional_string (out, "Description", g->description);
  kf_optional_string (out, "RemoteUserId", g->remote_user_id);
  kf_optional_string (out, "RemoteUserPassword", g->remote_user_password);
  kf_u64 (out, "NotifyFlags", g->notify_flags);
  kf_optional_string (out, "NotifyClsid", g->notify_clsid);
  kf_u64 (out, "TransferPolicy", g->transfer_policy);
  kf_u64 (out, "BandwidthLimit", g->bandwidth_limit);
  kf_u64 (out, "MinimumRetryDelay", g->minimum_retry_delay);
  kf_u64 (out, "NoProgressTimeout", g->no_progress_timeout);
  kf_i64 (out, "CreationTime", g->creation_time);
  kf_i64 (out, "ModificationTime", g->modification_time);
  kf_i64 (out, "CompletionTime", g->completion_time);
  if (g->retrying_since != 0)
    kf_i64 (out, "RetryingSince", g->retrying_since);
  kf_u64 (out, "PendingNotifications", g->pending_notifications->len);

  for (guint i = 0; i < g->pending_notifications->len; i++)
    {
      QmgrPendingNotification *n = &g_array_index (g->pending_notifications,
                                                   QmgrPendingNotification, i);
      char section[40];

      g_snprintf (section, sizeof section, "Notification %u", i);
      kf_group (out, section);
      kf_u64 (out, "FileIndex", n->file_index);
      kf_u64 (out, "Status", n->status);
      kf_u64 (out, "NumRetries", n->num_retries);
      kf_u64 (out, "Win32Result", n->win32_result);
      kf_u64 (out, "TransportResult", n->transport_result);
      kf_i64 (out, "Created", n->created);
    }

  if (g->job != NULL)
    {
      QmgrJob *j = g->job;

      kf_group (out, "Job");
      kf_string (out, "Id", j->id_str);
      kf_u64 (out, "Files", j->files->len);
      kf_u64 (out, "CurrentFile", j->current_file);
      kf_optional_string (out, "ErrorName", qmgr_transfer_error_name (j->error));
      kf_optional_string (out, "ErrorMessage", j->error_message);
      kf_u64 (out, "ErrorFileIndex", j->error_file_index);
      kf_u64 (out, "Win32Result", j->win32_result);
      kf_u64 (out, "TransportResult", j->transport_result);
      kf_u64 (out, "NumRetries", j->num_retries);
      for (guint i = 0; i < j->files->len; i++)
        {
          QmgrFile *f = g_ptr_array_index (j->files, i);
          char section[32];

          g_snprintf (section, sizeof section, "File %u", i);
          kf_group (out, section);
          kf_string (out, "Url", f->remote_url);
          kf_string (out, "Path", f->local_path);
          kf_u64 (out, "SizeHint", f->size_hint);
          if (f->bytes_total != QMGR_SIZE_UNKNOWN)
            kf_u64 (out, "Size", f->bytes_total);
          kf_bool (out, "Complete", f->complete);
          kf_optional_string (out, "Validator", f->validator);
          kf_optional_string (out, "ErrorName", qmgr_transfer_error_name (f->error));
          kf_optional_string (out, "ErrorMessage", f->error_message);
        }
    }
  *length = out->len;
  return g_string_free (out, FALSE);
}

GKeyFile *
qmgr_store_group_to_keyfile (QmgrGroup *g)
{
  GKeyFile *kf = g_key_file_new ();
  gsize len;
  g_autofree char *data = qmgr_store_group_to_data (g, &len);
  gboolean ok = g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, NULL);

  g_assert (ok);   /* what we write, GKeyFile reads */
  explicit_bzero (data, len);
  return kf;
}

/* ---- saving: records in the journal, made durable one batch at a time ---- */

static gboolean
on_compact_due (gpointer user_data)
{
  QmgrStore *s = user_data;

  s->compact_source = 0;
  if (!qmgr_journal_needs_sync (s->journal))
    qmgr_journal_compact (s->journal, TRUE);
  else
    s->compact_source = g_timeout_add_seconds (COMPACT_AFTER_S, on_compact_due, s);
  return G_SOURCE_REMOVE;
}

/* Makes what was appended durable. */
static gboolean
store_sync (QmgrStore *s, GError **error)
{
  if (!qmgr_journal_sync (s->journal, error))
    return FALSE;
  if (qmgr_journal_size (s->journal) >= COMPACT_SIZE)
    qmgr_journal_compact (s->journal, TRUE);
  return TRUE;
}

static gboolean
append_group (QmgrStore *s, QmgrGroup *group, gboolean hold, GError **error)
{
  char hex[QMGR_GUID_HEX_LEN + 1];
  gsize len;
  g_autofree char *contents = qmgr_store_group_to_data (group, &len);
  gboolean ok;

  qmgr_guid_to_hex (group->id, hex);
  ok = qmgr_journal_append (s->journal, hex, contents, len, hold, error);
  explicit_bzero (contents, len);   /* it may hold a password */
  if (ok)
    {
      g_hash_table_remove (s->dirty, group);
      if (s->compact_source == 0)
        s->compact_source = g_timeout_add_seconds (COMPACT_AFTER_S, on_compact_due, s);
    }
  return ok;
}

static gboolean
store_save_group (gpointer data, QmgrGroup *group, const QmgrGroupDelta *delta, GError **error)
{
  QmgrStore *s = data;

  if (!append_group (s, group, s->batch_depth > 0, error))
    return FALSE;
  return s->batch_depth > 0 || store_sync (s, error);
}

/* Appends the groups saved "soon" (not synced). On a failure the group stays
 * dirty, for the next flush, and the rest wait with it. */
static gboolean
append_dirty (QmgrStore *s, GError **error)
{
  GHashTableIter iter;
  gpointer group;

  g_hash_table_iter_init (&iter, s->dirty);
  while (g_hash_table_iter_next (&iter, &group, NULL))
    {
      g_hash_table_iter_steal (&iter);
      if (!append_group (s, group, TRUE, error))
        {
          g_prefix_error (error, "Could not save group %s: ", ((QmgrGroup *) group)->id_str);
          g_hash_table_add (s->dirty, group);
          return FALSE;
        }
      g_hash_table_iter_init (&iter, s->dirty);
    }
  return TRUE;
}

void
qmgr_store_flush (QmgrStore *s)
{
  g_autoptr(GError) error = NULL;

  if (s->flush_source != 0)
    {
      g_source_remove (s->flush_source);
      s->flush_source = 0;
    }
  if (!append_dirty (s, &error))
    {
      g_warning ("%s", error->message);
      g_clear_error (&error);
    }
  if (s->batch_depth == 0 && !store_sync (s, &error))
    g_warning ("Could not save groups: %s", error->message);
}

static gboolean
on_flush_due (gpointer user_data)
{
  QmgrStore *s = user_data;

  s->flush_source = 0;
  qmgr_store_flush (s);
  if (g_hash_table_size (s->dirty) > 0 && s->flush_source == 0)
    s->flush_source = g_timeout_add_seconds (5, on_flush_due, s);   /* a failing disk */
  return G_SOURCE_REMOVE;
}

static void
store_save_group_soon (gpointer data, QmgrGroup *group, const QmgrGroupDelta *delta)
{
  QmgrStore *s = data;

  g_hash_table_add (s->dirty, group);
  if (s->flush_source == 0)
    s->flush_source = g_timeout_add (FLUSH_DELAY_MS, on_flush_due, s);
}

static gboolean
store_delete_group (gpointer data, QmgrGroup *group, GError **error)
{
  QmgrStore *s = data;
  char hex[QMGR_GUID_HEX_LEN + 1];

  qmgr_guid_to_hex (group->id, hex);
  if (!qmgr_journal_append (s->journal, hex, NULL, 0, s->batch_depth > 0, error))
    return FALSE;
  g_hash_table_remove (s->dirty, group);
  return s->batch_depth > 0 || store_sync (s, error);
}

static void
store_begin_batch (gpointer data)
{
  QmgrStore *s = data;
  s->batch_depth++;
}

static gboolean
store_end_batch (gpointer data, GError **error)
{
  QmgrStore *s = data;

  g_return_val_if_fail (s->batch_depth > 0, FALSE);
  if (--s->batch_depth > 0)
    return TRUE;
  return store_sync (s, error);
}

/* Everything saved so far, "soon" included, durable now. */
static gboolean
store_sync_hook (gpointer data, GError **error)
{
  QmgrStore *s = data;

  if (!append_dirty (s, error))
    return FALSE;   /* the flush timer, if any, tries again */
  if (s->flush_source != 0)
    {
      g_source_remove (s->flush_source);
      s->flush_source = 0;
    }
  return store_sync (s, error);
}

void
qmgr_store_compact (QmgrStore *s)
{
  g_autoptr(GError) error = NULL;

  qmgr_store_flush (s);
  qmgr_journal_wait_compaction (s->journal);
  qmgr_journal_compact (s->journal, TRUE);
  if (!qmgr_journal_wait_compaction (s->journal))
    g_warning ("Could not fold the journal into the group files");
}

static gboolean
store_save_settings (gpointer data, QmgrManager *m, GError **error)
{
  QmgrStore *s = data;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *contents = NULL;
  gsize len;

  g_key_file_set_uint64 (kf, "Manager", "BandwidthLimit", m->settings.bandwidth_limit);
  g_key_file_set_uint64 (kf, "Manager", "MeteredBandwidthLimit",
                         m->settings.metered_bandwidth_limit);
  g_key_file_set_uint64 (kf, "Manager", "MaxConcurrentTransfers",
                         m->settings.max_concurrent_transfers);
  contents = g_key_file_to_data (kf, &len, NULL);
  return write_atomically (s->state_fd, s->state_dir, SETTINGS_FILE, contents, len, error);
}

static const QmgrStoreHooks store_hooks = {
  .save_group = store_save_group,
  .delete_group = store_delete_group,
  .save_settings = store_save_settings,
  .save_group_soon = store_save_group_soon,
  .begin_batch = store_begin_batch,
  .end_batch = store_end_batch,
  .sync = store_sync_hook,
};

const QmgrStoreHooks *
qmgr_store_hooks (void)
{
  return &store_hooks;
}

/* ---- loading ---- */

typedef struct {
  GKeyFile *kf;
  const char *section;
  GError **error;
  gboolean failed;
} Reader;

static guint64
read_u64 (Reader *r, const char *key, guint64 max, guint64 fallback)
{
  g_autoptr(GError) local = NULL;
  guint64 v;

  if (r->failed)
    return fallback;
  if (!g_key_file_has_key (r->kf, r->section, key, NULL))
    return fallback;
  v = g_key_file_get_uint64 (r->kf, r->section, key, &local);
  if (local != NULL || v > max)
    {
      g_set_error (r->error, QMGR_ERROR, QMGR_ERROR_FAILED, "[%s] %s is not a number up to %"
                   G_GUINT64_FORMAT, r->section, key, max);
      r->failed = TRUE;
      return fallback;
    }
  return v;
}

static gint64
read_i64 (Reader *r, const char *key)
{
  g_autoptr(GError) local = NULL;
  gint64 v;

  if (r->failed || !g_key_file_has_key (r->kf, r->section, key, NULL))
    return 0;
  v = g_key_file_get_int64 (r->kf, r->section, key, &local);
  if (local != NULL)
    {
      g_set_error (r->error, QMGR_ERROR, QMGR_ERROR_FAILED, "[%s] %s is not a number",
                   r->section, key);
      r->failed = TRUE;
    }
  return v;
}

static gboolean
read_bool (Reader *r, const char *key)
{
  g_autoptr(GError) local = NULL;
  gboolean v;

  if (r->failed || !g_key_file_has_key (r->kf, r->section, key, NULL))
    return FALSE;
  v = g_key_file_get_boolean (r->kf, r->section, key, &local);
  if (local != NULL)
    {
      g_set_error (r->error, QMGR_ERROR, QMGR_ERROR_FAILED, "[%s] %s is not a boolean",
                   r->section, key);
      r->failed = TRUE;
    }
  return v;
}

/* A string value, "" when absent; @check validates it. */
static char *
read_string (Reader *r, const char *key, gboolean required,
             gboolean (*check) (const char *, GError **))
{
  g_autofree char *v = NULL;

  if (r->failed)
    return NULL;
  v = g_key_file_get_string (r->kf, r->section, key, NULL);
  if (v == NULL && required)
    {
      g_set_error (r->error, QMGR_ERROR, QMGR_ERROR_FAILED, "[%s] %s is missing", r->section,
                   key);
      r->failed = TRUE;
      return NULL;
    }
  if (v == NULL)
    return g_strdup ("");
  if (!g_utf8_validate (v, -1, NULL) || (check != NULL && !check (v, r->error)))
    {
      if (!r->failed && r->error != NULL && *r->error == NULL)
        g_set_error (r->error, QMGR_ERROR, QMGR_ERROR_FAILED, "[%s] %s is not valid",
                     r->section, key);
      r->failed = TRUE;
      return NULL;
    }
  return g_steal_pointer (&v);
}

/* A Transfer.* error name; NONE when absent. */
static QmgrTransferError
read_transfer_error (Reader *r, const char *key)
{
  g_autofree char *name = read_string (r, key, FALSE, NULL);
  QmgrTransferError code = QMGR_TRANSFER_ERROR_NONE;

  if (name != NULL && !qmgr_transfer_error_from_name (name, &code))
    {
      g_set_error (r->error, QMGR_ERROR, QMGR_ERROR_FAILED, "[%s] %s is not a known error",
                   r->section, key);
      r->failed = TRUE;
    }
  return code;
}

static gboolean
check_url (const char *url, GError **error)
{
  return qmgr_validate_url (url, QMGR_PROTOCOL_HTTP, error);
}

static void
replace (char **field, char *value)
{
  g_free (*field);
  *field = value;
}

static QmgrJob *
job_from_keyfile (QmgrGroup *g, GKeyFile *kf, GError **error)
{
  Reader r = { kf, "Job", error, FALSE };
  g_autofree char *id_text = read_string (&r, "Id", TRUE, NULL);
  QmgrGuid id;
  QmgrJob *j;
  guint64 n_files;

  if (r.failed || !qmgr_guid_parse (id_text, &id, error))
    return NULL;
  j = qmgr_job_new (g, id);
  n_files = read_u64 (&r, "Files", G_MAXUINT32, 0);
  j->current_file = (guint) read_u64 (&r, "CurrentFile", G_MAXUINT32, 0);
  j->error_file_index = (guint32) read_u64 (&r, "ErrorFileIndex", G_MAXUINT32,
                                            QMGR_FILE_INDEX_NONE);
  j->win32_result = (guint32) read_u64 (&r, "Win32Result", G_MAXUINT32, 0);
  j->transport_result = (guint32) read_u64 (&r, "TransportResult", G_MAXUINT32, 0);
  j->num_retries = (guint32) read_u64 (&r, "NumRetries", G_MAXUINT32, 0);
  j->error = read_transfer_error (&r, "ErrorName");
  j->error_message = read_string (&r, "ErrorMessage", FALSE, NULL);
  if (j->error == QMGR_TRANSFER_ERROR_NONE)
    g_clear_pointer (&j->error_message, g_free);

  for (guint64 i = 0; i < n_files && !r.failed; i++)
    {
      char section[32];
      g_autofree char *url = NULL, *path = NULL;
      QmgrFile *f;

      g_snprintf (section, sizeof section, "File %" G_GUINT64_FORMAT, i);
      r.section = section;
      url = read_string (&r, "Url", TRUE, check_url);
      path = read_string (&r, "Path", TRUE, qmgr_validate_local_path);
      if (r.failed)
        break;
      f = qmgr_file_new (url, path, read_u64 (&r, "SizeHint", G_MAXUINT64, 0));
      g_ptr_array_add (j->files, f);
      f->bytes_total = read_u64 (&r, "Size", G_MAXUINT64 - 1, QMGR_SIZE_UNKNOWN);
      f->complete = read_bool (&r, "Complete");
      if (f->complete && f->bytes_total == QMGR_SIZE_UNKNOWN)
        f->bytes_total = 0;
      f->bytes_transferred = f->complete ? f->bytes_total : 0;
      replace (&f->validator, read_string (&r, "Validator", FALSE, NULL));
      if (f->validator != NULL && f->validator[0] == '\0')
        g_clear_pointer (&f->validator, g_free);
      f->error = read_transfer_error (&r, "ErrorName");
      replace (&f->error_message, read_string (&r, "ErrorMessage", FALSE, NULL));
      if (f->error == QMGR_TRANSFER_ERROR_NONE)
        g_clear_pointer (&f->error_message, g_free);
    }
  if (r.failed)
    {
      qmgr_job_free (j);
      return NULL;
    }
  qmgr_job_recount (j);
  return j;
}

QmgrGroup *
qmgr_store_group_from_keyfile (QmgrManager *m, GKeyFile *kf, GError **error)
{
  Reader r = { kf, "Group", error, FALSE };
  g_autofree char *id_text = NULL, *state_text = NULL;
  QmgrGuid id;
  QmgrGroupState state;
  QmgrGroup *g;

  if (read_u64 (&r, "Version", G_MAXUINT32, 0) != STORE_VERSION)
    {
      if (!r.failed)
        g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "unknown store version");
      return NULL;
    }
  id_text = read_string (&r, "Id", TRUE, NULL);
  state_text = read_string (&r, "State", TRUE, NULL);
  if (r.failed || !qmgr_guid_parse (id_text, &id, error))
    return NULL;
  if (!qmgr_group_state_from_string (state_text, &state))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "unknown state \"%s\"", state_text);
      return NULL;
    }

  g = qmgr_group_new (m, id, (uid_t) read_u64 (&r, "Owner", G_MAXUINT32 - 1, 0));
  g->state = state;
  g->seq = read_u64 (&r, "Sequence", G_MAXUINT64 - 1, 0);
  g->foreground = read_bool (&r, "Foreground");
  replace (&g->display_name, read_string (&r, "DisplayName", FALSE, qmgr_validate_display_name));
  replace (&g->description, read_string (&r, "Description", FALSE, qmgr_validate_description));
  replace (&g->remote_user_id, read_string (&r, "RemoteUserId", FALSE, NULL));
  replace (&g->remote_user_password, read_string (&r, "RemoteUserPassword", FALSE, NULL));
  g->notify_flags = (guint32) read_u64 (&r, "NotifyFlags", QMGR_NOTIFY_ALL_FLAGS, 0);
  replace (&g->notify_clsid, read_string (&r, "NotifyClsid", FALSE, qmgr_validate_notify_clsid));
  g->transfer_policy = (guint32) read_u64 (&r, "TransferPolicy", QMGR_TRANSFER_POLICY_ALWAYS, 0);
  /* Values the API cannot produce mean the file was damaged or tampered with. */
  if (!r.failed && ((g->notify_flags & ~QMGR_NOTIFY_ALL_FLAGS) != 0 ||
                    !qmgr_transfer_policy_is_valid (g->transfer_policy)))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "NotifyFlags or TransferPolicy out of range");
      r.failed = TRUE;
    }
  g->bandwidth_limit = read_u64 (&r, "BandwidthLimit", G_MAXUINT64, 0);
  g->minimum_retry_delay = (guint32) read_u64 (&r, "MinimumRetryDelay", G_MAXUINT32,
                                               QMGR_DEFAULT_MINIMUM_RETRY_DELAY);
  g->no_progress_timeout = (guint32) read_u64 (&r, "NoProgressTimeout", G_MAXUINT32,
                                               QMGR_DEFAULT_NO_PROGRESS_TIMEOUT);
  g->creation_time = read_i64 (&r, "CreationTime");
  g->modification_time = read_i64 (&r, "ModificationTime");
  g->completion_time = read_i64 (&r, "CompletionTime");
  g->retrying_since = read_i64 (&r, "RetryingSince");
  {
    guint64 n_pending = read_u64 (&r, "PendingNotifications", 10000, 0);
    for (guint64 i = 0; i < n_pending && !r.failed; i++)
      {
        char section[40];
        QmgrPendingNotification n = { 0 };
        Reader nr = { kf, section, error, FALSE };

        g_snprintf (section, sizeof section, "Notification %" G_GUINT64_FORMAT, i);
        n.file_index = (guint32) read_u64 (&nr, "FileIndex", G_MAXUINT32, 0);
        n.status = (guint32) read_u64 (&nr, "Status", G_MAXUINT32, 0);
        n.num_retries = (guint32) read_u64 (&nr, "NumRetries", G_MAXUINT32, 0);
        n.win32_result = (guint32) read_u64 (&nr, "Win32Result", G_MAXUINT32, 0);
        n.transport_result = (guint32) read_u64 (&nr, "TransportResult", G_MAXUINT32, 0);
        n.created = read_i64 (&nr, "Created");
        r.failed = nr.failed;
        g_array_append_val (g->pending_notifications, n);
      }
  }
  if (!r.failed && g_key_file_has_group (kf, "Job"))
    {
      g->job = job_from_keyfile (g, kf, error);
      if (g->job == NULL)
        r.failed = TRUE;
    }
  if (!r.failed && g->job == NULL && state != QMGR_GROUP_STATE_SUSPENDED)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "state %s without a job", state_text);
      r.failed = TRUE;
    }
  if (r.failed)
    {
      qmgr_group_free (g);
      return NULL;
    }
  return g;
}

static void
set_aside (QmgrStore *s, const char *name, const GError *why)
{
  g_autofree char *broken = g_strconcat (name, ".broken", NULL);
  g_autofree char *path = g_build_filename (s->groups_dir, name, NULL);

  if (renameat (s->groups_fd, name, s->groups_fd, broken) < 0)
    g_warning ("Store file %s is damaged (%s) and could not be set aside: %s", path,
               why->message, g_strerror (errno));
  else
    g_warning ("Store file %s is damaged (%s); renamed to %s.broken", path, why->message, path);
}

static QmgrGroup *
group_from_data (QmgrManager *m, const char *name, const char *data, gsize len, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  QmgrGroup *g;
  char hex[QMGR_GUID_HEX_LEN + 1];

  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, error))
    return NULL;
  g = qmgr_store_group_from_keyfile (m, kf, error);
  if (g == NULL)
    return NULL;
  qmgr_guid_to_hex (g->id, hex);
  if (strncmp (name, hex, QMGR_GUID_HEX_LEN) != 0)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "its group id %s does not match its name",
                   g->id_str);
      qmgr_group_free (g);
      return NULL;
    }
  return g;
}

static QmgrGroup *
load_group_file (QmgrStore *s, QmgrManager *m, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (s->groups_dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize len;
  QmgrGroup *g;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  g = group_from_data (m, name, contents, len, error);
  explicit_bzero (contents, len);
  return g;
}

/* A group the journal holds but that cannot be loaded: its record goes to
 * <hex>.group.broken beside the others, and the group out of the journal. */
static void
set_aside_record (QmgrStore *s, const char *hex, GBytes *data, const GError *why)
{
  g_autofree char *broken = g_strconcat (hex, GROUP_SUFFIX ".broken", NULL);
  g_autofree char *path = g_build_filename (s->groups_dir, broken, NULL);
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *contents = g_bytes_get_data (data, &len);

  if (!write_atomically (s->groups_fd, s->groups_dir, broken, contents, len, &error) ||
      !qmgr_journal_append (s->journal, hex, NULL, 0, FALSE, &error) ||
      !qmgr_journal_sync (s->journal, &error))
    g_warning ("The journal's record of group %s is damaged (%s) and could not be set aside: %s",
               hex, why->message, error->message);
  else
    g_warning ("The journal's record of group %s is damaged (%s); saved as %s", hex,
               why->message, path);
}

static void
load_settings (QmgrStore *s, QmgrManager *m)
{
  g_autofree char *path = g_build_filename (s->state_dir, SETTINGS_FILE, NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  Reader r = { kf, "Manager", &error, FALSE };
  guint64 v;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_warning ("Ignoring saved settings %s: %s", path, error->message);
      return;
    }
  m->settings.bandwidth_limit = read_u64 (&r, "BandwidthLimit", G_MAXUINT64,
                                          m->settings.bandwidth_limit);
  m->settings.metered_bandwidth_limit = read_u64 (&r, "MeteredBandwidthLimit", G_MAXUINT64,
                                                  m->settings.metered_bandwidth_limit);
  v = read_u64 (&r, "MaxConcurrentTransfers", QMGR_MAX_CONCURRENT_TRANSFERS_MAX,
                m->settings.max_concurrent_transfers);
  m->settings.max_concurrent_transfers = v > 0 ? (guint) v : m->settings.max_concurrent_transfers;
  if (r.failed)
    g_warning ("Saved settings %s are partly invalid: %s", path, error->message);
}

typedef struct {
  QmgrGroup *group;
  GBytes *record;             /* from the journal; NULL: from its file */
} Loaded;

static gint
compare_seq (gconstpointer a, gconstpointer b)
{
  const Loaded *la = a, *lb = b;
  return la->group->seq < lb->group->seq ? -1 : la->group->seq > lb->group->seq;
}

static void
set_aside_loaded (QmgrStore *s, Loaded *l, const GError *why)
{
  char hex[QMGR_GUID_HEX_LEN + 1];

  qmgr_guid_to_hex (l->group->id, hex);
  if (l->record != NULL)
    set_aside_record (s, hex, l->record, why);
  else
    {
      g_autofree char *name = g_strconcat (hex, GROUP_SUFFIX, NULL);
      set_aside (s, name, why);
    }
}

gboolean
qmgr_store_load (QmgrStore *s, QmgrManager *m, GError **error)
{
  int fd = dup (s->groups_fd);
  DIR *dir;
  struct dirent *de;
  g_autoptr(GArray) loaded = g_array_new (FALSE, FALSE, sizeof (Loaded));
  GHashTableIter iter;
  gpointer key, value;

  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return qmgr_io_set_error (error, errno, "read", s->groups_dir);
    }
  rewinddir (dir);
  while ((de = readdir (dir)) != NULL)
    {
      g_autoptr(GError) local = NULL;
      Loaded l = { NULL, NULL };

      if (g_str_has_suffix (de->d_name, GROUP_SUFFIX ".tmp"))
        {
          /* A write interrupted by a crash: the previous version is intact. */
          unlinkat (s->groups_fd, de->d_name, 0);
          continue;
        }
      if (!g_str_has_suffix (de->d_name, GROUP_SUFFIX))
        continue;
      /* The journal holds a newer version (or the deletion): the file waits
       * for the journal to be folded into it. */
      if (strlen (de->d_name) == QMGR_GUID_HEX_LEN + strlen (GROUP_SUFFIX))
        {
          g_autofree char *hex = g_strndup (de->d_name, QMGR_GUID_HEX_LEN);
          if (g_hash_table_contains (s->replayed, hex))
            continue;
        }
      l.group = load_group_file (s, m, de->d_name, &local);
      if (l.group == NULL)
        set_aside (s, de->d_name, local);
      else
        g_array_append_val (loaded, l);
    }
  closedir (dir);

  g_hash_table_iter_init (&iter, s->replayed);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autoptr(GError) local = NULL;
      Loaded l = { NULL, value };
      gsize len;
      const char *data;

      if (value == NULL)
        continue;       /* deleted */
      data = g_bytes_get_data (value, &len);
      l.group = group_from_data (m, key, data, len, &local);
      if (l.group == NULL)
        set_aside_record (s, key, value, local);
      else
        g_array_append_val (loaded, l);
    }

  g_array_sort (loaded, compare_seq);
  for (guint i = 0; i < loaded->len; i++)
    {
      Loaded *l = &g_array_index (loaded, Loaded, i);
      g_autoptr(GError) local = NULL;

      if (!qmgr_manager_adopt_group (m, l->group, &local))
        {
          set_aside_loaded (s, l, local);
          qmgr_group_free (l->group);
        }
    }
  g_hash_table_remove_all (s->replayed);
  load_settings (s, m);
  /* The journals found are folded into the group files in the background. */
  qmgr_journal_compact (s->journal, FALSE);
  return TRUE;
}
