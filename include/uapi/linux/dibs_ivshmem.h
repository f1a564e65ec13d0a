/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The shared region of the DIBS fabric over ivshmem, as the guests' driver
 * and the host's fabric server see it. The protocol is specified in
 * Documentation/networking/dibs-ivshmem.rst; all integers are
 * little-endian.
 */
#ifndef _UAPI_LINUX_DIBS_IVSHMEM_H
#define _UAPI_LINUX_DIBS_IVSHMEM_H

#include <linux/types.h>

#define DIBS_IVSHMEM_MAGIC		"DIBSIVSH"
#define DIBS_IVSHMEM_VERSION_MAJOR	1
#define DIBS_IVSHMEM_VERSION_MINOR	0

#define DIBS_IVSHMEM_HEADER_SIZE	4096
#define DIBS_IVSHMEM_AREA_ALIGN		4096
#define DIBS_IVSHMEM_HEAP_ALIGN		0x100000U
#define DIBS_IVSHMEM_MAX_PEERS		16
#define DIBS_IVSHMEM_MAX_DMBS		4096
#define DIBS_IVSHMEM_MAX_DMB_LEN	0x100000U
#define DIBS_IVSHMEM_FABRIC_MIN		0xff00
#define DIBS_IVSHMEM_FABRIC_MAX		0xfffe
#define DIBS_IVSHMEM_PEER_SIZE		256
#define DIBS_IVSHMEM_MBOX_SIZE		512
#define DIBS_IVSHMEM_MBOX_ENTRIES	8
#define DIBS_IVSHMEM_DESC_SIZE		64
/* A peer whose heartbeat stands still this long is gone. */
#define DIBS_IVSHMEM_HEARTBEAT_TIMEOUT	10

/* MSI-X vectors of a peer's ivshmem function. */
#define DIBS_IVSHMEM_VEC_SIGNAL		0
#define DIBS_IVSHMEM_VEC_CONTROL	1
#define DIBS_IVSHMEM_VECTORS		2

/* Token: bits 0-11 DMB index, 12-15 slot, 16-63 random and not zero. */
#define DIBS_IVSHMEM_TOKEN_IDX_BITS	12
#define DIBS_IVSHMEM_TOKEN_SLOT_BITS	4

/**
 * struct dibs_ivshmem_header - the first 4096 bytes of the region
 * @magic: %DIBS_IVSHMEM_MAGIC, without a terminating NUL.
 * @version_major: %DIBS_IVSHMEM_VERSION_MAJOR.
 * @version_minor: %DIBS_IVSHMEM_VERSION_MINOR.
 * @header_size: %DIBS_IVSHMEM_HEADER_SIZE.
 * @region_size: size of the region (BAR2).
 * @fabric_uuid: random, per region.
 * @fabric_id: %DIBS_IVSHMEM_FABRIC_MIN to %DIBS_IVSHMEM_FABRIC_MAX.
 * @max_peers: slots, 1 to %DIBS_IVSHMEM_MAX_PEERS.
 * @max_dmbs: DMBs per peer, 1 to %DIBS_IVSHMEM_MAX_DMBS.
 * @reserved0: zero.
 * @peer_off: offset of the peer table.
 * @mbox_size: %DIBS_IVSHMEM_MBOX_SIZE.
 * @sig_size: bytes of one signal area.
 * @mbox_off: offset of the event mailboxes.
 * @sig_off: offset of the signal areas.
 * @desc_off: offset of the DMB descriptor tables.
 * @heap_off: offset of the DMB memory.
 * @heap_size: bytes of DMB memory per peer.
 * @server_heartbeat: incremented by the server once a second.
 * @reserved: zero.
 */
struct dibs_ivshmem_header {
	__u8	magic[8];
	__le16	version_major;
	__le16	version_minor;
	__le32	header_size;
	__le64	region_size;
	__u8	fabric_uuid[16];
	__le16	fabric_id;
	__le16	max_peers;
	__le16	max_dmbs;
	__le16	reserved0;
	__le64	peer_off;
	__le32	mbox_size;
	__le32	sig_size;
	__le64	mbox_off;
	__le64	sig_off;
	__le64	desc_off;
	__le64	heap_off;
	__le64	heap_size;
	__le64	server_heartbeat;
	__u8	reserved[3984];
};

/* Values of &dibs_ivshmem_peer.srv_state, written by the server. */
#define DIBS_IVSHMEM_SRV_EMPTY		0
#define DIBS_IVSHMEM_SRV_CONNECTED	1
#define DIBS_IVSHMEM_SRV_GONE		2

/* Values of &dibs_ivshmem_peer.state, written by the peer. */
#define DIBS_IVSHMEM_PEER_DOWN		0
#define DIBS_IVSHMEM_PEER_UP		1
#define DIBS_IVSHMEM_PEER_LEAVING	2

/**
 * struct dibs_ivshmem_peer - an entry of the peer table
 * @srv_state: server: a DIBS_IVSHMEM_SRV_* value.
 * @srv_gen: server: incremented for each peer that connects to the slot.
 * @srv_id: server: the ivshmem ID of the slot's connection (its
 *	IVPosition, and what its doorbell is rung with); never the ID of an
 *	earlier connection.
 * @reserved0: zero.
 * @state: peer: a DIBS_IVSHMEM_PEER_* value.
 * @gen: peer: its generation, one more than the value it found here when
 *	it joined.
 * @gid: peer: the GID of its DIBS device.
 * @heartbeat: peer: incremented once a second while up.
 * @moves_begun: peer: moves into other peers' DMBs begun.
 * @moves_done: peer: moves ended.
 * @ack_gen: peer: for each slot, the @gen up to which this peer has let go
 *	of everything of the slot's earlier occupants.
 * @conn_gen: peer: the @srv_gen of the connection it joined in.
 * @reserved: zero.
 */
struct dibs_ivshmem_peer {
	__le32	srv_state;
	__le32	srv_gen;
	__le32	srv_id;
	__le32	reserved0;
	__le32	state;
	__le32	gen;
	__u8	gid[16];
	__le64	heartbeat;
	__le64	moves_begun;
	__le64	moves_done;
	__le32	ack_gen[DIBS_IVSHMEM_MAX_PEERS];
	__le32	conn_gen;
	__u8	reserved[124];
};

/**
 * struct dibs_ivshmem_event - an entry of an event mailbox
 * @code: the event code of signal_event().
 * @trigger: its trigger_irq argument.
 * @info: its info argument.
 * @reserved: zero.
 */
struct dibs_ivshmem_event {
	__le32	code;
	__le32	trigger;
	__le64	info;
	__u8	reserved[16];
};

/**
 * struct dibs_ivshmem_mbox - the event mailbox from one slot to another
 * @head: sender: events posted, modulo 2^32.
 * @gen: sender: its generation when it posted the last one.
 * @tail: receiver: events taken, modulo 2^32.
 * @reserved0: zero.
 * @entries: entry i % %DIBS_IVSHMEM_MBOX_ENTRIES holds event i.
 * @reserved: zero.
 */
struct dibs_ivshmem_mbox {
	__le32	head;
	__le32	gen;
	__le32	tail;
	__u8	reserved0[20];
	struct dibs_ivshmem_event entries[DIBS_IVSHMEM_MBOX_ENTRIES];
	__u8	reserved[224];
};

/**
 * struct dibs_ivshmem_desc - a DMB descriptor, written by the DMB's owner
 * @token: 0 while the DMB is not registered.
 * @len: length, 1 to %DIBS_IVSHMEM_MAX_DMB_LEN.
 * @writer: slot of the one peer that may write the DMB.
 * @reserved0: zero.
 * @offset: region offset of the DMB's memory, in the owner's heap.
 * @writer_gen: generation of the writer at registration.
 * @reserved1: zero.
 * @writer_gid: GID of the writer at registration.
 * @reserved: zero.
 */
struct dibs_ivshmem_desc {
	__le64	token;
	__le32	len;
	__le16	writer;
	__le16	reserved0;
	__le64	offset;
	__le32	writer_gen;
	__le32	reserved1;
	__u8	writer_gid[16];
	__u8	reserved[16];
};

#endif /* _UAPI_LINUX_DIBS_IVSHMEM_H */
