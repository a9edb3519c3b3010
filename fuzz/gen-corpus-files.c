/* gen-corpus-files.c — seeds for the file parsers: otad.conf and fleet files, job files, Intel
 * HEX, dfu_application.zip and manifest.json, from the configurations, records and writers the
 * unit tests use (tests/unit/test-fleet-conf.c, test-fleet-store.c, test-json-doc.c,
 * tests/lib/imgfile.c) and the imgtool fixtures; DDI resources (test-ddi-resource.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "gen-corpus.h"
#include "otad/jobstore.h"

/* ---- otad.conf and fleet.d (fuzz-fleet-config: NUL-separated files) ---- */

static void put_texts(const char *name, const char *const *texts, size_t n)
{
	struct seed s = {0};

	for (size_t i = 0; i < n; i++) {
		if (i)
			seed_u8(&s, 0);
		seed_bytes(&s, texts[i], strlen(texts[i]));
	}
	seed_put("fleet-config", name, &s);
}

static void gen_fleet(void)
{
	/* test_config_loads_settings_groups_devices */
	static const char *const good[] = {
		"[Daemon]\nMaxJobs=4\nPollInterval=10s\nHistory=7\n[Update]\nRetries=3\n",
		"[Group]\nName=sensors\nVersion=2.0.0\nImage=/srv/fw/sensor.bin\n"
		"MatchName=sensor-*\nMaintenanceWindow=02:00-04:00 22:30-23:00\nRate=8k\n"
		"Window=2\nMaxParallel=1\n"
		"\n[Group]\nName=gw\nVersion=1.5.0+3\nAllowDowngrade=yes\nMode=confirm\n"
		"Image=https://fw.example.com/gw.bin\n"
		"SHA256=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
		"MatchAddress=C0:11:22:33:44:55\n"
		"\n[Device]\nName=sensor-1\nTransport=udp:127.0.0.1:1337\n"
		"[Device]\nName=bridge\nTransport=serial:/dev/ttyACM0\nGroup=gw\n",
	};
	static const char *const every_key[] = {
		"# every [Daemon] and [Update] key\n[Daemon]\nMaxJobs=64\nPollInterval=5min\n"
		"ScanInterval=30s\nRetryDelay=1h\nController=hci0\nHistory=10000\n"
		"StateDirectory=/var/lib/otad\nCacheDirectory=/var/cache/otad\nMaxImageSize=8M\n"
		"AllowInsecureHTTP=yes\nCAFile=/etc/ssl/ca.pem\n"
		"[Update]\nRate=0\nWindow=auto\nMode=confirm\nRetries=0\nResponseTimeout=500ms\n"
		"BootTimeout=2min\n",
		"; a continued line and a plain http URL\n[Group]\nName=plain\nVersion=0.0.1\n"
		"Image=http://192.0.2.1/fw.bin\nSHA256=0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdef\nMatchAdvertised=0201060302\n"
		"MatchName=a-* \\\n  b-*\nMaintenanceWindow=22:00-02:00\n",
		"[Device]\nName=ble-1\nTransport=ble:C0:11:22:33:44:55\n",
		"[Device]\nName=other\nTransport=udp:h\nGroup=plain\n",
	};
	/* expect_config_error() cases */
	static const char *const unknown_group[] = {
		"", "[Device]\nName=d\nTransport=udp:h\nGroup=nope\n"};
	static const char *const bad_syntax[] = {"[A]\n\n[B\n"};

	put_texts("good", good, 2);
	put_texts("every-key", every_key, 4);
	put_texts("unknown-group", unknown_group, 2);
	put_texts("bad-syntax", bad_syntax, 1);
}

/* ---- job files (fuzz-job-store: a selector byte, then the text) ---- */

/* test-fleet-store.c sample() */
static struct job_record sample(uint32_t id)
{
	struct job_record r = {.id = id,
			       .state = JOB_RUNNING,
			       .offset = 4096,
			       .total = 50000,
			       .bytes_sent = 6000,
			       .attempts = 1,
			       .mode = UPD_MODE_CONFIRM,
			       .retries = 2,
			       .pace = {.rate = 8192, .window = 2},
			       .pace_used = {.rate = 4096, .window = 1},
			       .automatic = true,
			       .created = 1700000000000000ull};

	snprintf(r.device, sizeof(r.device), "sensor-%u", id);
	snprintf(r.transport, sizeof(r.transport), "udp:127.0.0.1:%u", 4000 + id);
	snprintf(r.source, sizeof(r.source), "https://fw.example.com/a.bin");
	snprintf(r.image, sizeof(r.image), "/var/cache/otad/x.img");
	snprintf(r.step, sizeof(r.step), "upload");
	snprintf(r.error, sizeof(r.error), "two\nlines");
	snprintf(r.target_version, sizeof(r.target_version), "2.0.0");
	return r;
}

static void put_job(const char *name, uint8_t selector, const struct job_record *r)
{
	struct seed s = {0};
	char *text = NULL;

	if (job_record_format(r, &text) < 0) {
		fprintf(stderr, "job_record_format failed\n");
		exit(1);
	}
	seed_u8(&s, selector);
	seed_bytes(&s, text, strlen(text));
	seed_put("job-store", name, &s);
	free(text);
}

static void gen_jobs(void)
{
	struct job_record r = sample(7);

	put_job("running", 1, &r);
	r = sample(12);
	r.state = JOB_FAILED;
	r.automatic = false;
	r.pace.window = 0; /* auto */
	r.finished = 1700000123000000ull;
	snprintf(r.group, sizeof(r.group), "sensors");
	snprintf(r.failure, sizeof(r.failure), "timeout");
	snprintf(r.error, sizeof(r.error), "upload: no answer at off=40960");
	snprintf(r.sha256, sizeof(r.sha256), "%064d", 0);
	put_job("failed", 1, &r);
	put_job("names-another-file", 0, &r); /* 12 in 7.job */
}

/* ---- Intel HEX (tests/lib/imgfile.c tl_write_hex) ---- */

struct text {
	char d[8192];
	size_t n;
};

static void hex_record(struct text *t, uint8_t type, uint16_t addr, const uint8_t *d, size_t n,
		       const char *eol)
{
	unsigned sum = (unsigned)n + (addr >> 8) + (addr & 0xff) + type;

	t->n += (size_t)snprintf(t->d + t->n, sizeof(t->d) - t->n, ":%02zX%04X%02X", n, addr, type);
	for (size_t i = 0; i < n; i++) {
		t->n += (size_t)snprintf(t->d + t->n, sizeof(t->d) - t->n, "%02X", d[i]);
		sum += d[i];
	}
	t->n += (size_t)snprintf(t->d + t->n, sizeof(t->d) - t->n, "%02X%s",
				 (0x100 - (sum & 0xff)) & 0xff, eol);
}

static void hex_write(struct text *t, const uint8_t *p, size_t len, uint32_t addr, const char *eol)
{
	uint32_t upper = UINT32_MAX;

	t->n = 0;
	for (size_t off = 0; off < len;) {
		uint32_t a = addr + (uint32_t)off;
		size_t n = len - off < 16 ? len - off : 16;

		if (n > 0x10000 - (a & 0xffff))
			n = 0x10000 - (a & 0xffff);
		if (a >> 16 != upper) {
			uint8_t u[2] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16)};

			upper = a >> 16;
			hex_record(t, 0x04, 0, u, 2, eol);
		}
		hex_record(t, 0x00, (uint16_t)a, p + off, n, eol);
		off += n;
	}
	hex_record(t, 0x01, 0, NULL, 0, eol);
	if (t->n >= sizeof(t->d) - 1) {
		fprintf(stderr, "hex seed too long\n");
		exit(1);
	}
}

static void gen_ihex(void)
{
	static const char seg[] = ":020000021000EC\n:0400000300001000E9\n:03FFFD00010203FB\n"
				  ":020000022000DC\n:0400000004050607E6\n:00000001FF\n";
	uint8_t img[512];
	size_t n = seed_read_file("tests/data/image/imgtool-ed25519.bin", img, sizeof(img));
	struct text t;
	struct seed s = {0};

	/* text mode: the imgtool image at a Zephyr slot address, LF and CRLF */
	hex_write(&t, img, n, 0xc000, "\n");
	seed_u8(&s, 0x70);
	seed_bytes(&s, t.d, t.n);
	seed_put("ihex", "ed25519-slot", &s);
	seed_put_raw("image-file", "ed25519.hex", t.d, t.n);
	hex_write(&t, img, n, 0x1ff80, "\r\n"); /* crosses a 64 KiB boundary */
	s.n = 0;
	seed_u8(&s, 0xf8);
	seed_bytes(&s, t.d, t.n);
	seed_put("ihex", "ed25519-crlf-boundary", &s);
	/* segment addresses (02) and a start address (03) */
	s.n = 0;
	seed_u8(&s, 0x00);
	seed_bytes(&s, seg, strlen(seg));
	seed_put("ihex", "segments", &s);
	/* bytes mode: the encoder's output decoded */
	s.n = 0;
	seed_u8(&s, 0xf5);
	seed_bytes(&s, img, n);
	seed_put("ihex", "encode-ed25519", &s);
}

/* ---- dfu_application.zip and manifest.json ---- */

/* tests/lib/imgfile.c tl_manifest_one() */
static const char *manifest_one(const char *file, size_t size, const char *index)
{
	static char m[1024];

	snprintf(m, sizeof(m),
		 "{\n    \"format-version\": 0,\n    \"time\": 1700000000,\n    \"files\": [\n"
		 "        {\n            \"type\": \"application\",\n"
		 "            \"board\": \"nrf52840dk_nrf52840\",\n"
		 "            \"soc\": \"nRF52840_QIAA\",\n            \"load_address\": 49152,\n"
		 "            \"image_index\": %s,\n            \"slot_index_primary\": \"1\",\n"
		 "            \"slot_index_secondary\": \"2\",\n"
		 "            \"version_MCUBOOT\": \"1.4.2+7\",\n            \"size\": %zu,\n"
		 "            \"file\": \"%s\",\n            \"modtime\": 1700000000\n        }\n"
		 "    ],\n    \"name\": \"sensor\"\n}\n",
		 index, size, file);
	return m;
}

struct member {
	const char *name;
	const void *p;
	size_t len;
};

/* A zip of the members (stored or deflated), with fixed times so the seeds are reproducible. */
static void put_zip(const char *name, const struct member *m, size_t n, bool store)
{
	char path[] = "/tmp/otad-gen-corpus-XXXXXX";
	static uint8_t buf[8192];
	int fd = mkstemp(path), err = 0;
	zip_t *z;
	FILE *f;
	size_t len;

	if (fd < 0) {
		perror("mkstemp");
		exit(1);
	}
	close(fd);
	z = zip_open(path, ZIP_TRUNCATE, &err);
	for (size_t i = 0; z && i < n; i++) {
		zip_source_t *src = zip_source_buffer(z, m[i].p, m[i].len, 0);
		zip_int64_t idx = src ? zip_file_add(z, m[i].name, src, ZIP_FL_ENC_UTF_8) : -1;

		if (idx < 0 ||
		    zip_set_file_compression(z, (zip_uint64_t)idx,
					     store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0) < 0 ||
		    zip_file_set_mtime(z, (zip_uint64_t)idx, 1700000000, 0) < 0) {
			fprintf(stderr, "%s: %s\n", name, zip_strerror(z));
			exit(1);
		}
	}
	if (!z || zip_close(z) < 0 || !(f = fopen(path, "rb"))) {
		fprintf(stderr, "%s: writing the zip failed\n", name);
		exit(1);
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	unlink(path);
	seed_put_raw("image-file", name, buf, len);
}

static void gen_zip(void)
{
	static uint8_t app[512], net[512];
	static char man2[1024];
	size_t n_app = seed_read_file("tests/data/image/imgtool-ecdsa-p256.bin", app, sizeof(app));
	size_t n_net = seed_read_file("tests/data/image/imgtool-unsigned.bin", net, sizeof(net));
	const char *m = manifest_one("app.bin", n_app, "\"0\"");
	struct member one[] = {{"manifest.json", m, strlen(m)}, {"app.bin", app, n_app}};

	seed_put_raw("image-file", "unsigned.bin", net, n_net);
	put_zip("dfu-stored.zip", one, 2, true);
	put_zip("dfu-deflated.zip", one, 2, false);
	seed_put_raw("json", "manifest-one", m, strlen(m));
	snprintf(
		man2, sizeof(man2),
		"{\"format-version\": 0, \"files\": [\n"
		" {\"type\": \"application\", \"image_index\": 1, \"size\": %zu, \"file\": "
		"\"net.bin\"},\n"
		" {\"type\": \"application\", \"image_index\": \"0\", \"file\": \"app.bin\"}\n]}\n",
		n_net);
	{
		struct member two[] = {{"manifest.json", man2, strlen(man2)},
				       {"app.bin", app, n_app},
				       {"net.bin", net, n_net}};

		put_zip("dfu-two-images.zip", two, 3, true);
	}
	seed_put_raw("json", "manifest-two", man2, strlen(man2));
}

/* ---- JSON (test-json-doc.c) ---- */

static void gen_json(void)
{
	static const char nested[] =
		"{\n  \"format-version\": 0,\n  \"time\": 1700000000,\n  \"files\": [\n"
		"    {\"type\": \"application\", \"image_index\": \"0\",\n"
		"     \"size\": 123456, \"file\": \"app.bin\",\n"
		"     \"load_address\": 49152, \"nested\": {\"a\": [1, [2]]}}\n  ],\n"
		"  \"name\": \"demo\"\n}\n";
	static const char scalars[] = "[true, false, null, 0, -1, 1.5, 2e3, 18446744073709551615,"
				      " 18446744073709551616, \"\", {}, []]";
	static const char strings[] =
		"\xef\xbb\xbf[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20ac\\ud83d\\ude00\","
		" \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]";
	static const char bad[] = "{\"a\": 1,\n\"b\": 2\n\"c\": 3}";

	seed_put_raw("json", "nested", nested, strlen(nested));
	seed_put_raw("json", "scalars", scalars, strlen(scalars));
	seed_put_raw("json", "strings", strings, strlen(strings));
	seed_put_raw("json", "missing-comma", bad, strlen(bad));
}

/* ---- DDI resources (test-ddi-resource.c) ---- */

static void gen_ddi(void)
{
	static const char base[] =
		"{\"config\":{\"polling\":{\"sleep\":\"00:05:30\"}},\"_links\":{"
		"\"deploymentBase\":{\"href\":\"https://h/T/controller/v1/c/deploymentBase/"
		"42?c=-21\"},"
		"\"installedBase\":{\"href\":\"https://h/T/controller/v1/c/installedBase/41\"},"
		"\"configData\":{\"href\":\"https://h/T/controller/v1/c/configData\"}}}";
	static const char cancel_base[] = "{\"_links\":{\"cancelAction\":{\"href\":\"https://h/T/"
					  "controller/v1/c/cancelAction/7\"}}}";
	static const char deployment[] =
		"{\"id\":\"42\",\"deployment\":{\"download\":\"forced\",\"update\":\"attempt\","
		"\"maintenanceWindow\":\"unavailable\",\"chunks\":[{\"part\":\"os\",\"version\":"
		"\"2.1.0\",\"name\":\"fw\",\"artifacts\":[{\"filename\":\"app.bin\",\"hashes\":{"
		"\"sha256\":\"0b1ee2a7d3e8b2e3e0f4ac1c4cd5bcd8d1b11a6b0c07cd7c0e0a38a3f8b0b9a1\"},"
		"\"size\":65536,\"_links\":{\"download\":{\"href\":\"https://h/a/app.bin\"},"
		"\"download-http\":{\"href\":\"http://h/a/app.bin\"}}},{\"filename\":\"app.hex\","
		"\"_links\":{\"download-http\":{\"href\":\"http://h/a/app.hex\"}}}]}]},"
		"\"actionHistory\":{\"status\":\"RUNNING\",\"messages\":[\"m\"]}}";
	static const char cancel[] = "{\"id\":\"11\",\"cancelAction\":{\"stopId\":\"10\"}}";
	static const char error[] = "{\"exceptionClass\":\"x\",\"errorCode\":\"e\",\"message\":"
				    "\"Action does not exist.\"}";

	seed_put_raw("ddi", "base", base, strlen(base));
	seed_put_raw("ddi", "base-cancel", cancel_base, strlen(cancel_base));
	seed_put_raw("ddi", "deployment", deployment, strlen(deployment));
	seed_put_raw("ddi", "cancel", cancel, strlen(cancel));
	seed_put_raw("ddi", "error", error, strlen(error));
}

void gen_files(void)
{
	uint8_t img[512];
	size_t n = seed_read_file("tests/data/image/imgtool-ed25519.bin", img, sizeof(img));

	gen_fleet();
	gen_jobs();
	gen_ihex();
	gen_zip();
	gen_json();
	gen_ddi();
	seed_put_raw("image-file", "ed25519.bin", img, n);
}
