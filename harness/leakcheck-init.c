// SPDX-License-Identifier: GPL-2.0
/*
 * The /init of the leak-check boot of harness/kunit.sh, built static for
 * the architecture under test. It runs after the built-in KUnit suites:
 * asks kmemleak for a scan, prints its report and a last line that says
 * the check got that far, and powers the machine off.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#define KMEMLEAK "/sys/kernel/debug/kmemleak"

static void say(const char *what)
{
	fprintf(stderr, "dibs-leakcheck: %s: %s\n", what, strerror(errno));
}

static int scan(void)
{
	int fd = open(KMEMLEAK, O_WRONLY);
	int ok;

	if (fd < 0) {
		say("open " KMEMLEAK);
		return -1;
	}
	ok = write(fd, "scan", 4) == 4;
	if (!ok)
		say("scan");
	close(fd);
	return ok ? 0 : -1;
}

static int report(void)
{
	char buf[4096];
	ssize_t n;
	int fd = open(KMEMLEAK, O_RDONLY);

	if (fd < 0) {
		say("open " KMEMLEAK);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	close(fd);
	return n < 0 ? -1 : 0;
}

int main(void)
{
	int ok;

	mkdir("/sys", 0755);
	if (mount("none", "/sys", "sysfs", 0, NULL) ||
	    mount("none", "/sys/kernel/debug", "debugfs", 0, NULL))
		say("mount");
	/* kmemleak reports only objects older than 5 s; scan twice. */
	sleep(6);
	ok = !scan() && !scan() && !report();
	if (ok)
		printf("dibs-leakcheck: done\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 1;
}
