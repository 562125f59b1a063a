/* qmgrd — the names on the bus: service, object paths and interfaces
 * (docs/dbus-api.md, "Names and object paths"). For the bus layer, the client
 * library and the tools; the core model knows none of them. */
#pragma once

#define QMGR_BUS_NAME           "io.github.qmgrd.QMgr1"
#define QMGR_MANAGER_PATH       "/io/github/qmgrd/QMgr1"
#define QMGR_GROUP_PATH_PREFIX  "/io/github/qmgrd/QMgr1/group"
#define QMGR_MANAGER_INTERFACE  "io.github.qmgrd.QMgr1.Manager"
#define QMGR_GROUP_INTERFACE    "io.github.qmgrd.QMgr1.Group"
#define QMGR_JOB_INTERFACE      "io.github.qmgrd.QMgr1.Job"
#define QMGR_CALLBACK_INTERFACE "io.github.qmgrd.QMgr1.Callback"
#define QMGR_TRANSFER_ERROR_PREFIX "io.github.qmgrd.QMgr1.Transfer."
