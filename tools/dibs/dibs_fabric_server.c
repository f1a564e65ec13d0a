// SPDX-License-Identifier: GPL-2.0
/*
 * dibs_fabric_server: the host side of the DIBS fabric over ivshmem.
 *
 * It speaks QEMU's ivshmem server protocol (ivshmem-spec.txt, "The ivshmem
 * Client-Server Protocol") on a UNIX socket, to which QEMU's
 * ivshmem-doorbell devices connect. It creates the shared region, lays out
 * the header of Documentation/networking/dibs-ivshmem.rst, hands each peer
 * its slot, an ivshmem ID of its own, the region and the eventfds of every
 * peer's interrupt vectors, and keeps the server's part of the peer table: a peer that connects is
 * marked connected with a new generation, one that disconnects (or sends
 * anything: clients of this protocol only listen) is marked gone, and the
 * other peers are told through the protocol and through their control
 * vector. It runs in the foreground until SIGINT or SIGTERM.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/dibs_ivshmem.h>

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define PROTOCOL_VERSION	0
#define MIB			0x100000ULL

/*
 * One slot of the fabric; @fd is -1 while no peer holds it. @id is the
 * ivshmem ID of its connection: QEMU's ivshmem-doorbell frees a peer's
 * doorbells when the peer leaves and cannot take its ID again, so every
 * connection gets a new one, and the region says which slot has which.
 */
struct slot {
	int fd;
	uint32_t id;
	int efd[DIBS_IVSHMEM_VECTORS];
};

static struct {
	const char *socket_path;
	uint64_t size;
	unsigned int max_peers;
	unsigned int max_dmbs;
	int fabric_id;
	bool verbose;
	int listen_fd;
	int shm_fd;
	uint32_t next_id;
	uint8_t *region;
	struct slot slots[DIBS_IVSHMEM_MAX_PEERS];
} srv = { .fabric_id = -1, .listen_fd = -1, .shm_fd = -1 };

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) / a * a;
}

static void say(const char *fmt, ...)
{
	va_list ap;

	if (!srv.verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void help(FILE *out)
{
	fprintf(out,
		"usage: dibs_fabric_server -s SOCKET [-m MIB] [-n PEERS] [-d DMBS] [-f FABRIC_ID] [-v]\n"
		"\n"
		"  -s SOCKET     UNIX socket for QEMU's ivshmem-doorbell chardevs\n"
		"  -m MIB        size of the shared region in MiB, a power of 2 (default 64)\n"
		"  -n PEERS      most peers at once, 1 to %d (default 8)\n"
		"  -d DMBS       DMBs per peer, 1 to %d (default 1024)\n"
		"  -f FABRIC_ID  fabric id, 0x%x to 0x%x (default: random)\n"
		"  -v            log connections to standard error\n",
		DIBS_IVSHMEM_MAX_PEERS, DIBS_IVSHMEM_MAX_DMBS,
		DIBS_IVSHMEM_FABRIC_MIN, DIBS_IVSHMEM_FABRIC_MAX);
}

static bool parse_uint(const char *s, unsigned long min, unsigned long max,
		       unsigned long *val)
{
	char *end;

	errno = 0;
	*val = strtoul(s, &end, 0);
	return !errno && *s && !*end && *s != '-' && *val >= min && *val <= max;
}

/* Where each area of the region lies, as the header says. */
struct layout {
	uint64_t peer_off, mbox_off, sig_off, desc_off, heap_off, heap_size;
	uint32_t sig_size;
};

static int compute_layout(struct layout *l)
{
	uint64_t n = srv.max_peers, d = srv.max_dmbs, end;

	/* Pending bitmap, masks, attached bitmap. */
	l->sig_size = align_up(2 * align_up((d + 7) / 8, 64) + 4 * d,
			       DIBS_IVSHMEM_AREA_ALIGN);
	l->peer_off = DIBS_IVSHMEM_HEADER_SIZE;
	l->mbox_off = l->peer_off + align_up(n * DIBS_IVSHMEM_PEER_SIZE,
					     DIBS_IVSHMEM_AREA_ALIGN);
	l->sig_off = l->mbox_off + align_up(n * n * DIBS_IVSHMEM_MBOX_SIZE,
					    DIBS_IVSHMEM_AREA_ALIGN);
	l->desc_off = l->sig_off + n * n * l->sig_size;
	end = l->desc_off + align_up(n * d * DIBS_IVSHMEM_DESC_SIZE,
				     DIBS_IVSHMEM_AREA_ALIGN);
	l->heap_off = align_up(end, DIBS_IVSHMEM_HEAP_ALIGN);
	if (l->heap_off >= srv.size)
		return -1;
	l->heap_size = (srv.size - l->heap_off) / n / MIB * MIB;
	return l->heap_size ? 0 : -1;
}

static void write_header(const struct layout *l)
{
	struct dibs_ivshmem_header *h = (void *)srv.region;

	memcpy(h->magic, DIBS_IVSHMEM_MAGIC, sizeof(h->magic));
	h->version_major = htole16(DIBS_IVSHMEM_VERSION_MAJOR);
	h->version_minor = htole16(DIBS_IVSHMEM_VERSION_MINOR);
	h->header_size = htole32(DIBS_IVSHMEM_HEADER_SIZE);
	h->region_size = htole64(srv.size);
	h->fabric_id = htole16(srv.fabric_id);
	h->max_peers = htole16(srv.max_peers);
	h->max_dmbs = htole16(srv.max_dmbs);
	h->peer_off = htole64(l->peer_off);
	h->mbox_size = htole32(DIBS_IVSHMEM_MBOX_SIZE);
	h->sig_size = htole32(l->sig_size);
	h->mbox_off = htole64(l->mbox_off);
	h->sig_off = htole64(l->sig_off);
	h->desc_off = htole64(l->desc_off);
	h->heap_off = htole64(l->heap_off);
	h->heap_size = htole64(l->heap_size);
}

static int make_region(void)
{
	struct dibs_ivshmem_header *h;
	struct layout l;
	uint16_t r;

	if (compute_layout(&l)) {
		fprintf(stderr, "dibs_fabric_server: %llu MiB leave less than 1 MiB ",
			(unsigned long long)(srv.size / MIB));
		fprintf(stderr, "of DMB memory per peer for %u peers with %u DMBs each\n",
			srv.max_peers, srv.max_dmbs);
		return -1;
	}
	srv.shm_fd = memfd_create("dibs-fabric", MFD_CLOEXEC);
	if (srv.shm_fd < 0 || ftruncate(srv.shm_fd, srv.size)) {
		perror("dibs_fabric_server: shared memory");
		return -1;
	}
	srv.region = mmap(NULL, srv.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			  srv.shm_fd, 0);
	if (srv.region == MAP_FAILED) {
		perror("dibs_fabric_server: mmap");
		return -1;
	}
	h = (void *)srv.region;
	if (getrandom(h->fabric_uuid, sizeof(h->fabric_uuid), 0) !=
	    sizeof(h->fabric_uuid) ||
	    (srv.fabric_id < 0 && getrandom(&r, sizeof(r), 0) != sizeof(r))) {
		perror("dibs_fabric_server: getrandom");
		return -1;
	}
	if (srv.fabric_id < 0)
		srv.fabric_id = DIBS_IVSHMEM_FABRIC_MIN +
			r % (DIBS_IVSHMEM_FABRIC_MAX - DIBS_IVSHMEM_FABRIC_MIN + 1);
	write_header(&l);
	return 0;
}

static struct dibs_ivshmem_peer *peer_entry(unsigned int s)
{
	const struct dibs_ivshmem_header *h = (void *)srv.region;

	return (void *)(srv.region + le64toh(h->peer_off) +
			(uint64_t)s * DIBS_IVSHMEM_PEER_SIZE);
}

/* The server's half of a peer table entry; ID and generation first. */
static void set_srv_state(unsigned int s, uint32_t state, bool new_gen)
{
	struct dibs_ivshmem_peer *p = peer_entry(s);

	if (new_gen) {
		__atomic_store_n(&p->srv_id, htole32(srv.slots[s].id),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&p->srv_gen,
				 htole32(le32toh(p->srv_gen) + 1),
				 __ATOMIC_RELEASE);
	}
	__atomic_store_n(&p->srv_state, htole32(state), __ATOMIC_RELEASE);
}

/*
 * One message of the protocol: a little-endian 64-bit number, with a file
 * descriptor or none (-1). Never blocks: a peer that does not read its
 * messages is disconnected rather than let stall the others.
 */
static int send_msg(int fd, int64_t value, int passfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	int64_t le = htole64(value);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	if (passfd >= 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &passfd, sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	       (ssize_t)sizeof(le) ? 0 : -1;
}

/* Tell @to the eventfds for interrupting slot @s (or, for @s == @to, its own). */
static int send_vectors(unsigned int to, unsigned int s)
{
	unsigned int v;

	for (v = 0; v < DIBS_IVSHMEM_VECTORS; v++)
		if (send_msg(srv.slots[to].fd, srv.slots[s].id,
			     srv.slots[s].efd[v]))
			return -1;
	return 0;
}

static void ring(unsigned int s, unsigned int vector)
{
	uint64_t one = 1;

	if (write(srv.slots[s].efd[vector], &one, sizeof(one)) != sizeof(one))
		say("dibs_fabric_server: cannot interrupt slot %u\n", s);
}

static void close_slot(unsigned int s)
{
	struct slot *slot = &srv.slots[s];
	unsigned int v;

	close(slot->fd);
	slot->fd = -1;
	for (v = 0; v < DIBS_IVSHMEM_VECTORS; v++) {
		close(slot->efd[v]);
		slot->efd[v] = -1;
	}
}

static void disconnect(unsigned int s);

/* Tell every other peer about slot @s, with its eventfds if @joined. */
static void notify_others(unsigned int s, bool joined)
{
	unsigned int t;
	bool lost[DIBS_IVSHMEM_MAX_PEERS] = { false };

	for (t = 0; t < srv.max_peers; t++) {
		if (t == s || srv.slots[t].fd < 0)
			continue;
		if (joined ? send_vectors(t, s) :
			     send_msg(srv.slots[t].fd, srv.slots[s].id, -1))
			lost[t] = true;
		else
			ring(t, DIBS_IVSHMEM_VEC_CONTROL);
	}
	for (t = 0; t < srv.max_peers; t++)
		if (lost[t] && srv.slots[t].fd >= 0)
			disconnect(t);
}

/* Mark slot @s gone and free it, without telling the others. */
static void drop(unsigned int s)
{
	say("dibs_fabric_server: slot %u gone\n", s);
	set_srv_state(s, DIBS_IVSHMEM_SRV_GONE, false);
	close_slot(s);
}

static void disconnect(unsigned int s)
{
	drop(s);
	notify_others(s, false);
}

static void accept_peer(void)
{
	unsigned int s, t, v;
	struct slot *slot;
	int fd;

	fd = accept4(srv.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (s = 0; s < srv.max_peers && srv.slots[s].fd >= 0; s++)
		;
	if (s == srv.max_peers) {
		say("dibs_fabric_server: refused a peer, all %u slots taken\n",
		    srv.max_peers);
		close(fd);
		return;
	}
	if (srv.next_id > UINT16_MAX) {
		fprintf(stderr,
			"dibs_fabric_server: refused a peer: all %u ivshmem IDs were given out; restart the server\n",
			UINT16_MAX + 1);
		close(fd);
		return;
	}
	slot = &srv.slots[s];
	slot->fd = fd;
	slot->id = srv.next_id++;
	for (v = 0; v < DIBS_IVSHMEM_VECTORS; v++) {
		slot->efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (slot->efd[v] < 0) {
			perror("dibs_fabric_server: eventfd");
			close_slot(s);
			return;
		}
	}
	/* Connected before the peer can see the region. */
	set_srv_state(s, DIBS_IVSHMEM_SRV_CONNECTED, true);

	if (send_msg(fd, PROTOCOL_VERSION, -1) || send_msg(fd, slot->id, -1) ||
	    send_msg(fd, -1, srv.shm_fd))
		goto lost;
	for (t = 0; t < srv.max_peers; t++)
		if (t != s && srv.slots[t].fd >= 0 && send_vectors(s, t))
			goto lost;
	if (send_vectors(s, s))
		goto lost;
	say("dibs_fabric_server: slot %u connected, generation %u, ID %u\n", s,
	    le32toh(peer_entry(s)->srv_gen), slot->id);
	notify_others(s, true);
	return;
lost:
	/* The others were not told of it yet: nothing to take back. */
	drop(s);
}

/* Clients of this protocol only listen: anything they send ends them. */
static void peer_readable(unsigned int s)
{
	char buf[64];
	ssize_t n;

	n = recv(srv.slots[s].fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		say("dibs_fabric_server: slot %u sent data, disconnecting it\n",
		    s);
	disconnect(s);
}

static void heartbeat(void)
{
	struct dibs_ivshmem_header *h = (void *)srv.region;

	__atomic_store_n(&h->server_heartbeat,
			 htole64(le64toh(h->server_heartbeat) + 1),
			 __ATOMIC_RELEASE);
}

static int listen_on(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "dibs_fabric_server: socket path too long\n");
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, 16)) {
		fprintf(stderr, "dibs_fabric_server: %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int parse_args(int argc, char **argv)
{
	unsigned long val;
	int opt;

	srv.size = 64 * MIB;
	srv.max_peers = 8;
	srv.max_dmbs = 1024;
	while ((opt = getopt(argc, argv, "s:m:n:d:f:vh")) != -1) {
		switch (opt) {
		case 's':
			srv.socket_path = optarg;
			break;
		case 'm':
			if (!parse_uint(optarg, 2, 1UL << 20, &val) ||
			    (val & (val - 1))) {
				fprintf(stderr,
					"dibs_fabric_server: -m: a power of 2, 2 to 1048576\n");
				return -1;
			}
			srv.size = val * MIB;
			break;
		case 'n':
			if (!parse_uint(optarg, 1, DIBS_IVSHMEM_MAX_PEERS, &val)) {
				fprintf(stderr, "dibs_fabric_server: -n: 1 to %d\n",
					DIBS_IVSHMEM_MAX_PEERS);
				return -1;
			}
			srv.max_peers = val;
			break;
		case 'd':
			if (!parse_uint(optarg, 1, DIBS_IVSHMEM_MAX_DMBS, &val)) {
				fprintf(stderr, "dibs_fabric_server: -d: 1 to %d\n",
					DIBS_IVSHMEM_MAX_DMBS);
				return -1;
			}
			srv.max_dmbs = val;
			break;
		case 'f':
			if (!parse_uint(optarg, DIBS_IVSHMEM_FABRIC_MIN,
					DIBS_IVSHMEM_FABRIC_MAX, &val)) {
				fprintf(stderr, "dibs_fabric_server: -f: 0x%x to 0x%x\n",
					DIBS_IVSHMEM_FABRIC_MIN,
					DIBS_IVSHMEM_FABRIC_MAX);
				return -1;
			}
			srv.fabric_id = val;
			break;
		case 'v':
			srv.verbose = true;
			break;
		case 'h':
			help(stdout);
			exit(0);
		default:
			help(stderr);
			return -1;
		}
	}
	if (!srv.socket_path || optind != argc) {
		help(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct itimerspec second = { { 1, 0 }, { 1, 0 } };
	struct pollfd pfd[3 + DIBS_IVSHMEM_MAX_PEERS];
	int slot_of[DIBS_IVSHMEM_MAX_PEERS];
	int sfd, tfd, i, n, rc = 1;
	unsigned int s, v;
	sigset_t mask;
	uint64_t ticks;

	if (parse_args(argc, argv))
		return 2;
	for (s = 0; s < ARRAY_SIZE(srv.slots); s++) {
		srv.slots[s].fd = -1;
		for (v = 0; v < DIBS_IVSHMEM_VECTORS; v++)
			srv.slots[s].efd[v] = -1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &second, NULL)) {
		perror("dibs_fabric_server");
		return 1;
	}
	if (make_region())
		return 1;
	srv.listen_fd = listen_on(srv.socket_path);
	if (srv.listen_fd < 0)
		return 1;
	say("dibs_fabric_server: %s: %llu MiB, %u peers, %u DMBs each, fabric 0x%x\n",
	    srv.socket_path, (unsigned long long)(srv.size / MIB),
	    srv.max_peers, srv.max_dmbs, srv.fabric_id);

	for (;;) {
		pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = tfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = srv.listen_fd, .events = POLLIN };
		n = 3;
		for (s = 0; s < srv.max_peers; s++) {
			if (srv.slots[s].fd < 0)
				continue;
			slot_of[n - 3] = s;
			pfd[n++] = (struct pollfd){ .fd = srv.slots[s].fd,
						    .events = POLLIN };
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("dibs_fabric_server: poll");
			break;
		}
		if (pfd[0].revents) {
			rc = 0;
			break;
		}
		if (pfd[1].revents && read(tfd, &ticks, sizeof(ticks)) > 0)
			heartbeat();
		for (i = 3; i < n; i++)
			if (pfd[i].revents && srv.slots[slot_of[i - 3]].fd ==
					      pfd[i].fd)
				peer_readable(slot_of[i - 3]);
		if (pfd[2].revents)
			accept_peer();
	}
	unlink(srv.socket_path);
	return rc;
}
