/* qmgrd bus — calls on clients' io.github.qmgrd.QMgr1.Callback objects. OnStatus
 * callbacks owed by a group (kept in its store file) go to the live pointer
 * registered with SetNotificationPointer (kept here, per group, until its peer
 * leaves the bus), else to NOTIFYCLSID's bus name, which D-Bus may activate; a
 * failed call is retried with back-off (1 s doubling to 10 min) until delivered
 * or 24 hours old. Progress callbacks go only to a live pointer, at most once a
 * second, and are never retried. */
#include "bus-private.h"

#include <errno.h>

#include "qmgr-constants.h"
#include "validate.h"

#define CALL_TIMEOUT_USEC (25 * G_USEC_PER_SEC)
#define BACKOFF_FIRST_S 1
#define BACKOFF_MAX_S 600
#define GIVE_UP_AFTER_USEC ((gint64) 24 * 3600 * G_USEC_PER_SEC)
#define PROGRESS_CALLBACK_INTERVAL_USEC G_USEC_PER_SEC

typedef struct {
  QmgrBus *bus;
  QmgrGroup *group;
  char *live_name;            /* the live callback pointer: unique name and path */
  char *live_path;
  sd_bus_slot *call;          /* an OnStatus call in flight */
  guint retry_source;
  guint backoff_s;
  gint64 last_progress_call;  /* monotonic µs */
} Delivery;

static void deliver_next (Delivery *d);

static void
delivery_free (Delivery *d)
{
  sd_bus_slot_unref (d->call);
  if (d->retry_source != 0)
    g_source_remove (d->retry_source);
  g_free (d->live_name);
  g_free (d->live_path);
  g_free (d);
}

void
qmgr_bus_callbacks_init (QmgrBus *bus)
{
  bus->deliveries = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                           (GDestroyNotify) delivery_free);
}

void
qmgr_bus_callbacks_clear (QmgrBus *bus)
{
  g_clear_pointer (&bus->deliveries, g_hash_table_unref);
}

void
qmgr_bus_callbacks_forget_group (QmgrBus *bus, QmgrGroup *group)
{
  g_hash_table_remove (bus->deliveries, group);
}

static Delivery *
delivery_for (QmgrBus *bus, QmgrGroup *group)
{
  Delivery *d = g_hash_table_lookup (bus->deliveries, group);

  if (d == NULL)
    {
      d = g_new0 (Delivery, 1);
      d->bus = bus;
      d->group = group;
      d->backoff_s = BACKOFF_FIRST_S;
      g_hash_table_insert (bus->deliveries, group, d);
    }
  return d;
}

void
qmgr_bus_callbacks_set_live (QmgrBus *bus, QmgrGroup *group, const char *name, const char *path)
{
  Delivery *d = g_hash_table_lookup (bus->deliveries, group);
  gboolean set = name != NULL && g_strcmp0 (path, "/") != 0;

  if (d == NULL && !set)
    return;
  d = delivery_for (bus, group);
  g_free (d->live_name);
  g_free (d->live_path);
  d->live_name = set ? g_strdup (name) : NULL;
  d->live_path = set ? g_strdup (path) : NULL;
  qmgr_group_set_live_callback (group, set);
}

void
qmgr_bus_callbacks_forget_peer (QmgrBus *bus, const char *unique_name)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, bus->deliveries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Delivery *d = value;
      if (g_strcmp0 (d->live_name, unique_name) == 0)
        qmgr_bus_callbacks_set_live (bus, d->group, NULL, "/");
    }
}

/* The live pointer, else NOTIFYCLSID; FALSE when there is no one to call. */
static gboolean
target (Delivery *d, char **name, char **path, gboolean *activate)
{
  QmgrGroup *g = d->group;

  if (d->live_name != NULL)
    {
      *name = g_strdup (d->live_name);
      *path = g_strdup (d->live_path);
      *activate = FALSE;
      return TRUE;
    }
  if (g->notify_clsid[0] != '\0')
    {
      qmgr_notify_clsid_split (g->notify_clsid, name, path);
      *activate = TRUE;
      return TRUE;
    }
  return FALSE;
}

static gboolean
on_retry_due (gpointer user_data)
{
  Delivery *d = user_data;

  d->retry_source = 0;
  deliver_next (d);
  return G_SOURCE_REMOVE;
}

static void
drop_first (Delivery *d, const char *why)
{
  g_autoptr(GError) error = NULL;

  qmgr_bus_log (G_LOG_LEVEL_DEBUG, d->group, d->group->job,
                "Group %s: dropping a callback (%s)", d->group->id_str, why);
  if (!qmgr_group_notification_done (d->group, &error))
    qmgr_bus_log (G_LOG_LEVEL_WARNING, d->group, d->group->job, "Could not update group %s: %s",
                  d->group->id_str, error->message);
}

static int
on_status_reply (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  Delivery *d = userdata;
  const sd_bus_error *e = sd_bus_message_get_error (reply);
  g_autoptr(GError) error = NULL;

  d->call = sd_bus_slot_unref (d->call);
  if (e != NULL && d->live_name != NULL &&
      (sd_bus_error_has_name (e, "org.freedesktop.DBus.Error.ServiceUnknown") ||
       sd_bus_error_has_name (e, "org.freedesktop.DBus.Error.NameHasNoOwner")))
    {
      /* The live pointer's peer has left (and its departure was not heard):
       * it goes, and the callback goes to NOTIFYCLSID at once. */
      qmgr_bus_peers_forget (d->bus, d->live_name);
      deliver_next (d);
      return 0;
    }
  if (e != NULL)
    {
      qmgr_bus_log (G_LOG_LEVEL_DEBUG, d->group, d->group->job,
                    "Group %s: callback failed (%s); again in %u s", d->group->id_str,
                    e->message, d->backoff_s);
      d->retry_source = g_timeout_add_seconds (d->backoff_s, on_retry_due, d);
      d->backoff_s = MIN (d->backoff_s * 2, (guint) BACKOFF_MAX_S);
      return 0;
    }
  d->backoff_s = BACKOFF_FIRST_S;
  if (!qmgr_group_notification_done (d->group, &error))
    {
      /* Delivered but not recorded: it may be delivered twice after a restart. */
      qmgr_bus_log (G_LOG_LEVEL_WARNING, d->group, d->group->job,
                    "Could not update group %s: %s", d->group->id_str, error->message);
    }
  deliver_next (d);
  return 0;
}

static void
deliver_next (Delivery *d)
{
  QmgrGroup *g = d->group;
  GArray *pending = g->pending_notifications;

  while (d->call == NULL && d->retry_source == 0 && pending->len > 0)
    {
      QmgrPendingNotification *n = &g_array_index (pending, QmgrPendingNotification, 0);
      g_autoptr(sd_bus_message) m = NULL;
      g_autofree char *name = NULL, *path = NULL;
      QmgrObjectPath group_path, job_path;
      gboolean activate;
      int r;

      if (n->held)
        break;   /* delivered once durable (qmgr_job_announce_completion kicks) */
      if (qmgr_manager_now (g->manager) - n->created > GIVE_UP_AFTER_USEC)
        {
          drop_first (d, "undelivered for 24 hours");
          continue;
        }
      if (g->job == NULL || !target (d, &name, &path, &activate))
        {
          drop_first (d, "no callback target any more");
          continue;
        }
      r = sd_bus_message_new_method_call (d->bus->bus, &m, name, path, QMGR_CALLBACK_INTERFACE,
                                          "OnStatus");
      if (r >= 0)
        r = sd_bus_message_append (m, "oouuuuu", qmgr_bus_group_path (g, &group_path),
                                   qmgr_bus_job_path (g->job, &job_path),
                                   n->file_index, n->status, n->num_retries, n->win32_result,
                                   n->transport_result);
      if (r >= 0)
        r = sd_bus_message_set_auto_start (m, activate);
      if (r >= 0)
        r = sd_bus_call_async (d->bus->bus, &d->call, m, on_status_reply, d, CALL_TIMEOUT_USEC);
      if (r < 0)
        {
          drop_first (d, g_strerror (-r));   /* e.g. a target that is not valid on the wire */
          continue;
        }
    }
}

void
qmgr_bus_callbacks_kick (QmgrBus *bus, QmgrGroup *group)
{
  if (group->pending_notifications->len > 0)
    deliver_next (delivery_for (bus, group));
}

void
qmgr_bus_callbacks_progress (QmgrBus *bus, QmgrGroup *group)
{
  QmgrJob *job = group->job;
  gboolean ex = (group->notify_flags & QMGR_NOTIFY_USE_PROGRESSEX) != 0;
  g_autoptr(sd_bus_message) m = NULL;
  Delivery *d = g_hash_table_lookup (bus->deliveries, group);
  QmgrObjectPath group_path, job_path;
  gint64 now = g_get_monotonic_time ();
  guint32 value;
  int r;

  if (job == NULL || d == NULL || d->live_name == NULL ||
      !(group->notify_flags & QMGR_NOTIFY_PROGRESS) ||
      (group->notify_flags & QMGR_NOTIFY_DISABLE_NOTIFY))
    return;
  if (d->last_progress_call != 0 && now - d->last_progress_call < PROGRESS_CALLBACK_INTERVAL_USEC)
    return;
  d->last_progress_call = now;

  value = (guint32) MIN (qmgr_group_get_bytes_transferred (group), (guint64) G_MAXUINT32);
  r = sd_bus_message_new_method_call (bus->bus, &m, d->live_name, d->live_path,
                                      QMGR_CALLBACK_INTERFACE,
                                      ex ? "OnProgressEx" : "OnProgress");
  if (r >= 0)
    r = sd_bus_message_append (m, "uoouu", QMGR_PROGRESS_SIZE_DONE,
                               qmgr_bus_group_path (group, &group_path),
                               qmgr_bus_job_path (job, &job_path), job->current_file, value);
  if (r >= 0 && ex)
    r = sd_bus_message_append_array (m, 'y', NULL, 0);
  if (r >= 0)
    r = sd_bus_message_set_auto_start (m, FALSE);
  if (r >= 0)
    r = sd_bus_message_set_expect_reply (m, FALSE);
  if (r >= 0)
    r = sd_bus_send (bus->bus, m, NULL);
  if (r < 0)
    qmgr_bus_log (G_LOG_LEVEL_DEBUG, group, job, "Group %s: progress callback not sent: %s",
                  group->id_str, g_strerror (-r));
}
