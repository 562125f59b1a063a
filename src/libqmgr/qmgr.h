/* libqmgr — the client library of qmgrd: include this header only.
 *
 * The proxies and skeletons of the D-Bus interfaces (generated from
 * introspection/ by gdbus-codegen), the QMGR constants as GEnum and GFlags
 * types, the client error domain, GUID helpers, the two QMGR enumerators and
 * QmgrDownload for the common case. */
#pragma once

#define __QMGR_H_INSIDE__

#include "qmgr-dbus.h"
#include "qmgr-enums.h"
#include "qmgr-enum-types.h"
#include "qmgr-client-error.h"
#include "qmgr-util.h"
#include "qmgr-enumerators.h"
#include "qmgr-download.h"

#undef __QMGR_H_INSIDE__
