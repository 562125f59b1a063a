/* qmgrd integration tests — the XML in introspection/ is the contract: the running
 * daemon's Introspect output must match it member by member (methods and their
 * arguments, signals, properties with access and EmitsChangedSignal), nothing more
 * and nothing less; and the XML itself must carry the signatures the contract fixes,
 * as the tables of its mirror docs/dbus-api.md state them. */
#include "it-util.h"

#include <string.h>

#define EMITS_CHANGED "org.freedesktop.DBus.Property.EmitsChangedSignal"

/* ---- the contract, as docs/dbus-api.md states it ----
 *
 * Read from the page's tables rather than copied here: per interface section
 * ("## io.github.qmgrd.QMgr1.X"), the rows of its "| method | in → out | rules |",
 * "| signal | arguments |", "| property | type | access | meaning |" and (the
 * callback interface, which only has arguments in) "| method | arguments |" tables. */

typedef struct {
  char *name;
  GPtrArray *args;   /* "direction:type:name" */
} MemberSpec;

typedef struct {
  char *name;
  char *type;
  gboolean writable;
  gboolean constant; /* EmitsChangedSignal = const */
} PropertySpec;

typedef struct {
  GPtrArray *methods;     /* MemberSpec */
  GPtrArray *signals;     /* MemberSpec */
  GPtrArray *properties;  /* PropertySpec */
} ContractSpec;

typedef enum {
  TABLE_NONE,
  TABLE_METHODS,
  TABLE_SIGNALS,
  TABLE_PROPERTIES,
  TABLE_CALLBACK_METHODS,
} TableKind;

static void
member_spec_free (gpointer data)
{
  MemberSpec *m = data;

  g_free (m->name);
  g_ptr_array_unref (m->args);
  g_free (m);
}

static void
property_spec_free (gpointer data)
{
  PropertySpec *p = data;

  g_free (p->name);
  g_free (p->type);
  g_free (p);
}

static void
contract_spec_free (ContractSpec *c)
{
  g_ptr_array_unref (c->methods);
  g_ptr_array_unref (c->signals);
  g_ptr_array_unref (c->properties);
  g_free (c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ContractSpec, contract_spec_free)

static TableKind
table_kind (const char *header)
{
  if (g_str_has_prefix (header, "| method | in → out |"))
    return TABLE_METHODS;
  if (g_str_has_prefix (header, "| signal | arguments |"))
    return TABLE_SIGNALS;
  if (g_str_has_prefix (header, "| property | type | access |"))
    return TABLE_PROPERTIES;
  if (g_str_has_prefix (header, "| method | arguments |"))
    return TABLE_CALLBACK_METHODS;
  return TABLE_NONE;
}

/* "u prop_id, v value" (backticks gone) → "direction:u:prop_id", … appended to @args. */
static void
parse_args (const char *text, const char *direction, GPtrArray *args)
{
  g_auto(GStrv) list = g_strsplit (text, ",", -1);

  for (guint i = 0; list[i]; i++)
    {
      g_auto(GStrv) type_name = NULL;

      g_strstrip (list[i]);
      if (list[i][0] == '\0')
        continue;
      type_name = g_strsplit (list[i], " ", 2);
      g_assert_nonnull (type_name[1]);
      g_ptr_array_add (args, g_strdup_printf ("%s:%s:%s", direction, type_name[0],
                                              g_strstrip (type_name[1])));
    }
}

static void
parse_row (ContractSpec *c, TableKind kind, const char *line)
{
  g_autofree char *row = g_strdup (line);
  g_auto(GStrv) cells = NULL;
  g_autofree char *name = NULL;
  g_autofree char *args = NULL;

  g_strdelimit (row, "`", ' ');
  cells = g_strsplit (row + 1, "|", -1);   /* after the leading "|" */
  g_assert_cmpuint (g_strv_length (cells), >=, 3);
  name = g_strdup (g_strstrip (cells[0]));
  args = g_strdup (g_strstrip (cells[1]));
  g_test_message ("contract row: %s", line);

  if (kind == TABLE_PROPERTIES)
    {
      PropertySpec *p = g_new0 (PropertySpec, 1);
      const char *access = g_strstrip (cells[2]);

      g_assert_true (g_str_equal (access, "read") || g_str_equal (access, "readwrite"));
      p->name = g_steal_pointer (&name);
      p->type = g_steal_pointer (&args);
      p->writable = g_str_equal (access, "readwrite");
      p->constant = strstr (line, "`EmitsChangedSignal` = `const`") != NULL;
      g_ptr_array_add (c->properties, p);
    }
  else
    {
      MemberSpec *m = g_new0 (MemberSpec, 1);

      m->name = g_steal_pointer (&name);
      m->args = g_ptr_array_new_with_free_func (g_free);
      if (kind == TABLE_METHODS)
        {
          g_auto(GStrv) in_out = g_strsplit (args, "→", 2);
          g_assert_nonnull (in_out[1]);
          parse_args (in_out[0], "in", m->args);
          parse_args (in_out[1], "out", m->args);
        }
      else
        parse_args (args, kind == TABLE_SIGNALS ? "out" : "in", m->args);
      g_ptr_array_add (kind == TABLE_SIGNALS ? c->signals : c->methods, m);
    }
}

static ContractSpec *
contract_load (const char *interface_name)
{
  g_autoptr(ContractSpec) c = g_new0 (ContractSpec, 1);
  g_autofree char *text = NULL;
  g_autofree char *heading = g_strconcat ("## ", interface_name, NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean inside = FALSE, seen = FALSE;
  TableKind kind = TABLE_NONE;

  g_test_message ("reading %s", QMGR_DBUS_API_DOC);
  g_file_get_contents (QMGR_DBUS_API_DOC, &text, NULL, &error);
  g_assert_no_error (error);
  c->methods = g_ptr_array_new_with_free_func (member_spec_free);
  c->signals = g_ptr_array_new_with_free_func (member_spec_free);
  c->properties = g_ptr_array_new_with_free_func (property_spec_free);

  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      const char *line = lines[i];

      if (g_str_has_prefix (line, "## "))
        {
          inside = g_str_equal (line, heading);
          seen |= inside;
          kind = TABLE_NONE;
        }
      else if (!inside)
        continue;
      else if (!g_str_has_prefix (line, "|"))
        kind = TABLE_NONE;   /* a table ends at its first line that is not a row */
      else if (g_str_has_prefix (line, "| `"))
        {
          if (kind != TABLE_NONE)
            parse_row (c, kind, line);
        }
      else if (!g_str_has_prefix (line, "|--"))
        kind = table_kind (line);
    }
  g_assert_true (seen);
  /* Every interface the page describes has members. */
  g_assert_cmpuint (c->methods->len + c->signals->len + c->properties->len, >, 0);
  return g_steal_pointer (&c);
}

/* ---- helpers ---- */

static GDBusNodeInfo *
introspect_live (QmgrTestDaemon *d, const char *path)
{
  g_autoptr(GVariant) reply = it_call_ok (d, path, "org.freedesktop.DBus.Introspectable",
                                          "Introspect", NULL, "(s)");
  g_autoptr(GError) error = NULL;
  const char *xml;
  GDBusNodeInfo *node;

  g_variant_get (reply, "(&s)", &xml);
  node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  return node;
}

static guint
count (gpointer *array)
{
  guint n = 0;

  while (array != NULL && array[n] != NULL)
    n++;
  return n;
}

static void
compare_args (const char *what, const char *member, GDBusArgInfo **expected,
              GDBusArgInfo **actual)
{
  guint n_expected = count ((gpointer *) expected);
  guint n_actual = count ((gpointer *) actual);

  g_test_message ("%s %s: %u argument(s) in the XML, %u live", what, member, n_expected,
                  n_actual);
  g_assert_cmpuint (n_actual, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    {
      g_assert_cmpstr (actual[i]->name, ==, expected[i]->name);
      g_assert_cmpstr (actual[i]->signature, ==, expected[i]->signature);
    }
}

static const char *
emits_changed (GDBusInterfaceInfo *iface, GDBusPropertyInfo *prop)
{
  const char *v = g_dbus_annotation_info_lookup (prop->annotations, EMITS_CHANGED);

  if (v == NULL)
    v = g_dbus_annotation_info_lookup (iface->annotations, EMITS_CHANGED);
  return v != NULL ? v : "true";
}

/* Every member of @expected is in @actual with the same shape, and nothing else is. */
static void
compare_interfaces (GDBusInterfaceInfo *expected, GDBusInterfaceInfo *actual)
{
  g_assert_cmpstr (actual->name, ==, expected->name);

  for (guint i = 0; expected->methods && expected->methods[i]; i++)
    {
      GDBusMethodInfo *m = expected->methods[i];
      GDBusMethodInfo *live = g_dbus_interface_info_lookup_method (actual, m->name);

      g_test_message ("%s.%s", expected->name, m->name);
      g_assert_nonnull (live);
      compare_args ("method (in)", m->name, m->in_args, live->in_args);
      compare_args ("method (out)", m->name, m->out_args, live->out_args);
    }
  for (guint i = 0; actual->methods && actual->methods[i]; i++)
    {
      g_test_message ("live method %s.%s", actual->name, actual->methods[i]->name);
      g_assert_nonnull (g_dbus_interface_info_lookup_method (expected, actual->methods[i]->name));
    }

  for (guint i = 0; expected->signals && expected->signals[i]; i++)
    {
      GDBusSignalInfo *s = expected->signals[i];
      GDBusSignalInfo *live = g_dbus_interface_info_lookup_signal (actual, s->name);

      g_test_message ("signal %s.%s", expected->name, s->name);
      g_assert_nonnull (live);
      compare_args ("signal", s->name, s->args, live->args);
    }
  for (guint i = 0; actual->signals && actual->signals[i]; i++)
    {
      g_test_message ("live signal %s.%s", actual->name, actual->signals[i]->name);
      g_assert_nonnull (g_dbus_interface_info_lookup_signal (expected, actual->signals[i]->name));
    }

  for (guint i = 0; expected->properties && expected->properties[i]; i++)
    {
      GDBusPropertyInfo *p = expected->properties[i];
      GDBusPropertyInfo *live = g_dbus_interface_info_lookup_property (actual, p->name);

      g_test_message ("property %s.%s", expected->name, p->name);
      g_assert_nonnull (live);
      g_assert_cmpstr (live->signature, ==, p->signature);
      g_assert_cmpint (live->flags, ==, p->flags);
      g_assert_cmpstr (emits_changed (actual, live), ==, emits_changed (expected, p));
    }
  for (guint i = 0; actual->properties && actual->properties[i]; i++)
    {
      g_test_message ("live property %s.%s", actual->name, actual->properties[i]->name);
      g_assert_nonnull (g_dbus_interface_info_lookup_property (expected,
                                                               actual->properties[i]->name));
    }
}

static void
assert_args_match_spec (const char *member, GPtrArray *spec, GDBusArgInfo **in_args,
                        GDBusArgInfo **out_args, gboolean signal)
{
  guint n_in = 0, n_out = 0;

  for (guint i = 0; i < spec->len; i++)
    {
      g_auto(GStrv) parts = g_strsplit (g_ptr_array_index (spec, i), ":", 3);
      gboolean in = strcmp (parts[0], "in") == 0;
      GDBusArgInfo *arg = in ? (in_args ? in_args[n_in] : NULL)
                             : (out_args ? out_args[n_out] : NULL);

      g_test_message ("%s argument %s %s %s", member, parts[0], parts[1], parts[2]);
      g_assert_nonnull (arg);
      g_assert_cmpstr (arg->signature, ==, parts[1]);
      g_assert_cmpstr (arg->name, ==, parts[2]);
      if (in)
        n_in++;
      else
        n_out++;
    }
  g_assert_cmpuint (count ((gpointer *) in_args), ==, n_in);
  if (!signal)
    g_assert_cmpuint (count ((gpointer *) out_args), ==, n_out);
}

/* The XML says what docs/dbus-api.md says. */
static void
assert_xml_matches_contract (GDBusInterfaceInfo *iface, const ContractSpec *contract)
{
  for (guint n = 0; n < contract->methods->len; n++)
    {
      MemberSpec *spec = g_ptr_array_index (contract->methods, n);
      GDBusMethodInfo *m = g_dbus_interface_info_lookup_method (iface, spec->name);
      g_test_message ("contract: method %s.%s", iface->name, spec->name);
      g_assert_nonnull (m);
      assert_args_match_spec (m->name, spec->args, m->in_args, m->out_args, FALSE);
    }
  g_assert_cmpuint (count ((gpointer *) iface->methods), ==, contract->methods->len);

  for (guint n = 0; n < contract->signals->len; n++)
    {
      MemberSpec *spec = g_ptr_array_index (contract->signals, n);
      GDBusSignalInfo *s = g_dbus_interface_info_lookup_signal (iface, spec->name);
      g_test_message ("contract: signal %s.%s", iface->name, spec->name);
      g_assert_nonnull (s);
      assert_args_match_spec (s->name, spec->args, NULL, s->args, TRUE);
      g_assert_cmpuint (count ((gpointer *) s->args), ==, spec->args->len);
    }
  g_assert_cmpuint (count ((gpointer *) iface->signals), ==, contract->signals->len);

  for (guint n = 0; n < contract->properties->len; n++)
    {
      PropertySpec *spec = g_ptr_array_index (contract->properties, n);
      GDBusPropertyInfo *p = g_dbus_interface_info_lookup_property (iface, spec->name);
      GDBusPropertyInfoFlags flags = G_DBUS_PROPERTY_INFO_FLAGS_READABLE;

      if (spec->writable)
        flags |= G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE;
      g_test_message ("contract: property %s.%s", iface->name, spec->name);
      g_assert_nonnull (p);
      g_assert_cmpstr (p->signature, ==, spec->type);
      g_assert_cmpint (p->flags, ==, flags);
      g_assert_cmpstr (emits_changed (iface, p), ==, spec->constant ? "const" : "true");
    }
  g_assert_cmpuint (count ((gpointer *) iface->properties), ==, contract->properties->len);
}

static void
assert_object_interfaces (GDBusNodeInfo *live, const char *const *required,
                          const char *const *forbidden)
{
  for (guint i = 0; required[i]; i++)
    {
      g_test_message ("object carries %s", required[i]);
      g_assert_nonnull (g_dbus_node_info_lookup_interface (live, required[i]));
    }
  for (guint i = 0; forbidden[i]; i++)
    {
      g_test_message ("object does not carry %s", forbidden[i]);
      g_assert_null (g_dbus_node_info_lookup_interface (live, forbidden[i]));
    }
  /* Nothing beyond the qmgrd interfaces and the standard ones. */
  for (guint i = 0; live->interfaces && live->interfaces[i]; i++)
    {
      const char *name = live->interfaces[i]->name;
      g_test_message ("live interface %s", name);
      g_assert_true (g_str_has_prefix (name, "org.freedesktop.DBus.") ||
                     g_strv_contains (required, name));
    }
}

static void
check_object (QmgrTestDaemon *d, const char *path, const char *interface_name,
              const char *const *required, const char *const *forbidden)
{
  g_autoptr(ContractSpec) contract = contract_load (interface_name);
  g_autoptr(GDBusNodeInfo) xml = qmgr_test_load_interface_xml (interface_name);
  g_autoptr(GDBusNodeInfo) live = introspect_live (d, path);
  GDBusInterfaceInfo *live_iface = g_dbus_node_info_lookup_interface (live, interface_name);

  assert_xml_matches_contract (xml->interfaces[0], contract);
  g_assert_nonnull (live_iface);
  compare_interfaces (xml->interfaces[0], live_iface);
  assert_object_interfaces (live, required, forbidden);
}

static void
test_manager (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const char *const required[] = {
    QMGR_TEST_MANAGER_IFACE, "org.freedesktop.DBus.Properties",
    "org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Peer",
    "org.freedesktop.DBus.ObjectManager", NULL,
  };
  const char *const forbidden[] = { QMGR_TEST_GROUP_IFACE, QMGR_TEST_JOB_IFACE, NULL };

  check_object (f->d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, required, forbidden);
}

static void
test_group (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  const char *const required[] = {
    QMGR_TEST_GROUP_IFACE, "org.freedesktop.DBus.Properties",
    "org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Peer", NULL,
  };
  const char *const forbidden[] = { QMGR_TEST_MANAGER_IFACE, QMGR_TEST_JOB_IFACE, NULL };

  check_object (f->d, g->path, QMGR_TEST_GROUP_IFACE, required, forbidden);
}

static void
test_job (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  const char *const required[] = {
    QMGR_TEST_JOB_IFACE, "org.freedesktop.DBus.Properties",
    "org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Peer", NULL,
  };
  const char *const forbidden[] = { QMGR_TEST_MANAGER_IFACE, QMGR_TEST_GROUP_IFACE, NULL };

  check_object (f->d, g->job_path, QMGR_TEST_JOB_IFACE, required, forbidden);
}

static void
test_callback_xml (void)
{
  g_autoptr(ContractSpec) contract = contract_load (QMGR_TEST_CALLBACK_IFACE);
  g_autoptr(GDBusNodeInfo) xml = qmgr_test_load_interface_xml (QMGR_TEST_CALLBACK_IFACE);

  /* Clients implement it; only the XML can be checked against the contract. */
  assert_xml_matches_contract (xml->interfaces[0], contract);
}

static gboolean
has_child (GDBusNodeInfo *node, const char *name)
{
  g_autofree char *nested = g_strconcat (name, "/", NULL);

  /* sd-bus lists enumerated descendants by their relative path ("job/<hex>"). */
  for (guint i = 0; node->nodes && node->nodes[i]; i++)
    if (g_strcmp0 (node->nodes[i]->path, name) == 0 ||
        g_str_has_prefix (node->nodes[i]->path, nested))
      return TRUE;
  return FALSE;
}

/* Not a rule of docs/dbus-api.md, but what tree-walking clients (busctl tree, d-feet) need:
 * the groups and jobs are reachable from the manager through child nodes. */
static void
test_tree (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autoptr(GDBusNodeInfo) manager = introspect_live (f->d, QMGR_TEST_MANAGER_PATH);
  g_autoptr(GDBusNodeInfo) groups = introspect_live (f->d, QMGR_TEST_MANAGER_PATH "/group");
  g_autoptr(GDBusNodeInfo) group = introspect_live (f->d, g->path);
  g_autofree char *jobs_path = g_strconcat (g->path, "/job", NULL);
  g_autoptr(GDBusNodeInfo) jobs = introspect_live (f->d, jobs_path);
  g_autofree char *hex = it_guid_hex (g->id);
  g_autofree char *job_hex = it_guid_hex (g->job_id);

  g_assert_true (has_child (manager, "group"));
  g_assert_true (has_child (groups, hex));
  g_assert_true (has_child (group, "job"));
  g_assert_true (has_child (jobs, job_hex));
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  it_add ("/introspection/manager", test_manager);
  it_add ("/introspection/group", test_group);
  it_add ("/introspection/job", test_job);
  it_add ("/introspection/tree", test_tree);
  g_test_add_func ("/introspection/callback-xml", test_callback_xml);
  return g_test_run ();
}
