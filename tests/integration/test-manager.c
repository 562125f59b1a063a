/* qmgrd integration tests — io.github.qmgrd.QMgr1.Manager on the real daemon:
 * CreateGroup (every GUID form), GetGroup, EnumGroups, the manager's properties, the
 * ObjectManager and the per-owner group quota. */
#include "it-util.h"

#include <string.h>
#include <unistd.h>

static char *
create_group (QmgrTestDaemon *d, const char *id, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  char *path;

  reply = qmgr_test_call (d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, "CreateGroup",
                          g_variant_new ("(s)", id), "(o)", error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(o)", &path);
  return path;
}

static char *
get_group (QmgrTestDaemon *d, const char *id, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  char *path;

  reply = qmgr_test_call (d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, "GetGroup",
                          g_variant_new ("(s)", id), "(o)", error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(o)", &path);
  return path;
}

static char **
enum_groups (QmgrTestDaemon *d, guint32 flags, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  char **ids;

  reply = qmgr_test_call (d, QMGR_TEST_MANAGER_PATH, QMGR_TEST_MANAGER_IFACE, "EnumGroups",
                          g_variant_new ("(u)", flags), "(as)", error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(^as)", &ids);
  return ids;
}

static void
assert_strv_equal (char **actual, const char *const *expected)
{
  guint n = g_strv_length (actual);

  for (guint i = 0; i < n && expected[i]; i++)
    g_assert_cmpstr (actual[i], ==, expected[i]);
  g_assert_cmpuint (n, ==, g_strv_length ((char **) expected));
}

static void
test_create_group_forms (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  static const struct {
    const char *input;
    const char *canonical;
  } forms[] = {
    { "1b4e28ba-2fa1-11d2-883f-b9a761bde3fb", "1b4e28ba-2fa1-11d2-883f-b9a761bde3fb" },
    { "{1B4E28BA-2FA1-11D2-883F-B9A761BDE3FC}", "1b4e28ba-2fa1-11d2-883f-b9a761bde3fc" },
    { "{1b4e28ba-2fa1-11d2-883f-b9a761bde3fd}", "1b4e28ba-2fa1-11d2-883f-b9a761bde3fd" },
    { "1B4E28BA-2fa1-11D2-883f-B9A761BDE3FE", "1b4e28ba-2fa1-11d2-883f-b9a761bde3fe" },
    { "0123456789ABCDEFabcdef0123456789", "01234567-89ab-cdef-abcd-ef0123456789" },
    { "00000000000000000000000000000001", "00000000-0000-0000-0000-000000000001" },
    { "ffffffff-ffff-ffff-ffff-ffffffffffff", "ffffffff-ffff-ffff-ffff-ffffffffffff" },
  };
  g_autoptr(GPtrArray) order = g_ptr_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = create_group (f->d, forms[i].input, &error);
      g_autofree char *expected_path = it_group_path (forms[i].canonical);
      g_autofree char *hex = it_guid_hex (forms[i].canonical);
      g_autofree char *id = NULL;

      g_test_message ("CreateGroup(\"%s\")", forms[i].input);
      g_assert_no_error (error);
      /* The path element is the 32 lowercase hex digits as they are, even with a
       * leading digit. */
      g_assert_cmpstr (path, ==, expected_path);
      g_assert_true (g_str_has_suffix (path, hex));
      id = it_get_s (f->d, path, QMGR_TEST_GROUP_IFACE, "GroupID");
      g_assert_cmpstr (id, ==, forms[i].canonical);
      /* A new group is suspended. */
      g_assert_cmpuint (it_group_status (f->d, path), ==, 0x180);
      g_ptr_array_add (order, (gpointer) forms[i].canonical);
    }
  g_ptr_array_add (order, NULL);

  {
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) ids = enum_groups (f->d, 0, &error);
    g_assert_no_error (error);
    assert_strv_equal (ids, (const char *const *) order->pdata);
  }
}

static void
test_create_group_generated (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path1 = create_group (f->d, "", &error);
  g_autofree char *path2 = NULL;
  g_autofree char *id1 = NULL;
  g_autofree char *id2 = NULL;
  g_autofree char *expected1 = NULL;
  g_autofree char *expected2 = NULL;

  g_assert_no_error (error);
  path2 = create_group (f->d, "", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (path1, !=, path2);

  id1 = it_get_s (f->d, path1, QMGR_TEST_GROUP_IFACE, "GroupID");
  id2 = it_get_s (f->d, path2, QMGR_TEST_GROUP_IFACE, "GroupID");
  g_assert_true (it_is_v4_guid (id1));
  g_assert_true (it_is_v4_guid (id2));
  g_assert_cmpstr (id1, !=, id2);
  expected1 = it_group_path (id1);
  expected2 = it_group_path (id2);
  g_assert_cmpstr (path1, ==, expected1);
  g_assert_cmpstr (path2, ==, expected2);
  g_assert_cmpuint (it_group_status (f->d, path1), ==, 0x180);

  /* A generated GUID is a GUID like any other. */
  {
    g_autofree char *again = get_group (f->d, id1, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (again, ==, path1);
    g_assert_null (create_group (f->d, id1, &error));
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  }
}

static const char *const malformed_guids[] = {
  "xyz",
  "1b4e28ba-2fa1-11d2-883f-b9a761bde3f",        /* one digit short */
  "1b4e28ba-2fa1-11d2-883f-b9a761bde3fbb",      /* one digit long */
  "1b4e28ba2-fa1-11d2-883f-b9a761bde3fb",       /* dash in the wrong place */
  "1b4e28ba-2fa1-11d2-883fb9a761bde3fb",        /* a dash missing */
  "1b4e28ba_2fa1_11d2_883f_b9a761bde3fb",
  "{1b4e28ba-2fa1-11d2-883f-b9a761bde3fb",      /* unbalanced braces */
  "1b4e28ba-2fa1-11d2-883f-b9a761bde3fb}",
  "(1b4e28ba-2fa1-11d2-883f-b9a761bde3fb)",
  "{{1b4e28ba-2fa1-11d2-883f-b9a761bde3fb}}",
  "{0123456789abcdef0123456789abcdef}",         /* braces only around the dashed form */
  "1b4e28ba-2fa1-11d2-883f-b9a761bde3fg",       /* not hex */
  " 1b4e28ba-2fa1-11d2-883f-b9a761bde3fb",
  "1b4e28ba-2fa1-11d2-883f-b9a761bde3fb ",
  "0123456789abcdef0123456789abcde",            /* 31 digits */
  "0123456789abcdef0123456789abcdef0",          /* 33 digits */
  "0x0123456789abcdef0123456789abcde",
  "{}",
  "-",
  "1b4e28ba-2fa1-11d2-883f-b9a761bde3f\xc3\xa9",
};

static const char *const zero_guids[] = {
  "00000000-0000-0000-0000-000000000000",
  "{00000000-0000-0000-0000-000000000000}",
  "00000000000000000000000000000000",
};

static void
test_create_group_invalid (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (malformed_guids); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = NULL;

      g_test_message ("CreateGroup(\"%s\")", malformed_guids[i]);
      path = create_group (f->d, malformed_guids[i], &error);
      g_assert_null (path);
      qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
    }
  for (guint i = 0; i < G_N_ELEMENTS (zero_guids); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = create_group (f->d, zero_guids[i], &error);

      g_test_message ("CreateGroup(\"%s\")", zero_guids[i]);
      g_assert_null (path);
      qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
    }

  /* "xyz" is named in the message. */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *path = create_group (f->d, "not-a-guid-at-all", &error);
    g_assert_null (path);
    it_assert_message_contains (error, "not-a-guid-at-all");
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  }

  /* Nothing was created by any of this. */
  {
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) ids = enum_groups (f->d, 0, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_strv_length (ids), ==, 0);
  }
}

static void
test_create_group_duplicate (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const char *id = "a1b2c3d4-e5f6-4789-8abc-def012345678";
  const char *const same[] = {
    "a1b2c3d4-e5f6-4789-8abc-def012345678",
    "A1B2C3D4-E5F6-4789-8ABC-DEF012345678",
    "{a1b2c3d4-e5f6-4789-8abc-def012345678}",
    "a1b2c3d4e5f647898abcdef012345678",
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = create_group (f->d, id, &error);
  g_autoptr(ItGroup) other = it_group_create (f->d, TRUE);

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (same); i++)
    {
      g_autofree char *again = create_group (f->d, same[i], &error);
      g_test_message ("duplicate CreateGroup(\"%s\")", same[i]);
      g_assert_null (again);
      qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
    }

  /* GUIDs are unique across the queue: a job's GUID cannot name a group. */
  {
    g_autofree char *again = create_group (f->d, other->job_id, &error);
    g_assert_null (again);
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  }

  /* The duplicate attempts changed nothing. */
  {
    g_auto(GStrv) ids = enum_groups (f->d, 0, &error);
    const char *const expected[] = { id, other->id, NULL };
    g_assert_no_error (error);
    assert_strv_equal (ids, expected);
  }

  /* Once cancelled, the GUID is free again. */
  it_call_void (f->d, path, QMGR_TEST_GROUP_IFACE, "CancelGroup", NULL);
  {
    g_autofree char *again = create_group (f->d, id, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (again, ==, path);
  }
}

static void
test_get_group (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const char *id = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0ff";
  const char *const forms[] = {
    "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0ff",
    "{0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0FF}",
    "0F1E2D3C4B5A49788695A4B3C2D1E0FF",
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = create_group (f->d, id, &error);
  g_autoptr(ItGroup) with_job = it_group_create (f->d, TRUE);
  guint32 owner;

  g_assert_no_error (error);
  owner = it_get_u (f->d, path, QMGR_TEST_GROUP_IFACE, "Owner");
  g_assert_cmpuint (owner, ==, getuid ());

  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autofree char *got = get_group (f->d, forms[i], &error);
      g_test_message ("GetGroup(\"%s\")", forms[i]);
      g_assert_no_error (error);
      g_assert_cmpstr (got, ==, path);
    }

  /* Reading never moves ownership (QMGR's side effect is not reproduced). */
  g_assert_cmpuint (it_get_u (f->d, path, QMGR_TEST_GROUP_IFACE, "Owner"), ==, owner);

  /* Unknown groups: ItemNotFound, naming the GUID. */
  {
    g_autofree char *got = get_group (f->d, "11111111-2222-4333-8444-555555555555", &error);
    g_assert_null (got);
    it_assert_message_contains (error, "11111111-2222-4333-8444-555555555555");
    qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
  }
  /* A job's GUID does not name a group. */
  {
    g_autofree char *got = get_group (f->d, with_job->job_id, &error);
    g_assert_null (got);
    qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
  }
  /* "" generates a GUID only where one is created. */
  {
    g_autofree char *got = get_group (f->d, "", &error);
    g_assert_null (got);
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  }
  /* Malformed values are InvalidArgs, ahead of "not found". */
  for (guint i = 0; i < G_N_ELEMENTS (malformed_guids); i++)
    {
      g_autofree char *got = get_group (f->d, malformed_guids[i], &error);
      g_test_message ("GetGroup(\"%s\")", malformed_guids[i]);
      g_assert_null (got);
      qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
    }
  for (guint i = 0; i < G_N_ELEMENTS (zero_guids); i++)
    {
      g_autofree char *got = get_group (f->d, zero_guids[i], &error);
      g_assert_null (got);
      qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
    }

  /* Cancelled groups are gone. */
  it_call_void (f->d, path, QMGR_TEST_GROUP_IFACE, "CancelGroup", NULL);
  {
    g_autofree char *got = get_group (f->d, id, &error);
    g_assert_null (got);
    qmgr_test_assert_qmgr_error (error, IT_ERR_ITEM_NOT_FOUND);
  }
}

static void
test_enum_groups (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  /* Not in sorted order, so creation order is visible. */
  const char *const ids[] = {
    "ffffffff-0000-4000-8000-000000000001",
    "00000000-ffff-4000-8000-000000000002",
    "88888888-1111-4000-8000-000000000003",
    "11111111-9999-4000-8000-000000000004",
    "cccccccc-3333-4000-8000-000000000005",
  };
  const guint32 bad_flags[] = { 1, 2, 0x80000000u, 0xffffffffu };
  g_autoptr(GError) error = NULL;

  {
    g_auto(GStrv) none = enum_groups (f->d, 0, &error);
    g_assert_no_error (error);
    g_assert_nonnull (none);
    g_assert_cmpuint (g_strv_length (none), ==, 0);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad_flags); i++)
    {
      g_auto(GStrv) none = enum_groups (f->d, bad_flags[i], &error);
      g_assert_null (none);
      qmgr_test_assert_qmgr_error (error, IT_ERR_NOT_SUPPORTED);
    }

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      /* Uppercase input: the output is still the dashed lowercase form. */
      g_autofree char *upper = g_ascii_strup (ids[i], -1);
      g_autofree char *path = create_group (f->d, i % 2 ? upper : ids[i], &error);
      g_assert_no_error (error);
    }
  {
    g_auto(GStrv) all = enum_groups (f->d, 0, &error);
    const char *const expected[] = { ids[0], ids[1], ids[2], ids[3], ids[4], NULL };
    g_assert_no_error (error);
    assert_strv_equal (all, expected);
  }

  /* Flags ≠ 0 stay NotSupported with groups present. */
  {
    g_auto(GStrv) none = enum_groups (f->d, 1, &error);
    g_assert_null (none);
    qmgr_test_assert_qmgr_error (error, IT_ERR_NOT_SUPPORTED);
  }

  /* Cancelling keeps the others in order; a new group goes last. */
  {
    g_autofree char *path = it_group_path (ids[2]);
    it_call_void (f->d, path, QMGR_TEST_GROUP_IFACE, "CancelGroup", NULL);
  }
  {
    g_autofree char *path = create_group (f->d, "00000000-0000-4000-8000-000000000006", &error);
    g_auto(GStrv) all = NULL;
    const char *const expected[] = { ids[0], ids[1], ids[3], ids[4],
                                     "00000000-0000-4000-8000-000000000006", NULL };
    g_assert_no_error (error);
    all = enum_groups (f->d, 0, &error);
    g_assert_no_error (error);
    assert_strv_equal (all, expected);
  }
}

static void
test_properties (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  const char *path = QMGR_TEST_MANAGER_PATH;
  const char *iface = QMGR_TEST_MANAGER_IFACE;
  static const struct {
    const char *name;
    const char *type;
  } expected[] = {
    { "Version", "s" },
    { "NetworkCostState", "u" },
    { "Online", "b" },
    { "BandwidthLimit", "t" },
    { "MeteredBandwidthLimit", "t" },
    { "MaxConcurrentTransfers", "u" },
  };
  g_autoptr(GVariant) all = it_get_all (f->d, path, iface);
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  g_autoptr(GError) error = NULL;
  g_autofree char *version = NULL;

  /* GetAll: exactly the documented properties, with their types. */
  g_assert_cmpuint (g_variant_n_children (all), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(GVariant) v = g_variant_lookup_value (all, expected[i].name, NULL);
      g_autoptr(GVariant) single = NULL;

      g_test_message ("Manager property %s", expected[i].name);
      g_assert_nonnull (v);
      g_assert_cmpstr (g_variant_get_type_string (v), ==, expected[i].type);
      single = it_get_property (f->d, path, iface, expected[i].name);
      g_assert_true (g_variant_equal (single, v));
    }

  version = it_get_s (f->d, path, iface, "Version");
  g_assert_cmpstr (version, !=, "");
  /* No NetworkManager (no system bus at all): UNRESTRICTED and online. */
  g_assert_cmpuint (it_get_u (f->d, path, iface, "NetworkCostState"), ==, 0x1);
  {
    g_autoptr(GVariant) online = it_get_property (f->d, path, iface, "Online");
    g_assert_true (g_variant_get_boolean (online));
  }
  /* Defaults. */
  g_assert_cmpuint (it_get_t (f->d, path, iface, "BandwidthLimit"), ==, 0);
  g_assert_cmpuint (it_get_t (f->d, path, iface, "MeteredBandwidthLimit"), ==, 0);
  g_assert_cmpuint (it_get_u (f->d, path, iface, "MaxConcurrentTransfers"), ==, 4);

  /* The rw properties: Set, read back, PropertiesChanged. */
  it_set_property (f->d, path, iface, "BandwidthLimit", g_variant_new_uint64 (1048576), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (it_get_t (f->d, path, iface, "BandwidthLimit"), ==, 1048576);
  g_assert_true (it_recorder_wait_property (rec, path, iface, "BandwidthLimit",
                                            g_variant_new_uint64 (1048576), 5000));

  it_set_property (f->d, path, iface, "MeteredBandwidthLimit", g_variant_new_uint64 (65536),
                   &error);
  g_assert_no_error (error);
  g_assert_cmpuint (it_get_t (f->d, path, iface, "MeteredBandwidthLimit"), ==, 65536);
  g_assert_true (it_recorder_wait_property (rec, path, iface, "MeteredBandwidthLimit",
                                            g_variant_new_uint64 (65536), 5000));

  it_set_property (f->d, path, iface, "MaxConcurrentTransfers", g_variant_new_uint32 (9),
                   &error);
  g_assert_no_error (error);
  g_assert_cmpuint (it_get_u (f->d, path, iface, "MaxConcurrentTransfers"), ==, 9);
  g_assert_true (it_recorder_wait_property (rec, path, iface, "MaxConcurrentTransfers",
                                            g_variant_new_uint32 (9), 5000));

  /* 0 means "no limit" again. */
  it_set_property (f->d, path, iface, "BandwidthLimit", g_variant_new_uint64 (0), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (it_get_t (f->d, path, iface, "BandwidthLimit"), ==, 0);

  /* A wrong type is refused and changes nothing. */
  g_assert_false (it_set_property (f->d, path, iface, "BandwidthLimit",
                                   g_variant_new_uint32 (5), &error));
  qmgr_test_assert_dbus_error (error, IT_ERR_INVALID_ARGS);
  g_assert_false (it_set_property (f->d, path, iface, "MaxConcurrentTransfers",
                                   g_variant_new_string ("5"), &error));
  qmgr_test_assert_dbus_error (error, IT_ERR_INVALID_ARGS);
  g_assert_cmpuint (it_get_u (f->d, path, iface, "MaxConcurrentTransfers"), ==, 9);

  /* The read-only ones. */
  g_assert_false (it_set_property (f->d, path, iface, "Version", g_variant_new_string ("9"),
                                   &error));
  qmgr_test_assert_dbus_error (error, IT_ERR_PROPERTY_READ_ONLY);
  g_assert_false (it_set_property (f->d, path, iface, "Online", g_variant_new_boolean (FALSE),
                                   &error));
  qmgr_test_assert_dbus_error (error, IT_ERR_PROPERTY_READ_ONLY);
  g_assert_false (it_set_property (f->d, path, iface, "NetworkCostState",
                                   g_variant_new_uint32 (2), &error));
  qmgr_test_assert_dbus_error (error, IT_ERR_PROPERTY_READ_ONLY);

  /* Unknown property. */
  {
    g_autoptr(GVariant) reply = qmgr_test_call (f->d, path, "org.freedesktop.DBus.Properties",
                                                "Get", g_variant_new ("(ss)", iface, "Nope"),
                                                "(v)", &error);
    g_assert_null (reply);
    qmgr_test_assert_dbus_error (error, IT_ERR_UNKNOWN_PROPERTY);
  }
}

static char *
write_config (QmgrTestDaemon *d, const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (qmgr_test_daemon_get_config_dir (d), "qmgrd.conf", NULL);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_properties_persist (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autofree char *config = write_config (d, "[Manager]\nMaxConcurrentTransfers=2\n");
  const char *const args[] = { "--config", config, NULL };
  const char *path = QMGR_TEST_MANAGER_PATH;
  const char *iface = QMGR_TEST_MANAGER_IFACE;
  g_autoptr(GError) error = NULL;

  qmgr_test_daemon_start (d, args);
  /* The config file's value... */
  g_assert_cmpuint (it_get_u (d, path, iface, "MaxConcurrentTransfers"), ==, 2);
  /* ...is overridden by a value set over D-Bus, which persists. */
  it_set_property (d, path, iface, "MaxConcurrentTransfers", g_variant_new_uint32 (7), &error);
  g_assert_no_error (error);
  it_set_property (d, path, iface, "BandwidthLimit", g_variant_new_uint64 (123456), &error);
  g_assert_no_error (error);
  it_set_property (d, path, iface, "MeteredBandwidthLimit", g_variant_new_uint64 (4321), &error);
  g_assert_no_error (error);
  qmgr_test_daemon_stop (d);

  qmgr_test_daemon_start (d, args);
  g_assert_cmpuint (it_get_u (d, path, iface, "MaxConcurrentTransfers"), ==, 7);
  g_assert_cmpuint (it_get_t (d, path, iface, "BandwidthLimit"), ==, 123456);
  g_assert_cmpuint (it_get_t (d, path, iface, "MeteredBandwidthLimit"), ==, 4321);
  qmgr_test_daemon_stop (d);
}

static void
test_group_quota (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autofree char *config = write_config (d, "[Manager]\nMaxGroupsPerOwner=2\n");
  const char *const args[] = { "--config", config, NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  qmgr_test_daemon_start (d, args);
  first = create_group (d, "aaaaaaaa-0000-4000-8000-000000000001", &error);
  g_assert_no_error (error);
  second = create_group (d, "", &error);
  g_assert_no_error (error);

  {
    g_autofree char *third = create_group (d, "aaaaaaaa-0000-4000-8000-000000000003", &error);
    g_assert_null (third);
    qmgr_test_assert_qmgr_error (error, IT_ERR_LIMITS);
  }
  {
    g_autofree char *third = create_group (d, "", &error);
    g_assert_null (third);
    qmgr_test_assert_qmgr_error (error, IT_ERR_LIMITS);
  }
  /* Precedence: the arguments first. */
  {
    g_autofree char *third = create_group (d, "bogus", &error);
    g_assert_null (third);
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  }
  {
    g_autofree char *third = create_group (d, "00000000-0000-0000-0000-000000000000", &error);
    g_assert_null (third);
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  }
  {
    g_autofree char *third = create_group (d, "aaaaaaaa-0000-4000-8000-000000000001", &error);
    g_assert_null (third);
    qmgr_test_assert_qmgr_error (error, IT_ERR_INVALID_ARGS);
  }
  {
    g_auto(GStrv) ids = enum_groups (d, 0, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_strv_length (ids), ==, 2);
  }

  /* Cancelling one frees a slot. */
  it_call_void (d, first, QMGR_TEST_GROUP_IFACE, "CancelGroup", NULL);
  {
    g_autofree char *third = create_group (d, "aaaaaaaa-0000-4000-8000-000000000003", &error);
    g_assert_no_error (error);
  }
  qmgr_test_daemon_stop (d);
}

static gboolean
managed_objects_has (GVariant *objects, const char *path, const char *iface, GVariant **props)
{
  g_autoptr(GVariant) ifaces = g_variant_lookup_value (objects, path, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_autoptr(GVariant) p = NULL;

  if (ifaces == NULL)
    return FALSE;
  p = g_variant_lookup_value (ifaces, iface, G_VARIANT_TYPE ("a{sv}"));
  if (p == NULL)
    return FALSE;
  if (props != NULL)
    *props = g_steal_pointer (&p);
  return TRUE;
}

static GVariant *
get_managed_objects (QmgrTestDaemon *d)
{
  g_autoptr(GVariant) reply = it_call_ok (d, QMGR_TEST_MANAGER_PATH,
                                          "org.freedesktop.DBus.ObjectManager",
                                          "GetManagedObjects", NULL, "(a{oa{sa{sv}}})");
  return g_variant_get_child_value (reply, 0);
}

static gboolean
interfaces_signal_is (ItSignal *s, const char *path, const char *iface)
{
  g_autoptr(GVariant) object = NULL;
  g_autoptr(GVariant) rest = NULL;

  if (!g_variant_is_of_type (s->params, G_VARIANT_TYPE ("(oa{sa{sv}})")) &&
      !g_variant_is_of_type (s->params, G_VARIANT_TYPE ("(oas)")))
    return FALSE;
  object = g_variant_get_child_value (s->params, 0);
  if (g_strcmp0 (g_variant_get_string (object, NULL), path) != 0)
    return FALSE;
  rest = g_variant_get_child_value (s->params, 1);
  if (g_variant_is_of_type (rest, G_VARIANT_TYPE ("as")))
    {
      g_autofree const char **names = g_variant_get_strv (rest, NULL);
      return g_strv_contains (names, iface);
    }
  {
    g_autoptr(GVariant) p = g_variant_lookup_value (rest, iface, NULL);
    return p != NULL;
  }
}

typedef struct {
  ItRecorder *rec;
  const char *member;
  const char *path;
  const char *iface;
} ObjectSignalWait;

static gboolean
find_object_signal (gpointer user_data)
{
  ObjectSignalWait *w = user_data;

  for (guint i = 0; i < w->rec->signals->len; i++)
    {
      ItSignal *s = g_ptr_array_index (w->rec->signals, i);
      if (g_strcmp0 (s->path, QMGR_TEST_MANAGER_PATH) == 0 &&
          g_strcmp0 (s->iface, "org.freedesktop.DBus.ObjectManager") == 0 &&
          g_strcmp0 (s->member, w->member) == 0 && interfaces_signal_is (s, w->path, w->iface))
        return TRUE;
    }
  return FALSE;
}

static gboolean
wait_object_signal (ItRecorder *rec, const char *member, const char *path, const char *iface)
{
  ObjectSignalWait w = { rec, member, path, iface };
  return qmgr_test_wait_until (find_object_signal, &w, 5000);
}

static void
test_object_manager (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItRecorder) rec = it_recorder_new (f->d);
  g_autoptr(GVariant) before = get_managed_objects (f->d);
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GVariant) group_props = NULL;
  g_autoptr(GVariant) job_props = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(ItGroup) g = NULL;
  g_autoptr(ItGroup) plain = NULL;

  g_assert_cmpuint (g_variant_n_children (before), ==, 0);

  g = it_group_create (f->d, FALSE);
  g_assert_true (wait_object_signal (rec, "InterfacesAdded", g->path, QMGR_TEST_GROUP_IFACE));
  it_group_create_job (f->d, g);
  g_assert_true (wait_object_signal (rec, "InterfacesAdded", g->job_path, QMGR_TEST_JOB_IFACE));
  plain = it_group_create (f->d, FALSE);

  after = get_managed_objects (f->d);
  g_assert_true (managed_objects_has (after, g->path, QMGR_TEST_GROUP_IFACE, &group_props));
  g_assert_true (managed_objects_has (after, g->job_path, QMGR_TEST_JOB_IFACE, &job_props));
  g_assert_true (managed_objects_has (after, plain->path, QMGR_TEST_GROUP_IFACE, NULL));
  g_assert_false (managed_objects_has (after, g->path, QMGR_TEST_JOB_IFACE, NULL));
  g_assert_false (managed_objects_has (after, g->job_path, QMGR_TEST_GROUP_IFACE, NULL));
  value = g_variant_lookup_value (group_props, "GroupID", G_VARIANT_TYPE_STRING);
  g_assert_nonnull (value);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, g->id);
  g_clear_pointer (&value, g_variant_unref);
  value = g_variant_lookup_value (group_props, "Status", G_VARIANT_TYPE_UINT32);
  g_assert_nonnull (value);
  g_assert_cmpuint (g_variant_get_uint32 (value), ==, 0x180);
  g_clear_pointer (&value, g_variant_unref);
  value = g_variant_lookup_value (job_props, "JobID", G_VARIANT_TYPE_STRING);
  g_assert_nonnull (value);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, g->job_id);
  g_clear_pointer (&value, g_variant_unref);
  value = g_variant_lookup_value (job_props, "Group", G_VARIANT_TYPE_OBJECT_PATH);
  g_assert_nonnull (value);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, g->path);
  g_clear_pointer (&value, g_variant_unref);

  /* CancelJob removes the job object; CancelGroup the group object. */
  it_call_void (f->d, g->job_path, QMGR_TEST_JOB_IFACE, "CancelJob", NULL);
  g_assert_true (wait_object_signal (rec, "InterfacesRemoved", g->job_path,
                                     QMGR_TEST_JOB_IFACE));
  g_clear_pointer (&after, g_variant_unref);
  after = get_managed_objects (f->d);
  g_assert_false (managed_objects_has (after, g->job_path, QMGR_TEST_JOB_IFACE, NULL));
  g_assert_true (managed_objects_has (after, g->path, QMGR_TEST_GROUP_IFACE, NULL));

  /* A group with a job: cancelling it removes both. */
  it_group_create_job (f->d, plain);
  it_call_void (f->d, plain->path, QMGR_TEST_GROUP_IFACE, "CancelGroup", NULL);
  g_assert_true (wait_object_signal (rec, "InterfacesRemoved", plain->path,
                                     QMGR_TEST_GROUP_IFACE));
  g_assert_true (wait_object_signal (rec, "InterfacesRemoved", plain->job_path,
                                     QMGR_TEST_JOB_IFACE));
  it_call_void (f->d, g->path, QMGR_TEST_GROUP_IFACE, "CancelGroup", NULL);
  g_assert_true (wait_object_signal (rec, "InterfacesRemoved", g->path, QMGR_TEST_GROUP_IFACE));
  g_clear_pointer (&after, g_variant_unref);
  after = get_managed_objects (f->d);
  g_assert_cmpuint (g_variant_n_children (after), ==, 0);
}

static void
test_unknown_paths (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(ItGroup) g = it_group_create (f->d, TRUE);
  g_autofree char *upper = g_ascii_strup (g->path + strlen (QMGR_TEST_MANAGER_PATH "/group/"), -1);
  g_autofree char *upper_path = g_strdup_printf ("%s/group/%s", QMGR_TEST_MANAGER_PATH, upper);
  g_autofree char *unknown_group = it_group_path ("12345678-9abc-4def-8123-456789abcdef");
  g_autofree char *unknown_job = g_strdup_printf ("%s/job/%s", g->path,
                                                  "0123456789abcdef0123456789abcdef");
  g_autofree char *group_as_job = g_strdup_printf ("%s/job/%s", g->path,
                                                   g->path + strlen (g->path) - 32);
  const char *const paths[] = {
    unknown_group,
    unknown_job,
    group_as_job,
    upper_path,
    QMGR_TEST_MANAGER_PATH "/group/nothex",
    QMGR_TEST_MANAGER_PATH "/group/00000000000000000000000000000000",
  };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;

      g_test_message ("calls on %s", paths[i]);
      reply = qmgr_test_call (f->d, paths[i], QMGR_TEST_GROUP_IFACE, "GetStatus", NULL, "(uu)",
                              &error);
      g_assert_null (reply);
      qmgr_test_assert_dbus_error (error, IT_ERR_UNKNOWN_OBJECT);
      reply = qmgr_test_call (f->d, paths[i], QMGR_TEST_JOB_IFACE, "GetFileCount", NULL, "(u)",
                              &error);
      g_assert_null (reply);
      qmgr_test_assert_dbus_error (error, IT_ERR_UNKNOWN_OBJECT);
      reply = qmgr_test_call (f->d, paths[i], "org.freedesktop.DBus.Properties", "GetAll",
                              g_variant_new ("(s)", QMGR_TEST_GROUP_IFACE), "(a{sv})", &error);
      g_assert_null (reply);
      qmgr_test_assert_dbus_error (error, IT_ERR_UNKNOWN_OBJECT);
    }
}

/* Groups outlive the application that made them, and every connection of the same
 * user sees the same queue. */
static void
test_groups_outlive_client (ItFixture *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GDBusConnection) client = qmgr_test_daemon_new_connection (f->d);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *id = it_new_guid ();
  g_auto(GStrv) ids = NULL;

  reply = g_dbus_connection_call_sync (client, QMGR_TEST_BUS_NAME, QMGR_TEST_MANAGER_PATH,
                                       QMGR_TEST_MANAGER_IFACE, "CreateGroup",
                                       g_variant_new ("(s)", id), G_VARIANT_TYPE ("(o)"),
                                       G_DBUS_CALL_FLAGS_NONE, 25000, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (client, QMGR_TEST_BUS_NAME, QMGR_TEST_MANAGER_PATH,
                                       QMGR_TEST_MANAGER_IFACE, "EnumGroups",
                                       g_variant_new ("(u)", 0), G_VARIANT_TYPE ("(as)"),
                                       G_DBUS_CALL_FLAGS_NONE, 25000, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  g_dbus_connection_close_sync (client, NULL, &error);
  g_assert_no_error (error);

  ids = enum_groups (f->d, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (ids), ==, 1);
  g_assert_cmpstr (ids[0], ==, id);
  {
    g_autofree char *path = get_group (f->d, id, &error);
    g_autofree char *expected = it_group_path (id);
    g_assert_no_error (error);
    g_assert_cmpstr (path, ==, expected);
    g_assert_cmpuint (it_group_status (f->d, path), ==, 0x180);
  }
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  it_add ("/manager/create-group/forms", test_create_group_forms);
  it_add ("/manager/create-group/generated", test_create_group_generated);
  it_add ("/manager/create-group/invalid", test_create_group_invalid);
  it_add ("/manager/create-group/duplicate", test_create_group_duplicate);
  g_test_add_func ("/manager/create-group/quota", test_group_quota);
  it_add ("/manager/get-group", test_get_group);
  it_add ("/manager/enum-groups", test_enum_groups);
  it_add ("/manager/properties", test_properties);
  g_test_add_func ("/manager/properties/persist", test_properties_persist);
  it_add ("/manager/object-manager", test_object_manager);
  it_add ("/manager/unknown-paths", test_unknown_paths);
  it_add ("/manager/groups-outlive-client", test_groups_outlive_client);
  return g_test_run ();
}
