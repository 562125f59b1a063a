/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * b3-client: the qmgrd side of docs/targets.md B3, as a lean sd-bus client.
 *
 * For each of N groups, strictly in sequence: Manager.CreateGroup(""),
 * Group.CreateJob(""), Job.AddFiles([(url, path, 16384)]), Group.SetProp(
 * DISPLAYNAME, <"bench group i">); K groups progress at once, so K calls are
 * pending in total. Every reply is checked; an error reply ends the program
 * with exit code 1.
 *
 * --ping sends 4N org.freedesktop.DBus.Peer.Ping calls to the daemon's bus
 * name instead, K in flight: the floor that dbus-daemon and this client put
 * under the 4N calls of the real run.
 *
 * --count-signals also subscribes to every signal qmgrd sends and counts
 * them ("signals" in the output): a census of what the bus routes per group,
 * for a short untimed run (being delivered, they cost the bus more than the
 * signals of a timed run, which nobody receives).
 *
 * Prints one line of JSON on stdout:
 *   {"groups":N,"calls":4N,"wall_s":W,"cpu_s":C[,"signals":S]}
 * wall_s and cpu_s (user+sys of this process, getrusage) cover the calls
 * only, from the first call sent (the connection is up) to the last reply.
 *
 * Usage: b3-client --address ADDR [--groups N] [--in-flight K] --dir DIR [--count-signals]
 *        b3-client --address ADDR [--groups N] [--in-flight K] --ping
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <systemd/sd-bus.h>

#define BUS_NAME "io.github.qmgrd.QMgr1"
#define MANAGER_PATH "/io/github/qmgrd/QMgr1"
#define IFACE_MANAGER "io.github.qmgrd.QMgr1.Manager"
#define IFACE_GROUP "io.github.qmgrd.QMgr1.Group"
#define IFACE_JOB "io.github.qmgrd.QMgr1.Job"
#define IFACE_PEER "org.freedesktop.DBus.Peer"
#define GROUPPROP_DISPLAYNAME 11u
#define URL_BASE "http://127.0.0.1:9"
#define SIZE_HINT UINT64_C(16384)
#define CALL_TIMEOUT_USEC (UINT64_C(120) * 1000000u)

static void bus_message_unrefp(sd_bus_message **m)
{
	sd_bus_message_unref(*m);
}
#define _cleanup_msg_ __attribute__((cleanup(bus_message_unrefp)))

enum step { STEP_CREATE_GROUP, STEP_CREATE_JOB, STEP_ADD_FILES, STEP_SET_PROP };

static const char *const step_name[] = {
	[STEP_CREATE_GROUP] = "CreateGroup",
	[STEP_CREATE_JOB] = "CreateJob",
	[STEP_ADD_FILES] = "AddFiles",
	[STEP_SET_PROP] = "SetProp",
};

/* One of the K lanes: the group it is working on and the call it waits for. */
struct lane {
	struct run *run;
	long idx;               /* group number, or -1 when idle */
	enum step step;
	char *group_path;
	char *job_path;
};

struct run {
	sd_bus *bus;
	const char *dir;
	long n_groups;
	long n_calls;           /* calls to make in all: 4N */
	long next_group;        /* groups started */
	long sent;              /* calls sent */
	long replied;           /* calls answered successfully */
	long signals;           /* signals from qmgrd received (--count-signals) */
	bool failed;
};

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
static int on_ping_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

static void fail(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct run *run, const char *fmt, ...)
{
	va_list ap;

	fputs("b3-client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	run->failed = true;
}

/* Sends one call to the daemon; the reply goes to handler(userdata). */
static int send_call(struct run *run, const char *path, const char *iface, const char *method,
		     sd_bus_message_handler_t handler, void *userdata, const char *types, ...)
{
	_cleanup_msg_ sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(run->bus, &m, BUS_NAME, path, iface, method);
	if (r < 0)
		return r;
	if (types) {
		va_list ap;

		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
		if (r < 0)
			return r;
	}
	/* Floating slot (NULL): freed by sd-bus once the reply is dispatched. */
	r = sd_bus_call_async(run->bus, NULL, m, handler, userdata, CALL_TIMEOUT_USEC);
	if (r < 0)
		return r;
	run->sent++;
	return 0;
}

static void lane_reset(struct lane *l)
{
	free(l->group_path);
	free(l->job_path);
	l->group_path = l->job_path = NULL;
	l->idx = -1;
}

/* Sends the call of the lane's current step. */
static void lane_send(struct lane *l)
{
	struct run *run = l->run;
	char url[64], path[PATH_MAX], name[64];
	int r = 0;

	switch (l->step) {
	case STEP_CREATE_GROUP:
		r = send_call(run, MANAGER_PATH, IFACE_MANAGER, "CreateGroup", on_reply, l, "s", "");
		break;
	case STEP_CREATE_JOB:
		r = send_call(run, l->group_path, IFACE_GROUP, "CreateJob", on_reply, l, "s", "");
		break;
	case STEP_ADD_FILES:
		snprintf(url, sizeof url, URL_BASE "/f%ld", l->idx);
		if ((size_t)snprintf(path, sizeof path, "%s/f%ld", run->dir, l->idx) >= sizeof path) {
			fail(run, "--dir is too long");
			return;
		}
		r = send_call(run, l->job_path, IFACE_JOB, "AddFiles", on_reply, l, "a(sst)", 1, url,
			      path, SIZE_HINT);
		break;
	case STEP_SET_PROP:
		snprintf(name, sizeof name, "bench group %ld", l->idx);
		r = send_call(run, l->group_path, IFACE_GROUP, "SetProp", on_reply, l, "uv",
			      GROUPPROP_DISPLAYNAME, "s", name);
		break;
	}
	if (r < 0)
		fail(run, "group %ld: cannot send %s: %s", l->idx, step_name[l->step], strerror(-r));
}

/* Starts the next group on an idle lane, if any is left. */
static void lane_start_next(struct lane *l)
{
	struct run *run = l->run;

	if (run->next_group >= run->n_groups)
		return;
	l->idx = run->next_group++;
	l->step = STEP_CREATE_GROUP;
	lane_send(l);
}

static int read_path(struct run *run, struct lane *l, sd_bus_message *m, char **out)
{
	const char *p = NULL;
	int r;

	r = sd_bus_message_read(m, "o", &p);
	if (r < 0) {
		fail(run, "group %ld: %s: unexpected reply (signature '%s'): %s", l->idx,
		     step_name[l->step], sd_bus_message_get_signature(m, true), strerror(-r));
		return r;
	}
	*out = strdup(p);
	if (!*out) {
		fail(run, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct lane *l = userdata;
	struct run *run = l->run;

	(void)ret_error;
	if (run->failed)
		return 0;
	if (sd_bus_message_is_method_error(m, NULL)) {
		const sd_bus_error *e = sd_bus_message_get_error(m);

		fail(run, "group %ld: %s failed: %s: %s", l->idx, step_name[l->step],
		     e && e->name ? e->name : "(no name)", e && e->message ? e->message : "(no message)");
		return 0;
	}
	run->replied++;

	switch (l->step) {
	case STEP_CREATE_GROUP:
		if (read_path(run, l, m, &l->group_path) < 0)
			return 0;
		l->step = STEP_CREATE_JOB;
		break;
	case STEP_CREATE_JOB:
		if (read_path(run, l, m, &l->job_path) < 0)
			return 0;
		l->step = STEP_ADD_FILES;
		break;
	case STEP_ADD_FILES:
		l->step = STEP_SET_PROP;
		break;
	case STEP_SET_PROP:
		lane_reset(l);
		lane_start_next(l);
		return 0;
	}
	lane_send(l);
	return 0;
}

static int send_ping(struct run *run)
{
	int r;

	if (run->sent >= run->n_calls)
		return 0;
	r = send_call(run, MANAGER_PATH, IFACE_PEER, "Ping", on_ping_reply, run, NULL);
	if (r < 0)
		fail(run, "cannot send Ping: %s", strerror(-r));
	return r;
}

static int on_ping_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct run *run = userdata;

	(void)ret_error;
	if (run->failed)
		return 0;
	if (sd_bus_message_is_method_error(m, NULL)) {
		const sd_bus_error *e = sd_bus_message_get_error(m);

		fail(run, "Ping failed: %s: %s", e && e->name ? e->name : "(no name)",
		     e && e->message ? e->message : "(no message)");
		return 0;
	}
	run->replied++;
	send_ping(run);
	return 0;
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct run *run = userdata;

	run->signals++;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long parse_count(const char *opt, const char *s, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > LONG_MAX / 4) {
		fprintf(stderr, "b3-client: %s: bad value '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

static void usage(FILE *f)
{
	fputs("Usage: b3-client --address ADDR [--groups N] [--in-flight K] --dir DIR [--count-signals]\n"
	      "       b3-client --address ADDR [--groups N] [--in-flight K] --ping\n"
	      "  --address ADDR   D-Bus address of the bus qmgrd is on\n"
	      "  --groups N       groups to create (4 calls each; default 10000)\n"
	      "  --in-flight K    calls pending at once (default 64)\n"
	      "  --dir DIR        absolute directory for the files' local paths\n"
	      "  --ping           send 4N Peer.Ping calls to qmgrd instead\n"
	      "  --count-signals  receive and count the signals qmgrd sends (a census)\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "groups", required_argument, NULL, 'n' },
		{ "in-flight", required_argument, NULL, 'k' },
		{ "dir", required_argument, NULL, 'd' },
		{ "ping", no_argument, NULL, 'p' },
		{ "count-signals", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *address = NULL;
	struct run run = { .n_groups = 10000 };
	struct lane *lanes = NULL;
	long in_flight = 64, n_lanes = 0;
	bool ping = false, count_signals = false;
	double t0, c0, wall, cpu;
	const char *unique = NULL;
	int c, r, ret = 1;

	while ((c = getopt_long(argc, argv, "a:n:k:d:psh", opts, NULL)) != -1) {
		switch (c) {
		case 'a': address = optarg; break;
		case 'n': run.n_groups = parse_count("--groups", optarg, 0); break;
		case 'k': in_flight = parse_count("--in-flight", optarg, 1); break;
		case 'd': run.dir = optarg; break;
		case 'p': ping = true; break;
		case 's': count_signals = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !address || (!ping && (!run.dir || run.dir[0] != '/'))) {
		usage(stderr);
		return 2;
	}
	run.n_calls = 4 * run.n_groups;

	r = sd_bus_new(&run.bus);
	if (r >= 0)
		r = sd_bus_set_address(run.bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(run.bus, 1);
	if (r >= 0)
		r = sd_bus_start(run.bus);
	/* Blocks until Hello is answered: the connection is fully up before timing. */
	if (r >= 0)
		r = sd_bus_get_unique_name(run.bus, &unique);
	/* Synchronous: the rule is in place before the first call. */
	if (r >= 0 && count_signals)
		r = sd_bus_add_match(run.bus, NULL, "type='signal',sender='" BUS_NAME "'", on_signal,
				     &run);
	if (r < 0) {
		fprintf(stderr, "b3-client: cannot connect to %s: %s\n", address, strerror(-r));
		goto out;
	}

	n_lanes = ping ? (in_flight < run.n_calls ? in_flight : run.n_calls)
		       : (in_flight < run.n_groups ? in_flight : run.n_groups);
	lanes = calloc(n_lanes > 0 ? (size_t)n_lanes : 1, sizeof *lanes);
	if (!lanes) {
		fputs("b3-client: out of memory\n", stderr);
		goto out;
	}

	t0 = now_s();
	c0 = cpu_s();
	for (long i = 0; i < n_lanes && !run.failed; i++) {
		lanes[i] = (struct lane){ .run = &run, .idx = -1 };
		if (ping)
			send_ping(&run);
		else
			lane_start_next(&lanes[i]);
	}
	while (!run.failed && run.replied < run.n_calls) {
		r = sd_bus_process(run.bus, NULL);
		if (r < 0) {
			fail(&run, "processing the bus: %s", strerror(-r));
			break;
		}
		if (r > 0)
			continue;
		r = sd_bus_wait(run.bus, UINT64_MAX);
		if (r < 0 && r != -EINTR) {
			fail(&run, "waiting on the bus: %s", strerror(-r));
			break;
		}
	}
	wall = now_s() - t0;
	cpu = cpu_s() - c0;
	if (run.failed)
		goto out;

	/* A group's signals are sent before the reply to its last call, and the
	 * bus keeps their order: every signal has been processed by now. */
	printf("{\"groups\":%ld,\"calls\":%ld,\"wall_s\":%.3f,\"cpu_s\":%.3f", run.n_groups,
	       run.n_calls, wall, cpu);
	if (count_signals)
		printf(",\"signals\":%ld", run.signals);
	printf("}\n");
	ret = fflush(stdout) == 0 ? 0 : 1;

out:
	/* Pending calls (after a failure) are dropped with the connection. */
	sd_bus_flush_close_unref(run.bus);
	if (lanes) {
		for (long i = 0; i < n_lanes; i++)
			lane_reset(&lanes[i]);
		free(lanes);
	}
	return ret;
}
