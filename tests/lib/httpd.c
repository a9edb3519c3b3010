/* httpd.c — a tiny HTTP/1.1 file server for download tests (GET, Range: bytes=N-, a first
 * response cut short on demand), forked from the test; one connection at a time. For request
 * tests it also answers /echo (any method: what it received), /status/N (that status), /stall
 * (never) and /big (2 MiB). */
#include "lib/otadctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char auth[256]; /* the request's Authorization, "-" when none */

static void log_request(const char *log_path, const char *method, const char *path, long long range,
			int status)
{
	FILE *f = fopen(log_path, "a");

	if (!f)
		return;
	fprintf(f, "%s %s range=%lld status=%d auth=%s\n", method, path, range, status, auth);
	fclose(f);
}

static void send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* The value of header name (with its ": "), copied to out; "-" when absent. */
static void header(const char *req, const char *name, char *out, size_t size)
{
	const char *h = strcasestr(req, name);
	size_t n;

	if (!h) {
		snprintf(out, size, "-");
		return;
	}
	h += strlen(name);
	n = strcspn(h, "\r\n");
	snprintf(out, size, "%.*s", (int)n, h);
}

/* The test endpoints of a request server; false for a file path. */
static bool serve_special(int c, const char *method, const char *path, const char *req,
			  const char *body, size_t body_len, const char *log_path)
{
	static char big[2 * 1024 * 1024];
	char hdr[1024], type[128], text[4096];
	int status = 0, n;

	if (strcmp(path, "/echo") == 0) {
		header(req, "\r\nContent-Type: ", type, sizeof(type));
		n = snprintf(text, sizeof(text), "%s %s\nauth=%s\ntype=%s\n\n%.*s", method, path,
			     auth, type, (int)body_len, body);
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
			 "Connection: close\r\n\r\n",
			 n);
		log_request(log_path, method, path, -1, 200);
		send_all(c, hdr, strlen(hdr));
		send_all(c, text, (size_t)n);
		return true;
	}
	if (sscanf(path, "/status/%d", &status) == 1) {
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %d Test\r\nRetry-After: 7\r\nContent-Length: 10\r\n"
			 "Connection: close\r\n\r\nstatus %03d",
			 status, status);
		log_request(log_path, method, path, -1, status);
		send_all(c, hdr, strlen(hdr));
		return true;
	}
	if (strcmp(path, "/stall") == 0) {
		log_request(log_path, method, path, -1, 0);
		for (int i = 0; i < 300 && recv(c, text, sizeof(text), 0) > 0; i++)
			; /* until the client gives up */
		return true;
	}
	if (strcmp(path, "/big") == 0) {
		memset(big, 'x', sizeof(big));
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 sizeof(big));
		log_request(log_path, method, path, -1, 200);
		send_all(c, hdr, strlen(hdr));
		send_all(c, big, sizeof(big));
		return true;
	}
	return false;
}

/* Reads the head, and a body of Content-Length bytes after it, into req. */
static ssize_t read_request(int c, char *req, size_t size, const char **ret_body,
			    size_t *ret_body_len)
{
	size_t len = 0, want;
	char *end = NULL, cl[32];

	while (len < size - 1 && !(end = strstr(req, "\r\n\r\n"))) {
		ssize_t n = recv(c, req + len, size - 1 - len, 0);

		if (n <= 0)
			return -1;
		len += (size_t)n;
		req[len] = 0;
	}
	if (!end)
		return -1;
	header(req, "\r\nContent-Length: ", cl, sizeof(cl));
	want = (size_t)(end + 4 - req) + (cl[0] == '-' ? 0 : strtoul(cl, NULL, 10));
	while (len < want && len < size - 1) {
		ssize_t n = recv(c, req + len, size - 1 - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
		req[len] = 0;
	}
	*ret_body = end + 4;
	*ret_body_len = len - (size_t)(end + 4 - req);
	return (ssize_t)len;
}

static void serve(int c, const char *dir, const char *log_path, size_t *cut_after)
{
	char req[16384] = "", method[16], path[300], file[900], hdr[512], *range_hdr;
	const char *body = NULL;
	size_t body_len = 0;
	long long range = -1, size;
	struct stat st;
	int fd, status;

	if (read_request(c, req, sizeof(req), &body, &body_len) < 0)
		return;
	if (sscanf(req, "%15s %299s", method, path) != 2)
		return;
	header(req, "\r\nAuthorization: ", auth, sizeof(auth));
	if (serve_special(c, method, path, req, body, body_len, log_path) ||
	    strcmp(method, "GET") != 0)
		return;
	range_hdr = strcasestr(req, "\r\nRange: bytes=");
	if (range_hdr)
		range = atoll(range_hdr + 15);
	snprintf(file, sizeof(file), "%s%s", dir, path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_request(log_path, "GET", path, range, 404);
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n"
			 "Connection: close\r\n\r\nnot found");
		send_all(c, hdr, strlen(hdr));
		return;
	}
	size = st.st_size;
	if (range >= size) {
		status = 416;
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: "
			 "bytes */%lld\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			 size);
	} else if (range > 0) {
		status = 206;
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes "
			 "%lld-%lld/%lld\r\nContent-Length: %lld\r\nConnection: close\r\n\r\n",
			 range, size - 1, size, size - range);
	} else {
		status = 200;
		range = range < 0 ? -1 : 0;
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n"
			 "Connection: close\r\n\r\n",
			 size);
	}
	log_request(log_path, "GET", path, range, status);
	send_all(c, hdr, strlen(hdr));
	if (status != 416) {
		size_t left = (size_t)(size - (range > 0 ? range : 0));
		char buf[4096];

		lseek(fd, range > 0 ? range : 0, SEEK_SET);
		if (*cut_after && *cut_after < left)
			left = *cut_after;
		*cut_after = 0;
		while (left > 0) {
			ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

			if (n <= 0)
				break;
			send_all(c, buf, (size_t)n);
			left -= (size_t)n;
		}
	}
	close(fd);
}

int tl_httpd_start(struct tl_httpd *h, const char *dir, size_t cut_after)
{
	static unsigned n;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	memset(h, 0, sizeof(*h));
	snprintf(h->log_path, sizeof(h->log_path), "%s/httpd-%u.log", tl_tmpdir(), n++);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		return -errno;
	h->port = ntohs(sa.sin_port);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a test that failed */
		for (;;) {
			int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0)
				continue;
			serve(c, dir, h->log_path, &cut_after);
			shutdown(c, SHUT_RDWR);
			close(c);
		}
	}
	close(fd);
	h->pid = pid;
	return 0;
}

void tl_httpd_stop(struct tl_httpd *h)
{
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
	}
	h->pid = 0;
}
