/* libqmgr — QmgrDownload, the object: the files, the settings of the group
 * to make, and the group's state relayed as properties. The run is in
 * qmgr-download-run.c. */
#include "config.h"

#include "qmgr-download-private.h"

/**
 * QmgrDownload:
 *
 * Downloads a set of files through qmgrd the way most applications want
 * to: a new group (#QmgrGroup) with one job (#QmgrJob) holding the files,
 * resumed at once and followed until it completes or fails.
 *
 * Add the files with qmgr_download_add_file(), set the optional properties,
 * then call qmgr_download_run(). While it runs, the group's progress is
 * relayed as #QmgrDownload::progress and as notifications of the
 * download's properties (#QmgrDownload:wait-reason tells why it waits:
 * "metered", "offline" and so on). The run finishes when the group
 * completes (then #QmgrDownload::completed is emitted first), or fails
 * with a %QMGR_CLIENT_ERROR (a refused URL or path, or the job's transfer
 * error, such as %QMGR_CLIENT_ERROR_TRANSFER_HTTP_STATUS).
 *
 * Cancelling the run's #GCancellable once the group has been resumed stops
 * following it, not the transfer: the group stays queued in qmgrd, and
 * #QmgrDownload:group-id names it. A group that failed stays as well, for
 * inspection. A completed group stays in the queue (as QMGR's do) unless
 * #QmgrDownload:remove-when-complete is set.
 */
GParamSpec *qmgr_download_props[N_PROPS];
guint qmgr_download_signals[N_SIGNALS];
#define props qmgr_download_props
#define signals qmgr_download_signals

G_DEFINE_TYPE (QmgrDownload, qmgr_download, G_TYPE_OBJECT)

/**
 * qmgr_download_new:
 * @connection: the bus connection qmgrd is on (the session bus, or the
 *   system bus for a system-wide qmgrd)
 *
 * A download with no files yet.
 *
 * Returns: (transfer full): the download
 */
QmgrDownload *
qmgr_download_new (GDBusConnection *connection)
{
  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), NULL);
  return g_object_new (QMGR_TYPE_DOWNLOAD, "connection", connection, NULL);
}

/**
 * qmgr_download_add_file:
 * @self: a download that has not run yet
 * @url: an http or https URL
 * @local_path: the absolute path of the destination file; its directory
 *   must exist
 *
 * Adds a file. The files are checked by qmgrd when the download runs; the
 * run fails if it refuses one, and then none is added.
 */
void
qmgr_download_add_file (QmgrDownload *self, const char *url, const char *local_path)
{
  g_return_if_fail (QMGR_IS_DOWNLOAD (self));
  g_return_if_fail (url != NULL && local_path != NULL);
  g_return_if_fail (self->step == STEP_MANAGER && self->task == NULL);
  g_ptr_array_add (self->urls, g_strdup (url));
  g_ptr_array_add (self->paths, g_strdup (local_path));
}

/**
 * qmgr_download_get_n_files:
 * @self: a download
 *
 * Counts the files of the download.
 *
 * Returns: the number of files added with qmgr_download_add_file()
 */
guint
qmgr_download_get_n_files (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), 0);
  return self->urls->len;
}

/**
 * qmgr_download_get_display_name:
 * @self: a download
 *
 * Gets #QmgrDownload:display-name.
 *
 * Returns: (nullable): the #QmgrDownload:display-name
 */
const char *
qmgr_download_get_display_name (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), NULL);
  return self->display_name;
}

/**
 * qmgr_download_set_display_name:
 * @self: a download that has not run yet
 * @display_name: (nullable): the group's name for people
 *
 * Sets #QmgrDownload:display-name.
 */
void
qmgr_download_set_display_name (QmgrDownload *self, const char *display_name)
{
  g_return_if_fail (QMGR_IS_DOWNLOAD (self));
  if (g_strcmp0 (self->display_name, display_name) == 0)
    return;
  g_free (self->display_name);
  self->display_name = g_strdup (display_name);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_DISPLAY_NAME]);
}

/**
 * qmgr_download_get_transfer_policy:
 * @self: a download
 *
 * Gets #QmgrDownload:transfer-policy.
 *
 * Returns: the #QmgrDownload:transfer-policy
 */
guint
qmgr_download_get_transfer_policy (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), 0);
  return self->transfer_policy;
}

/**
 * qmgr_download_set_transfer_policy:
 * @self: a download that has not run yet
 * @transfer_policy: a #QmgrTransferPolicy, another mask of #QmgrCostState
 *   values, or 0 for qmgrd's default
 *
 * Sets #QmgrDownload:transfer-policy.
 */
void
qmgr_download_set_transfer_policy (QmgrDownload *self, guint transfer_policy)
{
  g_return_if_fail (QMGR_IS_DOWNLOAD (self));
  if (self->transfer_policy == transfer_policy)
    return;
  self->transfer_policy = transfer_policy;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_TRANSFER_POLICY]);
}

/**
 * qmgr_download_get_foreground:
 * @self: a download
 *
 * Gets #QmgrDownload:foreground.
 *
 * Returns: the #QmgrDownload:foreground setting
 */
gboolean
qmgr_download_get_foreground (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), FALSE);
  return self->foreground;
}

/**
 * qmgr_download_set_foreground:
 * @self: a download that has not run yet
 * @foreground: whether the group runs in the foreground
 *
 * Sets #QmgrDownload:foreground.
 */
void
qmgr_download_set_foreground (QmgrDownload *self, gboolean foreground)
{
  g_return_if_fail (QMGR_IS_DOWNLOAD (self));
  foreground = !!foreground;
  if (self->foreground == foreground)
    return;
  self->foreground = foreground;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_FOREGROUND]);
}

/**
 * qmgr_download_get_remove_when_complete:
 * @self: a download
 *
 * Gets #QmgrDownload:remove-when-complete.
 *
 * Returns: the #QmgrDownload:remove-when-complete setting
 */
gboolean
qmgr_download_get_remove_when_complete (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), FALSE);
  return self->remove_when_complete;
}

/**
 * qmgr_download_set_remove_when_complete:
 * @self: a download
 * @remove: whether to remove the group from the queue once it completes
 *
 * Sets #QmgrDownload:remove-when-complete.
 */
void
qmgr_download_set_remove_when_complete (QmgrDownload *self, gboolean remove)
{
  g_return_if_fail (QMGR_IS_DOWNLOAD (self));
  remove = !!remove;
  if (self->remove_when_complete == remove)
    return;
  self->remove_when_complete = remove;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_REMOVE_WHEN_COMPLETE]);
}

/**
 * qmgr_download_get_group_id:
 * @self: a download
 *
 * Gets #QmgrDownload:group-id.
 *
 * Returns: (nullable): the GUID of the download's group, once it is created
 */
const char *
qmgr_download_get_group_id (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), NULL);
  return self->group_id;
}

/**
 * qmgr_download_get_group:
 * @self: a download
 *
 * Gets #QmgrDownload:group.
 *
 * Returns: (transfer none) (nullable): the download's group, once it is created
 */
QmgrGroup *
qmgr_download_get_group (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), NULL);
  return self->group;
}

/**
 * qmgr_download_get_job:
 * @self: a download
 *
 * Gets #QmgrDownload:job.
 *
 * Returns: (transfer none) (nullable): the download's job, once it is created
 */
QmgrJob *
qmgr_download_get_job (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), NULL);
  return self->job;
}

/**
 * qmgr_download_get_status:
 * @self: a download
 *
 * Gets #QmgrDownload:status.
 *
 * Returns: the group's #QmgrGroupStatus bits, or 0 before the group exists
 */
guint
qmgr_download_get_status (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), 0);
  return self->group != NULL ? qmgr_group_get_status (self->group) : 0;
}

/**
 * qmgr_download_get_wait_reason:
 * @self: a download
 *
 * Gets #QmgrDownload:wait-reason.
 *
 * Returns: (nullable): the group's #QmgrGroup:wait-reason (see
 *   qmgr_wait_reason_describe()), or %NULL before the group exists
 */
const char *
qmgr_download_get_wait_reason (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), NULL);
  return self->group != NULL ? qmgr_group_get_wait_reason (self->group) : NULL;
}

/**
 * qmgr_download_get_bytes_transferred:
 * @self: a download
 *
 * Gets #QmgrDownload:bytes-transferred.
 *
 * Returns: the bytes transferred so far, for all files
 */
guint64
qmgr_download_get_bytes_transferred (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), 0);
  return self->group != NULL ? qmgr_group_get_bytes_transferred (self->group) : 0;
}

/**
 * qmgr_download_get_bytes_total:
 * @self: a download
 *
 * Gets #QmgrDownload:bytes-total.
 *
 * Returns: the sum of the file sizes known so far (a file's size is known
 *   once the server has told it)
 */
guint64
qmgr_download_get_bytes_total (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), 0);
  return self->group != NULL ? qmgr_group_get_bytes_total (self->group) : 0;
}

/**
 * qmgr_download_get_files_transferred:
 * @self: a download
 *
 * Gets #QmgrDownload:files-transferred.
 *
 * Returns: the number of complete files
 */
guint
qmgr_download_get_files_transferred (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), 0);
  return self->group != NULL ? qmgr_group_get_files_transferred (self->group) : 0;
}

/**
 * qmgr_download_get_files_total:
 * @self: a download
 *
 * Gets #QmgrDownload:files-total.
 *
 * Returns: the number of files in the group
 */
guint
qmgr_download_get_files_total (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), 0);
  return self->group != NULL ? qmgr_group_get_files_total (self->group) : self->urls->len;
}

/**
 * qmgr_download_get_resumed:
 * @self: a download
 *
 * Gets #QmgrDownload:resumed.
 *
 * Returns: whether the group has been resumed, and so goes on in qmgrd
 *   whatever happens to this process
 */
gboolean
qmgr_download_get_resumed (QmgrDownload *self)
{
  g_return_val_if_fail (QMGR_IS_DOWNLOAD (self), FALSE);
  return self->resumed;
}

static void
qmgr_download_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  QmgrDownload *self = QMGR_DOWNLOAD (object);

  switch (prop_id)
    {
    case PROP_CONNECTION: g_value_set_object (value, self->connection); break;
    case PROP_DISPLAY_NAME: g_value_set_string (value, self->display_name); break;
    case PROP_TRANSFER_POLICY: g_value_set_uint (value, self->transfer_policy); break;
    case PROP_FOREGROUND: g_value_set_boolean (value, self->foreground); break;
    case PROP_REMOVE_WHEN_COMPLETE: g_value_set_boolean (value, self->remove_when_complete); break;
    case PROP_GROUP_ID: g_value_set_string (value, self->group_id); break;
    case PROP_GROUP: g_value_set_object (value, self->group); break;
    case PROP_JOB: g_value_set_object (value, self->job); break;
    case PROP_STATUS: g_value_set_uint (value, qmgr_download_get_status (self)); break;
    case PROP_WAIT_REASON: g_value_set_string (value, qmgr_download_get_wait_reason (self)); break;
    case PROP_BYTES_TRANSFERRED:
      g_value_set_uint64 (value, qmgr_download_get_bytes_transferred (self));
      break;
    case PROP_BYTES_TOTAL: g_value_set_uint64 (value, qmgr_download_get_bytes_total (self)); break;
    case PROP_FILES_TRANSFERRED:
      g_value_set_uint (value, qmgr_download_get_files_transferred (self));
      break;
    case PROP_FILES_TOTAL: g_value_set_uint (value, qmgr_download_get_files_total (self)); break;
    case PROP_RESUMED: g_value_set_boolean (value, self->resumed); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qmgr_download_set_property (GObject *object, guint prop_id, const GValue *value,
                            GParamSpec *pspec)
{
  QmgrDownload *self = QMGR_DOWNLOAD (object);

  switch (prop_id)
    {
    case PROP_CONNECTION: self->connection = g_value_dup_object (value); break;
    case PROP_DISPLAY_NAME:
      qmgr_download_set_display_name (self, g_value_get_string (value));
      break;
    case PROP_TRANSFER_POLICY:
      qmgr_download_set_transfer_policy (self, g_value_get_uint (value));
      break;
    case PROP_FOREGROUND: qmgr_download_set_foreground (self, g_value_get_boolean (value)); break;
    case PROP_REMOVE_WHEN_COMPLETE:
      qmgr_download_set_remove_when_complete (self, g_value_get_boolean (value));
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qmgr_download_dispose (GObject *object)
{
  QmgrDownload *self = QMGR_DOWNLOAD (object);

  /* A running download holds a reference through its task: not here. */
  qmgr_download_stop_watching (self);
  g_clear_object (&self->job);
  g_clear_object (&self->group);
  g_clear_object (&self->manager);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (qmgr_download_parent_class)->dispose (object);
}

static void
qmgr_download_finalize (GObject *object)
{
  QmgrDownload *self = QMGR_DOWNLOAD (object);

  g_ptr_array_unref (self->urls);
  g_ptr_array_unref (self->paths);
  g_free (self->display_name);
  g_free (self->group_path);
  g_free (self->job_path);
  g_free (self->group_id);
  G_OBJECT_CLASS (qmgr_download_parent_class)->finalize (object);
}

static void
qmgr_download_init (QmgrDownload *self)
{
  self->urls = g_ptr_array_new_with_free_func (g_free);
  self->paths = g_ptr_array_new_with_free_func (g_free);
}

static void
install_properties (GObjectClass *object_class)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  /**
   * QmgrDownload:connection:
   *
   * The bus connection qmgrd is on.
   */
  props[PROP_CONNECTION] =
    g_param_spec_object ("connection", NULL, NULL, G_TYPE_DBUS_CONNECTION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * QmgrDownload:display-name:
   *
   * The group's display name (%QMGR_GROUP_PROP_ID_DISPLAYNAME), or %NULL
   * for none. At most 256 characters, without control characters.
   */
  props[PROP_DISPLAY_NAME] = g_param_spec_string ("display-name", NULL, NULL, NULL, rw);
  /**
   * QmgrDownload:transfer-policy:
   *
   * The group's #QmgrGroup:transfer-policy: the network cost states it may
   * transfer on (a #QmgrTransferPolicy preset or another mask), or 0 for
   * qmgrd's default.
   */
  props[PROP_TRANSFER_POLICY] =
    g_param_spec_uint ("transfer-policy", NULL, NULL, 0, G_MAXUINT32, 0, rw);
  /**
   * QmgrDownload:foreground:
   *
   * Whether the group is switched to the foreground before it is resumed.
   */
  props[PROP_FOREGROUND] = g_param_spec_boolean ("foreground", NULL, NULL, FALSE, rw);
  /**
   * QmgrDownload:remove-when-complete:
   *
   * Whether the group is removed from the queue (CancelGroup, which keeps
   * the completed files) once it completes.
   */
  props[PROP_REMOVE_WHEN_COMPLETE] =
    g_param_spec_boolean ("remove-when-complete", NULL, NULL, FALSE, rw);
  /**
   * QmgrDownload:group-id:
   *
   * The GUID of the group, once it is created.
   */
  props[PROP_GROUP_ID] = g_param_spec_string ("group-id", NULL, NULL, NULL, ro);
  /**
   * QmgrDownload:group:
   *
   * The group, once it is created.
   */
  props[PROP_GROUP] = g_param_spec_object ("group", NULL, NULL, QMGR_TYPE_GROUP, ro);
  /**
   * QmgrDownload:job:
   *
   * The job, once it is created.
   */
  props[PROP_JOB] = g_param_spec_object ("job", NULL, NULL, QMGR_TYPE_JOB, ro);
  /**
   * QmgrDownload:status:
   *
   * The group's #QmgrGroupStatus bits.
   */
  props[PROP_STATUS] = g_param_spec_uint ("status", NULL, NULL, 0, G_MAXUINT32, 0, ro);
  /**
   * QmgrDownload:wait-reason:
   *
   * Why the group waits, or what it does: see qmgr_wait_reason_describe().
   */
  props[PROP_WAIT_REASON] = g_param_spec_string ("wait-reason", NULL, NULL, NULL, ro);
  /**
   * QmgrDownload:bytes-transferred:
   *
   * The bytes transferred so far (updated at most twice a second).
   */
  props[PROP_BYTES_TRANSFERRED] =
    g_param_spec_uint64 ("bytes-transferred", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  /**
   * QmgrDownload:bytes-total:
   *
   * The sum of the file sizes known so far.
   */
  props[PROP_BYTES_TOTAL] = g_param_spec_uint64 ("bytes-total", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  /**
   * QmgrDownload:files-transferred:
   *
   * The number of complete files.
   */
  props[PROP_FILES_TRANSFERRED] =
    g_param_spec_uint ("files-transferred", NULL, NULL, 0, G_MAXUINT32, 0, ro);
  /**
   * QmgrDownload:files-total:
   *
   * The number of files.
   */
  props[PROP_FILES_TOTAL] = g_param_spec_uint ("files-total", NULL, NULL, 0, G_MAXUINT32, 0, ro);
  /**
   * QmgrDownload:resumed:
   *
   * Whether the group has been resumed. From then on it is qmgrd's to
   * finish: cancelling the run, or this process exiting, leaves it queued.
   * Before, a failed or cancelled run removes the group it made.
   */
  props[PROP_RESUMED] = g_param_spec_boolean ("resumed", NULL, NULL, FALSE, ro);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
qmgr_download_class_init (QmgrDownloadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = qmgr_download_get_property;
  object_class->set_property = qmgr_download_set_property;
  object_class->dispose = qmgr_download_dispose;
  object_class->finalize = qmgr_download_finalize;
  install_properties (object_class);

  /**
   * QmgrDownload::progress:
   * @self: the download
   * @bytes_transferred: the bytes transferred so far
   * @bytes_total: the sum of the file sizes known so far
   *
   * Emitted when the group's byte counts change: at most twice a second
   * while bytes move, and once when they stop.
   */
  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_UINT64);
  /**
   * QmgrDownload::completed:
   * @self: the download
   *
   * Emitted when every file is complete, before the run finishes.
   */
  signals[SIGNAL_COMPLETED] =
    g_signal_new ("completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  /**
   * QmgrDownload::failed:
   * @self: the download
   * @error: what went wrong, in the %QMGR_CLIENT_ERROR domain
   *
   * Emitted when the run fails (not when it is cancelled), before it
   * finishes.
   */
  signals[SIGNAL_FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR);
}
