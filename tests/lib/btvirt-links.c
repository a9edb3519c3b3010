/* btvirt-links.c — part of the btvirt shim (afalg-shim.c): the handles of the links of a
 * controller with several of them.
 *
 * BlueZ's emulator (5.66, emulator/btdev.c) numbers each controller's links itself (conn_new:
 * the lowest free handle from 42), but tells the peripheral's host the central's handle in its
 * LE Connection Complete and LE Connection Update Complete (le_conn_complete, le_conn_update),
 * and forwards an ACL packet with the sender's handle (send_acl). Both ends agree only while
 * every controller has one link; a central's second link is 43 on its side and 42 inside the
 * peripheral's controller, which drops everything that peripheral's host sends on it. A
 * gateway updating several devices through one controller needs the handles as on air: each
 * host sees its own controller's. So this learns both ends of every link from what btvirt
 * writes to its clients (Read BD_ADDR's Command Complete, the connection events, Disconnection
 * Complete) and rewrites, on their way to a host, the handle of a link's events raised by the
 * other end and of the ACL packets forwarded from it. */
#include "lib/btvirt-links.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define MAX_FD	  4096
#define MAX_LINKS 128
#define HANDLE_0  42 /* btdev.c ACL_HANDLE */

struct end {
	bool used;
	int fd;		 /* the client (a controller's host) this end belongs to */
	uint16_t handle; /* the handle its controller has for the link */
	uint8_t peer[6]; /* the address of the other end */
};

static struct end ends[MAX_LINKS];
static uint8_t addr_of[MAX_FD][6];
static int sender = -1; /* the client whose packets btvirt processes now */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void links_reading(int fd)
{
	sender = fd;
}

void links_forget(int fd)
{
	for (int i = 0; i < MAX_LINKS; i++)
		if (ends[i].used && ends[i].fd == fd)
			ends[i].used = false;
	if (fd >= 0 && fd < MAX_FD)
		memset(addr_of[fd], 0, 6);
	if (sender == fd)
		sender = -1;
}

static struct end *find(int fd, uint16_t handle)
{
	for (int i = 0; i < MAX_LINKS; i++)
		if (ends[i].used && ends[i].fd == fd && ends[i].handle == handle)
			return &ends[i];
	return NULL;
}

/* fd's end of the link the sender's end `handle` belongs to. */
static struct end *other_end(int fd, uint16_t handle)
{
	struct end *from;

	if (sender < 0 || sender >= MAX_FD || sender == fd || !(from = find(sender, handle)))
		return NULL;
	for (int i = 0; i < MAX_LINKS; i++)
		if (ends[i].used && ends[i].fd == fd && !memcmp(ends[i].peer, addr_of[sender], 6))
			return &ends[i];
	return NULL;
}

/* A new link of fd's: the handle fd's controller gave it (as conn_new does). */
static void add(int fd, uint8_t *handle_field, const uint8_t *peer, bool remote)
{
	uint16_t h = le16(handle_field) & 0x0fff;
	struct end *e = NULL;

	if (remote)
		for (h = HANDLE_0; find(fd, h); h++)
			;
	for (int i = 0; !e && i < MAX_LINKS; i++)
		if (!ends[i].used)
			e = &ends[i];
	if (!e)
		return;
	*e = (struct end){.used = true, .fd = fd, .handle = h};
	memcpy(e->peer, peer, 6);
	put16(handle_field, h);
}

/* An LE meta event (Core 5.4 Vol 4 Part E 7.7.65) to fd: p = subevent, status, handle, ... */
static void le_event(int fd, uint8_t *p, uint8_t plen)
{
	struct end *e;

	if (plen < 4 || p[1] != 0)
		return;
	switch (p[0]) {
	case 0x01: /* LE Connection Complete: the peer at 6 */
	case 0x0a: /* LE Enhanced Connection Complete */
		if (plen >= 12)
			add(fd, p + 2, p + 6, sender != fd);
		break;
	case 0x03: /* LE Connection Update Complete, raised by the other end's command */
		if (sender != fd && (e = other_end(fd, le16(p + 2) & 0x0fff)))
			put16(p + 2, e->handle);
		break;
	default:
		break;
	}
}

/* An event (H4 type, code, plen, params) btvirt writes to fd. */
static void event(int fd, uint8_t *pkt, size_t len)
{
	uint8_t *p = pkt + 3;
	struct end *e;

	if (len < 3 || len < 3u + pkt[2] || fd < 0 || fd >= MAX_FD)
		return;
	switch (pkt[1]) {
	case 0x0e: /* Command Complete of Read BD_ADDR (7.4.6) */
		if (pkt[2] >= 10 && le16(p + 1) == 0x1009 && p[3] == 0)
			memcpy(addr_of[fd], p + 4, 6);
		break;
	case 0x05: /* Disconnection Complete (7.7.5), with fd's own handle */
		if (pkt[2] >= 4 && p[0] == 0 && (e = find(fd, le16(p + 1) & 0x0fff)))
			e->used = false;
		break;
	case 0x3e:
		le_event(fd, p, pkt[2]);
		break;
	default:
		break;
	}
}

void links_outgoing(int fd, uint8_t *pkt, size_t len)
{
	struct end *e;

	if (len >= 1 && pkt[0] == 0x04) {
		event(fd, pkt, len);
	} else if (len >= 5 && pkt[0] == 0x02 && (e = other_end(fd, le16(pkt + 1) & 0x0fff))) {
		/* ACL forwarded from the sender: fd's handle of the link, PB/BC flags kept */
		put16(pkt + 1, (uint16_t)((le16(pkt + 1) & 0xf000) | e->handle));
	}
}
