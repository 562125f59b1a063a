/* qmgrd scheduler — the pacer's view of the links: which interfaces carry the
 * default route (IPv4 and IPv6), and how many bytes they have received. The
 * only files the scheduler reads; a few hundred bytes per pacer tick, and
 * only while background work transfers. */
#include "pacer.h"

#include <stdlib.h>
#include <string.h>

#define RTF_UP     0x0001
#define RTF_REJECT 0x0200

static char *
read_under (const char *root, const char *path)
{
  g_autofree char *full = g_build_filename (root != NULL ? root : "/", path, NULL);
  char *contents = NULL;

  if (!g_file_get_contents (full, &contents, NULL, NULL))
    return NULL;
  return contents;
}

static gboolean
name_is_sane (const char *name)
{
  return name[0] != '\0' && strlen (name) < 64 && strchr (name, '/') == NULL &&
         strcmp (name, ".") != 0 && strcmp (name, "..") != 0 && strcmp (name, "lo") != 0;
}

static void
add_name (GPtrArray *names, const char *name)
{
  if (!name_is_sane (name))
    return;
  for (guint i = 0; i < names->len; i++)
    if (strcmp (g_ptr_array_index (names, i), name) == 0)
      return;
  g_ptr_array_add (names, g_strdup (name));
}

/* "Iface Destination Gateway Flags RefCnt Use Metric Mask ...", hex. */
static void
parse_route (const char *text, GPtrArray *names)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      g_autoptr(GPtrArray) col = g_ptr_array_new ();

      for (guint j = 0; f[j] != NULL; j++)
        if (f[j][0] != '\0')
          g_ptr_array_add (col, f[j]);
      if (col->len >= 8 && strcmp (col->pdata[1], "00000000") == 0 &&
          strcmp (col->pdata[7], "00000000") == 0 &&
          (strtoul (col->pdata[3], NULL, 16) & (RTF_UP | RTF_REJECT)) == RTF_UP)
        add_name (names, col->pdata[0]);
    }
}

/* "dest plen src plen gateway metric refcnt use flags device", hex. */
static void
parse_ipv6_route (const char *text, GPtrArray *names)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      g_autoptr(GPtrArray) col = g_ptr_array_new ();

      for (guint j = 0; f[j] != NULL; j++)
        if (f[j][0] != '\0')
          g_ptr_array_add (col, f[j]);
      if (col->len >= 10 && strspn (col->pdata[0], "0") == 32 &&
          strcmp (col->pdata[1], "00") == 0 &&
          (strtoul (col->pdata[8], NULL, 16) & (RTF_UP | RTF_REJECT)) == RTF_UP)
        add_name (names, col->pdata[9]);
    }
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* @user_data: the root of /proc and /sys (NULL: "/"), for tests. */
gboolean
qmgr_link_read_default_route (QmgrLinkCounters *counters, gpointer user_data)
{
  const char *root = user_data;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *v4 = read_under (root, "proc/net/route");
  g_autofree char *v6 = read_under (root, "proc/net/ipv6_route");
  guint64 links = 5381;

  if (v4 != NULL)
    parse_route (v4, names);
  if (v6 != NULL)
    parse_ipv6_route (v6, names);
  if (names->len == 0)
    return FALSE;
  g_ptr_array_sort (names, compare_names);
  counters->rx_bytes = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *path = g_strdup_printf ("sys/class/net/%s/statistics/rx_bytes", name);
      g_autofree char *value = read_under (root, path);
      guint64 bytes;

      if (value == NULL ||
          !g_ascii_string_to_unsigned (g_strstrip (value), 10, 0, G_MAXUINT64, &bytes, NULL))
        return FALSE;
      counters->rx_bytes += bytes;
      /* djb2 over the names: the set, not the order they were listed in. */
      for (const char *c = name; *c != '\0'; c++)
        links = links * 33 + (guchar) *c;
      links = links * 33 + '\n';
    }
  counters->links = links;
  return TRUE;
}
