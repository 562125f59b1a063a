/* qmgrd core — the Manager: the set of groups, their identity, ownership, quotas,
 * the daemon-wide settings and the network state (IBackgroundCopyQMgr). */
#pragma once

#include "model.h"
#include "group.h"
#include "job.h"

G_BEGIN_DECLS

typedef struct {
  gboolean system_mode;
  guint max_groups_per_owner;
  guint max_files_per_job;
  guint64 max_files_per_owner;        /* across all of an owner's groups */
  guint64 max_string_bytes_per_owner; /* the group strings clients set, all groups */
  guint64 bandwidth_limit;
  guint64 metered_bandwidth_limit;
  guint max_concurrent_transfers;
} QmgrManagerSettings;

void qmgr_manager_settings_init_defaults (QmgrManagerSettings *settings, gboolean system_mode);

#define QMGR_DEFAULT_MINIMUM_RETRY_DELAY 60u
#define QMGR_MINIMUM_RETRY_DELAY_FLOOR   1u
#define QMGR_DEFAULT_NO_PROGRESS_TIMEOUT 1209600u
#define QMGR_MAX_CONCURRENT_TRANSFERS_MAX 256u
/* The quotas keep the largest reply the bus can ask for (ObjectManager's
 * GetManagedObjects, a single array of every group with its job, at most
 * 64 MiB in D-Bus) well inside the limit: about 2 KiB per group and job
 * besides the strings, so 20,000 groups and 16 MiB of strings at most. */
#define QMGR_MAX_GROUPS_PER_OWNER_MAX 20000u
#define QMGR_MAX_STRING_BYTES_PER_OWNER_MAX (G_GUINT64_CONSTANT (16) << 20)

/* What one owner holds, against the quotas. */
typedef struct {
  guint groups;
  guint64 files;
  guint64 string_bytes;       /* display names, descriptions, callback targets, credentials */
} QmgrOwnerUsage;

struct _QmgrManager {
  QmgrManagerSettings settings;
  QmgrNetworkState network;
  GQueue groups;               /* QmgrGroup*, in creation order */
  GHashTable *groups_by_id;    /* QmgrGuid* → QmgrGroup* */
  GHashTable *jobs_by_id;      /* QmgrGuid* → QmgrJob* */
  GHashTable *owners;          /* uid → QmgrOwnerUsage* */
  GHashTable *destinations;    /* "uid:path" → QmgrFile*, files of incomplete groups */
  guint64 next_seq;

  GArray *listeners;           /* ListenerEntry */
  const QmgrStoreHooks *store_hooks;
  gpointer store;
  QmgrDestinationCheck destination_check;
  gpointer destination_check_data;
  QmgrClock *clock;
};

QmgrManager *qmgr_manager_new (const QmgrManagerSettings *settings);
void qmgr_manager_free (QmgrManager *manager);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrManager, qmgr_manager_free)

void qmgr_manager_set_store (QmgrManager *manager, const QmgrStoreHooks *hooks, gpointer store);
/* Client calls handled together (one dispatch of the bus) share one flush:
 * between these two, saves need not be durable when they return; end_batch
 * makes every one of them durable and says whether that worked. Nestable. */
void qmgr_manager_begin_batch (QmgrManager *manager);
gboolean qmgr_manager_end_batch (QmgrManager *manager, GError **error);
/* Makes every save so far durable now (those saved soon included), inside a
 * batch too. */
gboolean qmgr_manager_sync_store (QmgrManager *manager, GError **error);
void qmgr_manager_set_destination_check (QmgrManager *manager, QmgrDestinationCheck check,
                                         gpointer user_data);
/* The wall clock of creation and modification times (default: the system's). */
void qmgr_manager_set_clock (QmgrManager *manager, QmgrClock *clock);
gint64 qmgr_manager_now (QmgrManager *manager);
void qmgr_manager_add_listener (QmgrManager *manager, const QmgrManagerListener *listener,
                                gpointer user_data);
void qmgr_manager_remove_listener (QmgrManager *manager, const QmgrManagerListener *listener,
                                   gpointer user_data);

/* "" generates a GUID. */
QmgrGroup *qmgr_manager_create_group (QmgrManager *manager, const char *group_id, uid_t caller,
                                      GError **error);
/* ItemNotFound when unknown or not visible to @caller. */
QmgrGroup *qmgr_manager_get_group (QmgrManager *manager, const char *group_id, uid_t caller,
                                   GError **error);
QmgrGroup *qmgr_manager_lookup_group (QmgrManager *manager, QmgrGuid id);
QmgrJob *qmgr_manager_lookup_job (QmgrManager *manager, QmgrGuid id);
/* NULL-terminated dashed GUIDs of the groups @caller sees, in creation order. */
char **qmgr_manager_enum_groups (QmgrManager *manager, guint32 flags, uid_t caller,
                                 GError **error);
gboolean qmgr_manager_group_visible (QmgrManager *manager, QmgrGroup *group, uid_t caller);
/* What @owner holds now (all zero for an owner without groups). */
QmgrOwnerUsage qmgr_manager_get_owner_usage (QmgrManager *manager, uid_t owner);
gboolean qmgr_manager_guid_in_use (QmgrManager *manager, QmgrGuid id);
/* TRUE while any group is queued (resumed and not finished). */
gboolean qmgr_manager_has_runnable_groups (QmgrManager *manager);

gboolean qmgr_manager_set_bandwidth_limit (QmgrManager *manager, guint64 limit, GError **error);
gboolean qmgr_manager_set_metered_bandwidth_limit (QmgrManager *manager, guint64 limit,
                                                   GError **error);
gboolean qmgr_manager_set_max_concurrent_transfers (QmgrManager *manager, guint32 value,
                                                    GError **error);
/* What the network monitor says; listeners hear NETWORK_COST_STATE and ONLINE
 * when they change (the scheduler also reacts to connectivity). */
void qmgr_manager_set_network (QmgrManager *manager, const QmgrNetworkState *state);
/* The bandwidth cap on background transfers now: BandwidthLimit, and
 * MeteredBandwidthLimit too while the network is not UNRESTRICTED (0: none). */
guint64 qmgr_manager_get_background_limit (QmgrManager *manager);

/* Cancels the groups that are complete, suspended or in error and have not
 * changed for @max_age_us; returns how many went. Queued groups never expire. */
guint qmgr_manager_expire_groups (QmgrManager *manager, gint64 max_age_us);

/* Used by the store when it restores groups at start-up: indexes a group it
 * built with qmgr_group_new() without saving it again or telling listeners. */
gboolean qmgr_manager_adopt_group (QmgrManager *manager, QmgrGroup *group, GError **error);

G_END_DECLS
