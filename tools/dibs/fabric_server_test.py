#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tests of dibs_fabric_server: fake ivshmem clients on its socket check
the protocol, the region it lays out and the peer table it keeps, and that
crashing and malformed clients disturb nobody else. Prints TAP.

usage: fabric_server_test.py PATH_TO_dibs_fabric_server
"""

import mmap
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

VECTORS = 2
PEERS = 4
MIB = 1 << 20
HDR = struct.Struct("<8sHHIQ16sHHHHQIIQQQQQQ")
# srv_state, srv_gen, srv_id, reserved0, state, gen, gid, heartbeat, moves
PEER = struct.Struct("<IIIIII16sQQQ")

results = []
# QEMU processes started by the tests, killed however the tests end.
children = []


def check(name, ok, why=""):
    results.append(ok)
    line = "%sok %d - %s" % ("" if ok else "not ", len(results), name)
    print(line + ("" if ok or not why else "  # " + why), flush=True)


class Peer:
    """A client of the ivshmem server protocol, as QEMU is one."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.settimeout(5)
        self.fds = []

    def recv(self):
        """One message: (number, fd or None), or None at the end."""
        data, fds, _, _ = socket.recv_fds(self.sock, 8, 1)
        if len(data) < 8:
            return None
        self.fds += fds
        return struct.unpack("<q", data)[0], (fds[0] if fds else None)

    def setup(self):
        """The messages of the connect sequence, up to the own vectors."""
        version, _ = self.recv()
        self.id, _ = self.recv()
        minus_one, self.shm = self.recv()
        self.peers = {}
        while True:
            num, fd = self.recv()
            if num == self.id:
                break
            self.peers.setdefault(num, []).append(fd)
        own = [fd]
        for _ in range(VECTORS - 1):
            num, fd = self.recv()
            own.append(fd if num == self.id else None)
        self.own = own
        return version, minus_one

    def pending(self, timeout=1.0):
        return bool(select.select([self.sock], [], [], timeout)[0])

    def close(self):
        self.sock.close()
        for fd in self.fds:
            os.close(fd)
        self.fds = []


def eventfd_count(fd, timeout=2.0):
    """The count of an eventfd, once it is not 0 (or 0 after @timeout)."""
    if not select.select([fd], [], [], timeout)[0]:
        return 0
    return struct.unpack("<Q", os.read(fd, 8))[0]


def header(region):
    return HDR.unpack_from(region, 0)


def peer_entry(region, slot):
    peer_off = header(region)[10]
    return PEER.unpack_from(region, peer_off + 256 * slot)


def slot_of(region, ivshmem_id):
    """The slot whose entry names the connection with @ivshmem_id."""
    for s in range(PEERS):
        if peer_entry(region, s)[2] == ivshmem_id:
            return s
    return None


def main():
    server = sys.argv[1]
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "fabric.sock")

    for args, why in ((["-m", "3"], "size not a power of 2"),
                      (["-n", "17"], "too many peers"),
                      (["-d", "0"], "no DMBs"),
                      (["-f", "0xffff"], "loopback fabric id"),
                      (["-m", "2", "-n", "16", "-d", "4096"],
                       "no DMB memory left"),
                      ([], "no socket")):
        p = subprocess.run([server] + args + (["-s", path] if args else []),
                           capture_output=True, text=True)
        check("refuses " + why, p.returncode != 0 and p.stderr != "",
              "exit %d" % p.returncode)

    proc = subprocess.Popen([server, "-s", path, "-m", "64", "-n",
                             str(PEERS), "-d", "512", "-f", "0xff42"],
                            stdout=subprocess.DEVNULL)
    try:
        rc = run(proc, path)
        proc = subprocess.Popen([server, "-s", path, "-m", "4", "-n", "2",
                                 "-d", "4"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        ids_run_out(proc, path)
        print("1..%d" % len(results))
        return rc if rc else (0 if all(results) else 1)
    finally:
        for child in children + [proc]:
            if child.poll() is None:
                child.kill()
                child.wait()
        if os.path.exists(path):
            os.unlink(path)
        os.rmdir(tmp)


def run(proc, path):
    """The tests against one server, listening on @path."""
    for _ in range(50):
        if os.path.exists(path):
            break
        time.sleep(0.1)

    a = Peer(path)
    version, minus_one = a.setup()
    check("first peer: version 0, slot 0, region",
          version == 0 and a.id == 0 and minus_one == -1 and
          a.shm is not None and not a.peers)
    check("first peer: its own vectors", None not in a.own)
    region = mmap.mmap(a.shm, 0)
    h = header(region)
    (magic, vmaj, vmin, hsize, rsize, _, fabric, npeers, ndmbs, _,
     peer_off, mbox_size, sig_size, mbox_off, sig_off, desc_off, heap_off,
     heap_size, _) = h
    check("header", magic == b"DIBSIVSH" and vmaj == 1 and vmin == 0 and
          hsize == 4096 and rsize == 64 * MIB and fabric == 0xff42 and
          npeers == PEERS and ndmbs == 512 and mbox_size == 512,
          repr(h))
    areas = [(peer_off, PEERS * 256), (mbox_off, PEERS * PEERS * 512),
             (sig_off, PEERS * PEERS * sig_size), (desc_off, PEERS * 512 * 64),
             (heap_off, PEERS * heap_size)]
    ordered = all(off % 4096 == 0 for off, _ in areas) and \
        all(areas[i][0] + areas[i][1] <= areas[i + 1][0]
            for i in range(len(areas) - 1)) and \
        areas[0][0] >= 4096 and heap_off % MIB == 0 and \
        heap_size % MIB == 0 and heap_size > 0 and \
        heap_off + PEERS * heap_size <= rsize and \
        sig_size >= 2 * 512 // 8 + 4 * 512
    check("layout: aligned, in order, inside the region", ordered)
    st, gen, ivshmem_id = peer_entry(region, 0)[:3]
    check("first peer connected, generation 1, ID 0",
          (st, gen, ivshmem_id) == (1, 1, 0))

    b = Peer(path)
    b.setup()
    check("second peer: slot 1, the first peer's vectors",
          b.id == 1 and len(b.peers.get(0, [])) == VECTORS)
    msgs = [a.recv() for _ in range(VECTORS)]
    check("first peer told of the second, with its vectors",
          all(n == 1 and fd is not None for n, fd in msgs))
    check("first peer's control vector rung",
          eventfd_count(a.own[1]) >= 1)
    check("second peer connected", peer_entry(region, 1)[:3] == (1, 1, 1))

    b.close()
    msg = a.recv()
    check("crash: first peer told, without a descriptor", msg == (1, None))
    check("crash: slot marked gone", peer_entry(region, 1)[0] == 2)
    check("crash: first peer's control vector rung",
          eventfd_count(a.own[1]) >= 1)

    c = Peer(path)
    c.setup()
    # QEMU's ivshmem-doorbell cannot take back the ID of a peer that left.
    check("slot reused with a new generation and a new ID",
          c.id == 2 and peer_entry(region, 1)[:3] == (1, 2, 2))
    [a.recv() for _ in range(VECTORS)]

    d = Peer(path)
    d.setup()
    e = Peer(path)
    e.setup()
    for p in (a, c):
        [p.recv() for _ in range(2 * VECTORS)]
    [d.recv() for _ in range(VECTORS)]
    f = Peer(path)
    check("refused when all slots are taken", f.recv() is None)
    f.close()

    d.sock.send(b"garbage")
    check("malformed peer disconnected", d.recv() is None)
    d_slot = slot_of(region, d.id)
    check("malformed peer marked gone",
          d_slot is not None and peer_entry(region, d_slot)[0] == 2)
    told = [p.recv() for p in (a, c, e)]
    check("the others told of it", all(m == (d.id, None) for m in told))

    before = header(region)[-1]
    time.sleep(2.5)
    check("server heartbeat advances", header(region)[-1] >= before + 2)

    g = Peer(path)
    g.setup()
    check("a new peer joins after all that, in the free slot, with a new ID",
          g.id > max(p.id for p in (a, b, c, d, e)) and
          slot_of(region, g.id) == d_slot)
    for p in (a, c, e):
        [p.recv() for _ in range(VECTORS)]

    qemu = shutil.which("qemu-system-x86_64")
    if qemu:
        g.close()
        for p in (a, c, e):
            p.recv()
        def spawn():
            children.append(subprocess.Popen(
                [qemu, "-S", "-display", "none", "-nodefaults", "-m", "128",
                 "-monitor", "none",
                 "-chardev", "socket,path=%s,id=fabric" % path,
                 "-device", "ivshmem-doorbell,chardev=fabric,vectors=%d"
                 % VECTORS],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            return children[-1]

        q = spawn()
        a.sock.settimeout(30)
        msgs = [a.recv() for _ in range(VECTORS)]
        qid = msgs[0][0]
        slot = slot_of(region, qid)
        check("QEMU's ivshmem-doorbell joins",
              all(m[0] == qid and m[1] is not None for m in msgs) and
              slot is not None and peer_entry(region, slot)[0] == 1)
        q.kill()
        q.wait()
        check("QEMU killed: the others told, slot marked gone",
              a.recv() == (qid, None) and peer_entry(region, slot)[0] == 2)

        # A QEMU that saw a peer leave, and a new one take its slot.
        e.close()
        a.recv()
        keep = spawn()
        [a.recv() for _ in range(VECTORS)]
        q = spawn()
        qid = a.recv()[0]
        a.recv()
        q.kill()
        q.wait()
        a.recv()
        q = spawn()
        msgs = [a.recv() for _ in range(VECTORS)]
        time.sleep(1)
        check("a QEMU that saw a slot change hands lives on",
              msgs[0][0] > qid and keep.poll() is None)
        for p in (q, keep):
            p.kill()
            p.wait()
    else:
        print("# qemu-system-x86_64 not found: QEMU interoperation untested")
        g.close()

    for p in (a, c, e):
        if p.sock.fileno() >= 0:
            p.close()
    region.close()
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=5)
    check("SIGTERM: exits 0 and removes its socket",
          rc == 0 and not os.path.exists(path))
    return 0 if all(results) else 1


def ids_run_out(proc, path):
    """After 65536 connections every ivshmem ID was given out once (QEMU
    must never see an ID again, see the protocol): the next connection is
    refused with a message, and the server lives on."""
    for _ in range(50):
        if os.path.exists(path):
            break
        time.sleep(0.1)
    ids = []
    while len(ids) < 1 << 16:
        p = Peer(path)
        msg = p.recv()
        # None: both slots were still held by connections the server had
        # not yet seen close; it gave out no ID. Try again.
        if msg is not None:
            ids.append(p.recv()[0])
        p.close()
        if msg is None:
            time.sleep(0.001)
    check("65536 connections get the IDs 0 to 65535 once each",
          ids == list(range(1 << 16)), "%d IDs" % len(ids))
    time.sleep(0.2)
    p = Peer(path)
    refused = p.recv() is None
    p.close()
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=5)
    err = proc.stderr.read()
    check("connection 65537 refused with a message, server lives on",
          refused and rc == 0 and "IDs were given out" in err,
          "exit %d, %s" % (rc, err.strip()))


if __name__ == "__main__":
    sys.exit(main())
