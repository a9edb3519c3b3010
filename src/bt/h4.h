/* h4.h — the H4 framing of HCI packets on a byte stream (Core 5.4 Vol 4 Part A): packet
 * indicators and the framer that finds packets in a stream (h4.c). Pure over buffers. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Core 5.4 Vol 4 Part A 2: packet indicators */
enum {
	H4_CMD = 0x01,
	H4_ACL = 0x02,
	H4_SCO = 0x03,
	H4_EVT = 0x04,
	H4_ISO = 0x05,
};

#define H4_MAX_PACKET (1 + 4 + 65535)

/* Reassembles H4 packets from a byte stream. */
struct h4_parser {
	size_t len;  /* bytes in buf */
	size_t need; /* total length of the packet being collected, 0 = header incomplete */
	uint8_t buf[H4_MAX_PACKET];
};
typedef void (*h4_packet_fn)(uint8_t type, const uint8_t *pkt, size_t len, void *user_data);
typedef void (*h4_garbage_fn)(const char *what, void *user_data);
/* Header length after the indicator for a packet type the host receives, 0 if unknown. */
size_t h4_header_len(uint8_t type);
/* Total packet length (indicator included) once the header is there, 0 if unknown type. */
size_t h4_packet_len(const uint8_t *buf);
void h4_parser_feed(struct h4_parser *p, const uint8_t *data, size_t len, h4_packet_fn fn,
		    h4_garbage_fn garbage, void *user_data);
