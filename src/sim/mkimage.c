/* mkimage.c — "otasim mkimage": builds an MCUboot image for tests, demos and benchmarks
 * (img_build: deterministic payload from a seed, optional signature). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otad/image.h"
#include "sim/main.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"

static void mkimage_help(void)
{
	printf("otasim mkimage --version V --size N [--key PEM] [--seed S] [--header-size H] "
	       "OUT\n\n"
	       "Builds an MCUboot image of N payload bytes (k/M suffixes) with version V\n"
	       "(1.2.3 or 1.2.3+4), signed with the private key PEM (EC P-256 or Ed25519) when\n"
	       "given. The payload is a function of S (default 1); H is the header size\n"
	       "(default 0x200, as Zephyr builds).\n");
}

static int parse_header_size(const char *s, uint16_t *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v < IMG_HEADER_SIZE || v > UINT16_MAX)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

/* 0: build; 1: help shown; < 0: bad command line (reported). */
static int parse_args(int argc, char *argv[], struct img_build_opts *o, uint8_t **key,
		      size_t *key_len)
{
	static const struct option options[] = {{"version", required_argument, NULL, 'v'},
						{"size", required_argument, NULL, 's'},
						{"key", required_argument, NULL, 'k'},
						{"seed", required_argument, NULL, 'S'},
						{"header-size", required_argument, NULL, 'H'},
						{"help", no_argument, NULL, 'h'},
						{}};
	bool have_version = false, have_size = false;
	uint64_t v;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (c == 'v' && img_version_parse(optarg, &o->version) == 0) {
			have_version = true;
		} else if (c == 's' && parse_size(optarg, &v) == 0 && v > 0 &&
			   v <= 16 * 1024 * 1024) {
			o->payload_size = (size_t)v;
			have_size = true;
		} else if (c == 'k') {
			r = read_full_file(optarg, 64 * 1024, key, key_len);
			if (r < 0)
				return log_error_errno(r, "mkimage: %s: %m", optarg);
		} else if (c == 'S' && parse_u64(optarg, &v) == 0 && v <= UINT32_MAX) {
			o->seed = (uint32_t)v;
		} else if (c == 'H' && parse_header_size(optarg, &o->hdr_size) == 0) {
			continue;
		} else if (c == 'h') {
			mkimage_help();
			return 1;
		} else {
			if (c != '?')
				log_error("mkimage: bad value '%s'", optarg);
			return -EINVAL;
		}
	}
	if (!have_version || !have_size || optind != argc - 1) {
		mkimage_help();
		return -EINVAL;
	}
	return 0;
}

int sim_mkimage_main(int argc, char *argv[])
{
	struct img_build_opts o = {.seed = 1};
	_cleanup_free_ uint8_t *key = NULL, *img = NULL;
	size_t key_len = 0, img_len = 0;
	int r;

	r = parse_args(argc, argv, &o, &key, &key_len);
	if (r != 0)
		return r > 0 ? 0 : r == -EINVAL ? 2 : 1;
	o.key_pem = (const char *)key;
	o.key_pem_len = key_len;
	r = img_build(&o, &img, &img_len);
	if (r < 0)
		return log_error_errno(r, "mkimage: cannot build the image: %m"), 1;
	r = write_file_atomic(argv[optind], img, img_len, 0644);
	if (r < 0)
		return log_error_errno(r, "mkimage: %s: %m", argv[optind]), 1;
	return 0;
}
