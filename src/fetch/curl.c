/* curl.c — libcurl's multi interface driven by sd-event: curl's sockets become io sources and its
 * timeout one time source (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION), for downloads and
 * requests alike; the easy handle of a download appends to CACHE/SHA.part, continuing it with a
 * Range request. */
#include "fetch/fetch-internal.h"
#include "util/macro.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

static void check_done(struct fetcher *f)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(f->multi, &left))) {
		struct curl_job *job = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&job);
		if (job)
			job->done(job, msg->data.result); /* may free job */
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct fetcher *f = userdata;
	int action = 0, running;

	if (revents & EPOLLIN)
		action |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		action |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		action |= CURL_CSELECT_ERR;
	curl_multi_socket_action(f->multi, fd, action, &running);
	check_done(f);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fetcher *f = userdata;
	int running;

	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(f);
	return 0;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct fetcher *f = userp;
	sd_event_source *src = socketp;
	uint32_t events = 0;

	if (what == CURL_POLL_REMOVE) {
		sd_event_source_disable_unref(src);
		curl_multi_assign(f->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (src) {
		sd_event_source_set_io_events(src, events);
		return sd_event_source_set_enabled(src, SD_EVENT_ON) < 0 ? -1 : 0;
	}
	if (sd_event_add_io(f->event, &src, fd, events, on_io, f) < 0)
		return -1;
	curl_multi_assign(f->multi, fd, src);
	return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetcher *f = userp;
	uint64_t now = 0;

	if (timeout_ms < 0)
		return sd_event_source_set_enabled(f->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
	sd_event_now(f->event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(f->timer, now + (uint64_t)timeout_ms * USEC_PER_MSEC);
	return sd_event_source_set_enabled(f->timer, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
}

int curl_glue_init(struct fetcher *f)
{
	int r;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	f->multi = curl_multi_init();
	if (!f->multi)
		return -ENOMEM;
	r = sd_event_add_time(f->event, &f->timer, CLOCK_MONOTONIC, 0, 1000, on_timer, f);
	if (r < 0)
		return r;
	sd_event_source_set_enabled(f->timer, SD_EVENT_OFF);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	return 0;
}

void curl_glue_done(struct fetcher *f)
{
	if (f->multi)
		curl_multi_cleanup(f->multi);
	f->multi = NULL;
	f->timer = sd_event_source_disable_unref(f->timer);
	curl_global_cleanup();
}

/* The body goes to the partial file, unless it is an error page; a server that ignores our
 * Range request sends the whole file, so what we had is dropped first. */
static size_t on_write(char *data, size_t size, size_t n, void *userdata)
{
	struct transfer *t = userdata;
	size_t len = size * n;

	if (!t->body_checked) {
		t->body_checked = true;
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->http_code);
		switch (fetch_body_action(t->http_code, t->have)) {
		case FETCH_BODY_RESTART:
			if (ftruncate(t->fd, 0) < 0)
				return 0;
			t->have = 0;
			break;
		case FETCH_BODY_DISCARD:
			t->discard = true;
			break;
		case FETCH_BODY_APPEND:
			break;
		}
	}
	if (t->discard)
		return len;
	if (t->have + len > t->f->o.max_size) {
		t->too_big = true;
		return 0; /* aborts the transfer */
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = write(t->fd, data + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		done += (size_t)w;
	}
	t->have += len;
	return len;
}

static void set_options(struct transfer *t)
{
	const struct fetch_options *o = &t->f->o;
	const char *protocols = o->allow_http ? "http,https" : "https";
	long stall_s = (long)MAX(o->stall_timeout_usec / USEC_PER_SEC, (uint64_t)1);

	curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, &t->job);
	if (t->headers)
		curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(t->easy, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(t->easy, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (t->f->ca_file)
		curl_easy_setopt(t->easy, CURLOPT_CAINFO, t->f->ca_file);
	curl_easy_setopt(t->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
	curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT, stall_s);
	curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_TIME, stall_s);
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "otad/" OTAD_VERSION);
	if (t->have > 0)
		curl_easy_setopt(t->easy, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)t->have);
}

int curl_headers(const char *const *headers, struct curl_slist **ret)
{
	struct curl_slist *list = NULL;

	for (size_t i = 0; headers && headers[i]; i++) {
		struct curl_slist *l = curl_slist_append(list, headers[i]);

		if (!l) {
			curl_slist_free_all(list);
			return -ENOMEM;
		}
		list = l;
	}
	*ret = list;
	return 0;
}

int transfer_start_download(struct transfer *t)
{
	struct stat st;

	t->fd = open(t->part_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (t->fd < 0)
		return -errno;
	if (fstat(t->fd, &st) < 0)
		return -errno;
	t->have = (uint64_t)st.st_size;
	t->http_code = 0;
	t->body_checked = t->discard = t->too_big = false;
	t->errbuf[0] = 0;
	t->attempt++;
	t->easy = curl_easy_init();
	if (!t->easy)
		return -ENOMEM;
	set_options(t);
	if (curl_multi_add_handle(t->f->multi, t->easy) != CURLM_OK)
		return -EIO;
	return 0;
}

void transfer_stop_download(struct transfer *t)
{
	if (t->easy) {
		curl_multi_remove_handle(t->f->multi, t->easy);
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
