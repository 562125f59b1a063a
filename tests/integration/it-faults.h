/* qmgrd integration tests — one file of one group served by the fault-injecting
 * test server, and the assertions on where it ends (complete and byte-exact,
 * retrying, or failed), shared by test-faults (R2) and test-hostile-server (R10). */
#pragma once

#include "it-util.h"
#include "qmgr-test-server.h"

G_BEGIN_DECLS

#define GROUP QMGR_TEST_GROUP_IFACE
#define JOB QMGR_TEST_JOB_IFACE
#define DEADLINE_MS 20000
#define NO_FILE 0xFFFFFFFFu
#define ANY G_MAXUINT32   /* a code the test does not check */
#define TRANSFER_ERROR(name) "io.github.qmgrd.QMgr1.Transfer." name

#define SIZE (256 * 1024)
#define PARTIAL (96 * 1024)
#define LM1 G_GINT64_CONSTANT (1700000000)      /* Tue, 14 Nov 2023 22:13:20 GMT */
#define LM1_HTTP "Tue, 14 Nov 2023 22:13:20 GMT"
#define LM2 G_GINT64_CONSTANT (1700003600)

typedef struct {
  QmgrTestDaemon *d;
  QmgrTestServer *server;
  ItRecorder *rec;
  ItGroup *g;
  char *route;
  char *dest;
  char *temp;
  GBytes *content;     /* what the server serves at route */
} Case;

typedef struct {
  guint32 status, win32, transport, retries;
} JobStatus;

typedef struct {
  guint32 index, status, retries, win32, transport;
  guint position;
} OnStatus;

void case_free (Case *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Case, case_free)

Case *case_new_full (ItFixture *f, const char *route, gsize content_size, guint32 seed,
                     const char *etag, gint64 last_modified, const char *url);

Case *case_new (ItFixture *f, const char *route, const char *etag, gint64 last_modified);

void case_replace_content (Case *c, GBytes *content, const char *etag, gint64 last_modified);

void set_fault (Case *c, QmgrTestFaultKind kind, guint64 param, guint times);

void set_status_fault (Case *c, guint status, guint retry_after, guint times);

void clear_fault (Case *c);

void resume (Case *c);

char *last_header (Case *c, const char *name);

guint requests (Case *c);

JobStatus job_get_status (Case *c);

char *job_last_error_name (Case *c);

char *wait_reason (Case *c);

gboolean name_in (const char *name, const char *const *names);

gboolean find_on_status (Case *c, guint32 index, guint32 status_mask, guint32 status_value,
                         OnStatus *out);

gboolean wait_on_status (Case *c, guint32 index, guint32 mask, guint32 value);

gboolean saw_change (Case *c, const char *path, const char *iface, const char *prop,
                     gboolean (*match) (GVariant *, gconstpointer), gconstpointer data);

/* For saw_change: a LastError value named one of @data (a NULL-terminated array). */
gboolean error_named (GVariant *v, gconstpointer data);

void assert_transient_signals (Case *c, const char *const *names);

guint32 assert_retrying (Case *c, const char *const *names, guint32 win32, guint32 transport);

void assert_retries_grow (Case *c, guint32 from);

void assert_no_temp_files (const char *path);

void assert_file_equals (const char *path, GBytes *expected);

void assert_dest_untouched (Case *c, const char *old);

void assert_complete (Case *c, GBytes *expected, gint64 mtime);

void assert_fatal (Case *c, const char *name, guint32 win32, guint32 transport);

void assert_temp_is_prefix (Case *c, GBytes *content);

void make_partial (Case *c, gsize bytes);

void assert_resumed_from (Case *c, gsize offset, const char *if_range);

void assert_not_ranged (Case *c);

G_END_DECLS
