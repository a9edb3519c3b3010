/* server.h — the simulated device on the event loop: requests from front ends cross the uplink,
 * wait for one of the device's buffers, are processed one at a time by the SMP worker (timed by
 * the device model), and their responses cross the downlink back to the front end they came
 * from. Faults, resets and MCUboot boots happen here; every event goes to the trace.
 *
 * A front end (UDP, pty, BLE) registers a port and hands in whole SMP packets with an
 * opaque peer address; it gets whole response packets back for that peer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "sim/device.h"
#include "sim/profile.h"
#include "sim/trace.h"

struct sim_server;
struct sim_port;

#define SIM_PEER_MAX 128

struct sim_port_ops {
	/* A response reached the client: write it to peer. */
	void (*send)(const uint8_t *pkt, size_t len, const void *peer, size_t peer_len,
		     void *user_data);
	/* The device resets / has booted and its transport is up again. May be NULL. */
	void (*down)(void *user_data);
	void (*up)(void *user_data);
	/* The --disconnect-at fault fired: drop the link now (the server has already called
	 * sim_server_port_disconnected()). May be NULL (connectionless ports). */
	void (*disconnect)(void *user_data);
	/* A line the device logs on its console at model time: MCUboot's while booting, then
	 * the application's (img_mgmt's messages). May be NULL. */
	void (*console)(char level, const char *text, uint64_t model_us, bool booting,
			void *user_data);
};

struct sim_server_ops {
	/* A log line at model time: level 'I', 'W', 'E'. */
	void (*log)(char level, uint64_t model_us, const char *text, void *user_data);
	/* The device booted and runs (called after every boot, before the ports' up). May be NULL.
	 */
	void (*up)(void *user_data);
};

/* Image offsets a fault fires at, each once: when an upload chunk covering it is written. */
#define SIM_FAULT_OFFSETS_MAX 32
struct sim_fault_offsets {
	uint32_t off[SIM_FAULT_OFFSETS_MAX];
	size_t n;
};

struct sim_faults {
	const uint32_t *drop_request; /* 1-based request numbers, all commands: lost on the air */
	size_t n_drop_request;
	const uint32_t *drop_response; /* 1-based response numbers, all commands counted */
	size_t n_drop_response;
	const uint32_t *dup_response; /* delivered twice, numbered as drop_response */
	size_t n_dup_response;
	struct sim_fault_offsets reboot_at;
	bool has_mute_at;
	uint32_t mute_at;
	bool has_mute_after;
	uint64_t mute_after;
	struct sim_fault_offsets disconnect_at; /* BLE: the device drops the link */
	struct sim_fault_offsets link_loss_at;	/* any front end: nothing crosses for a while */
	uint64_t link_loss_us;			/* model time */
};

/* The device, trace and faults are borrowed (faults' array too). speed: model time per real. */
int sim_server_new(sd_event *e, double speed, struct sim_device *dev, struct sim_trace *trace,
		   const struct sim_faults *faults, const struct sim_server_ops *ops,
		   void *user_data, struct sim_server **ret);
struct sim_server *sim_server_free(struct sim_server *s);

/* frame_overhead: bytes of the transport's framing in the device's buffer (serial 4). */
int sim_server_add_port(struct sim_server *s, const struct sim_port_ops *ops, void *user_data,
			size_t frame_overhead, struct sim_port **ret);

/* Power on: the device boots (MCUboot runs) and comes up. */
void sim_server_power_on(struct sim_server *s);
/* One whole SMP packet from a client, now. peer: up to SIM_PEER_MAX bytes, copied. */
void sim_server_receive(struct sim_server *s, struct sim_port *port, const uint8_t *pkt, size_t len,
			const void *peer, size_t peer_len);

/* The port's link went away (BLE disconnection), cause "central", "reset" or "fault": as
 * Zephyr's smp_bt, requests of the old link that wait for a buffer or the worker are dropped,
 * and responses to it (the one being processed, those on the downlink) are never delivered
 * ("drop reason=disconnect"). Traced as "disconnect cause=...". */
void sim_server_port_disconnected(struct sim_server *s, struct sim_port *port, const char *cause);

bool sim_server_is_up(const struct sim_server *s);
uint64_t sim_server_now(struct sim_server *s); /* model us */
