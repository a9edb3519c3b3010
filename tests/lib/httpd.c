/* httpd.c — a tiny HTTP/1.1 file server for download tests (GET, Range: bytes=N-, a first
 * response cut short on demand), forked from the test; one connection at a time. */
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

static void log_request(const char *log_path, const char *path, long long range, int status)
{
	FILE *f = fopen(log_path, "a");

	if (!f)
		return;
	fprintf(f, "GET %s range=%lld status=%d\n", path, range, status);
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

static void serve(int c, const char *dir, const char *log_path, size_t *cut_after)
{
	char req[8192] = "", path[300], file[900], hdr[512], *range_hdr;
	size_t len = 0;
	long long range = -1, size;
	struct stat st;
	int fd, status;

	while (len < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
		ssize_t n = recv(c, req + len, sizeof(req) - 1 - len, 0);

		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = 0;
	}
	if (sscanf(req, "GET %299s", path) != 1)
		return;
	range_hdr = strcasestr(req, "\r\nRange: bytes=");
	if (range_hdr)
		range = atoll(range_hdr + 15);
	snprintf(file, sizeof(file), "%s%s", dir, path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_request(log_path, path, range, 404);
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
	log_request(log_path, path, range, status);
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
