/* qmgrd unit tests — GetProp/SetProp (docs/dbus-api.md, "Group properties
 * by id (GetProp/SetProp)") for every id, the accepted GVariant types, and the group's
 * other settable properties (TransferPolicy, BandwidthLimit, ...). */
#include <string.h>

#include "unit-common.h"

typedef struct {
  QmgrManager *manager;
  QmgrGroup *group;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  f->manager = unit_manager_new (0, 0);
  f->group = unit_create_group (f->manager, GUID_A, UNIT_OWNER);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  qmgr_manager_free (f->manager);
}

/* SetProp with a floating @value, which is consumed. */
static gboolean
set_prop (QmgrGroup *group, guint32 prop_id, GVariant *value, GError **error)
{
  g_autoptr(GVariant) owned = value ? g_variant_ref_sink (value) : NULL;
  const char *type = owned ? g_variant_get_type_string (owned) : "h";

  return qmgr_group_set_prop (group, prop_id, owned, type, error);
}

static void
assert_set_fails (QmgrGroup *group, guint32 prop_id, GVariant *value, int code)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *shown = value ? g_variant_print (value, TRUE) : g_strdup ("(null)");

  if (set_prop (group, prop_id, value, &error))
    {
      g_test_fail_printf ("SetProp (%u, %s) succeeded", prop_id, shown);
      return;
    }
  if (!g_error_matches (error, QMGR_ERROR, code))
    g_test_fail_printf ("SetProp (%u, %s): expected code %d, got %s %d: %s", prop_id, shown,
                        code, error ? g_quark_to_string (error->domain) : "no error",
                        error ? error->code : -1, error ? error->message : "");
}

static void
assert_set_ok (QmgrGroup *group, guint32 prop_id, GVariant *value)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *shown = g_variant_print (value, TRUE);

  if (!set_prop (group, prop_id, value, &error))
    g_test_fail_printf ("SetProp (%u, %s) failed: %s", prop_id, shown, error->message);
}

static void
assert_get_fails (QmgrGroup *group, guint32 prop_id, int code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = qmgr_group_get_prop (group, prop_id, &error);

  g_assert_null (v);
  g_assert_error (error, QMGR_ERROR, code);
}

/* ---- GetProp ---- */

static void
test_get_prop_defaults (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *user = NULL, *pwd = NULL, *clsid = NULL, *name = NULL, *desc = NULL;

  g_assert_cmpuint (unit_get_u32_prop (f->group, QMGR_GROUPPROP_PRIORITY), ==, 1);
  user = unit_get_string_prop (f->group, QMGR_GROUPPROP_REMOTEUSERID);
  g_assert_cmpstr (user, ==, "");
  pwd = unit_get_string_prop (f->group, QMGR_GROUPPROP_REMOTEUSERPWD);
  g_assert_cmpstr (pwd, ==, "");
  assert_get_fails (f->group, QMGR_GROUPPROP_LOCALUSERID, QMGR_ERROR_NOT_SUPPORTED);
  assert_get_fails (f->group, QMGR_GROUPPROP_LOCALUSERPWD, QMGR_ERROR_NOT_SUPPORTED);
  g_assert_cmpuint (unit_get_u32_prop (f->group, QMGR_GROUPPROP_PROTOCOLFLAGS), ==,
                    QMGR_PROTOCOL_HTTP);
  g_assert_cmpuint (unit_get_u32_prop (f->group, QMGR_GROUPPROP_NOTIFYFLAGS), ==, 0);
  clsid = unit_get_string_prop (f->group, QMGR_GROUPPROP_NOTIFYCLSID);
  g_assert_cmpstr (clsid, ==, "");
  assert_get_fails (f->group, QMGR_GROUPPROP_PROGRESSSIZE, QMGR_ERROR_NOT_SUPPORTED);
  assert_get_fails (f->group, QMGR_GROUPPROP_PROGRESSPERCENT, QMGR_ERROR_NOT_SUPPORTED);
  assert_get_fails (f->group, QMGR_GROUPPROP_PROGRESSTIME, QMGR_ERROR_NOT_SUPPORTED);
  name = unit_get_string_prop (f->group, QMGR_GROUPPROP_DISPLAYNAME);
  g_assert_cmpstr (name, ==, "");
  desc = unit_get_string_prop (f->group, QMGR_GROUPPROP_DESCRIPTION);
  g_assert_cmpstr (desc, ==, "");
}

static void
test_get_prop_unknown (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  assert_get_fails (f->group, 13, QMGR_ERROR_INVALID_ARGS);
  assert_get_fails (f->group, 14, QMGR_ERROR_INVALID_ARGS);
  assert_get_fails (f->group, 0x7FFFFFFF, QMGR_ERROR_INVALID_ARGS);
  assert_get_fails (f->group, 0xFFFFFFFF, QMGR_ERROR_INVALID_ARGS);
}

static void
test_get_prop_not_floating (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  for (guint32 id = 0; id <= QMGR_GROUPPROP_LAST; id++)
    {
      GVariant *v = qmgr_group_get_prop (f->group, id, NULL);
      if (v == NULL)
        continue;
      g_assert_false (g_variant_is_floating (v));
      g_variant_unref (v);
    }
}

/* ---- SetProp: types ---- */

static void
test_set_numeric_types (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  /* PRIORITY 1 in every numeric type. */
  assert_set_ok (f->group, QMGR_GROUPPROP_PRIORITY, g_variant_new_uint32 (1));
  assert_set_ok (f->group, QMGR_GROUPPROP_PRIORITY, g_variant_new_int32 (1));
  assert_set_ok (f->group, QMGR_GROUPPROP_PRIORITY, g_variant_new_uint16 (1));
  assert_set_ok (f->group, QMGR_GROUPPROP_PRIORITY, g_variant_new_int16 (1));

  /* NOTIFYFLAGS through each type reads back as u. */
  assert_set_ok (f->group, QMGR_GROUPPROP_NOTIFYFLAGS, g_variant_new_uint32 (0x1));
  g_assert_cmpuint (unit_get_u32_prop (f->group, QMGR_GROUPPROP_NOTIFYFLAGS), ==, 0x1);
  assert_set_ok (f->group, QMGR_GROUPPROP_NOTIFYFLAGS, g_variant_new_int32 (0x2));
  g_assert_cmpuint (unit_get_u32_prop (f->group, QMGR_GROUPPROP_NOTIFYFLAGS), ==, 0x2);
  assert_set_ok (f->group, QMGR_GROUPPROP_NOTIFYFLAGS, g_variant_new_uint16 (0x104));
  g_assert_cmpuint (unit_get_u32_prop (f->group, QMGR_GROUPPROP_NOTIFYFLAGS), ==, 0x104);
  assert_set_ok (f->group, QMGR_GROUPPROP_NOTIFYFLAGS, g_variant_new_int16 (0x40));
  g_assert_cmpuint (unit_get_u32_prop (f->group, QMGR_GROUPPROP_NOTIFYFLAGS), ==, 0x40);

  /* PROTOCOLFLAGS 1 in every numeric type. */
  assert_set_ok (f->group, QMGR_GROUPPROP_PROTOCOLFLAGS, g_variant_new_uint32 (1));
  assert_set_ok (f->group, QMGR_GROUPPROP_PROTOCOLFLAGS, g_variant_new_int32 (1));
  assert_set_ok (f->group, QMGR_GROUPPROP_PROTOCOLFLAGS, g_variant_new_uint16 (1));
  assert_set_ok (f->group, QMGR_GROUPPROP_PROTOCOLFLAGS, g_variant_new_int16 (1));
}

static void
test_set_numeric_negative (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  const guint32 ids[] = { QMGR_GROUPPROP_PRIORITY, QMGR_GROUPPROP_PROTOCOLFLAGS,
                          QMGR_GROUPPROP_NOTIFYFLAGS };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      assert_set_fails (f->group, ids[i], g_variant_new_int32 (-1), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_int32 (G_MININT32),
                        QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_int16 (-1), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_int16 (G_MININT16),
                        QMGR_ERROR_INVALID_ARGS);
    }
  /* -1 as i must not become 0xFFFFFFFF anywhere. */
  g_assert_cmpuint (f->group->notify_flags, ==, 0);
}

static void
test_set_numeric_wrong_types (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  const guint32 ids[] = { QMGR_GROUPPROP_PRIORITY, QMGR_GROUPPROP_PROTOCOLFLAGS,
                          QMGR_GROUPPROP_NOTIFYFLAGS };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      assert_set_fails (f->group, ids[i], g_variant_new_string ("1"), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_uint64 (1), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_int64 (1), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_boolean (TRUE), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_byte (1), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_double (1.0), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_variant (g_variant_new_uint32 (1)),
                        QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new ("(u)", 1), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new ("au", NULL), QMGR_ERROR_INVALID_ARGS);
      /* A type with no GVariant equivalent (a unix fd, say) arrives as NULL. */
      assert_set_fails (f->group, ids[i], NULL, QMGR_ERROR_INVALID_ARGS);
    }
}

static void
test_set_string_wrong_types (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  const guint32 ids[] = { QMGR_GROUPPROP_REMOTEUSERID, QMGR_GROUPPROP_REMOTEUSERPWD,
                          QMGR_GROUPPROP_NOTIFYCLSID, QMGR_GROUPPROP_DISPLAYNAME,
                          QMGR_GROUPPROP_DESCRIPTION };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      assert_set_fails (f->group, ids[i], g_variant_new_uint32 (0), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_int32 (1), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_object_path ("/org/example"),
                        QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_signature ("s"),
                        QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_bytestring ("x"),
                        QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_variant (g_variant_new_string ("x")),
                        QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_strv (NULL, 0), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], NULL, QMGR_ERROR_INVALID_ARGS);
    }
  g_assert_cmpstr (f->group->display_name, ==, "");
}

static void
test_set_unsupported (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  const guint32 ids[] = { QMGR_GROUPPROP_LOCALUSERID, QMGR_GROUPPROP_LOCALUSERPWD,
                          QMGR_GROUPPROP_PROGRESSSIZE, QMGR_GROUPPROP_PROGRESSPERCENT,
                          QMGR_GROUPPROP_PROGRESSTIME };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      assert_set_fails (f->group, ids[i], g_variant_new_string ("root"),
                        QMGR_ERROR_NOT_SUPPORTED);
      assert_set_fails (f->group, ids[i], g_variant_new_uint32 (0), QMGR_ERROR_NOT_SUPPORTED);
    }
}

static void
test_set_unknown (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  const guint32 ids[] = { 13, 14, 100, 0x80000000u, 0xFFFFFFFFu };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      assert_set_fails (f->group, ids[i], g_variant_new_uint32 (1), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], g_variant_new_string ("x"), QMGR_ERROR_INVALID_ARGS);
      assert_set_fails (f->group, ids[i], NULL, QMGR_ERROR_INVALID_ARGS);
    }
}

/* ---- SetProp: values ---- */

static void
test_priority (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  assert_set_ok (f->group, QMGR_GROUPPROP_PRIORITY, g_variant_new_uint32 (1));
  assert_set_fails (f->group, QMGR_GROUPPROP_PRIORITY, g_variant_new_uint32 (0),
                    QMGR_ERROR_INVALID_ARGS);
  assert_set_fails (f->group, QMGR_GROUPPROP_PRIORITY, g_variant_new_uint32 (2),
                    QMGR_ERROR_INVALID_ARGS);
  assert_set_fails (f->group, QMGR_GROUPPROP_PRIORITY, g_variant_new_uint16 (0xFFFF),
                    QMGR_ERROR_INVALID_ARGS);
  assert_set_fails (f->group, QMGR_GROUPPROP_PRIORITY, g_variant_new_uint32 (0xFFFFFFFF),
                    QMGR_ERROR_INVALID_ARGS);
  g_assert_cmpuint (unit_get_u32_prop (f->group, QMGR_GROUPPROP_PRIORITY), ==, 1);
}

static void
test_protocol_flags (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  assert_set_ok (f->group, QMGR_GROUPPROP_PROTOCOLFLAGS, g_variant_new_uint32 (1));
  assert_set_fails (f->group, QMGR_GROUPPROP_PROTOCOLFLAGS, g_variant_new_uint32 (0),
                    QMGR_ERROR_INVALID_ARGS);
  assert_set_fails (f->group, QMGR_GROUPPROP_PROTOCOLFLAGS,
                    g_variant_new_uint32 (QMGR_PROTOCOL_FTP), QMGR_ERROR_INVALID_ARGS);
  assert_set_fails (f->group, QMGR_GROUPPROP_PROTOCOLFLAGS,
                    g_variant_new_uint32 (QMGR_PROTOCOL_SMB), QMGR_ERROR_INVALID_ARGS);
  assert_set_fails (f->group, QMGR_GROUPPROP_PROTOCOLFLAGS,
                    g_variant_new_uint32 (QMGR_PROTOCOL_CUSTOM), QMGR_ERROR_INVALID_ARGS);
  assert_set_fails (f->group, QMGR_GROUPPROP_PROTOCOLFLAGS, g_variant_new_uint32 (0xFFFFFFFF),
                    QMGR_ERROR_INVALID_ARGS);
  g_assert_cmpuint (unit_get_u32_prop (f->group, QMGR_GROUPPROP_PROTOCOLFLAGS), ==, 1);
}

static void
test_notify_flags (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  const guint32 good[] = { 0, QMGR_NOTIFY_FILE_DONE, QMGR_NOTIFY_JOB_DONE,
                           QMGR_NOTIFY_GROUP_DONE, QMGR_NOTIFY_DISABLE_NOTIFY,
                           QMGR_NOTIFY_USE_PROGRESSEX, QMGR_NOTIFY_PROGRESS,
                           QMGR_NOTIFY_GROUP_DONE | QMGR_NOTIFY_PROGRESS, 0x1c7 };
  const guint32 bad[] = { 0x8, 0x10, 0x20, 0x200, 0x400, 0x1c7 | 0x8, 0x80000000u,
                          0xFFFFFFFFu };

  g_assert_cmphex (QMGR_NOTIFY_ALL_FLAGS, ==, 0x1 | 0x2 | 0x4 | 0x40 | 0x80 | 0x100);
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      assert_set_ok (f->group, QMGR_GROUPPROP_NOTIFYFLAGS, g_variant_new_uint32 (good[i]));
      g_assert_cmphex (unit_get_u32_prop (f->group, QMGR_GROUPPROP_NOTIFYFLAGS), ==, good[i]);
      g_assert_cmphex (f->group->notify_flags, ==, good[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      assert_set_fails (f->group, QMGR_GROUPPROP_NOTIFYFLAGS, g_variant_new_uint32 (bad[i]),
                        QMGR_ERROR_INVALID_ARGS);
      /* Unchanged. */
      g_assert_cmphex (unit_get_u32_prop (f->group, QMGR_GROUPPROP_NOTIFYFLAGS), ==, 0x1c7);
    }
}

static void
test_remote_user (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *user = NULL;
  g_autofree char *pwd = NULL;

  assert_set_ok (f->group, QMGR_GROUPPROP_REMOTEUSERID, g_variant_new_string ("alice"));
  user = unit_get_string_prop (f->group, QMGR_GROUPPROP_REMOTEUSERID);
  g_assert_cmpstr (user, ==, "alice");

  assert_set_ok (f->group, QMGR_GROUPPROP_REMOTEUSERPWD, g_variant_new_string ("s3cr3t"));
  /* Write-only. */
  pwd = unit_get_string_prop (f->group, QMGR_GROUPPROP_REMOTEUSERPWD);
  g_assert_cmpstr (pwd, ==, "");
  g_assert_cmpstr (f->group->remote_user_password, ==, "s3cr3t");

  /* "" clears both. */
  assert_set_ok (f->group, QMGR_GROUPPROP_REMOTEUSERPWD, g_variant_new_string (""));
  g_assert_cmpstr (f->group->remote_user_password, ==, "");
  assert_set_ok (f->group, QMGR_GROUPPROP_REMOTEUSERID, g_variant_new_string (""));
  g_clear_pointer (&user, g_free);
  user = unit_get_string_prop (f->group, QMGR_GROUPPROP_REMOTEUSERID);
  g_assert_cmpstr (user, ==, "");

  assert_set_fails (f->group, QMGR_GROUPPROP_REMOTEUSERID, g_variant_new_string ("a\nb"),
                    QMGR_ERROR_INVALID_ARGS);
}

static void
test_notify_clsid (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *v1 = NULL;
  g_autofree char *v2 = NULL;
  const char *bad[] = { ":1.5", "noDot", "org.example.App:", "org.example.App:bad/path",
                        "org..x", "org.example.App:/a//b" };

  assert_set_ok (f->group, QMGR_GROUPPROP_NOTIFYCLSID,
                 g_variant_new_string ("org.example.Updater:/org/example/Updater/cb"));
  v1 = unit_get_string_prop (f->group, QMGR_GROUPPROP_NOTIFYCLSID);
  g_assert_cmpstr (v1, ==, "org.example.Updater:/org/example/Updater/cb");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_set_fails (f->group, QMGR_GROUPPROP_NOTIFYCLSID, g_variant_new_string (bad[i]),
                      QMGR_ERROR_INVALID_ARGS);
  g_assert_cmpstr (f->group->notify_clsid, ==, "org.example.Updater:/org/example/Updater/cb");

  assert_set_ok (f->group, QMGR_GROUPPROP_NOTIFYCLSID, g_variant_new_string (""));
  v2 = unit_get_string_prop (f->group, QMGR_GROUPPROP_NOTIFYCLSID);
  g_assert_cmpstr (v2, ==, "");
}

static void
test_display_name (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *max = NULL;
  g_autofree char *over = NULL;
  g_autofree char *accents = NULL;
  g_autofree char *read = NULL;
  GString *s = g_string_new ("");

  for (guint i = 0; i < 256; i++)
    g_string_append (s, "\xc3\xa9");
  accents = g_strdup (s->str);
  g_string_truncate (s, 0);
  for (guint i = 0; i < 256; i++)
    g_string_append_c (s, 'n');
  max = g_strdup (s->str);
  g_string_append_c (s, 'n');
  over = g_string_free (s, FALSE);

  assert_set_ok (f->group, QMGR_GROUPPROP_DISPLAYNAME, g_variant_new_string ("Firmware"));
  read = unit_get_string_prop (f->group, QMGR_GROUPPROP_DISPLAYNAME);
  g_assert_cmpstr (read, ==, "Firmware");

  assert_set_ok (f->group, QMGR_GROUPPROP_DISPLAYNAME, g_variant_new_string (accents));
  g_assert_cmpstr (f->group->display_name, ==, accents);
  assert_set_ok (f->group, QMGR_GROUPPROP_DISPLAYNAME, g_variant_new_string (max));
  g_assert_cmpstr (f->group->display_name, ==, max);
  assert_set_fails (f->group, QMGR_GROUPPROP_DISPLAYNAME, g_variant_new_string (over),
                    QMGR_ERROR_INVALID_ARGS);
  assert_set_fails (f->group, QMGR_GROUPPROP_DISPLAYNAME, g_variant_new_string ("a\nb"),
                    QMGR_ERROR_INVALID_ARGS);
  assert_set_fails (f->group, QMGR_GROUPPROP_DISPLAYNAME, g_variant_new_string ("tab\t"),
                    QMGR_ERROR_INVALID_ARGS);
  g_assert_cmpstr (f->group->display_name, ==, max);

  /* The direct setter follows the same rules. */
  g_assert_false (qmgr_group_set_display_name (f->group, over, NULL));
  g_assert_true (qmgr_group_set_display_name (f->group, "", NULL));
  g_assert_cmpstr (f->group->display_name, ==, "");
}

static void
test_description (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autofree char *max = NULL;
  g_autofree char *over = NULL;
  GString *s = g_string_new ("");

  for (guint i = 0; i < 1024; i++)
    g_string_append (s, i % 10 == 9 ? "\n" : "\xc3\xa9");
  max = g_strdup (s->str);
  g_string_append_c (s, 'x');
  over = g_string_free (s, FALSE);

  assert_set_ok (f->group, QMGR_GROUPPROP_DESCRIPTION,
                 g_variant_new_string ("Line one\n\tindented line two"));
  g_assert_cmpstr (f->group->description, ==, "Line one\n\tindented line two");
  assert_set_ok (f->group, QMGR_GROUPPROP_DESCRIPTION, g_variant_new_string (max));
  assert_set_fails (f->group, QMGR_GROUPPROP_DESCRIPTION, g_variant_new_string (over),
                    QMGR_ERROR_INVALID_ARGS);
  assert_set_fails (f->group, QMGR_GROUPPROP_DESCRIPTION, g_variant_new_string ("cr\r"),
                    QMGR_ERROR_INVALID_ARGS);
  assert_set_fails (f->group, QMGR_GROUPPROP_DESCRIPTION, g_variant_new_string ("\x1b[1m"),
                    QMGR_ERROR_INVALID_ARGS);
  g_assert_cmpstr (f->group->description, ==, max);
}

static void
test_set_prop_modification_time (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  gint64 created = f->group->modification_time;

  unit_clock_advance (G_USEC_PER_SEC);
  assert_set_ok (f->group, QMGR_GROUPPROP_DISPLAYNAME, g_variant_new_string ("x"));
  g_assert_cmpint (f->group->modification_time, ==, unit_now);
  g_assert_cmpint (f->group->modification_time, >, created);
  g_assert_cmpint (f->group->creation_time, ==, created);

  /* A rejected value changes nothing, not even the time. */
  unit_clock_advance (G_USEC_PER_SEC);
  assert_set_fails (f->group, QMGR_GROUPPROP_DISPLAYNAME, g_variant_new_string ("\x01"),
                    QMGR_ERROR_INVALID_ARGS);
  g_assert_cmpint (f->group->modification_time, ==, unit_now - G_USEC_PER_SEC);
}

/* ---- TransferPolicy and the other D-Bus-only properties ---- */

static void
test_transfer_policy (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  const guint32 good[] = { QMGR_TRANSFER_POLICY_ALWAYS, QMGR_TRANSFER_POLICY_NOT_ROAMING,
                           QMGR_TRANSFER_POLICY_NO_SURCHARGE, QMGR_TRANSFER_POLICY_STANDARD,
                           QMGR_TRANSFER_POLICY_UNRESTRICTED, 0x1, 0x80, 0xFF, 0x80000001u,
                           0x21 };
  const guint32 bad[] = { 0x80000000u, 0x100, 0x800001FFu, 0xFFFFFFFFu, 0x40000001u,
                          0x80000100u, 0x7FFFFFFFu };

  g_assert_cmphex (QMGR_TRANSFER_POLICY_ALWAYS, ==, 0x800000FF);
  g_assert_cmphex (QMGR_TRANSFER_POLICY_NOT_ROAMING, ==, 0x8000007F);
  g_assert_cmphex (QMGR_TRANSFER_POLICY_NO_SURCHARGE, ==, 0x8000006F);
  g_assert_cmphex (QMGR_TRANSFER_POLICY_STANDARD, ==, 0x80000067);
  g_assert_cmphex (QMGR_TRANSFER_POLICY_UNRESTRICTED, ==, 0x80000021);

  /* Reads 0 while defaulted: UNRESTRICTED for background groups. */
  g_assert_cmphex (f->group->transfer_policy, ==, 0);
  g_assert_cmphex (qmgr_group_get_effective_transfer_policy (f->group), ==,
                   QMGR_TRANSFER_POLICY_UNRESTRICTED);

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_assert_true (qmgr_group_set_transfer_policy (f->group, good[i], &error));
      g_assert_no_error (error);
      g_assert_cmphex (f->group->transfer_policy, ==, good[i]);
      g_assert_cmphex (qmgr_group_get_effective_transfer_policy (f->group), ==, good[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (qmgr_group_set_transfer_policy (f->group, bad[i], &error));
      g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
      g_clear_error (&error);
      g_assert_cmphex (f->group->transfer_policy, ==, 0x21);
    }

  /* 0 restores the default. */
  g_assert_true (qmgr_group_set_transfer_policy (f->group, 0, &error));
  g_assert_no_error (error);
  g_assert_cmphex (f->group->transfer_policy, ==, 0);
  g_assert_cmphex (qmgr_group_get_effective_transfer_policy (f->group), ==,
                   QMGR_TRANSFER_POLICY_UNRESTRICTED);

  /* Foreground: the default becomes ALWAYS; an explicit value stays. */
  g_assert_true (qmgr_group_switch_to_foreground (f->group, &error));
  g_assert_cmphex (f->group->transfer_policy, ==, 0);
  g_assert_cmphex (qmgr_group_get_effective_transfer_policy (f->group), ==,
                   QMGR_TRANSFER_POLICY_ALWAYS);
  g_assert_true (qmgr_group_set_transfer_policy (f->group, QMGR_TRANSFER_POLICY_STANDARD,
                                                 &error));
  g_assert_cmphex (qmgr_group_get_effective_transfer_policy (f->group), ==,
                   QMGR_TRANSFER_POLICY_STANDARD);
  g_assert_true (qmgr_group_set_transfer_policy (f->group, 0, &error));
  g_assert_cmphex (qmgr_group_get_effective_transfer_policy (f->group), ==,
                   QMGR_TRANSFER_POLICY_ALWAYS);
}

static void
test_other_setters (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (qmgr_group_set_bandwidth_limit (f->group, 1000000, &error));
  g_assert_cmpuint (f->group->bandwidth_limit, ==, 1000000);
  g_assert_true (qmgr_group_set_bandwidth_limit (f->group, G_MAXUINT64, &error));
  g_assert_cmpuint (f->group->bandwidth_limit, ==, G_MAXUINT64);
  g_assert_true (qmgr_group_set_bandwidth_limit (f->group, 0, &error));
  g_assert_cmpuint (f->group->bandwidth_limit, ==, 0);

  g_assert_true (qmgr_group_set_minimum_retry_delay (f->group, 600, &error));
  g_assert_cmpuint (f->group->minimum_retry_delay, ==, 600);
  g_assert_true (qmgr_group_set_no_progress_timeout (f->group, 3600, &error));
  g_assert_cmpuint (f->group->no_progress_timeout, ==, 3600);
  g_assert_no_error (error);

  g_assert_true (qmgr_group_set_priority (f->group, 1, &error));
  g_assert_false (qmgr_group_set_priority (f->group, 3, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_true (qmgr_group_set_protocol_flags (f->group, QMGR_PROTOCOL_HTTP, &error));
  g_assert_false (qmgr_group_set_protocol_flags (f->group, QMGR_PROTOCOL_HTTP | 2, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (qmgr_group_set_notify_flags (f->group, 0x8, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
}

static void
test_manager_settings (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (qmgr_manager_set_bandwidth_limit (f->manager, 123456, &error));
  g_assert_cmpuint (f->manager->settings.bandwidth_limit, ==, 123456);
  g_assert_true (qmgr_manager_set_metered_bandwidth_limit (f->manager, 1000, &error));
  g_assert_cmpuint (f->manager->settings.metered_bandwidth_limit, ==, 1000);
  g_assert_true (qmgr_manager_set_max_concurrent_transfers (f->manager, 8, &error));
  g_assert_cmpuint (f->manager->settings.max_concurrent_transfers, ==, 8);
  g_assert_no_error (error);

  /* 0 transfers at a time would stop the daemon for good. */
  g_assert_false (qmgr_manager_set_max_concurrent_transfers (f->manager, 0, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_assert_cmpuint (f->manager->settings.max_concurrent_transfers, ==, 8);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

#define ADD(path, fn) g_test_add ((path), Fixture, NULL, fixture_set_up, (fn), fixture_tear_down)

  ADD ("/props/get/defaults", test_get_prop_defaults);
  ADD ("/props/get/unknown", test_get_prop_unknown);
  ADD ("/props/get/not-floating", test_get_prop_not_floating);
  ADD ("/props/set/numeric-types", test_set_numeric_types);
  ADD ("/props/set/numeric-negative", test_set_numeric_negative);
  ADD ("/props/set/numeric-wrong-types", test_set_numeric_wrong_types);
  ADD ("/props/set/string-wrong-types", test_set_string_wrong_types);
  ADD ("/props/set/unsupported", test_set_unsupported);
  ADD ("/props/set/unknown", test_set_unknown);
  ADD ("/props/priority", test_priority);
  ADD ("/props/protocol-flags", test_protocol_flags);
  ADD ("/props/notify-flags", test_notify_flags);
  ADD ("/props/remote-user", test_remote_user);
  ADD ("/props/notify-clsid", test_notify_clsid);
  ADD ("/props/display-name", test_display_name);
  ADD ("/props/description", test_description);
  ADD ("/props/modification-time", test_set_prop_modification_time);
  ADD ("/props/transfer-policy", test_transfer_policy);
  ADD ("/props/other-setters", test_other_setters);
  ADD ("/props/manager-settings", test_manager_settings);

  return g_test_run ();
}
