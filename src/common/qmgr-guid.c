/* qmgrd — GUID parsing and formatting. The dashed string is the 32 digits in
 * order with dashes after 8, 12, 16 and 20 digits; no byte swapping happens, so the
 * path element is the dashed form without its dashes. */
#include "qmgr-guid.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "qmgr-error.h"

static int
hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
parse_digits (const char *s, gsize len, gboolean dashed, QmgrGuid *out)
{
  QmgrGuid g = QMGR_GUID_NULL;
  guint nibble = 0;

  for (gsize i = 0; i < len; i++)
    {
      if (dashed && (i == 8 || i == 13 || i == 18 || i == 23))
        {
          if (s[i] != '-')
            return FALSE;
          continue;
        }
      int v = hexval (s[i]);
      if (v < 0)
        return FALSE;
      g.bytes[nibble / 2] |= (guint8) ((nibble % 2) ? v : v << 4);
      nibble++;
    }
  if (nibble != 32)
    return FALSE;
  *out = g;
  return TRUE;
}

gboolean
qmgr_guid_parse (const char *text, QmgrGuid *out, GError **error)
{
  gsize len = strlen (text);
  gboolean ok = FALSE;
  QmgrGuid g = QMGR_GUID_NULL;

  if (len == QMGR_GUID_HEX_LEN)
    ok = parse_digits (text, len, FALSE, &g);
  else if (len == QMGR_GUID_STRING_LEN)
    ok = parse_digits (text, len, TRUE, &g);
  else if (len == QMGR_GUID_STRING_LEN + 2 && text[0] == '{' && text[len - 1] == '}')
    ok = parse_digits (text + 1, QMGR_GUID_STRING_LEN, TRUE, &g);

  if (!ok)
    {
      g_autofree char *shown = g_strescape (len > 80 ? "(too long)" : text, NULL);
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "\"%s\" is not a GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", shown);
      return FALSE;
    }
  if (qmgr_guid_is_null (g))
    {
      g_set_error (error, QMGR_ERROR, QMGR_ERROR_INVALID_ARGS,
                   "The all-zero GUID is not a valid identifier");
      return FALSE;
    }
  *out = g;
  return TRUE;
}

gboolean
qmgr_guid_from_hex (const char *hex, gsize len, QmgrGuid *out)
{
  if (len != QMGR_GUID_HEX_LEN)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (hex[i]) && !(hex[i] >= 'a' && hex[i] <= 'f'))
      return FALSE;
  return parse_digits (hex, len, FALSE, out) && !qmgr_guid_is_null (*out);
}

/* Random GUIDs are cut from a pool that getrandom() fills GUID_POOL at a time:
 * a burst of CreateGroup calls would otherwise make a system call per GUID.
 * Bytes handed out are wiped from the pool. */
#define GUID_POOL 64

G_LOCK_DEFINE_STATIC (guid_pool);
static guint8 guid_pool[GUID_POOL * sizeof (QmgrGuid)];
static guint guid_pool_left;

static void
fill_pool (void)
{
  gsize done = 0;

  while (done < sizeof guid_pool)
    {
      ssize_t n = getrandom (guid_pool + done, sizeof guid_pool - done, 0);
      /* Blocks only until the kernel's generator is seeded; fails on EINTR. */
      if (n < 0 && errno == EINTR)
        continue;
      g_assert (n > 0);
      done += (gsize) n;
    }
  guid_pool_left = GUID_POOL;
}

QmgrGuid
qmgr_guid_generate (void)
{
  QmgrGuid g;
  guint8 *bytes;

  G_LOCK (guid_pool);
  if (guid_pool_left == 0)
    fill_pool ();
  guid_pool_left--;
  bytes = guid_pool + guid_pool_left * sizeof g;
  memcpy (g.bytes, bytes, sizeof g);
  explicit_bzero (bytes, sizeof g);
  G_UNLOCK (guid_pool);
  /* Version 4, variant 1 (RFC 4122). */
  g.bytes[6] = (g.bytes[6] & 0x0f) | 0x40;
  g.bytes[8] = (g.bytes[8] & 0x3f) | 0x80;
  return g;
}

void
qmgr_guid_to_hex (QmgrGuid guid, char out[QMGR_GUID_HEX_LEN + 1])
{
  static const char digits[] = "0123456789abcdef";
  for (guint i = 0; i < 16; i++)
    {
      out[2 * i] = digits[guid.bytes[i] >> 4];
      out[2 * i + 1] = digits[guid.bytes[i] & 0xf];
    }
  out[QMGR_GUID_HEX_LEN] = '\0';
}

void
qmgr_guid_to_string (QmgrGuid guid, char out[QMGR_GUID_STRING_LEN + 1])
{
  char hex[QMGR_GUID_HEX_LEN + 1];
  guint o = 0;

  qmgr_guid_to_hex (guid, hex);
  for (guint i = 0; i < QMGR_GUID_HEX_LEN; i++)
    {
      if (i == 8 || i == 12 || i == 16 || i == 20)
        out[o++] = '-';
      out[o++] = hex[i];
    }
  out[o] = '\0';
}

void
qmgr_guid_hex_to_string (const char *hex, char out[QMGR_GUID_STRING_LEN + 1])
{
  QmgrGuid guid;

  out[0] = '\0';
  if (strnlen (hex, QMGR_GUID_HEX_LEN) == QMGR_GUID_HEX_LEN &&
      qmgr_guid_from_hex (hex, QMGR_GUID_HEX_LEN, &guid))
    qmgr_guid_to_string (guid, out);
}

gboolean
qmgr_guid_is_null (QmgrGuid guid)
{
  static const QmgrGuid null_guid = QMGR_GUID_NULL;
  return memcmp (guid.bytes, null_guid.bytes, sizeof guid.bytes) == 0;
}

gboolean
qmgr_guid_equal (QmgrGuid a, QmgrGuid b)
{
  return memcmp (a.bytes, b.bytes, sizeof a.bytes) == 0;
}

guint
qmgr_guid_hash (gconstpointer guid)
{
  const QmgrGuid *g = guid;
  guint h;

  memcpy (&h, g->bytes, sizeof h);   /* GUIDs are random: any four bytes hash well */
  return h;
}

gboolean
qmgr_guid_key_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, sizeof (QmgrGuid)) == 0;
}
