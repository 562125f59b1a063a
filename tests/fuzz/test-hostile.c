/* qmgrd fuzz — R3 of docs/targets.md: many D-Bus calls with valid signatures and hostile
 * values, plus malformed messages the bus still delivers, against the real daemon on a
 * private bus. Every answer must be a reply or one of the contract's errors (never a
 * sign that the daemon died or hung); where the contract makes the answer certain it is
 * checked exactly. After a warm-up and at the end, once the daemon has returned its free
 * heap after the calls (see checkpoint()), its memory is read three ways: RSS (R3's
 * figure, at most 5 % more at the end), the heap's bytes in use as the daemon logs them
 * (at most 5 % more in the full run, whose warm-up is long enough to reach the plateau
 * of caches and tables: a leak climbs past it) and anonymous RSS (reported; a run fails
 * when it grows by more than 1 MiB).
 *
 * QMGR_FUZZ_CALLS (or --calls=N) sets the number of calls, QMGR_FUZZ_SEED the seed. The
 * seed fixes what each call asks; which live objects a call lands on also depends on the
 * order replies arrive in, so a failure prints the call itself (its arguments cut at 600
 * characters) and the first few of each class of failure are listed. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "qmgr-test-harness.h"

#define BUS_NAME        QMGR_TEST_BUS_NAME
#define MANAGER_PATH    QMGR_TEST_MANAGER_PATH
#define GROUP_PREFIX    MANAGER_PATH "/group/"
#define IFACE_MANAGER   QMGR_TEST_MANAGER_IFACE
#define IFACE_GROUP     QMGR_TEST_GROUP_IFACE
#define IFACE_JOB       QMGR_TEST_JOB_IFACE
#define IFACE_CALLBACK  QMGR_TEST_CALLBACK_IFACE
#define IFACE_PROPS     "org.freedesktop.DBus.Properties"
#define IFACE_INTRO     "org.freedesktop.DBus.Introspectable"
#define IFACE_PEER      "org.freedesktop.DBus.Peer"
#define IFACE_OBJMGR    "org.freedesktop.DBus.ObjectManager"

#define E_PREFIX          "io.github.qmgrd.QMgr1.Error."
#define E_INVALID_STATE   E_PREFIX "InvalidState"
#define E_ITEM_NOT_FOUND  E_PREFIX "ItemNotFound"
#define E_INVALID_ARGS    "org.freedesktop.DBus.Error.InvalidArgs"
#define E_NOT_SUPPORTED   "org.freedesktop.DBus.Error.NotSupported"
#define E_ACCESS_DENIED   "org.freedesktop.DBus.Error.AccessDenied"
#define E_LIMITS          "org.freedesktop.DBus.Error.LimitsExceeded"
#define E_UNKNOWN_OBJECT  "org.freedesktop.DBus.Error.UnknownObject"
#define E_UNKNOWN_METHOD  "org.freedesktop.DBus.Error.UnknownMethod"
#define E_UNKNOWN_IFACE   "org.freedesktop.DBus.Error.UnknownInterface"
#define E_UNKNOWN_PROP    "org.freedesktop.DBus.Error.UnknownProperty"
#define E_READ_ONLY       "org.freedesktop.DBus.Error.PropertyReadOnly"

#define DEFAULT_CALLS      10000
#define DEFAULT_SEED       0x51a6d3u
#define MAX_IN_FLIGHT      64
#define CALL_TIMEOUT_MS    120000
#define N_STABLE           6
#define MAX_VOLATILE       24
#define MAX_GONE           64
#define BIG_BATCH          2000
#define MAX_VOLATILE_FILES (2 * BIG_BATCH)
#define HUGE_MAX           (1u << 20)
#define VIOLATIONS_SHOWN_PER_CLASS 3
#define ORPHAN_EVERY       500
#define RSS_GROWTH_MAX     0.05
#define RSS_RUNAWAY_KIB    1024   /* beyond this a run fails (see the RSS check) */
/* From this many calls in the warm-up on, the heap's caches and tables have
 * reached their plateau (measured: 623 KiB in use after 10,000 calls, 629 KiB
 * after 100,000; 550 KiB after 1,000). */
#define HEAP_PLATEAU_CALLS 10000
#define PASSWORD_MARKER    "pw-marker-7d1e0b2c-never-shown"

/* ------------------------------------------------------------------------------------ */
/* The fuzzer's picture of the daemon */

typedef struct {
  char *guid;       /* dashed lowercase */
  char *path;
  char *job_guid;   /* NULL while the group has no job we know of */
  char *job_path;
  gboolean stable;  /* seeded: never cancelled, its job and files never change */
  gboolean gone;    /* a CancelGroup on it succeeded */
  guint n_files;    /* volatile: valid files added (or being added) */
  GVariant *files;  /* stable: the a(sst) it was seeded with */
} Group;

typedef enum {
  ACT_NONE,
  ACT_NEW_GROUP,    /* success: the reply's path is a new volatile group */
  ACT_NEW_JOB,      /* success: the reply's path is @group's job */
  ACT_GROUP_GONE,   /* success: @group was cancelled */
  ACT_JOB_GONE,     /* success: @group's job was cancelled */
} Action;

typedef struct _Fuzz Fuzz;
typedef struct _Call Call;
/* Returns NULL when @reply is right, else what is wrong (freed by the caller). */
typedef char *(*CheckFunc) (Fuzz *fz, Call *c, GVariant *reply);

struct _Call {
  Fuzz *fz;
  guint64 index;
  const char *kind;         /* interned label for the per-kind table */
  char *path;
  const char *iface;        /* interned, or NULL (a call without interface) */
  const char *method;       /* interned */
  GVariant *params;         /* kept for the report of a failure */
  gboolean certain;         /* the answer is one of: success if ok_allowed, err1, err2 */
  gboolean ok_allowed;
  const char *err1;
  const char *err2;
  const char *reply_type;   /* checked on success when set */
  GVariant *expect_value;   /* the exact reply, when known */
  CheckFunc check;
  gboolean qmgrd_handler;   /* reaches a qmgrd handler: its errors carry an HRESULT */
  Action action;
  Group *group;
  guint n_valid;            /* AddFiles of valid files: how many */
  gint64 sent_us;
};

struct _Fuzz {
  QmgrTestDaemon *daemon;
  GDBusConnection *conn;
  GRand *rand;
  guint32 seed;
  const char *files_dir;
  char *ro_dir;             /* a read-only directory in files_dir */
  char *missing_dir;        /* a directory that does not exist */

  guint64 n_calls;
  guint64 issued;
  guint64 in_flight;
  guint64 file_counter;
  guint64 volatile_files;   /* valid files in volatile groups: bounds the daemon's peak */
  guint64 orphan_calls;
  guint64 unsolicited;      /* signals and no-reply calls sent to the daemon */
  guint64 certain_checked;
  guint64 max_error_len;
  gint64 max_latency_us;
  char *slowest;            /* the call that took max_latency_us */
  gboolean fatal;

  GPtrArray *all_groups;    /* owns every Group */
  GPtrArray *stable;
  GPtrArray *volatile_groups;
  GPtrArray *gone_groups;   /* group paths: certainly UnknownObject */
  GPtrArray *gone_jobs;     /* job paths: certainly UnknownObject */

  GHashTable *error_counts; /* name → count */
  GHashTable *kind_counts;  /* kind → count */
  guint64 n_violations;
  GHashTable *violation_classes; /* "kind: class" → count */
};

/* ------------------------------------------------------------------------------------ */
/* The contract: error names, HRESULTs, properties */

static const char *const allowed_errors[] = {
  E_INVALID_STATE,
  E_PREFIX "ServiceUnavailable",
  E_PREFIX "DownloaderUnavailable",
  E_ITEM_NOT_FOUND,
  E_INVALID_ARGS,
  E_NOT_SUPPORTED,
  E_ACCESS_DENIED,
  E_LIMITS,
  E_UNKNOWN_OBJECT,
  E_UNKNOWN_METHOD,
  E_UNKNOWN_IFACE,
  E_UNKNOWN_PROP,
  E_READ_ONLY,
};

/* Answers that mean the daemon died, hung or left the bus. */
static const char *const fatal_errors[] = {
  "org.freedesktop.DBus.Error.NoReply",
  "org.freedesktop.DBus.Error.Timeout",
  "org.freedesktop.DBus.Error.TimedOut",
  "org.freedesktop.DBus.Error.ServiceUnknown",
  "org.freedesktop.DBus.Error.NameHasNoOwner",
  "org.freedesktop.DBus.Error.Disconnected",
};

/* The interfaces as introspection/ declares them (loaded in test_hostile()). */

typedef struct {
  const char *name;
  const char *type;
  gboolean writable;
} PropInfo;

typedef struct {
  const char *name;
  const char *in;      /* GVariant tuple type of the arguments */
  const char *out;     /* of the reply */
  gboolean destructive;
} MethodInfo;

typedef struct {
  GDBusNodeInfo *xml;
  PropInfo *props;
  gsize n_props;
  MethodInfo *methods;
  gsize n_methods;
} IfaceInfo;

static IfaceInfo manager_iface, group_iface, job_iface;

/* Calls that remove their object: never made on a seeded (stable) group. */
static const char *const destructive_methods[] = { "CancelGroup", "CancelJob" };

/* The methods each generator makes calls to, weighted (gen_manager() picks its
 * own): every method the XML declares must be among them. */
static const char *const manager_generated[] = { "CreateGroup", "GetGroup", "EnumGroups" };
static const char *const group_weighted[] = {
  "GetProp", "GetProp", "SetProp", "SetProp", "SetProp", "GetProgress", "GetStatus",
  "GetJob", "GetJob", "SuspendGroup", "ResumeGroup", "ResumeGroup", "CancelGroup",
  "CreateJob", "CreateJob", "CreateJob", "EnumJobs", "SwitchToForeground",
  "QueryNewJobInterface", "SetNotificationPointer", "SetNotificationPointer",
  "TakeOwnership",
};
static const char *const job_weighted[] = {
  "AddFiles", "AddFiles", "AddFiles", "AddFiles", "GetFile", "GetFile", "GetFileCount",
  "GetProgress", "GetStatus", "GetFileStatus", "GetFileStatus", "CancelJob",
  "SwitchToForeground",
};

/* org.freedesktop.DBus.Properties, which sd-bus implements (not in introspection/). */
static const MethodInfo props_methods[] = {
  { "Get", "(ss)", "(v)", FALSE },
  { "GetAll", "(s)", "(a{sv})", FALSE },
  { "Set", "(ssv)", "()", FALSE },
};

static gboolean
str_in (const char *s, const char *const *list, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (g_strcmp0 (s, list[i]) == 0)
      return TRUE;
  return FALSE;
}

static const PropInfo *
find_prop (const PropInfo *props, gsize n, const char *name)
{
  for (gsize i = 0; i < n; i++)
    if (strcmp (props[i].name, name) == 0)
      return &props[i];
  return NULL;
}

/* "(" the signatures of @args ")": the GVariant type of a call's arguments or reply. */
static char *
args_tuple (GDBusArgInfo **args)
{
  GString *s = g_string_new ("(");

  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_string_append (s, args[i]->signature);
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

static void
iface_load (IfaceInfo *info, const char *name, const char *const *generated, gsize n_generated)
{
  GDBusInterfaceInfo *iface;
  gsize n;

  info->xml = qmgr_test_load_interface_xml (name);
  iface = info->xml->interfaces[0];
  for (n = 0; iface->properties != NULL && iface->properties[n] != NULL; n++)
    ;
  info->n_props = n;
  info->props = g_new0 (PropInfo, n);
  for (gsize i = 0; i < n; i++)
    {
      GDBusPropertyInfo *p = iface->properties[i];
      info->props[i].name = p->name;
      info->props[i].type = p->signature;
      info->props[i].writable = (p->flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE) != 0;
    }
  for (n = 0; iface->methods != NULL && iface->methods[n] != NULL; n++)
    ;
  g_assert_cmpuint (n, >, 0);
  info->n_methods = n;
  info->methods = g_new0 (MethodInfo, n);
  for (gsize i = 0; i < n; i++)
    {
      GDBusMethodInfo *m = iface->methods[i];
      info->methods[i].name = m->name;
      info->methods[i].in = args_tuple (m->in_args);
      info->methods[i].out = args_tuple (m->out_args);
      info->methods[i].destructive = str_in (m->name, destructive_methods,
                                             G_N_ELEMENTS (destructive_methods));
      /* A method no generator knows would never be called with meaningful values. */
      g_test_message ("%s.%s%s -> %s", name, m->name, info->methods[i].in, info->methods[i].out);
      g_assert_true (str_in (m->name, generated, n_generated));
    }
  /* ...and a generator only calls methods the XML declares. */
  for (gsize i = 0; i < n_generated; i++)
    g_assert_nonnull (g_dbus_interface_info_lookup_method (iface, generated[i]));
}

static void
iface_clear (IfaceInfo *info)
{
  for (gsize i = 0; i < info->n_methods; i++)
    {
      g_free ((gpointer) info->methods[i].in);
      g_free ((gpointer) info->methods[i].out);
    }
  g_clear_pointer (&info->methods, g_free);
  g_clear_pointer (&info->props, g_free);
  g_clear_pointer (&info->xml, g_dbus_node_info_unref);
  info->n_methods = info->n_props = 0;
}

/* ------------------------------------------------------------------------------------ */
/* Randomness */

static guint32
rnd (Fuzz *fz, guint32 n)
{
  g_assert (n > 0 && n <= G_MAXINT32);
  return (guint32) g_rand_int_range (fz->rand, 0, (gint32) n);
}

static gboolean
chance (Fuzz *fz, guint percent)
{
  return rnd (fz, 100) < percent;
}

#define PICK(fz, array) ((array)[rnd ((fz), G_N_ELEMENTS (array))])

static gpointer
pick_from (Fuzz *fz, GPtrArray *a)
{
  if (a->len == 0)
    return NULL;
  return g_ptr_array_index (a, rnd (fz, a->len));
}

static Group *
pick_stable (Fuzz *fz)
{
  return g_ptr_array_index (fz->stable, rnd (fz, fz->stable->len));
}

static const guint32 interesting_u32[] = {
  0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 20, 21, 0x40, 0x7f, 0x80, 0xff, 0x100, 0x1c7, 0x1c8,
  0x200, 1000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000021, 0x80000067, 0x800000ff,
  0x80000100, 0xfffffffe, 0xffffffff,
};

static guint32
hostile_u32 (Fuzz *fz)
{
  if (chance (fz, 70))
    return PICK (fz, interesting_u32);
  return g_rand_int (fz->rand);
}

static guint64
hostile_u64 (Fuzz *fz)
{
  static const guint64 interesting[] = {
    0, 1, 4096, 0xffffffffu, 0x100000000u, G_MAXINT64, (guint64) G_MAXINT64 + 1, G_MAXUINT64,
  };
  if (chance (fz, 60))
    return PICK (fz, interesting);
  return ((guint64) g_rand_int (fz->rand) << 32) | g_rand_int (fz->rand);
}

/* ------------------------------------------------------------------------------------ */
/* Hostile strings (always valid UTF-8 without NUL: D-Bus delivers nothing else) */

static const char *const tokens[] = {
  "", ".", "..", "/", "//", "./", "../", "/..", "/./", "~", "~root", "-", "--help", "a", "x",
  "../../../../../../etc/passwd", "/etc/shadow", "/tmp/../etc/x", "relative/path",
  "%s%s%s%s%n", "%x%p%d", "%", "'\"`;$(id)|&", "\\", "\\x00", "\\0", "\\u0000",
  "\x01", "\x07", "\x08", "\x1b[2J\x1b[31m", "\x7f", "\r\n", "\n", "\t", "\r", "a\nb",
  "\xc2\x85",                 /* NEL: a C1 control */
  "\xc2\xa0",                 /* no-break space */
  "\xe2\x80\xa8",             /* line separator */
  "\xe2\x80\xae",             /* right-to-left override */
  "\xe2\x80\x8b",             /* zero width space */
  "\xef\xbb\xbf",             /* byte order mark */
  "\xef\xbf\xbd",             /* replacement character */
  "\xef\xbf\xbe",             /* U+FFFE, a noncharacter (valid D-Bus since spec 0.21) */
  "\xef\xb7\x90",             /* U+FDD0, a noncharacter */
  "\xf4\x8f\xbf\xbf",         /* U+10FFFF, the last code point, a noncharacter */
  "\xf0\x9f\x92\xa9",         /* an emoji, 4 bytes */
  "e\xcc\x81\xcc\x81\xcc\x81", /* stacked combining marks */
  "\xef\xbc\x8f",             /* fullwidth solidus */
  "\xe2\x88\x95",             /* division slash */
  "\xe2\x80\xa4\xe2\x80\xa4", /* one dot leaders: looks like ".." */
  "\xd8\xa7\xd9\x84\xd8\xb9", /* Arabic */
  "\xe4\xb8\xad\xe6\x96\x87", /* CJK */
  "\xef\xbc\x90\xef\xbc\x91", /* fullwidth digits */
  "null", "NULL", "(null)", "true", "-1", "0", "4294967296", "18446744073709551616", "NaN",
  "1e999", "0x80070057", "[0x80070057]", "00000000-0000-0000-0000-000000000000",
  "{00000000-0000-0000-0000-000000000000}", "io.github.qmgrd.QMgr1", ":1.1",
  "org.freedesktop.DBus", "org.example.App:/cb", "org.example.App:", "[group]\nkey=value\n",
  "{\"a\":[1,2,{}]}", "<xml attr='&amp;'>", "C:\\Windows\\System32", "\\\\?\\C:\\",
  "file:///etc/passwd", "http://user:pw@127.0.0.1:9/", "http://127.0.0.1:9/", "https://",
  "http://[::1]:9/%00", "http://127.0.0.1:9/%2e%2e/%2e%2e/etc/passwd",
  "io.github.qmgrd.QMgr1.Job", "io.github.qmgrd.QMgr1.Callback",
};

static char *
huge_string (Fuzz *fz)
{
  static const gsize sizes[] = { 255, 256, 257, 1023, 1024, 1025, 2199, 2200, 2201, 4095,
                                 4096, 4097, 65536, 262144, HUGE_MAX };
  static const char *const units[] = { "a", "/a", "../", "A1", "%41", "\xc3\xa9", "\x01",
                                       "\xe2\x80\xae", "http://x/", " " };
  gsize target = PICK (fz, sizes);
  const char *unit = PICK (fz, units);
  gsize ulen = strlen (unit);
  GString *s = g_string_sized_new (target + 8);

  while (s->len + ulen <= target)
    g_string_append_len (s, unit, (gssize) ulen);
  while (s->len < target)
    g_string_append_c (s, 'z');
  return g_string_free (s, FALSE);
}

static char *
hostile_string (Fuzz *fz)
{
  GString *s;
  guint n;

  if (chance (fz, 4))
    return huge_string (fz);
  s = g_string_new (NULL);
  n = 1 + rnd (fz, 4);
  for (guint i = 0; i < n; i++)
    g_string_append (s, PICK (fz, tokens));
  return g_string_free (s, FALSE);
}

/* A string of at most @max bytes: hostile tokens, never huge. */
static char *
small_hostile_string (Fuzz *fz, gsize max)
{
  GString *s = g_string_new (NULL);
  guint n = 1 + rnd (fz, 3);

  for (guint i = 0; i < n; i++)
    {
      const char *t = PICK (fz, tokens);
      if (s->len + strlen (t) > max)
        break;
      g_string_append (s, t);
    }
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------------------------------ */
/* GUIDs */

static void
random_guid_bytes (Fuzz *fz, guint8 b[16])
{
  for (guint i = 0; i < 16; i++)
    b[i] = (guint8) rnd (fz, 256);
  b[15] |= 1;  /* never all zero */
}

static gboolean
guid_bytes_from_string (const char *dashed, guint8 b[16])
{
  guint n = 0;

  for (const char *p = dashed; *p; p++)
    {
      int v;
      if (*p == '-')
        continue;
      v = g_ascii_xdigit_value (*p);
      if (v < 0 || n >= 32)
        return FALSE;
      if (n % 2 == 0)
        b[n / 2] = (guint8) (v << 4);
      else
        b[n / 2] |= (guint8) v;
      n++;
    }
  return n == 32;
}

enum { GS_DASHED, GS_DASHED_UPPER, GS_BRACES, GS_BRACES_UPPER, GS_HEX, GS_HEX_UPPER,
       GS_MIXED, GS_N_STYLES };

static char *
guid_render (const guint8 b[16], guint style)
{
  GString *s = g_string_new (NULL);
  gboolean braces = style == GS_BRACES || style == GS_BRACES_UPPER;
  gboolean dashes = style != GS_HEX && style != GS_HEX_UPPER;
  gboolean upper = style == GS_DASHED_UPPER || style == GS_BRACES_UPPER || style == GS_HEX_UPPER;

  if (braces)
    g_string_append_c (s, '{');
  for (guint i = 0; i < 16; i++)
    {
      if (dashes && (i == 4 || i == 6 || i == 8 || i == 10))
        g_string_append_c (s, '-');
      g_string_append_printf (s, upper ? "%02X" : "%02x", b[i]);
    }
  if (braces)
    g_string_append_c (s, '}');
  if (style == GS_MIXED)
    for (gsize i = 0; i < s->len; i += 2)
      s->str[i] = g_ascii_toupper (s->str[i]);
  return g_string_free (s, FALSE);
}

static char *
guid_dashed (const guint8 b[16])
{
  return guid_render (b, GS_DASHED);
}

static char *
guid_hex (const char *dashed)
{
  GString *s = g_string_new (NULL);
  for (const char *p = dashed; *p; p++)
    if (*p != '-')
      g_string_append_c (s, g_ascii_tolower (*p));
  return g_string_free (s, FALSE);
}

/* An accepted spelling of a GUID we know (any case, braces, no dashes). */
static char *
guid_any_style (Fuzz *fz, const char *dashed)
{
  guint8 b[16];
  g_assert_true (guid_bytes_from_string (dashed, b));
  return guid_render (b, rnd (fz, GS_N_STYLES));
}

static char *
random_guid_any_style (Fuzz *fz, char **dashed_out)
{
  guint8 b[16];
  random_guid_bytes (fz, b);
  if (dashed_out)
    *dashed_out = guid_dashed (b);
  return guid_render (b, rnd (fz, GS_N_STYLES));
}

/* A string that is certainly not an accepted GUID (docs/dbus-api.md: InvalidArgs). */
static char *
malformed_guid (Fuzz *fz)
{
  guint8 b[16];
  g_autofree char *dashed = NULL;
  g_autofree char *hex = NULL;
  GString *s;
  gsize pos;

  random_guid_bytes (fz, b);
  dashed = guid_dashed (b);
  hex = guid_render (b, GS_HEX);

  switch (rnd (fz, 15))
    {
    case 0:
      memset (b, 0, sizeof b);
      return guid_render (b, rnd (fz, GS_N_STYLES));
    case 1:  /* one digit short */
      s = g_string_new (dashed);
      g_string_erase (s, (gssize) (s->len - 1 - rnd (fz, 12)), 1);
      return g_string_free (s, FALSE);
    case 2:  /* one digit too many */
      return g_strconcat (dashed, "a", NULL);
    case 3:
      return g_strconcat (hex, "0", NULL);
    case 4:
      return g_strndup (hex, 31);
    case 5:  /* a non-hex character where a digit belongs */
      s = g_string_new (dashed);
      do
        pos = rnd (fz, 36);
      while (pos == 8 || pos == 13 || pos == 18 || pos == 23);
      s->str[pos] = PICK (fz, ((const char[]) { 'g', 'G', 'z', ' ', '-', '+', '.', '\x01' }));
      return g_string_free (s, FALSE);
    case 6:  /* a digit where a dash belongs */
      s = g_string_new (dashed);
      s->str[PICK (fz, ((const gsize[]) { 8, 13, 18, 23 }))] = '0';
      return g_string_free (s, FALSE);
    case 7:  /* braces that do not pair */
      switch (rnd (fz, 4))
        {
        case 0: return g_strconcat ("{", dashed, NULL);
        case 1: return g_strconcat (dashed, "}", NULL);
        case 2: return g_strconcat ("(", dashed, ")", NULL);
        default: return g_strconcat ("[", dashed, "]", NULL);
        }
    case 8:
      return chance (fz, 50) ? g_strconcat (" ", dashed, NULL) : g_strconcat (dashed, "\n", NULL);
    case 9:  /* dashes in the wrong places: 4-8-4-4-12 */
      return g_strdup_printf ("%.4s-%.8s-%.4s-%.4s-%.12s", hex, hex + 4, hex + 12, hex + 16,
                              hex + 20);
    case 10:
      return g_strconcat ("0x", hex, NULL);
    case 11:
      return g_strconcat ("urn:uuid:", dashed, NULL);
    case 12:  /* fullwidth digits: looks right, is not ASCII */
      s = g_string_new (NULL);
      for (guint i = 0; i < 32; i++)
        g_string_append (s, "\xef\xbc\x91");
      return g_string_free (s, FALSE);
    case 13:
      return g_strconcat (hex, hex, NULL);
    default:
      return g_strdup ("------------------------------------");
    }
}

/* ------------------------------------------------------------------------------------ */
/* Random values */

static GVariant *random_variant (Fuzz *fz, guint depth);

static GVariant *
random_basic (Fuzz *fz)
{
  static const char *const paths[] = { "/", "/a", "/io/github/qmgrd/QMgr1", "/_0/_1" };

  switch (rnd (fz, 13))
    {
    case 0: return g_variant_new_uint32 (hostile_u32 (fz));
    case 1: return g_variant_new_int32 ((gint32) hostile_u32 (fz));
    case 2: return g_variant_new_uint16 ((guint16) hostile_u32 (fz));
    case 3: return g_variant_new_int16 ((gint16) hostile_u32 (fz));
    case 4: return g_variant_new_take_string (hostile_string (fz));
    case 5: return g_variant_new_uint64 (hostile_u64 (fz));
    case 6: return g_variant_new_int64 ((gint64) hostile_u64 (fz));
    case 7: return g_variant_new_boolean (chance (fz, 50));
    case 8:
      return g_variant_new_double (PICK (fz, ((const double[]) { 0.0, -0.0, 1.5, -1.0, 1e308,
                                                                 4294967296.0, INFINITY,
                                                                 NAN })));
    case 9: return g_variant_new_byte ((guint8) rnd (fz, 256));
    case 10: return g_variant_new_object_path (PICK (fz, paths));
    case 11: return g_variant_new_signature (PICK (fz, ((const char *const[]) { "", "s", "a{sv}",
                                                                              "(uv)" })));
    default: return g_variant_new_uint32 (1);
    }
}

static GVariant *
random_variant (Fuzz *fz, guint depth)
{
  if (depth >= 4)
    return random_basic (fz);

  switch (rnd (fz, 12))
    {
    case 0: /* as */
      {
        GVariantBuilder b;
        guint n = chance (fz, 5) ? 2000 : rnd (fz, 6);
        g_variant_builder_init (&b, G_VARIANT_TYPE ("as"));
        for (guint i = 0; i < n; i++)
          g_variant_builder_add (&b, "s", n > 10 ? "" : PICK (fz, tokens));
        return g_variant_builder_end (&b);
      }
    case 1: /* (ss) */
      {
        g_autofree char *a = small_hostile_string (fz, 200);
        g_autofree char *b = small_hostile_string (fz, 200);
        return g_variant_new ("(ss)", a, b);
      }
    case 2: /* v, nested */
      {
        GVariant *v = random_basic (fz);
        guint levels = chance (fz, 10) ? 24 : 1 + rnd (fz, 3);
        for (guint i = 0; i < levels; i++)
          v = g_variant_new_variant (v);
        return v;
      }
    case 3: /* a{sv} */
      {
        GVariantBuilder b;
        g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
        for (guint i = 0, n = rnd (fz, 4); i < n; i++)
          {
            g_autofree char *key = small_hostile_string (fz, 100);
            g_variant_builder_add (&b, "{sv}", key, random_variant (fz, depth + 1));
          }
        return g_variant_builder_end (&b);
      }
    case 4: /* ay with NUL bytes */
      {
        gsize n = rnd (fz, 64);
        guint8 *data = g_malloc (n + 1);
        for (gsize i = 0; i < n; i++)
          data[i] = (guint8) rnd (fz, 4);
        return g_variant_new_from_data (G_VARIANT_TYPE ("ay"), data, n, FALSE, g_free, data);
      }
    case 5: /* a(sst), the AddFiles shape */
      {
        GVariantBuilder b;
        g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sst)"));
        for (guint i = 0, n = rnd (fz, 3); i < n; i++)
          {
            g_autofree char *a = small_hostile_string (fz, 200);
            g_autofree char *p = small_hostile_string (fz, 200);
            g_variant_builder_add (&b, "(sst)", a, p, hostile_u64 (fz));
          }
        return g_variant_builder_end (&b);
      }
    default:
      return random_basic (fz);
    }
}

/* The zero value of a type: deserialised from no data, which GVariant normalises. */
static GVariant *
default_value (const char *type)
{
  return g_variant_new_from_data (G_VARIANT_TYPE (type), NULL, 0, FALSE, NULL, NULL);
}

/* A random tuple of 0..4 random values. */
static GVariant *
random_tuple (Fuzz *fz)
{
  GVariantBuilder b;
  g_variant_builder_init (&b, G_VARIANT_TYPE_TUPLE);
  for (guint i = 0, n = rnd (fz, 5); i < n; i++)
    g_variant_builder_add_value (&b, random_variant (fz, 0));
  return g_variant_builder_end (&b);
}

/* ------------------------------------------------------------------------------------ */
/* The contract's value rules, where it states them completely */

static gboolean
text_ok (const char *s, glong max_chars, gboolean allow_nl_tab)
{
  glong n = 0;
  for (const char *p = s; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (g_unichar_iscntrl (c) && !(allow_nl_tab && (c == '\n' || c == '\t')))
        return FALSE;
      n++;
    }
  return n <= max_chars;
}

/* Curated NOTIFYCLSID values whose validity the contract makes certain. */
static const struct { const char *value; gboolean ok; } clsids[] = {
  { "", TRUE },
  { "org.example.Updater", TRUE },
  { "org.example.Updater:/org/example/Updater/cb", TRUE },
  { "org.example.Updater:/", TRUE },
  { "io.github.qmgrd.Fuzz_1.x-y", TRUE },
  { "noDots", FALSE },
  { ":1.42", FALSE },
  { "org..example", FALSE },
  { ".org.example", FALSE },
  { "org.example.", FALSE },
  { "org.1example.App", FALSE },
  { "org.example.App:relative/path", FALSE },
  { "org.example.App:/trailing/", FALSE },
  { "org.example.App:/a//b", FALSE },
  { "org.example.App:", FALSE },
  { "org.example.App:/a b", FALSE },
  { "org.ex\xc3\xa4mple.App", FALSE },
  { "org.example.App\n", FALSE },
};

/* ------------------------------------------------------------------------------------ */
/* Reports */

static char *
describe_variant (GVariant *v, gsize max)
{
  g_autofree char *text = NULL;
  if (v == NULL)
    return g_strdup ("(none)");
  text = g_variant_print (v, TRUE);
  if (strlen (text) > max)
    {
      g_autofree char *valid = NULL;
      gsize len = strlen (text);
      text[max] = '\0';
      valid = g_utf8_make_valid (text, -1);
      return g_strdup_printf ("%s… (%zu bytes printed)", valid, len);
    }
  return g_steal_pointer (&text);
}

static char *
describe_call (Call *c)
{
  g_autofree char *params = describe_variant (c->params, 600);
  return g_strdup_printf ("call #%" G_GUINT64_FORMAT " [%s] %s %s.%s%s", c->index, c->kind,
                          c->path, c->iface ? c->iface : "(no interface)", c->method, params);
}

/* Every violation counts; the first few of each class are listed with their call. */
static void
violation (Fuzz *fz, Call *c, const char *what_class, const char *what)
{
  g_autofree char *klass = g_strdup_printf ("%s: %s", c ? c->kind : "checks", what_class);
  guint seen = GPOINTER_TO_UINT (g_hash_table_lookup (fz->violation_classes, klass));

  fz->n_violations++;
  g_hash_table_replace (fz->violation_classes, g_strdup (klass), GUINT_TO_POINTER (seen + 1));
  if (seen < VIOLATIONS_SHOWN_PER_CLASS)
    {
      g_autofree char *call = c ? describe_call (c) : g_strdup ("(checkpoint)");
      g_test_message ("VIOLATION: %s\n#       %s", what, call);
    }
}

static void
count (GHashTable *table, const char *key)
{
  gpointer old = g_hash_table_lookup (table, key);
  g_hash_table_replace (table, g_strdup (key), GSIZE_TO_POINTER (GPOINTER_TO_SIZE (old) + 1));
}

/* ------------------------------------------------------------------------------------ */
/* Bookkeeping of live and vanished objects */

static Group *
group_new (Fuzz *fz, const char *path)
{
  Group *g = g_new0 (Group, 1);
  const char *hex = path + strlen (GROUP_PREFIX);
  guint8 b[16];

  g_assert_true (g_str_has_prefix (path, GROUP_PREFIX));
  g_assert_true (guid_bytes_from_string (hex, b));
  g->guid = guid_dashed (b);
  g->path = g_strdup (path);
  g_ptr_array_add (fz->all_groups, g);
  return g;
}

static void
group_free (Group *g)
{
  g_free (g->guid);
  g_free (g->path);
  g_free (g->job_guid);
  g_free (g->job_path);
  g_clear_pointer (&g->files, g_variant_unref);
  g_free (g);
}

static void
set_job (Group *g, const char *job_path)
{
  const char *hex = strrchr (job_path, '/') + 1;
  guint8 b[16];

  g_free (g->job_path);
  g_free (g->job_guid);
  g->job_path = g_strdup (job_path);
  g->job_guid = guid_bytes_from_string (hex, b) ? guid_dashed (b) : g_strdup ("");
}

static void
remember_gone (GPtrArray *list, const char *path)
{
  g_ptr_array_add (list, g_strdup (path));
  if (list->len > MAX_GONE)
    g_ptr_array_remove_index (list, 0);
}

static void
forget_files (Fuzz *fz, Group *g)
{
  fz->volatile_files -= g->n_files;
  g->n_files = 0;
}

static void
mark_group_gone (Fuzz *fz, Group *g)
{
  g->gone = TRUE;
  forget_files (fz, g);
  g_ptr_array_remove (fz->volatile_groups, g);
  remember_gone (fz->gone_groups, g->path);
  if (g->job_path)
    remember_gone (fz->gone_jobs, g->job_path);
}

static gboolean
is_valid_new_object_path (const char *path, const char *prefix)
{
  const char *hex;

  if (!g_str_has_prefix (path, prefix))
    return FALSE;
  hex = path + strlen (prefix);
  if (strlen (hex) != 32)
    return FALSE;
  for (const char *p = hex; *p; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* Replies */

static gboolean
hresult_ok (const char *name, const char *message)
{
  guint32 hr = qmgr_test_hresult_for_error (name);
  g_autofree char *suffix = g_strdup_printf (" [0x%08x]", hr);
  g_autofree char *suffix_upper = g_strdup_printf (" [0x%08X]", hr);

  if (hr == 0)
    return FALSE;
  return strlen (message) > strlen (suffix) &&
         (g_str_has_suffix (message, suffix) || g_str_has_suffix (message, suffix_upper));
}

static void
handle_error (Fuzz *fz, Call *c, GError *error)
{
  g_autofree char *name = NULL;
  g_autoptr(GError) stripped = NULL;
  g_autoptr(GString) problems = NULL;
  const char *message;

  if (!g_dbus_error_is_remote_error (error))
    {
      g_autofree char *what = g_strdup_printf ("local error, no answer from the daemon: %s (%s %d)",
                                               error->message, g_quark_to_string (error->domain),
                                               error->code);
      count (fz->error_counts, "(local error)");
      violation (fz, c, "local error", what);
      fz->fatal = TRUE;
      return;
    }

  name = g_dbus_error_get_remote_error (error);
  stripped = g_error_copy (error);
  g_dbus_error_strip_remote_error (stripped);
  message = stripped->message;
  count (fz->error_counts, name);
  fz->max_error_len = MAX (fz->max_error_len, strlen (message));

  if (str_in (name, fatal_errors, G_N_ELEMENTS (fatal_errors)))
    {
      g_autofree char *what = g_strdup_printf ("%s: the daemon died or hung: %s", name, message);
      violation (fz, c, name, what);
      fz->fatal = TRUE;
      return;
    }
  problems = g_string_new (NULL);
  if (!str_in (name, allowed_errors, G_N_ELEMENTS (allowed_errors)))
    g_string_append_printf (problems, "; %s is not one of the contract's errors", name);
  else if ((g_str_has_prefix (name, E_PREFIX) ||
            (c->qmgrd_handler && qmgr_test_hresult_for_error (name) != 0)) &&
           !hresult_ok (name, message))
    g_string_append_printf (problems, "; the message does not end with [0x%08x]",
                            qmgr_test_hresult_for_error (name));
  if (c->certain)
    {
      fz->certain_checked++;
      if (g_strcmp0 (name, c->err1) != 0 && g_strcmp0 (name, c->err2) != 0)
        g_string_append_printf (problems, "; expected %s%s%s%s%s", c->ok_allowed ? "success" : "",
                                c->ok_allowed && c->err1 ? " or " : "", c->err1 ? c->err1 : "",
                                c->err2 ? " or " : "", c->err2 ? c->err2 : "");
    }
  if (problems->len > 0)
    {
      g_autofree char *what = g_strdup_printf ("got %s: \"%.300s\"%s", name, message,
                                               problems->str);
      violation (fz, c, name, what);
    }

  if (c->n_valid && !c->group->gone)
    {
      c->group->n_files -= c->n_valid;
      fz->volatile_files -= c->n_valid;
    }

  /* The job is still there after all. */
  if (c->action == ACT_JOB_GONE && !c->group->gone && c->group->job_path == NULL)
    set_job (c->group, c->path);

  /* A group we created and the fuzz never cancelled must still exist. */
  if (c->action == ACT_GROUP_GONE && !c->group->gone)
    {
      if (g_strcmp0 (name, E_UNKNOWN_OBJECT) == 0)
        {
          violation (fz, c, "live group vanished",
                     "a live group vanished before the fuzz cancelled it");
          mark_group_gone (fz, c->group);
        }
      else
        g_ptr_array_add (fz->volatile_groups, c->group);
    }
}

static void
handle_success (Fuzz *fz, Call *c, GVariant *reply)
{
  count (fz->error_counts, "(success)");

  if (c->certain)
    {
      fz->certain_checked++;
      if (!c->ok_allowed)
        {
          g_autofree char *got = describe_variant (reply, 300);
          g_autofree char *what = g_strdup_printf ("expected %s%s%s, got a reply %s", c->err1,
                                                   c->err2 ? " or " : "", c->err2 ? c->err2 : "",
                                                   got);
          violation (fz, c, "unexpected success", what);
        }
    }
  if (c->reply_type && !g_variant_is_of_type (reply, G_VARIANT_TYPE (c->reply_type)))
    {
      g_autofree char *what = g_strdup_printf ("reply type %s, the contract says %s",
                                               g_variant_get_type_string (reply), c->reply_type);
      violation (fz, c, "reply type", what);
      return;
    }
  if (c->expect_value && !g_variant_equal (c->expect_value, reply))
    {
      g_autofree char *want = describe_variant (c->expect_value, 300);
      g_autofree char *got = describe_variant (reply, 300);
      g_autofree char *what = g_strdup_printf ("reply %s, expected %s", got, want);
      violation (fz, c, "reply value", what);
    }
  if (c->check)
    {
      g_autofree char *what = c->check (fz, c, reply);
      if (what)
        violation (fz, c, "reply content", what);
    }

  switch (c->action)
    {
    case ACT_NEW_GROUP:
      {
        const char *path;
        if (!g_variant_is_of_type (reply, G_VARIANT_TYPE ("(o)")))
          break;
        g_variant_get (reply, "(&o)", &path);
        if (!is_valid_new_object_path (path, GROUP_PREFIX))
          {
            g_autofree char *what = g_strdup_printf ("CreateGroup returned a malformed path %s",
                                                     path);
            violation (fz, c, "CreateGroup path", what);
            break;
          }
        g_ptr_array_add (fz->volatile_groups, group_new (fz, path));
        break;
      }
    case ACT_NEW_JOB:
      {
        const char *path;
        g_autofree char *prefix = g_strconcat (c->group->path, "/job/", NULL);
        if (!g_variant_is_of_type (reply, G_VARIANT_TYPE ("(o)")))
          break;
        g_variant_get (reply, "(&o)", &path);
        if (!is_valid_new_object_path (path, prefix))
          {
            g_autofree char *what = g_strdup_printf ("CreateJob returned a malformed path %s",
                                                     path);
            violation (fz, c, "CreateJob path", what);
            break;
          }
        set_job (c->group, path);
        if (c->group->gone)
          remember_gone (fz->gone_jobs, path);
        break;
      }
    case ACT_GROUP_GONE:
      if (!c->group->gone)
        mark_group_gone (fz, c->group);
      break;
    case ACT_JOB_GONE:
      remember_gone (fz->gone_jobs, c->path);
      forget_files (fz, c->group);
      break;
    case ACT_NONE:
    default:
      break;
    }
}

static void
call_free (Call *c)
{
  g_free (c->path);
  g_clear_pointer (&c->params, g_variant_unref);
  g_clear_pointer (&c->expect_value, g_variant_unref);
  g_free (c);
}

/* Messages rather than g_dbus_connection_call(), which cannot send a call without an
 * interface. */
static GVariant *
send_message_finish (GDBusConnection *conn, GAsyncResult *result, GError **error)
{
  g_autoptr(GDBusMessage) reply = g_dbus_connection_send_message_with_reply_finish (conn, result,
                                                                                    error);
  GVariant *body;

  if (reply == NULL || g_dbus_message_to_gerror (reply, error))
    return NULL;
  body = g_dbus_message_get_body (reply);
  return body ? g_variant_ref (body) : g_variant_ref_sink (g_variant_new ("()"));
}

static void
send_message (GDBusConnection *conn, const char *path, const char *iface, const char *method,
              GVariant *params, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GDBusMessage) msg = g_dbus_message_new_method_call (BUS_NAME, path, iface, method);

  g_dbus_message_set_body (msg, params);
  g_dbus_message_set_flags (msg, G_DBUS_MESSAGE_FLAGS_NO_AUTO_START);
  g_dbus_connection_send_message_with_reply (conn, msg, G_DBUS_SEND_MESSAGE_FLAGS_NONE,
                                             CALL_TIMEOUT_MS, NULL, NULL, callback, user_data);
}

static void
on_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *c = user_data;
  Fuzz *fz = c->fz;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = send_message_finish (G_DBUS_CONNECTION (source), result, &error);
  gint64 latency = g_get_monotonic_time () - c->sent_us;

  fz->in_flight--;
  /* The priming burst's answers wait for the client to build its messages. */
  if (c->index >= MAX_IN_FLIGHT && latency > fz->max_latency_us)
    {
      fz->max_latency_us = latency;
      g_free (fz->slowest);
      fz->slowest = describe_call (c);
    }
  if (reply)
    handle_success (fz, c, reply);
  else
    handle_error (fz, c, error);
  call_free (c);
}

/* ------------------------------------------------------------------------------------ */
/* Building calls */

static Call *
call_new (Fuzz *fz, const char *kind, const char *path, const char *iface, const char *method)
{
  Call *c = g_new0 (Call, 1);
  c->fz = fz;
  c->kind = g_intern_string (kind);
  c->path = g_strdup (path);
  c->iface = iface ? g_intern_string (iface) : NULL;
  c->method = g_intern_string (method);
  return c;
}

static void
expect_error (Call *c, const char *err1, const char *err2)
{
  c->certain = TRUE;
  c->ok_allowed = FALSE;
  c->err1 = err1;
  c->err2 = err2;
}

static void
expect_ok (Call *c, GVariant *value)
{
  c->certain = TRUE;
  c->ok_allowed = TRUE;
  if (value)
    c->expect_value = g_variant_ref_sink (value);
}

static void
expect_ok_or (Call *c, const char *err1)
{
  c->certain = TRUE;
  c->ok_allowed = TRUE;
  c->err1 = err1;
}

/* Unicode noncharacters (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF) are valid in D-Bus
 * strings, but sd-bus (libsystemd) refuses to read them; qmgrd then answers
 * InvalidArgs in the contract's form. */
static gboolean
has_noncharacter (GVariant *v)
{
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING) ||
      g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH) ||
      g_variant_is_of_type (v, G_VARIANT_TYPE_SIGNATURE))
    {
      for (const char *p = g_variant_get_string (v, NULL); *p; p = g_utf8_next_char (p))
        {
          gunichar ch = g_utf8_get_char (p);
          if ((ch >= 0xFDD0 && ch <= 0xFDEF) || (ch & 0xFFFE) == 0xFFFE)
            return TRUE;
        }
      return FALSE;
    }
  if (g_variant_is_container (v))
    {
      gsize n = g_variant_n_children (v);
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (v, i);
          if (has_noncharacter (child))
            return TRUE;
        }
    }
  return FALSE;
}

static void
send_call (Fuzz *fz, Call *c, GVariant *params)
{
  if (c->qmgrd_handler && has_noncharacter (params))
    {
      expect_error (c, E_INVALID_ARGS, NULL);
      c->check = NULL;
    }
  g_assert_true (g_variant_is_object_path (c->path));
  g_assert_true (g_variant_is_of_type (params, G_VARIANT_TYPE_TUPLE));
  c->params = g_variant_ref_sink (params);
  c->index = fz->issued++;
  c->sent_us = g_get_monotonic_time ();
  count (fz->kind_counts, c->kind);
  fz->in_flight++;
  send_message (fz->conn, c->path, c->iface, c->method, c->params, on_reply, c);
}

/* A call with the right signature to one of qmgrd's own methods: its errors are qmgrd's. */
static Call *
qmgrd_call (Fuzz *fz, const char *kind, const char *path, const char *iface,
            const MethodInfo *m)
{
  Call *c = call_new (fz, kind, path, iface, m->name);
  c->qmgrd_handler = TRUE;
  c->reply_type = m->out;
  return c;
}

static const MethodInfo *
method_named (const MethodInfo *table, gsize n, const char *name)
{
  for (gsize i = 0; i < n; i++)
    if (strcmp (table[i].name, name) == 0)
      return &table[i];
  g_assert_not_reached ();
  return NULL;
}

#define GROUP_METHOD(name) method_named (group_iface.methods, group_iface.n_methods, (name))
#define JOB_METHOD(name) method_named (job_iface.methods, job_iface.n_methods, (name))
#define MANAGER_METHOD(name) method_named (manager_iface.methods, manager_iface.n_methods, (name))

/* ---- checks on replies ---- */

static char *
check_enum_has_stable (Fuzz *fz, Call *c, GVariant *reply)
{
  g_autofree const char **ids = NULL;

  g_variant_get (reply, "(^a&s)", &ids);
  for (guint i = 0; i < fz->stable->len; i++)
    {
      Group *g = g_ptr_array_index (fz->stable, i);
      if (!g_strv_contains (ids, g->guid))
        return g_strdup_printf ("EnumGroups lacks the seeded group %s", g->guid);
    }
  for (guint i = 0; ids[i]; i++)
    {
      guint8 b[16];
      g_autofree char *canon = NULL;
      if (!guid_bytes_from_string (ids[i], b) || strlen (ids[i]) != 36)
        return g_strdup_printf ("EnumGroups returned \"%s\", not a dashed GUID", ids[i]);
      canon = guid_dashed (b);
      if (strcmp (canon, ids[i]) != 0)
        return g_strdup_printf ("EnumGroups returned \"%s\", not lowercase", ids[i]);
    }
  return NULL;
}

static char *
check_group_status (Fuzz *fz, Call *c, GVariant *reply)
{
  guint32 status, job_index;
  g_variant_get (reply, "(uu)", &status, &job_index);
  if (job_index != 0)
    return g_strdup_printf ("GetStatus job_index %u, the contract says 0", job_index);
  if ((status & ~0x7c0u) != 0)
    return g_strdup_printf ("group status 0x%x has bits outside QM_STATUS_GROUP_*", status);
  return NULL;
}

static char *
check_no_password (Fuzz *fz, Call *c, GVariant *reply)
{
  g_autofree char *text = g_variant_print (reply, FALSE);
  if (strstr (text, PASSWORD_MARKER))
    return g_strdup ("the stored REMOTEUSERPWD appears in a reply");
  return NULL;
}

static const GVariantType *
prop_value_type (guint32 id)
{
  switch (id)
    {
    case 0: case 5: case 6: return G_VARIANT_TYPE_UINT32;
    case 1: case 2: case 7: case 11: case 12: return G_VARIANT_TYPE_STRING;
    default: return NULL;
    }
}

static char *
check_getprop (Fuzz *fz, Call *c, GVariant *reply)
{
  g_autoptr(GVariant) inner = NULL;
  guint32 id;
  const GVariantType *want;

  g_variant_get (c->params, "(u)", &id);
  g_variant_get (reply, "(v)", &inner);
  want = prop_value_type (id);
  if (want && !g_variant_is_of_type (inner, want))
    return g_strdup_printf ("GetProp(%u) returned a %s", id, g_variant_get_type_string (inner));
  return check_no_password (fz, c, reply);
}

static const PropInfo *
props_for_iface (const char *iface, gsize *n)
{
  const IfaceInfo *info = NULL;

  if (g_strcmp0 (iface, IFACE_MANAGER) == 0)
    info = &manager_iface;
  else if (g_strcmp0 (iface, IFACE_GROUP) == 0)
    info = &group_iface;
  else if (g_strcmp0 (iface, IFACE_JOB) == 0)
    info = &job_iface;
  *n = info != NULL ? info->n_props : 0;
  return info != NULL ? info->props : NULL;
}

static char *
check_getall (Fuzz *fz, Call *c, GVariant *reply)
{
  g_autoptr(GVariant) dict = g_variant_get_child_value (reply, 0);
  const char *iface;
  gsize n;
  const PropInfo *props;
  const char *id;
  guint32 owner;

  g_variant_get (c->params, "(&s)", &iface);
  props = props_for_iface (iface, &n);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) v = g_variant_lookup_value (dict, props[i].name, NULL);
      if (v == NULL)
        return g_strdup_printf ("GetAll(%s) lacks %s", iface, props[i].name);
      if (!g_variant_is_of_type (v, G_VARIANT_TYPE (props[i].type)))
        return g_strdup_printf ("GetAll(%s): %s is a %s, the contract says %s", iface,
                                props[i].name, g_variant_get_type_string (v), props[i].type);
    }
  if (c->group && strcmp (iface, IFACE_GROUP) == 0)
    {
      g_variant_lookup (dict, "GroupID", "&s", &id);
      g_variant_lookup (dict, "Owner", "u", &owner);
      if (strcmp (id, c->group->guid) != 0)
        return g_strdup_printf ("GroupID is %s, expected %s", id, c->group->guid);
      if (owner != getuid ())
        return g_strdup_printf ("Owner is %u, the caller is uid %u", owner, getuid ());
    }
  if (c->group && c->group->stable && strcmp (iface, IFACE_JOB) == 0)
    {
      g_variant_lookup (dict, "JobID", "&s", &id);
      if (strcmp (id, c->group->job_guid) != 0)
        return g_strdup_printf ("JobID is %s, expected %s", id, c->group->job_guid);
    }
  return check_no_password (fz, c, reply);
}

static char *
check_get (Fuzz *fz, Call *c, GVariant *reply)
{
  g_autoptr(GVariant) inner = NULL;
  const char *iface, *name;
  const PropInfo *props, *p;
  gsize n;

  g_variant_get (c->params, "(&s&s)", &iface, &name);
  g_variant_get (reply, "(v)", &inner);
  props = props_for_iface (iface, &n);
  p = props ? find_prop (props, n, name) : NULL;
  if (p && !g_variant_is_of_type (inner, G_VARIANT_TYPE (p->type)))
    return g_strdup_printf ("%s.%s is a %s, the contract says %s", iface, name,
                            g_variant_get_type_string (inner), p->type);
  return NULL;
}

static char *
check_managed_objects (Fuzz *fz, Call *c, GVariant *reply)
{
  g_autoptr(GVariant) objects = g_variant_get_child_value (reply, 0);

  for (guint i = 0; i < fz->stable->len; i++)
    {
      Group *g = g_ptr_array_index (fz->stable, i);
      g_autoptr(GVariant) ifaces = g_variant_lookup_value (objects, g->path, NULL);
      g_autoptr(GVariant) job_ifaces = g_variant_lookup_value (objects, g->job_path, NULL);
      if (ifaces == NULL || job_ifaces == NULL)
        return g_strdup_printf ("GetManagedObjects lacks seeded group %s or its job", g->guid);
    }
  return check_no_password (fz, c, reply);
}

/* ---- value generators for the contract's rules ---- */

/* A value for SetProp(@id) and whether the contract makes its answer certain. */
static GVariant *
setprop_value (Fuzz *fz, guint32 id, gboolean *certain, gboolean *ok)
{
  gboolean numeric = id == 0 || id == 5 || id == 6;
  gboolean string = id == 1 || id == 2 || id == 7 || id == 11 || id == 12;
  GVariant *v;

  *certain = FALSE;
  *ok = FALSE;

  if (id > 12)
    {
      *certain = TRUE;
      return random_variant (fz, 0);
    }
  if (numeric && chance (fz, 70))
    {
      guint64 value;
      gboolean negative = FALSE;
      switch (rnd (fz, 4))
        {
        case 0:
          value = hostile_u32 (fz);
          v = g_variant_new_uint32 ((guint32) value);
          break;
        case 1:
          {
            gint32 i = (gint32) hostile_u32 (fz);
            negative = i < 0;
            value = (guint64) i;
            v = g_variant_new_int32 (i);
            break;
          }
        case 2:
          value = (guint16) hostile_u32 (fz);
          v = g_variant_new_uint16 ((guint16) value);
          break;
        default:
          {
            gint16 i = (gint16) hostile_u32 (fz);
            negative = i < 0;
            value = (guint64) i;
            v = g_variant_new_int16 (i);
            break;
          }
        }
      *certain = TRUE;
      if (negative)
        *ok = FALSE;
      else if (id == 0 || id == 5)
        *ok = value == 1;
      else
        *ok = (value & ~(guint64) 0x1c7) == 0;
      return v;
    }
  if (string && chance (fz, 70))
    {
      if (id == 7 && chance (fz, 60))
        {
          guint k = rnd (fz, G_N_ELEMENTS (clsids));
          *certain = TRUE;
          *ok = clsids[k].ok;
          return g_variant_new_string (clsids[k].value);
        }
      else
        {
          char *s = hostile_string (fz);
          if (id == 11 || id == 12)
            {
              *certain = TRUE;
              *ok = id == 11 ? text_ok (s, 256, FALSE) : text_ok (s, 1024, TRUE);
            }
          else if (id == 1 && strchr (s, ':'))
            *certain = TRUE;
          return g_variant_new_take_string (s);
        }
    }
  /* The wrong type for the id (or an unsupported id). */
  for (;;)
    {
      gboolean accepted_type;
      v = g_variant_ref_sink (random_variant (fz, 0));
      accepted_type = (numeric && (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32) ||
                                   g_variant_is_of_type (v, G_VARIANT_TYPE_INT32) ||
                                   g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16) ||
                                   g_variant_is_of_type (v, G_VARIANT_TYPE_INT16))) ||
                      (string && g_variant_is_of_type (v, G_VARIANT_TYPE_STRING));
      if (!accepted_type)
        break;
      g_variant_unref (v);
    }
  *certain = numeric || string;
  return v;
}

static guint32
hostile_prop_id (Fuzz *fz)
{
  if (chance (fz, 85))
    return rnd (fz, 21);
  return hostile_u32 (fz);
}

/* An AddFiles entry the contract certainly rejects. */
static GVariant *
bad_entry (Fuzz *fz)
{
  const char *dir = fz->files_dir;
  g_autofree char *base = g_path_get_basename (dir);
  g_autofree char *good_path = g_strdup_printf ("%s/bad-%" G_GUINT64_FORMAT, dir,
                                                fz->file_counter++);
  const char *good_url = "http://127.0.0.1:9/x";
  g_autofree char *url = NULL;
  g_autofree char *path = NULL;

  switch (rnd (fz, 19))
    {
    case 0: path = g_strdup ("relative/file"); break;
    case 1: path = g_strdup (""); break;
    case 2: path = g_strdup_printf ("%s/../%s/x", dir, base); break;
    case 3: path = g_strdup_printf ("%s/./x", dir); break;
    case 4: path = g_strdup_printf ("%s//x", dir); break;
    case 5: path = g_strdup_printf ("%s/a%cb", dir, PICK (fz, ((const char[]) { '\x01', '\n',
                                                                              '\x7f', '\x1b' })));
      break;
    case 17:  /* C1 controls are control characters too: NEL, CSI (an 8-bit escape) */
      path = g_strdup_printf ("%s/a%sb", dir, chance (fz, 50) ? "\xc2\x85" : "\xc2\x9b[2J");
      break;
    case 6:
      {
        GString *s = g_string_new (dir);
        while (s->len < 4200)
          g_string_append (s, "/aaaaaaaa");
        path = g_string_free (s, FALSE);
        break;
      }
    case 7: url = g_strdup ("file:///etc/passwd"); break;
    case 8: url = g_strdup ("ftp://127.0.0.1:9/x"); break;
    case 9: url = g_strdup ("http://user:secret@127.0.0.1:9/x"); break;
    case 10: url = g_strdup ("https://user@127.0.0.1:9/x"); break;
    case 11:
      {
        GString *s = g_string_new ("http://127.0.0.1:9/");
        while (s->len <= 3000)
          g_string_append (s, "aaaaaaaaaa");
        url = g_string_free (s, FALSE);
        break;
      }
    case 12: url = g_strdup ("http://127.0.0.1:9/a b"); break;
    case 13: url = g_strdup ("http://127.0.0.1:9/a\r\nX-Injected: 1"); break;
    case 14: url = g_strdup ("http://127.0.0.1:9/a\tb"); break;
    case 15: url = g_strdup (""); break;
    case 16: url = g_strdup (PICK (fz, ((const char *const[]) { "javascript:alert(1)", "data:,x",
                                                               "gopher://127.0.0.1:9/",
                                                               "smb://host.invalid/share/x",
                                                               "/just/a/path" })));
      break;
    default: url = g_strdup ("http://127.0.0.1:9/\x01"); break;
    }
  return g_variant_new ("(sst)", url ? url : good_url, path ? path : good_path, hostile_u64 (fz));
}

/* An entry the contract accepts: unreachable URL, fresh destination in files_dir. */
static GVariant *
good_entry (Fuzz *fz)
{
  static const char *const urls[] = {
    "http://127.0.0.1:9/file", "https://127.0.0.1:9/f?q=1&r=%20", "http://[::1]:9/a/b/c",
    "HTTP://127.0.0.1:9/UPPER", "http://localhost:9/x#frag", "https://host.invalid/x",
  };
  static const char *const names[] = { "f", "f with spaces", "f-\xc3\xa9t\xc3\xa9",
                                       "f.part", ".hidden", ("f\xe2\x80\xae" "txt.exe") };
  g_autofree char *path = g_strdup_printf ("%s/%s-%" G_GUINT64_FORMAT, fz->files_dir,
                                           PICK (fz, names), fz->file_counter++);
  return g_variant_new ("(sst)", PICK (fz, urls), path, hostile_u64 (fz));
}

/* An entry the contract may accept or reject. */
static GVariant *
junk_entry (Fuzz *fz, gboolean small)
{
  g_autofree char *url = NULL;
  g_autofree char *path = NULL;

  switch (rnd (fz, 8))
    {
    case 0: url = small ? small_hostile_string (fz, 100) : hostile_string (fz); break;
    case 1: url = g_strdup_printf ("http://127.0.0.1:9/%s", "\xc3\xa9"); break;
    case 2: url = g_strdup ("http://[::1]:99999/x"); break;
    case 3: url = g_strdup ("http:///nohost"); break;
    case 4: url = g_strdup ("http://h\xc3\xa9st.invalid/x"); break;
    default: url = g_strdup ("http://127.0.0.1:9/j"); break;
    }
  switch (rnd (fz, 8))
    {
    case 0: path = small ? small_hostile_string (fz, 100) : hostile_string (fz); break;
    case 1: path = g_strdup_printf ("%s/x-%" G_GUINT64_FORMAT, fz->ro_dir, fz->file_counter++);
      break;
    case 2: path = g_strdup_printf ("%s/x", fz->missing_dir); break;
    case 3: path = g_strdup (fz->files_dir); break;
    case 4: path = g_strdup_printf ("%s/trailing/", fz->files_dir); break;
    case 5: path = g_strdup ("/"); break;
    case 6: path = g_strdup_printf ("%s/\xef\xbf\xbe-%" G_GUINT64_FORMAT, fz->files_dir,
                                    fz->file_counter++);
      break;
    default: path = g_strdup_printf ("%s/j-%" G_GUINT64_FORMAT, fz->files_dir, fz->file_counter++);
      break;
    }
  return g_variant_new ("(sst)", url, path, hostile_u64 (fz));
}

/* AddFiles arguments. For @stable targets at least one entry is certainly bad; otherwise
 * often all are valid (*n_valid says how many). */
static GVariant *
addfiles_params (Fuzz *fz, gboolean stable, gboolean allow_big, guint *n_valid,
                 gboolean *certain_bad_out)
{
  GVariantBuilder b;
  guint n;
  gboolean valid_batch = !stable && chance (fz, 45);
  gboolean certain_bad;
  guint bad_at;

  *n_valid = 0;
  *certain_bad_out = FALSE;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sst)"));
  if (valid_batch)
    {
      n = allow_big && chance (fz, 3) ? BIG_BATCH : 1 + rnd (fz, 3);
      for (guint i = 0; i < n; i++)
        g_variant_builder_add_value (&b, good_entry (fz));
      *n_valid = n;
      return g_variant_new ("(@a(sst))", g_variant_builder_end (&b));
    }

  n = chance (fz, 3) ? 5000 : rnd (fz, 9);
  certain_bad = stable || chance (fz, 50);
  if (certain_bad && n == 0)
    n = 1;
  *certain_bad_out = certain_bad;
  bad_at = n ? rnd (fz, n) : 0;
  for (guint i = 0; i < n; i++)
    {
      if (certain_bad && i == bad_at)
        g_variant_builder_add_value (&b, bad_entry (fz));
      else if (chance (fz, 40))
        g_variant_builder_add_value (&b, good_entry (fz));
      else
        g_variant_builder_add_value (&b, junk_entry (fz, n > 10));
    }
  return g_variant_new ("(@a(sst))", g_variant_builder_end (&b));
}

static const char *const odd_object_paths[] = {
  "/", "/a", "/io/github/qmgrd/QMgr1", "/org/freedesktop/DBus", "/_/_0/__", "/cb",
  "/io/github/qmgrd/QMgr1/group", "/A/B/C/D/E/F/G/H/I/J/K/L/M/N/O/P/Q/R/S/T/U/V/W/X/Y/Z",
};

static char *
odd_object_path (Fuzz *fz)
{
  if (chance (fz, 5))
    {
      GString *s = g_string_new (NULL);
      guint n = 1 + rnd (fz, 2000);
      for (guint i = 0; i < n; i++)
        g_string_append (s, "/x");
      return g_string_free (s, FALSE);
    }
  if (chance (fz, 5))
    {
      GString *s = g_string_new ("/");
      for (guint i = 0; i < 255; i++)
        g_string_append_c (s, 'e');
      return g_string_free (s, FALSE);
    }
  return g_strdup (PICK (fz, odd_object_paths));
}

/* ---- one call per family ---- */

static void
gen_manager (Fuzz *fz)
{
  guint r = rnd (fz, 100);
  Call *c;

  if (r < 45)
    {
      const MethodInfo *m = MANAGER_METHOD ("CreateGroup");
      g_autofree char *arg = NULL;
      g_autofree char *dashed = NULL;
      guint k = rnd (fz, 100);

      c = qmgrd_call (fz, "CreateGroup", MANAGER_PATH, IFACE_MANAGER, m);
      if (k < 30)
        {
          arg = g_strdup ("");
          expect_ok_or (c, E_LIMITS);
          c->action = ACT_NEW_GROUP;
        }
      else if (k < 50)
        {
          arg = random_guid_any_style (fz, &dashed);
          {
            g_autofree char *hex = guid_hex (dashed);
            g_autofree char *path = g_strconcat (GROUP_PREFIX, hex, NULL);
            expect_ok_or (c, E_LIMITS);
            c->expect_value = g_variant_ref_sink (g_variant_new ("(o)", path));
          }
          c->action = ACT_NEW_GROUP;
        }
      else if (k < 72)
        {
          arg = malformed_guid (fz);
          expect_error (c, E_INVALID_ARGS, NULL);
        }
      else if (k < 80)
        {
          Group *g = pick_stable (fz);
          arg = guid_any_style (fz, g->guid);
          expect_error (c, E_INVALID_ARGS, NULL);
        }
      else if (k < 85)
        {
          Group *g = pick_stable (fz);
          arg = guid_any_style (fz, g->job_guid);
          expect_error (c, E_INVALID_ARGS, NULL);
        }
      else if (k < 90 && fz->gone_groups->len > 0)
        {
          /* Reuse the GUID of a cancelled group: from now on it may exist again. */
          guint i = rnd (fz, fz->gone_groups->len);
          const char *path = g_ptr_array_index (fz->gone_groups, i);
          g_autofree char *hex = g_strdup (path + strlen (GROUP_PREFIX));
          guint8 b[16];
          g_assert_true (guid_bytes_from_string (hex, b));
          arg = guid_render (b, rnd (fz, GS_N_STYLES));
          g_ptr_array_remove_index (fz->gone_groups, i);
          c->action = ACT_NEW_GROUP;
        }
      else
        {
          arg = hostile_string (fz);
          c->action = ACT_NEW_GROUP;
        }
      send_call (fz, c, g_variant_new ("(s)", arg));
    }
  else if (r < 80)
    {
      const MethodInfo *m = MANAGER_METHOD ("GetGroup");
      g_autofree char *arg = NULL;
      guint k = rnd (fz, 100);

      c = qmgrd_call (fz, "GetGroup", MANAGER_PATH, IFACE_MANAGER, m);
      if (k < 30)
        {
          arg = random_guid_any_style (fz, NULL);
          expect_error (c, E_ITEM_NOT_FOUND, NULL);
        }
      else if (k < 55)
        {
          Group *g = pick_stable (fz);
          arg = guid_any_style (fz, g->guid);
          expect_ok (c, g_variant_new ("(o)", g->path));
        }
      else if (k < 70)
        {
          arg = malformed_guid (fz);
          expect_error (c, E_INVALID_ARGS, NULL);
        }
      else if (k < 78)
        {
          /* A job's GUID is not a group's. */
          Group *g = pick_stable (fz);
          arg = guid_any_style (fz, g->job_guid);
          expect_error (c, E_ITEM_NOT_FOUND, NULL);
        }
      else if (k < 86 && fz->gone_groups->len > 0)
        {
          const char *path = pick_from (fz, fz->gone_groups);
          guint8 b[16];
          g_assert_true (guid_bytes_from_string (path + strlen (GROUP_PREFIX), b));
          arg = guid_render (b, rnd (fz, GS_N_STYLES));
          expect_error (c, E_ITEM_NOT_FOUND, NULL);
        }
      else if (k < 92 && fz->volatile_groups->len > 0)
        {
          Group *g = pick_from (fz, fz->volatile_groups);
          arg = guid_any_style (fz, g->guid);
        }
      else
        arg = hostile_string (fz);
      send_call (fz, c, g_variant_new ("(s)", arg));
    }
  else
    {
      const MethodInfo *m = MANAGER_METHOD ("EnumGroups");
      guint32 flags = chance (fz, 50) ? 0 : hostile_u32 (fz);

      c = qmgrd_call (fz, "EnumGroups", MANAGER_PATH, IFACE_MANAGER, m);
      if (flags != 0)
        expect_error (c, E_NOT_SUPPORTED, NULL);
      else
        {
          expect_ok (c, NULL);
          c->check = check_enum_has_stable;
        }
      send_call (fz, c, g_variant_new ("(u)", flags));
    }
}

/* Progress types: PERCENT_DONE 1 and SIZE_DONE 3 work, TIME_DONE 2 is NotSupported. */
static void
expect_progress (Call *c, guint32 flags)
{
  if (flags == 1 || flags == 3)
    expect_ok (c, NULL);
  else if (flags == 2)
    expect_error (c, E_NOT_SUPPORTED, NULL);
  else
    expect_error (c, E_INVALID_ARGS, NULL);
}

/* Group methods on @g. Every group the fuzz picks exists when the daemon reads the call
 * (a group leaves the volatile list when its CancelGroup is sent), so whatever follows
 * from the arguments alone is certain; what depends on the group's state only for
 * stable groups. */
static void
gen_group (Fuzz *fz, Group *g)
{
  const char *name = PICK (fz, group_weighted);
  const MethodInfo *m = GROUP_METHOD (name);
  gboolean stable = g->stable;
  GVariant *params = NULL;
  Call *c;

  if (stable && m->destructive)
    {
      name = "GetStatus";
      m = GROUP_METHOD (name);
    }
  c = qmgrd_call (fz, name, g->path, IFACE_GROUP, m);
  c->group = g;

  if (strcmp (name, "GetProp") == 0)
    {
      guint32 id = hostile_prop_id (fz);
      params = g_variant_new ("(u)", id);
      c->check = check_getprop;
      if (id > 12)
        expect_error (c, E_INVALID_ARGS, NULL);
      else if (id == 3 || id == 4 || (id >= 8 && id <= 10))
        expect_error (c, E_NOT_SUPPORTED, NULL);
      else if (id == 0 || id == 5)
        expect_ok (c, g_variant_new ("(v)", g_variant_new_uint32 (1)));
      else if (id == 2)
        expect_ok (c, g_variant_new ("(v)", g_variant_new_string ("")));
      else
        expect_ok (c, NULL);
    }
  else if (strcmp (name, "SetProp") == 0)
    {
      guint32 id = hostile_prop_id (fz);
      gboolean certain, ok;
      g_autoptr(GVariant) value = g_variant_ref_sink (setprop_value (fz, id, &certain, &ok));
      params = g_variant_new ("(uv)", id, value);
      if (certain)
        {
          if (ok)
            expect_ok (c, NULL);
          else
            expect_error (c, E_INVALID_ARGS, NULL);
        }
      else if (id == 3 || id == 4 || (id >= 8 && id <= 10))
        expect_error (c, E_NOT_SUPPORTED, E_INVALID_ARGS);
    }
  else if (strcmp (name, "GetProgress") == 0)
    {
      guint32 flags = hostile_u32 (fz);
      params = g_variant_new ("(u)", flags);
      expect_progress (c, flags);
    }
  else if (strcmp (name, "GetStatus") == 0)
    {
      params = g_variant_new ("()");
      c->check = check_group_status;
      expect_ok (c, NULL);
    }
  else if (strcmp (name, "GetJob") == 0)
    {
      g_autofree char *arg = NULL;
      guint k = rnd (fz, 100);
      if (stable && k < 25)
        {
          arg = guid_any_style (fz, g->job_guid);
          expect_ok (c, g_variant_new ("(o)", g->job_path));
        }
      else if (k < 45)
        {
          arg = random_guid_any_style (fz, NULL);
          expect_error (c, E_ITEM_NOT_FOUND, NULL);
        }
      else if (k < 60)
        {
          Group *other = pick_stable (fz);
          /* Another group's job, or this group's own GUID: not this group's job. */
          arg = guid_any_style (fz, other == g ? g->guid : other->job_guid);
          expect_error (c, E_ITEM_NOT_FOUND, NULL);
        }
      else if (k < 80)
        {
          arg = malformed_guid (fz);
          expect_error (c, E_INVALID_ARGS, NULL);
        }
      else if (!stable && g->job_guid && k < 90)
        arg = guid_any_style (fz, g->job_guid);
      else
        arg = hostile_string (fz);
      params = g_variant_new ("(s)", arg);
    }
  else if (strcmp (name, "SuspendGroup") == 0 || strcmp (name, "SwitchToForeground") == 0)
    {
      /* Only COMPLETE refuses, and nothing here ever completes (the URLs lead nowhere). */
      params = g_variant_new ("()");
      expect_ok (c, NULL);
    }
  else if (strcmp (name, "ResumeGroup") == 0)
    {
      params = g_variant_new ("()");
      if (stable)
        expect_ok (c, NULL);
      else
        expect_ok_or (c, E_INVALID_STATE);  /* no job or no files yet */
    }
  else if (strcmp (name, "CancelGroup") == 0)
    {
      params = g_variant_new ("()");
      expect_ok (c, NULL);
      c->action = ACT_GROUP_GONE;
      g_ptr_array_remove (fz->volatile_groups, g);
    }
  else if (strcmp (name, "CreateJob") == 0)
    {
      g_autofree char *arg = NULL;
      guint k = rnd (fz, 100);
      gboolean fresh = FALSE, hostile = FALSE;
      if (k < 35)
        {
          arg = g_strdup ("");
          fresh = TRUE;
        }
      else if (k < 65)
        {
          arg = random_guid_any_style (fz, NULL);
          fresh = TRUE;
        }
      else if (k < 80)
        arg = malformed_guid (fz);
      else if (k < 88)
        {
          /* GUIDs are unique across the whole queue. */
          Group *other = pick_stable (fz);
          arg = guid_any_style (fz, chance (fz, 50) ? other->guid : other->job_guid);
        }
      else
        {
          arg = hostile_string (fz);
          hostile = TRUE;
        }
      params = g_variant_new ("(s)", arg);
      /* A group with a job: NotSupported, unless the argument's error comes first. A
       * group without one is suspended (CancelJob leaves it so). */
      if (fresh && stable)
        expect_error (c, E_NOT_SUPPORTED, NULL);
      else if (fresh)
        expect_ok_or (c, E_NOT_SUPPORTED);
      else if (!hostile)
        expect_error (c, E_NOT_SUPPORTED, E_INVALID_ARGS);
      if (!stable)
        c->action = ACT_NEW_JOB;
    }
  else if (strcmp (name, "EnumJobs") == 0)
    {
      guint32 flags = chance (fz, 50) ? 0 : hostile_u32 (fz);
      params = g_variant_new ("(u)", flags);
      if (flags != 0)
        expect_error (c, E_NOT_SUPPORTED, NULL);
      else if (stable)
        {
          const char *ids[] = { g->job_guid, NULL };
          expect_ok (c, g_variant_new ("(^as)", ids));
        }
      else
        expect_ok (c, NULL);
    }
  else if (strcmp (name, "QueryNewJobInterface") == 0)
    {
      gboolean right = chance (fz, 40);
      g_autofree char *arg = right ? g_strdup (IFACE_JOB) : hostile_string (fz);
      params = g_variant_new ("(s)", arg);
      if (strcmp (arg, IFACE_JOB) != 0)
        expect_error (c, E_NOT_SUPPORTED, NULL);
      else if (stable)
        expect_ok (c, g_variant_new ("(o)", g->job_path));
      else
        expect_ok_or (c, E_ITEM_NOT_FOUND);
    }
  else if (strcmp (name, "SetNotificationPointer") == 0)
    {
      gboolean right = chance (fz, 60);
      g_autofree char *iface = right ? g_strdup (IFACE_CALLBACK) : hostile_string (fz);
      g_autofree char *path = odd_object_path (fz);
      params = g_variant_new ("(so)", iface, path);
      if (strcmp (iface, IFACE_CALLBACK) == 0)
        expect_ok (c, NULL);
      else
        expect_error (c, E_NOT_SUPPORTED, NULL);
    }
  else if (strcmp (name, "TakeOwnership") == 0)
    {
      params = g_variant_new ("()");
      expect_error (c, E_NOT_SUPPORTED, NULL);
    }
  else
    g_assert_not_reached ();

  send_call (fz, c, params);
}

/* Job methods on @g's job, which exists when the daemon reads the call (the job path is
 * forgotten when its CancelJob is sent). */
static void
gen_job (Fuzz *fz, Group *g)
{
  const char *name = PICK (fz, job_weighted);
  const MethodInfo *m = JOB_METHOD (name);
  gboolean stable = g->stable;
  guint n_files = stable ? (guint) g_variant_n_children (g->files) : 0;
  GVariant *params = NULL;
  Call *c;

  if (stable && m->destructive)
    {
      name = "GetFileCount";
      m = JOB_METHOD (name);
    }
  c = qmgrd_call (fz, name, g->job_path, IFACE_JOB, m);
  c->group = g;

  if (strcmp (name, "AddFiles") == 0)
    {
      gboolean certain_bad;
      params = addfiles_params (fz, stable, fz->volatile_files + BIG_BATCH <= MAX_VOLATILE_FILES,
                                &c->n_valid, &certain_bad);
      g->n_files += c->n_valid;
      fz->volatile_files += c->n_valid;
      /* Nothing ever completes, so InvalidState cannot come first. */
      if (certain_bad)
        expect_error (c, E_INVALID_ARGS, NULL);
      else if (c->n_valid)
        expect_ok (c, NULL);
    }
  else if (strcmp (name, "GetFile") == 0 || strcmp (name, "GetFileStatus") == 0)
    {
      gboolean in_range = stable ? chance (fz, 50) : chance (fz, 20);
      guint32 index = in_range ? rnd (fz, MAX (n_files, 1)) : hostile_u32 (fz);
      params = g_variant_new ("(u)", index);
      if (stable && index >= n_files)
        expect_error (c, E_ITEM_NOT_FOUND, NULL);
      else if (!stable && index > 100000)  /* beyond the quota of files per job */
        expect_error (c, E_ITEM_NOT_FOUND, NULL);
      else if (stable && strcmp (name, "GetFile") == 0)
        {
          g_autoptr(GVariant) entry = g_variant_get_child_value (g->files, index);
          expect_ok (c, g_variant_new ("(@(sst))", entry));
        }
      else if (stable)
        expect_ok (c, NULL);
    }
  else if (strcmp (name, "GetFileCount") == 0)
    {
      params = g_variant_new ("()");
      expect_ok (c, stable ? g_variant_new ("(u)", n_files) : NULL);
    }
  else if (strcmp (name, "GetProgress") == 0)
    {
      guint32 flags = hostile_u32 (fz);
      params = g_variant_new ("(u)", flags);
      expect_progress (c, flags);
    }
  else if (strcmp (name, "GetStatus") == 0 || strcmp (name, "SwitchToForeground") == 0)
    {
      params = g_variant_new ("()");
      expect_ok (c, NULL);
    }
  else if (strcmp (name, "CancelJob") == 0)
    {
      params = g_variant_new ("()");
      expect_ok (c, NULL);
      c->action = ACT_JOB_GONE;
      g_clear_pointer (&g->job_path, g_free);
      g_clear_pointer (&g->job_guid, g_free);
    }
  else
    g_assert_not_reached ();

  send_call (fz, c, params);
}

/* org.freedesktop.DBus.Properties on the manager, a stable or a volatile object (all exist
 * when the daemon reads the call: see gen_group()). */
static void
gen_properties (Fuzz *fz)
{
  const char *path, *iface;
  const PropInfo *props;
  gsize n_props;
  Group *g = NULL;
  guint which = rnd (fz, 10);
  guint op = rnd (fz, 10);
  Call *c;

  if (which < 2)
    {
      path = MANAGER_PATH;
      iface = IFACE_MANAGER;
    }
  else if (which < 6 || fz->volatile_groups->len == 0)
    {
      g = pick_stable (fz);
      if (chance (fz, 35))
        {
          path = g->job_path;
          iface = IFACE_JOB;
        }
      else
        {
          path = g->path;
          iface = IFACE_GROUP;
        }
    }
  else
    {
      g = pick_from (fz, fz->volatile_groups);
      path = g->path;
      iface = IFACE_GROUP;
    }
  props = props_for_iface (iface, &n_props);

  if (op < 3)
    {
      gboolean known = chance (fz, 80);
      const char *name = known ? props[rnd (fz, (guint32) n_props)].name
                               : PICK (fz, ((const char *const[]) { "NoSuchProperty", "",
                                                                    "groupid", "Password",
                                                                    "RemoteUserPwd" }));
      c = call_new (fz, "Properties.Get", path, IFACE_PROPS, "Get");
      c->reply_type = "(v)";
      c->check = check_get;
      if (find_prop (props, n_props, name))
        expect_ok (c, NULL);
      else
        expect_error (c, E_UNKNOWN_PROP, NULL);
      send_call (fz, c, g_variant_new ("(ss)", iface, name));
    }
  else if (op < 5)
    {
      gboolean own = chance (fz, 85);
      const char *asked = own ? iface
                              : PICK (fz, ((const char *const[]) { "", "org.example.Nope",
                                                                   IFACE_CALLBACK }));
      c = call_new (fz, "Properties.GetAll", path, IFACE_PROPS, "GetAll");
      c->reply_type = "(a{sv})";
      c->group = g;
      if (own)
        {
          c->check = check_getall;
          expect_ok (c, NULL);
        }
      send_call (fz, c, g_variant_new ("(s)", asked));
    }
  else
    {
      const PropInfo *p = &props[rnd (fz, (guint32) n_props)];
      gboolean right_type = chance (fz, 60);
      GVariant *value = NULL;
      gboolean certain = FALSE, ok = FALSE;
      gboolean unknown = chance (fz, 5);

      c = call_new (fz, "Properties.Set", path, IFACE_PROPS, "Set");
      c->reply_type = "()";
      if (right_type && p->writable && !unknown)
        {
          /* The daemon's own setter runs: its errors are qmgrd errors. */
          c->qmgrd_handler = TRUE;
          if (strcmp (p->type, "s") == 0)
            {
              if (strcmp (p->name, "NotifyClsid") == 0 && chance (fz, 60))
                {
                  guint k = rnd (fz, G_N_ELEMENTS (clsids));
                  value = g_variant_new_string (clsids[k].value);
                  certain = TRUE;
                  ok = clsids[k].ok;
                }
              else
                {
                  char *s = hostile_string (fz);
                  if (strcmp (p->name, "DisplayName") == 0)
                    certain = TRUE, ok = text_ok (s, 256, FALSE);
                  else if (strcmp (p->name, "Description") == 0)
                    certain = TRUE, ok = text_ok (s, 1024, TRUE);
                  value = g_variant_new_take_string (s);
                }
            }
          else if (strcmp (p->type, "u") == 0)
            {
              guint32 v = hostile_u32 (fz);
              if (strcmp (p->name, "MaxConcurrentTransfers") == 0 && chance (fz, 70))
                v = 1 + rnd (fz, 16);
              value = g_variant_new_uint32 (v);
              if (strcmp (p->name, "Priority") == 0 || strcmp (p->name, "ProtocolFlags") == 0)
                certain = TRUE, ok = v == 1;
              else if (strcmp (p->name, "NotifyFlags") == 0)
                certain = TRUE, ok = (v & ~0x1c7u) == 0;
              else if (strcmp (p->name, "TransferPolicy") == 0)
                certain = TRUE, ok = v == 0 || ((v & ~0x800000ffu) == 0 && (v & 0xffu) != 0);
            }
          else
            value = g_variant_new_uint64 (hostile_u64 (fz));
          if (certain)
            {
              if (ok)
                expect_ok (c, NULL);
              else
                expect_error (c, E_INVALID_ARGS, NULL);
            }
        }
      else
        {
          if (right_type)
            value = default_value (p->type);
          else
            do
              {
                if (value)
                  g_variant_unref (g_variant_ref_sink (value));
                value = random_variant (fz, 0);
              }
            while (g_variant_is_of_type (value, G_VARIANT_TYPE (p->type)));
          if (unknown)
            expect_error (c, E_UNKNOWN_PROP, NULL);
          else if (!p->writable)
            expect_error (c, E_READ_ONLY, NULL);
          else
            expect_error (c, E_INVALID_ARGS, NULL);
        }
      send_call (fz, c, g_variant_new ("(ssv)", iface, unknown ? "NoSuchProperty" : p->name,
                                       value));
    }
}

/* Calls on objects that certainly do not exist. */
static void
gen_missing_object (Fuzz *fz)
{
  Group *s = pick_stable (fz);
  Group *other = pick_stable (fz);
  g_autofree char *path = NULL;
  g_autofree char *random_hex = NULL;
  gboolean job = FALSE;
  g_autofree char *dashed = NULL;

  g_free (random_guid_any_style (fz, &dashed));
  random_hex = guid_hex (dashed);

  switch (rnd (fz, 10))
    {
    case 0:
    case 1:
      if (fz->gone_groups->len > 0)
        {
          path = g_strdup (pick_from (fz, fz->gone_groups));
          break;
        }
      G_GNUC_FALLTHROUGH;
    case 2:
      if (fz->gone_jobs->len > 0)
        {
          path = g_strdup (pick_from (fz, fz->gone_jobs));
          job = TRUE;
          break;
        }
      G_GNUC_FALLTHROUGH;
    case 3:
      path = g_strconcat (GROUP_PREFIX, random_hex, NULL);
      break;
    case 4:
      path = g_strconcat (s->path, "/job/", random_hex, NULL);
      job = TRUE;
      break;
    case 5:  /* the path is lowercase: uppercase is another (missing) object */
      {
        g_autofree char *hex = guid_hex (s->guid);
        g_autofree char *upper = g_ascii_strup (hex, -1);
        path = g_strconcat (GROUP_PREFIX, upper, NULL);
        break;
      }
    case 6:  /* a job's GUID as a group */
      {
        g_autofree char *hex = guid_hex (s->job_guid);
        path = g_strconcat (GROUP_PREFIX, hex, NULL);
        break;
      }
    case 7:  /* another group's job under this group */
      if (other != s)
        {
          g_autofree char *hex = guid_hex (other->job_guid);
          path = g_strconcat (s->path, "/job/", hex, NULL);
          job = TRUE;
          break;
        }
      G_GNUC_FALLTHROUGH;
    case 8:
      path = g_strconcat (s->path, chance (fz, 50) ? "/extra" : "/job", NULL);
      break;
    default:
      path = g_strconcat (s->job_path, "/x", NULL);
      job = TRUE;
      break;
    }

  {
    const IfaceInfo *info = job ? &job_iface : &group_iface;
    const MethodInfo *m = &info->methods[rnd (fz, (guint32) info->n_methods)];
    Call *c = call_new (fz, job ? "missing job" : "missing group", path,
                        job ? IFACE_JOB : IFACE_GROUP, m->name);
    GVariant *params;

    if (strcmp (m->in, "()") == 0)
      params = g_variant_new ("()");
    else if (strcmp (m->in, "(u)") == 0)
      params = g_variant_new ("(u)", hostile_u32 (fz));
    else if (strcmp (m->in, "(s)") == 0)
      params = g_variant_new_parsed ("(%s,)", "");
    else if (strcmp (m->in, "(uv)") == 0)
      params = g_variant_new ("(uv)", 11, g_variant_new_string ("x"));
    else if (strcmp (m->in, "(so)") == 0)
      params = g_variant_new ("(so)", IFACE_CALLBACK, "/");
    else if (strcmp (m->in, "(a(sst))") == 0)
      {
        guint ignored;
        gboolean bad;
        params = addfiles_params (fz, TRUE, FALSE, &ignored, &bad);
      }
    else
      params = default_value (m->in);
    expect_error (c, E_UNKNOWN_OBJECT, NULL);
    send_call (fz, c, params);
  }
}

/* Paths that may or may not name something; answers only from the allowed set. */
static void
gen_odd_path (Fuzz *fz)
{
  static const char *const paths[] = {
    "/", "/io", "/io/github/qmgrd", "/io/github/qmgrd/QMgr1/group",
    "/io/github/qmgrd/QMgr1/group/_",
    "/io/github/qmgrd/QMgr1/group/0", "/io/github/qmgrd/QMgr1/job", "/org/freedesktop/DBus",
    "/io/github/qmgrd/QMgr1/group/00000000000000000000000000000000",
  };
  static const char *const ifaces[] = { IFACE_MANAGER, IFACE_GROUP, IFACE_JOB, IFACE_PROPS,
                                        IFACE_INTRO, IFACE_PEER, IFACE_OBJMGR };
  g_autofree char *path = g_strdup (PICK (fz, paths));
  const char *iface = PICK (fz, ifaces);
  const char *method = PICK (fz, ((const char *const[]) { "GetStatus", "EnumGroups", "Introspect",
                                                         "Ping", "GetAll", "GetManagedObjects",
                                                         "CreateGroup", "GetFileCount" }));
  Call *c = call_new (fz, "odd path", path, iface, method);
  send_call (fz, c, random_tuple (fz));
}

static gboolean
same_signature (GVariant *params, const char *in)
{
  return strcmp (g_variant_get_type_string (params), in) == 0;
}

/* Known methods on existing objects, with the wrong arguments: InvalidArgs. */
static void
gen_wrong_signature (Fuzz *fz)
{
  Group *g = pick_stable (fz);
  const char *path, *iface;
  const MethodInfo *m;
  GVariant *params;
  Call *c;

  switch (rnd (fz, 4))
    {
    case 0:
      path = MANAGER_PATH;
      iface = IFACE_MANAGER;
      m = &manager_iface.methods[rnd (fz, (guint32) manager_iface.n_methods)];
      break;
    case 1:
      path = g->path;
      iface = IFACE_GROUP;
      m = &group_iface.methods[rnd (fz, (guint32) group_iface.n_methods)];
      break;
    case 2:
      path = g->job_path;
      iface = IFACE_JOB;
      m = &job_iface.methods[rnd (fz, (guint32) job_iface.n_methods)];
      break;
    default:
      path = chance (fz, 50) ? g->path : MANAGER_PATH;
      iface = IFACE_PROPS;
      m = &props_methods[rnd (fz, G_N_ELEMENTS (props_methods))];
      break;
    }

  switch (rnd (fz, 4))
    {
    case 0:  /* no arguments */
      params = g_variant_new ("()");
      break;
    case 1:  /* the right ones and one more */
      {
        GVariantBuilder b;
        const GVariantType *in = G_VARIANT_TYPE (m->in);
        g_variant_builder_init (&b, G_VARIANT_TYPE_TUPLE);
        for (const GVariantType *t = g_variant_type_first (in); t; t = g_variant_type_next (t))
          {
            if (g_variant_type_equal (t, G_VARIANT_TYPE_STRING))
              g_variant_builder_add (&b, "s", IFACE_GROUP);
            else if (g_variant_type_equal (t, G_VARIANT_TYPE_UINT32))
              g_variant_builder_add (&b, "u", 0);
            else if (g_variant_type_equal (t, G_VARIANT_TYPE_OBJECT_PATH))
              g_variant_builder_add (&b, "o", "/");
            else if (g_variant_type_equal (t, G_VARIANT_TYPE_VARIANT))
              g_variant_builder_add (&b, "v", g_variant_new_uint32 (1));
            else
              {
                g_autofree char *type = g_variant_type_dup_string (t);
                g_variant_builder_add_value (&b, default_value (type));
              }
          }
        g_variant_builder_add_value (&b, random_variant (fz, 0));
        params = g_variant_builder_end (&b);
        break;
      }
    case 2:  /* a near miss: a signed or 64-bit number, a string for a number... */
      switch (rnd (fz, 4))
        {
        case 0: params = g_variant_new ("(i)", -1); break;
        case 1: params = g_variant_new ("(s)", "0"); break;
        case 2: params = g_variant_new ("(o)", "/"); break;
        default: params = g_variant_new ("(t)", G_GUINT64_CONSTANT (1) << 40); break;
        }
      break;
    default:
      params = random_tuple (fz);
      break;
    }
  if (same_signature (params, m->in))
    {
      g_variant_unref (g_variant_ref_sink (params));
      params = g_variant_new ("(ddd)", 1.0, 2.0, 3.0);
    }

  c = call_new (fz, "wrong signature", path, iface, m->name);
  /* sd-bus reads the arguments of Properties calls leniently: any allowed answer. */
  if (strcmp (iface, IFACE_PROPS) != 0)
    expect_error (c, E_INVALID_ARGS, NULL);
  send_call (fz, c, params);
}

/* Unknown methods and interfaces, and calls without an interface. */
static void
gen_unknown (Fuzz *fz)
{
  static const char *const own_iface[] = { IFACE_MANAGER, IFACE_GROUP, IFACE_JOB };
  Group *g = pick_stable (fz);
  guint target = rnd (fz, 3);
  const char *path = target == 0 ? MANAGER_PATH : target == 1 ? g->path : g->job_path;
  Call *c;

  switch (rnd (fz, 4))
    {
    case 0:
      {
        /* A known interface without that method, or an interface the object lacks. */
        const char *iface = PICK (fz, ((const char *const[]) { IFACE_MANAGER, IFACE_GROUP,
                                                               IFACE_JOB, IFACE_CALLBACK }));
        const char *method = PICK (fz, ((const char *const[]) { "NoSuchMethod", "createGroup",
                                                               "CreateGroup2", "OnStatus",
                                                               "Get", "Release" }));
        gboolean has_iface = strcmp (iface, own_iface[target]) == 0;
        /* Manager methods on a group, Group methods on a job... must not be found. */
        if (!has_iface && chance (fz, 50))
          method = strcmp (iface, IFACE_MANAGER) == 0 ? "EnumGroups"
                 : strcmp (iface, IFACE_GROUP) == 0 ? "GetStatus"
                 : strcmp (iface, IFACE_JOB) == 0 ? "GetFileCount" : "OnStatus";
        c = call_new (fz, "unknown method", path, iface, method);
        expect_error (c, E_UNKNOWN_METHOD, E_UNKNOWN_IFACE);
        send_call (fz, c, strcmp (method, "EnumGroups") == 0 ? g_variant_new ("(u)", 0)
                                                             : g_variant_new ("()"));
        break;
      }
    case 1:
      c = call_new (fz, "unknown interface", path,
                    PICK (fz, ((const char *const[]) { "org.example.Nope", "io.github.qmgrd.QMgr1",
                                                       "io.github.qmgrd.QMgr1.Nope",
                                                       "org.freedesktop.DBus" })),
                    "GetStatus");
      expect_error (c, E_UNKNOWN_METHOD, E_UNKNOWN_IFACE);
      send_call (fz, c, g_variant_new ("()"));
      break;
    default:
      {
        /* No interface: only members that change nothing. */
        const char *method = PICK (fz, ((const char *const[]) { "GetStatus", "EnumGroups",
                                                               "GetFileCount", "GetProp",
                                                               "Introspect", "Ping", "GetAll",
                                                               "NoSuchMethod", "Get",
                                                               "GetManagedObjects" }));
        c = call_new (fz, "no interface", path, NULL, method);
        send_call (fz, c, chance (fz, 50) ? g_variant_new ("()") : random_tuple (fz));
        break;
      }
    }
}

/* Introspection, Peer, ObjectManager. */
static void
gen_standard (Fuzz *fz)
{
  Group *g = chance (fz, 50) || fz->volatile_groups->len == 0 ? pick_stable (fz)
                                                              : pick_from (fz, fz->volatile_groups);
  guint target = rnd (fz, 3);
  const char *path = target == 0 ? MANAGER_PATH
                   : target == 1 || g->job_path == NULL ? g->path : g->job_path;
  Call *c;

  switch (rnd (fz, 4))
    {
    case 0:
      c = call_new (fz, "Introspect", path, IFACE_INTRO, "Introspect");
      c->reply_type = "(s)";
      expect_ok (c, NULL);
      send_call (fz, c, g_variant_new ("()"));
      break;
    case 1:
      c = call_new (fz, "Ping", path, IFACE_PEER, chance (fz, 70) ? "Ping" : "GetMachineId");
      send_call (fz, c, g_variant_new ("()"));
      break;
    default:
      c = call_new (fz, "GetManagedObjects", MANAGER_PATH, IFACE_OBJMGR, "GetManagedObjects");
      c->reply_type = "(a{oa{sa{sv}}})";
      c->check = check_managed_objects;
      expect_ok (c, NULL);
      send_call (fz, c, g_variant_new ("()"));
      break;
    }
}

/* ---- orphans: calls from a connection that leaves before the answers ---- */

static void
orphan_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GVariant *reply = send_message_finish (G_DBUS_CONNECTION (source), result, NULL);

  g_clear_pointer (&reply, g_variant_unref);
}

static void
orphan_burst (Fuzz *fz)
{
  g_autoptr(GDBusConnection) conn = qmgr_test_daemon_new_connection (fz->daemon);

  for (guint i = 0; i < 12; i++)
    {
      Group *g = pick_stable (fz);
      const char *path = g->path, *iface = IFACE_GROUP, *method;
      GVariant *params;

      switch (i % 6)
        {
        case 0:
        case 1:
          method = "SetNotificationPointer";
          params = g_variant_new ("(so)", IFACE_CALLBACK, chance (fz, 50) ? "/cb" : "/");
          break;
        case 2:
          path = MANAGER_PATH;
          iface = IFACE_MANAGER;
          method = "EnumGroups";
          params = g_variant_new ("(u)", 0);
          break;
        case 3:
          path = MANAGER_PATH;
          iface = IFACE_OBJMGR;
          method = "GetManagedObjects";
          params = g_variant_new ("()");
          break;
        case 4:
          {
            guint ignored;
            gboolean bad;
            path = g->job_path;
            iface = IFACE_JOB;
            method = "AddFiles";
            params = addfiles_params (fz, TRUE, FALSE, &ignored, &bad);
            break;
          }
        default:
          iface = IFACE_PROPS;
          method = "GetAll";
          params = g_variant_new ("(s)", IFACE_GROUP);
          break;
        }
      send_message (conn, path, iface, method, params, orphan_done, NULL);
      fz->orphan_calls++;
    }
  g_dbus_connection_flush_sync (conn, NULL, NULL);
  g_dbus_connection_close_sync (conn, NULL, NULL);
}

/* ---- messages that get no answer: unicast signals, calls that want no reply ---- */

static void
send_unsolicited (Fuzz *fz)
{
  g_autoptr(GError) error = NULL;
  const char *unique = g_dbus_connection_get_unique_name (fz->conn);
  Group *g = pick_stable (fz);

  fz->unsolicited++;
  switch (rnd (fz, 5))
    {
    case 0:
      /* A forged NameOwnerChanged: the bus stamps our name as its sender, and the daemon
       * must only believe the real one (else a client could end another's pointers). */
      g_dbus_connection_emit_signal (fz->conn, BUS_NAME, "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "NameOwnerChanged",
                                     g_variant_new ("(sss)",
                                                    chance (fz, 50) ? unique : BUS_NAME,
                                                    chance (fz, 50) ? unique : "", ""),
                                     &error);
      break;
    case 1:
      g_dbus_connection_emit_signal (fz->conn, BUS_NAME, "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus",
                                     chance (fz, 50) ? "NameLost" : "NameAcquired",
                                     g_variant_new ("(s)", BUS_NAME), &error);
      break;
    case 2:
      g_dbus_connection_emit_signal (fz->conn, BUS_NAME, g->path, IFACE_CALLBACK, "OnStatus",
                                     random_tuple (fz), &error);
      break;
    case 3:
      g_dbus_connection_emit_signal (fz->conn, BUS_NAME, g->path, IFACE_GROUP,
                                     PICK (fz, ((const char *const[]) { "OnStatus", "OnProgress",
                                                                        "CancelGroup" })),
                                     random_tuple (fz), &error);
      break;
    default:
      {
        /* A call that wants no reply: the daemon must not answer nor keep it. */
        guint ignored;
        gboolean bad;
        g_autoptr(GDBusMessage) msg = g_dbus_message_new_method_call (BUS_NAME, g->job_path,
                                                                      IFACE_JOB, "AddFiles");
        g_dbus_message_set_body (msg, addfiles_params (fz, TRUE, FALSE, &ignored, &bad));
        g_dbus_message_set_flags (msg, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
        g_dbus_connection_send_message (fz->conn, msg, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                        &error);
        break;
      }
    }
  g_assert_no_error (error);
}

/* ---- the mix ---- */

static void
issue_next (Fuzz *fz)
{
  guint r;

  if (fz->issued % ORPHAN_EVERY == ORPHAN_EVERY / 2)
    orphan_burst (fz);
  if (chance (fz, 1))
    send_unsolicited (fz);

  /* Keep the store bounded: the oldest volatile group goes first. */
  if (fz->volatile_groups->len >= MAX_VOLATILE)
    {
      Group *g = g_ptr_array_index (fz->volatile_groups, 0);
      Call *c = qmgrd_call (fz, "CancelGroup", g->path, IFACE_GROUP, GROUP_METHOD ("CancelGroup"));
      c->group = g;
      c->action = ACT_GROUP_GONE;
      expect_ok (c, NULL);
      g_ptr_array_remove_index (fz->volatile_groups, 0);
      send_call (fz, c, g_variant_new ("()"));
      return;
    }

  r = rnd (fz, 1000);
  if (r < 120)
    gen_manager (fz);
  else if (r < 330)
    gen_group (fz, pick_stable (fz));
  else if (r < 450)
    gen_job (fz, pick_stable (fz));
  else if (r < 600)
    {
      Group *g = pick_from (fz, fz->volatile_groups);
      if (g == NULL)
        gen_manager (fz);
      else
        gen_group (fz, g);
    }
  else if (r < 700)
    {
      Group *g = pick_from (fz, fz->volatile_groups);
      if (g == NULL || g->job_path == NULL)
        gen_group (fz, g ? g : pick_stable (fz));
      else
        gen_job (fz, g);
    }
  else if (r < 800)
    gen_properties (fz);
  else if (r < 850)
    gen_missing_object (fz);
  else if (r < 870)
    gen_odd_path (fz);
  else if (r < 930)
    gen_wrong_signature (fz);
  else if (r < 970)
    gen_unknown (fz);
  else
    gen_standard (fz);
}

/* The largest messages the fuzz sends, all in flight at once: the daemon's memory
 * reaches its high-water mark during the warm-up, so later growth means a leak. */
static void
issue_priming_burst (Fuzz *fz)
{
  for (guint i = 0; i < MAX_IN_FLIGHT && fz->issued < fz->n_calls; i++)
    {
      Group *g = g_ptr_array_index (fz->stable, i % fz->stable->len);
      GString *big = g_string_sized_new (HUGE_MAX);
      Call *c;

      while (big->len < HUGE_MAX)
        g_string_append (big, "../\xc3\xa9");
      switch (i % 4)
        {
        case 0:
          c = qmgrd_call (fz, "CreateGroup", MANAGER_PATH, IFACE_MANAGER,
                          MANAGER_METHOD ("CreateGroup"));
          expect_error (c, E_INVALID_ARGS, NULL);
          send_call (fz, c, g_variant_new ("(s)", big->str));
          break;
        case 1:
          c = qmgrd_call (fz, "SetProp", g->path, IFACE_GROUP, GROUP_METHOD ("SetProp"));
          expect_error (c, E_INVALID_ARGS, NULL);
          send_call (fz, c, g_variant_new ("(uv)", 12, g_variant_new_string (big->str)));
          break;
        case 2:
          {
            GVariantBuilder b;
            c = qmgrd_call (fz, "AddFiles", g->job_path, IFACE_JOB, JOB_METHOD ("AddFiles"));
            expect_error (c, E_INVALID_ARGS, NULL);
            g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sst)"));
            for (guint k = 0; k < 5000; k++)
              g_variant_builder_add_value (&b, k == 4999 ? bad_entry (fz) : junk_entry (fz, TRUE));
            send_call (fz, c, g_variant_new ("(@a(sst))", g_variant_builder_end (&b)));
            break;
          }
        default:
          c = call_new (fz, "wrong signature", g->path, IFACE_GROUP, "GetJob");
          expect_error (c, E_INVALID_ARGS, NULL);
          send_call (fz, c, g_variant_new ("(ss)", big->str, big->str));
          break;
        }
      g_string_free (big, TRUE);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Seeding, checkpoints */

static GVariant *
call_sync (Fuzz *fz, const char *path, const char *iface, const char *method, GVariant *params,
           const char *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = qmgr_test_call (fz->daemon, path, iface, method, params, reply_type, &error);
  g_assert_no_error (error);
  return reply;
}

static void
seed_stable_groups (Fuzz *fz)
{
  static const guint n_files[N_STABLE] = { 3, 1, 5, 2, 64, 1 };

  for (guint i = 0; i < N_STABLE; i++)
    {
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GVariant) job_reply = NULL;
      GVariantBuilder b;
      const char *path;
      Group *g;

      reply = call_sync (fz, MANAGER_PATH, IFACE_MANAGER, "CreateGroup", g_variant_new ("(s)", ""),
                         "(o)");
      g_variant_get (reply, "(&o)", &path);
      g = group_new (fz, path);
      g->stable = TRUE;
      g_ptr_array_add (fz->stable, g);

      job_reply = call_sync (fz, g->path, IFACE_GROUP, "CreateJob", g_variant_new ("(s)", ""),
                             "(o)");
      g_variant_get (job_reply, "(&o)", &path);
      set_job (g, path);

      g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sst)"));
      for (guint k = 0; k < n_files[i]; k++)
        {
          g_autofree char *url = NULL;
          g_autofree char *dest = g_strdup_printf ("%s/seed-%u-%u", fz->files_dir, i, k);
          guint64 hint = k % 3 == 0 ? 0 : k % 3 == 1 ? 12345 : G_MAXUINT64;
          switch (k % 3)
            {
            case 0: url = g_strdup_printf ("http://127.0.0.1:9/seed/%u/%u", i, k); break;
            case 1: url = g_strdup_printf ("https://[::1]:9/seed/%u/%u?x=1", i, k); break;
            default: url = g_strdup_printf ("http://localhost:9/seed/%u/%u#f", i, k); break;
            }
          g_variant_builder_add (&b, "(sst)", url, dest, hint);
        }
      g->files = g_variant_ref_sink (g_variant_builder_end (&b));
      g_variant_unref (call_sync (fz, g->job_path, IFACE_JOB, "AddFiles",
                                  g_variant_new ("(@a(sst))", g->files), "()"));

      if (i == 3)
        {
          g_variant_unref (call_sync (fz, g->path, IFACE_GROUP, "SetProp",
                                      g_variant_new ("(uv)", 1, g_variant_new_string ("fuzzuser")),
                                      "()"));
          g_variant_unref (call_sync (fz, g->path, IFACE_GROUP, "SetProp",
                                      g_variant_new ("(uv)", 2,
                                                     g_variant_new_string (PASSWORD_MARKER)),
                                      "()"));
          g_variant_unref (call_sync (fz, g->path, IFACE_GROUP, "SetProp",
                                      g_variant_new ("(uv)", 11,
                                                     g_variant_new_string ("Seeded \xe2\x9c\x93")),
                                      "()"));
        }
      if (i % 2 == 1 || i == 4)
        g_variant_unref (call_sync (fz, g->path, IFACE_GROUP, "ResumeGroup", NULL, "()"));
      if (i == 2)
        g_variant_unref (call_sync (fz, g->path, IFACE_GROUP, "SwitchToForeground", NULL, "()"));
    }
}

/* A few groups for the fuzz to work on from the first call. */
static void
seed_volatile_groups (Fuzz *fz)
{
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(GVariant) reply = call_sync (fz, MANAGER_PATH, IFACE_MANAGER, "CreateGroup",
                                             g_variant_new ("(s)", ""), "(o)");
      const char *path;
      Group *g;

      g_variant_get (reply, "(&o)", &path);
      g = group_new (fz, path);
      g_ptr_array_add (fz->volatile_groups, g);
      if (i > 0)
        {
          g_autoptr(GVariant) job = call_sync (fz, g->path, IFACE_GROUP, "CreateJob",
                                               g_variant_new ("(s)", ""), "(o)");
          g_variant_get (job, "(&o)", &path);
          set_job (g, path);
        }
      if (i > 1)
        {
          /* The largest groups the fuzz keeps at once, from the start: the warm-up sees
           * the daemon's peak. */
          GVariantBuilder b;
          g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sst)"));
          for (guint k = 0; k < BIG_BATCH; k++)
            g_variant_builder_add_value (&b, good_entry (fz));
          g_variant_unref (call_sync (fz, g->job_path, IFACE_JOB, "AddFiles",
                                      g_variant_new ("(@a(sst))", g_variant_builder_end (&b)),
                                      "()"));
          g->n_files = BIG_BATCH;
          fz->volatile_files += BIG_BATCH;
        }
      if (i == 3)
        g_variant_unref (call_sync (fz, g->path, IFACE_GROUP, "ResumeGroup", NULL, "()"));
    }
}

/* The daemon returns free heap pages once no request has come for a few seconds
 * (TRIM_AFTER_S in bus.c) and says so with --verbose. RSS read after that is the
 * memory it holds, not the high-water mark of the burst just before; RSS read at
 * once moves with whatever was in flight (-5 % to +74 % in six runs). */
#define HEAP_RETURNED_LINE "free heap pages returned to the system"
#define HEAP_RETURNED_TIMEOUT_MS 15000

typedef struct {
  const char *log_path;
  gsize offset;
  long heap_in_use_kib;   /* from the line found, -1 if it had no figure */
} LogWait;

/* The daemon's memory at a checkpoint, in KiB; -1 where unknown. */
typedef struct {
  long rss;
  long rss_anon;
  long heap_in_use;
} Memory;

static gsize
log_size (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 ? (gsize) st.st_size : 0;
}

static gboolean
log_has_line_after (gpointer user_data)
{
  LogWait *w = user_data;
  g_autofree char *log = NULL;
  gsize len;

  const char *line, *eol, *figure;
  g_autofree char *text = NULL;
  char *end = NULL;
  long kib;

  if (!g_file_get_contents (w->log_path, &log, &len, NULL) || len <= w->offset)
    return FALSE;
  line = memmem (log + w->offset, len - w->offset, HEAP_RETURNED_LINE,
                 strlen (HEAP_RETURNED_LINE));
  /* Only a whole line: the daemon may be writing it as we read. */
  eol = line != NULL ? memchr (line, '\n', (gsize) (log + len - line)) : NULL;
  if (eol == NULL)
    return FALSE;
  /* "... (heap: N KiB in use, M KiB free)", within this line */
  text = g_strndup (line, (gsize) (eol - line));
  figure = strstr (text, "(heap: ");
  w->heap_in_use_kib = -1;
  if (figure != NULL)
    {
      kib = strtol (figure + strlen ("(heap: "), &end, 10);
      if (end != figure + strlen ("(heap: ") && g_str_has_prefix (end, " KiB in use"))
        w->heap_in_use_kib = kib;
    }
  return TRUE;
}

/* Everything quiet: cancel what the fuzz created, check that exactly the seeded objects
 * remain, measure the daemon's memory — when @settled, once the daemon has returned
 * its free heap after these calls (the heap in use is known only then). */
static Memory
checkpoint (Fuzz *fz, const char *label, gboolean settled)
{
  Memory mem = { -1, -1, -1 };
  g_autoptr(GVariant) groups = NULL;
  g_autoptr(GVariant) objects = NULL;
  g_autoptr(GVariant) inner = NULL;
  g_autofree const char **ids = NULL;

  g_assert_cmpuint (fz->in_flight, ==, 0);
  if (fz->fatal)
    return mem;

  while (fz->volatile_groups->len > 0)
    {
      Group *g = g_ptr_array_index (fz->volatile_groups, 0);
      g_autoptr(GError) error = NULL;
      GVariant *reply = qmgr_test_call (fz->daemon, g->path, IFACE_GROUP, "CancelGroup", NULL,
                                        "()", &error);
      if (reply)
        g_variant_unref (reply);
      else
        {
          g_autofree char *what = g_strdup_printf ("%s: CancelGroup %s failed: %s", label, g->path,
                                                   error->message);
          violation (fz, NULL, "checkpoint cancel", what);
        }
      mark_group_gone (fz, g);
    }

  groups = call_sync (fz, MANAGER_PATH, IFACE_MANAGER, "EnumGroups", g_variant_new ("(u)", 0),
                      "(as)");
  g_variant_get (groups, "(^a&s)", &ids);
  if (g_strv_length ((char **) ids) != fz->stable->len)
    {
      g_autofree char *list = g_strjoinv (" ", (char **) ids);
      g_autofree char *what = g_strdup_printf ("%s: %u groups remain, expected the %u seeded "
                                               "ones: %.2000s", label, g_strv_length ((char **) ids),
                                               fz->stable->len, list);
      violation (fz, NULL, "checkpoint groups", what);
    }
  for (guint i = 0; ids[i]; i++)
    {
      Group *g = i < fz->stable->len ? g_ptr_array_index (fz->stable, i) : NULL;
      if (g == NULL || strcmp (g->guid, ids[i]) != 0)
        {
          g_autofree char *what = g_strdup_printf ("%s: EnumGroups[%u] is %s, expected %s "
                                                   "(creation order)", label, i, ids[i],
                                                   g ? g->guid : "nothing");
          violation (fz, NULL, "checkpoint groups", what);
          /* Remove a ghost so that the RSS figures compare like with like. */
          if (g == NULL)
            {
              g_autoptr(GError) error = NULL;
              g_autoptr(GVariant) path = qmgr_test_call (fz->daemon, MANAGER_PATH, IFACE_MANAGER,
                                                         "GetGroup",
                                                         g_variant_new ("(s)", ids[i]), "(o)",
                                                         &error);
              if (path)
                {
                  const char *p;
                  g_variant_get (path, "(&o)", &p);
                  g_clear_pointer (&path, g_variant_unref);
                  path = qmgr_test_call (fz->daemon, p, IFACE_GROUP, "CancelGroup", NULL, NULL,
                                         NULL);
                }
            }
        }
    }

  objects = call_sync (fz, MANAGER_PATH, IFACE_OBJMGR, "GetManagedObjects", NULL,
                       "(a{oa{sa{sv}}})");
  inner = g_variant_get_child_value (objects, 0);
  if (g_variant_n_children (inner) != 2 * fz->stable->len)
    {
      g_autofree char *what = g_strdup_printf ("%s: GetManagedObjects lists %zu objects, expected "
                                               "%u (the seeded groups and their jobs)", label,
                                               g_variant_n_children (inner), 2 * fz->stable->len);
      violation (fz, NULL, "checkpoint objects", what);
    }
  for (guint i = 0; i < fz->stable->len; i++)
    {
      Group *g = g_ptr_array_index (fz->stable, i);
      g_autoptr(GVariant) n = call_sync (fz, g->job_path, IFACE_JOB, "GetFileCount", NULL, "(u)");
      guint32 n_files;
      g_variant_get (n, "(u)", &n_files);
      if (n_files != g_variant_n_children (g->files))
        {
          g_autofree char *what = g_strdup_printf ("%s: seeded job %s has %u files, expected %zu",
                                                   label, g->job_guid, n_files,
                                                   g_variant_n_children (g->files));
          violation (fz, NULL, "checkpoint files", what);
        }
    }

  g_variant_unref (call_sync (fz, MANAGER_PATH, IFACE_PEER, "Ping", NULL, "()"));
  if (settled)
    {
      /* Any such line written from now on comes from a trim after the Ping: one
       * only happens after a quiet period, and the Ping has just ended one. */
      LogWait w = { qmgr_test_daemon_get_log (fz->daemon), 0, -1 };

      w.offset = log_size (w.log_path);
      if (!qmgr_test_wait_until (log_has_line_after, &w, HEAP_RETURNED_TIMEOUT_MS))
        {
          g_autofree char *what = g_strdup_printf ("%s: the daemon did not return its free heap "
                                                   "within %d ms of the last request", label,
                                                   HEAP_RETURNED_TIMEOUT_MS);
          violation (fz, NULL, "heap not returned", what);
        }
      mem.heap_in_use = w.heap_in_use_kib;
    }
  /* The growth that counts is of the daemon's own memory: library pages mapped
   * in the first time a rare code path runs (a resolver module, say) are not
   * growth under load. Both figures are printed. */
  mem.rss = qmgr_test_daemon_get_rss_kib (fz->daemon);
  mem.rss_anon = qmgr_test_daemon_get_rss_anon_kib (fz->daemon);
  g_test_message ("checkpoint %s: %" G_GUINT64_FORMAT " calls, daemon RSS %ld KiB, anonymous "
                  "%ld KiB, heap in use %ld KiB", label, fz->issued, mem.rss, mem.rss_anon,
                  mem.heap_in_use);
  return mem;
}

static double
growth_pct (long before, long after)
{
  return before > 0 ? 100.0 * (double) (after - before) / (double) before : 0.0;
}

static gboolean daemon_uses_asan (void);

/* R3's memory verdict (see the top of the file). @full: a warm-up long enough
 * for the heap's bytes in use to be judged (the 100,000-call run). */
static void
judge_memory (Fuzz *fz, Memory warm, Memory end, gboolean full)
{
  g_test_message ("daemon RSS: %ld KiB after warm-up, %ld KiB at the end (%+.2f %%); anonymous "
                  "%ld -> %ld KiB (%+.2f %%); heap in use %ld -> %ld KiB (%+.2f %%)", warm.rss,
                  end.rss, growth_pct (warm.rss, end.rss), warm.rss_anon, end.rss_anon,
                  growth_pct (warm.rss_anon, end.rss_anon), warm.heap_in_use, end.heap_in_use,
                  growth_pct (warm.heap_in_use, end.heap_in_use));
  if (daemon_uses_asan ())
    {
      g_test_message ("AddressSanitizer build: its quarantine of freed blocks (256 MiB), not "
                      "qmgrd, decides the RSS here, so the 5 %% budget is not asserted; "
                      "LeakSanitizer checks for leaks when the daemon exits");
      return;
    }
  if (warm.rss <= 0 || end.rss <= 0 || warm.rss_anon <= 0 || end.rss_anon <= 0)
    return;   /* the daemon is gone: reported as such */
  if (end.rss_anon > warm.rss_anon + RSS_RUNAWAY_KIB)
    {
      g_autofree char *what = g_strdup_printf ("daemon anonymous RSS grew from %ld KiB to %ld KiB "
                                               "(more than %d KiB)", warm.rss_anon, end.rss_anon,
                                               RSS_RUNAWAY_KIB);
      violation (fz, NULL, "RSS", what);
    }
  if ((double) end.rss > (double) warm.rss * (1 + RSS_GROWTH_MAX))
    {
      g_autofree char *what = g_strdup_printf ("daemon RSS grew from %ld KiB to %ld KiB (> 5 %%, "
                                               "docs/targets.md R3)", warm.rss, end.rss);
      violation (fz, NULL, "RSS", what);
    }
  if (warm.heap_in_use <= 0 || end.heap_in_use <= 0)
    violation (fz, NULL, "heap figure", "the daemon's trim log line gave no heap figure");
  else if (full && (double) end.heap_in_use > (double) warm.heap_in_use * (1 + RSS_GROWTH_MAX))
    {
      g_autofree char *what = g_strdup_printf ("the daemon's heap in use grew from %ld KiB to %ld "
                                               "KiB (> 5 %%)", warm.heap_in_use,
                                               end.heap_in_use);
      violation (fz, NULL, "heap in use", what);
    }
  /* Anonymous RSS alone also counts the free pages that a block still in use
   * keeps resident, which the allocator decides: over the runs of this test
   * it grew by 0.4 % to 13.6 % of a ~2 MiB base (+44 to +284 KiB, all of it
   * in the heap, per smaps) while the bytes in use grew by 0.0 % to 1.5 % in
   * the full run. Reported, not failed. */
  if ((double) end.rss_anon > (double) warm.rss_anon * (1 + RSS_GROWTH_MAX))
    g_test_message ("anonymous RSS grew by more than 5 %% in this run (%ld -> %ld KiB); RSS "
                    "and the heap in use are within their budget", warm.rss_anon, end.rss_anon);
}

/* ------------------------------------------------------------------------------------ */
/* Driver */

static void
run_until (Fuzz *fz, guint64 until)
{
  while ((fz->issued < until && !fz->fatal) || fz->in_flight > 0)
    {
      while (fz->issued < until && !fz->fatal && fz->in_flight < MAX_IN_FLIGHT)
        issue_next (fz);
      g_main_context_iteration (NULL, TRUE);
    }
}

typedef struct {
  const char *name;
  gsize count;
} Row;

static int
row_compare (gconstpointer a, gconstpointer b)
{
  const Row *ra = a, *rb = b;
  if (ra->count != rb->count)
    return ra->count < rb->count ? 1 : -1;
  return strcmp (ra->name, rb->name);
}

static void
print_table (const char *title, GHashTable *table)
{
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (Row));
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Row row = { key, GPOINTER_TO_SIZE (value) };
      g_array_append_val (rows, row);
    }
  g_array_sort (rows, row_compare);
  g_test_message ("%-58s %8s", title, "count");
  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = &g_array_index (rows, Row, i);
      g_test_message ("%-58s %8zu", row->name, row->count);
    }
}

static gboolean
no_leftover_temp_files (gpointer user_data)
{
  Fuzz *fz = user_data;
  g_autoptr(GDir) dir = g_dir_open (fz->files_dir, 0, NULL);
  const char *name;

  if (dir == NULL)
    return TRUE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      gboolean ours = FALSE;
      if (!g_str_has_prefix (name, ".qmgrd-"))
        continue;
      for (guint i = 0; i < fz->stable->len; i++)
        {
          Group *g = g_ptr_array_index (fz->stable, i);
          g_autofree char *hex = guid_hex (g->job_guid);
          if (g_str_has_prefix (name + strlen (".qmgrd-"), hex))
            ours = TRUE;
        }
      if (!ours)
        return FALSE;
    }
  return TRUE;
}

static guint64
env_number (const char *name, guint64 fallback)
{
  const char *text = g_getenv (name);
  guint64 value;

  if (text == NULL || *text == '\0')
    return fallback;
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &value, NULL))
    g_error ("%s=%s is not a number", name, text);
  return value;
}

static gboolean
daemon_uses_asan (void)
{
  g_autofree char *contents = NULL;
  gsize len;

  if (!g_file_get_contents (g_getenv ("QMGRD_BINARY"), &contents, &len, NULL))
    return FALSE;
  return memmem (contents, len, "__asan_init", strlen ("__asan_init")) != NULL;
}

static guint64 arg_calls;

static void
test_hostile (void)
{
  g_autoptr(QmgrTestDaemon) daemon = NULL;
  Fuzz fzs = { 0 };
  Fuzz *fz = &fzs;
  Memory mem_warm, mem_end;
  guint64 warm_up_calls;
  gint64 t_start, t_end;
  gboolean running;
  double seconds;

  fz->n_calls = env_number ("QMGR_FUZZ_CALLS", arg_calls ? arg_calls : DEFAULT_CALLS);
  fz->seed = (guint32) env_number ("QMGR_FUZZ_SEED", DEFAULT_SEED);
  g_test_message ("hostile D-Bus fuzz: %" G_GUINT64_FORMAT " calls, seed %u "
                  "(QMGR_FUZZ_SEED=%u QMGR_FUZZ_CALLS=%" G_GUINT64_FORMAT " to repeat)",
                  fz->n_calls, fz->seed, fz->seed, fz->n_calls);
  g_print ("# seed %u, %" G_GUINT64_FORMAT " calls\n", fz->seed, fz->n_calls);

  daemon = qmgr_test_daemon_new ();
  qmgr_test_daemon_start (daemon, (const char *const[]) { "--verbose", NULL });
  fz->daemon = daemon;
  fz->conn = qmgr_test_daemon_get_connection (daemon);
  fz->rand = g_rand_new_with_seed (fz->seed);
  fz->files_dir = qmgr_test_daemon_get_files_dir (daemon);
  fz->ro_dir = g_build_filename (fz->files_dir, "read-only", NULL);
  fz->missing_dir = g_build_filename (fz->files_dir, "missing", "deeper", NULL);
  g_assert_cmpint (g_mkdir (fz->ro_dir, 0500), ==, 0);
  fz->all_groups = g_ptr_array_new_with_free_func ((GDestroyNotify) group_free);
  fz->stable = g_ptr_array_new ();
  fz->volatile_groups = g_ptr_array_new ();
  fz->gone_groups = g_ptr_array_new_with_free_func (g_free);
  fz->gone_jobs = g_ptr_array_new_with_free_func (g_free);
  fz->error_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fz->kind_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fz->violation_classes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  iface_load (&manager_iface, IFACE_MANAGER, manager_generated, G_N_ELEMENTS (manager_generated));
  iface_load (&group_iface, IFACE_GROUP, group_weighted, G_N_ELEMENTS (group_weighted));
  iface_load (&job_iface, IFACE_JOB, job_weighted, G_N_ELEMENTS (job_weighted));

  seed_stable_groups (fz);
  seed_volatile_groups (fz);

  t_start = g_get_monotonic_time ();
  issue_priming_burst (fz);
  run_until (fz, MAX (fz->n_calls / 10, MAX_IN_FLIGHT));
  mem_warm = checkpoint (fz, "warm-up", TRUE);
  warm_up_calls = fz->issued;
  /* Checkpoints every tenth show the trend: a leak climbs, allocator noise does not. */
  for (guint tenth = 2; tenth < 10; tenth++)
    {
      run_until (fz, fz->n_calls * tenth / 10);
      checkpoint (fz, "progress", FALSE);
    }
  run_until (fz, fz->n_calls);
  t_end = g_get_monotonic_time ();
  mem_end = checkpoint (fz, "end", TRUE);
  seconds = (double) (t_end - t_start) / G_USEC_PER_SEC;

  if (!fz->fatal && !qmgr_test_wait_until (no_leftover_temp_files, fz, 5000))
    violation (fz, NULL, "temp files",
               "temp files of cancelled jobs remain in the destination directory");

  g_test_message ("---- summary (seed %u) ----", fz->seed);
  g_test_message ("calls: %" G_GUINT64_FORMAT " in %.1f s = %.0f calls/s (+ %" G_GUINT64_FORMAT
                  " from connections that left early, %" G_GUINT64_FORMAT " signals and "
                  "no-reply calls)", fz->issued, seconds,
                  (double) fz->issued / MAX (seconds, 0.001), fz->orphan_calls, fz->unsolicited);
  g_test_message ("answers checked against a certain expectation: %" G_GUINT64_FORMAT,
                  fz->certain_checked);
  g_test_message ("longest error message: %" G_GUINT64_FORMAT " bytes; slowest answer: %.1f ms, "
                  "to %.300s", fz->max_error_len, (double) fz->max_latency_us / 1000,
                  fz->slowest ? fz->slowest : "-");
  print_table ("answer", fz->error_counts);
  print_table ("kind of call", fz->kind_counts);
  judge_memory (fz, mem_warm, mem_end, warm_up_calls >= HEAP_PLATEAU_CALLS);

  running = qmgr_test_daemon_is_running (daemon);
  if (!running)
    violation (fz, NULL, "daemon died", "the daemon is no longer running");
  if (fz->n_violations > 0)
    g_test_message ("daemon log: %s", qmgr_test_daemon_get_log (daemon));

  /* Asserts exit status 0: a sanitizer report fails the test here. */
  if (running)
    qmgr_test_daemon_stop (daemon);

  g_ptr_array_unref (fz->volatile_groups);
  g_ptr_array_unref (fz->stable);
  g_ptr_array_unref (fz->all_groups);
  g_ptr_array_unref (fz->gone_groups);
  g_ptr_array_unref (fz->gone_jobs);
  g_hash_table_unref (fz->error_counts);
  g_hash_table_unref (fz->kind_counts);
  g_rand_free (fz->rand);
  g_free (fz->ro_dir);
  g_free (fz->slowest);
  g_free (fz->missing_dir);
  iface_clear (&manager_iface);
  iface_clear (&group_iface);
  iface_clear (&job_iface);

  if (fz->n_violations > 0)
    {
      g_test_message ("%" G_GUINT64_FORMAT " violations (seed %u); the first %u of each class "
                      "are listed above as VIOLATION", fz->n_violations, fz->seed,
                      VIOLATIONS_SHOWN_PER_CLASS);
      print_table ("violation class", fz->violation_classes);
    }
  g_hash_table_unref (fz->violation_classes);
  g_assert_cmpuint (fz->n_violations, ==, 0);
}

int
main (int argc, char **argv)
{
  /* --calls=N before GTest sees the arguments (the "hostile-full" test entry). */
  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--calls="))
      {
        arg_calls = g_ascii_strtoull (argv[i] + strlen ("--calls="), NULL, 10);
        memmove (&argv[i], &argv[i + 1], (gsize) (argc - i) * sizeof (char *));
        argc--;
        i--;
      }

  /* The daemon's heap in use is judged (checkpoint): GLib before 2.76 keeps
   * the small blocks a thread freed through g_slice in magazines and slabs of
   * its own, which the first journal fold in the daemon's helper thread fills
   * (about 150 KiB, once, after the warm-up) and which would read as growth.
   * GLib 2.76 and later have no slice allocator; this makes older ones use
   * malloc too, which is what the check is about. */
  g_setenv ("G_SLICE", "always-malloc", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fuzz/hostile", test_hostile);
  return g_test_run ();
}
