/* ddi.h — otad as a client of Eclipse hawkBit's Direct Device Integration API (DDI v1, also
 * served by Memfault): a gateway with a gateway token acts for many targets, one controllerId
 * per device it serves.
 *
 * Resources (hawkBit's DDI API reference; paths under SERVER/TENANT/controller/v1/CONTROLLERID):
 *   GET  .                          the controller base: polling sleep, links to what is open
 *   GET  deploymentBase/ACTION      a deployment: handling, maintenance window, chunks, artifacts
 *   POST deploymentBase/ACTION/feedback     progress and the result of that action
 *   GET  cancelAction/ACTION        a cancellation request; POST .../feedback answers it
 *   PUT  configData                 the target's attributes ({"mode":"merge","data":{...}})
 * every request with "Authorization: GatewayToken TOKEN"; artifact downloads too.
 *
 * The codecs are pure (JSON text in, structs out, errors naming the member that was wrong;
 * request bodies out). The client runs on the caller's sd-event loop over the fetch layer: one
 * poll timer per target at the server's sleep, exponential backoff on server failures, requests
 * of one target in order, feedback queued and retried until the server took it. The library
 * never logs and never puts the token in a message: events come through callbacks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "otad/common.h"
#include "otad/fetch.h"

#define DDI_ID_MAX	   64  /* an action id: letters, digits and -._~ */
#define DDI_CID_MAX	   128 /* a controllerId (tenant alike): letters, digits and -._~:@ */
#define DDI_TAG_MAX	   64  /* the query of a deploymentBase link (hawkBit: "c=HASH") */
#define DDI_ATTR_KEY_MAX   128 /* hawkBit's limits on target attributes */
#define DDI_ATTR_VALUE_MAX 128
#define DDI_DETAIL_MAX	   512 /* bytes of one feedback detail (hawkBit's status message) */

/* ---- Resources ---------------------------------------------------------------------------- */

/* The controller base: what the server has for the target now. */
struct ddi_base {
	uint64_t sleep_usec;		      /* config.polling.sleep; 0 when not given */
	char deployment[DDI_ID_MAX + 1];      /* _links.deploymentBase: its action, or "" */
	char deployment_tag[DDI_TAG_MAX + 1]; /* that link's query: changes with the action */
	char cancel[DDI_ID_MAX + 1];	      /* _links.cancelAction: its action, or "" */
	char installed[DDI_ID_MAX + 1];	      /* _links.installedBase: its action, or "" */
	bool config_requested;		      /* _links.configData: send the attributes */
};
/* 0, or -EBADMSG with why naming what was wrong ("config.polling.sleep: \"1:2\" is not
 * HH:MM:SS"); -ENOMEM. */
int ddi_base_parse(const char *json, size_t len, struct ddi_base *ret, char *why, size_t why_size);

/* deployment.download / .update: skip = not now, attempt = the server asks, forced = at once.
 * A member the server leaves out counts as attempt. */
enum ddi_handling {
	DDI_HANDLING_ATTEMPT,
	DDI_HANDLING_SKIP,
	DDI_HANDLING_FORCED,
};
/* deployment.maintenanceWindow: none scheduled, or whether the target is inside it now. */
enum ddi_window {
	DDI_WINDOW_NONE,
	DDI_WINDOW_AVAILABLE,
	DDI_WINDOW_UNAVAILABLE,
};

struct ddi_artifact {
	char *filename;
	uint8_t sha256[32]; /* hashes.sha256, which pins the download */
	bool has_sha256;
	uint64_t size;	 /* 0 when not given */
	char *href;	 /* _links.download (https), NULL when none */
	char *href_http; /* _links.download-http, NULL when none */
};

struct ddi_chunk {
	char *part, *version, *name;
	struct ddi_artifact *artifacts;
	size_t n_artifacts;
};

struct ddi_deployment {
	char action[DDI_ID_MAX + 1]; /* "id" */
	enum ddi_handling download, update;
	enum ddi_window window;
	struct ddi_chunk *chunks;
	size_t n_chunks;
};
/* 0, or -EBADMSG with why ("deployment.chunks[0].artifacts[1].hashes.sha256: expected 64 hex
 * digits"); -ENOMEM. */
int ddi_deployment_parse(const char *json, size_t len, struct ddi_deployment **ret, char *why,
			 size_t why_size);
/* Accepts NULL, returns NULL. */
struct ddi_deployment *ddi_deployment_free(struct ddi_deployment *d);
/* Same action and the same handling (download, update, window). */
bool ddi_deployment_same_handling(const struct ddi_deployment *a, const struct ddi_deployment *b);
/* download is not skip. */
bool ddi_deployment_may_download(const struct ddi_deployment *d);
/* update is not skip and no maintenance window is closed. */
bool ddi_deployment_may_install(const struct ddi_deployment *d);
/* The one artifact otad installs: an NCS dfu_application.zip, else an MCUboot image (.bin),
 * else Intel HEX (.hex), over all chunks; other files (signatures, notes) are ignored. 0, or
 * with why naming the files: -ENOENT none of these, -ENOTUNIQ two of the same kind, -EBADMSG it
 * has no sha256, -EPERM it has only a plain http link and allow_http is false. */
int ddi_deployment_pick(const struct ddi_deployment *d, bool allow_http,
			const struct ddi_artifact **ret, char *why, size_t why_size);

/* The cancelAction resource: which action to stop (cancelAction.stopId). */
int ddi_cancel_parse(const char *json, size_t len, char ret_stop[DDI_ID_MAX + 1], char *why,
		     size_t why_size);

/* The message of an error answer (hawkBit's {"exceptionClass","errorCode","message"}), for a
 * why; "" when the body is not one. A message (else the errorCode) of at most
 * DDI_ERROR_MESSAGE_MAX bytes is taken, cut to size. */
#define DDI_ERROR_MESSAGE_MAX 400
void ddi_error_message(const char *body, size_t len, char *out, size_t size);

/* status.execution of a feedback. closed, canceled and rejected end what they answer. */
enum ddi_execution {
	DDI_EXEC_PROCEEDING,
	DDI_EXEC_SCHEDULED,
	DDI_EXEC_RESUMED,
	DDI_EXEC_DOWNLOAD,
	DDI_EXEC_DOWNLOADED,
	DDI_EXEC_CLOSED,
	DDI_EXEC_CANCELED,
	DDI_EXEC_REJECTED,
};
enum ddi_finished {
	DDI_FINISHED_NONE,
	DDI_FINISHED_SUCCESS,
	DDI_FINISHED_FAILURE,
};
const char *ddi_execution_name(enum ddi_execution e);
const char *ddi_finished_name(enum ddi_finished f);
bool ddi_execution_final(enum ddi_execution e);

struct ddi_feedback {
	const char *action;
	enum ddi_execution execution;
	enum ddi_finished finished;
	unsigned progress_cnt, progress_of; /* progress{cnt,of}; of 0: none sent */
	const char *const *details;	    /* NULL-terminated; NULL for none */
};
/* The body of a feedback: {"id":ACTION,"time":"YYYYMMDDTHHMMSS","status":{"execution":...,
 * "result":{"finished":...,"progress":{"cnt":N,"of":M}},"details":[...]}}. "id" and "time"
 * are what servers before hawkBit 0.3 require (newer ones ignore them); the time is now in UTC.
 * Details longer than DDI_DETAIL_MAX are cut (at a UTF-8 boundary). -EINVAL a bad action id,
 * cnt above of, or closed without success or failure; -ENOMEM. */
int ddi_feedback_json(const struct ddi_feedback *fb, time_t now, char **ret);

struct ddi_attr {
	const char *key, *value;
};
/* The body of configData: {"mode":"merge","data":{KEY:VALUE,...}} (values cut to
 * DDI_ATTR_VALUE_MAX). -EINVAL an empty or too long key, or a key twice; -ENOMEM. */
int ddi_config_json(const struct ddi_attr *attrs, size_t n, char **ret);

/* ---- Decisions ---------------------------------------------------------------------------- */

/* What an exchange's end means for the protocol. */
enum ddi_outcome {
	DDI_OUTCOME_OK,	     /* 2xx */
	DDI_OUTCOME_RETRY,   /* the server failed: no answer, 5xx, 408, 429; back off, retry */
	DDI_OUTCOME_AUTH,    /* 401, 403: the token is refused; retry slowly */
	DDI_OUTCOME_GONE,    /* 404, 410: the resource (an action) is not there (any more) */
	DDI_OUTCOME_REFUSED, /* another 4xx or 3xx: the server refuses this request */
};
enum ddi_outcome ddi_outcome_of(int transport_err, long status);
/* min, 2 min, 4 min, ... up to max, for the failures-th failure in a row (1-based). */
uint64_t ddi_backoff_usec(unsigned failures, uint64_t min, uint64_t max);
/* "HH:MM:SS" (hours any number of digits, minutes and seconds below 60). -EINVAL otherwise. */
int ddi_sleep_parse(const char *hhmmss, uint64_t *ret_usec);
/* Letters, digits and -._~ (an action), also :@ (a controllerId, a tenant); 1..max bytes. */
bool ddi_id_valid(const char *id, size_t max, bool controller);

/* ---- The client ----------------------------------------------------------------------------- */

struct ddi_client;
struct ddi_target;

struct ddi_options {
	const char *server;	       /* https://HOST[:PORT][/PREFIX] */
	const char *tenant;	       /* hawkBit's default: DEFAULT */
	const char *token;	       /* the gateway token; never in a message */
	const char *ca_file;	       /* NULL: the system's CA store */
	const char *cache_dir;	       /* artifacts land in CACHE/SHA256.img */
	uint64_t poll_usec;	       /* until the server says (config.polling.sleep); 0 = 5 min */
	uint64_t min_poll_usec;	       /* the shortest sleep a server may ask for; 0 = 1 s */
	uint64_t request_timeout_usec; /* one exchange; 0 = 30 s */
	uint64_t backoff_min_usec;     /* first wait after a server failure; 0 = 5 s */
	uint64_t backoff_max_usec;     /* longest wait, and the pace while the token is refused; 0 =
					* 10 min */
	uint64_t max_artifact;	       /* bytes; 0 = 64 MiB */
	bool allow_http;	       /* plain http (tests, closed networks) */
};

/* How the server answers, across all targets: said on every change. */
enum ddi_link {
	DDI_LINK_OK,
	DDI_LINK_FAILING,      /* no answer, 5xx, 429: backing off */
	DDI_LINK_UNAUTHORIZED, /* 401/403: the token (or tenant) is wrong; retrying slowly */
};
const char *ddi_link_name(enum ddi_link l);
typedef void (*ddi_link_fn)(struct ddi_client *c, enum ddi_link link, const char *why,
			    void *user_data);

/* -EINVAL with why for options that cannot work (no https server, a bad tenant, no token, no
 * cache directory); -ENOMEM. */
int ddi_client_new(sd_event *e, const struct ddi_options *o, struct ddi_client **ret, char *why,
		   size_t why_size);
/* Frees every target left (their destroy runs) and drops every download. Accepts NULL. */
struct ddi_client *ddi_client_free(struct ddi_client *c);
void ddi_client_set_link_handler(struct ddi_client *c, ddi_link_fn fn, void *user_data,
				 otad_destroy_fn destroy);
enum ddi_link ddi_client_link(const struct ddi_client *c);
/* Downloads a (pinned by its sha256, resumable, into the cache) with the token; done as
 * fetcher_get's (its why without the token). -EFBIG its size is above max_artifact, -EPERM only
 * plain http offered, -EPROTONOSUPPORT a link that is no http(s) URL. */
unsigned ddi_client_download(struct ddi_client *c, const struct ddi_artifact *a, fetch_done_fn done,
			     void *user_data, otad_destroy_fn destroy, int *ret_err);
bool ddi_client_cancel_download(struct ddi_client *c, unsigned id);

/* What a target reports to its owner. Every pointer is valid during the call only. A callback
 * may call any ddi_target_* function on t, but not free it. */
struct ddi_target_ops {
	/* A deployment to act on: an action not announced before, or one whose handling
	 * (download, update, maintenance window) changed, or any after ddi_target_refresh(). */
	void (*deployment)(struct ddi_target *t, const struct ddi_deployment *d, void *user_data);
	/* The server asks to stop action; answer with ddi_target_answer_cancel(). Said once per
	 * request. */
	void (*cancel)(struct ddi_target *t, const char *action, void *user_data);
	/* A final feedback (closed, canceled, rejected, or a cancel answer) reached its end: err
	 * 0 the server took it; -ESTALE the action was no longer open there (a result was taken
	 * before: 410); -ENOENT the server does not know the action (404); -EBADMSG it refused the
	 * body (another 4xx). Feedback the server fails on is retried, never reported. */
	void (*delivered)(struct ddi_target *t, const char *action, enum ddi_execution execution,
			  int err, const char *why, void *user_data);
	/* An answer for this target could not be used (bad JSON, a deployment that does not
	 * parse, configData refused): why, once per distinct problem; NULL once a poll went
	 * through again. */
	void (*problem)(struct ddi_target *t, const char *why, void *user_data);
};

/* A target polls at once, then at the server's sleep. -EINVAL a controllerId that is not
 * ddi_id_valid(); -EEXIST one the client has. */
int ddi_target_new(struct ddi_client *c, const char *controller_id,
		   const struct ddi_target_ops *ops, void *user_data, otad_destroy_fn destroy,
		   struct ddi_target **ret);
/* Drops its requests and queued feedback (not sent). Accepts NULL, returns NULL. */
struct ddi_target *ddi_target_free(struct ddi_target *t);
const char *ddi_target_controller_id(const struct ddi_target *t);
/* The last deployment fetched for this target, NULL before any. */
const struct ddi_deployment *ddi_target_deployment(const struct ddi_target *t);
/* Microseconds (CLOCK_MONOTONIC) of the next poll, 0 while one runs. */
uint64_t ddi_target_next_poll(const struct ddi_target *t);

/* What the target's configData says (copied): sent at the next poll when it differs from what
 * the server took, and whenever the server asks. -EINVAL as ddi_config_json. */
int ddi_target_set_attributes(struct ddi_target *t, const struct ddi_attr *attrs, size_t n);
/* Polls now (after a running poll), and announces the deployment found even if unchanged. */
void ddi_target_refresh(struct ddi_target *t);
/* Queues feedback, sent in order, retried with backoff while the server fails. A progress
 * (not final) feedback of the same action and execution last in the queue, not sent yet, is
 * replaced by this one. After a
 * final one is taken the target polls at once, for what comes next. -EINVAL as
 * ddi_feedback_json. */
int ddi_target_feedback(struct ddi_target *t, const struct ddi_feedback *fb);
/* Answers the server's request to stop action: canceled (posted as "closed"/"success" on
 * cancelAction's feedback, which is what hawkBit counts as a confirmed cancellation: it takes
 * "canceled" there as a warning), or rejected (the device is past the point of no return). */
int ddi_target_answer_cancel(struct ddi_target *t, const char *action, bool canceled,
			     const char *detail);
