/* bonds.c — the bond store file (otad/bonds.h): parse, format, atomic save, lookups. Every
 * buffer that held a key is wiped before it is freed. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "otad/bonds.h"
#include "util/fileio.h"
#include "util/hex.h"
#include "util/macro.h"
#include "util/parse.h"

#define BOND_FORMAT   1
#define BOND_FILE_MAX (1024 * 1024)
#define BOND_MAX      4096

struct bond_store {
	char *path;
	bool has_identity;
	struct bond_identity id;
	struct bond *b;
	size_t n, cap;
};

DEFINE_FREE_CLEANUP(struct bond_store, bond_store_free)

static int fail(char *why, size_t size, const char *path, unsigned line, const char *fmt, ...)
	_printf_(5, 6);
static int fail(char *why, size_t size, const char *path, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!why || !size)
		return -EBADMSG;
	n = line ? snprintf(why, size, "%s:%u: ", path, line) : snprintf(why, size, "%s: ", path);
	if (n < 0 || (size_t)n >= size)
		return -EBADMSG;
	va_start(ap, fmt);
	vsnprintf(why + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

int bond_addr_parse(const char *s, struct bt_addr *ret, bool *type_given)
{
	char a[BT_ADDR_STRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	uint8_t type = BT_ADDR_LE_PUBLIC;

	if (slash && !strcmp(slash + 1, "random"))
		type = BT_ADDR_LE_RANDOM;
	else if (slash && strcmp(slash + 1, "public") != 0)
		return -EINVAL;
	if (n != BT_ADDR_STRLEN - 1)
		return -EINVAL;
	memcpy(a, s, n);
	a[n] = 0;
	if (type_given)
		*type_given = slash != NULL;
	return bt_addr_from_str(a, type, ret);
}

/* ---- parsing ---------------------------------------------------------------------------- */

struct fields {
	const char *path;
	unsigned line;
	char *why;
	size_t why_size;
};

static int key_field(struct fields *f, const char *name, const char *v, uint8_t *out, size_t len)
{
	if (hex_decode(v, out, len) != (int)len)
		return fail(f->why, f->why_size, f->path, f->line, "%s is not %zu hex digits", name,
			    2 * len);
	return 0;
}

static int num_field(struct fields *f, const char *name, const char *v, uint64_t min, uint64_t max,
		     uint64_t *ret)
{
	if (parse_u64(v, ret) < 0 || *ret < min || *ret > max)
		return fail(f->why, f->why_size, f->path, f->line, "%s is not a number %llu..%llu",
			    name, (unsigned long long)min, (unsigned long long)max);
	return 0;
}

enum {
	F_LEVEL = 1 << 0,
	F_SIZE = 1 << 1,
	F_AUTH = 1 << 2,
	F_SC = 1 << 3,
	F_LTK = 1 << 4,
	F_EDIV = 1 << 5,
	F_RAND = 1 << 6,
	F_CREATED = 1 << 7,
	F_IRK = 1 << 8,
	F_REQUIRED = F_LEVEL | F_SIZE | F_AUTH | F_SC | F_LTK | F_EDIV | F_RAND | F_CREATED,
};

/* One "name=value" of a bond line into b; seen collects the names. */
static int bond_field(struct fields *f, char *tok, struct bond *b, unsigned *seen)
{
	static const char *const names[] = {"level", "key_size", "authenticated", "sc", "ltk",
					    "ediv",  "rand",	 "created",	  "irk"};
	char *eq = strchr(tok, '=');
	unsigned i;
	uint64_t u = 0;
	int r = 0;

	if (!eq)
		return fail(f->why, f->why_size, f->path, f->line, "'%.32s' is not name=value",
			    tok);
	*eq = 0;
	for (i = 0; i < ARRAY_SIZE(names) && strcmp(tok, names[i]) != 0; i++)
		;
	if (i == ARRAY_SIZE(names))
		return fail(f->why, f->why_size, f->path, f->line, "unknown field '%.32s'", tok);
	if (*seen & (1u << i))
		return fail(f->why, f->why_size, f->path, f->line, "%s given twice", tok);
	*seen |= 1u << i;
	switch (1u << i) {
	case F_LEVEL:
		r = num_field(f, tok, eq + 1, SM_LEVEL_UNAUTHENTICATED, SM_LEVEL_SC, &u);
		b->level = (uint8_t)u;
		break;
	case F_SIZE:
		r = num_field(f, tok, eq + 1, 7, 16, &u);
		b->ltk.key_size = (uint8_t)u;
		break;
	case F_AUTH:
	case F_SC:
		r = num_field(f, tok, eq + 1, 0, 1, &u);
		*(1u << i == F_AUTH ? &b->ltk.authenticated : &b->ltk.sc) = u == 1;
		break;
	case F_LTK:
		return key_field(f, tok, eq + 1, b->ltk.key, SM_KEY_LEN);
	case F_EDIV:
		r = num_field(f, tok, eq + 1, 0, UINT16_MAX, &u);
		b->ltk.ediv = (uint16_t)u;
		break;
	case F_RAND:
		return key_field(f, tok, eq + 1, b->ltk.rand, sizeof(b->ltk.rand));
	case F_CREATED:
		return num_field(f, tok, eq + 1, 0, UINT32_MAX * 16ULL, &b->created);
	case F_IRK:
		b->has_irk = true;
		return key_field(f, tok, eq + 1, b->irk, SM_KEY_LEN);
	}
	return r;
}

static int parse_bond(struct bond_store *s, struct fields *f, char *rest)
{
	struct bond b = {0};
	unsigned seen = 0;
	char *save = NULL, *tok = strtok_r(rest, " \t", &save);
	bool typed = false;
	int r = 0;

	if (!tok || bond_addr_parse(tok, &b.peer, &typed) < 0 || !typed)
		return fail(f->why, f->why_size, f->path, f->line,
			    "a bond starts with the device's ADDRESS/public or ADDRESS/random");
	if (bond_store_find(s, &b.peer))
		return fail(f->why, f->why_size, f->path, f->line, "a second bond with %s", tok);
	while (r == 0 && (tok = strtok_r(NULL, " \t", &save)))
		r = bond_field(f, tok, &b, &seen);
	if (r == 0 && (seen & F_REQUIRED) != F_REQUIRED)
		r = fail(f->why, f->why_size, f->path, f->line,
			 "the bond is incomplete (level, key_size, authenticated, sc, ltk, ediv, "
			 "rand and created are needed)");
	if (r == 0 && s->n >= BOND_MAX)
		r = fail(f->why, f->why_size, f->path, f->line, "more than %d bonds", BOND_MAX);
	if (r == 0)
		r = bond_store_put(s, &b);
	explicit_bzero(&b, sizeof(b));
	return r;
}

static int parse_identity(struct bond_store *s, struct fields *f, char *rest)
{
	char *save = NULL, *addr = strtok_r(rest, " \t", &save),
	     *irk = strtok_r(NULL, " \t", &save);

	if (s->has_identity)
		return fail(f->why, f->why_size, f->path, f->line, "a second identity");
	if (!addr || bt_addr_from_str(addr, BT_ADDR_LE_RANDOM, &s->id.addr) < 0 ||
	    (s->id.addr.b[5] & 0xc0) != 0xc0)
		return fail(f->why, f->why_size, f->path, f->line,
			    "the identity is not a static random address (its top bits 11)");
	if (!irk || strncmp(irk, "irk=", 4) != 0 || strtok_r(NULL, " \t", &save))
		return fail(f->why, f->why_size, f->path, f->line,
			    "the identity is 'identity ADDRESS irk=HEX'");
	s->has_identity = true;
	return key_field(f, "irk", irk + 4, s->id.irk, SM_KEY_LEN);
}

static int parse_line(struct bond_store *s, struct fields *f, char *line, bool *format_seen)
{
	char *rest = line + strcspn(line, " \t");

	if (*rest)
		*rest++ = 0;
	if (!*format_seen) {
		uint64_t v;

		if (strcmp(line, "format") != 0)
			return fail(f->why, f->why_size, f->path, f->line,
				    "not a bond store: it starts with 'format %d'", BOND_FORMAT);
		if (parse_u64(rest, &v) < 0 || v != BOND_FORMAT)
			return fail(f->why, f->why_size, f->path, f->line,
				    "format '%.16s' is not %d, the one this version knows", rest,
				    BOND_FORMAT);
		*format_seen = true;
		return 0;
	}
	if (!strcmp(line, "identity"))
		return parse_identity(s, f, rest);
	if (!strcmp(line, "bond"))
		return parse_bond(s, f, rest);
	return fail(f->why, f->why_size, f->path, f->line, "'%.32s' is neither identity nor bond",
		    line);
}

static struct bond_store *store_new(const char *path)
{
	struct bond_store *s = calloc(1, sizeof(*s));

	if (s && !(s->path = strdup(path))) {
		free(s);
		s = NULL;
	}
	return s;
}

int bond_store_parse(const char *path, const char *text, size_t len, struct bond_store **ret,
		     char *why, size_t why_size)
{
	_cleanup_(bond_store_freep) struct bond_store *s = store_new(path);
	struct fields f = {path, 0, why, why_size};
	bool format_seen = false;
	char *copy;
	int r = 0;

	if (!s)
		return -ENOMEM;
	if (memchr(text, 0, len))
		return fail(why, why_size, path, 0, "not a text file (it holds NUL bytes)");
	if (len > 0 && text[0] != '#' && (len < 7 || memcmp(text, "format ", 7) != 0))
		return fail(why, why_size, path, 1, "not a bond store: it starts with 'format %d'",
			    BOND_FORMAT);
	if (len > 0 && text[len - 1] != '\n')
		return fail(why, why_size, path, 0,
			    "truncated: its last line has no end (an interrupted write?)");
	copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	for (char *line = copy, *next; r == 0 && line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		f.line++;
		line += strspn(line, " \t");
		if (*line && *line != '#')
			r = parse_line(s, &f, line, &format_seen);
	}
	explicit_bzero(copy, len);
	free(copy);
	if (r < 0)
		return r;
	if (!format_seen)
		return fail(why, why_size, path, 0, "empty: not even its 'format %d' line",
			    BOND_FORMAT);
	*ret = TAKE_PTR(s);
	return 0;
}

int bond_store_load(const char *path, struct bond_store **ret, char *why, size_t why_size)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = read_full_file(path, BOND_FILE_MAX, &buf, &len);

	if (r == -ENOENT) {
		*ret = store_new(path);
		return *ret ? 0 : -ENOMEM;
	}
	if (r == -EFBIG)
		return fail(why, why_size, path, 0, "larger than %d bytes: not a bond store",
			    BOND_FILE_MAX),
		       -EFBIG;
	if (r < 0) {
		if (why)
			snprintf(why, why_size, "%s: cannot read it: %s", path, strerror(-r));
		return r;
	}
	r = bond_store_parse(path, (const char *)buf, len, ret, why, why_size);
	explicit_bzero(buf, len);
	free(buf);
	return r;
}

/* ---- writing ---------------------------------------------------------------------------- */

static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...) _printf_(4, 5);
static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if (*len + (size_t)n < *cap)
			break;
		char *nb = malloc(*cap * 2 + (size_t)n);

		if (!nb)
			return -ENOMEM;
		memcpy(nb, *buf, *len);
		explicit_bzero(*buf, *cap);
		free(*buf);
		*buf = nb;
		*cap = *cap * 2 + (size_t)n;
	}
	*len += (size_t)n;
	return 0;
}

static int format_bond(const struct bond *b, char **buf, size_t *len, size_t *cap)
{
	char a[BT_ADDR_STRLEN], ltk[2 * SM_KEY_LEN + 1], rnd[17], irk[2 * SM_KEY_LEN + 1];
	int r;

	hex_encode(b->ltk.key, SM_KEY_LEN, ltk);
	hex_encode(b->ltk.rand, sizeof(b->ltk.rand), rnd);
	hex_encode(b->irk, SM_KEY_LEN, irk);
	r = append(buf, len, cap,
		   "bond %s/%s level=%u key_size=%u authenticated=%d sc=%d ltk=%s ediv=%u "
		   "rand=%s%s%s created=%llu\n",
		   bt_addr_to_str(&b->peer, a), bt_addr_type_str(b->peer.type), b->level,
		   b->ltk.key_size, b->ltk.authenticated, b->ltk.sc, ltk, b->ltk.ediv, rnd,
		   b->has_irk ? " irk=" : "", b->has_irk ? irk : "",
		   (unsigned long long)b->created);
	explicit_bzero(ltk, sizeof(ltk));
	explicit_bzero(irk, sizeof(irk));
	return r;
}

int bond_store_format(const struct bond_store *s, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 1024;
	char *buf = malloc(cap), a[BT_ADDR_STRLEN], irk[2 * SM_KEY_LEN + 1];
	int r;

	if (!buf)
		return -ENOMEM;
	r = append(&buf, &len, &cap,
		   "# otad's bonds: the keys of its pairings. Private: never copy or show it.\n"
		   "format %d\n",
		   BOND_FORMAT);
	if (r == 0 && s->has_identity) {
		hex_encode(s->id.irk, SM_KEY_LEN, irk);
		r = append(&buf, &len, &cap, "identity %s irk=%s\n", bt_addr_to_str(&s->id.addr, a),
			   irk);
		explicit_bzero(irk, sizeof(irk));
	}
	for (size_t i = 0; r == 0 && i < s->n; i++)
		r = format_bond(&s->b[i], &buf, &len, &cap);
	if (r < 0) {
		explicit_bzero(buf, cap);
		free(buf);
		return r;
	}
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int bond_store_save(struct bond_store *s)
{
	_cleanup_free_ char *dir = strdup(s->path);
	char *slash = dir ? strrchr(dir, '/') : NULL, *text = NULL;
	size_t len = 0;
	int r;

	if (!dir)
		return -ENOMEM;
	if (!bond_store_identity(s, true))
		return -EIO;
	if (slash && slash != dir) {
		*slash = 0;
		r = mkdir_p(dir, 0700);
		if (r < 0)
			return r;
	}
	r = bond_store_format(s, &text, &len);
	if (r < 0)
		return r;
	r = write_file_atomic(s->path, text, len, 0600);
	explicit_bzero(text, len);
	free(text);
	return r;
}

/* The directory of path, made 0700 if missing, opened and locked (flock: released at close). */
static int lock_dir(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	int fd, r;

	if (!dir)
		return -ENOMEM;
	if (!slash)
		dir[0] = '.', dir[1] = 0;
	else if (slash == dir)
		slash[1] = 0;
	else
		*slash = 0;
	r = mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = -errno;
			close(fd);
			return r;
		}
	}
	return fd;
}

int bond_store_update(const char *path, int (*fn)(struct bond_store *s, void *user_data),
		      void *user_data, char *why, size_t why_size)
{
	_cleanup_(bond_store_freep) struct bond_store *s = NULL;
	_cleanup_close_ int fd = lock_dir(path);
	int r;

	if (fd < 0) {
		if (why)
			snprintf(why, why_size, "%s: cannot lock its directory: %s", path,
				 strerror(-fd));
		return fd;
	}
	r = bond_store_load(path, &s, why, why_size);
	if (r == 0 && !s)
		r = -ENOMEM;
	if (r == 0)
		r = fn(s, user_data);
	if (r == 0) {
		r = bond_store_save(s);
		if (r < 0 && why)
			snprintf(why, why_size, "%s: cannot write it: %s", path, strerror(-r));
	}
	return r;
}

struct bond_store *bond_store_free(struct bond_store *s)
{
	if (!s)
		return NULL;
	if (s->b)
		explicit_bzero(s->b, s->cap * sizeof(*s->b));
	free(s->b);
	free(s->path);
	explicit_bzero(s, sizeof(*s));
	free(s);
	return NULL;
}

/* ---- lookups ---------------------------------------------------------------------------- */

const char *bond_store_path(const struct bond_store *s)
{
	return s->path;
}

const struct bond_identity *bond_store_identity(struct bond_store *s, bool make)
{
	if (s->has_identity || !make)
		return s->has_identity ? &s->id : NULL;
	if (RAND_bytes(s->id.addr.b, sizeof(s->id.addr.b)) != 1 ||
	    RAND_bytes(s->id.irk, sizeof(s->id.irk)) != 1)
		return NULL;
	/* Vol 6 Part B 1.3.2.1: a static address has its two top bits 1, and the rest neither
	 * all 0 nor all 1 (a random 46 bits are neither, but for 2^-45) */
	s->id.addr.b[5] |= 0xc0;
	s->id.addr.b[0] ^= s->id.addr.b[0] == 0xff || s->id.addr.b[0] == 0 ? 0x5a : 0;
	s->id.addr.type = BT_ADDR_LE_RANDOM;
	s->has_identity = true;
	return &s->id;
}

size_t bond_store_count(const struct bond_store *s)
{
	return s->n;
}

const struct bond *bond_store_get(const struct bond_store *s, size_t i)
{
	return i < s->n ? &s->b[i] : NULL;
}

const struct bond *bond_store_find(const struct bond_store *s, const struct bt_addr *peer)
{
	for (size_t i = 0; i < s->n; i++)
		if (bt_addr_equal(&s->b[i].peer, peer))
			return &s->b[i];
	return NULL;
}

int bond_store_put(struct bond_store *s, const struct bond *b)
{
	struct bond *old = (struct bond *)bond_store_find(s, &b->peer);

	if (b->ltk.key_size < 7 || b->ltk.key_size > 16 || b->level < SM_LEVEL_UNAUTHENTICATED ||
	    b->level > SM_LEVEL_SC)
		return -EINVAL;
	if (old) {
		*old = *b;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct bond *nb = calloc(cap, sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		if (s->b) {
			memcpy(nb, s->b, s->n * sizeof(*nb));
			explicit_bzero(s->b, s->cap * sizeof(*s->b));
			free(s->b);
		}
		s->b = nb;
		s->cap = cap;
	}
	s->b[s->n++] = *b;
	return 0;
}

int bond_store_remove(struct bond_store *s, const struct bt_addr *peer)
{
	struct bond *b = (struct bond *)bond_store_find(s, peer);
	size_t i;

	if (!b)
		return -ENOENT;
	i = (size_t)(b - s->b);
	memmove(&s->b[i], &s->b[i + 1], (s->n - i - 1) * sizeof(*b));
	s->n--;
	explicit_bzero(&s->b[s->n], sizeof(*b));
	return 0;
}
