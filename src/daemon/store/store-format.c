/* qmgrd store — the format of a group's file and of the settings: the writer
 * and the reader side by side (store-format.h). The writer produces GKeyFile
 * syntax directly; the reader parses with GKeyFile and validates every value
 * as the API would, so that a damaged or edited file is refused, not trusted. */
#include "store-format.h"

#include <string.h>
#include <zlib.h>

#include "qmgr-constants.h"
#include "qmgr-error.h"
#include "qmgr-log.h"
#include "validate.h"

/* ---- writing group files ----
 *
 * The text of a group file is written directly, in the syntax GKeyFile writes
 * and reads (g_key_file_set_string's escapes: \s and \t for leading blanks,
 * \n, \r and \\): building a GKeyFile for every change cost a fifth of the
 * daemon's time under many small requests (B3). The loader still parses with
 * GKeyFile, and qmgr_store_group_to_keyfile() goes through that parser. */

/* A section: "[name]", its keys, and a blank line (kf_end). */
static void
kf_group (GString *out, const char *name)
{
  g_string_append_c (out, '[');
  g_string_append (out, name);
  g_string_append (out, "]\n");
}

static void
kf_end (GString *out)
{
  g_string_append_c (out, '\n');
}

static void
kf_key (GString *out, const char *key)
{
  g_string_append (out, key);
  g_string_append_c (out, '=');
}

/* Escaped as g_key_file_set_string() escapes: blanks before the first other
 * character (GKeyFile would strip them), line breaks and backslashes. The
 * rest is appended in runs, not byte by byte: AddFiles of 1,000 files of
 * B10's shape is 6 MB of text. */
static void
kf_string (GString *out, const char *key, const char *value)
{
  const char *p = value;

  kf_key (out, key);
  for (; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
    g_string_append (out, *p == ' ' ? "\\s" : *p == '\t' ? "\\t" :
                          *p == '\n' ? "\\n" : "\\r");
  while (*p != '\0')
    {
      gsize run = strcspn (p, "\n\r\\");

      g_string_append_len (out, p, (gssize) run);
      p += run;
      if (*p == '\0')
        break;
      g_string_append (out, *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : "\\\\");
      p++;
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

/* A string the writer bounds: not valid UTF-8 (which the reader refuses)
 * made valid, and cut to @max bytes at a character boundary. */
static char *
bounded_string (const char *value, gsize max)
{
  char *valid = g_utf8_make_valid (value, -1);
  gsize len = strlen (valid);

  if (len > max)
    {
      const char *end = valid + max;

      if ((*end & 0xc0) == 0x80)
        end = g_utf8_find_prev_char (valid, end);
      valid[end != NULL ? end - valid : 0] = '\0';
    }
  return valid;
}

/* An error message, bounded (it comes from the transfer or the server). */
static void
kf_message (GString *out, const char *key, const char *value)
{
  g_autofree char *bounded = NULL;

  if (value == NULL || value[0] == '\0')
    return;
  bounded = bounded_string (value, QMGR_STORE_MESSAGE_MAX);
  kf_string (out, key, bounded);
}

/* The callbacks owed, the newest QMGR_PENDING_NOTIFICATIONS_MAX of them:
 * the reader refuses a file with more, and a group lost at the next start
 * would owe none at all. Ends the [Group] section. */
static void
write_notifications (GString *out, QmgrGroup *g)
{
  static gint64 last_warning;
  guint len = g->pending_notifications->len;
  guint first = len > QMGR_PENDING_NOTIFICATIONS_MAX ?
                len - QMGR_PENDING_NOTIFICATIONS_MAX : 0;

  if (first > 0 && g_get_monotonic_time () - last_warning > 60 * G_USEC_PER_SEC)
    {
      /* Once a minute at most: the group is written on every change. */
      last_warning = g_get_monotonic_time ();
      qmgr_log (G_LOG_LEVEL_WARNING, g->id_str, NULL,
                "Group %s owes %u callbacks; only the newest %u are stored", g->id_str, len,
                QMGR_PENDING_NOTIFICATIONS_MAX);
    }
  kf_u64 (out, "PendingNotifications", len - first);
  kf_end (out);
  for (guint i = first; i < len; i++)
    {
      QmgrPendingNotification *n = &g_array_index (g->pending_notifications,
                                                   QmgrPendingNotification, i);
      char section[40];

      g_snprintf (section, sizeof section, "Notification %u", i - first);
      kf_group (out, section);
      kf_u64 (out, "FileIndex", n->file_index);
      kf_u64 (out, "Status", n->status);
      kf_u64 (out, "NumRetries", n->num_retries);
      kf_u64 (out, "Win32Result", n->win32_result);
      kf_u64 (out, "TransportResult", n->transport_result);
      kf_i64 (out, "Created", n->created);
      kf_end (out);
    }
}

/* The group's own fields, the callbacks owed and the job's own fields: all but
 * the files. */
static void
write_header (GString *out, QmgrGroup *g)
{
  kf_group (out, "Group");
  kf_u64 (out, "Version", QMGR_STORE_VERSION);
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
  write_notifications (out, g);

  if (g->job != NULL)
    {
      QmgrJob *j = g->job;

      kf_group (out, "Job");
      kf_string (out, "Id", j->id_str);
      kf_u64 (out, "Files", j->files->len);
      kf_u64 (out, "CurrentFile", j->current_file);
      kf_optional_string (out, "ErrorName", qmgr_transfer_error_name (j->error));
      kf_message (out, "ErrorMessage", j->error_message);
      kf_u64 (out, "ErrorFileIndex", j->error_file_index);
      kf_u64 (out, "Win32Result", j->win32_result);
      kf_u64 (out, "TransportResult", j->transport_result);
      kf_u64 (out, "NumRetries", j->num_retries);
      kf_end (out);
    }
}

/* File @index of the job. A validator the reader would refuse, or too long
 * for the bound on a group file's size, is not written: without one on disk a
 * resume starts from byte 0, which is always safe. */
static void
write_file (GString *out, QmgrFile *f, guint index)
{
  char section[32];

  g_snprintf (section, sizeof section, "File %u", index);
  kf_group (out, section);
  kf_string (out, "Url", f->remote_url);
  kf_string (out, "Path", f->local_path);
  kf_u64 (out, "SizeHint", f->size_hint);
  if (f->bytes_total != QMGR_SIZE_UNKNOWN)
    kf_u64 (out, "Size", f->bytes_total);
  kf_bool (out, "Complete", f->complete);
  /* How far the file ever got: only passing it is progress (NoProgressTimeout). */
  if (f->furthest > 0 && !f->complete)
    kf_u64 (out, "Furthest", f->furthest);
  if (f->validator != NULL && strlen (f->validator) <= QMGR_STORE_VALIDATOR_MAX &&
      g_utf8_validate (f->validator, -1, NULL))
    kf_optional_string (out, "Validator", f->validator);
  kf_optional_string (out, "ErrorName", qmgr_transfer_error_name (f->error));
  kf_message (out, "ErrorMessage", f->error_message);
  kf_end (out);
}

/* The last section: a checksum of everything before it. A file cut short
 * anywhere lacks it, and a changed byte breaks it. */
static void
write_end (GString *out)
{
  char end[32];

  qmgr_store_format_end ((guint32) crc32_z (0, (const Bytef *) out->str, out->len), end);
  g_string_append (out, end);
}

/* About the length of a file's section and of a header: one allocation of
 * the right size for a group's text, not a dozen doublings that leave holes
 * of every size in the heap. Escapes may make it longer; then the string
 * grows as usual. */
static gsize
estimate_file (QmgrFile *f)
{
  return 200 + strlen (f->remote_url) + strlen (f->local_path) +
         (f->validator != NULL ? strlen (f->validator) : 0) +
         (f->error_message != NULL ? strlen (f->error_message) : 0);
}

static gsize
estimate_header (QmgrGroup *g)
{
  return 1024 + 160 * MIN (g->pending_notifications->len, QMGR_PENDING_NOTIFICATIONS_MAX);
}

char *
qmgr_store_group_to_data (QmgrGroup *g, gsize *length)
{
  gsize estimate = estimate_header (g);
  GString *out;

  for (guint i = 0; g->job != NULL && i < g->job->files->len; i++)
    estimate += estimate_file (g_ptr_array_index (g->job->files, i));
  out = g_string_sized_new (estimate);
  write_header (out, g);
  for (guint i = 0; g->job != NULL && i < g->job->files->len; i++)
    write_file (out, g_ptr_array_index (g->job->files, i), i);
  write_end (out);
  *length = out->len;
  return g_string_free (out, FALSE);
}

char *
qmgr_store_group_part_to_data (QmgrGroup *g, const guint *files, guint n_files, gsize *length)
{
  gsize estimate = estimate_header (g);
  GString *out;

  for (guint i = 0; i < n_files; i++)
    {
      g_return_val_if_fail (g->job != NULL && files[i] < g->job->files->len, NULL);
      estimate += estimate_file (g_ptr_array_index (g->job->files, files[i]));
    }
  out = g_string_sized_new (estimate);
  write_header (out, g);
  for (guint i = 0; i < n_files; i++)
    {
      write_file (out, g_ptr_array_index (g->job->files, files[i]), files[i]);
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

/* ---- reading group files ---- */

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
  /* The check's own message quotes the value: not for a log. */
  if (!g_utf8_validate (v, -1, NULL) || (check != NULL && !check (v, NULL)))
    {
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

/* A GUID; the message names the key, not the value. */
static gboolean
parse_guid (const char *text, QmgrGuid *id, const char *what, GError **error)
{
  if (qmgr_guid_parse (text, id, NULL))
    return TRUE;
  g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "%s is not a GUID", what);
  return FALSE;
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

  if (r.failed || !parse_guid (id_text, &id, "[Job] Id", error))
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
      f->furthest = read_u64 (&r, "Furthest", G_MAXUINT64, 0);
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
  guint64 version;

  version = read_u64 (&r, "Version", G_MAXUINT32, 0);
  if (version < 1 || version > QMGR_STORE_VERSION)
    {
      if (!r.failed)
        g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "unknown store version");
      return NULL;
    }
  id_text = read_string (&r, "Id", TRUE, NULL);
  state_text = read_string (&r, "State", TRUE, NULL);
  if (r.failed || !parse_guid (id_text, &id, "[Group] Id", error))
    return NULL;
  if (!qmgr_group_state_from_string (state_text, &state))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "[Group] State is not a known state");
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
    guint64 n_pending = read_u64 (&r, "PendingNotifications",
                                  QMGR_PENDING_NOTIFICATIONS_MAX, 0);
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
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "state %s without a job",
                   qmgr_group_state_to_string (state));
      r.failed = TRUE;
    }
  if (r.failed)
    {
      qmgr_group_free (g);
      return NULL;
    }
  return g;
}

guint64
qmgr_store_group_file_max (guint max_files)
{
  return QMGR_STORE_HEADER_MAX +
         (guint64) QMGR_PENDING_NOTIFICATIONS_MAX * QMGR_STORE_NOTIFICATION_SECTION_MAX +
         (guint64) MAX (max_files, 100000u) * QMGR_STORE_FILE_SECTION_MAX;
}

gboolean
qmgr_store_text_has_end (const char *data, gsize len, gboolean *crc_ok)
{
  const gsize marker = strlen (QMGR_STORE_END_MARKER), total = marker + 8 + 1;
  const char *at;
  guint32 crc = 0;

  if (len < total)
    return FALSE;
  at = data + len - total;
  if (memcmp (at, QMGR_STORE_END_MARKER, marker) != 0 || data[len - 1] != '\n' ||
      (at > data && at[-1] != '\n'))
    return FALSE;
  for (gsize i = 0; i < 8; i++)
    {
      int v = g_ascii_xdigit_value (at[marker + i]);
      if (v < 0 || g_ascii_isupper (at[marker + i]))
        return FALSE;
      crc = crc << 4 | (guint32) v;
    }
  *crc_ok = crc == (guint32) crc32_z (0, (const Bytef *) data, (gsize) (at - data));
  return TRUE;
}

void
qmgr_store_format_end (guint32 crc, char *buf)
{
  g_snprintf (buf, 32, QMGR_STORE_END_MARKER "%08x\n", crc);
}

QmgrGroup *
qmgr_store_group_from_data (QmgrManager *m, const char *data, gsize len, gboolean *legacy,
                            GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  gboolean crc_ok = FALSE, marked = qmgr_store_text_has_end (data, len, &crc_ok);
  guint64 version;

  *legacy = FALSE;
  if (marked && !crc_ok)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "its checksum does not match");
      return NULL;
    }
  /* GKeyFile's messages quote the line it stopped at. */
  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, NULL))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "it is not in key-file syntax");
      return NULL;
    }
  version = g_key_file_get_uint64 (kf, "Group", "Version", NULL);
  if (!marked && version >= 2)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "it is cut short (no end marker)");
      return NULL;
    }
  *legacy = version == 1;
  return qmgr_store_group_from_keyfile (m, kf, error);
}

/* ---- the settings ---- */

char *
qmgr_store_settings_to_data (QmgrManager *m, gsize *length)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();

  g_key_file_set_uint64 (kf, "Manager", "BandwidthLimit", m->settings.bandwidth_limit);
  g_key_file_set_uint64 (kf, "Manager", "MeteredBandwidthLimit",
                         m->settings.metered_bandwidth_limit);
  g_key_file_set_uint64 (kf, "Manager", "MaxConcurrentTransfers",
                         m->settings.max_concurrent_transfers);
  return g_key_file_to_data (kf, length, NULL);
}

gboolean
qmgr_store_settings_from_keyfile (QmgrManager *m, GKeyFile *kf, GError **error)
{
  Reader r = { kf, "Manager", error, FALSE };
  guint64 v;

  m->settings.bandwidth_limit = read_u64 (&r, "BandwidthLimit", G_MAXUINT64,
                                          m->settings.bandwidth_limit);
  m->settings.metered_bandwidth_limit = read_u64 (&r, "MeteredBandwidthLimit", G_MAXUINT64,
                                                  m->settings.metered_bandwidth_limit);
  v = read_u64 (&r, "MaxConcurrentTransfers", QMGR_MAX_CONCURRENT_TRANSFERS_MAX,
                m->settings.max_concurrent_transfers);
  m->settings.max_concurrent_transfers = v > 0 ? (guint) v : m->settings.max_concurrent_transfers;
  return !r.failed;
}
