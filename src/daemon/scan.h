/* scan.h — one bounded BLE scan of otad over its controller (scan.c): every advertiser heard
 * becomes or updates a device, then the fleet's rules apply to it. */
#pragma once

#include <stdbool.h>

struct manager;
struct scan;

/* Opens the controller (the caller holds the lease, controller.c) and scans for the configured
 * ScanDuration=; at the end the results are applied and manager_scan_done() follows, from the
 * loop. forced (Scan()): every group member seen is polled, not only those not read for
 * PollInterval=. */
int scan_new(struct manager *m, bool forced, struct scan **ret);
/* Stops without applying anything. Accepts NULL, returns NULL. */
struct scan *scan_free(struct scan *s);

/* manager.c: the scan ended (its results applied); frees it and gives the controller back. */
void manager_scan_done(struct manager *m);
