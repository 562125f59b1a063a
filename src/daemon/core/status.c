/* qmgrd core — the values derived from a group's state, in one place: the
 * group's and the job's status bits (docs/dbus-api.md, "Status values"),
 * WaitReason, and the TransferPolicy in effect. */
#include "core-private.h"

#include "qmgr-constants.h"

guint32
qmgr_group_get_status (QmgrGroup *g)
{
  static const guint32 bits[] = {
    [QMGR_GROUP_STATE_SUSPENDED] = QMGR_STATUS_GROUP_SUSPENDED | QMGR_STATUS_GROUP_INCOMPLETE,
    [QMGR_GROUP_STATE_QUEUED] = QMGR_STATUS_GROUP_INCOMPLETE,
    [QMGR_GROUP_STATE_ERROR] = QMGR_STATUS_GROUP_ERROR | QMGR_STATUS_GROUP_SUSPENDED |
                               QMGR_STATUS_GROUP_INCOMPLETE,
    [QMGR_GROUP_STATE_COMPLETE] = QMGR_STATUS_GROUP_COMPLETE | QMGR_STATUS_GROUP_SUSPENDED,
  };

  return bits[g->state] | (g->foreground ? QMGR_STATUS_GROUP_FOREGROUND : 0);
}

guint32
qmgr_job_get_status (QmgrJob *j)
{
  static const guint32 bits[] = {
    [QMGR_GROUP_STATE_SUSPENDED] = QMGR_STATUS_JOB_INCOMPLETE,
    [QMGR_GROUP_STATE_QUEUED] = QMGR_STATUS_JOB_INCOMPLETE,
    [QMGR_GROUP_STATE_ERROR] = QMGR_STATUS_JOB_ERROR | QMGR_STATUS_JOB_INCOMPLETE,
    [QMGR_GROUP_STATE_COMPLETE] = QMGR_STATUS_JOB_COMPLETE,
  };

  return bits[j->group->state] | (j->group->foreground ? QMGR_STATUS_JOB_FOREGROUND : 0);
}

const char *
qmgr_group_get_wait_reason (QmgrGroup *g)
{
  static const char *const state_reasons[] = {
    [QMGR_GROUP_STATE_SUSPENDED] = "suspended",
    [QMGR_GROUP_STATE_QUEUED] = NULL,
    [QMGR_GROUP_STATE_ERROR] = "error",
    [QMGR_GROUP_STATE_COMPLETE] = "complete",
  };
  static const char *const run_reasons[] = {
    [QMGR_RUN_QUEUED] = "queued",
    [QMGR_RUN_TRANSFERRING] = "transferring",
    [QMGR_RUN_METERED] = "metered",
    [QMGR_RUN_OFFLINE] = "offline",
    [QMGR_RUN_CAPTIVE_PORTAL] = "captive-portal",
    [QMGR_RUN_RETRYING] = "retrying",
  };

  if (g->state != QMGR_GROUP_STATE_QUEUED)
    return state_reasons[g->state];
  return run_reasons[g->run_state];
}

guint32
qmgr_group_get_effective_transfer_policy (QmgrGroup *g)
{
  if (g->transfer_policy != 0)
    return g->transfer_policy;
  return g->foreground ? QMGR_TRANSFER_POLICY_ALWAYS : QMGR_TRANSFER_POLICY_UNRESTRICTED;
}
