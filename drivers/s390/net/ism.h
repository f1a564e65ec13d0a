/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IBM ISM (Internal Shared Memory) virtual PCI function: the layouts the
 * function shares with the driver, the transport that reaches it, and the
 * driver's per-function state.
 *
 * Every multi-byte field the function reads or writes is big-endian (ISM
 * was only ever driven from big-endian s390), so all of them are declared
 * __be and converted explicitly; the driver is the same on any architecture.
 */
#ifndef _ISM_H
#define _ISM_H

#include <linux/bitops.h>
#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/dibs.h>
#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/sizes.h>
#include <linux/stddef.h>
#include <linux/types.h>

struct pci_dev;

/* DMB indices of a function; the SBA has one bit and one mask for each. */
#define ISM_NR_DMBS		1920
/*
 * First DMB index the driver hands out. The DMB bits start at SBA byte 4;
 * Linux has always skipped their first 32-bit word (historically to scan
 * 8-byte aligned words), so indices 0-31 are never used.
 */
#define ISM_DMB_BIT_OFFSET	32
/* Largest DMB, after rounding its length up to 4 KiB; also the DMA limit. */
#define ISM_DMB_MAX_LEN		SZ_1M
/* A single store into a DMB must not cross a 4 KiB boundary of the DMB. */
#define ISM_DMB_CHUNK		SZ_4K
/* Highest signalling (DMBE) index: the per-DMB signal mask has 16 bits. */
#define ISM_DMBE_IDX_MAX	15
/* Size of the SBA and of the memory holding the IEQ: one 4 KiB page. */
#define ISM_AREA_SIZE		SZ_4K
/* Entries of the interrupt event queue. */
#define ISM_IEQ_ENTRIES		15

/* Command codes (request header field "cmd"). */
#define ISM_REG_SBA		0x01
#define ISM_REG_IEQ		0x02
#define ISM_READ_GID		0x03
#define ISM_ADD_VLAN_ID		0x04
#define ISM_DEL_VLAN_ID		0x05
#define ISM_SET_VLAN		0x06
#define ISM_RESET_VLAN		0x07
#define ISM_QUERY_INFO		0x08
#define ISM_QUERY_RGID		0x09
#define ISM_REG_DMB		0x0A
#define ISM_UNREG_DMB		0x0B
#define ISM_SIGNAL_IEQ		0x0E
#define ISM_UNREG_SBA		0x11
#define ISM_UNREG_IEQ		0x12

/*
 * Response code meaning "no valid response": what a function that does not
 * answer (for example one in error state) leaves in the response.
 */
#define ISM_ERROR		0xFFFF

/* Event types of IEQ entries. */
#define ISM_EVENT_BUF		0	/* a DMB changed state; tok is its token */
#define ISM_EVENT_DEV		1	/* a peer changed state; tok is its GID */
#define ISM_EVENT_SWR		2	/* signal_event() of a peer; tok: its GID */

/* Event codes of device-generated IEQ entries that DIBS has names for. */
#define ISM_EVENT_CODE_DEV_ERR_STATE		0x01
#define ISM_EVENT_CODE_BUF_UNREGISTERED		0x04
#define ISM_EVENT_CODE_DEV_DISABLED		0x07

/*
 * The 64-bit request word that addresses a store into a remote DMB: the
 * token's upper half, the signalling index, the signalling flag and the
 * byte offset inside the DMB. The token's lower half must be zero.
 */
#define ISM_REQ_TOK_MASK	GENMASK_ULL(63, 32)
#define ISM_REQ_IDX_SHIFT	24
#define ISM_REQ_IDX_MASK	GENMASK_ULL(31, 24)
#define ISM_REQ_SF		BIT_ULL(23)
#define ISM_REQ_OFFSET_MASK	GENMASK_ULL(22, 0)

/**
 * ism_dmb_req() - compose the request word of a store into a DMB
 * @tok: token of the target DMB, with a zero lower half
 * @idx: signalling index, at most %ISM_DMBE_IDX_MAX
 * @sf: signal the owner of the DMB after this store
 * @offset: byte offset inside the DMB, below %ISM_DMB_MAX_LEN
 *
 * Context: any context.
 * Return: the request word.
 */
static inline u64 ism_dmb_req(u64 tok, unsigned int idx, bool sf,
			      unsigned int offset)
{
	return tok | (u64)idx << ISM_REQ_IDX_SHIFT | (sf ? ISM_REQ_SF : 0) |
	       offset;
}

/**
 * struct ism_cmd_hdr - header of every command request and response
 * @cmd: command code; echoed in the response.
 * @ret: zero in the request; in the response 0 for success, otherwise the
 *	function's error code (%ISM_ERROR: no valid response).
 * @len: length of the request or of the response, header included; always
 *	a multiple of 8.
 *
 * The response overwrites the request in the command window.
 */
struct ism_cmd_hdr {
	__be32 cmd;
	__be16 ret;
	__be16 len;
};

/**
 * struct ism_reg_sba - %ISM_REG_SBA request
 * @hdr: the header.
 * @sba: bus address of the 4 KiB signal block area.
 */
struct ism_reg_sba {
	struct ism_cmd_hdr hdr;
	__be64 sba;
};

/**
 * struct ism_reg_ieq - %ISM_REG_IEQ request
 * @hdr: the header.
 * @ieq: bus address of the interrupt event queue.
 * @len: length of the queue in bytes (&struct ism_ieq).
 */
struct ism_reg_ieq {
	struct ism_cmd_hdr hdr;
	__be64 ieq;
	__be64 len;
};

/**
 * struct ism_read_gid - %ISM_READ_GID response (the request is a header)
 * @hdr: the header.
 * @gid: the function's 64-bit GID.
 */
struct ism_read_gid {
	struct ism_cmd_hdr hdr;
	__be64 gid;
};

/**
 * struct ism_vlan - %ISM_ADD_VLAN_ID and %ISM_DEL_VLAN_ID request
 * @hdr: the header.
 * @vlan_id: the VLAN id.
 */
struct ism_vlan {
	struct ism_cmd_hdr hdr;
	__be64 vlan_id;
};

/* Number of VLAN ids a %ISM_QUERY_INFO response can list. */
#define ISM_QUERY_INFO_VLANS	64

/**
 * struct ism_query_info - %ISM_QUERY_INFO response (the request is a header)
 * @hdr: the header.
 * @version: interface version.
 * @max_len: probably the longest command the function accepts.
 * @ism_state: state of the function.
 * @my_gid: the function's GID.
 * @sba: registered SBA address.
 * @ieq: registered IEQ address.
 * @ieq_len: registered IEQ length.
 * @reserved: reserved.
 * @dmbs_owned: DMBs registered by this function.
 * @dmbs_used: DMBs in use.
 * @vlan_required: "VLAN required" flag.
 * @vlan_nr_ids: valid entries of @vlan_id.
 * @vlan_id: VLAN ids the function is a member of.
 *
 * The driver only logs it; the meaning of most fields is undocumented.
 */
struct ism_query_info {
	struct ism_cmd_hdr hdr;
	__be32 version;
	__be32 max_len;
	__be64 ism_state;
	__be64 my_gid;
	__be64 sba;
	__be64 ieq;
	__be32 ieq_len;
	__be32 reserved;
	__be32 dmbs_owned;
	__be32 dmbs_used;
	__be32 vlan_required;
	__be32 vlan_nr_ids;
	__be16 vlan_id[ISM_QUERY_INFO_VLANS];
};

/**
 * struct ism_query_rgid - %ISM_QUERY_RGID request
 * @hdr: the header.
 * @rgid: GID of the remote function.
 * @vlan_valid: non-zero if @vlan_id applies.
 * @vlan_id: the VLAN the remote function must be reachable on.
 *
 * The response is a header; ret 0 means the remote function is reachable.
 */
struct ism_query_rgid {
	struct ism_cmd_hdr hdr;
	__be64 rgid;
	__be32 vlan_valid;
	__be32 vlan_id;
};

/**
 * struct ism_reg_dmb - %ISM_REG_DMB request
 * @hdr: the header.
 * @dmb: bus address of the buffer.
 * @dmb_len: length of the buffer in bytes.
 * @sba_idx: DMB index: its bit and mask in the SBA.
 * @vlan_valid: non-zero if @vlan_id restricts the writer.
 * @vlan_id: the writer's VLAN.
 * @rgid: GID of the only remote function allowed to write the buffer.
 */
struct ism_reg_dmb {
	struct ism_cmd_hdr hdr;
	__be64 dmb;
	__be32 dmb_len;
	__be32 sba_idx;
	__be32 vlan_valid;
	__be32 vlan_id;
	__be64 rgid;
};

/**
 * struct ism_reg_dmb_resp - %ISM_REG_DMB response
 * @hdr: the header.
 * @dmb_tok: token of the new DMB, unique on the fabric.
 */
struct ism_reg_dmb_resp {
	struct ism_cmd_hdr hdr;
	__be64 dmb_tok;
};

/**
 * struct ism_unreg_dmb - %ISM_UNREG_DMB request
 * @hdr: the header.
 * @dmb_tok: token of the DMB.
 */
struct ism_unreg_dmb {
	struct ism_cmd_hdr hdr;
	__be64 dmb_tok;
};

/**
 * struct ism_signal_ieq - %ISM_SIGNAL_IEQ request
 * @hdr: the header.
 * @rgid: GID of the target function.
 * @trigger_irq: non-zero to interrupt the target at once; zero lets the
 *	target's function delay the interrupt.
 * @event_code: client-defined code; arrives as the entry's code.
 * @info: client-defined data; arrives as the entry's info.
 */
struct ism_signal_ieq {
	struct ism_cmd_hdr hdr;
	__be64 rgid;
	__be32 trigger_irq;
	__be32 event_code;
	__be64 info;
};

/* Longest command or response the driver exchanges. */
#define ISM_CMD_MAX_LEN		sizeof(struct ism_query_info)

/**
 * struct ism_sba - the signal block area, written by the function
 * @ctl: control word; bit 31 is the summary bit (some DMB was signalled),
 *	bit 30 the event bit (the IEQ has new entries).
 * @dmb_bits: one bit per DMB index, as a most-significant-bit-first bit
 *	string: index i is byte i / 8, mask 0x80 >> (i % 8).
 * @reserved: reserved.
 * @dmbe_mask: per DMB index, bit n set for every signalling index n used
 *	since the driver last cleared it.
 *
 * Bits are addressed as positions in one MSB-first bit string starting at
 * byte 0; see ism_sba_test_and_clear().
 */
struct ism_sba {
	__be32 ctl;
	u8 dmb_bits[ISM_NR_DMBS / BITS_PER_BYTE];
	u8 reserved[12];
	__be16 dmbe_mask[ISM_NR_DMBS];
};

/* Positions in the SBA's MSB-first bit string (see struct ism_sba). */
#define ISM_SBA_BIT_SUMMARY	0
#define ISM_SBA_BIT_EVENT	1
#define ISM_SBA_BIT_DMB(idx) \
	(offsetof(struct ism_sba, dmb_bits) * BITS_PER_BYTE + (idx))

/**
 * ism_sba_test_and_clear() - atomically clear a bit of the SBA
 * @sba: the SBA, which is page aligned
 * @nr: position in the SBA's MSB-first bit string
 *
 * The function sets SBA bits while the driver clears them, so clearing must
 * be an atomic read-modify-write. The little-endian bit operations address
 * bit n as byte n / 8, mask 1 << (n % 8) on every architecture; flipping
 * the low three bits of @nr turns that into the SBA's MSB-first order.
 *
 * Context: any context.
 * Return: whether the bit was set. Implies a full memory barrier.
 */
static inline bool ism_sba_test_and_clear(struct ism_sba *sba,
					  unsigned int nr)
{
	return test_and_clear_bit_le(nr ^ 7, sba);
}

/**
 * struct ism_ieq_hdr - header of the interrupt event queue
 * @idx: written by the function: 1 + the index of the entry it wrote last,
 *	0 before the first event.
 * @ieq_len: unused by the driver.
 * @entry_len: unused by the driver.
 * @reserved: reserved.
 */
struct ism_ieq_hdr {
	__be64 idx;
	__be64 ieq_len;
	__be64 entry_len;
	__be64 reserved;
};

/**
 * struct ism_eq_entry - one event of the interrupt event queue
 * @type: %ISM_EVENT_BUF, %ISM_EVENT_DEV, %ISM_EVENT_SWR, or unknown.
 * @code: the event code (for %ISM_EVENT_SWR the sender's code).
 * @tok: DMB token (buffer events) or GID of the peer (other events).
 * @time: time stamp.
 * @info: additional data (for %ISM_EVENT_SWR the sender's data).
 */
struct ism_eq_entry {
	__be32 type;
	__be32 code;
	__be64 tok;
	__be64 time;
	__be64 info;
};

/**
 * struct ism_ieq - the interrupt event queue, written by the function
 * @hdr: the header.
 * @entry: the ring of events; the function overwrites unread entries if
 *	more than %ISM_IEQ_ENTRIES arrive between two interrupts.
 */
struct ism_ieq {
	struct ism_ieq_hdr hdr;
	struct ism_eq_entry entry[ISM_IEQ_ENTRIES];
};

static_assert(sizeof(struct ism_cmd_hdr) == 8);
static_assert(sizeof(struct ism_reg_sba) == 16);
static_assert(sizeof(struct ism_reg_ieq) == 24);
static_assert(sizeof(struct ism_read_gid) == 16);
static_assert(sizeof(struct ism_vlan) == 16);
static_assert(sizeof(struct ism_query_info) == 200);
static_assert(sizeof(struct ism_query_rgid) == 24);
static_assert(sizeof(struct ism_reg_dmb) == 40);
static_assert(sizeof(struct ism_reg_dmb_resp) == 16);
static_assert(sizeof(struct ism_unreg_dmb) == 16);
static_assert(sizeof(struct ism_signal_ieq) == 32);
static_assert(offsetof(struct ism_sba, dmb_bits) == 4);
static_assert(offsetof(struct ism_sba, dmbe_mask) == 256);
static_assert(sizeof(struct ism_sba) == ISM_AREA_SIZE);
static_assert(sizeof(struct ism_eq_entry) == 32);
static_assert(sizeof(struct ism_ieq) == 512);

struct ism_transport;

/**
 * struct ism_transport_ops - how the driver reaches one ISM function
 *
 * The only part of the driver that depends on the platform: on s390 these
 * are PCI load and store instructions addressed by function handle, in
 * the KUnit suite a software model of the function. All return 0 or a
 * negative errno. None sleeps; all may be called from process or softirq
 * context. The command window is used by one caller at a time (the driver
 * serialises it), DMB stores may run concurrently.
 */
struct ism_transport_ops {
	/**
	 * @cmd_store: write @len bytes (a multiple of 8, at most
	 * %ISM_CMD_MAX_LEN) from @data, which is 8-byte aligned, at @offset
	 * of the command window. A store of the 8-byte header at offset 0
	 * executes the command.
	 */
	int (*cmd_store)(struct ism_transport *tp, unsigned int offset,
			 const void *data, unsigned int len);
	/**
	 * @cmd_load8: read 8 bytes at @offset (a multiple of 8) of the
	 * command window into @data.
	 */
	int (*cmd_load8)(struct ism_transport *tp, unsigned int offset,
			 void *data);
	/**
	 * @dmb_store: write @len bytes (1 to %ISM_DMB_CHUNK, not crossing a
	 * 4 KiB boundary of the target DMB) from @data, which has no
	 * alignment, into the DMB addressed by the request word @req (see
	 * ism_dmb_req()).
	 */
	int (*dmb_store)(struct ism_transport *tp, u64 req, const void *data,
			 unsigned int len);
	/** @fabric_id: the function's channel id (PCHID). */
	u16 (*fabric_id)(struct ism_transport *tp);
	/** @name_id: number that names the function, for "ism%x". */
	u32 (*name_id)(struct ism_transport *tp);
};

/**
 * struct ism_transport - a transport to one ISM function
 * @ops: its operations.
 *
 * Implementations embed it in their own state and use container_of().
 */
struct ism_transport {
	const struct ism_transport_ops *ops;
};

/**
 * struct ism_dmb_slot - the driver's record of a registered DMB
 * @tok: token the function assigned.
 * @cpu_addr: kernel address of the buffer, the start of one folio
 *	(clients splice out of it).
 * @dma_addr: bus address of the buffer.
 * @size: mapped length: the DMB length rounded up to pages.
 * @len: the DMB length as registered.
 */
struct ism_dmb_slot {
	u64 tok;
	void *cpu_addr;
	dma_addr_t dma_addr;
	size_t size;
	u32 len;
};

/**
 * struct ism_dev - the driver's state of one ISM function
 * @dev: the parent device (the PCI function): DMA and messages.
 * @tp: the transport to the function.
 * @dibs: the DIBS device; the driver holds one reference.
 * @cmd_lock: held, with interrupts disabled, for one whole command
 *	exchange, because the function has one command window that
 *	concurrent requests would overwrite. A spinlock, so that commands
 *	may be issued in any context: SMC-D calls the VLAN operations under
 *	a spinlock of its own.
 * @sba: the signal block area.
 * @sba_dma: its bus address.
 * @sba_registered: the function may write @sba (REG_SBA done, not undone).
 * @ieq: the interrupt event queue.
 * @ieq_dma: its bus address.
 * @ieq_registered: the function may write @ieq.
 * @ieq_idx: index of the IEQ entry consumed last, -1 before the first.
 *	Used only by ism_irq_handler(), which the IRQ core never runs twice
 *	at the same time for the one vector.
 * @dmb_lock: protects @dmb_map and @dmbs; taken before @cmd_lock.
 * @dmb_map: DMB indices in use.
 * @dmbs: per DMB index, the registered DMB.
 */
struct ism_dev {
	struct device *dev;
	struct ism_transport *tp;
	struct dibs_dev *dibs;
	spinlock_t cmd_lock;	/* one command exchange at a time */
	struct ism_sba *sba;
	dma_addr_t sba_dma;
	bool sba_registered;
	struct ism_ieq *ieq;
	dma_addr_t ieq_dma;
	bool ieq_registered;
	int ieq_idx;
	struct mutex dmb_lock;	/* protects dmb_map and dmbs */
	unsigned long dmb_map[BITS_TO_LONGS(ISM_NR_DMBS)];
	struct ism_dmb_slot *dmbs;
};

struct ism_dev *ism_dev_create(struct device *parent, struct ism_transport *tp);
int ism_dev_start(struct ism_dev *ism);
void ism_dev_stop(struct ism_dev *ism);
void ism_dev_destroy(struct ism_dev *ism);
irqreturn_t ism_irq_handler(int irq, void *data);

#if IS_ENABLED(CONFIG_S390)
struct ism_transport *ism_s390_transport_create(struct pci_dev *pdev);
void ism_s390_transport_destroy(struct ism_transport *tp);
#else
/* Only s390 has ISM functions; elsewhere a probe finds no way to reach one. */
static inline struct ism_transport *
ism_s390_transport_create(struct pci_dev *pdev)
{
	return ERR_PTR(-ENODEV);
}

static inline void ism_s390_transport_destroy(struct ism_transport *tp)
{
}
#endif

#endif /* _ISM_H */
