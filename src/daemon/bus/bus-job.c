/* qmgrd bus — io.github.qmgrd.QMgr1.Job on /io/github/qmgrd/QMgr1/group/<G>/job/<J>. */
#include "bus-private.h"

#include "qmgr-constants.h"

#define ADD_FILES_BATCH_MAX 1000000   /* beyond any quota: refuse before allocating */

static int
method_add_files (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  QmgrJob *job = userdata;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) specs = g_array_new (FALSE, FALSE, sizeof (QmgrFileSpec));
  int r;

  r = sd_bus_message_enter_container (m, SD_BUS_TYPE_ARRAY, "(sst)");
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  for (;;)
    {
      QmgrFileSpec spec;

      r = sd_bus_message_read (m, "(sst)", &spec.remote_url, &spec.local_path, &spec.size_hint);
      if (r < 0)
        return qmgr_bus_reply_bad_arguments (ret_error, r);
      if (r == 0)
        break;
      if (specs->len >= ADD_FILES_BATCH_MAX)
        return qmgr_bus_reply_errorf (ret_error, QMGR_ERROR_LIMITS_EXCEEDED,
                                      "AddFiles takes at most %u files at once",
                                      ADD_FILES_BATCH_MAX);
      g_array_append_val (specs, spec);
    }
  r = sd_bus_message_exit_container (m);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  if (!qmgr_job_add_files (job, (QmgrFileSpec *) specs->data, specs->len, &error))
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, NULL);
}

static int
method_get_file (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  const QmgrFile *f;
  guint32 index;
  int r;

  r = sd_bus_message_read (m, "u", &index);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  f = qmgr_job_get_file (userdata, index, &error);
  if (f == NULL)
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, "(sst)", f->remote_url, f->local_path, f->size_hint);
}

static int
method_get_file_count (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  return qmgr_bus_reply (m, "u", qmgr_job_get_file_count (userdata));
}

static int
method_get_progress (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  guint32 flags, progress;
  int r;

  r = sd_bus_message_read (m, "u", &flags);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  if (!qmgr_job_get_progress (userdata, flags, &progress, &error))
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, "u", progress);
}

static int
method_get_status (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  QmgrJob *job = userdata;
  return qmgr_bus_reply (m, "uuuu", qmgr_job_get_status (job), job->win32_result,
                                     job->transport_result, job->num_retries);
}

static int
method_get_file_status (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  guint32 index, status;
  guint64 total, done;
  QmgrTransferError code;
  const char *message;
  int r;

  r = sd_bus_message_read (m, "u", &index);
  if (r < 0)
    return qmgr_bus_reply_bad_arguments (ret_error, r);
  if (!qmgr_job_get_file_status (userdata, index, &status, &total, &done, &code, &message,
                                 &error))
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, "utt(ss)", status, total, done, qmgr_transfer_error_name (code),
                         message);
}

static int
method_cancel (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;

  if (!qmgr_job_cancel (userdata, &error))
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, NULL);
}

static int
method_switch_to_foreground (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  QmgrJob *job = userdata;
  g_autoptr(GError) error = NULL;

  if (!qmgr_group_switch_to_foreground (job->group, &error))
    return qmgr_bus_reply_error (ret_error, error);
  return qmgr_bus_reply (m, NULL);
}

static int
get_job_property (sd_bus *b, const char *path, const char *interface, const char *property,
                  sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  QmgrJob *j = userdata;
  QmgrObjectPath group_path;

#define IS(name) g_str_equal (property, name)
  if (IS ("JobID"))
    return sd_bus_message_append (reply, "s", j->id_str);
  if (IS ("Group"))
    return sd_bus_message_append (reply, "o", qmgr_bus_group_path (j->group, &group_path));
  if (IS ("FileCount"))
    return sd_bus_message_append (reply, "u", qmgr_job_get_file_count (j));
  if (IS ("Status"))
    return sd_bus_message_append (reply, "u", qmgr_job_get_status (j));
  if (IS ("BytesTotal"))
    return sd_bus_message_append (reply, "t", qmgr_job_get_bytes_total (j));
  if (IS ("BytesTransferred"))
    return sd_bus_message_append (reply, "t", qmgr_job_get_bytes_transferred (j));
  if (IS ("CurrentFileIndex"))
    return sd_bus_message_append (reply, "u", j->current_file);
  if (IS ("LastError"))
    return sd_bus_message_append (reply, "(ss)", qmgr_transfer_error_name (j->error),
                                  j->error_message ? j->error_message : "");
#undef IS
  g_assert_not_reached ();
}

#define RO(name, sig) \
  SD_BUS_PROPERTY (name, sig, get_job_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)
#define CONST(name, sig) \
  SD_BUS_PROPERTY (name, sig, get_job_property, 0, SD_BUS_VTABLE_PROPERTY_CONST)

#define UNPRIVILEGED SD_BUS_VTABLE_UNPRIVILEGED

const sd_bus_vtable qmgr_bus_job_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("AddFiles", SD_BUS_ARGS ("a(sst)", files),
                           SD_BUS_NO_RESULT,
                           method_add_files, UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetFile", SD_BUS_ARGS ("u", index),
                           SD_BUS_RESULT ("(sst)", file),
                           method_get_file, UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetFileCount", SD_BUS_NO_ARGS,
                           SD_BUS_RESULT ("u", count),
                           method_get_file_count, UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetProgress", SD_BUS_ARGS ("u", flags),
                           SD_BUS_RESULT ("u", progress),
                           method_get_progress, UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetStatus", SD_BUS_NO_ARGS,
                           SD_BUS_RESULT ("u", status, "u", win32_result, "u", transport_result, "u", num_retries),
                           method_get_status, UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetFileStatus", SD_BUS_ARGS ("u", index),
                           SD_BUS_RESULT ("u", status, "t", bytes_total, "t", bytes_transferred, "(ss)", last_error),
                           method_get_file_status, UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("CancelJob", SD_BUS_NO_ARGS,
                           SD_BUS_NO_RESULT,
                           method_cancel, UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("SwitchToForeground", SD_BUS_NO_ARGS,
                           SD_BUS_NO_RESULT,
                           method_switch_to_foreground, UNPRIVILEGED),
  CONST ("JobID", "s"),
  CONST ("Group", "o"),
  RO ("FileCount", "u"),
  RO ("Status", "u"),
  RO ("BytesTotal", "t"),
  RO ("BytesTransferred", "t"),
  RO ("CurrentFileIndex", "u"),
  RO ("LastError", "(ss)"),
  SD_BUS_VTABLE_END,
};
