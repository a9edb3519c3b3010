/* link.h — the link between client and device: two FIFO queues, one per direction. A packet of n
 * bytes starts serialising when the previous one in its direction has left (and not before it
 * was sent), takes n / bandwidth, and arrives `latency` after it has left. */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum sim_dir {
	SIM_UPLINK,   /* client to device */
	SIM_DOWNLINK, /* device to client */
};

struct sim_link {
	uint64_t latency_us;
	uint64_t bandwidth; /* bytes/s */
	uint64_t free_at[2];
};

struct sim_transfer {
	uint64_t start;	  /* serialisation starts */
	uint64_t end;	  /* serialisation ends: the packet has left */
	uint64_t arrival; /* end + latency; the receiver's reception is [arrival - (end - start),
			     arrival] */
};

void sim_link_init(struct sim_link *l, uint64_t latency_us, uint64_t bandwidth);
uint64_t sim_link_serialisation_us(const struct sim_link *l, size_t n);
/* Queues n bytes sent at model time now in direction dir. */
void sim_link_send(struct sim_link *l, enum sim_dir dir, uint64_t now, size_t n,
		   struct sim_transfer *ret);
