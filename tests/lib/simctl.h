/* simctl.h — otasim as a test fixture: start and stop it, read its trace, and talk raw SMP to
 * it over UDP or its pty. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/testlib.h"
#include "otad/smp.h"

struct tl_sim {
	struct tl_proc proc;
	char spec[300];	 /* transport spec for otactl: "udp:127.0.0.1:N" or "serial:/dev/pts/N" */
	char trace[512]; /* trace file path */
	char state[512]; /* state file path (kept across restarts of the same device) */
	char name[64];
	char ble_addr[32]; /* BLE: the peripheral's address from its ready line */
};

/* Starts otasim with "--udp 127.0.0.1:0" (kind "udp", unless extra has its own --udp: a device
 * that keeps its address across restarts) or "--serial" (kind "serial"), a trace and
 * a state file named after name in tl_tmpdir(), plus extra args (NULL-terminated, may be NULL).
 * Waits for its ready line(s). Returns 0 or -errno. */
int tl_sim_start(struct tl_sim *s, const char *name, const char *kind, const char *const *extra);
/* Starts otasim as a BLE peripheral (--ble --hci hci --name name) with a trace and a state
 * file as tl_sim_start(); waits for its "ble: NAME ADDRESS" line. spec is "ble:name=NAME". */
int tl_sim_start_ble(struct tl_sim *s, const char *name, const char *hci,
		     const char *const *extra);
/* SIGTERM and wait; returns otasim's exit code. */
int tl_sim_stop(struct tl_sim *s);

/* Polls s's trace until an event called name with key=value (key NULL: any such event) is there,
 * at most timeout_ms. Returns 0 or -ETIMEDOUT. */
int tl_sim_wait_event(struct tl_sim *s, const char *name, const char *key, const char *value,
		      int timeout_ms);
/* Number of such events in s's trace now. */
size_t tl_sim_count_events(struct tl_sim *s, const char *name, const char *key, const char *value);

/* ---- A raw SMP client of otasim, over UDP or its pty (console framing) ---------------------- */

struct tl_client;
/* spec "udp:HOST:PORT" (as tl_sim's spec). NULL on failure. */
struct tl_client *tl_client_udp(const char *spec);
/* A pty path (raw mode is set). NULL with errno on failure. */
struct tl_client *tl_client_serial(const char *path);
void tl_client_free(struct tl_client *c);
/* Sends one request with the next sequence number (returned in *ret_seq if non-NULL). */
int tl_client_send(struct tl_client *c, uint8_t ver, uint8_t op, uint16_t group, uint8_t id,
		   const uint8_t *body, size_t len, uint8_t *ret_seq);
/* One response packet: its length, -ETIMEDOUT, or -EIO when the pty hung up. */
int tl_client_recv(struct tl_client *c, uint8_t *pkt, size_t size, int timeout_ms);
/* Request and the response with its sequence number (others are skipped): the body length
 * copied to rsp, -ETIMEDOUT, -EIO, or -EPROTO when the response header does not mirror the
 * request (op + 1, group, id, version, length). */
int tl_client_call(struct tl_client *c, uint8_t ver, uint8_t op, uint16_t group, uint8_t id,
		   const uint8_t *body, size_t len, uint8_t *rsp, size_t rsp_size, int timeout_ms);

/* Commands, SMP v2. 0, or -ETIMEDOUT, or -EPROTO (bad or error response). */
int tl_smp_echo(struct tl_client *c, const char *text, int timeout_ms);
int tl_smp_image_state(struct tl_client *c, struct smp_image_state *ret, int timeout_ms);
int tl_smp_state_write(struct tl_client *c, const uint8_t *hash, bool confirm, int timeout_ms);
int tl_smp_reset(struct tl_client *c, int timeout_ms);
/* Echoes every 200 ms until the device answers, at most timeout_ms. */
int tl_smp_wait_up(struct tl_client *c, int timeout_ms);

/* An MCUboot image built with img_build(). */
struct tl_image {
	uint8_t *data;
	size_t len;
	uint8_t sha[32];  /* SHA-256 of the file: the upload's "sha" */
	uint8_t hash[32]; /* its SHA-256 TLV: what the device reports */
};
int tl_image_make(struct tl_image *img, const char *version, size_t payload, uint32_t seed);
void tl_image_done(struct tl_image *img);
/* Image bytes of the upload request at off when the whole body may take body_max bytes. */
size_t tl_upload_chunk_len(const struct tl_image *img, uint32_t off, size_t body_max);
/* Encodes that request's body into buf; returns its length (0 on error). */
size_t tl_upload_encode(const struct tl_image *img, uint32_t off, size_t body_max, uint8_t *buf,
			size_t size);
/* Window 1: each chunk waits for its answer and follows the device's "off". Returns the number
 * of requests sent, or -errno (-EPROTO for an error answer or an offset going backwards). */
int tl_upload_sequential(struct tl_client *c, const struct tl_image *img, size_t body_max,
			 struct smp_upload_rsp *last, int timeout_ms);

/* An MCUboot image from `otasim mkimage` at tl_path(name); fails the test if it cannot be made. */
const char *tl_mkimage(const char *name, const char *version, const char *size);
/* Runs otactl -t spec ARGS... (NULL-terminated) with a 4 min limit; returns its exit code, stdout
 * in *out (free it); stderr is echoed for the test log. */
int tl_otactl(char **out, const char *spec, ...);
