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

static gboolean
switch_to_foreground (QmgrJob *job, GError **error)
{
  return qmgr_group_switch_to_foreground (job->group, error);
}

QMGR_BUS_METHOD_HANDLER_NOARGS (method_cancel, QmgrJob *, job, qmgr_job_cancel (job, &error))
QMGR_BUS_METHOD_HANDLER_NOARGS (method_switch_to_foreground, QmgrJob *, job,
                                switch_to_foreground (job, &error))

/* ---- properties ---- */

int
qmgr_bus_append_last_error (sd_bus_message *m, const QmgrJob *job)
{
  return sd_bus_message_append (m, "(ss)", qmgr_transfer_error_name (job->error),
                                job->error_message ? job->error_message : "");
}

/* Group: the path is built in a compound literal, which lives as long as the
 * getter's body. */
#define QMGR_JOB_PROPERTIES(X)                                                             \
  X (JobID, s, CONST, 0, j->id_str, NONE)                                                  \
  X (Group, o, CONST, 0, qmgr_bus_group_path (j->group, &(QmgrObjectPath) { { 0 } }), NONE) \
  X (FileCount, u, RO, QMGR_JOB_CHANGED_FILE_COUNT, qmgr_job_get_file_count (j), NONE)     \
  X (Status, u, RO, QMGR_JOB_CHANGED_STATUS, qmgr_job_get_status (j), NONE)                \
  X (BytesTotal, t, RO, QMGR_JOB_CHANGED_BYTES_TOTAL, qmgr_job_get_bytes_total (j), NONE)  \
  X (BytesTransferred, t, RO, QMGR_JOB_CHANGED_BYTES_TRANSFERRED,                          \
     qmgr_job_get_bytes_transferred (j), NONE)                                             \
  X (CurrentFileIndex, u, RO, QMGR_JOB_CHANGED_CURRENT_FILE_INDEX, j->current_file, NONE)  \
  X (LastError, last_error, RO, QMGR_JOB_CHANGED_LAST_ERROR, j, NONE)

QMGR_BUS_ASSERT_CHANGES (QMGR_JOB_PROPERTIES, (QMGR_JOB_CHANGED_LAST_ERROR << 1) - 1);

#define JOB_PROPERTY_FUNCTIONS(Name, type, kind, change, get, set)                         \
  QMGR_BUS_PROPERTY_GETTER (job, QmgrJob *, j, Name, type, get)                            \
  QMGR_BUS_PROPERTY_SETTER_##kind (job, QmgrJob *, j, j, Name, type, set)
QMGR_JOB_PROPERTIES (JOB_PROPERTY_FUNCTIONS)

static const QmgrBusPropertyName job_property_names[] = {
  QMGR_JOB_PROPERTIES (QMGR_BUS_PROPERTY_NAME)
};

const QmgrBusChangeMap qmgr_bus_job_changes = {
  job_property_names, G_N_ELEMENTS (job_property_names)
};

#define JOB_PROPERTY_VTABLE(Name, type, kind, change, get, set)                            \
  QMGR_BUS_PROPERTY_VTABLE_##kind (job, Name, type)

const sd_bus_vtable qmgr_bus_job_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("AddFiles", SD_BUS_ARGS ("a(sst)", files),
                           SD_BUS_NO_RESULT,
                           method_add_files, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetFile", SD_BUS_ARGS ("u", index),
                           SD_BUS_RESULT ("(sst)", file),
                           method_get_file, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetFileCount", SD_BUS_NO_ARGS,
                           SD_BUS_RESULT ("u", count),
                           method_get_file_count, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetProgress", SD_BUS_ARGS ("u", flags),
                           SD_BUS_RESULT ("u", progress),
                           method_get_progress, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetStatus", SD_BUS_NO_ARGS,
                           SD_BUS_RESULT ("u", status, "u", win32_result, "u", transport_result,
                                          "u", num_retries),
                           method_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetFileStatus", SD_BUS_ARGS ("u", index),
                           SD_BUS_RESULT ("u", status, "t", bytes_total, "t", bytes_transferred,
                                          "(ss)", last_error),
                           method_get_file_status, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("CancelJob", SD_BUS_NO_ARGS,
                           SD_BUS_NO_RESULT,
                           method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("SwitchToForeground", SD_BUS_NO_ARGS,
                           SD_BUS_NO_RESULT,
                           method_switch_to_foreground, SD_BUS_VTABLE_UNPRIVILEGED),
  QMGR_JOB_PROPERTIES (JOB_PROPERTY_VTABLE)
  SD_BUS_VTABLE_END,
};
