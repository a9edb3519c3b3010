/* cmd-bonds.c — otactl's bond store (otad/bonds.h, $XDG_STATE_HOME/otad/bonds): pair (pair with
 * a BLE device and keep the bond), unpair (forget one), bonds (list them; never a key). */
#include "cli/commands.h"
#include "cli/conn.h"
#include "cli/exit-codes.h"
#include "otad/bonds.h"
#include "otad/bt-sm.h"
#include "util/json.h"
#include "util/log.h"
#include "util/macro.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

DEFINE_FREE_CLEANUP(struct bond_store, bond_store_free)

const char *cli_bond_file(void)
{
	static char path[4096];
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n = -1;

	if (state && state[0] == '/')
		n = snprintf(path, sizeof(path), "%s/otad/bonds", state);
	else if (home && home[0] == '/')
		n = snprintf(path, sizeof(path), "%s/.local/state/otad/bonds", home);
	return n > 0 && (size_t)n < sizeof(path) ? path : NULL;
}

/* The store (ret NULL: only checked), or an exit code (logged: which file, what is wrong,
 * what to do). */
static int open_store(struct bond_store **ret)
{
	_cleanup_(bond_store_freep) struct bond_store *s = NULL;
	const char *path = cli_bond_file();
	char why[512];
	int r;

	if (!path) {
		log_error("no place for the bond store: set $XDG_STATE_HOME or $HOME");
		return EXIT_FAILURE_GENERIC;
	}
	r = bond_store_load(path, &s, why, sizeof(why));
	if (r == -EBADMSG || r == -EFBIG) {
		log_error("bond store %s; it is left as it is: mend it, or move it away to start "
			  "over (its bonds are then lost: pair again with --repair)",
			  why);
		return EXIT_FAILURE_GENERIC;
	}
	if (r < 0) {
		log_error("bond store %s", why);
		return EXIT_FAILURE_GENERIC;
	}
	if (ret)
		*ret = TAKE_PTR(s);
	return 0;
}

int cli_check_bonds(void)
{
	arg.params.tr.bond_file = cli_bond_file();
	return arg.params.tr.bond_file ? open_store(NULL) : 0;
}

static void print_pair_json(const struct tr_security *s, const char *file)
{
	struct json j;

	json_init(&j, stdout);
	json_begin_object(&j, NULL);
	json_str(&j, "device", arg.transport);
	json_str(&j, "address", s->peer);
	json_bool(&j, "paired", s->paired);
	json_u64(&j, "level", s->level);
	json_u64(&j, "key_size", s->key_size);
	json_str(&j, "bond_file", file);
	json_end_object(&j);
	json_end_line(&j);
}

int cmd_pair(int argc, char **argv)
{
	struct tr_security s;
	struct conn c;
	int r;

	if (argc != 1 || strncmp(arg.transport, "ble:", 4) != 0) {
		log_error("usage: otactl -t ble:ADDRESS|name=NAME pair (a BLE device)");
		return EXIT_USAGE;
	}
	/* up front: a device that asks for nothing is paired too */
	arg.params.tr.security = MAX(arg.params.tr.security, (uint8_t)SM_LEVEL_UNAUTHENTICATED);
	r = conn_open(&c, arg.transport, &arg.params.tr, arg.timeout_usec);
	if (r == 0 && tr_security(c.tr, &s) < 0) {
		log_error("%s: the link is down again", arg.transport);
		r = EXIT_LINK;
	}
	if (r == 0 && s.bond_err) {
		log_error("paired with %s, but %s", s.peer, s.bond_why);
		r = EXIT_FAILURE_GENERIC;
	}
	if (r == 0 && arg.json)
		print_pair_json(&s, arg.params.tr.bond_file);
	else if (r == 0 && s.paired)
		printf("paired with %s (%s): security level %u, key size %u; bond kept in %s\n",
		       s.peer, arg.transport, s.level, s.key_size, arg.params.tr.bond_file);
	else if (r == 0)
		printf("%s (%s) is bonded already: encrypted with the stored key (security level "
		       "%u, key size %u); --repair pairs anew\n",
		       s.peer, arg.transport, s.level, s.key_size);
	conn_close(&c);
	return r;
}

struct unpair {
	struct bt_addr a;
	bool typed;
	int removed;
};

static int remove_bonds(struct bond_store *s, void *user_data)
{
	struct unpair *u = user_data;

	for (int t = BT_ADDR_LE_PUBLIC; t <= BT_ADDR_LE_RANDOM; t++) {
		if (u->typed && t != u->a.type)
			continue;
		u->a.type = (uint8_t)t;
		u->removed += bond_store_remove(s, &u->a) == 0;
	}
	return u->removed ? 0 : -ENOENT;
}

static void print_removed(const char *who)
{
	struct json j;

	if (!arg.json) {
		printf("bond with %s removed (the device keeps its half until it forgets it: "
		       "pairing again needs --repair)\n",
		       who);
		return;
	}
	json_init(&j, stdout);
	json_begin_object(&j, NULL);
	json_str(&j, "removed", who);
	json_end_object(&j);
	json_end_line(&j);
}

/* unpair ADDRESS[/public|/random], or -t ble:ADDRESS[/...]: without a type, both. */
int cmd_unpair(int argc, char **argv)
{
	const char *who = argc == 2 ? argv[1] : arg.transport && argc == 1 ? arg.transport : NULL;
	struct unpair u = {0};
	char why[512];
	int r;

	if (who && !strncmp(who, "ble:", 4))
		who += 4;
	if (!who || argc > 2 || bond_addr_parse(who, &u.a, &u.typed) < 0) {
		log_error("usage: otactl unpair ADDRESS[/public|/random] (a bonded device's "
			  "address, as 'otactl bonds' lists it)");
		return EXIT_USAGE;
	}
	r = open_store(NULL); /* a file that does not parse: named, with what to do */
	if (r)
		return r;
	r = bond_store_update(cli_bond_file(), remove_bonds, &u, why, sizeof(why));
	if (r == -ENOENT && !u.removed) {
		log_error("no bond with %s in %s", who, cli_bond_file());
		return EXIT_USAGE;
	}
	if (r < 0) {
		log_error("bond store %s", why);
		return EXIT_FAILURE_GENERIC;
	}
	print_removed(who);
	return EXIT_OK;
}

static const char *format_time(uint64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, 32, "%llu", (unsigned long long)t);
	return buf;
}

static void list_json(struct bond_store *s)
{
	const struct bond_identity *id = bond_store_identity(s, false);
	char a[BT_ADDR_STRLEN], when[32];
	struct json j;

	json_init(&j, stdout);
	json_begin_object(&j, NULL);
	json_str(&j, "bond_file", bond_store_path(s));
	json_str(&j, "identity", id ? bt_addr_to_str(&id->addr, a) : NULL);
	json_begin_array(&j, "bonds");
	for (size_t i = 0; i < bond_store_count(s); i++) {
		const struct bond *b = bond_store_get(s, i);

		json_begin_object(&j, NULL);
		json_str(&j, "address", bt_addr_to_str(&b->peer, a));
		json_str(&j, "type", bt_addr_type_str(b->peer.type));
		json_u64(&j, "level", b->level);
		json_u64(&j, "key_size", b->ltk.key_size);
		json_bool(&j, "authenticated", b->ltk.authenticated);
		json_bool(&j, "secure_connections", b->ltk.sc);
		json_str(&j, "paired", format_time(b->created, when));
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
	json_end_line(&j);
}

int cmd_bonds(int argc, char **argv)
{
	_cleanup_(bond_store_freep) struct bond_store *s = NULL;
	char a[BT_ADDR_STRLEN], when[32];
	int r;

	if (argc != 1) {
		log_error("usage: otactl bonds [--json]");
		return EXIT_USAGE;
	}
	r = open_store(&s);
	if (r)
		return r;
	if (arg.json) {
		list_json(s);
		return EXIT_OK;
	}
	if (!bond_store_count(s)) {
		printf("no bonds in %s\n", bond_store_path(s));
		return EXIT_OK;
	}
	printf("%-25s %-5s %-8s %s\n", "ADDRESS", "LEVEL", "KEY SIZE", "PAIRED");
	for (size_t i = 0; i < bond_store_count(s); i++) {
		const struct bond *b = bond_store_get(s, i);
		char addr[BT_ADDR_STRLEN + 8];

		snprintf(addr, sizeof(addr), "%s/%s", bt_addr_to_str(&b->peer, a),
			 bt_addr_type_str(b->peer.type));
		printf("%-25s %-5u %-8u %s\n", addr, b->level, b->ltk.key_size,
		       format_time(b->created, when));
	}
	return EXIT_OK;
}
