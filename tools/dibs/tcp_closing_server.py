#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A TCP "server" for tcp_pingpong_test.sh that takes one connection, reads
the first 8 bytes of the run's header and closes it.

  tcp_closing_server.py PORT READY_FILE

Listens on 127.0.0.1:PORT and creates READY_FILE once it does.
"""
import socket
import sys

port, ready = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1)
open(ready, "w").close()
c, _ = s.accept()
c.recv(8)
c.close()
