/* fleet.h — what otad is told to do: the daemon settings (otad.conf), the device groups and
 * devices of the fleet files (fleet.d/NAME.conf), and the policy that decides, from what a device
 * runs, whether it gets its group's image. Pure data and decisions: nothing here does I/O
 * besides reading the files, and nothing logs. See otad.conf(5). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/conf.h"
#include "otad/image.h"
#include "otad/update.h"

#define FLEET_MAX_WINDOWS 8

/* A daily maintenance window in local time, minutes since midnight; end > start, or end <=
 * start for one that spans midnight ("22:00-02:00"). */
struct fleet_window {
	uint16_t start, end;
};

struct fleet_group {
	char *name;
	char *file; /* where it is defined */
	unsigned line;
	char *image; /* local path or http(s) URL */
	bool image_is_url;
	bool has_sha256;    /* required for URLs */
	uint8_t sha256[32]; /* of the whole image file */
	struct img_version version;
	char version_text[32];
	bool allow_downgrade;
	enum upd_mode mode;
	unsigned retries;
	struct upd_pace pace;
	unsigned max_parallel; /* 0 = only MaxJobs limits */
	struct fleet_window windows[FLEET_MAX_WINDOWS];
	unsigned n_windows; /* 0 = any time */
	char **match_names; /* fnmatch() globs on the device name */
	size_t n_match_names;
	char **match_addresses; /* device addresses (BLE address or transport spec), exact */
	size_t n_match_addresses;
	uint8_t match_adv[31]; /* BLE: advertising data must contain these bytes */
	size_t match_adv_len;
	/* A local Image= that could not be read when the configuration was loaded (errno): its
	 * devices are held (FLEET_HOLD_IMAGE) until a load finds it. 0 = readable, or a URL. */
	int image_errno;
};

struct fleet_device {
	char *name;
	char *transport; /* udp:HOST[:PORT], serial:PATH[@BAUD], ble:ADDRESS */
	char *group;	 /* explicit Group=, or NULL: matched by the groups' rules */
	char *file;
	unsigned line, group_line;
};

struct fleet_settings {
	unsigned max_jobs;
	uint64_t poll_interval_usec; /* how often listed devices' slots are read; 0 = never */
	uint64_t scan_interval_usec; /* BLE scans with Controller=; 0 = only on Scan() */
	uint64_t scan_duration_usec; /* how long one scan listens */
	uint64_t retry_delay_usec; /* after a failed fleet job, before the device is tried again */
	char *controller;	   /* BLE controller spec (tr_options.hci) */
	unsigned history;	   /* finished jobs kept */
	char *state_dir, *cache_dir; /* NULL: as given on the command line / by systemd */
	uint64_t max_image_size;
	bool allow_http; /* plain http:// image URLs */
	char *ca_file;	 /* extra CA bundle for https; NULL = the system's */
	/* defaults of every job ([Update]) */
	struct upd_pace pace;
	enum upd_mode mode;
	unsigned retries;
	uint64_t rsp_timeout_usec, boot_timeout_usec;
};

struct fleet_config {
	struct fleet_settings s;
	struct fleet_group *groups;
	size_t n_groups;
	struct fleet_device *devices;
	size_t n_devices;
	/* What is not an error but will keep devices from their update: "FILE:LINE: what" */
	char **warnings;
	size_t n_warnings;
};

/* Loads config_dir/otad.conf (optional: defaults when missing) and config_dir/fleet.d/NAME.conf in
 * lexical order. Every problem is reported as "FILE:LINE: what" in *err: syntax, unknown section
 * or key, bad value, a missing required key, a duplicate group or device, a device naming an
 * unknown group, an http:// URL while AllowInsecureHTTP=no, a URL without SHA256=, a MatchName=
 * glob that is malformed (an unclosed '[', a reversed range, an unknown class, a trailing '\').
 * A local Image= file that cannot be read is a warning in (*ret)->warnings, with the group's
 * image_errno set: a file put in place later is picked up by the next load (reload).
 * Returns 0, -EBADMSG (config error), or -ENOMEM. */
int fleet_config_load(const char *config_dir, struct fleet_config **ret, struct conf_error *err);
/* Accepts NULL, returns NULL. */
struct fleet_config *fleet_config_free(struct fleet_config *c);

const struct fleet_group *fleet_config_group(const struct fleet_config *c, const char *name);
const struct fleet_device *fleet_config_device(const struct fleet_config *c, const char *name);
/* The group of a device: the device's Group= when listed with one, else the first group (in file
 * order) whose MatchName/MatchAddress/MatchAdvertised rules match. adv may be NULL. */
const struct fleet_group *fleet_config_group_for(const struct fleet_config *c, const char *name,
						 const char *address, const uint8_t *adv,
						 size_t adv_len);

/* Parsers shared with the command line and D-Bus options. */
int fleet_parse_window(const char *s, struct fleet_window *ret); /* "HH:MM-HH:MM" */
int fleet_parse_mode(const char *s, enum upd_mode *ret);	 /* "test" | "confirm" */
int fleet_parse_pace_window(const char *s, unsigned *ret);	 /* "auto" | 1..32 */

/* ---- Policy ------------------------------------------------------------------------------- */

enum fleet_verdict {
	FLEET_CURRENT, /* runs the group's version: left alone */
	FLEET_UPDATE,  /* runs another, older version (or any other when downgrades are allowed) */
	FLEET_HOLD_NEWER,  /* runs a newer version and the group does not allow downgrades */
	FLEET_HOLD_WINDOW, /* needs the update, outside the maintenance window */
	FLEET_HOLD_IMAGE,  /* needs the update, but the group's image file was not there */
	FLEET_UNKNOWN,	   /* what it runs is not known or not a version */
	_FLEET_VERDICT_MAX,
};
const char *fleet_verdict_name(enum fleet_verdict v); /* "current", "update", ... */

struct fleet_decision {
	enum fleet_verdict verdict;
	char reason[200]; /* one line for logs and for Device1.Status */
};

/* minute_of_day: local time now, 0..1439. */
bool fleet_window_open(const struct fleet_group *g, unsigned minute_of_day);
/* What to do with a device of group g that runs running_version (NULL = unknown). */
void fleet_decide(const struct fleet_group *g, const char *running_version, unsigned minute_of_day,
		  struct fleet_decision *ret);
