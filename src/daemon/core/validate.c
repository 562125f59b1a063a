/* qmgrd core — string rules of docs/dbus-api.md for client-supplied values. */
#include "validate.h"

#include <limits.h>
#include <string.h>

#include "qmgr-constants.h"
#include "qmgr-error.h"

static gboolean
invalid (GError **error, const char *what, const char *value, const char *why)
{
  g_autofree char *shown = qmgr_describe_value (value);
  g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS, "%s %s %s", what, shown, why);
  return FALSE;
}

static gboolean
has_control_byte (const char *s)
{
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

gboolean
qmgr_validate_url (const char *url, guint32 protocol_flags, GError **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (strlen (url) > QMGR_URL_MAX)
    return invalid (error, "URL", url, "is longer than 2200 bytes");
  for (const unsigned char *p = (const unsigned char *) url; *p; p++)
    {
      if (*p <= 0x20 || *p == 0x7f)
        return invalid (error, "URL", url, "contains whitespace or control characters");
      if (*p >= 0x80)
        return invalid (error, "URL", url, "contains non-ASCII characters (percent-encode them)");
    }

  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED | G_URI_FLAGS_SCHEME_NORMALIZE, NULL);
  if (uri == NULL)
    return invalid (error, "URL", url, "is not a valid absolute URL");

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    return invalid (error, "URL", url, "does not use http or https");
  if (!(protocol_flags & QMGR_PROTOCOL_HTTP))
    return invalid (error, "URL", url, "uses a protocol the group's PROTOCOLFLAGS forbid");
  if (g_uri_get_userinfo (uri) != NULL)
    return invalid (error, "URL", url,
                    "contains user information; set REMOTEUSERID and REMOTEUSERPWD instead");
  if (g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
    return invalid (error, "URL", url, "has no host");
  return TRUE;
}

gboolean
qmgr_validate_local_path (const char *path, GError **error)
{
  gsize len = strlen (path);
  const char *component;

  if (path[0] != '/')
    return invalid (error, "Local path", path, "is not absolute");
  if (len >= PATH_MAX)
    return invalid (error, "Local path", path, "is longer than PATH_MAX");
  if (has_control_byte (path))
    return invalid (error, "Local path", path, "contains control characters");
  if (!g_utf8_validate (path, -1, NULL))
    return invalid (error, "Local path", path, "is not valid UTF-8");
  for (const char *p = path; *p; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return invalid (error, "Local path", path, "contains control characters");
  if (path[len - 1] == '/')
    return invalid (error, "Local path", path, "names a directory");

  component = path + 1;
  for (;;)
    {
      const char *end = strchr (component, '/');
      gsize clen = end ? (gsize) (end - component) : strlen (component);

      if (clen == 0)
        return invalid (error, "Local path", path, "is not normalized (empty component)");
      if ((clen == 1 && component[0] == '.') ||
          (clen == 2 && component[0] == '.' && component[1] == '.'))
        return invalid (error, "Local path", path, "is not normalized (. or .. component)");
      if (clen > NAME_MAX)
        return invalid (error, "Local path", path, "has a component longer than NAME_MAX");
      if (end == NULL)
        break;
      component = end + 1;
    }
  return TRUE;
}

static gboolean
check_text (const char *what, const char *text, glong max_chars, gboolean allow_newline_tab,
            GError **error)
{
  glong n = 0;

  if (!g_utf8_validate (text, -1, NULL))
    return invalid (error, what, text, "is not valid UTF-8");
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (g_unichar_iscntrl (c) && !(allow_newline_tab && (c == '\n' || c == '\t')))
        return invalid (error, what, text, "contains control characters");
      n++;
    }
  if (n > max_chars)
    {
      g_autofree char *why = g_strdup_printf ("is longer than %ld characters", max_chars);
      return invalid (error, what, text, why);
    }
  return TRUE;
}

gboolean
qmgr_validate_display_name (const char *name, GError **error)
{
  return check_text ("Display name", name, QMGR_DISPLAY_NAME_MAX, FALSE, error);
}

gboolean
qmgr_validate_description (const char *text, GError **error)
{
  return check_text ("Description", text, QMGR_DESCRIPTION_MAX, TRUE, error);
}

gboolean
qmgr_validate_remote_user (const char *user, GError **error)
{
  if (strchr (user, ':') != NULL)
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "A remote user name must not contain ':'");
      return FALSE;
    }
  return check_text ("Remote user name", user, QMGR_REMOTE_USER_MAX, FALSE, error);
}

gboolean
qmgr_validate_remote_password (const char *password, GError **error)
{
  /* Never echo a password back, not even in an error. */
  if (strlen (password) > QMGR_REMOTE_PASSWORD_MAX || has_control_byte (password))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "The remote password is longer than %d bytes or contains control characters",
                   QMGR_REMOTE_PASSWORD_MAX);
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_name_char (char c, gboolean first)
{
  return g_ascii_isalpha (c) || c == '_' || c == '-' || (!first && g_ascii_isdigit (c));
}

gboolean
qmgr_is_well_known_bus_name (const char *name)
{
  gsize len = strlen (name);
  guint elements = 1;
  gboolean at_start = TRUE;

  if (len == 0 || len > 255 || name[0] == '.')
    return FALSE;
  for (const char *p = name; *p; p++)
    {
      if (*p == '.')
        {
          if (at_start)
            return FALSE;
          elements++;
          at_start = TRUE;
          continue;
        }
      if (!is_name_char (*p, at_start))
        return FALSE;
      at_start = FALSE;
    }
  return !at_start && elements >= 2;
}

gboolean
qmgr_is_object_path (const char *path)
{
  gboolean at_start = TRUE;

  if (path[0] != '/')
    return FALSE;
  if (path[1] == '\0')
    return TRUE;
  for (const char *p = path + 1; *p; p++)
    {
      if (*p == '/')
        {
          if (at_start)
            return FALSE;
          at_start = TRUE;
          continue;
        }
      if (!g_ascii_isalnum (*p) && *p != '_')
        return FALSE;
      at_start = FALSE;
    }
  return !at_start;
}

gboolean
qmgr_validate_notify_clsid (const char *clsid, GError **error)
{
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  const char *colon;

  if (clsid[0] == '\0')
    return TRUE;
  if (strlen (clsid) > 1024)
    return invalid (error, "Callback target", clsid, "is too long");
  colon = strchr (clsid, ':');
  name = colon ? g_strndup (clsid, (gsize) (colon - clsid)) : g_strdup (clsid);
  if (!qmgr_is_well_known_bus_name (name))
    return invalid (error, "Callback target", clsid,
                    "does not start with a well-known bus name (org.example.App[:/object/path])");
  if (colon != NULL && !qmgr_is_object_path (colon + 1))
    return invalid (error, "Callback target", clsid, "has an invalid object path after ':'");
  return TRUE;
}

void
qmgr_notify_clsid_split (const char *clsid, char **bus_name, char **object_path)
{
  const char *colon = strchr (clsid, ':');

  *bus_name = colon ? g_strndup (clsid, (gsize) (colon - clsid)) : g_strdup (clsid);
  *object_path = g_strdup (colon ? colon + 1 : "/");
}
