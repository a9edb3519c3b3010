/* hcirelay.h — a controller that drops what its host left pending, for tests: a relay between a
 * host and btvirt that holds every HCI Disconnect from the host for hold_ms before passing it on
 * (and what the host sends after it, in order), and that closes btvirt's side the moment the host
 * closes its own, losing whatever it held. btvirt does the same when it sees a client's hangup
 * before its last bytes, and a USB dongle at a reset; the relay makes it happen every time, so a
 * host that closes right after its Disconnect leaves the peer connected to nobody, always. */
#pragma once

#include <sys/types.h>

struct hci_relay {
	pid_t pid;
	char spec[320]; /* "unix:PATH" for the host's --hci */
	char log[300];	/* one line per Disconnect: "held", "forwarded" or "dropped" */
};

/* Starts the relay in a child process in front of upstream ("unix:PATH", btvirt's spec). 0 or
 * -errno. */
int hci_relay_start(struct hci_relay *r, const char *upstream, unsigned hold_ms);
/* Stops and reaps it. Safe to call twice. */
void hci_relay_stop(struct hci_relay *r);
/* Lines of the log that contain what ("forwarded", "dropped"). */
unsigned hci_relay_count(const struct hci_relay *r, const char *what);
