/* qmgrd — wire constants shared by the daemon, the client library and the tools.
 * Every value here is fixed by the D-Bus contract (docs/dbus-api.md); where QMGR
 * defines a value, the same number is used. */
#pragma once

#define QMGR_BUS_NAME           "io.github.qmgrd.QMgr1"
#define QMGR_MANAGER_PATH       "/io/github/qmgrd/QMgr1"
#define QMGR_GROUP_PATH_PREFIX  "/io/github/qmgrd/QMgr1/group"
#define QMGR_MANAGER_INTERFACE  "io.github.qmgrd.QMgr1.Manager"
#define QMGR_GROUP_INTERFACE    "io.github.qmgrd.QMgr1.Group"
#define QMGR_JOB_INTERFACE      "io.github.qmgrd.QMgr1.Job"
#define QMGR_CALLBACK_INTERFACE "io.github.qmgrd.QMgr1.Callback"
#define QMGR_TRANSFER_ERROR_PREFIX "io.github.qmgrd.QMgr1.Transfer."

/* Group status bits (QM_STATUS_GROUP_*) */
#define QMGR_STATUS_GROUP_COMPLETE   0x40u
#define QMGR_STATUS_GROUP_INCOMPLETE 0x80u
#define QMGR_STATUS_GROUP_SUSPENDED  0x100u
#define QMGR_STATUS_GROUP_ERROR      0x200u
#define QMGR_STATUS_GROUP_FOREGROUND 0x400u

/* Job status bits (QM_STATUS_JOB_*) */
#define QMGR_STATUS_JOB_COMPLETE   0x4u
#define QMGR_STATUS_JOB_INCOMPLETE 0x8u
#define QMGR_STATUS_JOB_ERROR      0x10u
#define QMGR_STATUS_JOB_FOREGROUND 0x20u

/* File status bits (QM_STATUS_FILE_*) */
#define QMGR_STATUS_FILE_COMPLETE   0x1u
#define QMGR_STATUS_FILE_INCOMPLETE 0x2u

/* GetProp/SetProp ids (GROUPPROP_*) */
typedef enum {
  QMGR_GROUPPROP_PRIORITY = 0,
  QMGR_GROUPPROP_REMOTEUSERID = 1,
  QMGR_GROUPPROP_REMOTEUSERPWD = 2,
  QMGR_GROUPPROP_LOCALUSERID = 3,
  QMGR_GROUPPROP_LOCALUSERPWD = 4,
  QMGR_GROUPPROP_PROTOCOLFLAGS = 5,
  QMGR_GROUPPROP_NOTIFYFLAGS = 6,
  QMGR_GROUPPROP_NOTIFYCLSID = 7,
  QMGR_GROUPPROP_PROGRESSSIZE = 8,
  QMGR_GROUPPROP_PROGRESSPERCENT = 9,
  QMGR_GROUPPROP_PROGRESSTIME = 10,
  QMGR_GROUPPROP_DISPLAYNAME = 11,
  QMGR_GROUPPROP_DESCRIPTION = 12,
} QmgrGroupProp;
#define QMGR_GROUPPROP_LAST QMGR_GROUPPROP_DESCRIPTION

/* Notify flags (QM_NOTIFY_*) */
#define QMGR_NOTIFY_FILE_DONE      0x1u
#define QMGR_NOTIFY_JOB_DONE       0x2u
#define QMGR_NOTIFY_GROUP_DONE     0x4u
#define QMGR_NOTIFY_DISABLE_NOTIFY 0x40u
#define QMGR_NOTIFY_USE_PROGRESSEX 0x80u
#define QMGR_NOTIFY_PROGRESS       0x100u
#define QMGR_NOTIFY_ALL_FLAGS      0x1c7u

/* Progress types (QM_PROGRESS_*) */
#define QMGR_PROGRESS_PERCENT_DONE 1u
#define QMGR_PROGRESS_TIME_DONE    2u
#define QMGR_PROGRESS_SIZE_DONE    3u

/* Protocols (QM_PROTOCOL_*) */
#define QMGR_PROTOCOL_HTTP   1u
#define QMGR_PROTOCOL_FTP    2u
#define QMGR_PROTOCOL_SMB    3u
#define QMGR_PROTOCOL_CUSTOM 4u

/* Network cost states (BITS_COST_STATE_*) */
#define QMGR_COST_STATE_UNRESTRICTED         0x1u
#define QMGR_COST_STATE_CAPPED_USAGE_UNKNOWN 0x2u
#define QMGR_COST_STATE_BELOW_CAP            0x4u
#define QMGR_COST_STATE_NEAR_CAP             0x8u
#define QMGR_COST_STATE_OVERCAP_CHARGED      0x10u
#define QMGR_COST_STATE_OVERCAP_THROTTLED    0x20u
#define QMGR_COST_STATE_USAGE_BASED          0x40u
#define QMGR_COST_STATE_ROAMING              0x80u
#define QMGR_COST_STATE_RESERVED             0x80000000u

/* TransferPolicy presets (BITS_COST_STATE_TRANSFER_*) */
#define QMGR_TRANSFER_POLICY_ALWAYS        0x800000FFu
#define QMGR_TRANSFER_POLICY_NOT_ROAMING   0x8000007Fu
#define QMGR_TRANSFER_POLICY_NO_SURCHARGE  0x8000006Fu
#define QMGR_TRANSFER_POLICY_STANDARD      0x80000067u
#define QMGR_TRANSFER_POLICY_UNRESTRICTED  0x80000021u

/* Special values on the wire */
#define QMGR_FILE_INDEX_NONE  0xFFFFFFFFu
#define QMGR_SIZE_UNKNOWN     G_MAXUINT64
