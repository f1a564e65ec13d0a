// SPDX-License-Identifier: GPL-2.0
/*
 * The TCP reference of the DIBS benchmark between two virtual machines:
 * the ping-pong of drivers/dibs/tests/dibs_pingpong.c over a TCP
 * connection, with the same shape. Per round the client sends a message of the round number and
 * the payload size, then SIZE bytes that differ every round; the server
 * checks every byte and answers the same way with its own payload, which
 * the client checks in turn. The round trip of each round is timed.
 *
 *   dibs_tcp_pingpong -s [-p PORT]
 *	serve runs, one connection after another, until killed
 *   dibs_tcp_pingpong -c IPV4_ADDRESS [-p PORT] [-r ROUNDS] [-z SIZE]
 *	run one ping-pong and print its results as dibs_pingpong does
 *	(state, rounds_done, bytes_verified, round_ns_p50, ...)
 *
 * Both ends set TCP_NODELAY, as a latency-sensitive application would: a
 * round trip must not wait for a delayed acknowledgment.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PORT	37300
/* The ping-pong client's bounds on a run. */
#define MAX_ROUNDS	100000
#define MAX_SIZE	(1024 * 1024)

/* The run's parameters, then each round's message: big-endian words. */
struct pp_msg {
	uint32_t a;	/* rounds in the opening message, else the round */
	uint32_t size;
};

static void die(const char *what)
{
	fprintf(stderr, "dibs_tcp_pingpong: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The ping-pong client's payload of round @round from end @from (0 or 1). */
static void fill(uint8_t *buf, uint32_t size, uint32_t round, int from)
{
	uint64_t x = (round * 2ULL + from + 1) * 0x9e3779b97f4a7c15ULL, le;
	uint32_t i;

	for (i = 0; i < size; i += sizeof(x)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		le = htole64(x);
		memcpy(buf + i, &le, size - i < sizeof(le) ? size - i : sizeof(le));
	}
}

/* 0, or -1 with errno set; a connection closed early is EPIPE. */
static int recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = EPIPE;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* The message and payload of round @round from end @from, in one send. */
static int send_round(int fd, uint8_t *buf, uint32_t size, uint32_t round,
		      int from)
{
	struct pp_msg msg = { htonl(round), htonl(size) };

	memcpy(buf, &msg, sizeof(msg));
	fill(buf + sizeof(msg), size, round, from);
	return send_all(fd, buf, sizeof(msg) + size);
}

/* Receive round @round from end @from and check every byte of it. */
static int recv_round(int fd, uint8_t *buf, uint8_t *expect, uint32_t size,
		      uint32_t round, int from)
{
	struct pp_msg msg;

	if (recv_all(fd, &msg, sizeof(msg)) || recv_all(fd, buf, size))
		return -1;
	if (ntohl(msg.a) != round || ntohl(msg.size) != size) {
		errno = EPROTO;
		return -1;
	}
	fill(expect, size, round, from);
	if (memcmp(buf, expect, size)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static void set_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("TCP_NODELAY");
}

/* Answer one run on @fd; the server is end 1. */
static void serve_run(int fd)
{
	uint8_t *buf, *expect;
	struct pp_msg open;
	uint32_t rounds, size, round;

	set_nodelay(fd);
	if (recv_all(fd, &open, sizeof(open)))
		return;
	rounds = ntohl(open.a);
	size = ntohl(open.size);
	if (!rounds || rounds > MAX_ROUNDS || !size || size > MAX_SIZE) {
		fprintf(stderr, "dibs_tcp_pingpong: refusing %u rounds of %u bytes\n",
			rounds, size);
		return;
	}
	buf = malloc(sizeof(struct pp_msg) + size);
	expect = malloc(size);
	if (!buf || !expect)
		die("malloc");
	for (round = 0; round < rounds; round++) {
		if (recv_round(fd, buf, expect, size, round, 0) ||
		    send_round(fd, buf, size, round, 1)) {
			fprintf(stderr, "dibs_tcp_pingpong: round %u: %s\n",
				round, strerror(errno));
			break;
		}
	}
	free(buf);
	free(expect);
}

static int serve(struct sockaddr_in *sa)
{
	int one = 1, lfd, fd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)sa, sizeof(*sa)) || listen(lfd, 4))
		die("bind/listen");
	while ((fd = accept(lfd, NULL, NULL)) >= 0 || errno == EINTR) {
		if (fd < 0)
			continue;
		serve_run(fd);
		close(fd);
	}
	die("accept");
	return 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Run @rounds rounds of @size bytes; the client is end 0. */
static int run(struct sockaddr_in *sa, uint32_t rounds, uint32_t size)
{
	struct pp_msg open = { htonl(rounds), htonl(size) };
	uint64_t *ns, start, t0, bytes = 0;
	uint8_t *buf, *expect;
	uint32_t done = 0;
	int fd, err = 0;

	buf = malloc(sizeof(struct pp_msg) + size);
	expect = malloc(size);
	ns = calloc(rounds, sizeof(*ns));
	if (!buf || !expect || !ns)
		die("malloc");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)sa, sizeof(*sa)))
		die("connect");
	set_nodelay(fd);
	if (send_all(fd, &open, sizeof(open)))
		die("send");

	start = now_ns();
	for (; done < rounds; done++) {
		t0 = now_ns();
		if (send_round(fd, buf, size, done, 0) ||
		    recv_round(fd, buf + sizeof(struct pp_msg), expect, size,
			       done, 1)) {
			err = errno;
			break;
		}
		ns[done] = now_ns() - t0;
		/* Both ends checked the round's payload. */
		bytes += 2ull * size;
	}
	printf("state: %s\n", err ? "failed" : "done");
	printf("rounds: %u\nsize: %u\nrounds_done: %u\n", rounds, size, done);
	printf("bytes_verified: %llu\n", (unsigned long long)bytes);
	printf("errors: %d\n", err ? 1 : 0);
	if (err)
		printf("last_error: %s\n", strerror(err));
	printf("total_ns: %llu\n", (unsigned long long)(now_ns() - start));
	if (done) {
		qsort(ns, done, sizeof(*ns), cmp_u64);
		printf("round_ns_min: %llu\n", (unsigned long long)ns[0]);
		printf("round_ns_p50: %llu\n",
		       (unsigned long long)ns[(done - 1) / 2]);
		printf("round_ns_p99: %llu\n",
		       (unsigned long long)ns[(done - 1) * 99 / 100]);
		printf("round_ns_max: %llu\n", (unsigned long long)ns[done - 1]);
	}
	close(fd);
	free(ns);
	free(expect);
	free(buf);
	return err ? 1 : 0;
}

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: dibs_tcp_pingpong -s [-p PORT]\n"
		"       dibs_tcp_pingpong -c IPV4_ADDRESS [-p PORT] [-r ROUNDS] [-z SIZE]\n");
	exit(2);
}

static unsigned long number(const char *s, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || !v || v > max)
		bad_usage();
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	uint32_t rounds = 1000, size = 64, port = DEFAULT_PORT;
	const char *addr = NULL;
	bool server = false;
	int opt;

	while ((opt = getopt(argc, argv, "sc:p:r:z:")) != -1) {
		switch (opt) {
		case 's':
			server = true;
			break;
		case 'c':
			addr = optarg;
			break;
		case 'p':
			port = number(optarg, 65535);
			break;
		case 'r':
			rounds = number(optarg, MAX_ROUNDS);
			break;
		case 'z':
			size = number(optarg, MAX_SIZE);
			break;
		default:
			bad_usage();
		}
	}
	if (optind != argc || server == !!addr)
		bad_usage();
	sa.sin_port = htons(port);
	if (server)
		return serve(&sa);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		bad_usage();
	return run(&sa, rounds, size);
}
