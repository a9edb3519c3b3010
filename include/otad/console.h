/* console.h — Zephyr's "SMP over console" framing as a pure codec, shared by the serial transport
 * and otasim's pty front end.
 *
 * A packet is base64 of <len BE16><SMP packet><CRC16 BE>, where len counts the SMP packet plus the
 * 2 CRC bytes and the CRC is CRC16-CCITT (poly 0x1021, init 0, not reflected) over the SMP packet.
 * It is cut into lines of at most 127 bytes including the 2-byte marker and the newline: the
 * first starts with 0x06 0x09, continuations with 0x04 0x14. Each line's base64 decodes on its
 * own. Anything else on the line (the device's log output) is not SMP and is skipped.
 *
 * Source: mcumgr transport/smp-console.md; Zephyr "SMP Transport Specification". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONSOLE_LINE_MAX   127
#define CONSOLE_PKT_MAX    4096 /* largest SMP packet we encode or accept */
#define CONSOLE_OVERHEAD   4    /* length prefix + CRC in the device's receive buffer */

uint16_t console_crc16(const uint8_t *buf, size_t len, uint16_t crc);

/* Bytes console_encode() writes for a packet of pkt_len bytes. */
size_t console_encoded_size(size_t pkt_len);
/* Encodes one SMP packet into complete lines. Returns bytes written or -ENOBUFS / -EMSGSIZE. */
ssize_t console_encode(const uint8_t *pkt, size_t len, uint8_t *out, size_t size);

struct console_decoder;
struct console_decoder_ops {
	/* A complete, CRC-checked SMP packet. */
	void (*packet)(const uint8_t *pkt, size_t len, void *user_data);
	/* A frame or partial packet was discarded; why names the cause ("CRC mismatch: got 0x1234,
	 * computed 0xabcd", "invalid base64 in frame", "line longer than 127 bytes",
	 * "continuation frame without a start frame", "length 9000 exceeds 4096"). May be NULL. */
	void (*discard)(const char *why, void *user_data);
	/* A non-SMP console line (device log output), without its newline. May be NULL. */
	void (*text)(const char *line, size_t len, void *user_data);
};
struct console_decoder *console_decoder_new(const struct console_decoder_ops *ops, void *user_data);
/* Feeds raw bytes from the line in any split. Never fails: bad input is reported via discard. */
void console_decoder_feed(struct console_decoder *d, const uint8_t *buf, size_t len);
/* Drops any partial line/packet (after a reopen). */
void console_decoder_reset(struct console_decoder *d);
struct console_decoder *console_decoder_free(struct console_decoder *d);
