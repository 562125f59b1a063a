/* qmgrd bus — connection, object registration and the core events turned into
 * PropertiesChanged and ObjectManager signals. Objects are dynamic: fallback
 * vtables with find callbacks and one node enumerator; nothing is registered per
 * group, so start-up costs nothing per stored group. */
#include "bus-private.h"

#include <errno.h>
#include <malloc.h>

#include "qmgr-constants.h"
#include "qmgr-sd-bus-source.h"

/* ---- core events → D-Bus ---- */

guint
qmgr_bus_changed_names (const QmgrBusChangeMap *map, guint32 changes, const char **names)
{
  guint n = 0;

  for (guint i = 0; i < map->n_names; i++)
    if (changes & map->names[i].change)
      names[n++] = map->names[i].name;
  names[n] = NULL;
  return n;
}

/* ---- signals of a dispatch ----
 *
 * Signals announcing changes made while a batch of calls is dispatched wait
 * for the end of the batch: they go out after the batch's changes are durable
 * and before its replies, so that no one hears of a change a crash could still
 * undo. Waiting also merges them, as GDBus skeletons do in an idle: one
 * PropertiesChanged per object, none for an object whose InterfacesAdded (built
 * when sent, with the values of that moment) is still waiting. Sent together,
 * they also reach the bus in one burst rather than one wake-up each. Signals
 * that cannot wait for their object (InterfacesRemoved) or whose order with
 * these matters (OnStatus, OnProgress) first send what is waiting. */

typedef enum {
  QUEUED_OBJECT_ADDED,
  QUEUED_GROUP_PROPERTIES,
  QUEUED_JOB_PROPERTIES,
  QUEUED_MANAGER_PROPERTIES,
} QueuedKind;

typedef struct {
  QueuedKind kind;
  guint32 changes;
  char *path;
} QueuedSignal;

/* The bus whose messages are being dispatched: every method handler runs
 * inside a dispatch of its source (one main loop, never re-entered). */
static QmgrBus *dispatching;

static void
warn_emit (int r, const char *what, const char *path)
{
  char group_id[QMGR_GUID_STRING_LEN + 1], job_id[QMGR_GUID_STRING_LEN + 1];

  if (r >= 0)
    return;
  if (qmgr_bus_ids_from_path (path, group_id, job_id))
    qmgr_bus_log_ids (G_LOG_LEVEL_WARNING, group_id, job_id[0] != '\0' ? job_id : NULL,
                      "Could not emit %s for %s: %s", what, path, g_strerror (-r));
  else
    g_warning ("Could not emit %s for %s: %s", what, path, g_strerror (-r));
}

static void
emit_properties (QmgrBus *bus, const char *path, const char *interface,
                 const QmgrBusChangeMap *map, guint32 changes)
{
  const char *names[QMGR_BUS_MAX_CHANGED_NAMES + 1];

  if (qmgr_bus_changed_names (map, changes, names) > 0)
    warn_emit (sd_bus_emit_properties_changed_strv (bus->bus, path, interface, (char **) names),
               "PropertiesChanged", path);
}

static void
emit_now (QmgrBus *bus, QueuedKind kind, const char *path, guint32 changes)
{
  switch (kind)
    {
    case QUEUED_OBJECT_ADDED:
      warn_emit (sd_bus_emit_object_added (bus->bus, path), "InterfacesAdded", path);
      break;
    case QUEUED_GROUP_PROPERTIES:
      emit_properties (bus, path, QMGR_GROUP_INTERFACE, &qmgr_bus_group_changes, changes);
      break;
    case QUEUED_JOB_PROPERTIES:
      emit_properties (bus, path, QMGR_JOB_INTERFACE, &qmgr_bus_job_changes, changes);
      break;
    case QUEUED_MANAGER_PROPERTIES:
      emit_properties (bus, path, QMGR_MANAGER_INTERFACE, &qmgr_bus_manager_changes, changes);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Sends the signals waiting for the end of the batch, in the order they were
 * first asked for. */
static void
flush_queued_signals (QmgrBus *bus)
{
  for (guint i = 0; i < bus->queued->len; i++)
    {
      QueuedSignal *q = &g_array_index (bus->queued, QueuedSignal, i);
      emit_now (bus, q->kind, q->path, q->changes);
    }
  g_hash_table_remove_all (bus->queued_by_path);
  g_array_set_size (bus->queued, 0);
}

static void
clear_queued_signal (gpointer data)
{
  QueuedSignal *q = data;
  g_free (q->path);
}

static void
queue_signal (QmgrBus *bus, QueuedKind kind, const char *path, guint32 changes)
{
  gpointer found;
  QueuedSignal q = { kind, changes, NULL };

  if (changes == 0 && kind != QUEUED_OBJECT_ADDED)
    return;
  if (dispatching != bus)
    {
      emit_now (bus, kind, path, changes);
      return;
    }
  /* One object path has one kind of entry: its InterfacesAdded, which
   * carries every property, or the PropertiesChanged of its interface. */
  if (g_hash_table_lookup_extended (bus->queued_by_path, path, NULL, &found))
    {
      QueuedSignal *queued = &g_array_index (bus->queued, QueuedSignal, GPOINTER_TO_UINT (found));
      if (queued->kind != QUEUED_OBJECT_ADDED)
        queued->changes |= changes;
      return;
    }
  q.path = g_strdup (path);
  g_array_append_val (bus->queued, q);
  g_hash_table_insert (bus->queued_by_path, q.path, GUINT_TO_POINTER (bus->queued->len - 1));
}

static void
on_group_added (QmgrGroup *group, gpointer user_data)
{
  QmgrObjectPath path;

  queue_signal (user_data, QUEUED_OBJECT_ADDED, qmgr_bus_group_path (group, &path), 0);
}

static void
on_group_removing (QmgrGroup *group, gpointer user_data)
{
  QmgrBus *bus = user_data;
  QmgrObjectPath path;

  g_hash_table_remove (bus->progress_pending, group);
  qmgr_bus_callbacks_forget_group (bus, group);
  flush_queued_signals (bus);
  qmgr_bus_group_path (group, &path);
  warn_emit (sd_bus_emit_object_removed (bus->bus, path.s), "InterfacesRemoved", path.s);
}

static void
on_job_added (QmgrJob *job, gpointer user_data)
{
  QmgrObjectPath path;

  queue_signal (user_data, QUEUED_OBJECT_ADDED, qmgr_bus_job_path (job, &path), 0);
}

static void
on_job_removing (QmgrJob *job, gpointer user_data)
{
  QmgrBus *bus = user_data;
  QmgrObjectPath path;

  flush_queued_signals (bus);
  qmgr_bus_job_path (job, &path);
  warn_emit (sd_bus_emit_object_removed (bus->bus, path.s), "InterfacesRemoved", path.s);
}

static void
emit_group_properties (QmgrBus *bus, QmgrGroup *group, QmgrGroupChange changes)
{
  QmgrObjectPath path;

  if (changes != 0)
    queue_signal (bus, QUEUED_GROUP_PROPERTIES, qmgr_bus_group_path (group, &path), changes);
}

static void
emit_job_properties (QmgrBus *bus, QmgrJob *job, QmgrJobChange changes)
{
  QmgrObjectPath path;

  if (changes != 0)
    queue_signal (bus, QUEUED_JOB_PROPERTIES, qmgr_bus_job_path (job, &path), changes);
}

/* Byte and file counters move with every write: they are announced at most
 * every PROGRESS_INTERVAL_MS (the contract's "twice a second"), at once when a
 * quiet period ends, and a last time when they stop. What moves with them — the
 * modification time a completed file sets, the job's current file — is
 * announced with them, so that a job of many small files does not cost a
 * signal per file for each. */
#define PROGRESS_INTERVAL_MS 500
#define THROTTLED_GROUP_CHANGES (QMGR_GROUP_CHANGED_BYTES_TOTAL | \
                                 QMGR_GROUP_CHANGED_BYTES_TRANSFERRED | \
                                 QMGR_GROUP_CHANGED_FILES_TRANSFERRED)
#define THROTTLED_JOB_CHANGES (QMGR_JOB_CHANGED_BYTES_TOTAL | QMGR_JOB_CHANGED_BYTES_TRANSFERRED | \
                               QMGR_JOB_CHANGED_CURRENT_FILE_INDEX)

typedef struct {
  QmgrGroupChange group_changes;
  QmgrJobChange job_changes;
} PendingProgress;

static void
emit_progress_signal (QmgrBus *bus, QmgrGroup *group)
{
  guint64 bytes = qmgr_group_get_bytes_transferred (group);
  QmgrObjectPath path, job_path;

  if (group->job == NULL)
    return;
  flush_queued_signals (bus);
  qmgr_bus_group_path (group, &path);
  warn_emit (sd_bus_emit_signal (bus->bus, path.s, QMGR_GROUP_INTERFACE,
                                 "OnProgress", "uouu", QMGR_PROGRESS_SIZE_DONE,
                                 qmgr_bus_job_path (group->job, &job_path),
                                 group->job->current_file,
                                 (guint32) MIN (bytes, (guint64) G_MAXUINT32)),
             "OnProgress", path.s);
}

/* Announces the counters that moved; FALSE when none had. */
static gboolean
flush_progress (QmgrBus *bus)
{
  GHashTableIter iter;
  gpointer key, value;

  if (g_hash_table_size (bus->progress_pending) == 0)
    return FALSE;
  g_hash_table_iter_init (&iter, bus->progress_pending);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      QmgrGroup *group = key;
      PendingProgress *p = value;

      emit_group_properties (bus, group, p->group_changes);
      if (group->job != NULL)
        emit_job_properties (bus, group->job, p->job_changes);
      if (p->group_changes & QMGR_GROUP_CHANGED_BYTES_TRANSFERRED)
        {
          emit_progress_signal (bus, group);
          qmgr_bus_callbacks_progress (bus, group);
        }
      g_hash_table_iter_remove (&iter);
    }
  return TRUE;
}

static gboolean
on_progress_timer (gpointer user_data)
{
  QmgrBus *bus = user_data;

  if (flush_progress (bus))
    return G_SOURCE_CONTINUE;
  bus->progress_timer = 0;   /* quiet: the next change is announced at once */
  return G_SOURCE_REMOVE;
}

static void
queue_progress (QmgrBus *bus, QmgrGroup *group, QmgrGroupChange group_changes,
                QmgrJobChange job_changes)
{
  PendingProgress *p = g_hash_table_lookup (bus->progress_pending, group);

  if (p == NULL)
    {
      p = g_new0 (PendingProgress, 1);
      g_hash_table_insert (bus->progress_pending, group, p);
    }
  p->group_changes |= group_changes;
  p->job_changes |= job_changes;
  if (bus->progress_timer == 0)
    {
      flush_progress (bus);
      bus->progress_timer = g_timeout_add (PROGRESS_INTERVAL_MS, on_progress_timer, bus);
    }
}

static void
on_group_changed (QmgrGroup *group, QmgrGroupChange changes, gpointer user_data)
{
  QmgrBus *bus = user_data;
  QmgrGroupChange throttled = changes & THROTTLED_GROUP_CHANGES;

  /* A new owner does not inherit the old one's live callback. */
  if (changes & QMGR_GROUP_CHANGED_OWNER)
    qmgr_bus_callbacks_set_live (bus, group, NULL, "/");

  if (throttled != 0)
    throttled |= changes & QMGR_GROUP_CHANGED_MODIFICATION_TIME;
  emit_group_properties (bus, group, changes & ~throttled);
  if (throttled != 0)
    queue_progress (bus, group, throttled, 0);
}

static void
on_job_changed (QmgrJob *job, QmgrJobChange changes, gpointer user_data)
{
  QmgrBus *bus = user_data;

  emit_job_properties (bus, job, changes & ~THROTTLED_JOB_CHANGES);
  if (changes & THROTTLED_JOB_CHANGES)
    queue_progress (bus, job->group, 0, changes & THROTTLED_JOB_CHANGES);
}

static void
on_status_event (QmgrGroup *group, guint32 file_index, QmgrStatusEvent event, gpointer user_data)
{
  QmgrBus *bus = user_data;
  QmgrJob *job = group->job;
  gboolean error = event == QMGR_STATUS_EVENT_FATAL_ERROR;
  QmgrObjectPath path, job_path;

  if (job == NULL)
    return;
  /* Counters first, so that a listener reading them after the job's or
   * group's OnStatus sees the end. Not for every file: they would no longer be
   * "at most twice a second" (GetProgress answers exactly). */
  if (event != QMGR_STATUS_EVENT_FILE_DONE)
    flush_progress (bus);
  flush_queued_signals (bus);
  qmgr_bus_group_path (group, &path);
  warn_emit (sd_bus_emit_signal (bus->bus, path.s, QMGR_GROUP_INTERFACE, "OnStatus",
                                 "ouuuuu", qmgr_bus_job_path (job, &job_path), file_index,
                                 qmgr_group_get_status (group),
                                 error ? job->num_retries : 0u,
                                 error ? job->win32_result : 0u,
                                 error ? job->transport_result : 0u),
             "OnStatus", path.s);
  qmgr_bus_callbacks_kick (bus, group);
}

static void
on_manager_changed (QmgrManager *manager, QmgrManagerChange changes, gpointer user_data)
{
  queue_signal (user_data, QUEUED_MANAGER_PROPERTIES, QMGR_MANAGER_PATH, changes);
}

static const QmgrManagerListener bus_listener = {
  .group_added = on_group_added,
  .group_removing = on_group_removing,
  .group_changed = on_group_changed,
  .job_added = on_job_added,
  .job_removing = on_job_removing,
  .job_changed = on_job_changed,
  .manager_changed = on_manager_changed,
  .status_event = on_status_event,
};

/* ---- replies after durability ---- */

static void
unref_message (gpointer m)
{
  sd_bus_message_unref (m);
}

QmgrBus *
qmgr_bus_current (void)
{
  g_assert (dispatching != NULL);
  return dispatching;
}

int
qmgr_bus_send_reply (sd_bus_message *call, sd_bus_message *reply)
{
  QmgrBus *bus = dispatching;

  if (bus == NULL)
    return sd_bus_send (NULL, reply, NULL);
  g_ptr_array_add (bus->held, sd_bus_message_ref (call));
  g_ptr_array_add (bus->held, sd_bus_message_ref (reply));
  return 1;
}

int
qmgr_bus_reply (sd_bus_message *call, const char *types, ...)
{
  g_autoptr(sd_bus_message) reply = NULL;
  va_list ap;
  int r;

  r = sd_bus_message_new_method_return (call, &reply);
  if (r < 0)
    return r;
  if (types != NULL)
    {
      va_start (ap, types);
      r = sd_bus_message_appendv (reply, types, ap);
      va_end (ap);
      if (r < 0)
        return r;
    }
  return qmgr_bus_send_reply (call, reply);
}

static void
on_batch_begin (gpointer user_data)
{
  QmgrBus *bus = user_data;

  g_assert (dispatching == NULL);
  dispatching = bus;
  qmgr_manager_begin_batch (bus->manager);
}

/* A burst of requests (big AddFiles, many signals queued at once) raises the
 * heap's high-water mark; the blocks are freed, but one still in use near the
 * top keeps glibc from giving the pages back, and RSS stays up for good.
 * Once no request has come for TRIM_AFTER_S, the free pages are returned (one
 * wake-up after a burst; none while idle). */
#define TRIM_AFTER_S 5

static gboolean
on_trim_due (gpointer user_data)
{
  QmgrBus *bus = user_data;
  gint64 quiet_us = g_get_monotonic_time () - bus->last_activity;
  struct mallinfo2 heap;

  if (quiet_us < TRIM_AFTER_S * G_USEC_PER_SEC)
    {
      /* Requests came meanwhile: wait for the rest of a quiet period. */
      guint wait_ms = (guint) ((TRIM_AFTER_S * G_USEC_PER_SEC - quiet_us) / 1000) + 1;
      bus->trim_source = g_timeout_add (wait_ms, on_trim_due, bus);
      return G_SOURCE_REMOVE;
    }
  bus->trim_source = 0;
  malloc_trim (0);
  /* What the heap holds, for whoever watches memory (tests/fuzz reads it):
   * bytes in use cannot be told from RSS, which also counts the free pages a
   * block still in use keeps resident. In use includes the blocks big enough
   * to be mapped on their own (M_MMAP_THRESHOLD, main.c). */
  heap = mallinfo2 ();
  g_debug ("No requests for %d s: free heap pages returned to the system "
           "(heap: %zu KiB in use, %zu KiB free)", TRIM_AFTER_S,
           (heap.uordblks + heap.hblkhd) / 1024, heap.fordblks / 1024);
  return G_SOURCE_REMOVE;
}

static void
on_batch_end (gpointer user_data)
{
  QmgrBus *bus = user_data;
  g_autoptr(GError) error = NULL;
  gboolean durable = qmgr_manager_end_batch (bus->manager, &error);

  dispatching = NULL;
  /* Not durable: each call of the batch is answered with the error, and that is
   * all; the store has logged why (one failure, logged once). */
  /* What the model says now, durable or not: a later GetProp answers the same. */
  flush_queued_signals (bus);
  for (guint i = 0; i + 1 < bus->held->len; i += 2)
    {
      sd_bus_message *call = g_ptr_array_index (bus->held, i);
      sd_bus_message *reply = g_ptr_array_index (bus->held, i + 1);
      int r;

      if (durable)
        r = sd_bus_send (NULL, reply, NULL);
      else
        {
          g_auto(sd_bus_error) e = SD_BUS_ERROR_NULL;
          qmgr_bus_reply_error (&e, error);
          r = sd_bus_reply_method_error (call, &e);
        }
      if (r < 0)
        g_debug ("Could not send a reply: %s", g_strerror (-r));
    }
  g_ptr_array_set_size (bus->held, 0);
  if (bus->trim_source == 0)
    bus->trim_source = g_timeout_add (TRIM_AFTER_S * 1000, on_trim_due, bus);
}

/* ---- connection ---- */

static int
incoming_filter (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  QmgrBus *bus = userdata;

  bus->last_activity = g_get_monotonic_time ();
  /* Runs before the object tree: the one reply that could outgrow the bus. */
  return qmgr_bus_guard_managed_objects (bus, m);
}

static void
on_source_error (int error, gpointer user_data)
{
  QmgrBus *bus = user_data;

  g_warning ("Lost the D-Bus connection: %s", g_strerror (-error));
  if (bus->disconnect_handler != NULL)
    bus->disconnect_handler (bus->disconnect_data);
}

static gboolean
fail (GError **error, int r, const char *what)
{
  g_set_error (error, QMGR_ERROR, QMGR_ERROR_FAILED, "%s: %s", what, g_strerror (-r));
  return FALSE;
}

static gboolean
register_objects (QmgrBus *bus, GError **error)
{
  sd_bus *b = bus->bus;
  int r;

  r = sd_bus_add_object_vtable (b, NULL, QMGR_MANAGER_PATH, QMGR_MANAGER_INTERFACE,
                                qmgr_bus_manager_vtable, bus);
  if (r < 0)
    return fail (error, r, "Could not register the manager object");
  r = sd_bus_add_fallback_vtable (b, NULL, QMGR_GROUP_PATH_PREFIX, QMGR_GROUP_INTERFACE,
                                  qmgr_bus_group_vtable, qmgr_bus_group_find, bus);
  if (r < 0)
    return fail (error, r, "Could not register the group objects");
  r = sd_bus_add_fallback_vtable (b, NULL, QMGR_GROUP_PATH_PREFIX, QMGR_JOB_INTERFACE,
                                  qmgr_bus_job_vtable, qmgr_bus_job_find, bus);
  if (r < 0)
    return fail (error, r, "Could not register the job objects");
  r = sd_bus_add_node_enumerator (b, NULL, QMGR_GROUP_PATH_PREFIX, qmgr_bus_node_enumerator, bus);
  if (r < 0)
    return fail (error, r, "Could not register the object enumerator");
  r = sd_bus_add_object_manager (b, NULL, QMGR_MANAGER_PATH);
  if (r < 0)
    return fail (error, r, "Could not register the object manager");
  r = sd_bus_add_filter (b, NULL, incoming_filter, bus);
  if (r < 0)
    return fail (error, r, "Could not watch bus activity");
  return TRUE;
}

QmgrBus *
qmgr_bus_new (QmgrManager *manager, gboolean system_bus, GError **error)
{
  g_autoptr(QmgrBus) bus = g_new0 (QmgrBus, 1);
  int r;

  bus->manager = manager;
  bus->last_activity = g_get_monotonic_time ();
  bus->progress_pending = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  bus->held = g_ptr_array_new_with_free_func (unref_message);
  bus->queued = g_array_new (FALSE, FALSE, sizeof (QueuedSignal));
  g_array_set_clear_func (bus->queued, clear_queued_signal);
  bus->queued_by_path = g_hash_table_new (g_str_hash, g_str_equal);
  qmgr_bus_peers_init (bus);
  qmgr_bus_callbacks_init (bus);

  r = system_bus ? sd_bus_open_system (&bus->bus) : sd_bus_open_user (&bus->bus);
  if (r < 0)
    {
      fail (error, r, system_bus ? "Could not connect to the system bus"
                                 : "Could not connect to the session bus");
      return NULL;
    }
  r = qmgr_bus_peers_watch_departures (bus);
  if (r < 0)
    {
      fail (error, r, "Could not follow peers leaving the bus");
      return NULL;
    }
  if (!register_objects (bus, error))
    return NULL;

  bus->source = qmgr_sd_bus_source_new (bus->bus, on_source_error, bus);
  qmgr_sd_bus_source_set_batch_hooks (bus->source, on_batch_begin, on_batch_end, bus);
  g_source_attach (bus->source, g_main_context_get_thread_default ());
  qmgr_manager_add_listener (manager, &bus_listener, bus);
  /* Callbacks owed from before the restart. */
  for (GList *l = manager->groups.head; l != NULL; l = l->next)
    qmgr_bus_callbacks_kick (bus, l->data);
  return g_steal_pointer (&bus);
}

static int
on_name_reply (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  QmgrBus *bus = userdata;
  g_autoptr(GError) error = NULL;
  const sd_bus_error *e = sd_bus_message_get_error (reply);
  guint32 result = 0;

  if (e != NULL)
    error = g_error_new (QMGR_ERROR, QMGR_ERROR_FAILED, "Could not own %s: %s", QMGR_BUS_NAME,
                         e->message);
  else if (sd_bus_message_read (reply, "u", &result) < 0 ||
           (result != 1 /* PRIMARY_OWNER */ && result != 4 /* ALREADY_OWNER */))
    error = g_error_new (QMGR_ERROR, QMGR_ERROR_FAILED,
                         "Could not own %s: another instance is running", QMGR_BUS_NAME);
  if (bus->name_done != NULL)
    bus->name_done (error, bus->name_done_data);
  return 0;
}

void
qmgr_bus_request_name (QmgrBus *bus, void (*done) (const GError *error, gpointer user_data),
                       gpointer user_data)
{
  int r;

  bus->name_done = done;
  bus->name_done_data = user_data;
  /* Plain RequestName without queueing: a second daemon fails clearly. */
  r = sd_bus_call_method_async (bus->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus", "RequestName", on_name_reply, bus, "su",
                                QMGR_BUS_NAME, (guint32) 0x4 /* DO_NOT_QUEUE */);
  if (r < 0)
    {
      g_autoptr(GError) error = g_error_new (QMGR_ERROR, QMGR_ERROR_FAILED,
                                             "Could not ask for %s: %s", QMGR_BUS_NAME,
                                             g_strerror (-r));
      done (error, user_data);
    }
}

void
qmgr_bus_set_disconnect_handler (QmgrBus *bus, void (*handler) (gpointer user_data),
                                 gpointer user_data)
{
  bus->disconnect_handler = handler;
  bus->disconnect_data = user_data;
}

gint64
qmgr_bus_get_last_activity (QmgrBus *bus)
{
  return bus->last_activity;
}

void
qmgr_bus_free (QmgrBus *bus)
{
  if (bus == NULL)
    return;
  if (bus->manager != NULL)
    qmgr_manager_remove_listener (bus->manager, &bus_listener, bus);
  if (bus->source != NULL)
    {
      g_source_destroy (bus->source);
      g_source_unref (bus->source);
    }
  qmgr_bus_callbacks_clear (bus);
  qmgr_bus_peers_clear (bus);
  if (bus->progress_timer != 0)
    g_source_remove (bus->progress_timer);
  if (bus->trim_source != 0)
    g_source_remove (bus->trim_source);
  g_clear_pointer (&bus->progress_pending, g_hash_table_unref);
  g_clear_pointer (&bus->held, g_ptr_array_unref);
  g_clear_pointer (&bus->queued_by_path, g_hash_table_unref);
  g_clear_pointer (&bus->queued, g_array_unref);
  if (bus->bus != NULL)
    sd_bus_flush_close_unref (bus->bus);
  g_free (bus);
}
