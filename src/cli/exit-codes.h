/* exit-codes.h — otactl's exit codes (documented in otactl(1)); one per class of failure, and how
 * a failure is reported under --json. */
#pragma once

#include "otad/update.h"

struct json;

enum {
	EXIT_OK = 0,
	EXIT_FAILURE_GENERIC = 1, /* unexpected internal failure; otad denied access */
	EXIT_USAGE = 2,		  /* bad command line; otad does not know the device or job */
	EXIT_IMAGE = 3,		  /* the image file is missing, malformed or badly signed */
	EXIT_LINK = 4,		  /* transport cannot be opened or was lost; otad not running */
	EXIT_TIMEOUT = 5,	  /* the device does not answer / did not come back */
	EXIT_DEVICE = 6,	  /* the device answered with an SMP error */
	EXIT_PROTOCOL = 7,	  /* malformed or unexpected answer */
	EXIT_VERIFY = 8,	  /* what landed in slot 1 is not our image */
	EXIT_REFUSED = 9,	  /* the bootloader refused the image; device runs the old one */
	EXIT_CANCELLED = 10,	  /* interrupted (SIGINT/SIGTERM) */
	EXIT_CONFIG = 11,	  /* otad refused its configuration (reload): FILE:LINE says why */
	EXIT_CONFLICT = 12,	  /* too late or too early: the job already ended, the device
				   * already has a job, otad's queue is full */
	EXIT_SECURITY = 13,	  /* BLE: pairing failed (wrong passkey, refused), or the device
				   * lost the key of our pairing */
	_EXIT_MAX,
};

int exit_code_for(enum upd_fail f);
/* "usage", "image", "link", ...: the "class" of the --json error object ("internal" for 1). */
const char *exit_code_name(int code);

/* Remembers an error message for the --json error object (all of them, in order). */
void exit_note_error(const char *msg);
/* Writes the member "error": {"class", "message", "exit_code"} into the object j is writing
 * (message NULL: the errors noted so far), and remembers that this failure was reported. */
void exit_json_error(struct json *j, int code, const char *message);
/* At the end of a command that exits with code under --json: {"error": {...}} on a line of
 * its own, unless the failure was reported already (or code is 0). */
void exit_report_json(int code);
