/* udp.h — otasim's UDP front end: one SMP packet per datagram (Zephyr's UDP transport), answers
 * go back to the datagram's sender. */
#pragma once

#include <systemd/sd-event.h>

#include "sim/server.h"

struct sim_udp;

/* addr: "IPv4:PORT" or "[IPv6]:PORT" (numeric; port 0 = ephemeral). -EINVAL on a bad address. */
int sim_udp_new(sd_event *e, struct sim_server *s, const char *addr, struct sim_udp **ret);
struct sim_udp *sim_udp_free(struct sim_udp *u);
/* The bound address as "127.0.0.1:45678" or "[::1]:45678". */
const char *sim_udp_address(const struct sim_udp *u);
