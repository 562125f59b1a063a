/* libqmgr — the QMGR constants as GEnum and GFlags types (registered by
 * glib-mkenums), so that bindings see them as Qmgr.GroupStatus.COMPLETE and
 * so on. Every value is fixed by the D-Bus contract (docs/dbus-api.md). */
#pragma once

#if !defined(__QMGR_H_INSIDE__) && !defined(QMGR_COMPILATION)
#error "Only <qmgr.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/**
 * QMGR_BUS_NAME:
 *
 * The well-known bus name of qmgrd.
 */
#define QMGR_BUS_NAME           "io.github.qmgrd.QMgr1"

/**
 * QMGR_MANAGER_PATH:
 *
 * The object path of the queue (#QmgrManager).
 */
#define QMGR_MANAGER_PATH       "/io/github/qmgrd/QMgr1"

/**
 * QMGR_FILE_INDEX_NONE:
 *
 * The file index of a notification that concerns no particular file.
 */
#define QMGR_FILE_INDEX_NONE  ((guint32) 0xFFFFFFFFu)

/**
 * QmgrGroupStatus:
 * @QMGR_GROUP_STATUS_COMPLETE: all files are complete (QM_STATUS_GROUP_COMPLETE)
 * @QMGR_GROUP_STATUS_INCOMPLETE: some files are not complete yet
 * @QMGR_GROUP_STATUS_SUSPENDED: the group is not being transferred
 * @QMGR_GROUP_STATUS_ERROR: a fatal error stopped the group
 * @QMGR_GROUP_STATUS_FOREGROUND: the group runs in the foreground
 *
 * The status bits of a group (QM_STATUS_GROUP_*), as read from
 * #QmgrGroup:status or io.github.qmgrd.QMgr1.Group.GetStatus(). A new or
 * suspended group reads SUSPENDED|INCOMPLETE, a running one INCOMPLETE, a
 * failed one ERROR|SUSPENDED|INCOMPLETE and a finished one
 * COMPLETE|SUSPENDED.
 */
typedef enum /*< flags >*/ {
  QMGR_GROUP_STATUS_COMPLETE   = 0x40,
  QMGR_GROUP_STATUS_INCOMPLETE = 0x80,
  QMGR_GROUP_STATUS_SUSPENDED  = 0x100,
  QMGR_GROUP_STATUS_ERROR      = 0x200,
  QMGR_GROUP_STATUS_FOREGROUND = 0x400,
} QmgrGroupStatus;

/**
 * QmgrJobStatus:
 * @QMGR_JOB_STATUS_COMPLETE: all files are complete (QM_STATUS_JOB_COMPLETE)
 * @QMGR_JOB_STATUS_INCOMPLETE: some files are not complete yet
 * @QMGR_JOB_STATUS_ERROR: a fatal error stopped the job
 * @QMGR_JOB_STATUS_FOREGROUND: the job's group runs in the foreground
 *
 * The status bits of a job (QM_STATUS_JOB_*).
 */
typedef enum /*< flags >*/ {
  QMGR_JOB_STATUS_COMPLETE   = 0x4,
  QMGR_JOB_STATUS_INCOMPLETE = 0x8,
  QMGR_JOB_STATUS_ERROR      = 0x10,
  QMGR_JOB_STATUS_FOREGROUND = 0x20,
} QmgrJobStatus;

/**
 * QmgrFileStatus:
 * @QMGR_FILE_STATUS_COMPLETE: the file is complete (QM_STATUS_FILE_COMPLETE)
 * @QMGR_FILE_STATUS_INCOMPLETE: the file is not complete yet
 *
 * The status bits of a file, from io.github.qmgrd.QMgr1.Job.GetFileStatus().
 */
typedef enum /*< flags >*/ {
  QMGR_FILE_STATUS_COMPLETE   = 0x1,
  QMGR_FILE_STATUS_INCOMPLETE = 0x2,
} QmgrFileStatus;

/**
 * QmgrNotifyFlags:
 * @QMGR_NOTIFY_FLAGS_FILE_DONE: call OnStatus when a file completes (an extension)
 * @QMGR_NOTIFY_FLAGS_JOB_DONE: call OnStatus when the job completes (an extension)
 * @QMGR_NOTIFY_FLAGS_GROUP_DONE: call OnStatus when the group completes
 * @QMGR_NOTIFY_FLAGS_DISABLE_NOTIFY: make no callbacks at all, errors included
 * @QMGR_NOTIFY_FLAGS_USE_PROGRESSEX: call OnProgressEx instead of OnProgress (an extension)
 * @QMGR_NOTIFY_FLAGS_PROGRESS: call OnProgress while bytes move (an extension)
 *
 * The notify flags of a group (QM_NOTIFY_*, %QMGR_GROUP_PROP_ID_NOTIFYFLAGS
 * and #QmgrGroup:notify-flags). They decide which callbacks
 * (#QmgrCallback) qmgrd makes; the group's signals ignore them.
 */
typedef enum /*< flags >*/ {
  QMGR_NOTIFY_FLAGS_FILE_DONE      = 0x1,
  QMGR_NOTIFY_FLAGS_JOB_DONE       = 0x2,
  QMGR_NOTIFY_FLAGS_GROUP_DONE     = 0x4,
  QMGR_NOTIFY_FLAGS_DISABLE_NOTIFY = 0x40,
  QMGR_NOTIFY_FLAGS_USE_PROGRESSEX = 0x80,
  QMGR_NOTIFY_FLAGS_PROGRESS       = 0x100,
} QmgrNotifyFlags;

/**
 * QmgrGroupPropId:
 * @QMGR_GROUP_PROP_ID_PRIORITY: reads 1; writing another value is refused
 * @QMGR_GROUP_PROP_ID_REMOTEUSERID: the user name for HTTP authentication
 * @QMGR_GROUP_PROP_ID_REMOTEUSERPWD: the password for HTTP authentication (write-only)
 * @QMGR_GROUP_PROP_ID_LOCALUSERID: not supported
 * @QMGR_GROUP_PROP_ID_LOCALUSERPWD: not supported
 * @QMGR_GROUP_PROP_ID_PROTOCOLFLAGS: reads 1 (%QMGR_PROTOCOL_HTTP)
 * @QMGR_GROUP_PROP_ID_NOTIFYFLAGS: the #QmgrNotifyFlags
 * @QMGR_GROUP_PROP_ID_NOTIFYCLSID: the callback target, "bus.name[:/object/path]"
 * @QMGR_GROUP_PROP_ID_PROGRESSSIZE: not supported
 * @QMGR_GROUP_PROP_ID_PROGRESSPERCENT: not supported
 * @QMGR_GROUP_PROP_ID_PROGRESSTIME: not supported
 * @QMGR_GROUP_PROP_ID_DISPLAYNAME: a name for people, at most 256 characters
 * @QMGR_GROUP_PROP_ID_DESCRIPTION: a description, at most 1024 characters
 *
 * The property ids of io.github.qmgrd.QMgr1.Group.GetProp() and SetProp()
 * (GROUPPROP_*).
 */
typedef enum {
  QMGR_GROUP_PROP_ID_PRIORITY = 0,
  QMGR_GROUP_PROP_ID_REMOTEUSERID = 1,
  QMGR_GROUP_PROP_ID_REMOTEUSERPWD = 2,
  QMGR_GROUP_PROP_ID_LOCALUSERID = 3,
  QMGR_GROUP_PROP_ID_LOCALUSERPWD = 4,
  QMGR_GROUP_PROP_ID_PROTOCOLFLAGS = 5,
  QMGR_GROUP_PROP_ID_NOTIFYFLAGS = 6,
  QMGR_GROUP_PROP_ID_NOTIFYCLSID = 7,
  QMGR_GROUP_PROP_ID_PROGRESSSIZE = 8,
  QMGR_GROUP_PROP_ID_PROGRESSPERCENT = 9,
  QMGR_GROUP_PROP_ID_PROGRESSTIME = 10,
  QMGR_GROUP_PROP_ID_DISPLAYNAME = 11,
  QMGR_GROUP_PROP_ID_DESCRIPTION = 12,
} QmgrGroupPropId;

/**
 * QmgrProgressType:
 * @QMGR_PROGRESS_TYPE_PERCENT_DONE: percent complete (QM_PROGRESS_PERCENT_DONE)
 * @QMGR_PROGRESS_TYPE_TIME_DONE: not supported
 * @QMGR_PROGRESS_TYPE_SIZE_DONE: bytes transferred, clamped to 0xFFFFFFFF
 *
 * What io.github.qmgrd.QMgr1.Group.GetProgress() and the job's GetProgress()
 * report (QM_PROGRESS_*); also the type of the OnProgress notifications.
 */
typedef enum {
  QMGR_PROGRESS_TYPE_PERCENT_DONE = 1,
  QMGR_PROGRESS_TYPE_TIME_DONE = 2,
  QMGR_PROGRESS_TYPE_SIZE_DONE = 3,
} QmgrProgressType;

/**
 * QmgrProtocol:
 * @QMGR_PROTOCOL_HTTP: http and https, the only protocol qmgrd accepts
 * @QMGR_PROTOCOL_FTP: not accepted
 * @QMGR_PROTOCOL_SMB: not accepted
 * @QMGR_PROTOCOL_CUSTOM: not accepted
 *
 * The values of %QMGR_GROUP_PROP_ID_PROTOCOLFLAGS (QM_PROTOCOL_*).
 */
typedef enum {
  QMGR_PROTOCOL_HTTP = 1,
  QMGR_PROTOCOL_FTP = 2,
  QMGR_PROTOCOL_SMB = 3,
  QMGR_PROTOCOL_CUSTOM = 4,
} QmgrProtocol;

/**
 * QmgrCostState:
 * @QMGR_COST_STATE_UNRESTRICTED: no cost (BITS_COST_STATE_UNRESTRICTED)
 * @QMGR_COST_STATE_CAPPED_USAGE_UNKNOWN: a metered network of unknown usage
 * @QMGR_COST_STATE_BELOW_CAP: below its data cap
 * @QMGR_COST_STATE_NEAR_CAP: near its data cap
 * @QMGR_COST_STATE_OVERCAP_CHARGED: over its cap, charged
 * @QMGR_COST_STATE_OVERCAP_THROTTLED: over its cap, throttled
 * @QMGR_COST_STATE_USAGE_BASED: charged by usage
 * @QMGR_COST_STATE_ROAMING: roaming
 * @QMGR_COST_STATE_IGNORE_CONGESTION: accepted in a transfer policy, without effect
 *
 * The network cost states of BITS 5: #QmgrManager:network-cost-state holds
 * one of them, a #QmgrTransferPolicy is a mask of them.
 */
typedef enum /*< flags >*/ {
  QMGR_COST_STATE_UNRESTRICTED         = 0x1,
  QMGR_COST_STATE_CAPPED_USAGE_UNKNOWN = 0x2,
  QMGR_COST_STATE_BELOW_CAP            = 0x4,
  QMGR_COST_STATE_NEAR_CAP             = 0x8,
  QMGR_COST_STATE_OVERCAP_CHARGED      = 0x10,
  QMGR_COST_STATE_OVERCAP_THROTTLED    = 0x20,
  QMGR_COST_STATE_USAGE_BASED          = 0x40,
  QMGR_COST_STATE_ROAMING              = 0x80,
  QMGR_COST_STATE_IGNORE_CONGESTION    = (int) 0x80000000u,
} QmgrCostState;

/**
 * QmgrTransferPolicy:
 * @QMGR_TRANSFER_POLICY_ALWAYS: any cost state, roaming included
 * @QMGR_TRANSFER_POLICY_NOT_ROAMING: any cost state but roaming
 * @QMGR_TRANSFER_POLICY_NO_SURCHARGE: also not over a charged cap
 * @QMGR_TRANSFER_POLICY_STANDARD: also not near a cap
 * @QMGR_TRANSFER_POLICY_UNRESTRICTED: only unrestricted (or throttled over cap) networks
 *
 * The presets of BITS for #QmgrGroup:transfer-policy, the mask of the
 * #QmgrCostState values a group may transfer on. The property reads 0
 * while defaulted (UNRESTRICTED for background groups, ALWAYS for
 * foreground ones); writing 0 restores the default.
 */
typedef enum /*< flags >*/ {
  QMGR_TRANSFER_POLICY_ALWAYS       = (int) 0x800000FFu,
  QMGR_TRANSFER_POLICY_NOT_ROAMING  = (int) 0x8000007Fu,
  QMGR_TRANSFER_POLICY_NO_SURCHARGE = (int) 0x8000006Fu,
  QMGR_TRANSFER_POLICY_STANDARD     = (int) 0x80000067u,
  QMGR_TRANSFER_POLICY_UNRESTRICTED = (int) 0x80000021u,
} QmgrTransferPolicy;

G_END_DECLS
