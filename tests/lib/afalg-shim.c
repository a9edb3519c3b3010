/* afalg-shim.c — LD_PRELOAD library that lets BlueZ's btvirt run on a kernel without AF_ALG.
 *
 * btvirt's controllers need bt_crypto (BlueZ src/shared/crypto.c), which opens AF_ALG sockets
 * for "skcipher"/"ecb(aes)" and "hash"/"cmac(aes)", sets the key with setsockopt(ALG_SET_KEY),
 * accept()s an operation socket, writes the input with sendmsg()/send() and read()s the result.
 * This shim implements exactly those calls in user space with libcrypto (results are real AES
 * and AES-CMAC). Every other fd goes straight to libc.
 *
 * It also rewrites btvirt's fixed server paths: when OTAD_BTVIRT_DIR is set, bind() and unlink()
 * of "/tmp/bt-server-*" use "$OTAD_BTVIRT_DIR/bt-server-*" instead, so that several btvirt
 * instances (parallel tests) never share a socket.
 *
 * And it makes btvirt read what a client wrote just before closing (see epoll_wait below), and
 * gives each host its own controller's handles of its links (btvirt-links.c). */
#include <dlfcn.h>
#include <errno.h>
#include <linux/if_alg.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/btvirt-links.h"

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef SOL_ALG
#define SOL_ALG 279
#endif

#define MAX_FD	      4096
#define SERVER_PREFIX "/tmp/bt-server-"

enum alg { ALG_NONE, ALG_ECB_AES, ALG_CMAC_AES };

struct alg_sock {
	bool used;
	enum alg alg;
	uint8_t key[32];
	size_t key_len;
	uint8_t out[4096];
	size_t out_len;
};

static struct alg_sock socks[MAX_FD];

#define REAL(name, ret, ...)                                                                       \
	static ret (*real_##name)(__VA_ARGS__);                                                    \
	if (!real_##name)                                                                          \
	real_##name = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

static struct alg_sock *lookup(int fd)
{
	if (fd < 0 || fd >= MAX_FD || !socks[fd].used)
		return NULL;
	return &socks[fd];
}

static int new_alg_fd(const struct alg_sock *from)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fd >= MAX_FD) {
		close(fd);
		errno = EMFILE;
		return -1;
	}
	memset(&socks[fd], 0, sizeof(socks[fd]));
	if (from)
		socks[fd] = *from;
	socks[fd].used = true;
	socks[fd].out_len = 0;
	return fd;
}

int socket(int domain, int type, int protocol)
{
	REAL(socket, int, int, int, int);
	if (domain == AF_ALG)
		return new_alg_fd(NULL);
	return real_socket(domain, type, protocol);
}

/* "$OTAD_BTVIRT_DIR/bt-server-x" for "/tmp/bt-server-x", or NULL to leave the path alone. */
static bool rewrite_path(const char *path, char *out, size_t size)
{
	const char *dir = getenv("OTAD_BTVIRT_DIR");
	int n;

	if (!dir || strncmp(path, SERVER_PREFIX, strlen(SERVER_PREFIX)) != 0)
		return false;
	n = snprintf(out, size, "%s/%s", dir, path + strlen("/tmp/"));
	return n > 0 && (size_t)n < size;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct alg_sock *s = lookup(fd);
	REAL(bind, int, int, const struct sockaddr *, socklen_t);

	if (s) {
		const struct sockaddr_alg *sa = (const struct sockaddr_alg *)addr;

		if (len < sizeof(*sa) || sa->salg_family != AF_ALG) {
			errno = EINVAL;
			return -1;
		}
		if (!strcmp((const char *)sa->salg_type, "skcipher") &&
		    !strcmp((const char *)sa->salg_name, "ecb(aes)"))
			s->alg = ALG_ECB_AES;
		else if (!strcmp((const char *)sa->salg_type, "hash") &&
			 !strcmp((const char *)sa->salg_name, "cmac(aes)"))
			s->alg = ALG_CMAC_AES;
		else {
			errno = ENOENT;
			return -1;
		}
		return 0;
	}
	if (addr && addr->sa_family == AF_UNIX && len <= sizeof(struct sockaddr_un)) {
		struct sockaddr_un un = {.sun_family = AF_UNIX};
		char path[sizeof(un.sun_path) + 1] = "";

		memcpy(path, ((const struct sockaddr_un *)addr)->sun_path,
		       len - offsetof(struct sockaddr_un, sun_path));
		if (rewrite_path(path, un.sun_path, sizeof(un.sun_path)))
			return real_bind(fd, (const struct sockaddr *)&un, sizeof(un));
	}
	return real_bind(fd, addr, len);
}

int unlink(const char *path)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	REAL(unlink, int, const char *);

	if (rewrite_path(path, buf, sizeof(buf)))
		return real_unlink(buf);
	return real_unlink(path);
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct alg_sock *s = lookup(fd);
	REAL(setsockopt, int, int, int, int, const void *, socklen_t);

	if (!s)
		return real_setsockopt(fd, level, name, val, len);
	if (level != SOL_ALG || name != ALG_SET_KEY || (len != 16 && len != 24 && len != 32)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(s->key, val, len);
	s->key_len = len;
	return 0;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct alg_sock *s = lookup(fd);
	REAL(accept, int, int, struct sockaddr *, socklen_t *);

	if (!s)
		return real_accept(fd, addr, len);
	if (s->alg == ALG_NONE || !s->key_len) {
		errno = EINVAL;
		return -1;
	}
	return new_alg_fd(s);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	REAL(accept4, int, int, struct sockaddr *, socklen_t *, int);

	if (lookup(fd))
		return accept(fd, addr, len);
	return real_accept4(fd, addr, len, flags);
}

static const EVP_CIPHER *aes_ecb(size_t key_len)
{
	return key_len == 16   ? EVP_aes_128_ecb()
	       : key_len == 24 ? EVP_aes_192_ecb()
			       : EVP_aes_256_ecb();
}

static int run_ecb(struct alg_sock *s, const uint8_t *in, size_t len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int out1 = 0, out2 = 0, ok;

	if (!ctx || len % 16 || len > sizeof(s->out)) {
		EVP_CIPHER_CTX_free(ctx);
		return -EINVAL;
	}
	ok = EVP_EncryptInit_ex(ctx, aes_ecb(s->key_len), NULL, s->key, NULL) &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) &&
	     EVP_EncryptUpdate(ctx, s->out, &out1, in, (int)len) &&
	     EVP_EncryptFinal_ex(ctx, s->out + out1, &out2);
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return -EIO;
	s->out_len = (size_t)(out1 + out2);
	return 0;
}

static int run_cmac(struct alg_sock *s, const uint8_t *in, size_t len)
{
	const char *cipher = s->key_len == 16	? "AES-128-CBC"
			     : s->key_len == 24 ? "AES-192-CBC"
						: "AES-256-CBC";
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	size_t out = 0;
	int ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)cipher, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = ctx && EVP_MAC_init(ctx, s->key, s->key_len, params) && EVP_MAC_update(ctx, in, len) &&
	     EVP_MAC_final(ctx, s->out, &out, sizeof(s->out));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (!ok)
		return -EIO;
	s->out_len = out;
	return 0;
}

static ssize_t alg_input(struct alg_sock *s, const struct iovec *iov, size_t n)
{
	uint8_t buf[4096];
	size_t len = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (len + iov[i].iov_len > sizeof(buf)) {
			errno = EMSGSIZE;
			return -1;
		}
		memcpy(buf + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	r = s->alg == ALG_ECB_AES ? run_ecb(s, buf, len) : run_cmac(s, buf, len);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return (ssize_t)len;
}

/* A packet btvirt writes to a client (emulator/server.c: one whole H4 packet per sendmsg). */
static ssize_t client_sendmsg(int fd, const struct msghdr *msg, int flags,
			      ssize_t (*real)(int, const struct msghdr *, int))
{
	uint8_t pkt[4096];
	struct iovec iov = {pkt, 0};
	struct msghdr one = {.msg_iov = &iov, .msg_iovlen = 1};

	if (msg->msg_controllen)
		return real(fd, msg, flags);
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		if (iov.iov_len + msg->msg_iov[i].iov_len > sizeof(pkt))
			return real(fd, msg, flags);
		memcpy(pkt + iov.iov_len, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len);
		iov.iov_len += msg->msg_iov[i].iov_len;
	}
	links_outgoing(fd, pkt, iov.iov_len);
	return real(fd, &one, flags);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct alg_sock *s = lookup(fd);
	REAL(sendmsg, ssize_t, int, const struct msghdr *, int);

	if (!s)
		return client_sendmsg(fd, msg, flags, real_sendmsg);
	/* The only control message btvirt sends is ALG_SET_OP = ALG_OP_ENCRYPT. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		uint32_t op;

		if (c->cmsg_level != SOL_ALG || c->cmsg_type != ALG_SET_OP)
			continue;
		memcpy(&op, CMSG_DATA(c), sizeof(op));
		if (op != ALG_OP_ENCRYPT) {
			errno = EOPNOTSUPP;
			return -1;
		}
	}
	return alg_input(s, msg->msg_iov, msg->msg_iovlen);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct alg_sock *s = lookup(fd);
	struct iovec iov = {(void *)buf, len};
	REAL(send, ssize_t, int, const void *, size_t, int);

	if (!s)
		return real_send(fd, buf, len, flags);
	return alg_input(s, &iov, 1);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	struct alg_sock *s = lookup(fd);
	struct iovec iov = {(void *)buf, len};
	REAL(write, ssize_t, int, const void *, size_t);

	if (!s)
		return real_write(fd, buf, len);
	return alg_input(s, &iov, 1);
}

static ssize_t alg_output(struct alg_sock *s, void *buf, size_t len)
{
	size_t n = len < s->out_len ? len : s->out_len;

	memcpy(buf, s->out, n);
	s->out_len = 0;
	return (ssize_t)n;
}

ssize_t read(int fd, void *buf, size_t len)
{
	struct alg_sock *s = lookup(fd);
	REAL(read, ssize_t, int, void *, size_t);

	if (!s)
		return real_read(fd, buf, len);
	return alg_output(s, buf, len);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct alg_sock *s = lookup(fd);
	REAL(recv, ssize_t, int, void *, size_t, int);

	if (!s) {
		links_reading(fd); /* what btvirt forwards next comes from this client */
		return real_recv(fd, buf, len, flags);
	}
	return alg_output(s, buf, len);
}

int close(int fd)
{
	REAL(close, int, int);

	if (fd >= 0 && fd < MAX_FD)
		socks[fd].used = false;
	links_forget(fd);
	return real_close(fd);
}

/* ... and its answers to them then go to a closed socket: EPIPE, not a fatal SIGPIPE (btvirt
 * sends without MSG_NOSIGNAL). */
__attribute__((constructor)) static void ignore_sigpipe(void)
{
	signal(SIGPIPE, SIG_IGN);
}

/* btvirt (BlueZ 5.66 emulator/server.c, client_read_callback) drops a client at EPOLLHUP without
 * reading the bytes it wrote just before closing: the HCI Disconnect a host sends on its way
 * out, which a real controller acts on, is lost and the peer stays connected for ever (btvirt
 * has no supervision timeout). So an fd that hung up with bytes still queued is reported
 * readable until they are read; then the hangup goes through. BlueZ's mainloop keeps the fd as
 * the first member of what data.ptr points to (src/shared/mainloop.c, struct mainloop_data). */
int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	REAL(epoll_wait, int, int, struct epoll_event *, int, int);
	int n = real_epoll_wait(epfd, ev, max, timeout);

	for (int i = 0; i < n; i++) {
		int fd, pending = 0;

		if (!(ev[i].events & (EPOLLHUP | EPOLLERR)) || !ev[i].data.ptr)
			continue;
		fd = *(const int *)ev[i].data.ptr;
		if (ioctl(fd, FIONREAD, &pending) == 0 && pending > 0)
			ev[i].events = (ev[i].events & ~(uint32_t)(EPOLLHUP | EPOLLERR)) | EPOLLIN;
	}
	return n;
}
