/* exit-codes.h — otactl's exit codes (documented in otactl(1)); one per class of failure. */
#pragma once

#include "otad/update.h"

enum {
	EXIT_OK = 0,
	EXIT_FAILURE_GENERIC = 1, /* unexpected internal failure */
	EXIT_USAGE = 2,           /* bad command line */
	EXIT_IMAGE = 3,           /* the image file is missing, malformed or badly signed */
	EXIT_LINK = 4,            /* transport cannot be opened or was lost */
	EXIT_TIMEOUT = 5,         /* the device does not answer / did not come back */
	EXIT_DEVICE = 6,          /* the device answered with an SMP error */
	EXIT_PROTOCOL = 7,        /* malformed or unexpected answer */
	EXIT_VERIFY = 8,          /* what landed in slot 1 is not our image */
	EXIT_REFUSED = 9,         /* the bootloader refused the image; device runs the old one */
	EXIT_CANCELLED = 10,      /* interrupted (SIGINT/SIGTERM) */
};

int exit_code_for(enum upd_fail f);
