/* hci-driver.h — the byte pipe under an hci_dev: H4 over a tty or a stream socket, or the HCI
 * user channel (hci-driver.c, hci-userchan.c), packets in and out on sd-event. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct hci_driver;
struct hci_driver_callbacks {
	void (*packet)(uint8_t type, const uint8_t *pkt, size_t len, void *user_data);
	void (*garbage)(const char *what, void *user_data);
	void (*error)(int err, void *user_data); /* read/write failure or EOF: driver is dead */
	void (*drained)(void *user_data);	 /* output queue empty again */
};
int hci_driver_open(sd_event *e, const char *spec, const struct hci_driver_callbacks *cb,
		    void *user_data, struct hci_driver **ret);
/* Queues one packet (indicator + header + payload given as two pieces). */
int hci_driver_send(struct hci_driver *d, uint8_t type, const uint8_t *a, size_t alen,
		    const uint8_t *b, size_t blen);
size_t hci_driver_backlog(const struct hci_driver *d);
struct hci_driver *hci_driver_free(struct hci_driver *d);
/* Opens the HCI user channel of "hciN" (hci-userchan.c); 0 or -errno. */
int hci_userchan_open(const char *arg, int *ret_fd);
/* Parses "hciN" of "userchan:hciN"; 0 or -EINVAL. */
int hci_parse_userchan_spec(const char *arg, unsigned *ret_idx);
/* Parses "tty:PATH[@BAUD]" into path and baud (default 1000000); 0 or -EINVAL. */
int hci_parse_tty_spec(const char *arg, char *path, size_t size, unsigned *ret_baud);
