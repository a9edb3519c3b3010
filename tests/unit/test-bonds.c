/* test-bonds.c — the bond store file (src/transport/bonds.c): what it writes reads back the
 * same; every malformed line is refused with its file, line and what is wrong; every truncation
 * is an error or a shorter store, never a crash; a save is private (0600, its directory 0700),
 * atomic (nothing left beside it) and keeps the gateway's identity, a static random address;
 * processes updating it at once lose nothing. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/testlib.h"
#include "otad/bonds.h"

#define LTK1 "00112233445566778899aabbccddeeff"
#define IRK1 "0f0e0d0c0b0a09080706050403020100"

static const char good[] =
	"# otad's bonds: the keys of its pairings. Private: never copy or show it.\n"
	"format 1\n"
	"identity D3:41:5E:2A:99:10 irk=" IRK1 "\n"
	"bond C0:11:22:33:44:55/public level=4 key_size=16 authenticated=1 sc=1 ltk=" LTK1
	" ediv=0 rand=0000000000000000 irk=" IRK1 " created=1767225600\n"
	"bond C6:AA:BB:CC:DD:EE/random level=2 key_size=7 authenticated=0 sc=0 ltk=" LTK1
	" ediv=4660 rand=0102030405060708 created=1767225601\n";

static struct bond_store *parse_ok(const char *text)
{
	struct bond_store *s = NULL;
	char why[256] = "";
	int r = bond_store_parse("bonds", text, strlen(text), &s, why, sizeof(why));

	if (r < 0)
		fail_msg("%s", why);
	return s;
}

static void test_what_is_written_reads_back_the_same(void **state)
{
	struct bond_store *s = parse_ok(good);
	struct bt_addr a;
	const struct bond *b;
	char *text = NULL;
	size_t len;

	assert_int_equal(bond_store_count(s), 2);
	assert_int_equal(bond_addr_parse("C6:AA:BB:CC:DD:EE/random", &a, NULL), 0);
	b = bond_store_find(s, &a);
	assert_non_null(b);
	assert_int_equal(b->level, 2);
	assert_int_equal(b->ltk.key_size, 7);
	assert_int_equal(b->ltk.ediv, 4660);
	assert_int_equal(b->ltk.rand[0], 1);
	assert_int_equal(b->ltk.rand[7], 8);
	assert_false(b->ltk.authenticated);
	assert_false(b->has_irk);
	assert_int_equal(b->created, 1767225601);
	a.type = BT_ADDR_LE_PUBLIC; /* the type is part of the identity */
	assert_null(bond_store_find(s, &a));
	b = bond_store_get(s, 0);
	assert_true(b->ltk.sc && b->ltk.authenticated && b->has_irk);
	assert_int_equal(b->ltk.key[0], 0x00);
	assert_int_equal(b->ltk.key[15], 0xff);
	assert_int_equal(b->irk[0], 0x0f);
	assert_non_null(bond_store_identity(s, false));
	assert_int_equal(bond_store_format(s, &text, &len), 0);
	assert_int_equal(len, strlen(good));
	assert_string_equal(text, good);
	free(text);
	bond_store_free(s);
}

static void test_put_replaces_and_remove_removes(void **state)
{
	struct bond_store *s = parse_ok(good);
	struct bond b = *bond_store_get(s, 0), bad;
	char *text = NULL;

	b.level = 3;
	assert_int_equal(bond_store_put(s, &b), 0);
	assert_int_equal(bond_store_count(s), 2);
	assert_int_equal(bond_store_find(s, &b.peer)->level, 3);
	bad = b;
	bad.ltk.key_size = 6;
	assert_int_equal(bond_store_put(s, &bad), -EINVAL);
	assert_int_equal(bond_store_remove(s, &b.peer), 0);
	assert_int_equal(bond_store_remove(s, &b.peer), -ENOENT);
	assert_int_equal(bond_store_count(s), 1);
	assert_int_equal(bond_store_format(s, &text, NULL), 0);
	assert_false(tl_contains(text, "C0:11:22:33:44:55"));
	assert_true(tl_contains(text, "C6:AA:BB:CC:DD:EE/random"));
	free(text);
	bond_store_free(s);
}

static void test_malformed_files_are_named_with_their_line(void **state)
{
	static const char *const cases[][2] = {
		{"", "bonds: empty"},
		{"# only a comment\n", "bonds: empty"},
		{"bond C0:11:22:33:44:55/public\n", "bonds:1: not a bond store"},
		{"format 2\n", "bonds:1: format '2' is not 1"},
		{"format 1\nkey 1\n", "bonds:2: 'key' is neither identity nor bond"},
		{"format 1\nbond C0:11:22:33:44:55 level=2\n", "bonds:2: a bond starts with"},
		{"format 1\nbond C0:11:22:33:44/public\n", "bonds:2: a bond starts with"},
		{"format 1\nbond C0:11:22:33:44:55/public level=2\n",
		 "bonds:2: the bond is incomplete"},
		{"format 1\nbond C0:11:22:33:44:55/public level=1\n",
		 "bonds:2: level is not a number 2..4"},
		{"format 1\nbond C0:11:22:33:44:55/public key_size=17\n",
		 "key_size is not a number 7..16"},
		{"format 1\nbond C0:11:22:33:44:55/public ltk=0011\n",
		 "bonds:2: ltk is not 32 hex digits"},
		{"format 1\nbond C0:11:22:33:44:55/public rand=zz00000000000000\n",
		 "rand is not 16 hex"},
		{"format 1\nbond C0:11:22:33:44:55/public level=2 level=3\n", "level given twice"},
		{"format 1\nbond C0:11:22:33:44:55/public colour=blue\n", "unknown field 'colour'"},
		{"format 1\nbond C0:11:22:33:44:55/public level\n", "'level' is not name=value"},
		{"format 1\nidentity 13:41:5E:2A:99:10 irk=" IRK1 "\n",
		 "not a static random address"},
		{"format 1\nidentity D3:41:5E:2A:99:10\n", "bonds:2: the identity is 'identity"},
		{"format 1\nidentity D3:41:5E:2A:99:10 irk=" IRK1
		 "\nidentity D3:41:5E:2A:99:11 irk=" IRK1 "\n",
		 "bonds:3: a second identity"},
		{"format 1\nidentity D3:41:5E:2A:99:10 irk=00", "truncated"},
		{"format 1\n\0\n", "NUL bytes"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bond_store *s = NULL;
		char why[256] = "";
		size_t len = strlen(cases[i][0]);
		int r;

		if (strstr(cases[i][1], "NUL"))
			len = 12;
		r = bond_store_parse("bonds", cases[i][0], len, &s, why, sizeof(why));
		if (r != -EBADMSG || !strstr(why, cases[i][1]))
			fail_msg("case %zu: %d '%s', want '%s'", i, r, why, cases[i][1]);
		assert_null(s);
	}
}

static void test_a_second_bond_with_one_device_is_refused(void **state)
{
	const char *first = strstr(good, "bond C0"), *end = strchr(first, '\n');
	char text[sizeof(good) + 400], why[256] = "";
	struct bond_store *s = NULL;

	snprintf(text, sizeof(text), "%s%.*s", good, (int)(end - first + 1), first);
	assert_int_equal(bond_store_parse("bonds", text, strlen(text), &s, why, sizeof(why)),
			 -EBADMSG);
	assert_true(tl_contains(why, "bonds:6: a second bond with C0:11:22:33:44:55/public"));
}

static void test_every_truncation_is_an_error_or_fewer_bonds(void **state)
{
	size_t n = strlen(good);

	for (size_t len = 0; len < n; len++) {
		struct bond_store *s = NULL;
		char why[256] = "";
		int r = bond_store_parse("bonds", good, len, &s, why, sizeof(why));

		if (r == 0) {
			assert_int_equal(good[len - 1], '\n');
			assert_true(bond_store_count(s) < 2);
			bond_store_free(s);
		} else {
			assert_int_equal(r, -EBADMSG);
			assert_true(why[0]);
		}
	}
}

static void test_save_is_private_atomic_and_keeps_the_identity(void **state)
{
	char dir[512], path[600], why[256] = "", a[BT_ADDR_STRLEN], b2[BT_ADDR_STRLEN];
	struct bond_store *s = NULL, *t = NULL;
	const struct bond_identity *id;
	struct bond_store *g = parse_ok(good);
	struct dirent *d;
	struct stat st;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s", tl_path("state/otad"));
	snprintf(path, sizeof(path), "%s/bonds", dir);
	assert_int_equal(bond_store_load(path, &s, why, sizeof(why)), 0); /* none yet */
	assert_int_equal(bond_store_count(s), 0);
	assert_null(bond_store_identity(s, false));
	assert_int_equal(bond_store_put(s, bond_store_get(g, 0)), 0);
	assert_int_equal(bond_store_save(s), 0);
	id = bond_store_identity(s, false);
	assert_non_null(id);
	assert_int_equal(id->addr.type, BT_ADDR_LE_RANDOM);
	assert_int_equal(id->addr.b[5] & 0xc0, 0xc0); /* static: top bits 11 */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	dp = opendir(dir);
	assert_non_null(dp);
	while ((d = readdir(dp)))
		if (d->d_name[0] != '.')
			assert_string_equal(d->d_name, "bonds");
	closedir(dp);
	assert_int_equal(bond_store_load(path, &t, why, sizeof(why)), 0);
	assert_int_equal(bond_store_count(t), 1);
	assert_string_equal(bt_addr_to_str(&bond_store_identity(t, false)->addr, a),
			    bt_addr_to_str(&id->addr, b2));
	assert_memory_equal(bond_store_identity(t, false)->irk, id->irk, SM_KEY_LEN);
	bond_store_free(t);
	bond_store_free(s);
	bond_store_free(g);
}

static int put(struct bond_store *s, void *user_data)
{
	return bond_store_put(s, user_data);
}

/* Processes adding bonds at once: every one of them is kept (the update holds a lock). */
static void test_updates_at_once_lose_nothing(void **state)
{
	enum { PROCS = 6, EACH = 20 };
	struct bond_store *g = parse_ok(good), *s = NULL;
	const char *path = tl_path("race/bonds");
	char why[256] = "";
	pid_t pid[PROCS];

	for (int p = 0; p < PROCS; p++) {
		pid[p] = fork();
		assert_true(pid[p] >= 0);
		if (pid[p] > 0)
			continue;
		for (int i = 0; i < EACH; i++) {
			struct bond b = *bond_store_get(g, 0);

			b.peer.b[1] = (uint8_t)p;
			b.peer.b[0] = (uint8_t)i;
			if (bond_store_update(path, put, &b, why, sizeof(why)) < 0)
				_exit(1);
		}
		bond_store_free(g);
		_exit(0);
	}
	for (int p = 0; p < PROCS; p++) {
		int st = -1;

		assert_int_equal(waitpid(pid[p], &st, 0), pid[p]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(bond_store_load(path, &s, why, sizeof(why)), 0);
	assert_int_equal(bond_store_count(s), PROCS * EACH);
	bond_store_free(s);
	bond_store_free(g);
}

static void test_an_unreadable_store_says_why(void **state)
{
	struct bond_store *s = NULL;
	char why[256] = "";

	assert_int_equal(bond_store_load(tl_path(""), &s, why, sizeof(why)), -EISDIR);
	assert_true(tl_contains(why, "cannot read it"));
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_what_is_written_reads_back_the_same),
		cmocka_unit_test(test_put_replaces_and_remove_removes),
		cmocka_unit_test(test_malformed_files_are_named_with_their_line),
		cmocka_unit_test(test_a_second_bond_with_one_device_is_refused),
		cmocka_unit_test(test_every_truncation_is_an_error_or_fewer_bonds),
		cmocka_unit_test(test_save_is_private_atomic_and_keeps_the_identity),
		cmocka_unit_test(test_updates_at_once_lose_nothing),
		cmocka_unit_test(test_an_unreadable_store_says_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
