/* console.h — Zephyr's "SMP over console" framing as a pure codec, shared by the serial transport
 * and otasim's pty front end.
 *
 * A packet is base64 of <len BE16><SMP packet><CRC16 BE>, where len counts the SMP packet plus the
 * 2 CRC bytes (not itself) and the CRC is CRC-16/XMODEM (poly 0x1021, init 0x0000, MSB first, no
 * final XOR; Zephyr's crc16_itu_t(0, ...)) over the SMP packet alone. Check value: "123456789" ->
 * 0x31c3. (Not Zephyr's crc16_ccitt(), which is the reflected KERMIT variant.)
 * It is cut into lines of at most 127 bytes including the 2-byte marker and the newline: the
 * first starts with 0x06 0x09, continuations with 0x04 0x14. Every line carries whole 4-character
 * base64 groups, so each line's base64 decodes on its own; '=' padding appears only at the end
 * of a line (encoders pad only the packet's last group). Any other line (the device's log output)
 * is not SMP: devices ignore it, and so does a packet being reassembled.
 * A frame starts at its marker wherever that is in a line: Zephyr's shell transport
 * (CONFIG_MCUMGR_TRANSPORT_SHELL, smp_shell.c) writes its frames straight to the UART, so a frame
 * follows the shell's prompt ("\e[m\r\n\r\n\e[1;32muart:~$ \e[m", no newline) or a log message
 * without a newline on the same line. What precedes the marker is text; base64 holds no marker
 * byte, so a second marker in a frame line means the first frame was cut short.
 *
 * Sources: mcumgr transport/smp-console.md; Zephyr "SMP Transport Specification"
 * (docs.zephyrproject.org/latest/services/device_mgmt/smp_transport.html); Zephyr
 * subsys/mgmt/mcumgr/transport/src/serial_util.c (mcumgr_serial_tx_pkt, process_frag). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONSOLE_LINE_MAX 127
#define CONSOLE_PKT_MAX	 4096 /* largest SMP packet we encode or accept */
#define CONSOLE_OVERHEAD 4    /* length prefix + CRC in the device's receive buffer */
#define CONSOLE_TEXT_MAX 256  /* longer non-SMP lines reach text() in pieces of this size */

/* CRC-16/XMODEM of buf, continuing from crc (0 to start). */
uint16_t console_crc16(const uint8_t *buf, size_t len, uint16_t crc);

/* Bytes console_encode() writes for a packet of pkt_len bytes. */
size_t console_encoded_size(size_t pkt_len);
/* Encodes one SMP packet into complete lines (each line 124 base64 characters at most).
 * Returns bytes written, -EMSGSIZE when len > CONSOLE_PKT_MAX, -ENOBUFS when size is less than
 * console_encoded_size(len). */
ssize_t console_encode(const uint8_t *pkt, size_t len, uint8_t *out, size_t size);

struct console_decoder;
struct console_decoder_ops {
	/* A complete, CRC-checked SMP packet; pkt is valid only during the call. */
	void (*packet)(const uint8_t *pkt, size_t len, void *user_data);
	/* A frame or partial packet was discarded; why names the cause ("CRC mismatch: got 0x1234,
	 * computed 0xabcd", "invalid base64 in frame", "line longer than 127 bytes",
	 * "continuation frame without a start frame", "length 9000 exceeds 4096", "frame cut short
	 * by a new frame marker"). May be NULL. */
	void (*discard)(const char *why, void *user_data);
	/* A non-SMP console line (device log output), without its newline or trailing CRs; text
	 * before a frame marker on its line (a shell prompt, a log message without newline) comes
	 * as a line of its own, unless it is only CRs. It may hold any byte, NUL included. Lines
	 * longer than CONSOLE_TEXT_MAX come in several calls. May be NULL. */
	void (*text)(const char *line, size_t len, void *user_data);
};
/* NULL on out-of-memory. */
struct console_decoder *console_decoder_new(const struct console_decoder_ops *ops, void *user_data);
/* Feeds raw bytes from the line in any split. Never fails: bad input is reported via discard.
 * A callback may call console_decoder_reset() (the rest of buf is then dropped), but must not
 * feed or free the decoder. */
void console_decoder_feed(struct console_decoder *d, const uint8_t *buf, size_t len);
/* Drops any partial line/packet (after a reopen). */
void console_decoder_reset(struct console_decoder *d);
/* Accepts NULL, returns NULL. */
struct console_decoder *console_decoder_free(struct console_decoder *d);
