/* test-soak.c — issue 6's bounded fault soak: otad on a private bus updates otasim devices over
 * UDP and emulated BLE (btvirt) round after round while a seeded PRNG ($OTAD_SOAK_SEED) injects
 * link losses and BLE disconnects at random offsets, device reboots mid-upload, dropped and
 * duplicated responses, the overrun fault (spi-lp-overrun), and SIGKILLs of otad mid-job (some
 * while a device swaps at its boot step, answering nothing for seconds). Checked from otasim's
 * traces and otad's state, each a violation when broken:
 *  - every job ends in a verified boot of its image, confirmed, or fails with a refusal on the
 *    overrun device only;
 *  - test/permanent is only ever sent for the hash of the job's image while slot 1 holds exactly
 *    the bytes of that image (the trace's written=), or bytes the injected overrun corrupted, in
 *    which case MCUboot must refuse them at the next boot; confirm only once the job's image runs;
 *  - no job is lost or run twice: ListJobs lists exactly the jobs started, each once, finished
 *    jobs stay finished across restarts, and no image is swapped in twice;
 *  - after every SIGKILL each file of otad's state directory parses with otad's own readers;
 *    temporary files of interrupted writes are the only other files allowed. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/btvirt.h"
#include "lib/otadctl.h"
#include "lib/simctl.h"
#include "otad/image.h"
#include "otad/jobstore.h"
#include "otad/update.h"
#include "util/fileio.h"
#include "util/hex.h"
#include "util/macro.h"

#define SPEED	 "20"
#define MAX_DEVS 5
#define MAX_JOBS 256

/* ---- the PRNG (splitmix64): every choice of the run follows from the printed seed ---------- */

static uint64_t prng_state;

static uint64_t prng_next(void)
{
	uint64_t z = (prng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(prng_next() % n) : 0;
}

/* ---- bookkeeping ---------------------------------------------------------------------------- */

struct counts {
	unsigned link_loss, ble_disconnect, reboot, drop, dup, corrupt, refused, sigkill;
	unsigned sigkill_boot;	/* of them, while the slow device's job was at its boot step */
	unsigned refused_again; /* refused boots of a device that had seen one before */
	unsigned jobs, verified, refused_jobs, temp_files, violations;
};

static struct counts cnt;

static void violation(const char *fmt, ...) _printf_(1, 2);
static void violation(const char *fmt, ...)
{
	va_list ap;

	fputs("soak: VIOLATION: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	cnt.violations++;
}

struct dev {
	const char *name, *kind, *profile;
	bool overrun;
	/* in real time in SIGKILL rounds: its swap outlasts a restart of otad and its first
	 * answers; at SPEED in the others, where nothing waits for that */
	bool slow;
	bool active;	   /* takes part in this round */
	bool refused_seen; /* its bootloader refused an image: sequential uploads from then on */
	char udp_addr[32]; /* UDP: the same address every round, so otad knows it as one device */
	struct tl_sim sim;
	char trace[600];
};

struct job {
	uint32_t id;
	unsigned dev, round;
	char image[600];
	uint8_t sha[32];  /* of the file: what slot 1 must hold */
	uint8_t hash[32]; /* its SHA-256 TLV: what test/confirm name */
	char state[16];
	unsigned killed_at_boot; /* otad SIGKILLed while this job was at its boot step */
};

struct soak {
	struct tl_dbus bus;
	struct btvirt bv;
	bool ble;
	struct tl_otad otad;
	char conf_dir[600], state_dir[700], cache_dir[700];
	sd_bus *b;
	struct dev devs[MAX_DEVS];
	unsigned n_devs;
	struct job jobs[MAX_JOBS];
	unsigned n_jobs;
};

static bool under_valgrind(void)
{
	const char *w = getenv("OTAD_TEST_WRAPPER");

	return w && strstr(w, "valgrind");
}

/* ---- otad ----------------------------------------------------------------------------------- */

static void otad_start(struct soak *s)
{
	assert_int_equal(tl_otad_start(&s->otad, s->bus.address, s->conf_dir, s->state_dir,
				       s->cache_dir, NULL),
			 0);
}

static void bus_connect(struct soak *s)
{
	assert_int_equal(sd_bus_new(&s->b), 0);
	assert_true(sd_bus_set_address(s->b, s->bus.address) >= 0);
	assert_true(sd_bus_set_bus_client(s->b, 1) >= 0);
	assert_true(sd_bus_start(s->b) >= 0);
}

static uint32_t start_update(struct soak *s, const char *spec, const char *image)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path;
	uint32_t id = 0;
	int r;

	r = sd_bus_call_method(s->b, "org.otad1", "/org/otad1", "org.otad1.Manager1", "StartUpdate",
			       &err, &reply, "ssa{sv}", spec, image, 1, "retries", "u", 3);
	if (r < 0)
		fprintf(stderr, "StartUpdate %s: %s\n", spec, err.message);
	assert_true(r >= 0);
	assert_true(sd_bus_message_read(reply, "o", &path) > 0);
	assert_int_equal(sscanf(path, "/org/otad1/job/%" SCNu32, &id), 1);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&err);
	return id;
}

/* ListJobs into ids/states (and steps, when not NULL); returns the number of jobs. */
static unsigned list_jobs_steps(struct soak *s, uint32_t *ids, char (*states)[16],
				char (*steps)[16], unsigned max)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path, *dev, *src, *state, *step;
	uint64_t off, total;
	uint32_t id;
	unsigned n = 0;

	assert_true(sd_bus_call_method(s->b, "org.otad1", "/org/otad1", "org.otad1.Manager1",
				       "ListJobs", &err, &reply, NULL) >= 0);
	assert_true(sd_bus_message_enter_container(reply, 'a', "(uosssstt)") >= 0);
	while (sd_bus_message_read(reply, "(uosssstt)", &id, &path, &dev, &src, &state, &step, &off,
				   &total) > 0) {
		if (n < max) {
			ids[n] = id;
			snprintf(states[n], 16, "%.15s", state);
			if (steps)
				snprintf(steps[n], 16, "%.15s", step);
		}
		n++;
	}
	sd_bus_message_unref(reply);
	return n;
}

static unsigned list_jobs(struct soak *s, uint32_t *ids, char (*states)[16], unsigned max)
{
	return list_jobs_steps(s, ids, states, NULL, max);
}

/* Whether job id is running its boot step (its device swapping, answering nothing); running:
 * whether it still runs at all. */
static bool job_booting(struct soak *s, uint32_t id, bool *running)
{
	static uint32_t ids[MAX_JOBS];
	static char states[MAX_JOBS][16], steps[MAX_JOBS][16];
	unsigned n = list_jobs_steps(s, ids, states, steps, MAX_JOBS);

	*running = false;
	for (unsigned i = 0; i < n && i < MAX_JOBS; i++)
		if (ids[i] == id) {
			*running = strcmp(states[i], "running") == 0;
			return *running && strcmp(steps[i], "boot") == 0;
		}
	return false;
}

static void on_pace_problem(const char *text, void *user_data)
{
	violation("state: pace memory: %s", text);
}

/* Every file of the state directory through otad's own readers. */
static void check_state_dir(struct soak *s)
{
	char dir[800];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/jobs", s->state_dir);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[1100];
		_cleanup_free_ uint8_t *text = NULL;
		struct conf_error err = {""};
		struct job_record r;
		size_t len, digits = strspn(e->d_name, "0123456789");

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (digits && strncmp(e->d_name + digits, ".job.", 5) == 0 &&
		    strlen(e->d_name + digits + 5) == 6) {
			cnt.temp_files++; /* an interrupted write: removed at load, never read */
			continue;
		}
		if (!digits || strcmp(e->d_name + digits, ".job") != 0) {
			violation("state: unexpected file %s", path);
			continue;
		}
		if (read_full_file(path, 64 * 1024, &text, &len) < 0 || memchr(text, 0, len) ||
		    job_record_parse(path, (const char *)text, &r, &err) < 0)
			violation("state: %s does not parse: %s", path, err.text);
		else if (r.id != strtoul(e->d_name, NULL, 10))
			violation("state: %s holds job %" PRIu32, path, r.id);
	}
	closedir(d);
	snprintf(dir, sizeof(dir), "%s/pace", s->state_dir);
	if (access(dir, F_OK) == 0) {
		struct upd_pace_memory m;
		int r = upd_pace_memory_load(dir, "soak-no-such-key", &m, on_pace_problem, NULL);

		if (r != -ENOENT)
			violation("state: %s does not parse (%s)", dir, strerror(-r));
		for (unsigned i = 0; i < s->n_devs; i++) {
			if (!s->devs[i].sim.spec[0])
				continue;
			r = upd_pace_memory_load(dir, s->devs[i].sim.spec, &m, on_pace_problem, NULL);
			if (r < 0 && r != -ENOENT)
				violation("state: %s: %s: %s", dir, s->devs[i].sim.spec,
					  strerror(-r));
		}
	}
}

static bool job_record_of(struct soak *s, uint32_t id, struct job_record *ret)
{
	char path[800];
	_cleanup_free_ uint8_t *text = NULL;
	struct conf_error err = {""};
	size_t len;

	snprintf(path, sizeof(path), "%s/jobs/%" PRIu32 ".job", s->state_dir, id);
	return read_full_file(path, 64 * 1024, &text, &len) >= 0 &&
	       job_record_parse(path, (const char *)text, ret, &err) >= 0;
}

/* ---- devices and their faults ------------------------------------------------------------ */

static void add_list(char *buf, size_t size, uint32_t v)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s%" PRIu32, n ? "," : "", v);
}

/* A UDP address on 127.0.0.1 that nothing uses now: the kernel's pick for a socket bound to port
 * 0, closed again. */
static void pick_udp_addr(char *buf, size_t size)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	snprintf(buf, size, "127.0.0.1:%u", ntohs(a.sin_port));
}

/* Starts d for one round with random faults over an image of len bytes; realtime: the slow
 * device runs in real time (a round with SIGKILLs, which may land in its boot step). */
static void dev_start(struct soak *s, struct dev *d, unsigned round, size_t len, bool reboot,
		      bool realtime)
{
	static char losses[128], reboots[64], drops[64], dups[64], lt[32], seed[32];
	const char *extra[32] = {"--speed", d->slow && realtime ? "1" : SPEED, "--profile",
				 d->profile};
	bool ble = strcmp(d->kind, "ble") == 0;
	unsigned n = 4, k = 1 + below(3);
	char trace[600];

	losses[0] = reboots[0] = drops[0] = dups[0] = 0;
	for (unsigned i = 0; i < k; i++)
		add_list(losses, sizeof(losses), below((uint32_t)len));
	if (reboot)
		add_list(reboots, sizeof(reboots), below((uint32_t)len));
	add_list(drops, sizeof(drops), 3 + below(30));
	add_list(dups, sizeof(dups), 3 + below(30));
	snprintf(lt, sizeof(lt), "%u", 1000 + below(2000));
	snprintf(seed, sizeof(seed), "%" PRIu64, prng_next() % 1000000);
	snprintf(trace, sizeof(trace), "%s/%s-r%u.trace", tl_tmpdir(), d->name, round);
	/* The overrun device carries the overrun fault (and duplicates): each lost answer to its
	 * first chunk costs otad's erase allowance (8 s) on this profile without progressive erase,
	 * and a slow attempt makes the retry after a refusal slower still (see the report). */
	if (!d->overrun && !d->slow) {
		extra[n++] = ble ? "--disconnect-at" : "--link-loss-at";
		extra[n++] = losses;
		if (!ble) {
			extra[n++] = "--link-loss-time";
			extra[n++] = lt;
		}
		if (reboots[0]) {
			extra[n++] = "--reboot-at";
			extra[n++] = reboots;
		}
		extra[n++] = "--drop-response";
		extra[n++] = drops;
	}
	extra[n++] = "--dup-response";
	extra[n++] = dups;
	if (!ble) {
		if (!d->udp_addr[0])
			pick_udp_addr(d->udp_addr, sizeof(d->udp_addr));
		extra[n++] = "--udp";
		extra[n++] = d->udp_addr;
	}
	extra[n++] = "--seed";
	extra[n++] = seed;
	extra[n++] = "--trace"; /* one trace per round, the device (state) stays the same */
	extra[n++] = trace;
	extra[n] = NULL;
	if (ble)
		assert_int_equal(tl_sim_start_ble(&d->sim, d->name, s->bv.spec, extra), 0);
	else
		assert_int_equal(tl_sim_start(&d->sim, d->name, d->kind, extra), 0);
	snprintf(d->sim.trace, sizeof(d->sim.trace), "%.500s", trace);
	snprintf(d->trace, sizeof(d->trace), "%s", trace);
}

/* ---- the trace of one device in one round --------------------------------------------------- */

static bool hex_is(const char *hex, const uint8_t md[32])
{
	char h[65];

	return hex && strcmp(hex, hex_encode(md, 32, h)) == 0;
}

static bool is(const struct tl_event *e, const char *name, const char *key, const char *value)
{
	const char *v = key ? tl_ev_get(e, key) : NULL;

	return strcmp(e->name, name) == 0 && (!key || (v && strcmp(v, value) == 0));
}

/* Walks the trace: what slot 1 holds (the last completed upload's written=, forgotten at a new
 * upload, an erase or a boot), and whether each test/confirm was for verified bytes. */
static void check_trace(struct dev *d, const struct job *j)
{
	struct tl_event *ev = NULL;
	size_t n = 0;
	char slot1[65] = "", boot_hash[65] = "";
	bool corrupt_session = false, expect_refusal = false, confirmed = false;
	unsigned swaps = 0;

	assert_int_equal(tl_trace_load(d->trace, &ev, &n), 0);
	for (size_t i = 0; i < n; i++) {
		const struct tl_event *e = &ev[i];
		const char *res = tl_ev_get(e, "result");

		cnt.link_loss += strcmp(e->name, "link-loss") == 0;
		cnt.ble_disconnect += is(e, "disconnect", "cause", "fault");
		cnt.reboot += is(e, "upload", "result", "reboot");
		cnt.drop += is(e, "drop", "reason", "fault");
		cnt.dup += is(e, "rsp", "dup", "1");
		cnt.corrupt += is(e, "upload", "result", "corrupt");
		if (strcmp(e->name, "upload") == 0 && res) {
			if (tl_ev_u64(e, "off") == 0 && tl_ev_u64(e, "expected") == 0 &&
			    (strcmp(res, "ok") == 0 || strcmp(res, "corrupt") == 0)) {
				slot1[0] = 0; /* a new upload: slot 1 is being rewritten */
				corrupt_session = false;
			}
			corrupt_session |= strcmp(res, "corrupt") == 0;
			/* a refusal is remembered (before the retry, across SIGKILLs, for later
			 * jobs): one request at a time from then on */
			if (d->refused_seen && tl_ev_u64(e, "inflight") > 1)
				violation("%s: %" PRIu64 " requests in flight at offset %" PRIu64
					  " after a refusal",
					  d->trace, tl_ev_u64(e, "inflight"), tl_ev_u64(e, "off"));
			if (tl_ev_get(e, "written"))
				snprintf(slot1, sizeof(slot1), "%s", tl_ev_get(e, "written"));
		} else if (strcmp(e->name, "erase") == 0 && tl_ev_u64(e, "rc") == 0) {
			slot1[0] = 0;
		} else if (strcmp(e->name, "boot") == 0) {
			if (expect_refusal && strcmp(res, "refused") != 0)
				violation("%s: corrupt slot tested, boot %s instead of a refusal",
					  d->trace, res);
			expect_refusal = false;
			if (strcmp(res, "refused") == 0) {
				cnt.refused++;
				cnt.refused_again += d->refused_seen;
				d->refused_seen = true;
			}
			if (strncmp(res, "swap", 4) == 0 || strcmp(res, "refused") == 0)
				slot1[0] = 0;
			confirmed = false; /* what runs now is confirmed once a confirm says so */
			if (strncmp(res, "swap", 4) == 0 && hex_is(tl_ev_get(e, "hash"), j->hash))
				swaps++;
			snprintf(boot_hash, sizeof(boot_hash), "%s", tl_ev_get(e, "hash"));
		} else if (strcmp(e->name, "state-write") == 0 && res &&
			   (strcmp(res, "test") == 0 || strcmp(res, "permanent") == 0)) {
			char want[65];

			if (!hex_is(tl_ev_get(e, "hash"), j->hash))
				violation("%s: %s of %s, not the job's image", d->trace, res,
					  tl_ev_get(e, "hash"));
			else if (hex_is(slot1, j->sha))
				; /* slot 1 holds exactly the image's bytes */
			else if (slot1[0] && d->overrun && corrupt_session)
				expect_refusal = true; /* only MCUboot can tell: it must */
			else
				violation("%s: %s sent while slot 1 holds %s, not %s", d->trace,
					  res, slot1[0] ? slot1 : "no completed upload",
					  hex_encode(j->sha, 32, want));
		} else if (is(e, "state-write", "result", "confirm")) {
			if (!hex_is(boot_hash, j->hash))
				violation("%s: confirm while %s runs, not the job's image",
					  d->trace, boot_hash);
			confirmed = tl_ev_u64(e, "rc") == 0;
		}
	}
	free(ev);
	if (swaps > 1)
		violation("%s: job %" PRIu32 "'s image swapped in %u times", d->trace, j->id,
			  swaps);
	if (strcmp(j->state, "succeeded") == 0 && (swaps != 1 || !hex_is(boot_hash, j->hash)))
		violation("%s: job %" PRIu32 " succeeded but the device does not run its image",
			  d->trace, j->id);
	else if (strcmp(j->state, "succeeded") == 0 && !confirmed)
		violation("%s: job %" PRIu32 " succeeded but its image runs unconfirmed (MCUboot "
			  "reverts it at the next reset)",
			  d->trace, j->id);
}

/* ---- one round: an image per device, faults, jobs, maybe a SIGKILL, the checks --------------- */

static struct job *new_job(struct soak *s, unsigned dev, unsigned round)
{
	struct job *j = &s->jobs[s->n_jobs++];
	char name[64], version[32], size[16];
	struct img_diag diag;
	struct img *img = NULL;

	assert_true(s->n_jobs <= MAX_JOBS);
	*j = (struct job){.dev = dev, .round = round};
	snprintf(name, sizeof(name), "img-r%u-d%u.bin", round, dev);
	snprintf(version, sizeof(version), "2.%u.%u", round, dev);
	/* 16-48 KiB; the overrun device's retries after a refusal run slowly, and the slow device
	 * runs in real time, so at most 24 */
	snprintf(size, sizeof(size), "%u",
		 (16 + below(s->devs[dev].overrun || s->devs[dev].slow ? 9 : 33)) * 1024);
	snprintf(j->image, sizeof(j->image), "%s", tl_mkimage(name, version, size));
	assert_int_equal(img_load(j->image, NULL, 0, &img, &diag), 0);
	memcpy(j->sha, img->file_sha, 32);
	memcpy(j->hash, img->info.hash, 32);
	img_free(img);
	return j;
}

static size_t image_len(const struct job *j)
{
	_cleanup_free_ uint8_t *data = NULL;
	size_t len = 0;

	assert_int_equal(read_full_file(j->image, 1024 * 1024, &data, &len), 0);
	return len;
}

static bool any_running(struct soak *s)
{
	uint32_t ids[MAX_JOBS];
	char states[MAX_JOBS][16];
	unsigned n = list_jobs(s, ids, states, MAX_JOBS);

	for (unsigned i = 0; i < n && i < MAX_JOBS; i++)
		if (strcmp(states[i], "running") == 0)
			return true;
	return false;
}

/* The furthest any device got in this round's upload. */
static uint64_t furthest(struct soak *s)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < s->n_devs; i++) {
		struct tl_event *ev = NULL;
		size_t n = 0;

		if (!s->devs[i].active || tl_trace_load(s->devs[i].trace, &ev, &n) < 0)
			continue;
		for (size_t k = 0; k < n; k++)
			if (strcmp(ev[k].name, "upload") == 0)
				m = MAX(m, tl_ev_u64(&ev[k], "next"));
		free(ev);
	}
	return m;
}

/* The job of this round (jobs from first on) on the slow device, NULL when it takes no part. */
static struct job *slow_job(struct soak *s, unsigned first)
{
	for (unsigned k = first; k < s->n_jobs; k++)
		if (s->devs[s->jobs[k].dev].slow)
			return &s->jobs[k];
	return NULL;
}

/* Whether d's trace of this round shows it reset and not booted again: swapping, deaf. */
static bool dev_down(const struct dev *d)
{
	struct tl_event *ev = NULL;
	size_t n = 0;
	bool down = false;

	if (tl_trace_load(d->trace, &ev, &n) < 0)
		return false;
	for (size_t k = 0; k < n; k++)
		if (strcmp(ev[k].name, "reset") == 0 || strcmp(ev[k].name, "boot") == 0)
			down = strcmp(ev[k].name, "reset") == 0;
	free(ev);
	return down;
}

/* SIGKILL otad while a job runs: at an upload offset, after a random delay (which also lands in
 * test, reset, boot wait and confirm), or once the slow device's job is at its boot step and the
 * device went down (swapping for seconds: the restarted otad must wait for it, not take its
 * silence for a failure, and then confirm the image; check_trace() sees that it did). Killed
 * before the device went down, the restarted otad would still find it answering, and reset it
 * again itself. Then every state file must be whole. */
static void kill_mid_job(struct soak *s, unsigned first)
{
	unsigned mode = below(3); /* 0: at an offset, 1: after a delay, 2: in the boot step */
	uint64_t target = 2048 + below(14 * 1024);
	int delay_ms = (int)below(1500);
	struct job *slow = slow_job(s, first);
	bool booting = false, running = true;

	for (int i = 0; i < tl_timeout(30000) / 10; i++) {
		bool now;

		if (mode == 0) {
			now = furthest(s) >= target;
		} else if (mode == 1) {
			now = i * 10 >= delay_ms;
		} else { /* until the slow device's job is at its boot step, the device down */
			booting = slow && job_booting(s, slow->id, &running) &&
				  dev_down(&s->devs[slow->dev]);
			now = !slow || booting || !running;
		}
		if (now)
			break;
		usleep(10000);
	}
	if (!any_running(s))
		return; /* all done already: no kill this round */
	tl_otad_kill9(&s->otad);
	cnt.sigkill++;
	if (booting) {
		cnt.sigkill_boot++;
		slow->killed_at_boot++;
		printf("soak: otad SIGKILLed at the boot step of job %" PRIu32 " (%s)\n", slow->id,
		       s->devs[slow->dev].name);
	}
	check_state_dir(s);
	otad_start(s);
}

static void wait_round(struct soak *s, unsigned first)
{
	uint32_t ids[MAX_JOBS];
	char states[MAX_JOBS][16];

	for (int t = 0; t < tl_timeout(120000) / 100; t++) {
		unsigned n = list_jobs(s, ids, states, MAX_JOBS), open = 0;

		for (unsigned i = 0; i < n && i < MAX_JOBS; i++)
			for (unsigned k = first; k < s->n_jobs; k++)
				if (ids[i] == s->jobs[k].id) {
					snprintf(s->jobs[k].state, 16, "%.15s", states[i]);
					open += strcmp(states[i], "running") == 0 ||
						strcmp(states[i], "queued") == 0;
				}
		if (!open)
			return;
		usleep(100000);
	}
	fail_msg("round did not finish in time");
}

static void check_job_end(struct soak *s, struct job *j)
{
	struct job_record r;
	struct dev *d = &s->devs[j->dev];

	cnt.jobs++;
	if (!job_record_of(s, j->id, &r)) {
		violation("job %" PRIu32 ": no state file", j->id);
		return;
	}
	if (strcmp(j->state, "succeeded") == 0) {
		cnt.verified++;
	} else if (strcmp(j->state, "failed") == 0 && d->overrun &&
		   strcmp(r.failure, "refused") == 0) {
		/* acceptable: the bootloader refused the overrun-corrupted image after every
		 * retry at a safer pace */
		cnt.refused_jobs++;
	} else {
		violation("job %" PRIu32 " on %s ended %s (%s: %s)%s", j->id, d->name, j->state,
			  r.failure, r.error,
			  j->killed_at_boot ? " after otad was SIGKILLed during its boot step"
					    : "");
	}
	check_trace(d, j);
}

/* BLE rounds and SIGKILL rounds alternate: btvirt never tells a peripheral that its central's
 * controller went away (no supervision timeout), so after a SIGKILL of otad mid-connection
 * otasim would wait for ever on a dead link instead of advertising again, as no radio does. */
static void run_round(struct soak *s, unsigned round, unsigned kills)
{
	unsigned first = s->n_jobs, rebooter = below(2); /* lan0 or lan1 */

	for (unsigned i = 0; i < s->n_devs; i++) {
		struct job *j;

		s->devs[i].active = strcmp(s->devs[i].kind, "ble") != 0 || kills == 0;
		if (!s->devs[i].active)
			continue;
		j = new_job(s, i, round);
		dev_start(s, &s->devs[i], round, image_len(j), i == rebooter || below(5) == 0,
			  kills > 0);
	}
	for (unsigned k = first; k < s->n_jobs; k++)
		s->jobs[k].id = start_update(s, s->devs[s->jobs[k].dev].sim.spec, s->jobs[k].image);
	for (unsigned k = 0; k < kills; k++)
		kill_mid_job(s, first);
	wait_round(s, first);
	/* all told to stop at once: each syncs its state file and exits on its own */
	for (unsigned i = 0; i < s->n_devs; i++)
		if (s->devs[i].active)
			tl_proc_kill(&s->devs[i].sim.proc, SIGTERM);
	for (unsigned i = 0; i < s->n_devs; i++)
		if (s->devs[i].active)
			assert_int_equal(tl_sim_stop(&s->devs[i].sim), 0);
	for (unsigned k = first; k < s->n_jobs; k++)
		check_job_end(s, &s->jobs[k]);
}

/* No job lost, none run twice or added: ListJobs against what the test started. */
static void check_job_list(struct soak *s)
{
	uint32_t ids[MAX_JOBS];
	char states[MAX_JOBS][16];
	unsigned n = list_jobs(s, ids, states, MAX_JOBS);

	if (n != s->n_jobs)
		violation("ListJobs lists %u jobs, %u were started", n, s->n_jobs);
	for (unsigned k = 0; k < s->n_jobs; k++) {
		unsigned seen = 0;

		for (unsigned i = 0; i < n && i < MAX_JOBS; i++)
			if (ids[i] == s->jobs[k].id) {
				seen++;
				if (strcmp(states[i], s->jobs[k].state) != 0)
					violation("job %" PRIu32 " was %s, is now %s",
						  s->jobs[k].id, s->jobs[k].state, states[i]);
			}
		if (seen != 1)
			violation("job %" PRIu32 " listed %u times", s->jobs[k].id, seen);
	}
}

#define SOAK_MAX_ROUNDS 40
/* The counts. */
#define SOAK_MIN_DISCONNECTS 100
#define SOAK_MIN_REBOOTS     20
#define SOAK_MIN_SIGKILLS    20
#define SOAK_MIN_BOOT_KILLS  3

/* The last restart after the rounds adds one SIGKILL. */
static bool counts_reached(void)
{
	return cnt.link_loss + cnt.ble_disconnect >= SOAK_MIN_DISCONNECTS &&
	       cnt.reboot >= SOAK_MIN_REBOOTS && cnt.sigkill + 1 >= SOAK_MIN_SIGKILLS &&
	       cnt.sigkill_boot >= SOAK_MIN_BOOT_KILLS && cnt.drop > 0 && cnt.dup > 0;
}

static void test_fault_soak(void **state)
{
	struct soak *s = calloc(1, sizeof(*s));
	const char *env = getenv("OTAD_SOAK_SEED"), *env_rounds = getenv("OTAD_SOAK_ROUNDS");
	bool vg = under_valgrind();
	unsigned rounds = env_rounds ? (unsigned)atoi(env_rounds) : vg ? 3 : 24;
	bool counts = !vg && !env_rounds; /* the counts, below */
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
	char conf[1024];
	struct timespec t0, t1;

	assert_non_null(s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	prng_state = seed;
	printf("soak: seed %" PRIu64 " (OTAD_SOAK_SEED=%" PRIu64 " repeats this run)\n", seed,
	       seed);
	if (vg)
		printf("soak: under valgrind: %u rounds instead of 24, the issue's counts are "
		       "checked by the normal build only\n",
		       rounds);
	assert_int_equal(tl_dbus_start(&s->bus), 0);
	s->ble = btvirt_available() && btvirt_start(&s->bv) == 0;
	if (!s->ble)
		printf("soak: btvirt not available: no BLE device\n");
	s->devs[s->n_devs++] = (struct dev){.name = "lan0", .kind = "udp", .profile = "lan"};
	s->devs[s->n_devs++] = (struct dev){.name = "lan1", .kind = "udp", .profile = "lan"};
	s->devs[s->n_devs++] = (struct dev){
		.name = "overrun0", .kind = "udp", .profile = "spi-lp-overrun", .overrun = true};
	/* spi-lp in real time: a 16-24 KiB image swaps for 5 s or more, longer than otad takes to
	 * restart and to give up on three unanswered requests (ResponseTimeout=500ms) */
	s->devs[s->n_devs++] =
		(struct dev){.name = "slow0", .kind = "udp", .profile = "spi-lp", .slow = true};
	if (s->ble)
		s->devs[s->n_devs++] =
			(struct dev){.name = "soakble0", .kind = "ble", .profile = "spi-hp"};
	snprintf(s->conf_dir, sizeof(s->conf_dir), "%s", tl_path("otad"));
	snprintf(s->state_dir, sizeof(s->state_dir), "%s/state", s->conf_dir);
	snprintf(s->cache_dir, sizeof(s->cache_dir), "%s/cache", s->conf_dir);
	snprintf(conf, sizeof(conf),
		 "[Daemon]\nPollInterval=0\nMaxJobs=8\nHistory=1000\n%s%s\n"
		 "[Update]\nResponseTimeout=%dms\nBootTimeout=%ds\nRetries=3\n",
		 s->ble ? "Controller=" : "", s->ble ? s->bv.spec : "", tl_timeout(500),
		 tl_timeout(20));
	tl_write_file(s->conf_dir, "otad.conf", conf);
	otad_start(s);
	bus_connect(s);
	/* The faults are drawn at random offsets, and one drawn beyond where an attempt ends
	 * (a reboot or SIGKILL came first) never fires: after the 24 rounds, more (up to
	 * SOAK_MAX_ROUNDS) until the counts are reached, not a count left to chance. */
	for (unsigned r = 0; r < rounds || (counts && r < SOAK_MAX_ROUNDS && !counts_reached());
	     r++) {
		run_round(s, r, s->ble && r % 2 == 0 ? 0 : 2);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("soak: round %u (%.1f s): %u jobs, %u faults so far, %u violations\n", r + 1,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		       s->n_jobs,
		       cnt.link_loss + cnt.ble_disconnect + cnt.reboot + cnt.drop + cnt.dup +
			       cnt.corrupt + cnt.sigkill,
		       cnt.violations);
		fflush(stdout);
	}
	/* a last restart: finished jobs stay finished, none is lost or started again */
	tl_otad_kill9(&s->otad);
	cnt.sigkill++;
	check_state_dir(s);
	otad_start(s);
	check_job_list(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("soak: %u faults injected, %u jobs verified, %u violations\n",
	       cnt.link_loss + cnt.ble_disconnect + cnt.reboot + cnt.drop + cnt.dup + cnt.corrupt +
		       cnt.sigkill,
	       cnt.verified, cnt.violations);
	printf("soak:   disconnects %u (UDP link losses %u, BLE disconnects %u), device reboots "
	       "%u, otad SIGKILLs %u (%u during a boot step),\n"
	       "soak:   responses dropped %u, duplicated %u, overrun-corrupted chunks %u (boots "
	       "refused %u, %u of them after the device's first)\n"
	       "soak:   %u jobs: %u verified boots, %u failed with the bootloader's refusal after "
	       "all retries (overrun device only); %u temporary files seen after SIGKILLs; "
	       "%.1f s\n",
	       cnt.link_loss + cnt.ble_disconnect, cnt.link_loss, cnt.ble_disconnect, cnt.reboot,
	       cnt.sigkill, cnt.sigkill_boot, cnt.drop, cnt.dup, cnt.corrupt, cnt.refused,
	       cnt.refused_again, cnt.jobs, cnt.verified, cnt.refused_jobs, cnt.temp_files,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	fflush(stdout);
	sd_bus_flush_close_unref(s->b);
	assert_int_equal(tl_otad_stop(&s->otad), 0);
	if (s->ble)
		btvirt_stop(&s->bv);
	tl_dbus_stop(&s->bus);
	assert_int_equal(cnt.violations, 0);
	if (counts) {
		assert_true(cnt.link_loss + cnt.ble_disconnect >= SOAK_MIN_DISCONNECTS);
		assert_true(cnt.reboot >= SOAK_MIN_REBOOTS);
		assert_true(cnt.sigkill >= SOAK_MIN_SIGKILLS);
		assert_true(cnt.sigkill_boot >= SOAK_MIN_BOOT_KILLS);
		assert_true(cnt.drop > 0 && cnt.dup > 0);
	}
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_soak),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
