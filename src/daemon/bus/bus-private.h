/* qmgrd bus — shared between the files of the bus layer. */
#pragma once

#include "bus.h"
#include "bus-vtable.h"
#include "qmgr-dbus-names.h"
#include "qmgr-log.h"
#include "qmgr-sd-bus-cleanup.h"

G_BEGIN_DECLS

struct _QmgrBus {
  sd_bus *bus;
  QmgrManager *manager;
  GSource *source;
  GHashTable *peers;           /* unique name → Peer (peers.c) */
  guint64 peers_clock;
  sd_bus_slot *departures;     /* NameOwnerChanged of any name left (peers.c) */
  gint64 last_activity;
  void (*disconnect_handler) (gpointer user_data);
  gpointer disconnect_data;
  void (*name_done) (const GError *error, gpointer user_data);
  gpointer name_done_data;
  GHashTable *deliveries;      /* QmgrGroup* → Delivery* (callbacks.c) */
  GHashTable *progress_pending; /* QmgrGroup* → PendingProgress*: throttled changes */
  guint progress_timer;
  guint trim_source;           /* returning freed heap pages after requests */
  GPtrArray *held;             /* sd_bus_message*: call, reply, call, reply, … */
  GArray *queued;              /* QueuedSignal: signals waiting for the batch's end */
  GHashTable *queued_by_path;  /* object path → index in queued */
};

/* Object paths are computed from the GUIDs (whose hex is a valid path
 * element as it is): "/io/github/qmgrd/QMgr1/group/<G>[/job/<J>]". */
typedef struct {
  char s[sizeof QMGR_GROUP_PATH_PREFIX "/" "/job/" + 2 * QMGR_GUID_HEX_LEN];
} QmgrObjectPath;

const char *qmgr_bus_group_path (const QmgrGroup *group, QmgrObjectPath *path);
const char *qmgr_bus_job_path (const QmgrJob *job, QmgrObjectPath *path);
/* The group's job, or "/" (the null object path) without one. */
const char *qmgr_bus_job_path_of (const QmgrGroup *group, QmgrObjectPath *path);

extern const sd_bus_vtable qmgr_bus_manager_vtable[];
extern const sd_bus_vtable qmgr_bus_group_vtable[];
extern const sd_bus_vtable qmgr_bus_job_vtable[];

int qmgr_bus_group_find (sd_bus *bus, const char *path, const char *interface, void *userdata,
                         void **found, sd_bus_error *error);
int qmgr_bus_job_find (sd_bus *bus, const char *path, const char *interface, void *userdata,
                       void **found, sd_bus_error *error);
int qmgr_bus_node_enumerator (sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
                              sd_bus_error *error);

/* Replies to @call. Inside a dispatch the reply waits until the changes made
 * by the dispatch's calls are durable (one flush for all of them), and becomes
 * an error if they could not be made so. Only from a method handler. */
int qmgr_bus_reply (sd_bus_message *call, const char *types, ...);
/* The bus whose message a handler is answering (only inside a dispatch). */
QmgrBus *qmgr_bus_current (void);
int qmgr_bus_send_reply (sd_bus_message *call, sd_bus_message *reply);

/* Sets @ret_error from a QMGR_ERROR: its D-Bus name, and the message with the
 * HRESULT appended ("… [0x81001001]"). Returns the negative errno sd-bus wants. */
int qmgr_bus_reply_error (sd_bus_error *ret_error, const GError *error);
/* The same for an error made here in the bus layer. */
int qmgr_bus_reply_errorf (sd_bus_error *ret_error, int code, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

/* Arguments sd-bus would not read (e.g. a string sd-bus deems invalid UTF-8):
 * InvalidArgs, in the contract's form, rather than sd-bus's own error. */
int qmgr_bus_reply_bad_arguments (sd_bus_error *ret_error, int r);

/* The caller's effective uid, asked of the bus once per peer and cached until
 * the peer leaves. */
int qmgr_bus_peers_get_uid (QmgrBus *bus, sd_bus_message *m, uid_t *uid,
                            sd_bus_error *ret_error);
/* Makes sure the peer's departure is noticed (live callback pointers);
 * -ENOBUFS when too many peers are watched already. */
int qmgr_bus_peers_track (QmgrBus *bus, const char *unique_name);
/* The peer is known to have left (a call to it found no owner). */
void qmgr_bus_peers_forget (QmgrBus *bus, const char *unique_name);
/* Follows connections leaving the bus (one match rule), to empty the cache. */
int qmgr_bus_peers_watch_departures (QmgrBus *bus);
void qmgr_bus_peers_init (QmgrBus *bus);
void qmgr_bus_peers_clear (QmgrBus *bus);

/* GetManagedObjects is refused (LimitsExceeded) rather than built when its
 * reply for the caller could pass what a bus carries (bus-limits.c): returns
 * 1 when it answered @m, 0 to let sd-bus answer. */
int qmgr_bus_guard_managed_objects (QmgrBus *bus, sd_bus_message *m);
/* An upper bound of that reply's size for @caller. */
guint64 qmgr_bus_managed_objects_bound (QmgrBus *bus, uid_t caller);

/* Callback deliveries and live callback pointers (callbacks.c). */
void qmgr_bus_callbacks_init (QmgrBus *bus);
void qmgr_bus_callbacks_clear (QmgrBus *bus);
/* SetNotificationPointer: @path "/" clears the group's live pointer. */
void qmgr_bus_callbacks_set_live (QmgrBus *bus, QmgrGroup *group, const char *name,
                                  const char *path);
/* A peer left the bus: its live pointers go. */
void qmgr_bus_callbacks_forget_peer (QmgrBus *bus, const char *unique_name);
void qmgr_bus_callbacks_kick (QmgrBus *bus, QmgrGroup *group);
void qmgr_bus_callbacks_progress (QmgrBus *bus, QmgrGroup *group);
void qmgr_bus_callbacks_forget_group (QmgrBus *bus, QmgrGroup *group);

/* Reads a variant argument into a GVariant when it holds a basic type; *@type
 * receives its signature either way (for error messages). */
int qmgr_bus_read_variant (sd_bus_message *m, GVariant **value, char **type);

/* ---- logging (bus-log.c) ----
 *
 * A message about a group carries QMGR_GROUP_ID, and QMGR_JOB_ID when a job is
 * concerned (@job may be NULL): qmgr_bus_log (G_LOG_LEVEL_WARNING, group, job, …).
 * Other messages use g_warning() and friends. */
static inline const char *
qmgr_bus_job_id (const QmgrJob *job)
{
  return job != NULL ? job->id_str : NULL;
}

#define qmgr_bus_log_ids(level, group_id, job_id, ...) \
  qmgr_log ((level), (group_id), (job_id), __VA_ARGS__)
#define qmgr_bus_log(level, group, job, ...)                                              \
  qmgr_bus_log_ids ((level), (group)->id_str, qmgr_bus_job_id (job), __VA_ARGS__)

/* The dashed GUIDs an object path names: FALSE when it is not a group's or a
 * job's path; @job_id "" for a group's. */
gboolean qmgr_bus_ids_from_path (const char *path, char group_id[QMGR_GUID_STRING_LEN + 1],
                                 char job_id[QMGR_GUID_STRING_LEN + 1]);

G_END_DECLS
