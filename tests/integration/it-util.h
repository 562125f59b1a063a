/* qmgrd integration tests — helpers shared by the test programs on top of the harness:
 * object paths from GUIDs, property access, a signal recorder that waits with a
 * deadline, and a loopback black hole (real HTTP servers: qmgr-test-server.h). */
#pragma once

#include "qmgr-test-harness.h"

G_BEGIN_DECLS

#define IT_STATUS_GROUP_COMPLETE   0x40u
#define IT_STATUS_GROUP_INCOMPLETE 0x80u
#define IT_STATUS_GROUP_SUSPENDED  0x100u
#define IT_STATUS_GROUP_ERROR      0x200u
#define IT_STATUS_GROUP_FOREGROUND 0x400u
#define IT_STATUS_JOB_COMPLETE     0x4u
#define IT_STATUS_JOB_INCOMPLETE   0x8u
#define IT_STATUS_JOB_ERROR        0x10u
#define IT_STATUS_JOB_FOREGROUND   0x20u
#define IT_STATUS_FILE_COMPLETE    0x1u
#define IT_STATUS_FILE_INCOMPLETE  0x2u

#define IT_ERR_INVALID_STATE  "io.github.qmgrd.QMgr1.Error.InvalidState"
#define IT_ERR_ITEM_NOT_FOUND "io.github.qmgrd.QMgr1.Error.ItemNotFound"
#define IT_ERR_INVALID_ARGS   "org.freedesktop.DBus.Error.InvalidArgs"
#define IT_ERR_NOT_SUPPORTED  "org.freedesktop.DBus.Error.NotSupported"
#define IT_ERR_ACCESS_DENIED  "org.freedesktop.DBus.Error.AccessDenied"
#define IT_ERR_LIMITS         "org.freedesktop.DBus.Error.LimitsExceeded"
#define IT_ERR_UNKNOWN_OBJECT "org.freedesktop.DBus.Error.UnknownObject"
#define IT_ERR_PROPERTY_READ_ONLY "org.freedesktop.DBus.Error.PropertyReadOnly"
#define IT_ERR_UNKNOWN_PROPERTY "org.freedesktop.DBus.Error.UnknownProperty"

#define IT_TRANSFER_POLICY_CAPPED_ONLY 0x80000002u /* blocks every transfer while UNRESTRICTED */

/* Every test program: g_test_init + common options. */
void it_init (int *argc, char ***argv);

/* A fixture: a started daemon (extra args may be NULL). */
typedef struct {
  QmgrTestDaemon *d;
} ItFixture;
void it_fixture_setup (ItFixture *f, gconstpointer extra_args);
void it_fixture_teardown (ItFixture *f, gconstpointer extra_args);
#define it_add(name, func) \
  g_test_add ((name), ItFixture, NULL, it_fixture_setup, (func), it_fixture_teardown)
#define it_add_with_args(name, args, func) \
  g_test_add ((name), ItFixture, (args), it_fixture_setup, (func), it_fixture_teardown)

/* "1b4e28ba-2fa1-…" (any accepted form) → 32 lowercase hex digits. */
char *it_guid_hex (const char *guid);
char *it_group_path (const char *guid);
char *it_job_path (const char *group_guid, const char *job_guid);
/* A fresh random GUID in the dashed lowercase form. */
char *it_new_guid (void);
gboolean it_is_v4_guid (const char *guid);

/* A created group (and optionally its job), GUIDs chosen by the test. */
typedef struct {
  char *id;
  char *path;
  char *job_id;       /* NULL without a job */
  char *job_path;
} ItGroup;
ItGroup *it_group_create (QmgrTestDaemon *d, gboolean with_job);
void it_group_create_job (QmgrTestDaemon *d, ItGroup *g);
void it_group_free (ItGroup *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ItGroup, it_group_free)

/* Calls asserting success; the reply is returned (unref it) or dropped. */
GVariant *it_call_ok (QmgrTestDaemon *d, const char *path, const char *iface,
                      const char *method, GVariant *params, const char *reply_type);
void it_call_void (QmgrTestDaemon *d, const char *path, const char *iface, const char *method,
                   GVariant *params);

/* org.freedesktop.DBus.Properties: Get (unboxed value), Set, GetAll (a{sv}). */
GVariant *it_get_property (QmgrTestDaemon *d, const char *path, const char *iface,
                           const char *name);
gboolean it_set_property (QmgrTestDaemon *d, const char *path, const char *iface,
                          const char *name, GVariant *value, GError **error);
GVariant *it_get_all (QmgrTestDaemon *d, const char *path, const char *iface);
guint32 it_get_u (QmgrTestDaemon *d, const char *path, const char *iface, const char *name);
guint64 it_get_t (QmgrTestDaemon *d, const char *path, const char *iface, const char *name);
char *it_get_s (QmgrTestDaemon *d, const char *path, const char *iface, const char *name);

guint32 it_group_status (QmgrTestDaemon *d, const char *group_path);
guint32 it_job_status (QmgrTestDaemon *d, const char *job_path);

/* Group.GetProp / SetProp. */
GVariant *it_getprop (QmgrTestDaemon *d, const char *group_path, guint32 id, GError **error);
gboolean it_setprop (QmgrTestDaemon *d, const char *group_path, guint32 id, GVariant *value,
                     GError **error);

/* Job.AddFiles with one file. */
gboolean it_add_file (QmgrTestDaemon *d, const char *job_path, const char *url,
                      const char *local_path, guint64 size_hint, GError **error);
/* files_dir/name (caller frees). */
char *it_file (QmgrTestDaemon *d, const char *name);

/* Resumes a group whose job has files, with a TransferPolicy that the (unrestricted)
 * network never allows: the group is queued (0x80) and nothing moves. */
void it_resume_blocked (QmgrTestDaemon *d, const char *group_path);

/* Checks @cond every @interval_ms, the main context running meanwhile, until it
 * holds or @timeout_ms passed; returns its last value. For what no event
 * announces: the test server counts on a thread of its own, files appear. */
gboolean it_poll_until (gboolean (*cond) (gpointer), gpointer user_data, guint interval_ms,
                        guint timeout_ms);
/* Sets a u property of the group's interface; asserts it worked. */
void it_set_group_u (QmgrTestDaemon *d, ItGroup *g, const char *name, guint32 value);
/* Waits until the property reads @expected (deadline @timeout_ms). */
gboolean it_wait_property (QmgrTestDaemon *d, const char *path, const char *iface,
                           const char *name, GVariant *expected, guint timeout_ms);

/* Records every signal the daemon's objects emit on the harness connection. */
typedef struct {
  char *path;
  char *iface;
  char *member;
  GVariant *params;
} ItSignal;

typedef struct {
  QmgrTestDaemon *d;
  GDBusConnection *connection;
  guint subscription;
  GPtrArray *signals;   /* ItSignal* */
} ItRecorder;

ItRecorder *it_recorder_new (QmgrTestDaemon *d);
void it_recorder_free (ItRecorder *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ItRecorder, it_recorder_free)
/* Makes every signal the daemon sent before now visible (a Ping round trip). */
void it_recorder_sync (ItRecorder *r);
void it_recorder_clear (ItRecorder *r);
/* The first recorded signal matching (NULL = any), waiting up to @timeout_ms. */
ItSignal *it_recorder_wait (ItRecorder *r, const char *path, const char *iface,
                            const char *member, guint timeout_ms);
/* Waits for PropertiesChanged on @path/@iface carrying @prop (with @expected when
 * non-NULL and the value is sent; invalidation counts too). */
gboolean it_recorder_wait_property (ItRecorder *r, const char *path, const char *iface,
                                    const char *prop, GVariant *expected, guint timeout_ms);
/* Whether any PropertiesChanged recorded so far mentions @prop. */
gboolean it_recorder_saw_property (ItRecorder *r, const char *path, const char *iface,
                                   const char *prop);
guint it_recorder_count (ItRecorder *r, const char *path, const char *iface,
                         const char *member);
/* How many PropertiesChanged recorded so far carry @prop (with @expected when
 * non-NULL and the value is sent). */
guint it_recorder_count_property (ItRecorder *r, const char *path, const char *iface,
                                  const char *prop, GVariant *expected);

/* A client's Callback object (register it with it_callback_log_vtable and the
 * log as user data): records every call and answers it at once. */
typedef struct {
  GPtrArray *calls;   /* GVariant* "(s@*)": member name and parameters */
} ItCallbackLog;

extern const GDBusInterfaceVTable it_callback_log_vtable;

/* For g_bus_own_name_on_connection (@flag: a gboolean), and a condition that
 * waits for it. */
void it_name_acquired (GDBusConnection *connection, const char *name, gpointer flag);
gboolean it_flag_is_set (gpointer flag);

/* A loopback socket that listens but never accepts: transfers to it stall. */
typedef struct ItBlackhole ItBlackhole;
ItBlackhole *it_blackhole_new (void);
char *it_blackhole_url (ItBlackhole *b, const char *path);
void it_blackhole_free (ItBlackhole *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ItBlackhole, it_blackhole_free)

/* Asserts the message of @error (still set) mentions @needle, case-insensitively. */
void it_assert_message_contains_impl (const GError *error, const char *needle,
                                      const char *file, int line);
#define it_assert_message_contains(error, needle) \
  it_assert_message_contains_impl ((error), (needle), __FILE__, __LINE__)

/* NULL when @a equals @b, else where and how they first differ ("[2][4]{Status}: 384 ≠ 128"). */
char *it_variant_diff (GVariant *a, GVariant *b);

/* Whether @haystack contains @needle. */
gboolean it_contains (const char *haystack, const char *needle);
/* A string of @n copies of @unit. */
char *it_repeat (const char *unit, guint n);

G_END_DECLS
