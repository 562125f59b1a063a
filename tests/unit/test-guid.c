/* qmgrd unit tests — GUIDs: the wire forms of docs/dbus-api.md ("GUIDs"):
 * dashed, braced or 32 hex digits in any case on input; dashed lowercase on output. */
#include <string.h>

#include "qmgr-guid.h"
#include "qmgr-error.h"

#define CANONICAL "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
#define CANONICAL_HEX "1b4e28ba2fa111d2883f0016d3cca427"

static void
assert_parses_to (const char *text, const char *expected)
{
  g_autoptr(GError) error = NULL;
  QmgrGuid guid;
  char out[QMGR_GUID_STRING_LEN + 1];

  memset (&guid, 0xaa, sizeof guid);
  if (!qmgr_guid_parse (text, &guid, &error))
    {
      g_test_fail_printf ("\"%s\" was rejected: %s", text,
                          error ? error->message : "(no error set)");
      return;
    }
  g_assert_no_error (error);
  qmgr_guid_to_string (guid, out);
  g_assert_cmpstr (out, ==, expected);
  g_assert_cmpuint (strlen (out), ==, QMGR_GUID_STRING_LEN);
}

static void
assert_rejected (const char *text)
{
  g_autoptr(GError) error = NULL;
  QmgrGuid guid;

  if (qmgr_guid_parse (text, &guid, &error))
    {
      g_test_fail_printf ("\"%s\" was accepted as a GUID", text);
      return;
    }
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_assert_nonnull (error->message);
  g_assert_cmpstr (error->message, !=, "");
}

static void
test_guid_accepted_forms (void)
{
  assert_parses_to (CANONICAL, CANONICAL);
  assert_parses_to ("{" CANONICAL "}", CANONICAL);
  assert_parses_to (CANONICAL_HEX, CANONICAL);
  assert_parses_to ("1B4E28BA-2FA1-11D2-883F-0016D3CCA427", CANONICAL);
  assert_parses_to ("{1B4E28BA-2FA1-11D2-883F-0016D3CCA427}", CANONICAL);
  assert_parses_to ("1B4E28BA2FA111D2883F0016D3CCA427", CANONICAL);
  assert_parses_to ("1b4E28bA-2Fa1-11d2-883F-0016d3CcA427", CANONICAL);
  assert_parses_to ("{1b4E28bA-2Fa1-11d2-883F-0016d3CcA427}", CANONICAL);
  assert_parses_to ("1b4E28bA2Fa111d2883F0016d3CcA427", CANONICAL);
  assert_parses_to ("ffffffff-ffff-ffff-ffff-ffffffffffff", "ffffffff-ffff-ffff-ffff-ffffffffffff");
  assert_parses_to ("00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000001");
  assert_parses_to ("10000000000000000000000000000000", "10000000-0000-0000-0000-000000000000");
}

static void
test_guid_rejects_empty_and_zero (void)
{
  assert_rejected ("");
  assert_rejected ("00000000-0000-0000-0000-000000000000");
  assert_rejected ("{00000000-0000-0000-0000-000000000000}");
  assert_rejected ("00000000000000000000000000000000");
}

static void
test_guid_rejects_wrong_length (void)
{
  assert_rejected ("1b4e28ba-2fa1-11d2-883f-0016d3cca42");      /* 35 */
  assert_rejected ("1b4e28ba-2fa1-11d2-883f-0016d3cca4270");    /* 37 */
  assert_rejected ("1b4e28ba2fa111d2883f0016d3cca42");          /* 31 */
  assert_rejected ("1b4e28ba2fa111d2883f0016d3cca4270");        /* 33 */
  assert_rejected ("{1b4e28ba-2fa1-11d2-883f-0016d3cca42}");
  assert_rejected ("{1b4e28ba-2fa1-11d2-883f-0016d3cca4270}");
  assert_rejected (CANONICAL " ");
  assert_rejected (" " CANONICAL);
  assert_rejected (CANONICAL "\n");
  assert_rejected ("1");
  assert_rejected ("{}");
  assert_rejected (CANONICAL CANONICAL);
}

static void
test_guid_rejects_bad_dashes (void)
{
  assert_rejected ("1b4e28b-a2fa1-11d2-883f-0016d3cca427");     /* 36, dash moved */
  assert_rejected ("1b4e28ba-2fa111d2-883f-0016d3cca4270");     /* 36, one dash missing */
  assert_rejected ("1b4e28ba02fa1011d20883f00016d3cca427");     /* 36, no dashes */
  assert_rejected ("1b4e28ba_2fa1_11d2_883f_0016d3cca427");
  assert_rejected ("1b4e28ba-2fa1-11d2-883f-0016d3cc-427");
  assert_rejected ("1b4e28ba-2fa1-11d2-883f0016d3cca4");        /* 32 with dashes */
  assert_rejected ("-1b4e28ba2fa111d2883f0016d3cca42");         /* 32, leading dash */
  assert_rejected ("1b4e28ba2fa111d2883f0016d3cca42-");
  assert_rejected ("1b4e28ba-2fa1-11d2-883f-0016d3cca427-");
  assert_rejected ("------------------------------------");
}

static void
test_guid_rejects_non_hex (void)
{
  assert_rejected ("1b4e28ba-2fa1-11d2-883f-0016d3cca42g");
  assert_rejected ("gb4e28ba-2fa1-11d2-883f-0016d3cca427");
  assert_rejected ("1b4e28ba2fa111d2883f0016d3cca42z");
  assert_rejected ("1b4e28ba-2fa1-11d2-883f-0016d3cca4 7");
  assert_rejected ("1b4e28ba-2fa1-11d2-883f-0016d3cca4+7");
  assert_rejected ("0x4e28ba-2fa1-11d2-883f-0016d3cca427");
  assert_rejected ("1b4e28ba-2fa1-11d2-883f-0016d3cca4\xc3\xa9");  /* é: 2 bytes, 37 */
  assert_rejected ("1b4e28ba-2fa1-11d2-883f-0016d3cca\xc3\xa9");   /* é: 36 bytes */
  assert_rejected ("1b4e28ba-2fa1-11d2-883f-0016d3cca4\t7");
}

static void
test_guid_rejects_brace_mismatch (void)
{
  assert_rejected ("{" CANONICAL);
  assert_rejected (CANONICAL "}");
  assert_rejected ("}" CANONICAL "{");
  assert_rejected ("(" CANONICAL ")");
  assert_rejected ("[" CANONICAL "]");
  assert_rejected ("{" CANONICAL_HEX "}");
  assert_rejected ("{{" CANONICAL "}}");
  assert_rejected ("{" CANONICAL "}}");
  assert_rejected ("{1b4e28ba-2fa1-11d2-883f-0016d3cca427 ");
}

static void
test_guid_error_names_value (void)
{
  g_autoptr(GError) error = NULL;
  QmgrGuid guid;

  g_assert_false (qmgr_guid_parse ("not-a-guid", &guid, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "not-a-guid"));
}

static void
test_guid_output_forms (void)
{
  g_autoptr(GError) error = NULL;
  QmgrGuid guid;
  char str[QMGR_GUID_STRING_LEN + 1];
  char hex[QMGR_GUID_HEX_LEN + 1];

  g_assert_true (qmgr_guid_parse ("{1B4E28BA-2FA1-11D2-883F-0016D3CCA427}", &guid, &error));
  qmgr_guid_to_string (guid, str);
  qmgr_guid_to_hex (guid, hex);
  g_assert_cmpstr (str, ==, CANONICAL);
  g_assert_cmpstr (hex, ==, CANONICAL_HEX);
  g_assert_cmpuint (strlen (hex), ==, QMGR_GUID_HEX_LEN);

  /* The hex form is the dashed form without its dashes (object path element). */
  {
    g_auto(GStrv) parts = g_strsplit (str, "-", -1);
    g_autofree char *joined = g_strjoinv ("", parts);
    g_assert_cmpstr (joined, ==, hex);
  }
}

static void
test_guid_from_hex (void)
{
  QmgrGuid guid;
  QmgrGuid parsed;
  char str[QMGR_GUID_STRING_LEN + 1];
  const char *path = "/io/github/qmgrd/QMgr1/group/" CANONICAL_HEX "/job/x";
  const char *element = strstr (path, CANONICAL_HEX);

  g_assert_true (qmgr_guid_from_hex (CANONICAL_HEX, QMGR_GUID_HEX_LEN, &guid));
  qmgr_guid_to_string (guid, str);
  g_assert_cmpstr (str, ==, CANONICAL);
  g_assert_true (qmgr_guid_parse (CANONICAL, &parsed, NULL));
  g_assert_true (qmgr_guid_equal (guid, parsed));

  /* @len delimits the element inside a longer string. */
  g_assert_true (qmgr_guid_from_hex (element, QMGR_GUID_HEX_LEN, &guid));
  g_assert_true (qmgr_guid_equal (guid, parsed));

  /* Only 32 lowercase hex digits. */
  g_assert_false (qmgr_guid_from_hex ("1B4E28BA2FA111D2883F0016D3CCA427", 32, &guid));
  g_assert_false (qmgr_guid_from_hex ("1b4e28ba2fa111d2883f0016d3ccA427", 32, &guid));
  g_assert_false (qmgr_guid_from_hex (CANONICAL, strlen (CANONICAL), &guid));
  g_assert_false (qmgr_guid_from_hex ("{" CANONICAL_HEX "}", 34, &guid));
  g_assert_false (qmgr_guid_from_hex (CANONICAL_HEX, 31, &guid));
  g_assert_false (qmgr_guid_from_hex ("1b4e28ba2fa111d2883f0016d3cca4270", 33, &guid));
  g_assert_false (qmgr_guid_from_hex ("", 0, &guid));
  g_assert_false (qmgr_guid_from_hex ("1b4e28ba2fa111d2883f0016d3cca42g", 32, &guid));
  g_assert_false (qmgr_guid_from_hex ("1b4e28ba2fa111d2883f0016d3cca42_", 32, &guid));
  g_assert_false (qmgr_guid_from_hex ("1b4e28ba-fa111d2883f0016d3cca427", 32, &guid));
  /* The all-zero GUID names no object. */
  g_assert_false (qmgr_guid_from_hex ("00000000000000000000000000000000", 32, &guid));
}

static void
test_guid_generate (void)
{
  QmgrGuid a = qmgr_guid_generate ();
  QmgrGuid b = qmgr_guid_generate ();
  char str[QMGR_GUID_STRING_LEN + 1];
  QmgrGuid back;

  g_assert_false (qmgr_guid_is_null (a));
  g_assert_false (qmgr_guid_equal (a, b));
  /* Random GUIDs are version 4, variant 10xx. */
  g_assert_cmpuint (a.bytes[6] >> 4, ==, 4);
  g_assert_cmpuint (a.bytes[8] & 0xc0, ==, 0x80);

  qmgr_guid_to_string (a, str);
  g_assert_cmpuint (str[14], ==, '4');
  g_assert_true (qmgr_guid_parse (str, &back, NULL));
  g_assert_true (qmgr_guid_equal (a, back));

  /* Across several refills of the random pool: every one new and version 4. */
  {
    g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < 1000; i++)
      {
        QmgrGuid g = qmgr_guid_generate ();
        char hex[QMGR_GUID_HEX_LEN + 1];

        g_assert_cmpuint (g.bytes[6] >> 4, ==, 4);
        g_assert_cmpuint (g.bytes[8] & 0xc0, ==, 0x80);
        qmgr_guid_to_hex (g, hex);
        g_assert_true (g_hash_table_add (seen, g_strdup (hex)));
      }
  }
}

static void
test_guid_null_and_equal (void)
{
  QmgrGuid zero;
  QmgrGuid a;
  QmgrGuid b;

  memset (&zero, 0, sizeof zero);
  g_assert_true (qmgr_guid_is_null (zero));
  g_assert_true (qmgr_guid_parse (CANONICAL, &a, NULL));
  g_assert_true (qmgr_guid_parse (CANONICAL_HEX, &b, NULL));
  g_assert_false (qmgr_guid_is_null (a));
  g_assert_true (qmgr_guid_equal (a, b));
  g_assert_false (qmgr_guid_equal (a, zero));
  b.bytes[15] ^= 1;
  g_assert_false (qmgr_guid_equal (a, b));
}

static void
test_guid_roundtrip_many (void)
{
  for (guint i = 0; i < 1000; i++)
    {
      QmgrGuid g = qmgr_guid_generate ();
      QmgrGuid back;
      char str[QMGR_GUID_STRING_LEN + 1];
      char hex[QMGR_GUID_HEX_LEN + 1];
      g_autofree char *upper = NULL;
      g_autofree char *braced = NULL;

      qmgr_guid_to_string (g, str);
      qmgr_guid_to_hex (g, hex);
      upper = g_ascii_strup (str, -1);
      braced = g_strdup_printf ("{%s}", upper);

      g_assert_true (qmgr_guid_parse (str, &back, NULL));
      g_assert_true (qmgr_guid_equal (g, back));
      g_assert_true (qmgr_guid_parse (hex, &back, NULL));
      g_assert_true (qmgr_guid_equal (g, back));
      g_assert_true (qmgr_guid_parse (braced, &back, NULL));
      g_assert_true (qmgr_guid_equal (g, back));
      g_assert_true (qmgr_guid_from_hex (hex, QMGR_GUID_HEX_LEN, &back));
      g_assert_true (qmgr_guid_equal (g, back));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/guid/accepted-forms", test_guid_accepted_forms);
  g_test_add_func ("/guid/rejects/empty-and-zero", test_guid_rejects_empty_and_zero);
  g_test_add_func ("/guid/rejects/wrong-length", test_guid_rejects_wrong_length);
  g_test_add_func ("/guid/rejects/bad-dashes", test_guid_rejects_bad_dashes);
  g_test_add_func ("/guid/rejects/non-hex", test_guid_rejects_non_hex);
  g_test_add_func ("/guid/rejects/brace-mismatch", test_guid_rejects_brace_mismatch);
  g_test_add_func ("/guid/error-names-value", test_guid_error_names_value);
  g_test_add_func ("/guid/output-forms", test_guid_output_forms);
  g_test_add_func ("/guid/from-hex", test_guid_from_hex);
  g_test_add_func ("/guid/generate", test_guid_generate);
  g_test_add_func ("/guid/null-and-equal", test_guid_null_and_equal);
  g_test_add_func ("/guid/roundtrip", test_guid_roundtrip_many);

  return g_test_run ();
}
