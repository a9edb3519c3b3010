/* reasm.h — SMP packets reassembled from the slices a BLE link carries them in, by the length in
 * the SMP header. Shared by the BLE transport (notifications from the device) and otasim's BLE
 * front end (Write Commands from the client).
 *
 * mcumgr's SMP over GATT (Zephyr subsys/mgmt/mcumgr/transport/src/smp_bt.c, smp_reassembly.c):
 * a sender cuts each SMP packet into values of at most ATT_MTU - 3 bytes and starts every
 * packet in a new value; the receiver collects values until it has 8 + the header's length
 * bytes. A slice is one such value: its boundaries matter, a packet never starts inside one.
 *
 * Two sets of rules:
 *  - lenient (the client's): the 8-byte header may itself span slices; bytes past the end of a
 *    packet in its last slice are dropped (and reported), the packet is delivered.
 *  - strict (Zephyr's device, smp_reassembly_collect): the first slice must hold the whole
 *    header, else it is dropped; a slice running past the announced end drops the whole packet.
 * Both: a header with reserved bits set is not SMP, and a packet announcing more than
 * max_packet bytes is dropped at its header; the slices that follow are examined as new starts.
 * Nothing is ever silent: every drop goes to discard() with the cause. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REASM_HDR_LEN	 8
#define REASM_MAX_PACKET (REASM_HDR_LEN + 65535) /* the SMP header's length field is 16 bits */

struct reasm_params {
	size_t max_packet; /* largest packet accepted, header included; 0 = REASM_MAX_PACKET */
	bool strict;	   /* Zephyr device rules (above) */
};

struct reasm_ops {
	/* A whole SMP packet (its header's length agrees with len); valid during the call. */
	void (*packet)(const uint8_t *pkt, size_t len, void *user_data);
	/* Bytes were dropped; why names the cause ("SMP header announces 70000 bytes, more than
	 * 2475", "3 bytes after the end of a 20-byte SMP packet dropped"). May be NULL. */
	void (*discard)(const char *why, void *user_data);
};

struct reasm;

/* NULL on out-of-memory. The packet buffer grows to the largest packet seen. */
struct reasm *reasm_new(const struct reasm_params *p, const struct reasm_ops *ops, void *user_data);
/* Feeds one slice (len 0 is ignored). A callback may call reasm_reset() (the rest of the slice
 * is then dropped) but must not feed or free the reassembler. */
void reasm_feed(struct reasm *r, const uint8_t *slice, size_t len);
/* Drops a partial packet (the link went down); silent. */
void reasm_reset(struct reasm *r);
/* Bytes of the packet being collected (0 = idle). */
size_t reasm_pending(const struct reasm *r);
/* Accepts NULL, returns NULL. */
struct reasm *reasm_free(struct reasm *r);
