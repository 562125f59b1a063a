/* qmgrd unit tests — shared fixtures: a controllable clock, a listener that
 * records every core event, fake store hooks that can be told to fail, and a fake
 * destination check. No bus, no network, no real files. */
#pragma once

#include <glib.h>

#include "core-private.h"   /* the core's own tests look inside */
#include "dummy-clock.h"
#include "manager.h"
#include "qmgr-constants.h"
#include "qmgr-error.h"

G_BEGIN_DECLS

#define UNIT_OWNER   1000u
#define UNIT_OTHER   1001u

#define GUID_A "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
#define GUID_B "6fa459ea-ee8a-3ca4-894e-db77e160355e"
#define GUID_C "0f8fad5b-d9cb-469f-a165-70867728950e"
#define GUID_D "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define GUID_E "e7a4c5f2-9b1d-4a6e-8c3f-2d5b7a9e1c04"

/* The clock the managers of these tests see: a DummyClock tests move by hand. */
QmgrClock *unit_clock (void);
DummyClock *unit_dummy_clock (void);
#define unit_now (qmgr_clock_wall (unit_clock ()))
void unit_clock_advance (gint64 usec);

/* A session-mode manager on the test clock; a 0 quota keeps the default. */
/* The GUID of a valid GUID string. */
QmgrGuid unit_guid (const char *text);

QmgrManager *unit_manager_new (guint max_groups_per_owner, guint max_files_per_job);
QmgrManager *unit_manager_new_system (void);

QmgrGroup *unit_create_group (QmgrManager *manager, const char *id, uid_t owner);
QmgrJob *unit_create_job (QmgrGroup *group, const char *id);
/* Adds @n files with destinations unique to this process. */
void unit_add_files (QmgrJob *job, guint n);
/* A unique destination path (owned by the caller). */
char *unit_unique_path (void);
/* Completes every incomplete file with @size bytes. */
void unit_complete_all (QmgrJob *job, guint64 size);
/* A group with a job of @n_files files, resumed when @resume. */
QmgrGroup *unit_group_with_files (QmgrManager *manager, const char *id, uid_t owner,
                                  guint n_files, gboolean resume);

guint32 unit_get_u32_prop (QmgrGroup *group, guint32 prop_id);
char *unit_get_string_prop (QmgrGroup *group, guint32 prop_id);

/* ---- events ---- */

typedef enum {
  EV_GROUP_ADDED,
  EV_GROUP_REMOVING,
  EV_GROUP_CHANGED,
  EV_JOB_ADDED,
  EV_JOB_REMOVING,
  EV_JOB_CHANGED,
  EV_GROUP_RUNNABLE,
  EV_GROUP_STOPPED,
  EV_MANAGER_CHANGED,
} UnitEventType;

typedef struct {
  UnitEventType type;
  gconstpointer object;
  guint mask;
  /* For removing events: could the object still be looked up by its GUID? */
  gboolean lookup_ok;
  char id[QMGR_GUID_STRING_LEN + 1];
} UnitEvent;

typedef struct {
  QmgrManager *manager;
  GArray *events;   /* UnitEvent */
} UnitRecorder;

UnitRecorder *unit_recorder_new (QmgrManager *manager);
void unit_recorder_free (UnitRecorder *recorder);
void unit_recorder_clear (UnitRecorder *recorder);
guint unit_recorder_total (UnitRecorder *recorder);
guint unit_recorder_count (UnitRecorder *recorder, UnitEventType type);
/* OR of the masks of every *_changed event of @object. */
guint unit_recorder_changes (UnitRecorder *recorder, UnitEventType type, gconstpointer object);
/* The @nth event of @type, or NULL. */
const UnitEvent *unit_recorder_nth (UnitRecorder *recorder, UnitEventType type, guint nth);
/* Index of the first event of @type in recording order, or -1. */
int unit_recorder_index (UnitRecorder *recorder, UnitEventType type);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UnitRecorder, unit_recorder_free)

/* ---- fake store ---- */

typedef struct {
  gboolean fail_save;
  gboolean fail_delete;
  gboolean fail_settings;
  guint saves;
  guint deletes;
  guint settings_saves;
  const QmgrGroup *last_saved;
  /* When set: how many events it had recorded at the last successful save. */
  UnitRecorder *recorder;
  guint events_at_last_save;
} UnitFakeStore;

extern const QmgrStoreHooks unit_fake_store_hooks;

/* ---- fake destination check ---- */

typedef struct {
  guint calls;
  uid_t last_owner;
  const char *deny_prefix;      /* paths under it: ACCESS_DENIED */
  const char *invalid_prefix;   /* paths under it: INVALID_ARGS (a directory, say) */
} UnitFakeDestination;

gboolean unit_fake_destination_check (uid_t owner, const char *path, gpointer user_data,
                                      GError **error);

G_END_DECLS
