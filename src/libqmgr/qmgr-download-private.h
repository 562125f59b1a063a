/* libqmgr — private: the QmgrDownload instance, shared by the object
 * (qmgr-download.c) and its run (qmgr-download-run.c). */
#pragma once

#include "qmgr.h"

typedef enum {
  STEP_MANAGER,
  STEP_CREATE_GROUP,
  STEP_GROUP_PROXY,
  STEP_DISPLAY_NAME,
  STEP_POLICY,
  STEP_CREATE_JOB,
  STEP_JOB_PROXY,
  STEP_ADD_FILES,
  STEP_FOREGROUND,
  STEP_RESUME,
  STEP_WAIT,
  STEP_FINISHING,
  STEP_DONE,
} Step;

struct _QmgrDownload {
  GObject parent_instance;

  GDBusConnection *connection;
  GPtrArray *urls;
  GPtrArray *paths;
  char *display_name;
  guint transfer_policy;
  gboolean foreground;
  gboolean remove_when_complete;

  Step step;
  GTask *task;            /* the run, while it runs */
  GError *pending_error;  /* the run's error, while the unstarted group is removed */
  GSource *cancel_source; /* watches the run's cancellable while waiting */
  gboolean resumed;       /* from here on, the group is left alone on cancel */
  QmgrManager *manager;
  QmgrGroup *group;
  QmgrJob *job;
  char *group_path;
  char *job_path;
  char *group_id;
  gulong properties_handler;
  gulong owner_handler;
  guint removed_subscription;
};

enum {
  PROP_0,
  PROP_CONNECTION,
  PROP_DISPLAY_NAME,
  PROP_TRANSFER_POLICY,
  PROP_FOREGROUND,
  PROP_REMOVE_WHEN_COMPLETE,
  PROP_GROUP_ID,
  PROP_GROUP,
  PROP_JOB,
  PROP_STATUS,
  PROP_WAIT_REASON,
  PROP_BYTES_TRANSFERRED,
  PROP_BYTES_TOTAL,
  PROP_FILES_TRANSFERRED,
  PROP_FILES_TOTAL,
  PROP_RESUMED,
  N_PROPS
};

enum {
  SIGNAL_PROGRESS,
  SIGNAL_COMPLETED,
  SIGNAL_FAILED,
  N_SIGNALS
};

G_GNUC_INTERNAL extern GParamSpec *qmgr_download_props[N_PROPS];
G_GNUC_INTERNAL extern guint qmgr_download_signals[N_SIGNALS];

G_GNUC_INTERNAL void qmgr_download_stop_watching (QmgrDownload *self);
