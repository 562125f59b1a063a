/* qmgrctl — what the verbs share: the connection and output settings, the
 * exit codes, resolving a group by GUID or display name, and formatting. */
#pragma once

#include <json-glib/json-glib.h>
#include <qmgr.h>

#include <glib/gi18n.h>

G_BEGIN_DECLS

/* The exit codes, documented in qmgrctl(1). */
typedef enum {
  QMGRCTL_EXIT_OK = 0,
  QMGRCTL_EXIT_FAILURE = 1,      /* anything not listed below */
  QMGRCTL_EXIT_USAGE = 2,        /* bad options or arguments, an ambiguous name */
  QMGRCTL_EXIT_NOT_FOUND = 3,    /* no such group, job or file */
  QMGRCTL_EXIT_REFUSED = 4,      /* qmgrd refused a value (InvalidArgs, NotSupported) */
  QMGRCTL_EXIT_DENIED = 5,       /* AccessDenied, InteractiveAuthorizationRequired */
  QMGRCTL_EXIT_STATE = 6,        /* InvalidState: not possible in the group's state */
  QMGRCTL_EXIT_QUOTA = 7,        /* LimitsExceeded */
  QMGRCTL_EXIT_UNAVAILABLE = 8,  /* qmgrd not running, not answering, shutting down */
  QMGRCTL_EXIT_TRANSFER = 9,     /* transfer: the download failed */
  QMGRCTL_EXIT_INTERRUPTED = 130 /* transfer: Ctrl-C; the group goes on */
} QmgrctlExit;

typedef struct {
  GDBusConnection *connection;
  QmgrManager *manager;
  gboolean json;
  gboolean system;
  gboolean tty;            /* stdout is a terminal */
} Qmgrctl;

typedef int (*QmgrctlVerbFunc) (Qmgrctl *ctl, int argc, char **argv, GError **error);

typedef struct {
  const char *name;
  QmgrctlVerbFunc run;
  const char *parameters;  /* translatable, for --help */
  const char *summary;     /* translatable */
  const GOptionEntry *entries;
} QmgrctlVerb;

/* Verbs (qmgrctl-*.c). Each returns an exit code, or -1 with @error set. */
int qmgrctl_create (Qmgrctl *ctl, int argc, char **argv, GError **error);
int qmgrctl_add (Qmgrctl *ctl, int argc, char **argv, GError **error);
int qmgrctl_resume (Qmgrctl *ctl, int argc, char **argv, GError **error);
int qmgrctl_suspend (Qmgrctl *ctl, int argc, char **argv, GError **error);
int qmgrctl_cancel (Qmgrctl *ctl, int argc, char **argv, GError **error);
int qmgrctl_info (Qmgrctl *ctl, int argc, char **argv, GError **error);
int qmgrctl_list (Qmgrctl *ctl, int argc, char **argv, GError **error);
int qmgrctl_files (Qmgrctl *ctl, int argc, char **argv, GError **error);
int qmgrctl_getprop (Qmgrctl *ctl, int argc, char **argv, GError **error);
int qmgrctl_setprop (Qmgrctl *ctl, int argc, char **argv, GError **error);
int qmgrctl_policy (Qmgrctl *ctl, int argc, char **argv, GError **error);
int qmgrctl_monitor (Qmgrctl *ctl, int argc, char **argv, GError **error);
int qmgrctl_transfer (Qmgrctl *ctl, int argc, char **argv, GError **error);

/* The verbs' own options, for their --help and parsing (qmgrctl-*.c). */
extern const GOptionEntry qmgrctl_create_entries[];
extern const GOptionEntry qmgrctl_policy_entries[];
extern const GOptionEntry qmgrctl_transfer_entries[];

/* A usage error (exit code 2). */
void qmgrctl_set_usage_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);
int qmgrctl_exit_code (const GError *error);

/* The manager proxy, made on first use. */
QmgrManager *qmgrctl_get_manager (Qmgrctl *ctl, GError **error);
/* A group by GUID or display name, its properties loaded. */
QmgrGroup *qmgrctl_find_group (Qmgrctl *ctl, const char *name_or_id, GError **error);
/* The group's job, its properties loaded; NULL with ItemNotFound when it has none. */
QmgrJob *qmgrctl_get_job (Qmgrctl *ctl, QmgrGroup *group, GError **error);
/* A call on a proxy, the error converted to the QMGR_CLIENT_ERROR domain. */
GVariant *qmgrctl_call (gpointer proxy, const char *method, GVariant *parameters,
                        GError **error);
gboolean qmgrctl_set_property (gpointer proxy, const char *interface, const char *name,
                               GVariant *value, GError **error);

/* "COMPLETE|SUSPENDED" for the bits of a GFlags type (nicks, upper case). */
char *qmgrctl_flags_to_string (GType flags_type, guint value);
JsonNode *qmgrctl_flags_to_json (GType flags_type, guint value);
/* "12.0 MiB"; "-" for @unknown. */
char *qmgrctl_format_size (guint64 bytes);
/* "1000 bytes/s", "none" for 0. */
char *qmgrctl_format_limit (guint64 bytes_per_second);
/* Local time, "-" for 0 (never). */
char *qmgrctl_format_time (guint64 usec);
JsonNode *qmgrctl_time_to_json (guint64 usec);
/* A transfer policy: the preset's name, or the mask in hex; "default" for 0. */
char *qmgrctl_format_policy (guint policy);
gboolean qmgrctl_parse_policy (const char *text, guint *policy, GError **error);
gboolean qmgrctl_parse_uint (const char *text, guint64 max, guint64 *value, GError **error);

/* "Label: value" lines, the labels aligned on their colon. */
typedef struct _QmgrctlFields QmgrctlFields;
QmgrctlFields *qmgrctl_fields_new (void);
void qmgrctl_fields_add (QmgrctlFields *fields, const char *label, const char *format, ...)
  G_GNUC_PRINTF (3, 4);
void qmgrctl_fields_print (QmgrctlFields *fields);
void qmgrctl_fields_free (QmgrctlFields *fields);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmgrctlFields, qmgrctl_fields_free)

/* Pretty JSON on stdout, with a final newline. */
void qmgrctl_print_json (JsonNode *node);

/* A destination on the command line made absolute and normalized; an
 * existing directory gets the URL's last path element appended. */
char *qmgrctl_destination (const char *url, const char *dest);

G_END_DECLS
