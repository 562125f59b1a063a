/* libqmgr — QmgrDownload's run: creates a group with a job and its files,
 * resumes it and follows it to the end, one asynchronous step at a time; the
 * group's properties are relayed as notifications and a "progress" signal. */
#include "config.h"

#include "qmgr-download-private.h"
#include "qmgr-i18n.h"

#define props qmgr_download_props
#define signals qmgr_download_signals

static void run_step (QmgrDownload *self);

/* ----- the end of a run ----- */

void
qmgr_download_stop_watching (QmgrDownload *self)
{
  if (self->cancel_source != NULL)
    {
      g_source_destroy (self->cancel_source);
      g_clear_pointer (&self->cancel_source, g_source_unref);
    }
  if (self->group != NULL)
    {
      g_clear_signal_handler (&self->properties_handler, self->group);
      g_clear_signal_handler (&self->owner_handler, self->group);
    }
  if (self->removed_subscription != 0)
    {
      g_dbus_connection_signal_unsubscribe (self->connection, self->removed_subscription);
      self->removed_subscription = 0;
    }
}

static void
return_error (QmgrDownload *self, GError *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_signal_emit (self, signals[SIGNAL_FAILED], 0, error);
  g_task_return_error (task, error);
}

static void
discarded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  QmgrDownload *self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    g_debug ("Removing the unstarted group %s: %s", self->group_id, error->message);
  return_error (self, g_steal_pointer (&self->pending_error));
}

/* The run ends with @error. A group that never got going is of no use to
 * anyone: it goes first, so that it is gone when the run returns (a
 * program may exit right after). Once resumed, it is the user's transfer
 * and stays. */
static void
fail (QmgrDownload *self, GError *error)
{
  qmgr_download_stop_watching (self);
  self->step = STEP_DONE;
  qmgr_client_error_convert (&error);
  if (self->resumed || self->group_path == NULL)
    {
      return_error (self, error);
      return;
    }
  self->pending_error = error;
  g_dbus_connection_call (self->connection, QMGR_BUS_NAME, self->group_path,
                          "io.github.qmgrd.QMgr1.Group", "CancelGroup", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, discarded, self);
}

static void
succeed (QmgrDownload *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  self->step = STEP_DONE;
  g_task_return_boolean (task, TRUE);
}

/* ----- following the group ----- */

static void
last_error_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  QmgrDownload *self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;
  const char *name = "", *message = "";
  GError *error = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL)
    {
      fail (self, error);
      return;
    }
  g_variant_get (reply, "(v)", &value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE ("(ss)")))
    g_variant_get (value, "(&s&s)", &name, &message);
  error = qmgr_client_error_new_for_name (name, message);
  if (error == NULL)
    error = g_error_new (QMGR_CLIENT_ERROR, QMGR_CLIENT_ERROR_FAILED,
                         _("The group %s stopped with an error"), self->group_id);
  fail (self, error);
}

static void
group_removed_from_queue (QmgrDownload *self, GAsyncResult *result)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (self->group), result, &error);
  /* The files are complete either way; the group may have gone already. */
  if (reply == NULL)
    g_debug ("Removing the completed group %s: %s", self->group_id, error->message);
  succeed (self);
}

static void
remove_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  group_removed_from_queue (user_data, result);
}

static void relay_changes (QmgrDownload *self, GVariant *changed, const char *const *invalidated);

static void
complete (QmgrDownload *self)
{
  qmgr_download_stop_watching (self);
  g_signal_emit (self, signals[SIGNAL_COMPLETED], 0);
  if (!self->remove_when_complete)
    {
      succeed (self);
      return;
    }
  g_dbus_proxy_call (G_DBUS_PROXY (self->group), "CancelGroup", NULL, G_DBUS_CALL_FLAGS_NONE,
                     -1, NULL, remove_done, self);
}

/* The byte and file counts reach the bus rate-limited, possibly after the
 * status: read them once more so that the last progress is the final one.
 * The group's own PropertiesChanged are still relayed meanwhile; whichever
 * comes first brings a value, the other finds it in the cache. */
static void
final_properties_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  QmgrDownload *self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply != NULL)
    {
      GVariantDict changed;
      g_autoptr(GVariant) changed_values = NULL;

      /* Only what moved is relayed. */
      g_variant_dict_init (&changed, NULL);
      all = g_variant_get_child_value (reply, 0);
      g_variant_iter_init (&iter, all);
      while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
        {
          g_autoptr(GVariant) cached = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (self->group),
                                                                          name);
          if (cached != NULL && g_variant_equal (cached, value))
            continue;
          g_dbus_proxy_set_cached_property (G_DBUS_PROXY (self->group), name, value);
          g_variant_dict_insert_value (&changed, name, value);
        }
      changed_values = g_variant_ref_sink (g_variant_dict_end (&changed));
      relay_changes (self, changed_values, NULL);
    }
  else
    g_debug ("Reading the completed group %s: %s", self->group_id, error->message);
  complete (self);
}

static void
check_status (QmgrDownload *self)
{
  guint status;

  if (self->step != STEP_WAIT)
    return;
  status = qmgr_group_get_status (self->group);
  if (status & QMGR_GROUP_STATUS_COMPLETE)
    {
      self->step = STEP_FINISHING;
      g_dbus_proxy_call (G_DBUS_PROXY (self->group), "org.freedesktop.DBus.Properties.GetAll",
                         g_variant_new ("(s)", "io.github.qmgrd.QMgr1.Group"),
                         G_DBUS_CALL_FLAGS_NONE, -1, NULL, final_properties_read, self);
    }
  else if (status & QMGR_GROUP_STATUS_ERROR)
    {
      qmgr_download_stop_watching (self);
      self->step = STEP_FINISHING;
      g_dbus_proxy_call (G_DBUS_PROXY (self->job), "org.freedesktop.DBus.Properties.Get",
                         g_variant_new ("(ss)", "io.github.qmgrd.QMgr1.Job", "LastError"),
                         G_DBUS_CALL_FLAGS_NONE, -1, NULL, last_error_read, self);
    }
}

/* Relays the group's changed properties as the download's own. */
static void
relay_changes (QmgrDownload *self, GVariant *changed, const char *const *invalidated)
{
  static const struct {
    const char *name;
    int prop;
  } relayed[] = {
    { "Status", PROP_STATUS },
    { "WaitReason", PROP_WAIT_REASON },
    { "BytesTransferred", PROP_BYTES_TRANSFERRED },
    { "BytesTotal", PROP_BYTES_TOTAL },
    { "FilesTransferred", PROP_FILES_TRANSFERRED },
    { "FilesTotal", PROP_FILES_TOTAL },
  };
  gboolean progress = FALSE;

  g_object_freeze_notify (G_OBJECT (self));
  for (guint i = 0; i < G_N_ELEMENTS (relayed); i++)
    {
      g_autoptr(GVariant) value = g_variant_lookup_value (changed, relayed[i].name, NULL);

      if (value == NULL && (invalidated == NULL || !g_strv_contains (invalidated, relayed[i].name)))
        continue;
      g_object_notify_by_pspec (G_OBJECT (self), props[relayed[i].prop]);
      if (relayed[i].prop == PROP_BYTES_TRANSFERRED || relayed[i].prop == PROP_BYTES_TOTAL)
        progress = TRUE;
    }
  g_object_thaw_notify (G_OBJECT (self));
  if (progress)
    g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, qmgr_download_get_bytes_transferred (self),
                   qmgr_download_get_bytes_total (self));
}

static void
group_properties_changed (GDBusProxy *proxy, GVariant *changed, const char *const *invalidated,
                          gpointer user_data)
{
  QmgrDownload *self = user_data;
  g_autoptr(GObject) keep = g_object_ref (G_OBJECT (self));

  relay_changes (self, changed, invalidated);
  check_status (self);
}

static void
daemon_answered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  QmgrDownload *self = user_data;
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (self->step != STEP_WAIT)
    g_clear_error (&error);
  else if (reply == NULL)
    fail (self, error);
  g_object_unref (self);
}

/* qmgrd left the bus. Asking for the group starts it again if D-Bus can
 * (the group is in its store and goes on); if it cannot, the run fails
 * rather than wait for ever. */
static void
group_owner_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  QmgrDownload *self = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (self->group));

  if (owner != NULL || self->step != STEP_WAIT)
    return;
  g_dbus_proxy_call (G_DBUS_PROXY (self->manager), "GetGroup",
                     g_variant_new ("(s)", self->group_id), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                     daemon_answered, g_object_ref (self));
}

static void
interfaces_removed (GDBusConnection *connection, const char *sender, const char *path,
                    const char *interface, const char *signal, GVariant *parameters,
                    gpointer user_data)
{
  QmgrDownload *self = user_data;
  const char *removed = NULL;

  g_variant_get_child (parameters, 0, "&o", &removed);
  if (self->step != STEP_WAIT || g_strcmp0 (removed, self->group_path) != 0)
    return;
  fail (self, g_error_new (QMGR_CLIENT_ERROR, QMGR_CLIENT_ERROR_ITEM_NOT_FOUND,
                           _("The group %s was cancelled before it completed"),
                           self->group_id));
}

static gboolean
run_cancelled (GCancellable *cancellable, gpointer user_data)
{
  QmgrDownload *self = user_data;

  /* Complete already, being read a last time: the run ends well. */
  if (self->step != STEP_WAIT)
    return G_SOURCE_REMOVE;
  fail (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   _("Stopped following the download")));
  return G_SOURCE_REMOVE;
}

static void
start_waiting (QmgrDownload *self)
{
  GCancellable *cancellable = g_task_get_cancellable (self->task);

  self->owner_handler = g_signal_connect (self->group, "notify::g-name-owner",
                                          G_CALLBACK (group_owner_changed), self);
  self->removed_subscription =
    g_dbus_connection_signal_subscribe (self->connection, QMGR_BUS_NAME,
                                        "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
                                        QMGR_MANAGER_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        interfaces_removed, self, NULL);
  if (cancellable != NULL)
    {
      self->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (self->cancel_source, G_SOURCE_FUNC (run_cancelled), self, NULL);
      g_source_attach (self->cancel_source, g_main_context_get_thread_default ());
    }
  check_status (self);
}

/* ----- setting the group up ----- */

static void
call (QmgrDownload *self, gpointer proxy, const char *method, GVariant *parameters,
      GAsyncReadyCallback callback)
{
  g_dbus_proxy_call (G_DBUS_PROXY (proxy), method, parameters, G_DBUS_CALL_FLAGS_NONE, -1,
                     g_task_get_cancellable (self->task), callback, self);
}

static void
call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  QmgrDownload *self = user_data;
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL)
    {
      fail (self, error);
      return;
    }
  if (self->step == STEP_CREATE_GROUP)
    {
      g_variant_get (reply, "(o)", &self->group_path);
      self->group_id = qmgr_path_get_guid (self->group_path);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_GROUP_ID]);
    }
  else if (self->step == STEP_CREATE_JOB)
    g_variant_get (reply, "(o)", &self->job_path);
  else if (self->step == STEP_RESUME)
    {
      self->resumed = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RESUMED]);
    }
  self->step++;
  run_step (self);
}

static void
proxy_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  QmgrDownload *self = user_data;
  GError *error = NULL;

  if (self->step == STEP_MANAGER)
    self->manager = qmgr_manager_proxy_new_finish (result, &error);
  else if (self->step == STEP_GROUP_PROXY)
    self->group = qmgr_group_proxy_new_finish (result, &error);
  else
    self->job = qmgr_job_proxy_new_finish (result, &error);
  if (error != NULL)
    {
      fail (self, error);
      return;
    }
  if (self->step == STEP_GROUP_PROXY)
    {
      self->properties_handler = g_signal_connect (self->group, "g-properties-changed",
                                                   G_CALLBACK (group_properties_changed), self);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_GROUP]);
    }
  else if (self->step == STEP_JOB_PROXY)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_JOB]);
  self->step++;
  run_step (self);
}

static GVariant *
files_variant (QmgrDownload *self)
{
  GVariantBuilder files;

  g_variant_builder_init (&files, G_VARIANT_TYPE ("a(sst)"));
  for (guint i = 0; i < self->urls->len; i++)
    g_variant_builder_add (&files, "(sst)", self->urls->pdata[i], self->paths->pdata[i],
                           (guint64) 0);
  return g_variant_new ("(a(sst))", &files);
}

/* Issues the current step's call, skipping the steps with nothing to do. */
static void
run_step (QmgrDownload *self)
{
  GCancellable *cancellable = g_task_get_cancellable (self->task);

  for (;; self->step++)
    switch (self->step)
      {
      case STEP_MANAGER:
        qmgr_manager_proxy_new (self->connection, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                                QMGR_BUS_NAME, QMGR_MANAGER_PATH, cancellable, proxy_ready, self);
        return;
      case STEP_CREATE_GROUP:
        call (self, self->manager, "CreateGroup", g_variant_new ("(s)", ""), call_done);
        return;
      case STEP_GROUP_PROXY:
        qmgr_group_proxy_new (self->connection, G_DBUS_PROXY_FLAGS_NONE, QMGR_BUS_NAME,
                              self->group_path, cancellable, proxy_ready, self);
        return;
      case STEP_DISPLAY_NAME:
        if (self->display_name == NULL)
          break;
        call (self, self->group, "SetProp",
              g_variant_new ("(uv)", (guint32) QMGR_GROUP_PROP_ID_DISPLAYNAME,
                             g_variant_new_string (self->display_name)),
              call_done);
        return;
      case STEP_POLICY:
        if (self->transfer_policy == 0)
          break;
        call (self, self->group, "org.freedesktop.DBus.Properties.Set",
              g_variant_new ("(ssv)", "io.github.qmgrd.QMgr1.Group", "TransferPolicy",
                             g_variant_new_uint32 (self->transfer_policy)),
              call_done);
        return;
      case STEP_CREATE_JOB:
        call (self, self->group, "CreateJob", g_variant_new ("(s)", ""), call_done);
        return;
      case STEP_JOB_PROXY:
        qmgr_job_proxy_new (self->connection, G_DBUS_PROXY_FLAGS_NONE, QMGR_BUS_NAME,
                            self->job_path, cancellable, proxy_ready, self);
        return;
      case STEP_ADD_FILES:
        call (self, self->job, "AddFiles", files_variant (self), call_done);
        return;
      case STEP_FOREGROUND:
        if (!self->foreground)
          break;
        call (self, self->group, "SwitchToForeground", NULL, call_done);
        return;
      case STEP_RESUME:
        call (self, self->group, "ResumeGroup", NULL, call_done);
        return;
      case STEP_WAIT:
        start_waiting (self);
        return;
      case STEP_FINISHING:
      case STEP_DONE:
      default:
        g_assert_not_reached ();
      }
}

/**
 * qmgr_download_run:
 * @self: a download with at least one file
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the download completes or fails
 * @user_data: data for @callback
 *
 * Creates the group (suspended, with the display name, transfer policy and
 * foreground setting asked for), gives it a job and the files, resumes it,
 * and follows it until it completes or fails. If anything before the resume
 * fails, the half-made group is cancelled and the run fails with that
 * error (a refused URL or path: %QMGR_CLIENT_ERROR_INVALID_ARGS, with
 * qmgrd's reason). A download runs once.
 */
void
qmgr_download_run (QmgrDownload *self, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (QMGR_IS_DOWNLOAD (self));
  g_return_if_fail (self->urls->len > 0);
  g_return_if_fail (self->step == STEP_MANAGER && self->task == NULL);

  self->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (self->task, qmgr_download_run);
  run_step (self);
}

/**
 * qmgr_download_run_finish:
 * @self: the download
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a %QMGR_CLIENT_ERROR error, or
 *   %G_IO_ERROR_CANCELLED
 *
 * Finishes qmgr_download_run().
 *
 * Returns: %TRUE if every file is complete
 */
gboolean
qmgr_download_run_finish (QmgrDownload *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

