/* main.c — otad: parses the options, builds the manager, runs the loop (otad(8)). */
#include "daemon/manager.h"
#include "util/log.h"
#include "util/macro.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static struct manager_options arg_opts = {.bus = BUS_SYSTEM};
static bool arg_check_config;
static int arg_verbosity = LOG_LVL_INFO;

static void help(void)
{
	printf("Usage: otad [OPTIONS]\n"
	       "\n"
	       "Keeps a fleet of Zephyr/MCUboot devices on the firmware its fleet files name, and\n"
	       "runs verified update jobs for D-Bus clients (org.otad1).\n"
	       "\n"
	       "      --user               use the user bus instead of the system bus\n"
	       "      --bus-address ADDR   connect to this bus (e.g. unix:path=/run/x)\n"
	       "      --config-dir DIR     otad.conf and fleet.d/ (default "
	       "$CONFIGURATION_DIRECTORY\n"
	       "                           or /etc/otad)\n"
	       "      --state-dir DIR      job state (default $STATE_DIRECTORY or /var/lib/otad)\n"
	       "      --cache-dir DIR      downloaded images (default $CACHE_DIRECTORY or\n"
	       "                           /var/cache/otad)\n"
	       "      --check-config       load the configuration, report what is wrong, exit\n"
	       "  -v, --verbose            debug messages\n"
	       "  -h, --help               this help; --version\n");
}

static int parse_args(int argc, char **argv)
{
	enum {
		OPT_USER = 0x100,
		OPT_BUS,
		OPT_CONFIG,
		OPT_STATE,
		OPT_CACHE,
		OPT_CHECK,
		OPT_VERSION
	};
	static const struct option options[] = {{"user", no_argument, NULL, OPT_USER},
						{"bus-address", required_argument, NULL, OPT_BUS},
						{"config-dir", required_argument, NULL, OPT_CONFIG},
						{"state-dir", required_argument, NULL, OPT_STATE},
						{"cache-dir", required_argument, NULL, OPT_CACHE},
						{"check-config", no_argument, NULL, OPT_CHECK},
						{"verbose", no_argument, NULL, 'v'},
						{"help", no_argument, NULL, 'h'},
						{"version", no_argument, NULL, OPT_VERSION},
						{}};
	int c;

	while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0) {
		switch (c) {
		case OPT_USER:
			arg_opts.bus = BUS_USER;
			break;
		case OPT_BUS:
			arg_opts.bus = BUS_ADDRESS;
			arg_opts.bus_address = optarg;
			break;
		case OPT_CONFIG:
			arg_opts.config_dir = optarg;
			break;
		case OPT_STATE:
			arg_opts.state_dir = optarg;
			break;
		case OPT_CACHE:
			arg_opts.cache_dir = optarg;
			break;
		case OPT_CHECK:
			arg_check_config = true;
			break;
		case 'v':
			arg_verbosity = LOG_LVL_DEBUG;
			break;
		case 'h':
			help();
			return 0;
		case OPT_VERSION:
			printf("otad %s\n", OTAD_VERSION);
			return 0;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return 1;
}

static int run(void)
{
	struct conf_error err = {""};
	struct manager *m = NULL;
	sd_event *e = NULL;
	int r = sd_event_default(&e);

	if (r < 0)
		return log_error_errno(r, "cannot create the event loop: %m");
	r = manager_new(e, &arg_opts, &m, &err);
	if (r < 0) {
		if (err.text[0])
			log_error("%s", err.text);
		else
			log_error_errno(r, "cannot start: %m");
		log_error("refusing to start with this configuration");
	} else if (arg_check_config) {
		printf("configuration in %s is valid: %zu group(s), %zu device(s)\n", m->config_dir,
		       m->config->n_groups, m->config->n_devices);
	} else {
		r = manager_bus_connect(m, arg_opts.bus, arg_opts.bus_address);
		if (r >= 0)
			r = manager_start(m);
		if (r >= 0)
			r = sd_event_loop(e);
	}
	manager_free(m);
	sd_event_unref(e);
	return r;
}

int main(int argc, char **argv)
{
	int r;

	log_set_prefix("otad");
	if (getenv("JOURNAL_STREAM"))
		log_open_journal(); /* stderr is the journal: send structured entries instead */
	r = parse_args(argc, argv);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	log_set_max_level(arg_verbosity);
	return run() < 0 ? 1 : 0;
}
