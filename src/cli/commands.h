/* commands.h — otactl's commands and the options they share. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/update.h"

struct cli_args {
	const char *transport;
	const char *key_path;
	bool json;
	bool mode_given, retries_given; /* for otad: otherwise the group's or [Update]'s */
	int verbosity;
	uint64_t timeout_usec;
	const char *pace_key;  /* NULL = the transport spec */
	const char *pace_file; /* NULL = $XDG_STATE_HOME/otad/pace */
	bool no_pace_memory;
	bool image_num_set; /* --image-num given: update that image only */
	struct upd_params params;
	int argc;
	char **argv;
};
extern struct cli_args arg;

int cmd_update(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_echo(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_params(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_pair(int argc, char **argv);
int cmd_unpair(int argc, char **argv);
int cmd_bonds(int argc, char **argv);
/* $XDG_STATE_HOME/otad/bonds (or ~/.local/state/otad/bonds); NULL: neither is set. */
const char *cli_bond_file(void);
/* Points the BLE transport at the bond store and checks that it parses; 0 or an exit code
 * (logged: the file, what is wrong, what to do). */
int cli_check_bonds(void);
/* "36 h 24 min", "4 min 22 s", "12 s" into buf. */
const char *format_duration(uint64_t seconds, char *buf, size_t size);

/* The link options make sense (a device unless scanning; a controller for BLE); 0 or -exit. */
int check_link_args(bool scan);
/* image upload FILE: the update flow up to the verify step. */
int run_update(const char *image_path, enum upd_step stop_after);
