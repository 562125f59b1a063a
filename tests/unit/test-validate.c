/* qmgrd unit tests — validation of client-supplied strings: URLs, destination
 * paths, display names, descriptions, remote credentials and callback targets
 * (docs/dbus-api.md: AddFiles rules and the GetProp/SetProp table). */
#include <limits.h>
#include <string.h>

#include "qmgr-constants.h"
#include "qmgr-error.h"
#include "validate.h"

typedef gboolean (*Validator) (const char *value, GError **error);

static void
assert_ok_with (Validator validate, const char *what, const char *value)
{
  g_autoptr(GError) error = NULL;

  if (!validate (value, &error))
    {
      g_test_fail_printf ("%s \"%.80s\" (%zu bytes) was rejected: %s", what, value,
                          strlen (value), error ? error->message : "(no error set)");
      return;
    }
  g_assert_no_error (error);
}

static void
assert_rejected_with (Validator validate, const char *what, const char *value)
{
  g_autoptr(GError) error = NULL;

  if (validate (value, &error))
    {
      g_autofree char *shown = g_strescape (value, NULL);
      g_test_fail_printf ("%s \"%.200s\" (%zu bytes) was accepted", what, shown,
                          strlen (value));
      return;
    }
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_assert_cmpstr (error->message, !=, "");
}

/* ---- URLs ---- */

static gboolean
validate_http_url (const char *url, GError **error)
{
  return qmgr_validate_url (url, QMGR_PROTOCOL_HTTP, error);
}

#define url_ok(u) assert_ok_with (validate_http_url, "URL", (u))
#define url_bad(u) assert_rejected_with (validate_http_url, "URL", (u))

static char *
url_of_length (gsize len)
{
  const char *head = "https://example.com/";
  GString *s = g_string_new (head);

  while (s->len < len)
    g_string_append_c (s, 'a');
  g_assert_cmpuint (s->len, ==, len);
  return g_string_free (s, FALSE);
}

static void
test_url_accepted (void)
{
  url_ok ("http://example.com/");
  url_ok ("https://example.com/file.iso");
  url_ok ("http://example.com");
  url_ok ("HTTP://EXAMPLE.COM/X");
  url_ok ("HTTPS://example.com/x");
  url_ok ("HtTpS://example.com/x");
  url_ok ("http://example.com:8080/a/b?c=d&e=f#frag");
  url_ok ("http://127.0.0.1:1234/x");
  url_ok ("http://[::1]:8080/x");
  url_ok ("https://example.com/a%20b/%C3%A9");
  url_ok ("https://sub.example.co.uk/~user/file-1_2.tar.gz");
}

static void
test_url_length (void)
{
  g_autofree char *max = url_of_length (QMGR_URL_MAX);
  g_autofree char *over = url_of_length (QMGR_URL_MAX + 1);
  g_autofree char *way_over = url_of_length (100000);

  g_assert_cmpuint (QMGR_URL_MAX, ==, 2200);
  url_ok (max);
  url_bad (over);
  url_bad (way_over);
}

static void
test_url_scheme (void)
{
  url_bad ("ftp://example.com/file");
  url_bad ("file:///etc/passwd");
  url_bad ("FILE:///etc/passwd");
  url_bad ("smb://server/share/file");
  url_bad ("data:text/plain,hello");
  url_bad ("javascript:alert(1)");
  url_bad ("httpx://example.com/");
  url_bad ("http+unix://example.com/");
  url_bad ("example.com/file");
  url_bad ("/etc/passwd");
  url_bad ("//example.com/file");
  url_bad ("");
  url_bad ("http");
  url_bad ("://example.com/");
}

static void
test_url_protocol_flags (void)
{
  g_autoptr(GError) error = NULL;

  /* http and https "as PROTOCOLFLAGS allows". */
  g_assert_false (qmgr_validate_url ("http://example.com/", QMGR_PROTOCOL_FTP, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (qmgr_validate_url ("https://example.com/", 0, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
}

static void
test_url_user_info (void)
{
  url_bad ("http://user:pass@example.com/");
  url_bad ("https://user@example.com/file");
  url_bad ("https://user:@example.com/file");
  url_bad ("HTTP://USER:PASS@EXAMPLE.COM/");
}

static void
test_url_whitespace_and_control (void)
{
  url_bad ("http://example.com/a b");
  url_bad (" http://example.com/");
  url_bad ("http://example.com/ ");
  url_bad ("http://example.com/a\tb");
  url_bad ("http://example.com/\n");
  url_bad ("http://example.com/a\r\nHost: evil");
  url_bad ("http://example.com/\x01");
  url_bad ("http://example.com/\x1f");
  url_bad ("http://example.com/\x7f");
  url_bad ("http://exa mple.com/");
}

static void
test_url_non_ascii (void)
{
  url_bad ("http://example.com/\xc3\xa9");            /* é */
  url_bad ("http://ex\xc3\xa4mple.com/");             /* ä in the host */
  url_bad ("http://example.com/\xe2\x80\x8b");        /* zero-width space */
  url_bad ("http://example.com/\xc2\xa0");            /* no-break space */
  url_bad ("http://example.com/\xff");                /* not UTF-8 at all */
}

static void
test_url_no_host (void)
{
  url_bad ("http://");
  url_bad ("https://");
  url_bad ("http:///path");
  url_bad ("http:/path");
  url_bad ("http:path");
  url_bad ("https:");
  url_bad ("http://:8080/path");
}

static void
test_url_error_names_value (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (qmgr_validate_url ("ftp://example.com/xyz", QMGR_PROTOCOL_HTTP, &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "ftp://example.com/xyz"));
}

/* ---- local paths ---- */

#define path_ok(p) assert_ok_with (qmgr_validate_local_path, "Path", (p))
#define path_bad(p) assert_rejected_with (qmgr_validate_local_path, "Path", (p))

/* An absolute path of exactly @len bytes made of components of at most 200. */
static char *
path_of_length (gsize len)
{
  GString *s = g_string_new ("");

  while (s->len < len)
    {
      gsize left = len - s->len;
      g_string_append_c (s, '/');
      left--;
      if (left == 0)
        {
          /* Never end with '/': lengthen the previous component instead. */
          g_string_truncate (s, s->len - 1);
          g_string_append_c (s, 'z');
          break;
        }
      for (gsize i = 0; i < MIN (left, (gsize) 200); i++)
        g_string_append_c (s, 'p');
    }
  g_assert_cmpuint (s->len, ==, len);
  g_assert_true (s->str[0] == '/' && s->str[s->len - 1] != '/');
  return g_string_free (s, FALSE);
}

static void
test_path_accepted (void)
{
  path_ok ("/a");
  path_ok ("/tmp/x");
  path_ok ("/home/user/Downloads/big.iso");
  path_ok ("/home/user/My Files/a b.txt");
  path_ok ("/tmp/.hidden");
  path_ok ("/tmp/..x");
  path_ok ("/tmp/x..");
  path_ok ("/tmp/...");
  path_ok ("/tmp/.x./y");
  path_ok ("/tmp/caf\xc3\xa9");
  path_ok ("/tmp/a:b@c#d%e");
}

static void
test_path_not_absolute (void)
{
  path_bad ("");
  path_bad ("relative");
  path_bad ("relative/path");
  path_bad ("./x");
  path_bad ("../x");
  path_bad ("~/x");
  path_bad (" /tmp/x");
  path_bad ("file:///tmp/x");
}

static void
test_path_not_normalized (void)
{
  path_bad ("/tmp/./x");
  path_bad ("/tmp/../x");
  path_bad ("/./tmp");
  path_bad ("/../tmp");
  path_bad ("/.");
  path_bad ("/..");
  path_bad ("/tmp/x/.");
  path_bad ("/tmp/x/..");
  path_bad ("//tmp/x");
  path_bad ("/tmp//x");
  path_bad ("/tmp/x//y");
  path_bad ("///");
}

static void
test_path_trailing_slash (void)
{
  path_bad ("/");
  path_bad ("/tmp/");
  path_bad ("/tmp/x/");
}

static void
test_path_control_chars (void)
{
  path_bad ("/tmp/a\nb");
  path_bad ("/tmp/a\tb");
  path_bad ("/tmp/a\rb");
  path_bad ("/tmp/\x01");
  path_bad ("/tmp/\x1b[31m");
  path_bad ("/tmp/a\x7f");
}

static void
test_path_length (void)
{
  g_autofree char *fits = path_of_length (PATH_MAX - 1);
  g_autofree char *too_long = path_of_length (PATH_MAX + 1);
  g_autofree char *far_too_long = path_of_length (PATH_MAX * 4);

  path_ok (fits);
  path_bad (too_long);
  path_bad (far_too_long);
}

/* ---- display names and descriptions ---- */

#define name_ok(v) assert_ok_with (qmgr_validate_display_name, "Display name", (v))
#define name_bad(v) assert_rejected_with (qmgr_validate_display_name, "Display name", (v))
#define desc_ok(v) assert_ok_with (qmgr_validate_description, "Description", (v))
#define desc_bad(v) assert_rejected_with (qmgr_validate_description, "Description", (v))

static char *
repeat (const char *unit, guint times)
{
  GString *s = g_string_new ("");

  for (guint i = 0; i < times; i++)
    g_string_append (s, unit);
  return g_string_free (s, FALSE);
}

static void
test_display_name_length (void)
{
  g_autofree char *ascii_max = repeat ("a", 256);
  g_autofree char *ascii_over = repeat ("a", 257);
  g_autofree char *e_max = repeat ("\xc3\xa9", 256);           /* 512 bytes */
  g_autofree char *e_over = repeat ("\xc3\xa9", 257);
  g_autofree char *cjk_max = repeat ("\xe6\x97\xa5", 256);     /* 日: 768 bytes */
  g_autofree char *emoji_max = repeat ("\xf0\x9f\x93\xa6", 256); /* 📦: 1024 bytes */
  g_autofree char *emoji_over = repeat ("\xf0\x9f\x93\xa6", 257);

  g_assert_cmpuint (QMGR_DISPLAY_NAME_MAX, ==, 256);
  name_ok ("");
  name_ok ("Firmware update");
  name_ok (ascii_max);
  name_bad (ascii_over);
  name_ok (e_max);
  name_bad (e_over);
  name_ok (cjk_max);
  name_ok (emoji_max);
  name_bad (emoji_over);
}

static void
test_display_name_control (void)
{
  name_bad ("a\nb");
  name_bad ("a\tb");
  name_bad ("a\rb");
  name_bad ("\x01");
  name_bad ("bell\x07");
  name_bad ("\x1b[2Jclear");
  name_bad ("del\x7f");
  name_bad ("c1\xc2\x85");      /* U+0085 NEXT LINE */
  name_bad ("c1\xc2\x9b");      /* U+009B CSI */
  name_bad ("bad \xff utf8");
  name_ok ("Space and punctuation: !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
}

static void
test_description_length (void)
{
  g_autofree char *ascii_max = repeat ("d", 1024);
  g_autofree char *ascii_over = repeat ("d", 1025);
  g_autofree char *e_max = repeat ("\xc3\xa9", 1024);
  g_autofree char *e_over = repeat ("\xc3\xa9", 1025);
  g_autofree char *lines_max = repeat ("x\n", 512);

  g_assert_cmpuint (QMGR_DESCRIPTION_MAX, ==, 1024);
  desc_ok ("");
  desc_ok (ascii_max);
  desc_bad (ascii_over);
  desc_ok (e_max);
  desc_bad (e_over);
  desc_ok (lines_max);
}

static void
test_description_control (void)
{
  desc_ok ("line one\nline two");
  desc_ok ("column\tcolumn");
  desc_ok ("\n\t\n");
  desc_bad ("a\rb");
  desc_bad ("crlf\r\n");
  desc_bad ("\x01");
  desc_bad ("\x0b vertical tab");
  desc_bad ("\x0c form feed");
  desc_bad ("\x1b[31mred");
  desc_bad ("del\x7f");
  desc_bad ("c1\xc2\x85");
  desc_bad ("bad \xc3 utf8");
}

/* ---- remote credentials ---- */

static void
test_remote_user (void)
{
  g_autofree char *max = repeat ("u", QMGR_REMOTE_USER_MAX);
  g_autofree char *over = repeat ("u", QMGR_REMOTE_USER_MAX + 1);

  assert_ok_with (qmgr_validate_remote_user, "User", "");
  assert_ok_with (qmgr_validate_remote_user, "User", "alice");
  assert_ok_with (qmgr_validate_remote_user, "User", "alice@example.com");
  assert_ok_with (qmgr_validate_remote_user, "User", max);
  assert_rejected_with (qmgr_validate_remote_user, "User", over);
  assert_rejected_with (qmgr_validate_remote_user, "User", "ali\nce");
  assert_rejected_with (qmgr_validate_remote_user, "User", "ali\x01" "ce");
}

static void
test_remote_password (void)
{
  g_autofree char *max = repeat ("p", QMGR_REMOTE_PASSWORD_MAX);
  g_autofree char *over = repeat ("p", QMGR_REMOTE_PASSWORD_MAX + 1);
  g_autoptr(GError) error = NULL;

  assert_ok_with (qmgr_validate_remote_password, "Password", "");
  assert_ok_with (qmgr_validate_remote_password, "Password", "s3cr3t:with colon");
  assert_ok_with (qmgr_validate_remote_password, "Password", max);
  assert_rejected_with (qmgr_validate_remote_password, "Password", over);

  /* A password is never echoed, not even in an error. */
  g_assert_false (qmgr_validate_remote_password ("hunter2\nSECRETWORD", &error));
  g_assert_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS);
  g_assert_null (strstr (error->message, "hunter2"));
  g_assert_null (strstr (error->message, "SECRETWORD"));
}

/* ---- NOTIFYCLSID ---- */

#define clsid_ok(v) assert_ok_with (qmgr_validate_notify_clsid, "Callback target", (v))
#define clsid_bad(v) assert_rejected_with (qmgr_validate_notify_clsid, "Callback target", (v))

static void
test_notify_clsid (void)
{
  clsid_ok ("");
  clsid_ok ("org.example.App");
  clsid_ok ("org.example.App:/org/example/cb");
  clsid_ok ("org.example.App:/");
  clsid_ok ("org.example.Updater:/org/example/Updater/cb");
  clsid_ok ("org.example-dash.App_2");
  clsid_ok ("a.b");
  clsid_ok ("org.example.App:/a_b/C9");

  clsid_bad (":1.5");
  clsid_bad (":1.5:/org/x");
  clsid_bad ("noDot");
  clsid_bad ("org.example.App:");
  clsid_bad ("org.example.App:bad/path");
  clsid_bad ("org..x");
  clsid_bad (".org.x");
  clsid_bad ("org.x.");
  clsid_bad ("org.1x");
  clsid_bad ("org.ex ample");
  clsid_bad ("org.example.App:/a//b");
  clsid_bad ("org.example.App:/a/");
  clsid_bad ("org.example.App:/a-b");
  clsid_bad ("org.example.App:/a.b");
  clsid_bad ("org.example.App:/a:/b");
  clsid_bad ("org.example.App::/a");
  clsid_bad (":/org/example");
  clsid_bad ("org.ex\xc3\xa4mple.App");
  clsid_bad ("org.example.App\n");
  clsid_bad ("{4991d34b-80a1-4291-83b6-3328366b9097}");

  /* Bus names are at most 255 bytes. */
  {
    GString *s = g_string_new ("org.");
    while (s->len < 256)
      g_string_append_c (s, 'x');
    clsid_bad (s->str);
    g_string_truncate (s, 255);
    clsid_ok (s->str);
    g_string_free (s, TRUE);
  }
}

static void
test_notify_clsid_split (void)
{
  struct {
    const char *clsid;
    const char *name;
    const char *path;
  } cases[] = {
    { "org.example.App", "org.example.App", "/" },
    { "org.example.App:/org/example/cb", "org.example.App", "/org/example/cb" },
    { "org.example.App:/", "org.example.App", "/" },
    { "a.b:/x", "a.b", "/x" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = NULL;
      g_autofree char *path = NULL;

      g_assert_true (qmgr_validate_notify_clsid (cases[i].clsid, NULL));
      qmgr_notify_clsid_split (cases[i].clsid, &name, &path);
      g_assert_cmpstr (name, ==, cases[i].name);
      g_assert_cmpstr (path, ==, cases[i].path);
    }
}

static void
test_bus_name_and_object_path (void)
{
  g_assert_true (qmgr_is_well_known_bus_name ("org.freedesktop.DBus"));
  g_assert_true (qmgr_is_well_known_bus_name ("io.github.qmgrd.QMgr1"));
  g_assert_true (qmgr_is_well_known_bus_name ("a-b._c.d1"));
  g_assert_false (qmgr_is_well_known_bus_name (""));
  g_assert_false (qmgr_is_well_known_bus_name (":1.42"));
  g_assert_false (qmgr_is_well_known_bus_name ("single"));
  g_assert_false (qmgr_is_well_known_bus_name ("org."));
  g_assert_false (qmgr_is_well_known_bus_name ("org..x"));
  g_assert_false (qmgr_is_well_known_bus_name ("org.9x"));
  g_assert_false (qmgr_is_well_known_bus_name ("org.x/y"));

  g_assert_true (qmgr_is_object_path ("/"));
  g_assert_true (qmgr_is_object_path ("/org/example/Cb_1"));
  g_assert_false (qmgr_is_object_path (""));
  g_assert_false (qmgr_is_object_path ("org/example"));
  g_assert_false (qmgr_is_object_path ("/org/"));
  g_assert_false (qmgr_is_object_path ("//"));
  g_assert_false (qmgr_is_object_path ("/org//example"));
  g_assert_false (qmgr_is_object_path ("/org/ex-ample"));
  g_assert_false (qmgr_is_object_path ("/org/ex.ample"));
}

static void
test_describe_value (void)
{
  g_autofree char *plain = qmgr_describe_value ("hello");
  g_autofree char *control = qmgr_describe_value ("a\nb\x01");
  g_autofree char *big = repeat ("x", 100000);
  g_autofree char *shown_big = qmgr_describe_value (big);
  g_autofree char *cut_utf8 = repeat ("\xc3\xa9", 1000);
  g_autofree char *shown_utf8 = qmgr_describe_value (cut_utf8);

  g_assert_nonnull (strstr (plain, "hello"));
  /* Printable: no raw control characters reach a message. */
  for (const char *p = control; *p; p++)
    g_assert_false ((unsigned char) *p < 0x20 || *p == 0x7f);
  /* Bounded. */
  g_assert_cmpuint (strlen (shown_big), <, 1000);
  g_assert_true (g_utf8_validate (shown_utf8, -1, NULL));
  g_assert_cmpuint (strlen (shown_utf8), <, 1000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/validate/url/accepted", test_url_accepted);
  g_test_add_func ("/validate/url/length", test_url_length);
  g_test_add_func ("/validate/url/scheme", test_url_scheme);
  g_test_add_func ("/validate/url/protocol-flags", test_url_protocol_flags);
  g_test_add_func ("/validate/url/user-info", test_url_user_info);
  g_test_add_func ("/validate/url/whitespace-control", test_url_whitespace_and_control);
  g_test_add_func ("/validate/url/non-ascii", test_url_non_ascii);
  g_test_add_func ("/validate/url/no-host", test_url_no_host);
  g_test_add_func ("/validate/url/error-names-value", test_url_error_names_value);
  g_test_add_func ("/validate/path/accepted", test_path_accepted);
  g_test_add_func ("/validate/path/not-absolute", test_path_not_absolute);
  g_test_add_func ("/validate/path/not-normalized", test_path_not_normalized);
  g_test_add_func ("/validate/path/trailing-slash", test_path_trailing_slash);
  g_test_add_func ("/validate/path/control-chars", test_path_control_chars);
  g_test_add_func ("/validate/path/length", test_path_length);
  g_test_add_func ("/validate/display-name/length", test_display_name_length);
  g_test_add_func ("/validate/display-name/control", test_display_name_control);
  g_test_add_func ("/validate/description/length", test_description_length);
  g_test_add_func ("/validate/description/control", test_description_control);
  g_test_add_func ("/validate/remote-user", test_remote_user);
  g_test_add_func ("/validate/remote-password", test_remote_password);
  g_test_add_func ("/validate/notify-clsid/rules", test_notify_clsid);
  g_test_add_func ("/validate/notify-clsid/split", test_notify_clsid_split);
  g_test_add_func ("/validate/bus-name-object-path", test_bus_name_and_object_path);
  g_test_add_func ("/validate/describe-value", test_describe_value);

  return g_test_run ();
}
