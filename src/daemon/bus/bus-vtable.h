/* qmgrd bus — how an interface's members are declared: each property once, in one
 * X-macro table per interface, from which its file generates the getters, the
 * setters, the vtable rows and the change-bit → name map; each method once, as a
 * vtable row. Included by bus-private.h. */
#pragma once

#include <systemd/sd-bus.h>

#include "model.h"

G_BEGIN_DECLS

/* ---- properties ----
 *
 * A table row is X (Name, type, kind, change, get, set):
 *   Name    the property's name, as a bare word;
 *   type    u, t, s, b, o, or last_error ((ss)): the D-Bus signature and the C type
 *           the value is appended (and, for RW, read) as;
 *   kind    CONST (never changes), RO (read-only, announced with PropertiesChanged),
 *           RW (as RO, and any caller may write it: the core's setter decides);
 *   change  the core's change bit (model.h) that announces it, 0 for none;
 *   get     the value, an expression of the object the file's generators name;
 *   set     the core's setter (object, value, GError **) of an RW property, else NONE.
 */

#define QMGR_BUS_SIG_u "u"
#define QMGR_BUS_SIG_t "t"
#define QMGR_BUS_SIG_s "s"
#define QMGR_BUS_SIG_b "b"
#define QMGR_BUS_SIG_o "o"
#define QMGR_BUS_SIG_last_error "(ss)"

typedef guint32 QmgrBusValue_u;
typedef guint64 QmgrBusValue_t;
typedef const char *QmgrBusValue_s;

/* Typed, so that a getter's value converts to the wire type it is declared as. */
static inline int
qmgr_bus_append_u (sd_bus_message *m, guint32 v)
{
  return sd_bus_message_append_basic (m, 'u', &v);
}

static inline int
qmgr_bus_append_t (sd_bus_message *m, guint64 v)
{
  return sd_bus_message_append_basic (m, 't', &v);
}

static inline int
qmgr_bus_append_s (sd_bus_message *m, const char *v)
{
  return sd_bus_message_append_basic (m, 's', v);
}

static inline int
qmgr_bus_append_o (sd_bus_message *m, const char *v)
{
  return sd_bus_message_append_basic (m, 'o', v);
}

static inline int
qmgr_bus_append_b (sd_bus_message *m, gboolean v)
{
  int b = v != FALSE;
  return sd_bus_message_append_basic (m, 'b', &b);
}

/* A job's LastError: (name, message), ("", "") when none (bus-job.c). */
int qmgr_bus_append_last_error (sd_bus_message *m, const QmgrJob *job);

static inline int
qmgr_bus_read_u (sd_bus_message *m, guint32 *v)
{
  return sd_bus_message_read_basic (m, 'u', v);
}

static inline int
qmgr_bus_read_t (sd_bus_message *m, guint64 *v)
{
  return sd_bus_message_read_basic (m, 't', v);
}

static inline int
qmgr_bus_read_s (sd_bus_message *m, const char **v)
{
  return sd_bus_message_read_basic (m, 's', v);
}

/* The getter P_get_Name of a row: @self (of type @Obj) is the vtable's userdata. */
#define QMGR_BUS_PROPERTY_GETTER(P, Obj, self, Name, type, get)                           \
  static int                                                                              \
  P##_get_##Name (sd_bus *bus_, const char *path_, const char *interface_,                 \
                  const char *property_, sd_bus_message *reply_, void *userdata_,         \
                  sd_bus_error *error_)                                                   \
  {                                                                                       \
    G_GNUC_UNUSED Obj self = userdata_;                                                   \
    return qmgr_bus_append_##type (reply_, get);                                          \
  }

/* The setter P_set_Name of an RW row: calls @set on @core (an expression of @self),
 * then P_property_set (@self, error), the interface's hook for what must follow a
 * change (sd-bus replies to Properties.Set as soon as the setter returns). A
 * function either returns an error or logs it: these return it to the caller. */
#define QMGR_BUS_PROPERTY_SETTER_CONST(P, Obj, self, core, Name, type, set)
#define QMGR_BUS_PROPERTY_SETTER_RO(P, Obj, self, core, Name, type, set)
#define QMGR_BUS_PROPERTY_SETTER_RW(P, Obj, self, core, Name, type, set)                  \
  static int                                                                              \
  P##_set_##Name (sd_bus *bus_, const char *path_, const char *interface_,                 \
                  const char *property_, sd_bus_message *value_, void *userdata_,         \
                  sd_bus_error *error_)                                                   \
  {                                                                                       \
    Obj self = userdata_;                                                                 \
    g_autoptr(GError) e_ = NULL;                                                          \
    QmgrBusValue_##type v_;                                                               \
    int r_ = qmgr_bus_read_##type (value_, &v_);                                          \
                                                                                          \
    if (r_ < 0)                                                                           \
      return qmgr_bus_reply_bad_arguments (error_, r_);                                   \
    if (!set (core, v_, &e_) || !P##_property_set (self, &e_))                            \
      return qmgr_bus_reply_error (error_, e_);                                           \
    return 0;                                                                             \
  }

/* The vtable row: the flags follow from the kind alone. */
#define QMGR_BUS_PROPERTY_VTABLE_CONST(P, Name, type)                                     \
  SD_BUS_PROPERTY (#Name, QMGR_BUS_SIG_##type, P##_get_##Name, 0,                          \
                   SD_BUS_VTABLE_PROPERTY_CONST),
#define QMGR_BUS_PROPERTY_VTABLE_RO(P, Name, type)                                        \
  SD_BUS_PROPERTY (#Name, QMGR_BUS_SIG_##type, P##_get_##Name, 0,                          \
                   SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
#define QMGR_BUS_PROPERTY_VTABLE_RW(P, Name, type)                                        \
  SD_BUS_WRITABLE_PROPERTY (#Name, QMGR_BUS_SIG_##type, P##_get_##Name, P##_set_##Name, 0, \
                            SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),

/* Change bits → property names, for PropertiesChanged (bus.c). */
typedef struct {
  guint32 change;
  const char *name;
} QmgrBusPropertyName;

typedef struct {
  const QmgrBusPropertyName *names;
  guint n_names;
} QmgrBusChangeMap;

#define QMGR_BUS_PROPERTY_NAME(Name, type, kind, change, get, set) { (change), #Name },

/* No change bit announces two properties (each bit then names at most one, so
 * 32 names suffice), and the bits a table uses are exactly @all. */
#define QMGR_BUS_CHANGE_SUM(Name, type, kind, change, get, set) + (guint64) (change)
#define QMGR_BUS_CHANGE_OR(Name, type, kind, change, get, set) | (guint64) (change)
#define QMGR_BUS_MAX_CHANGED_NAMES 32
#define QMGR_BUS_ASSERT_CHANGES(TABLE, all)                                               \
  G_STATIC_ASSERT ((0 TABLE (QMGR_BUS_CHANGE_SUM)) == (0 TABLE (QMGR_BUS_CHANGE_OR)));    \
  G_STATIC_ASSERT ((0 TABLE (QMGR_BUS_CHANGE_OR)) == (guint64) (all))

/* Fills @names (QMGR_BUS_MAX_CHANGED_NAMES + 1 entries) with the properties that
 * @changes announce, NULL-terminated; returns how many. */
guint qmgr_bus_changed_names (const QmgrBusChangeMap *map, guint32 changes, const char **names);

extern const QmgrBusChangeMap qmgr_bus_group_changes;
extern const QmgrBusChangeMap qmgr_bus_job_changes;
extern const QmgrBusChangeMap qmgr_bus_manager_changes;

/* ---- methods ---- */

/* A handler for a method without arguments or results: @call, an expression of
 * @self (the vtable's userdata, of type @Obj) and of `error`, says whether it worked. */
#define QMGR_BUS_METHOD_HANDLER_NOARGS(fn, Obj, self, call)                               \
  static int                                                                              \
  fn (sd_bus_message *m_, void *userdata_, sd_bus_error *ret_error_)                      \
  {                                                                                       \
    Obj self = userdata_;                                                                 \
    g_autoptr(GError) error = NULL;                                                       \
                                                                                          \
    if (!(call))                                                                          \
      return qmgr_bus_reply_error (ret_error_, error);                                    \
    return qmgr_bus_reply (m_, NULL);                                                     \
  }

G_END_DECLS
