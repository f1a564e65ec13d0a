// SPDX-License-Identifier: GPL-2.0
/*
 * The /init of the leak-check boot of harness/kunit.sh, built static for
 * the architecture under test. It runs after the built-in KUnit suites.
 *
 * If the kernel injects allocation failures (harness/fault.config), it
 * first lets allocations that may sleep and single pages fail and quiets
 * the injection reports, runs the *_fault KUnit suites through debugfs and prints their
 * KTAP results, and sweeps the ping-pong client's start with the n-th
 * allocation of the write failing (/proc/thread-self/fail-nth): every
 * failed write must fail with ENOMEM and leave the results of the previous
 * run readable and unchanged, or report its own run as failed; then a
 * benchmark run the same way, whose rows must fail with ENOMEM only.
 *
 * Then it asks kmemleak for a scan, prints its report and a last line
 * that says the check got that far, and powers the machine off.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define DEBUGFS		"/sys/kernel/debug"
#define KMEMLEAK	DEBUGFS "/kmemleak"
#define KUNIT		DEBUGFS "/kunit"
#define PINGPONG	DEBUGFS "/dibs_pingpong"
#define BENCH_RUN	DEBUGFS "/dibs_bench/run"
#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define MAX_POINTS	1000
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define RESULTS_MAX	4096
/* A run of the ping-pong client with more rounds than the sweep's. */
#define PINGPONG_BASE	"rounds=64 size=4096"
#define SWEEP_ROUNDS	"8"
#define PINGPONG_SWEEP	"rounds=" SWEEP_ROUNDS " size=65536"

static void say(const char *what)
{
	fprintf(stderr, "dibs-leakcheck: %s: %s\n", what, strerror(errno));
}

static int write_str(const char *path, const char *val)
{
	size_t len = strlen(val);
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, len) == (ssize_t)len;
	close(fd);
	return ok ? 0 : -1;
}

/* Read a whole file into @buf, NUL-terminated; its length or -1. */
static ssize_t read_str(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while (len < size - 1 &&
	       (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return len;
}

static void print_file(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		say(path);
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	close(fd);
	fflush(stdout);
}

/* Let allocations that may sleep fail, and keep the console quiet. */
static int fault_setup(void)
{
	static const char *const knobs[][2] = {
		{ DEBUGFS "/failslab/ignore-gfp-wait", "N" },
		{ DEBUGFS "/fail_page_alloc/ignore-gfp-wait", "N" },
		{ DEBUGFS "/fail_page_alloc/min-order", "0" },
		{ DEBUGFS "/failslab/verbose", "0" },
		{ DEBUGFS "/fail_page_alloc/verbose", "0" },
		/*
		 * The suites' results are printed from debugfs: keep KUnit's
		 * own lines (KERN_INFO) off the console, but not warnings.
		 */
		{ "/proc/sys/kernel/printk", "5" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		if (write_str(knobs[i][0], knobs[i][1])) {
			say(knobs[i][0]);
			return -1;
		}
	}
	return 0;
}

static int is_fault_suite(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return len > 6 && !strcmp(d->d_name + len - 6, "_fault");
}

/* Run every *_fault suite and print its results between marker lines. */
static void fault_suites(void)
{
	struct dirent **list;
	char path[512];
	int i, n;

	n = scandir(KUNIT, &list, is_fault_suite, alphasort);
	if (n < 0) {
		say(KUNIT);
		return;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), KUNIT "/%s/run", list[i]->d_name);
		if (write_str(path, "run"))
			say(path);
		printf("dibs-fault: results %s\n", list[i]->d_name);
		fflush(stdout);
		snprintf(path, sizeof(path), KUNIT "/%s/results",
			 list[i]->d_name);
		print_file(path);
		printf("dibs-fault: end %s\n", list[i]->d_name);
		fflush(stdout);
		free(list[i]);
	}
	free(list);
}

static int pingpong_state_is(const char *results, const char *state)
{
	char line[64];

	snprintf(line, sizeof(line), "state: %s\n", state);
	return !!strstr(results, line);
}

/* Wait until the run is over; its results go to @buf. */
static int pingpong_wait(const char *results, char *buf)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	int i;

	for (i = 0; i < 2400; i++) {
		if (read_str(results, buf, RESULTS_MAX) < 0)
			return -1;
		if (!pingpong_state_is(buf, "running"))
			return 0;
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "dibs-fault: ping-pong run did not end\n");
	return -1;
}

/*
 * One write of @cmd to @path with allocation @nth of the write failing.
 * Returns the write's errno (0 on success); *@injected says whether it
 * failed one.
 */
static int write_nth(int nth_fd, const char *path, const char *cmd,
		     unsigned int nth, int *injected)
{
	char num[16];
	ssize_t n;
	int fd, err;

	*injected = 0;
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	snprintf(num, sizeof(num), "%u", nth);
	if (pwrite(nth_fd, num, strlen(num), 0) < 0) {
		err = errno;
		close(fd);
		return err;
	}
	n = write(fd, cmd, strlen(cmd));
	err = n < 0 ? errno : 0;
	n = pread(nth_fd, num, sizeof(num) - 1, 0);
	num[n > 0 ? n : 0] = '\0';
	*injected = n > 0 && atoi(num) == 0;
	if (pwrite(nth_fd, "0", 1, 0) != 1)
		say(FAIL_NTH);
	close(fd);
	return err;
}

/*
 * The sweep of the ping-pong client's start on device @dev. A failed write
 * must leave the previous run's results as they were, or show the new run
 * as failed with -ENOMEM (its DMBs could not be set up).
 */
static int pingpong_sweep(const char *dev)
{
	static char base[RESULTS_MAX], now[RESULTS_MAX];
	char start[256], results[256];
	unsigned int nth, failed = 0;
	int nth_fd, err, injected;

	snprintf(start, sizeof(start), PINGPONG "/%s/start", dev);
	snprintf(results, sizeof(results), PINGPONG "/%s/results", dev);
	if (write_str(start, PINGPONG_BASE) || pingpong_wait(results, base) ||
	    !pingpong_state_is(base, "done")) {
		say("pingpong: first run");
		return -1;
	}
	nth_fd = open(FAIL_NTH, O_RDWR);
	if (nth_fd < 0) {
		say(FAIL_NTH);
		return -1;
	}
	for (nth = 1; nth <= MAX_POINTS; nth++) {
		err = write_nth(nth_fd, start, PINGPONG_SWEEP, nth, &injected);
		if (!err) {
			if (pingpong_wait(results, base))
				break;
			if (injected)
				continue;
			printf("dibs-fault: pingpong start on %s: ", dev);
			printf("%u failure points, %u of them fail it\n",
			       nth - 1, failed);
			close(nth_fd);
			return 0;
		}
		failed++;
		if (err != ENOMEM || !injected) {
			printf("dibs-fault: pingpong start, allocation %u failing: ",
			       nth);
			printf("%s, failure %sinjected\n", strerror(err),
			       injected ? "" : "not ");
			break;
		}
		if (read_str(results, now, sizeof(now)) < 0)
			break;
		if (strcmp(now, base) &&
		    !(pingpong_state_is(now, "failed") &&
		      strstr(now, "rounds: " SWEEP_ROUNDS "\n") &&
		      strstr(now, "last_error: -12\n"))) {
			printf("dibs-fault: results changed by a failed start (allocation %u):\n%s",
			       nth, now);
			break;
		}
		memcpy(base, now, sizeof(base));
	}
	close(nth_fd);
	return -1;
}

static int first_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void fault_pingpong(void)
{
	struct dirent **list;
	int i, n, ok;

	n = scandir(PINGPONG, &list, first_entry, alphasort);
	if (n <= 0) {
		printf("dibs-fault: not ok pingpong_start (no device)\n");
		return;
	}
	ok = !pingpong_sweep(list[0]->d_name);
	printf("dibs-fault: %s pingpong_start\n", ok ? "ok" : "not ok");
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/*
 * Check the kernel log of one benchmark run, read from @kmsg: it ended
 * ("done" row, or the "env" row of a run that could not start), and every
 * row that failed says -ENOMEM. Returns the number of failed rows, or -1.
 */
static int bench_log(int kmsg)
{
	char rec[1024];
	int failed = 0, done = 0;
	ssize_t n;
	char *err;

	while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0) {
		rec[n] = '\0';
		if (!strstr(rec, "dibs_bench: {"))
			continue;
		/* A run that cannot start reports an "env" row and ends. */
		if (strstr(rec, "\"row\":\"done\"") ||
		    strstr(rec, "\"row\":\"env\",\"size\""))
			done = 1;
		err = strstr(rec, "\"error\":");
		if (!err)
			continue;
		failed++;
		if (strncmp(err, "\"error\":-12}", 12)) {
			printf("dibs-fault: benchmark row failed otherwise: %s",
			       strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
			return -1;
		}
	}
	return done ? failed : -1;
}

/*
 * The same sweep over a benchmark run with the smallest counts: every run
 * must end, with the rows that lost an allocation reporting -ENOMEM.
 */
static void fault_bench(void)
{
	unsigned int nth, failing = 0;
	int nth_fd, kmsg, err, injected, rows, ok = 0;

	if (write_str("/sys/module/dibs_bench/parameters/reps", "1") ||
	    write_str(BENCH_RUN, "16")) {
		say("bench: first run");
		printf("dibs-fault: not ok bench_run\n");
		return;
	}
	nth_fd = open(FAIL_NTH, O_RDWR);
	/* No devtmpfs here: the kernel log's character device, 1:11. */
	mkdir("/dev", 0755);
	if (mknod("/dev/kmsg", S_IFCHR | 0600, makedev(1, 11)) && errno != EEXIST)
		say("mknod /dev/kmsg");
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (nth_fd < 0 || kmsg < 0) {
		say("bench: open");
		printf("dibs-fault: not ok bench_run\n");
		if (nth_fd >= 0)
			close(nth_fd);
		if (kmsg >= 0)
			close(kmsg);
		return;
	}
	for (nth = 1; nth <= MAX_POINTS; nth++) {
		lseek(kmsg, 0, SEEK_END);
		err = write_nth(nth_fd, BENCH_RUN, "16", nth, &injected);
		rows = bench_log(kmsg);
		if (err || rows < 0) {
			printf("dibs-fault: bench run, allocation %u failing: %s\n",
			       nth, err ? strerror(err) : "bad rows");
			break;
		}
		failing += rows > 0;
		if (!injected) {
			printf("dibs-fault: bench run: %u failure points, %u of them fail a row\n",
			       nth - 1, failing);
			ok = 1;
			break;
		}
	}
	close(kmsg);
	close(nth_fd);
	printf("dibs-fault: %s bench_run\n", ok ? "ok" : "not ok");
}

static int scan(void)
{
	int ok = !write_str(KMEMLEAK, "scan");

	if (!ok)
		say(KMEMLEAK);
	return ok ? 0 : -1;
}

int main(void)
{
	int ok;

	mkdir("/sys", 0755);
	mkdir("/proc", 0755);
	if (mount("none", "/sys", "sysfs", 0, NULL) ||
	    mount("none", "/sys/kernel/debug", "debugfs", 0, NULL) ||
	    mount("none", "/proc", "proc", 0, NULL))
		say("mount");

	if (access(DEBUGFS "/failslab", F_OK)) {
		printf("dibs-fault: not available\n");
	} else if (fault_setup()) {
		printf("dibs-fault: not ok setup\n");
	} else {
		printf("dibs-fault: begin\n");
		fflush(stdout);
		fault_suites();
		fault_pingpong();
		fault_bench();
		printf("dibs-fault: end\n");
	}
	fflush(stdout);

	/* kmemleak reports only objects older than 5 s; scan twice. */
	sleep(6);
	ok = !scan() && !scan();
	if (ok) {
		print_file(KMEMLEAK);
		printf("dibs-leakcheck: done\n");
	}
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 1;
}
