/* ble.h — otasim's BLE front end: a peripheral on the bt/ host (BlueZ's emulator, or a real
 * controller) that advertises the device's name and the SMP service UUID, serves the SMP GATT
 * database, reassembles requests from Write Commands by the SMP header's length (Zephyr's
 * rules, reasm.h strict) and notifies responses cut to ATT_MTU - 3, as Zephyr's smp_bt does.
 * While the device reboots it is disconnected and silent; it advertises again once booted. */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "sim/server.h"

struct sim_ble;

struct sim_ble_params {
	const char *hci;  /* controller spec (bt-hci.h) */
	const char *name; /* advertised (scan response) and GAP Device Name */
	uint16_t att_mtu; /* the largest ATT_MTU accepted; 0 = 498 */
	/* Security (Zephyr CONFIG_BT_SMP): with smp, a Security Manager answers pairing (else
	 * "Pairing Not Supported"); security is what the SMP characteristic needs (enum sm_level:
	 * 2 CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW_ENCRYPT, 3 _RW_AUTHEN; 0 none); io_cap the device's
	 * IO capabilities (enum sm_io_cap); a fixed passkey (CONFIG_BT_FIXED_PASSKEY) is displayed,
	 * or typed by a keyboard-only device. Bonds are kept for the process's life, across
	 * resets, unless forget_bonds: each reset loses them (a build without CONFIG_BT_SETTINGS
	 * keeps its bonds in RAM only; a new image that wipes the settings partition does the
	 * same). */
	bool smp;
	uint8_t security;
	uint8_t io_cap;
	bool fixed_passkey;
	uint32_t passkey;
	bool forget_bonds;
};

struct sim_ble_ops {
	/* The controller is ready: our address ("00:AA:01:01:00:42"). */
	void (*ready)(const char *address, void *user_data);
	/* The controller failed (or could not be initialised): nothing more will work. */
	void (*fatal)(const char *why, void *user_data);
	/* A line worth logging (connections, dropped writes); level 'I', 'W', 'E'. May be NULL. */
	void (*log)(char level, const char *text, void *user_data);
};

/* Opens the controller and registers a port with s. -EINVAL for a bad spec or MTU, else the
 * driver's -errno. */
int sim_ble_new(sd_event *e, struct sim_server *s, const struct sim_ble_params *p,
		const struct sim_ble_ops *ops, void *user_data, struct sim_ble **ret);
struct sim_ble *sim_ble_free(struct sim_ble *b);
/* "display", "keyboard", "yesno", "none", "keyboard-display" as enum sm_io_cap; -EINVAL. */
int sim_ble_io_cap_from_str(const char *s);
