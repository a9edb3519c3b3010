/* btvirt-links.h — the link handles of btvirt's controllers, for the btvirt shim
 * (afalg-shim.c): see btvirt-links.c. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* btvirt reads the packets of client fd now: what it forwards meanwhile comes from there. */
void links_reading(int fd);
/* Client fd is closed. */
void links_forget(int fd);
/* A whole H4 packet btvirt writes to client fd: learnt from, and its handle rewritten where
 * btvirt gave the other end's. */
void links_outgoing(int fd, uint8_t *pkt, size_t len);
