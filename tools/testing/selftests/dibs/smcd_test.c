// SPDX-License-Identifier: GPL-2.0
/*
 * Move data over SMC-D, the DIBS client, and prove that DIBS carried it.
 *
 * One run: a server and a client AF_SMC socket on 127.0.0.1 (the server is
 * a forked child), or one of them for a run between two hosts (-s, -c), N
 * bytes each way with every byte verified, received with recv() or with
 * splice() into a pipe. While the connection is up the ends on this host
 * must show the expected mode in smc_diag; afterwards SMC's statistics
 * must show one more SMC-D v2 success for each of them (mode smcd) or none
 * (mode fallback). The UEID that SMC-D v2 needs off s390 is added through SMC's
 * generic netlink family first.
 *
 *   smcd_test [-n BYTES] [-r recv|splice] [-m smcd|fallback] [-t]
 *             [-p PORT] [-w SECONDS] [-s | -c IPV4_ADDRESS]
 *   smcd_test -l
 *
 *   -s   only the server, on every address, for a client on another host
 *        (smcd_test -c); it checks its own end in smc_diag and its own
 *        statistics, one SMC-D v2 success as a server
 *   -c   only the client, connecting to a server smcd_test -s on another
 *        host at that address; it checks its own end likewise
 *   -t   the server is a plain TCP socket, so the client must fall back
 *        (the negative control; use with -m fallback); with -s, this
 *        host's server is that socket
 *   -w   after the first half of the client's data, wait this long (for
 *        tests that take the DIBS device away under an open connection);
 *        a connection that is then aborted is reported, exit status 2
 *   -l   only list SMC-D's link groups, one line each:
 *        "lgr ID conns N" (ID in hex, N its connections)
 *
 * Exit status: 0 on success, 1 on a failed check, 2 if the connection was
 * aborted (with -w).
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/smc.h>
#include <linux/smc_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_SMC
#define AF_SMC 43
#endif
#define SMCPROTO_SMC 0

#define UEID "DIBS-SMCD-SELFTEST"
#define CHUNK (256 * 1024)
#define NL_BUF 65536

static unsigned long long nbytes = 64ULL << 20;
static bool use_splice;
static bool expect_smcd = true;
static bool tcp_server;
static unsigned int port = 37123;
static unsigned int wait_s;
/* Only one end: the server (-s), or the client of a remote server (-c). */
static bool serve_only;
static struct in_addr remote;
/* When the client's data started to flow: after connect() and smc_diag. */
static struct timespec data_t0;
/* The server, while the client runs in the parent; 0 in the server. */
static pid_t server_pid;

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "smcd_test: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* Leave no server behind: its socket would hold smc. */
	if (server_pid > 0) {
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
	}
	exit(1);
}

/* ---- the data: a pattern every byte of which can be checked ---- */

/* The 8 bytes at offset 8 * @word of stream @seed. */
static uint64_t pattern_word(unsigned int seed, unsigned long long word)
{
	uint64_t x = word * 0x9e3779b97f4a7c15ULL + seed;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 32);
}

/* Bytes @off .. @off + @len of stream @seed. */
static void fill(uint8_t *buf, size_t len, unsigned int seed,
		 unsigned long long off)
{
	unsigned long long word = off / 8;
	unsigned int skip = off % 8;
	uint64_t w;
	size_t n;

	while (len) {
		w = pattern_word(seed, word++);
		n = 8 - skip < len ? 8 - skip : len;
		memcpy(buf, (uint8_t *)&w + skip, n);
		buf += n;
		len -= n;
		skip = 0;
	}
}

static void check(const uint8_t *buf, size_t len, unsigned int seed,
		  unsigned long long off)
{
	static uint8_t want[CHUNK];
	size_t i;

	fill(want, len, seed, off);
	if (!memcmp(buf, want, len))
		return;
	for (i = 0; buf[i] == want[i]; i++)
		;
	fail("byte %llu is 0x%02x, not 0x%02x", off + i, buf[i], want[i]);
}

static int send_all(int fd, unsigned int seed, unsigned long long from,
		    unsigned long long to)
{
	static uint8_t buf[CHUNK];
	unsigned long long off = from;
	size_t len, done;
	ssize_t n;

	while (off < to) {
		len = to - off < CHUNK ? to - off : CHUNK;
		fill(buf, len, seed, off);
		for (done = 0; done < len; done += n) {
			n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				n = 0;
			else if (n <= 0)
				return -errno;
		}
		off += len;
	}
	return 0;
}

/* Read from @fd (a socket, or a pipe fed by splice()) and check. */
static ssize_t read_some(int fd, uint8_t *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static int recv_all(int fd, unsigned int seed)
{
	static uint8_t buf[CHUNK];
	unsigned long long off = 0;
	int pipefd[2] = { -1, -1 };
	ssize_t n, got, r;
	size_t want;

	if (use_splice && pipe(pipefd))
		fail("pipe: %s", strerror(errno));
	while (off < nbytes) {
		want = nbytes - off < CHUNK ? nbytes - off : CHUNK;
		if (!use_splice) {
			n = recv(fd, buf, want, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n ? -errno : -ECONNRESET;
			check(buf, n, seed, off);
			off += n;
			continue;
		}
		/* A pipe holds 64 KiB by default: splice at most that. */
		if (want > 65536)
			want = 65536;
		n = splice(fd, NULL, pipefd[1], NULL, want, SPLICE_F_MOVE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		for (got = 0; got < n; got += r) {
			r = read_some(pipefd[0], buf + got, n - got);
			if (r <= 0)
				fail("read from the pipe: %s", strerror(errno));
		}
		check(buf, n, seed, off);
		off += n;
	}
	if (use_splice) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
	return 0;
}

/* ---- netlink ---- */

static int nl_open(int proto)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		fail("netlink socket %d: %s", proto, strerror(errno));
	return fd;
}

static void nl_send(int fd, struct nlmsghdr *nlh)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) != (ssize_t)nlh->nlmsg_len)
		fail("netlink send: %s", strerror(errno));
}

/*
 * Receive the answer to a request and call @fn for each message; returns
 * the error of an NLMSG_ERROR answer (0 for an acknowledgment).
 */
static int nl_recv(int fd, void (*fn)(struct nlmsghdr *, void *), void *arg)
{
	static uint64_t buf[NL_BUF / sizeof(uint64_t)];
	struct nlmsghdr *nlh;
	ssize_t len;

	for (;;) {
		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0)
			fail("netlink receive: %s", strerror(errno));
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(nlh))->error;
			if (fn)
				fn(nlh, arg);
			if (!(nlh->nlmsg_flags & NLM_F_MULTI))
				return 0;
		}
	}
}

static void *nla_payload(struct nlattr *nla)
{
	return (char *)nla + NLA_HDRLEN;
}

static int nla_payload_len(struct nlattr *nla)
{
	return nla->nla_len - NLA_HDRLEN;
}

/* The attribute of @type among the @len bytes of attributes at @head. */
static struct nlattr *nla_find(struct nlattr *head, int len, int type)
{
	struct nlattr *nla = head;

	while (len >= (int)sizeof(*nla) && nla->nla_len >= sizeof(*nla) &&
	       nla->nla_len <= len) {
		if ((nla->nla_type & NLA_TYPE_MASK) == type)
			return nla;
		len -= NLA_ALIGN(nla->nla_len);
		nla = (struct nlattr *)((char *)nla + NLA_ALIGN(nla->nla_len));
	}
	return NULL;
}

static void nla_put(struct nlmsghdr *nlh, int type, const void *data,
		    int len)
{
	struct nlattr *nla = (struct nlattr *)((char *)nlh +
					       NLMSG_ALIGN(nlh->nlmsg_len));

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	memcpy(nla_payload(nla), data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(nla->nla_len);
}

struct genl_req {
	struct nlmsghdr nlh;
	struct genlmsghdr genl;
	char attrs[256];
};

static void genl_init(struct genl_req *req, int family, int cmd, int flags)
{
	memset(req, 0, sizeof(*req));
	req->nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req->nlh.nlmsg_type = family;
	req->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	req->genl.cmd = cmd;
	req->genl.version = 1;
}

static struct nlattr *genl_attrs(struct nlmsghdr *nlh, int *len)
{
	*len = nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	return (struct nlattr *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
}

static void family_cb(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *attrs, *id;
	int len;

	attrs = genl_attrs(nlh, &len);
	id = nla_find(attrs, len, CTRL_ATTR_FAMILY_ID);
	if (id)
		*(int *)arg = *(uint16_t *)nla_payload(id);
}

static int smc_family(int fd)
{
	struct genl_req req;
	int family = -1, ret;

	genl_init(&req, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	nla_put(&req.nlh, CTRL_ATTR_FAMILY_NAME, SMC_GENL_FAMILY_NAME,
		sizeof(SMC_GENL_FAMILY_NAME));
	nl_send(fd, &req.nlh);
	ret = nl_recv(fd, family_cb, &family);
	if (ret || family < 0)
		fail("no generic netlink family %s (%d): is smc loaded?",
		     SMC_GENL_FAMILY_NAME, ret);
	return family;
}

/* SMC-D v2 off s390 needs a user-defined EID: 32 characters, blank-padded. */
static void add_ueid(int fd, int family)
{
	char ueid[SMC_MAX_EID_LEN + 1];
	struct genl_req req;
	int ret;

	memset(ueid, ' ', SMC_MAX_EID_LEN);
	memcpy(ueid, UEID, strlen(UEID));
	ueid[SMC_MAX_EID_LEN] = '\0';
	genl_init(&req, family, SMC_NETLINK_ADD_UEID, NLM_F_ACK);
	nla_put(&req.nlh, SMC_NLA_EID_TABLE_ENTRY, ueid, sizeof(ueid));
	nl_send(fd, &req.nlh);
	ret = nl_recv(fd, NULL, NULL);
	if (ret && ret != -EEXIST)
		fail("adding the UEID: %s", strerror(-ret));
}

struct smcd_stats {
	unsigned long long clnt_v2, srv_v2, clnt_hs_err, srv_hs_err;
	bool seen;
};

static unsigned long long nla_u64(struct nlattr *nla)
{
	uint64_t v = 0;

	if (nla && nla_payload_len(nla) == sizeof(v))
		memcpy(&v, nla_payload(nla), sizeof(v));
	return v;
}

static void stats_cb(struct nlmsghdr *nlh, void *arg)
{
	struct smcd_stats *st = arg;
	struct nlattr *attrs, *stats, *tech;
	int len;

	attrs = genl_attrs(nlh, &len);
	stats = nla_find(attrs, len, SMC_GEN_STATS);
	if (!stats)
		return;
	st->clnt_hs_err = nla_u64(nla_find(nla_payload(stats),
					   nla_payload_len(stats),
					   SMC_NLA_STATS_CLNT_HS_ERR_CNT));
	st->srv_hs_err = nla_u64(nla_find(nla_payload(stats),
					  nla_payload_len(stats),
					  SMC_NLA_STATS_SRV_HS_ERR_CNT));
	tech = nla_find(nla_payload(stats), nla_payload_len(stats),
			SMC_NLA_STATS_SMCD_TECH);
	if (!tech)
		return;
	st->clnt_v2 = nla_u64(nla_find(nla_payload(tech), nla_payload_len(tech),
				       SMC_NLA_STATS_T_CLNT_V2_SUCC));
	st->srv_v2 = nla_u64(nla_find(nla_payload(tech), nla_payload_len(tech),
				      SMC_NLA_STATS_T_SRV_V2_SUCC));
	st->seen = true;
}

static struct smcd_stats get_stats(int fd, int family)
{
	struct smcd_stats st = { 0 };
	struct genl_req req;
	int ret;

	genl_init(&req, family, SMC_NETLINK_GET_STATS, NLM_F_DUMP);
	nl_send(fd, &req.nlh);
	ret = nl_recv(fd, stats_cb, &st);
	if (ret || !st.seen)
		fail("reading SMC statistics: %d", ret);
	return st;
}

/* ---- link groups ---- */

static unsigned int nla_u32(struct nlattr *nla)
{
	uint32_t v = 0;

	if (nla && nla_payload_len(nla) == sizeof(v))
		memcpy(&v, nla_payload(nla), sizeof(v));
	return v;
}

static void lgr_cb(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *attrs, *lgr;
	int len;

	attrs = genl_attrs(nlh, &len);
	lgr = nla_find(attrs, len, SMC_GEN_LGR_SMCD);
	if (!lgr)
		return;
	printf("lgr %08x conns %u\n",
	       nla_u32(nla_find(nla_payload(lgr), nla_payload_len(lgr),
				SMC_NLA_LGR_D_ID)),
	       nla_u32(nla_find(nla_payload(lgr), nla_payload_len(lgr),
				SMC_NLA_LGR_D_CONNS_NUM)));
}

static void list_lgrs(int fd, int family)
{
	struct genl_req req;
	int ret;

	genl_init(&req, family, SMC_NETLINK_GET_LGR_SMCD, NLM_F_DUMP);
	nl_send(fd, &req.nlh);
	ret = nl_recv(fd, lgr_cb, NULL);
	if (ret)
		fail("listing SMC-D link groups: %s", strerror(-ret));
}

/* ---- smc_diag ---- */

struct diag_seen {
	int client_mode, server_mode;
};

static void diag_cb(struct nlmsghdr *nlh, void *arg)
{
	struct smc_diag_msg *msg = NLMSG_DATA(nlh);
	struct diag_seen *seen = arg;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*msg)))
		return;
	/* The listener has no peer; skip it. */
	if (!msg->id.idiag_dport)
		return;
	if (ntohs(msg->id.idiag_dport) == port)
		seen->client_mode = msg->diag_mode;
	else if (ntohs(msg->id.idiag_sport) == port)
		seen->server_mode = msg->diag_mode;
}

static struct diag_seen query_diag(void)
{
	struct {
		struct nlmsghdr nlh;
		struct smc_diag_req req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.req = { .diag_family = AF_SMC },
	};
	struct diag_seen seen = { -1, -1 };
	int fd = nl_open(NETLINK_SOCK_DIAG);

	nl_send(fd, &msg.nlh);
	if (nl_recv(fd, diag_cb, &seen))
		fail("smc_diag dump failed: is smc_diag loaded?");
	close(fd);
	return seen;
}

static const char *mode_name(int mode)
{
	switch (mode) {
	case SMC_DIAG_MODE_SMCD:
		return "SMCD";
	case SMC_DIAG_MODE_SMCR:
		return "SMCR";
	case SMC_DIAG_MODE_FALLBACK_TCP:
		return "TCP";
	default:
		return "none";
	}
}

/* ---- the run ---- */

static int listen_socket(void)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(serve_only ? INADDR_ANY :
					  INADDR_LOOPBACK),
	};
	int one = 1, fd;

	fd = tcp_server ? socket(AF_INET, SOCK_STREAM, 0) :
			  socket(AF_SMC, SOCK_STREAM, SMCPROTO_SMC);
	if (fd < 0)
		fail("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1))
		fail("bind/listen on port %u: %s", port, strerror(errno));
	return fd;
}

/*
 * The ends of this host in smc_diag while the connection is up; the
 * server's may lag. Only the client's if the server is a TCP socket or on
 * another host, only the server's with -s.
 */
static void check_diag(void)
{
	const int want = expect_smcd ? SMC_DIAG_MODE_SMCD :
				       SMC_DIAG_MODE_FALLBACK_TCP;
	bool server = !tcp_server && (serve_only || !remote.s_addr);
	bool client = !serve_only;
	struct diag_seen seen;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		seen = query_diag();
		if ((!client || seen.client_mode == want) &&
		    (!server || seen.server_mode == want))
			break;
		usleep(100 * 1000);
	}
	printf("smcd_test: smc_diag: client %s, server %s\n",
	       client ? mode_name(seen.client_mode) : "(other host)",
	       server ? mode_name(seen.server_mode) :
	       tcp_server ? "(TCP socket)" : "(other host)");
	fflush(stdout);
	if ((client && seen.client_mode != want) ||
	    (server && seen.server_mode != want))
		fail("smc_diag shows the wrong mode (want %s)",
		     mode_name(want));
}

/*
 * The server's data is sent once send() returns, not yet received: wait
 * for the client to close its end after reading all of it, so that a
 * server on another host can exit (and its host power off) at once.
 */
static int wait_close(int fd)
{
	char c;
	ssize_t n;

	if (shutdown(fd, SHUT_WR))
		return -errno;
	do {
		n = recv(fd, &c, 1, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? -EPROTO : 0;
}

static double seconds_between(const struct timespec *a,
			      const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

static int run_server(int lfd)
{
	int fd, ret;

	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		fail("accept: %s", strerror(errno));
	if (serve_only)
		check_diag();
	ret = recv_all(fd, 1);
	if (!ret)
		ret = send_all(fd, 2, 0, nbytes);
	if (!ret)
		ret = wait_close(fd);
	if (ret)
		fprintf(stderr, "smcd_test: server: %s\n", strerror(-ret));
	close(fd);
	return ret ? 2 : 0;
}

static int run_client(void)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = remote.s_addr ? remote.s_addr :
						   htonl(INADDR_LOOPBACK),
	};
	int fd, ret;

	fd = socket(AF_SMC, SOCK_STREAM, SMCPROTO_SMC);
	if (fd < 0)
		fail("socket(AF_SMC): %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		fail("connect: %s", strerror(errno));
	check_diag();
	clock_gettime(CLOCK_MONOTONIC, &data_t0);

	ret = send_all(fd, 1, 0, nbytes / 2);
	if (!ret && wait_s) {
		printf("smcd_test: waiting %u s with the connection open\n",
		       wait_s);
		fflush(stdout);
		sleep(wait_s);
	}
	if (!ret)
		ret = send_all(fd, 1, nbytes / 2, nbytes);
	if (!ret)
		ret = recv_all(fd, 2);
	close(fd);
	if (ret)
		fprintf(stderr, "smcd_test: client: %s\n", strerror(-ret));
	return ret ? 2 : 0;
}

int main(int argc, char **argv)
{
	unsigned long long want_clnt, want_srv;
	struct smcd_stats before, after;
	int opt, nl, family, lfd, status, ret;
	bool list = false;
	struct timespec t0, t1;
	double secs;
	pid_t pid;

	while ((opt = getopt(argc, argv, "n:r:m:tp:w:lsc:")) != -1) {
		switch (opt) {
		case 'n':
			nbytes = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			use_splice = !strcmp(optarg, "splice");
			break;
		case 'm':
			expect_smcd = !strcmp(optarg, "smcd");
			break;
		case 't':
			tcp_server = true;
			break;
		case 'p':
			port = strtoul(optarg, NULL, 0);
			break;
		case 'w':
			wait_s = strtoul(optarg, NULL, 0);
			break;
		case 'l':
			list = true;
			break;
		case 's':
			serve_only = true;
			break;
		case 'c':
			if (inet_pton(AF_INET, optarg, &remote) != 1 ||
			    !remote.s_addr)
				fail("not an IPv4 address: %s", optarg);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-n BYTES] [-r recv|splice] [-m smcd|fallback]\n"
				"       [-t] [-p PORT] [-w SECONDS] [-s | -c IPV4_ADDRESS]\n"
				"       %s -l\n", argv[0], argv[0]);
			return 1;
		}
	}
	if (!nbytes || nbytes % 2)
		fail("the byte count must be even and not 0");
	if (serve_only && remote.s_addr)
		fail("-s and -c exclude each other");

	nl = nl_open(NETLINK_GENERIC);
	family = smc_family(nl);
	if (list) {
		list_lgrs(nl, family);
		return 0;
	}
	add_ueid(nl, family);
	before = get_stats(nl, family);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (serve_only) {
		lfd = listen_socket();
		printf("smcd_test: listening on port %u\n", port);
		fflush(stdout);
		ret = run_server(lfd);
		close(lfd);
	} else if (remote.s_addr) {
		ret = run_client();
	} else {
		lfd = listen_socket();
		pid = fork();
		if (pid < 0)
			fail("fork: %s", strerror(errno));
		if (!pid)
			_exit(run_server(lfd));
		server_pid = pid;
		close(lfd);

		ret = run_client();
		if (waitpid(pid, &status, 0) != pid)
			fail("waitpid: %s", strerror(errno));
		server_pid = 0;
		if (!ret && (!WIFEXITED(status) || WEXITSTATUS(status)))
			ret = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret)
		return ret;
	secs = seconds_between(&t0, &t1);
	printf("smcd_test: %llu bytes each way verified (%s) in %.1f s\n",
	       nbytes, use_splice ? "splice" : "recv", secs);
	if (!serve_only) {
		/* Both directions, from the client's first byte to its last. */
		secs = seconds_between(&data_t0, &t1);
		printf("smcd_test: data_seconds: %.6f\n", secs);
	}

	after = get_stats(nl, family);
	printf("smcd_test: SMC-D v2 successes: client %llu -> %llu, server %llu -> %llu\n",
	       before.clnt_v2, after.clnt_v2, before.srv_v2, after.srv_v2);
	/* The ends on this host count one success each, or none. */
	want_clnt = before.clnt_v2 + (expect_smcd && !serve_only);
	want_srv = before.srv_v2 + (expect_smcd && !remote.s_addr);
	if (after.clnt_v2 != want_clnt || after.srv_v2 != want_srv)
		fail(expect_smcd ?
		     "SMC-D v2 successes did not go up by one on each end here" :
		     "SMC-D was used where a fallback was expected");
	close(nl);
	return 0;
}
