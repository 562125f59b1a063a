/* qmgrd integration tests — the XML in introspection/ is the contract: the running
 * daemon's Introspect output must match it member by member (methods and their
 * arguments, signals, properties with access and EmitsChangedSignal), nothing more
 * and nothing less; and the XML itself must carry the signatures docs/dbus-api.md fixes. */
#include "it-util.h"

#include <string.h>

#define EMITS_CHANGED "org.freedesktop.DBus.Property.EmitsChangedSignal"

/* ---- the contract of docs/dbus-api.md, as "direction:type:name" argument lists ---- */

typedef struct {
  const char *name;
  const char *args[8];
} MemberSpec;

typedef struct {
  const char *name;
  const char *type;
  gboolean writable;
} PropertySpec;

static const MemberSpec manager_methods[] = {
  { "CreateGroup", { "in:s:group_id", "out:o:group" } },
  { "GetGroup", { "in:s:group_id", "out:o:group" } },
  { "EnumGroups", { "in:u:flags", "out:as:group_ids" } },
  { NULL, { NULL } },
};

static const PropertySpec manager_properties[] = {
  { "Version", "s", FALSE },
  { "NetworkCostState", "u", FALSE },
  { "Online", "b", FALSE },
  { "BandwidthLimit", "t", TRUE },
  { "MeteredBandwidthLimit", "t", TRUE },
  { "MaxConcurrentTransfers", "u", TRUE },
  { NULL, NULL, FALSE },
};

static const MemberSpec group_methods[] = {
  { "GetProp", { "in:u:prop_id", "out:v:value" } },
  { "SetProp", { "in:u:prop_id", "in:v:value" } },
  { "GetProgress", { "in:u:flags", "out:u:progress" } },
  { "GetStatus", { "out:u:status", "out:u:job_index" } },
  { "GetJob", { "in:s:job_id", "out:o:job" } },
  { "SuspendGroup", { NULL } },
  { "ResumeGroup", { NULL } },
  { "CancelGroup", { NULL } },
  { "CreateJob", { "in:s:job_id", "out:o:job" } },
  { "EnumJobs", { "in:u:flags", "out:as:job_ids" } },
  { "SwitchToForeground", { NULL } },
  { "QueryNewJobInterface", { "in:s:interface_name", "out:o:object" } },
  { "SetNotificationPointer", { "in:s:interface_name", "in:o:path" } },
  { "TakeOwnership", { NULL } },
  { NULL, { NULL } },
};

static const MemberSpec group_signals[] = {
  { "OnStatus", { "out:o:job", "out:u:file_index", "out:u:status", "out:u:num_retries",
                  "out:u:win32_result", "out:u:transport_result" } },
  { "OnProgress", { "out:u:progress_type", "out:o:job", "out:u:file_index",
                    "out:u:progress_value" } },
  { NULL, { NULL } },
};

static const PropertySpec group_properties[] = {
  { "GroupID", "s", FALSE },
  { "Size", "t", FALSE },
  { "Status", "u", FALSE },
  { "DisplayName", "s", TRUE },
  { "Description", "s", TRUE },
  { "NotifyFlags", "u", TRUE },
  { "NotifyClsid", "s", TRUE },
  { "ProtocolFlags", "u", TRUE },
  { "Priority", "u", TRUE },
  { "TransferPolicy", "u", TRUE },
  { "BandwidthLimit", "t", TRUE },
  { "WaitReason", "s", FALSE },
  { "BytesTotal", "t", FALSE },
  { "BytesTransferred", "t", FALSE },
  { "FilesTotal", "u", FALSE },
  { "FilesTransferred", "u", FALSE },
  { "CreationTime", "t", FALSE },
  { "ModificationTime", "t", FALSE },
  { "CompletionTime", "t", FALSE },
  { "Owner", "u", FALSE },
  { "MinimumRetryDelay", "u", TRUE },
  { "NoProgressTimeout", "u", TRUE },
  { NULL, NULL, FALSE },
};

static const MemberSpec job_methods[] = {
  { "AddFiles", { "in:a(sst):files" } },
  { "GetFile", { "in:u:index", "out:(sst):file" } },
  { "GetFileCount", { "out:u:count" } },
  { "GetProgress", { "in:u:flags", "out:u:progress" } },
  { "GetStatus", { "out:u:status", "out:u:win32_result", "out:u:transport_result",
                   "out:u:num_retries" } },
  { "GetFileStatus", { "in:u:index", "out:u:status", "out:t:bytes_total",
                       "out:t:bytes_transferred", "out:(ss):last_error" } },
  { "CancelJob", { NULL } },
  { "SwitchToForeground", { NULL } },
  { NULL, { NULL } },
};

static const PropertySpec job_properties[] = {
  { "JobID", "s", FALSE },
  { "Group", "o", FALSE },
  { "FileCount", "u", FALSE },
  { "Status", "u", FALSE },
  { "BytesTotal", "t", FALSE },
  { "BytesTransferred", "t", FALSE },
  { "CurrentFileIndex", "u", FALSE },
  { "LastError", "(ss)", FALSE },
  { NULL, NULL, FALSE },
};

static const MemberSpec callback_methods[] = {
  { "OnStatus", { "in:o:group", "in:o:job", "in:u:file_index", "in:u:status",
                  "in:u:num_retries", "in:u:win32_result", "in:u:transport_result" } },
  { "OnProgress", { "in:u:progress_type", "in:o:group", "in:o:job", "in:u:file_index",
                    "in:u:progress_value" } },
  { "OnProgressEx", { "in:u:progress_type", "in:o:group", "in:o:job", "in:u:file_index",
                      "in:u:progress_value", "in:ay:data" } },
  { NULL, { NULL } },
};

static const MemberSpec no_members[] = { { NULL, { NULL } } };
static const PropertySpec no_properties[] = { { NULL, NULL, FALSE } };

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
assert_args_match_spec (const char *member, const char *const *spec, GDBusArgInfo **in_args,
                        GDBusArgInfo **out_args, gboolean signal)
{
  guint n_in = 0, n_out = 0;

  for (guint i = 0; spec[i]; i++)
    {
      g_auto(GStrv) parts = g_strsplit (spec[i], ":", 3);
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
assert_xml_matches_contract (GDBusInterfaceInfo *iface, const MemberSpec *methods,
                             const MemberSpec *signals, const PropertySpec *properties)
{
  guint n;

  for (n = 0; methods[n].name; n++)
    {
      GDBusMethodInfo *m = g_dbus_interface_info_lookup_method (iface, methods[n].name);
      g_test_message ("contract: method %s.%s", iface->name, methods[n].name);
      g_assert_nonnull (m);
      assert_args_match_spec (m->name, methods[n].args, m->in_args, m->out_args, FALSE);
    }
  g_assert_cmpuint (count ((gpointer *) iface->methods), ==, n);

  for (n = 0; signals[n].name; n++)
    {
      GDBusSignalInfo *s = g_dbus_interface_info_lookup_signal (iface, signals[n].name);
      g_test_message ("contract: signal %s.%s", iface->name, signals[n].name);
      g_assert_nonnull (s);
      assert_args_match_spec (s->name, signals[n].args, NULL, s->args, TRUE);
      g_assert_cmpuint (count ((gpointer *) s->args), ==, g_strv_length ((char **) signals[n].args));
    }
  g_assert_cmpuint (count ((gpointer *) iface->signals), ==, n);

  for (n = 0; properties[n].name; n++)
    {
      GDBusPropertyInfo *p = g_dbus_interface_info_lookup_property (iface, properties[n].name);
      GDBusPropertyInfoFlags flags = G_DBUS_PROPERTY_INFO_FLAGS_READABLE;

      if (properties[n].writable)
        flags |= G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE;
      g_test_message ("contract: property %s.%s", iface->name, properties[n].name);
      g_assert_nonnull (p);
      g_assert_cmpstr (p->signature, ==, properties[n].type);
      g_assert_cmpint (p->flags, ==, flags);
    }
  g_assert_cmpuint (count ((gpointer *) iface->properties), ==, n);
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
              const MemberSpec *methods, const MemberSpec *signals,
              const PropertySpec *properties, const char *const *required,
              const char *const *forbidden)
{
  g_autoptr(GDBusNodeInfo) xml = it_load_interface_xml (interface_name);
  g_autoptr(GDBusNodeInfo) live = introspect_live (d, path);
  GDBusInterfaceInfo *live_iface = g_dbus_node_info_lookup_interface (live, interface_name);

  assert_xml_matches_contract (xml->interfaces[0], methods, signals, properties);
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

  check_object (f->d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, manager_methods,
                no_members, manager_properties, required, forbidden);
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

  check_object (f->d, g->path, QMGR_TEST_GROUP_IFACE, group_methods, group_signals,
                group_properties, required, forbidden);
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

  check_object (f->d, g->job_path, QMGR_TEST_JOB_IFACE, job_methods, no_members,
                job_properties, required, forbidden);
}

static void
test_callback_xml (void)
{
  g_autoptr(GDBusNodeInfo) xml = it_load_interface_xml (QMGR_TEST_CALLBACK_IFACE);

  /* Clients implement it; only the XML can be checked against the contract. */
  assert_xml_matches_contract (xml->interfaces[0], callback_methods, no_members, no_properties);
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
