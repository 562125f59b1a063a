/* qmgrd integration tests — docs/targets.md R1: SIGKILL the daemon at pseudo-random
 * moments of a many-file job (mid-body, just before and just after a file's final
 * rename, during start-up), restart it on the same state directory each time, and
 * check at every kill point and at the end: no group lost, no destination ever
 * present with other bytes than the server's, no temp file left once complete.
 *
 * The default build is the CI size; tests/reliability builds this file again with
 * CRASH_FILES/CRASH_KILLS/... for the full run. The moments come from
 * g_test_rand_int: rerun with the printed --seed to repeat a run. */
#include "it-util.h"
#include "qmgr-test-server.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#ifndef CRASH_FILES
#define CRASH_FILES 40               /* files of the main job */
#endif
#ifndef CRASH_KILLS
#define CRASH_KILLS 10
#endif
#ifndef CRASH_FILE_SIZE
#define CRASH_FILE_SIZE (160 * 1024) /* the sizes spread from 1/2 to 3/2 of this */
#endif
#ifndef CRASH_RATE
#define CRASH_RATE (160 * 1024)      /* bytes/s per response, so that kills find work */
#endif
#ifndef CRASH_EXTRA_SIZE
#define CRASH_EXTRA_SIZE (24 * 1024)
#endif
#ifndef CRASH_NAME
#define CRASH_NAME "R1-ci"
#endif

#define GROUP QMGR_TEST_GROUP_IFACE
#define JOB QMGR_TEST_JOB_IFACE
#define DEADLINE_MS 20000
#define FINISH_DEADLINE_MS 180000

typedef enum {
  MOMENT_MID_BODY,       /* after a random number of body bytes */
  MOMENT_BEFORE_RENAME,  /* a temp file is complete: sync, rename and store under way */
  MOMENT_AFTER_RENAME,   /* a destination just appeared: the store write under way */
  MOMENT_START_UP,       /* at once after the restart */
  N_MOMENTS
} Moment;

static const char *const moment_names[] = {
  "mid-body", "before a rename", "after a rename", "during start-up",
};

typedef struct {
  char *route;
  char *dest;
  char *temp;
  GBytes *content;
  char *sha256;
  gboolean seen;         /* the destination was present at some kill point */
  gsize partial;         /* bytes of an incomplete temp file at the last kill point */
  guint requests;        /* requests the server had seen for it then */
} CrashFile;

typedef struct {
  QmgrTestDaemon *d;
  QmgrTestServer *server;
  GPtrArray *groups;     /* ItGroup*; [0] is the main group */
  GPtrArray *files;      /* CrashFile* */
  guint main_files;
  guint moments[N_MOMENTS];
  guint wrong_at_kill;   /* destinations with other bytes, all kill points together */
  guint bad_temp;        /* temp files that are not a prefix of their content */
  guint vanished;        /* destinations that were there and went away */
  guint lost_groups;
  guint resumes_checked; /* partial temp files whose next request was seen */
  guint bad_resumes;     /* ... and did not ask for exactly the bytes missing */
} Crash;

static void
crash_file_free (gpointer p)
{
  CrashFile *f = p;

  g_free (f->route);
  g_free (f->dest);
  g_free (f->temp);
  g_bytes_unref (f->content);
  g_free (f->sha256);
  g_free (f);
}

static char *
sha256_of (const void *data, gsize len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
}

/* @n files for @g's job, sizes spread around @base_size: served slowly, added in one
 * AddFiles call. */
static void
add_files (Crash *c, ItGroup *g, const char *prefix, guint n, gsize base_size, guint32 seed)
{
  g_autofree char *hex = it_guid_hex (g->job_id);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  GVariantBuilder b;
  QmgrTestFault slow = { .kind = QMGR_FAULT_SLOW, .param = CRASH_RATE };

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sst)"));
  for (guint i = 0; i < n; i++)
    {
      CrashFile *f = g_new0 (CrashFile, 1);
      g_autofree char *name = g_strdup_printf ("%s%03u.bin", prefix, i);
      g_autofree char *temp_name = g_strdup_printf (".qmgrd-%s-%u.part", hex, i);
      g_autofree char *url = NULL;
      gsize size = base_size / 2 + (gsize) ((i * 7919u + seed * 104729u) % (guint) base_size);

      f->route = g_strconcat ("/", name, NULL);
      f->dest = it_file (c->d, name);
      f->temp = it_file (c->d, temp_name);
      f->content = qmgr_test_make_content (size, seed * 1000 + i);
      f->sha256 = sha256_of (g_bytes_get_data (f->content, NULL), size);
      qmgr_test_server_add_file (c->server, f->route, f->content, name, 1700000000 + i);
      qmgr_test_server_set_fault (c->server, f->route, &slow);
      url = qmgr_test_server_get_url_for (c->server, f->route);
      g_variant_builder_add (&b, "(sst)", url, f->dest, (guint64) size);
      g_ptr_array_add (c->files, f);
    }
  reply = qmgr_test_call (c->d, g->job_path, JOB, "AddFiles",
                          g_variant_new ("(a(sst))", &b), "()", &error);
  g_assert_no_error (error);
}

/* A new group with one small slow file, resumed: each run of the daemon gets one,
 * so that groups created between kills are counted too. */
static void
add_extra_group (Crash *c)
{
  ItGroup *g = it_group_create (c->d, TRUE);
  g_autofree char *prefix = g_strdup_printf ("x%02u-", c->groups->len);

  g_ptr_array_add (c->groups, g);
  it_set_group_u (c->d, g, "MinimumRetryDelay", 1);
  add_files (c, g, prefix, 1, CRASH_EXTRA_SIZE, c->groups->len);
  it_call_void (c->d, g->path, GROUP, "ResumeGroup", NULL);
}

static guint64
server_bytes (Crash *c)
{
  guint64 total = 0;

  for (guint i = 0; i < c->files->len; i++)
    total += qmgr_test_server_get_body_bytes_sent (
        c->server, ((CrashFile *) g_ptr_array_index (c->files, i))->route);
  return total;
}

static guint64
content_bytes (Crash *c)
{
  guint64 total = 0;

  for (guint i = 0; i < c->files->len; i++)
    total += g_bytes_get_size (((CrashFile *) g_ptr_array_index (c->files, i))->content);
  return total;
}

typedef struct {
  Crash *c;
  guint64 until;
} BytesWait;

static gboolean
bytes_reached (gpointer user_data)
{
  BytesWait *w = user_data;
  return server_bytes (w->c) >= w->until;
}

static goffset
size_of (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 ? st.st_size : -1;
}

typedef struct {
  const char *path;
  goffset size;
} BytesAtLeast;

static gboolean
bytes_at_least (gpointer user_data)
{
  BytesAtLeast *w = user_data;
  return size_of (w->path) >= w->size;
}

typedef struct {
  Crash *c;
  gboolean *present;     /* destinations present when the wait began */
  gboolean temp_full;    /* also stop at a complete temp file */
  const char *why;
} RenameWait;

static gboolean
rename_near (gpointer user_data)
{
  RenameWait *w = user_data;

  for (guint i = 0; i < w->c->files->len; i++)
    {
      CrashFile *f = g_ptr_array_index (w->c->files, i);

      if (w->present[i])
        continue;
      if (w->temp_full && size_of (f->temp) == (goffset) g_bytes_get_size (f->content))
        {
          w->why = "temp file complete";
          return TRUE;
        }
      if (g_file_test (f->dest, G_FILE_TEST_EXISTS))
        {
          w->why = "destination appeared";
          return TRUE;
        }
    }
  return FALSE;
}

/* Waits for the moment, then SIGKILL. */
static void
kill_at (Crash *c, Moment moment, guint kill_no)
{
  const char *detail = "";

  switch (moment)
    {
    case MOMENT_MID_BODY:
      {
        BytesWait w = { c, server_bytes (c) +
                           (guint64) g_test_rand_int_range (4096, CRASH_RATE * 2) };
        if (!it_poll_until (bytes_reached, &w, 2, DEADLINE_MS))
          detail = " (no bytes moved: killed at the deadline)";
        break;
      }
    case MOMENT_BEFORE_RENAME:
    case MOMENT_AFTER_RENAME:
      {
        g_autofree gboolean *present = g_new0 (gboolean, c->files->len);
        RenameWait w = { c, present, moment == MOMENT_BEFORE_RENAME, NULL };

        for (guint i = 0; i < c->files->len; i++)
          present[i] = g_file_test (((CrashFile *) g_ptr_array_index (c->files, i))->dest,
                                    G_FILE_TEST_EXISTS);
        if (it_poll_until (rename_near, &w, 1, DEADLINE_MS))
          detail = w.why;
        else
          detail = " (nothing completed: killed at the deadline)";
        break;
      }
    case MOMENT_START_UP:
    case N_MOMENTS:
    default:
      break;
    }
  g_test_message ("kill %u: %s %s", kill_no, moment_names[moment], detail);
  qmgr_test_daemon_kill (c->d);
  c->moments[moment]++;
}

/* A temp file left incomplete at a kill point must be resumed where it ends:
 * when the server saw exactly one request for it since (more would hide the
 * first), that request asked for "bytes=<its size>-". Only for temp files of
 * RESUME_CHECK_MIN bytes or more: a file is resumed only once the validator of
 * its first response is in the store, which is saved "soon" (200 ms) rather
 * than at once, so the first 200 ms of a file (a fifth of CRASH_RATE) may be
 * fetched again; 0.8 s of the file leaves the timer 600 ms more (ASan, a
 * loaded machine). */
#define RESUME_CHECK_MIN (CRASH_RATE * 4 / 5)

static void
check_resume (Crash *c, CrashFile *f)
{
  guint requests = qmgr_test_server_get_request_count (c->server, f->route);
  g_autofree char *range = NULL;
  g_autofree char *expected = NULL;

  if (f->partial == 0 || requests != f->requests + 1)
    return;
  range = qmgr_test_server_get_last_request_header (c->server, f->route, "Range");
  expected = g_strdup_printf ("bytes=%" G_GSIZE_FORMAT "-", f->partial);
  c->resumes_checked++;
  if (g_strcmp0 (range, expected) != 0)
    {
      g_test_message ("%s: %" G_GSIZE_FORMAT " bytes were in its temp file, then asked "
                      "with Range %s", f->route, f->partial, range ? range : "(none)");
      c->bad_resumes++;
    }
}

/* What is on disk while the daemon is dead: every destination present holds exactly
 * its content and stays present; every temp file is a prefix of its content. */
static void
check_kill_point (Crash *c, guint kill_no)
{
  for (guint i = 0; i < c->files->len; i++)
    {
      CrashFile *f = g_ptr_array_index (c->files, i);
      g_autofree char *data = NULL;
      gsize len;

      check_resume (c, f);
      f->partial = 0;
      f->requests = qmgr_test_server_get_request_count (c->server, f->route);

      if (g_file_get_contents (f->dest, &data, &len, NULL))
        {
          g_autofree char *sum = sha256_of (data, len);
          if (strcmp (sum, f->sha256) != 0)
            {
              g_test_message ("kill %u: %s has %" G_GSIZE_FORMAT " bytes, sha256 %s, expected "
                              "%" G_GSIZE_FORMAT " bytes, %s", kill_no, f->dest, len, sum,
                              g_bytes_get_size (f->content), f->sha256);
              c->wrong_at_kill++;
            }
          f->seen = TRUE;
        }
      else if (f->seen)
        {
          g_test_message ("kill %u: %s went away", kill_no, f->dest);
          c->vanished++;
        }
      g_clear_pointer (&data, g_free);
      if (g_file_get_contents (f->temp, &data, &len, NULL) &&
          (len > g_bytes_get_size (f->content) ||
           memcmp (data, g_bytes_get_data (f->content, NULL), len) != 0))
        {
          g_test_message ("kill %u: %s (%" G_GSIZE_FORMAT " bytes) is not a prefix of its "
                          "content", kill_no, f->temp, len);
          c->bad_temp++;
        }
      else if (data != NULL && len >= RESUME_CHECK_MIN && len < g_bytes_get_size (f->content))
        f->partial = len;
    }
}

/* After a restart: every group created so far is there. */
static void
check_groups (Crash *c, guint kill_no)
{
  g_autoptr(GVariant) reply = it_call_ok (c->d, QMGR_TEST_MANAGER_PATH,
                                          QMGR_TEST_MANAGER_IFACE, "EnumGroups",
                                          g_variant_new ("(u)", 0), "(as)");
  g_autofree const char **ids = NULL;

  g_variant_get (reply, "(^a&s)", &ids);
  c->lost_groups = 0;
  for (guint i = 0; i < c->groups->len; i++)
    {
      ItGroup *g = g_ptr_array_index (c->groups, i);
      if (!g_strv_contains (ids, g->id))
        {
          g_test_message ("after kill %u: group %s is lost", kill_no, g->id);
          c->lost_groups++;
        }
    }
}

static gboolean
all_complete (gpointer user_data)
{
  Crash *c = user_data;

  for (guint i = 0; i < c->groups->len; i++)
    {
      ItGroup *g = g_ptr_array_index (c->groups, i);
      if (it_group_status (c->d, g->path) != 0x140)
        return FALSE;
    }
  return TRUE;
}

static guint
count_temp_files (Crash *c)
{
  g_autoptr(GDir) dir = g_dir_open (qmgr_test_daemon_get_files_dir (c->d), 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, ".qmgrd-") && g_str_has_suffix (name, ".part"))
      {
        g_test_message ("temp file left: %s", name);
        n++;
      }
  return n;
}

static void
test_kill_restart (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  Crash c = {
    .d = d,
    .server = server,
    .groups = g_ptr_array_new_with_free_func ((GDestroyNotify) it_group_free),
    .files = g_ptr_array_new_with_free_func (crash_file_free),
  };
  ItGroup *main_group;
  guint wrong_final = 0, temp_left, groups_complete = 0, refetched = 0;
  gint64 start = g_get_monotonic_time ();
  double fetched;

  qmgr_test_daemon_start (d, NULL);
  main_group = it_group_create (d, TRUE);
  g_ptr_array_add (c.groups, main_group);
  it_set_group_u (d, main_group, "MinimumRetryDelay", 1);
  add_files (&c, main_group, "f", CRASH_FILES, CRASH_FILE_SIZE, 1);
  c.main_files = CRASH_FILES;
  it_call_void (d, main_group->path, GROUP, "ResumeGroup", NULL);

  for (guint k = 1; k <= CRASH_KILLS; k++)
    {
      Moment moment;

      /* Mostly mid-body; renames and start-up often enough to be hit every run. */
      switch (g_test_rand_int_range (0, 8))
        {
        case 0: case 1: moment = MOMENT_BEFORE_RENAME; break;
        case 2: case 3: moment = MOMENT_AFTER_RENAME; break;
        case 4: moment = MOMENT_START_UP; break;
        default: moment = MOMENT_MID_BODY; break;
        }
      if (k == 1)
        moment = MOMENT_BEFORE_RENAME;
      else if (k == 2)
        moment = MOMENT_AFTER_RENAME;
      else if (k == 3)
        moment = MOMENT_MID_BODY;
      kill_at (&c, moment, k);
      check_kill_point (&c, k);
      qmgr_test_daemon_start (d, NULL);
      check_groups (&c, k);
      g_assert_cmpuint (c.lost_groups, ==, 0);
      if (k < CRASH_KILLS)
        add_extra_group (&c);
    }

  /* The crashes are over: full speed to the end. */
  for (guint i = 0; i < c.files->len; i++)
    qmgr_test_server_set_fault (server, ((CrashFile *) g_ptr_array_index (c.files, i))->route,
                                NULL);
  if (!it_poll_until (all_complete, &c, 50, FINISH_DEADLINE_MS))
    {
      for (guint i = 0; i < c.groups->len; i++)
        {
          ItGroup *g = g_ptr_array_index (c.groups, i);
          g_autofree char *reason = it_get_s (d, g->path, GROUP, "WaitReason");
          g_test_message ("group %u: Status 0x%x, WaitReason %s", i,
                          it_group_status (d, g->path), reason);
        }
    }
  check_groups (&c, CRASH_KILLS);
  for (guint i = 0; i < c.groups->len; i++)
    if (it_group_status (d, ((ItGroup *) g_ptr_array_index (c.groups, i))->path) == 0x140)
      groups_complete++;
  for (guint i = 0; i < c.files->len; i++)
    {
      CrashFile *f = g_ptr_array_index (c.files, i);
      g_autofree char *data = NULL;
      g_autofree char *sum = NULL;
      gsize len = 0;

      if (g_file_get_contents (f->dest, &data, &len, NULL))
        sum = sha256_of (data, len);
      if (g_strcmp0 (sum, f->sha256) != 0)
        {
          g_test_message ("at the end: %s has sha256 %s, expected %s", f->dest,
                          sum ? sum : "(missing)", f->sha256);
          wrong_final++;
        }
    }
  for (guint i = 0; i < c.files->len; i++)
    check_resume (&c, g_ptr_array_index (c.files, i));
  for (guint i = 0; i < c.files->len; i++)
    {
      CrashFile *f = g_ptr_array_index (c.files, i);
      guint64 sent = qmgr_test_server_get_body_bytes_sent (server, f->route);

      if (sent > g_bytes_get_size (f->content) + g_bytes_get_size (f->content) / 10)
        {
          refetched++;
          g_test_message ("%s: %" G_GUINT64_FORMAT " bytes sent for %" G_GSIZE_FORMAT
                          " in %u requests", f->route, sent, g_bytes_get_size (f->content),
                          qmgr_test_server_get_request_count (server, f->route));
        }
    }
  temp_left = count_temp_files (&c);
  fetched = (double) server_bytes (&c) / (double) content_bytes (&c);

  g_test_message ("| %s | figure |", CRASH_NAME);
  g_test_message ("|---|---|");
  g_test_message ("| files (main job + one per restart) | %u + %u |", c.main_files,
                  c.files->len - c.main_files);
  g_test_message ("| SIGKILLs | %u (mid-body %u, before a rename %u, after a rename %u, "
                  "start-up %u) |", CRASH_KILLS, c.moments[MOMENT_MID_BODY],
                  c.moments[MOMENT_BEFORE_RENAME], c.moments[MOMENT_AFTER_RENAME],
                  c.moments[MOMENT_START_UP]);
  g_test_message ("| groups lost | %u of %u |", c.lost_groups, c.groups->len);
  g_test_message ("| groups complete | %u of %u |", groups_complete, c.groups->len);
  g_test_message ("| destinations wrong at a kill point | %u |", c.wrong_at_kill);
  g_test_message ("| destinations that went away | %u |", c.vanished);
  g_test_message ("| temp files not a prefix of the file | %u |", c.bad_temp);
  g_test_message ("| destinations wrong at the end | %u |", wrong_final);
  g_test_message ("| temp files left | %u |", temp_left);
  g_test_message ("| bytes fetched / bytes of the files | %.3f |", fetched);
  g_test_message ("| files fetched 10 %% more than their size | %u |", refetched);
  g_test_message ("| resumes checked; not from the temp file's end | %u; %u |",
                  c.resumes_checked, c.bad_resumes);
  g_test_message ("| wall time | %.1f s |", (double) (g_get_monotonic_time () - start) / 1e6);
  g_test_message ("%s R1 lost=%u wrong=%u temp_left=%u",
                  c.lost_groups == 0 && c.wrong_at_kill == 0 && wrong_final == 0 &&
                  temp_left == 0 && c.vanished == 0 && groups_complete == c.groups->len
                  ? "PASS" : "FAIL",
                  c.lost_groups, c.wrong_at_kill + wrong_final, temp_left);

  g_assert_cmpuint (c.lost_groups, ==, 0);
  g_assert_cmpuint (c.wrong_at_kill, ==, 0);
  g_assert_cmpuint (c.vanished, ==, 0);
  g_assert_cmpuint (c.bad_temp, ==, 0);
  g_assert_cmpuint (groups_complete, ==, c.groups->len);
  g_assert_cmpuint (wrong_final, ==, 0);
  g_assert_cmpuint (temp_left, ==, 0);
  g_assert_cmpuint (c.bad_resumes, ==, 0);
  g_assert_cmpuint (c.resumes_checked, >, 0);

  qmgr_test_daemon_stop (d);
  g_ptr_array_unref (c.files);
  g_ptr_array_unref (c.groups);
}

typedef struct {
  ItRecorder *rec;
  const char *group_path;
} CompleteWait;

static gboolean
group_done_heard (gpointer user_data)
{
  CompleteWait *w = user_data;

  for (guint i = 0; i < w->rec->signals->len; i++)
    {
      ItSignal *s = g_ptr_array_index (w->rec->signals, i);
      guint32 index, status;

      if (g_strcmp0 (s->path, w->group_path) == 0 && g_strcmp0 (s->member, "OnStatus") == 0 &&
          g_variant_is_of_type (s->params, G_VARIANT_TYPE ("(ouuuuu)")))
        {
          g_variant_get (s->params, "(&ouuuuu)", NULL, &index, &status, NULL, NULL, NULL);
          if (index == 0xFFFFFFFFu && status == 0x140)
            return TRUE;
        }
    }
  return FALSE;
}

/* Whoever hears that a group is complete may take its files: a crash right
 * after must not bring the group back incomplete, fetch a file again and put
 * it back in place. */
static void
test_kill_after_complete (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) g = NULL;
  g_autoptr(ItRecorder) rec = NULL;
  const char *names[] = { "a.bin", "b.bin" };
  g_autofree char *taken = NULL;
  CompleteWait w;
  GVariantBuilder b;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  struct stat st;

  qmgr_test_daemon_start (d, NULL);
  rec = it_recorder_new (d);
  g = it_group_create (d, TRUE);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sst)"));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *route = g_strconcat ("/", names[i], NULL);
      g_autofree char *url = NULL;
      g_autofree char *dest = it_file (d, names[i]);
      g_autoptr(GBytes) content = qmgr_test_make_content (20000 + i, 77 + i);

      qmgr_test_server_add_file (server, route, content, names[i], 1700000000);
      url = qmgr_test_server_get_url_for (server, route);
      g_variant_builder_add (&b, "(sst)", url, dest, (guint64) 0);
    }
  reply = qmgr_test_call (d, g->job_path, JOB, "AddFiles", g_variant_new ("(a(sst))", &b), "()",
                          &error);
  g_assert_no_error (error);
  it_call_void (d, g->path, GROUP, "ResumeGroup", NULL);

  w.rec = rec;
  w.group_path = g->path;
  g_assert_true (qmgr_test_wait_until (group_done_heard, &w, DEADLINE_MS));
  qmgr_test_daemon_kill (d);
  /* The client takes the first file as soon as it heard. */
  {
    g_autofree char *dest = it_file (d, names[0]);
    taken = it_file (d, "taken.bin");
    g_assert_cmpint (rename (dest, taken), ==, 0);
  }

  qmgr_test_daemon_start (d, NULL);
  g_assert_cmphex (it_group_status (d, g->path), ==, 0x140);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *route = g_strconcat ("/", names[i], NULL);
      g_assert_cmpuint (qmgr_test_server_get_request_count (server, route), ==, 1);
    }
  {
    g_autofree char *dest = it_file (d, names[0]);
    g_assert_cmpint (stat (dest, &st), <, 0);
    g_assert_cmpint (stat (taken, &st), ==, 0);
  }
  g_assert_cmpuint (count_temp_files (&(Crash) { .d = d }), ==, 0);
  qmgr_test_daemon_stop (d);
}

/* A client's Callback object: the first OnStatus is held unanswered until the
 * test lets it go; the others are answered at once. Records file indexes. */
typedef struct {
  GDBusMethodInvocation *held;
  GArray *files;   /* guint32: file_index of each OnStatus, in order */
} Callee;

static void
callee_method (G_GNUC_UNUSED GDBusConnection *connection, G_GNUC_UNUSED const char *sender,
               G_GNUC_UNUSED const char *path, G_GNUC_UNUSED const char *iface,
               const char *method, GVariant *params, GDBusMethodInvocation *invocation,
               gpointer user_data)
{
  Callee *callee = user_data;
  guint32 index;

  if (strcmp (method, "OnStatus") != 0)
    {
      g_dbus_method_invocation_return_value (invocation, NULL);
      return;
    }
  g_variant_get (params, "(&o&ouuuuu)", NULL, NULL, &index, NULL, NULL, NULL, NULL);
  g_array_append_val (callee->files, index);
  if (callee->files->len == 1)
    callee->held = invocation;
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static const GDBusInterfaceVTable callee_vtable = { callee_method, NULL, NULL, { NULL } };

typedef struct {
  Callee *callee;
  guint n;
} CalleeWait;

static gboolean
callee_called (gpointer user_data)
{
  CalleeWait *w = user_data;
  return w->callee->files->len >= w->n;
}

static gboolean
file_present (gpointer user_data)
{
  return g_file_test (user_data, G_FILE_TEST_EXISTS);
}

static gboolean
time_reached (gpointer user_data)
{
  return g_get_monotonic_time () >= *(gint64 *) user_data;
}

/* The FILE_DONE callback of a file that does not complete its group, to a client
 * that answered the previous callback just after the file was put in place: a
 * crash right after it must not bring the file back incomplete. (Such callbacks
 * used to go out as soon as the previous one was answered, before the
 * completion was on disk; which of the two quick files is first varies.) */
static void
test_kill_after_file_callback (void)
{
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(ItGroup) g = NULL;
  g_autoptr(GDBusConnection) client = NULL;
  g_autoptr(GDBusNodeInfo) info = qmgr_test_load_interface_xml (QMGR_TEST_CALLBACK_IFACE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  const char *names[] = { "c0.bin", "c1.bin", "c2.bin" };
  QmgrTestFault slow = { .kind = QMGR_FAULT_SLOW, .param = 8 * 1024 };
  QmgrTestFault later = { .kind = QMGR_FAULT_SLOW, .param = 256 * 1024 };
  g_autofree char *dest1 = NULL;
  Callee callee = { NULL, g_array_new (FALSE, FALSE, sizeof (guint32)) };
  GVariantBuilder b;
  guint registration;
  guint32 status, first, other;
  gint64 until;

  qmgr_test_daemon_start (d, NULL);
  client = qmgr_test_daemon_new_connection (d);
  registration = g_dbus_connection_register_object (client, "/cb", info->interfaces[0],
                                                    &callee_vtable, &callee, NULL, &error);
  g_assert_no_error (error);
  g = it_group_create (d, TRUE);
  reply = g_dbus_connection_call_sync (client, QMGR_TEST_BUS_NAME, g->path, GROUP,
                                       "SetNotificationPointer",
                                       g_variant_new ("(so)", QMGR_TEST_CALLBACK_IFACE, "/cb"),
                                       G_VARIANT_TYPE ("()"), G_DBUS_CALL_FLAGS_NONE, 25000,
                                       NULL, &error);
  g_assert_no_error (error);
  it_set_group_u (d, g, "NotifyFlags", 0x1);   /* FILE_DONE */

  /* A quick file, one done a quarter of a second later (in a commit batch of its
   * own), then one that keeps the group incomplete. */
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sst)"));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *route = g_strconcat ("/", names[i], NULL);
      g_autofree char *url = qmgr_test_server_get_url_for (server, route);
      g_autofree char *dest = it_file (d, names[i]);
      g_autoptr(GBytes) content = qmgr_test_make_content (i == 0 ? 5000 : i == 1 ? 65536 : 1 << 20,
                                                          90 + i);

      qmgr_test_server_add_file (server, route, content, names[i], 1700000000);
      if (i > 0)
        qmgr_test_server_set_fault (server, route, i == 1 ? &later : &slow);
      g_variant_builder_add (&b, "(sst)", url, dest, (guint64) 0);
    }
  g_clear_pointer (&reply, g_variant_unref);
  reply = qmgr_test_call (d, g->job_path, JOB, "AddFiles", g_variant_new ("(a(sst))", &b), "()",
                          &error);
  g_assert_no_error (error);
  it_call_void (d, g->path, GROUP, "ResumeGroup", NULL);

  /* The first quick file's callback, held; the other one in place; then the
   * answer. */
  {
    CalleeWait w = { &callee, 1 };
    g_assert_true (qmgr_test_wait_until (callee_called, &w, DEADLINE_MS));
  }
  first = g_array_index (callee.files, guint32, 0);
  g_assert_cmpuint (first, <, 2);
  other = 1 - first;
  dest1 = it_file (d, names[other]);
  g_assert_true (it_poll_until (file_present, dest1, 1, DEADLINE_MS));
  until = g_get_monotonic_time () + 20000;   /* its completion recorded, likely not yet synced */
  it_poll_until (time_reached, &until, 5, 1000);
  g_dbus_method_invocation_return_value (g_steal_pointer (&callee.held), NULL);
  {
    CalleeWait w = { &callee, 2 };
    g_assert_true (qmgr_test_wait_until (callee_called, &w, DEADLINE_MS));
  }
  qmgr_test_daemon_kill (d);
  g_assert_cmpuint (g_array_index (callee.files, guint32, 1), ==, other);

  qmgr_test_daemon_start (d, NULL);
  g_clear_pointer (&reply, g_variant_unref);
  reply = qmgr_test_call (d, g->job_path, JOB, "GetFileStatus", g_variant_new ("(u)", other),
                          "(utt(ss))", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(utt(ss))", &status, NULL, NULL, NULL, NULL);
  g_assert_cmphex (status & 0x1, ==, 0x1);
  {
    g_autofree char *route = g_strconcat ("/", names[other], NULL);
    g_assert_cmpuint (qmgr_test_server_get_request_count (server, route), ==, 1);
  }

  g_dbus_connection_unregister_object (client, registration);
  g_array_unref (callee.files);
  qmgr_test_daemon_stop (d);
}

typedef struct {
  const char *path;
  GBytes *content;
  gsize below;
} PrefixWait;

/* The file holds a non-empty prefix of @content shorter than @below bytes. */
static gboolean
short_prefix_of (gpointer user_data)
{
  PrefixWait *w = user_data;
  g_autofree char *data = NULL;
  gsize len;

  return g_file_get_contents (w->path, &data, &len, NULL) && len > 0 && len < w->below &&
         len <= g_bytes_get_size (w->content) &&
         memcmp (data, g_bytes_get_data (w->content, NULL), len) == 0;
}

/* The server's file changes between two attempts (If-Range with the old ETag gets
 * the new file whole, from byte 0), the daemon is killed just after the new bytes
 * start to land, and the server has the old version again when it comes back (two
 * mirrors behind one name during a roll-out). The temp file then holds the start
 * of the new version: resuming it with the old validator would splice the two.
 * The destination must be exactly one version. */
static void
test_kill_after_file_changed (void)
{
  const gsize size = 256 * 1024, partial = 96 * 1024;
  g_autoptr(QmgrTestDaemon) d = qmgr_test_daemon_new ();
  g_autoptr(QmgrTestServer) server = qmgr_test_server_new ();
  g_autoptr(GBytes) a = qmgr_test_make_content (size, 11);
  g_autoptr(GBytes) b = qmgr_test_make_content (size, 12);
  g_autoptr(ItGroup) g = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = qmgr_test_server_get_url_for (server, "/flip.bin");
  g_autofree char *dest = NULL;
  g_autofree char *temp = NULL;
  g_autofree char *hex = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  QmgrTestFault stall = { .kind = QMGR_FAULT_STALL_AFTER, .param = partial, .times = 1 };
  QmgrTestFault slow = { .kind = QMGR_FAULT_SLOW, .param = 64 * 1024 };

  qmgr_test_daemon_start (d, NULL);
  dest = it_file (d, "flip.bin");
  g = it_group_create (d, TRUE);
  hex = it_guid_hex (g->job_id);
  temp = g_strdup_printf ("%s/.qmgrd-%s-0.part", qmgr_test_daemon_get_files_dir (d), hex);
  it_set_group_u (d, g, "MinimumRetryDelay", 1);
  it_add_file (d, g->job_path, url, dest, size, &error);
  g_assert_no_error (error);

  /* Version A, partly; suspending writes the group (and A's ETag) to disk. */
  qmgr_test_server_add_file (server, "/flip.bin", a, "a", 1700000000);
  qmgr_test_server_set_fault (server, "/flip.bin", &stall);
  it_call_void (d, g->path, GROUP, "ResumeGroup", NULL);
  {
    BytesAtLeast w = { temp, partial };
    g_assert_true (it_poll_until (bytes_at_least, &w, 1, DEADLINE_MS));
  }
  it_call_void (d, g->path, GROUP, "SuspendGroup", NULL);
  g_assert_true (g_file_get_contents (temp, &data, &len, NULL));
  g_assert_cmpmem (data, len, g_bytes_get_data (a, NULL), partial);
  g_clear_pointer (&data, g_free);

  /* Version B arrives whole (If-Range "a" does not match), slowly; kill as soon as
   * its first bytes are in the temp file. */
  qmgr_test_server_add_file (server, "/flip.bin", b, "b", 1700003600);
  qmgr_test_server_set_fault (server, "/flip.bin", &slow);
  it_call_void (d, g->path, GROUP, "ResumeGroup", NULL);
  {
    PrefixWait w = { temp, b, partial };
    g_assert_true (it_poll_until (short_prefix_of, &w, 1, DEADLINE_MS));
  }
  qmgr_test_daemon_kill (d);
  g_assert_true (g_file_get_contents (temp, &data, &len, NULL));
  g_test_message ("killed with %" G_GSIZE_FORMAT " bytes of version B in the temp file", len);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));

  /* Version A again, at full speed. */
  qmgr_test_server_set_fault (server, "/flip.bin", NULL);
  qmgr_test_server_add_file (server, "/flip.bin", a, "a", 1700000000);
  qmgr_test_daemon_start (d, NULL);
  g_assert_true (it_wait_property (d, g->path, GROUP, "Status", g_variant_new_uint32 (0x140),
                                   DEADLINE_MS));
  g_clear_pointer (&data, g_free);
  g_file_get_contents (dest, &data, &len, &error);
  g_assert_no_error (error);
  {
    g_autofree char *range = qmgr_test_server_get_last_request_header (server, "/flip.bin",
                                                                        "Range");
    g_autofree char *if_range = qmgr_test_server_get_last_request_header (server, "/flip.bin",
                                                                           "If-Range");
    gboolean starts_as_b = len > 0 && memcmp (data, g_bytes_get_data (b, NULL), 64) == 0;

    g_test_message ("after the restart: Range %s, If-Range %s; the destination starts with "
                    "version %s", range, if_range, starts_as_b ? "B" : "A");
  }
  g_assert_cmpmem (data, len, g_bytes_get_data (a, NULL), size);
  qmgr_test_daemon_stop (d);
}

int
main (int argc, char **argv)
{
  it_init (&argc, &argv);
  g_test_add_func ("/crash/kill-restart", test_kill_restart);
  g_test_add_func ("/crash/kill-after-file-changed", test_kill_after_file_changed);
  g_test_add_func ("/crash/kill-after-complete", test_kill_after_complete);
  g_test_add_func ("/crash/kill-after-file-callback", test_kill_after_file_callback);
  return g_test_run ();
}
