/* bt.h — the user-space Bluetooth LE host (src/bt/): addresses, UUIDs, error names, and the
 * headers of its nouns. Include this one header to use the layer.
 *
 *   bt-adv.h   struct adv_data: advertising data (AD structures) parsed and built.
 *   bt-hci.h   struct hci_dev: a controller behind an HCI driver (tty:, userchan:, unix:, tcp:),
 *              its init, scanning, advertising, connections (struct hci_conn) and ACL credits.
 *   bt-gatt.h  struct gatt_client (central: one characteristic of one service: write without
 *              response + notifications) and struct gatt_server (peripheral: a fixed database with
 *              GAP and one such characteristic).
 *
 * Nothing here logs: install a debug callback with hci_dev_set_debug() to see what is dropped
 * and why. Everything runs on the caller's sd-event loop; nothing blocks.
 *
 * Lifetime rule for every object of this layer: never free an object from inside one of its own
 * callbacks; defer it (sd_event_add_defer). An hci_conn stays valid until its disconnected
 * callback returned; take hci_conn_ref() to keep the pointer longer.
 *
 * Central (transport/ble; one controller shared by many: hci_dev_ref(), see bt-hci.h):
 *   hci_dev_new(e, "tty:/dev/ttyACM0", &{.ready = r}, ...)      -> ready(hci, 0, 0)
 *   hci_scan_watch(hci, NULL, &{.name = "dev", .uuid = &bt_uuid_smp_service}, on_report, ...,
 *                  &watch)                     on_report: r->ad.name, r->addr, r->rssi
 *   hci_scan_unwatch(hci, watch); hci_connect_request(hci, &r->addr, NULL, on_conn, ..., &req)
 *   on_conn(hci, 0, 0, conn): hci_conn_set_callbacks(conn, {.disconnected, .writable}, ...);
 *       gatt_client_new(conn, &{&bt_uuid_smp_service, &bt_uuid_smp_char, 0}, {.ready, .notify})
 *   ready(c, 0, 0): gatt_client_write(c, chunk, <= gatt_client_max_write(c)) per SMP slice;
 *       pace on gatt_client_backlog() == 0 / writable; notify() delivers slices to reassemble
 *   disconnected(conn, reason): gatt_client_free(c) (deferred), scan again
 *
 * Peripheral (otasim --ble):
 *   hci_adv_start(hci, &{.name = "otasim", .uuid = &bt_uuid_smp_service}, on_accept, ...)
 *   on_accept(hci, 0, conn): hci_conn_set_callbacks(conn, ...);
 *       gatt_server_new(conn, &{"otasim", &bt_uuid_smp_service, &bt_uuid_smp_char, 0},
 *                       {.write = on_write, .subscribed = ...}, ...)
 *   on_write(s, value, len): feed the SMP device model; answer with gatt_server_notify(s, slice,
 *       <= gatt_server_max_notify(s)) once subscribed
 *   simulated reboot: hci_conn_disconnect(conn, 0); hci_adv_stop(); later hci_adv_start()
 *   (while started, advertising resumes by itself after each connection ends) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/common.h"

/* Core 5.4 Vol 6 Part B 1.3: public or random device address. */
enum bt_addr_type {
	BT_ADDR_LE_PUBLIC = 0x00,
	BT_ADDR_LE_RANDOM = 0x01,
};

/* An LE device address. b[] is little-endian as on the wire: "C0:11:22:33:44:55" has b[5]=0xc0. */
struct bt_addr {
	uint8_t type; /* enum bt_addr_type */
	uint8_t b[6];
};

#define BT_ADDR_STRLEN 18 /* "AA:BB:CC:DD:EE:FF" + NUL */

/* Parses "AA:BB:CC:DD:EE:FF" (case-insensitive); 0 or -EINVAL. type is stored as given. */
int bt_addr_from_str(const char *s, uint8_t type, struct bt_addr *ret);
/* Writes "AA:BB:CC:DD:EE:FF" into buf (BT_ADDR_STRLEN bytes); returns buf. */
char *bt_addr_to_str(const struct bt_addr *a, char *buf);
bool bt_addr_equal(const struct bt_addr *a, const struct bt_addr *b);
/* "public" or "random" */
const char *bt_addr_type_str(uint8_t type);

/* A 128-bit UUID, little-endian as on the wire (Core 5.4 Vol 3 Part B 2.5.1). */
struct bt_uuid128 {
	uint8_t b[16];
};

#define BT_UUID_STRLEN 37
/* Parses "8D53DC1D-1DB7-4CD3-868B-8A527460AA84" (case-insensitive); 0 or -EINVAL. */
int bt_uuid128_from_str(const char *s, struct bt_uuid128 *ret);
/* Writes the canonical upper-case form into buf (BT_UUID_STRLEN bytes); returns buf. */
char *bt_uuid128_to_str(const struct bt_uuid128 *u, char *buf);
bool bt_uuid128_equal(const struct bt_uuid128 *a, const struct bt_uuid128 *b);

/* mcumgr's SMP over GATT (Zephyr subsys/mgmt/mcumgr/transport/src/smp_bt.c). */
#define BT_SMP_SERVICE_UUID_STR "8D53DC1D-1DB7-4CD3-868B-8A527460AA84"
#define BT_SMP_CHAR_UUID_STR	"DA2E7828-FBCE-4E01-AE9E-261174997C48"
extern const struct bt_uuid128 bt_uuid_smp_service;
extern const struct bt_uuid128 bt_uuid_smp_char;

/* Error names: "Command Disallowed" for HCI 0x0c (Core 5.4 Vol 1 Part F), "Attribute Not Found"
 * for ATT 0x0a (Vol 3 Part F 3.4.1.1). Unknown codes give "Unknown". Never NULL. */
const char *hci_strerror(uint8_t status);
const char *att_strerror(uint8_t ecode);
/* An HCI status or disconnection reason as a negative errno, for layers that speak errno:
 * 0x13 Remote User Terminated -> -ECONNRESET, 0x08 Connection Timeout -> -ETIMEDOUT, 0x15 Power
 * Off -> -EHOSTDOWN, 0x16 Local Host -> -ECONNABORTED, 0x3e Failed to be Established ->
 * -ECONNREFUSED, 0x03 Hardware Failure -> -ENODEV, unknown -> -EIO; 0 for success. */
int hci_status_to_errno(uint8_t status);
/* "LE Create Connection", "Reset"...; "Unknown command" for others. Never NULL. */
const char *hci_opcode_name(uint16_t opcode);

#include "otad/bt-adv.h"
#include "otad/bt-hci.h"
#include "otad/bt-gatt.h"
