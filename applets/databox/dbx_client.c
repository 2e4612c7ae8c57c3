/* dbx_client.c - the client session (config, token, JSON calls, path lookup, key
 * unlock, distribution) and the small commands: login, keygen, room, ls, keypair
 * reset, distribute. Upload and download live in dbx_client_xfer.c. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/databox/dbx.h"
#include "applets/databox/dbx_client.h"
#include "applets/databox/dbx_keys.h"
#include "core/exitcode.h"
#include "core/fs.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/rsa.h"
#include "net/httpc.h"

#define KEY_PW_ENV "DATABOX_KEY_PASSWORD"

static int config_dir(char *out, size_t cap)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
	if (x && *x)
		return str_fmt(out, cap, "%s/databox", x) < 0 ? -1 : 0;
	if (!h || !*h)
		return -1;
	return str_fmt(out, cap, "%s/.config/databox", h) < 0 ? -1 : 0;
}

int dbx_cl_open(struct dbx_client *c, const char *cmd, int need_token)
{
	char path[4200], err[300];
	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	if (config_dir(c->dir, sizeof(c->dir)) < 0 ||
	    fs_path_join(path, sizeof(path), c->dir, "config.json") < 0) {
		fprintf(stderr, "databox %s: no home directory for ~/.config/databox\n", cmd);
		return EXIT_CONFIG;
	}
	c->cfg = dbx_json_load(path, err, sizeof(err));
	if (!c->cfg || !json_is_string(json_object_get(c->cfg, "server"))) {
		fprintf(stderr, "databox %s: not logged in (run databox login first): %s\n", cmd, err);
		return EXIT_CONFIG;
	}
	if (need_token) {
		size_t n;
		if (fs_path_join(path, sizeof(path), c->dir, "token") < 0 ||
		    !(c->token = (char *)fs_read_file_new(path, 4096, &n))) {
			fprintf(stderr, "databox %s: no login token (run databox login)\n", cmd);
			return EXIT_NOPERM;
		}
		c->token[strcspn(c->token, "\r\n")] = '\0';
	}
	c->http = net_httpc_new(json_string_value(json_object_get(c->cfg, "server")),
				json_string_value(json_object_get(c->cfg, "ca")), err, sizeof(err));
	if (!c->http) {
		fprintf(stderr, "databox %s: %s\n", cmd, err);
		return EXIT_CONFIG;
	}
	return EXIT_OK;
}

void dbx_cl_close(struct dbx_client *c)
{
	net_httpc_free(c->http);
	json_decref(c->cfg);
	secret_free_str(c->token);
	memset(c, 0, sizeof(*c));
}

int dbx_cl_call(struct dbx_client *c, const char *method, const char *path, json_t *body,
		json_t **out)
{
	char auth[200], full[1024], err[300], *resp = NULL, *text = NULL;
	const char *hdrs[3] = { "Content-Type: application/json", NULL, NULL };
	size_t rl = 0;

	if (out)
		*out = NULL;
	if (c->token) {
		str_fmt(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
		hdrs[1] = auth;
	}
	str_fmt(full, sizeof(full), "/api/v1%s", path);
	if (body)
		text = json_dumps(body, JSON_COMPACT);
	int st = net_httpc_request(c->http, method, full, hdrs, text, text ? strlen(text) : 0, NULL,
				   NULL, &resp, &rl, 16 * 1024 * 1024, err, sizeof(err));
	if (text) {
		secret_wipe(text, strlen(text));
		free(text);
	}
	secret_wipe(auth, sizeof(auth));
	if (st < 0) {
		fprintf(stderr, "databox %s: %s\n", c->cmd, err);
		return -1;
	}
	if (out && rl)
		*out = json_loadb(resp, rl, 0, NULL);
	free(resp);
	return st;
}

int dbx_cl_fail(struct dbx_client *c, int status, json_t *reply, const char *what)
{
	return dbx_cl_exit_for(c->cmd, status, reply, what);
}

int dbx_cl_exit_for(const char *cmd, int status, json_t *reply, const char *what)
{
	const char *m = json_string_value(json_object_get(reply, "message"));
	if (status < 0)
		return EXIT_UNAVAILABLE;
	fprintf(stderr, "databox %s: %s: %s (HTTP %d)\n", cmd, what, m ? m : "failed", status);
	if (status == 401)
		fprintf(stderr, "databox %s: the login expired or is missing: run databox login\n", cmd);
	return status == 401 || status == 403 ? EXIT_NOPERM : status == 404 ? EXIT_NOINPUT :
	       status >= 500 ? EXIT_UNAVAILABLE : EXIT_DATAERR;
}

/* The child of parent (0 = top-level rooms) called name. */
static json_t *child(struct dbx_client *c, long long parent, const char *name, size_t nlen)
{
	char path[64];
	json_t *out = NULL, *it, *found = NULL;
	size_t i;
	if (parent)
		str_fmt(path, sizeof(path), "/nodes?parent_id=%lld", parent);
	else
		str_copy(path, "/nodes", sizeof(path));
	int st = dbx_cl_call(c, "GET", path, NULL, &out);
	if (st != 200) {
		dbx_cl_fail(c, st, out, "listing");
		json_decref(out);
		return NULL;
	}
	json_array_foreach(json_object_get(out, "items"), i, it) {
		const char *n = json_string_value(json_object_get(it, "name"));
		if (n && strlen(n) == nlen && memcmp(n, name, nlen) == 0) {
			found = json_incref(it);
			break;
		}
	}
	json_decref(out);
	return found;
}

json_t *dbx_cl_resolve(struct dbx_client *c, const char *path)
{
	json_t *node = NULL;
	long long parent = 0;
	const char *p = path;
	while (*p == '/')
		p++;
	while (*p) {
		size_t n = strcspn(p, "/");
		json_decref(node);
		node = child(c, parent, p, n);
		if (!node) {
			fprintf(stderr, "databox %s: %s: not found (or no access)\n", c->cmd, path);
			return NULL;
		}
		parent = json_integer_value(json_object_get(node, "id"));
		p += n;
		while (*p == '/')
			p++;
	}
	if (!node)
		fprintf(stderr, "databox %s: a room name is needed\n", c->cmd);
	return node;
}

struct cry_rsa *dbx_cl_unlock(struct dbx_client *c, const char *pwfile, int *version, int *rc)
{
	json_t *kpj = NULL;
	struct dbx_keypair kp;
	struct dbx_unlock_info info;
	struct cry_rsa *k = NULL;
	char err[300], *pw = NULL;
	int wrong;

	int st = dbx_cl_call(c, "GET", "/user/account/keypair", NULL, &kpj);
	if (st != 200) {
		*rc = dbx_cl_fail(c, st, kpj, "your key pair (run databox keygen)");
		goto out;
	}
	*rc = EXIT_DATAERR;
	if (dbx_keypair_from_json(kpj, &kp, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox %s: your key pair: %s\n", c->cmd, err);
		goto out;
	}
	pw = secret_read(pwfile, KEY_PW_ENV, "Password for your private key: ", err, sizeof(err));
	if (!pw) {
		fprintf(stderr, "databox %s: key password: %s\n", c->cmd, err);
		goto out;
	}
	k = dbx_keypair_unlock(&kp, pw, &info, &wrong, err, sizeof(err));
	if (!k) {
		fprintf(stderr, "databox %s: %s\n", c->cmd, err);
		goto out;
	}
	*version = kp.priv_version;
	*rc = EXIT_OK;
out:
	secret_free_str(pw);
	json_decref(kpj);
	return k;
}

int dbx_cl_distribute(struct dbx_client *c, const char *query, struct cry_rsa *priv, int version,
		      const void *plain_fk, long long *done)
{
	char path[256], err[300];
	*done = 0;
	for (int round = 0; round < 100000; round++) {
		json_t *mk = NULL, *it, *items = json_array();
		size_t i;
		str_fmt(path, sizeof(path), "/nodes/missingFileKeys?limit=100%s%s", query ? "&" : "", query ? query : "");
		int st = dbx_cl_call(c, "GET", path, NULL, &mk);
		if (st != 200) {
			json_decref(items);
			int rc = dbx_cl_fail(c, st, mk, "missing file keys");
			json_decref(mk);
			return rc;
		}
		json_array_foreach(json_object_get(mk, "items"), i, it) {
			long long uid = json_integer_value(json_object_get(it, "userId"));
			long long fid = json_integer_value(json_object_get(it, "fileId"));
			struct dbx_file_key plain, enc;
			json_t *f, *u;
			size_t j;
			int have = 0;
			if (plain_fk) {
				memcpy(&plain, plain_fk, sizeof(plain));
				have = 1;
			} else {
				json_array_foreach(json_object_get(mk, "files"), j, f) {
					struct dbx_file_key e;
					if (json_integer_value(json_object_get(f, "id")) != fid)
						continue;
					if (dbx_file_key_from_json(json_object_get(f, "fileKeyContainer"), 1, &e, err, sizeof(err)) == 0 &&
					    dbx_file_key_unwrap(&e, priv, e.version, &plain, err, sizeof(err)) == 0)
						have = 1;
					else
						fprintf(stderr, "databox %s: file %lld: %s\n", c->cmd, fid, err);
					(void)version;
					break;
				}
			}
			if (!have)
				continue;
			json_array_foreach(json_object_get(mk, "users"), j, u) {
				struct dbx_keypair kp;
				struct cry_rsa *pub;
				if (json_integer_value(json_object_get(u, "id")) != uid)
					continue;
				if (dbx_keypair_from_json(json_object_get(u, "publicKeyContainer"), &kp, err, sizeof(err)) < 0 ||
				    !(pub = dbx_keypair_public(&kp, err, sizeof(err)))) {
					fprintf(stderr, "databox %s: user %lld: %s\n", c->cmd, uid, err);
					continue;
				}
				if (dbx_file_key_wrap(&plain, pub, kp.pub_version, &enc, err, sizeof(err)) == 0)
					json_array_append_new(items, json_pack("{s:I,s:I,s:o}", "userId", (json_int_t)uid,
									       "fileId", (json_int_t)fid, "fileKey",
									       dbx_file_key_to_json(&enc)));
				cry_rsa_free(pub);
			}
			dbx_file_key_wipe(&plain);
		}
		json_decref(mk);
		size_t n = json_array_size(items);
		if (n == 0) {
			json_decref(items);
			return EXIT_OK;
		}
		json_t *body = json_pack("{s:o}", "items", items), *rep = NULL;
		/* the same query (use_key=...) tells the server whose keys we serve */
		str_fmt(path, sizeof(path), "/nodes/files/keys%s%s", query ? "?" : "", query ? query : "");
		st = dbx_cl_call(c, "POST", path, body, &rep);
		json_decref(body);
		if (st != 204) {
			int rc = dbx_cl_fail(c, st, rep, "setting file keys");
			json_decref(rep);
			return rc;
		}
		json_decref(rep);
		*done += (long long)n;
	}
	return EXIT_OK;
}

void dbx_progress(uint64_t done, uint64_t total, void *arg)
{
	static int tty = -1;
	static uint64_t shown = UINT64_MAX;
	const char *name = arg;
	if (tty < 0)
		tty = isatty(2);
	/* a line per MiB at most: this is called per write, and the terminal is slow */
	if (!tty || !total || (done >> 20 == shown && done < total))
		return;
	shown = done >> 20;
	int pct = (int)(done * 100 / total), bars = pct / 4;
	fprintf(stderr, "\r%-20.20s [%-25.*s] %3d%% %llu/%llu MiB", name, bars, "#########################",
		pct, (unsigned long long)(done >> 20), (unsigned long long)(total >> 20));
	if (done >= total)
		fputc('\n', stderr);
}

/* ---- commands ---- */

static const struct option opts[] = {
	{ "server", required_argument, NULL, 's' },
	{ "ca", required_argument, NULL, 'a' },
	{ "user", required_argument, NULL, 'u' },
	{ "password-file", required_argument, NULL, 'p' },
	{ "key-password-file", required_argument, NULL, 'k' },
	{ "version", required_argument, NULL, 'V' },
	{ "role", required_argument, NULL, 'r' },
	{ "encrypted", no_argument, NULL, 'e' },
	{ "rescue-password-file", required_argument, NULL, 'R' },
	{ "iterations", required_argument, NULL, 'i' }, /* hidden: tests */
	{ NULL, 0, NULL, 0 },
};

struct copts {
	const char *server, *ca, *user, *pwfile, *keypwfile, *version, *role, *rescuepw;
	int encrypted;
	unsigned long iterations;
	int nargs;
	char **args;
};

static int parse(int argc, char **argv, struct copts *o)
{
	int ch;
	memset(o, 0, sizeof(*o));
	optind = 0;
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "--password", 10) == 0 && strncmp(argv[i], "--password-file", 15) != 0) {
			fprintf(stderr, "databox: passwords are never taken from the command line\n");
			return -1;
		}
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': o->server = optarg; break;
		case 'a': o->ca = optarg; break;
		case 'u': o->user = optarg; break;
		case 'p': o->pwfile = optarg; break;
		case 'k': o->keypwfile = optarg; break;
		case 'V': o->version = optarg; break;
		case 'r': o->role = optarg; break;
		case 'e': o->encrypted = 1; break;
		case 'i': o->iterations = strtoul(optarg, NULL, 10); break;
		case 'R': o->rescuepw = optarg; break;
		default: return -1;
		}
	}
	o->nargs = argc - optind;
	o->args = argv + optind;
	return 0;
}

static int cmd_login(struct copts *o)
{
	struct dbx_client c;
	char dir[4096], path[4200], err[300], *pw = NULL, ca_abs[4096];
	int rc = EXIT_USAGE;
	json_t *cfg = NULL, *rep = NULL;

	if (!o->server || !o->user) {
		fprintf(stderr, "Usage: databox login --server https://HOST:PORT --user NAME [--ca FILE] [--password-file FILE]\n");
		return EXIT_USAGE;
	}
	if (config_dir(dir, sizeof(dir)) < 0 || fs_mkdir_p(dir, 0700) < 0) {
		fprintf(stderr, "databox login: cannot create ~/.config/databox\n");
		return EXIT_CANTCREAT;
	}
	if (o->ca && !realpath(o->ca, ca_abs)) {
		fprintf(stderr, "databox login: %s: %s\n", o->ca, strerror(errno));
		return EXIT_NOINPUT;
	}
	cfg = json_pack("{s:s,s:s}", "server", o->server, "user", o->user);
	if (o->ca)
		json_object_set_new(cfg, "ca", json_string(ca_abs));
	fs_path_join(path, sizeof(path), dir, "config.json");
	if (dbx_json_save(path, cfg, 0600) < 0) {
		fprintf(stderr, "databox login: %s: %s\n", path, strerror(errno));
		rc = EXIT_CANTCREAT;
		goto out;
	}
	if ((rc = dbx_cl_open(&c, "login", 0)) != EXIT_OK)
		goto out;
	pw = secret_read(o->pwfile, DBX_PASSWORD_ENV, "Login password: ", err, sizeof(err));
	if (!pw) {
		fprintf(stderr, "databox login: password: %s\n", err);
		rc = EXIT_DATAERR;
		dbx_cl_close(&c);
		goto out;
	}
	json_t *body = json_pack("{s:s,s:s}", "userName", o->user, "password", pw);
	int st = dbx_cl_call(&c, "POST", "/auth/login", body, &rep);
	json_decref(body);
	const char *tok = json_string_value(json_object_get(rep, "token"));
	if (st != 200 || !tok) {
		rc = dbx_cl_fail(&c, st, rep, "login");
	} else {
		fs_path_join(path, sizeof(path), dir, "token");
		if (fs_write_atomic(path, tok, strlen(tok), 0600) < 0) {
			fprintf(stderr, "databox login: %s: %s\n", path, strerror(errno));
			rc = EXIT_CANTCREAT;
		} else {
			printf("logged in to %s as %s\n", o->server, o->user);
			rc = EXIT_OK;
		}
	}
	dbx_cl_close(&c);
out:
	secret_free_str(pw);
	json_decref(rep);
	json_decref(cfg);
	return rc;
}

static int cmd_keygen(struct copts *o, int reset)
{
	struct dbx_client c;
	char err[300], *pw = NULL;
	int version = DBX_KP_RSA4096, rc;
	json_t *kp = NULL, *rep = NULL;

	if (o->version && !(version = dbx_kp_version_parse(o->version))) {
		fprintf(stderr, "databox keygen: --version is A or RSA-4096\n");
		return EXIT_USAGE;
	}
	if ((rc = dbx_cl_open(&c, reset ? "keypair reset" : "keygen", 1)) != EXIT_OK)
		return rc;
	int prompting = !o->keypwfile && !getenv(KEY_PW_ENV);
	pw = secret_read(o->keypwfile, KEY_PW_ENV, "Password for your new private key: ", err, sizeof(err));
	if (pw && prompting) {
		char *again = secret_read(NULL, NULL, "Repeat it: ", err, sizeof(err));
		if (!again || strcmp(again, pw) != 0) {
			secret_free_str(pw);
			pw = NULL;
			str_copy(err, "the passwords differ", sizeof(err));
		}
		secret_free_str(again);
	}
	rc = EXIT_DATAERR;
	if (!pw || !*pw) {
		fprintf(stderr, "databox %s: key password: %s\n", c.cmd, pw ? "empty" : err);
		goto out;
	}
	if (reset) {
		int st = dbx_cl_call(&c, "DELETE", "/user/account/keypair", NULL, &rep);
		if (st != 204 && st != 404) {
			rc = dbx_cl_fail(&c, st, rep, "deleting the old key pair");
			goto out;
		}
		json_decref(rep);
		rep = NULL;
	}
	kp = dbx_keypair_generate(version, pw, o->iterations ? (uint32_t)o->iterations : DBX_PBKDF2_ITERATIONS,
				  err, sizeof(err));
	if (!kp) {
		fprintf(stderr, "databox %s: %s\n", c.cmd, err);
		goto out;
	}
	int st = dbx_cl_call(&c, "POST", "/user/account/keypair", kp, &rep);
	if (st != 204) {
		rc = dbx_cl_fail(&c, st, rep, "storing the key pair");
		goto out;
	}
	printf("%s key pair stored on the server (private key encrypted with your key password)%s\n",
	       dbx_kp_version_name(version), reset ? "; members must distribute your file keys again" : "");
	rc = EXIT_OK;
out:
	json_decref(kp);
	json_decref(rep);
	secret_free_str(pw);
	dbx_cl_close(&c);
	return rc;
}

static int cmd_room(struct copts *o)
{
	struct dbx_client c;
	json_t *rep = NULL, *body, *node = NULL;
	char path[96];
	int rc, st;

	if (o->nargs >= 2 && strcmp(o->args[0], "create") == 0) {
		if ((rc = dbx_cl_open(&c, "room create", 1)) != EXIT_OK)
			return rc;
		body = json_pack("{s:s}", "name", o->args[1]);
		st = dbx_cl_call(&c, "POST", "/nodes/rooms", body, &rep);
		json_decref(body);
		if (st != 201) {
			rc = dbx_cl_fail(&c, st, rep, "creating the room");
			goto out;
		}
		long long id = json_integer_value(json_object_get(rep, "id"));
		if (o->encrypted) {
			json_decref(rep);
			rep = NULL;
			str_fmt(path, sizeof(path), "/nodes/rooms/%lld/encrypt", id);
			body = json_pack("{s:b}", "isEncrypted", 1);
			st = dbx_cl_call(&c, "PUT", path, body, &rep);
			json_decref(body);
			if (st != 200) {
				rc = dbx_cl_fail(&c, st, rep, "encrypting the room");
				goto out;
			}
		}
		printf("room %s created (id %lld%s)\n", o->args[1], id, o->encrypted ? ", encrypted" : "");
		rc = EXIT_OK;
		goto out;
	}
	if (o->nargs == 3 && strcmp(o->args[0], "add-member") == 0 && o->role) {
		if ((rc = dbx_cl_open(&c, "room add-member", 1)) != EXIT_OK)
			return rc;
		if (!(node = dbx_cl_resolve(&c, o->args[1]))) {
			rc = EXIT_NOINPUT;
			goto out;
		}
		str_fmt(path, sizeof(path), "/nodes/rooms/%lld/users", (long long)json_integer_value(json_object_get(node, "id")));
		body = json_pack("{s:[{s:s,s:s}]}", "items", "userName", o->args[2], "role", o->role);
		st = dbx_cl_call(&c, "POST", path, body, &rep);
		json_decref(body);
		if (st != 204) {
			rc = dbx_cl_fail(&c, st, rep, "adding the member");
			goto out;
		}
		printf("%s is now %s in %s\n", o->args[2], o->role, o->args[1]);
		rc = EXIT_OK;
		goto out;
	}
	fprintf(stderr, "Usage: databox room create NAME [--encrypted] | room add-member ROOM USER --role read|write|manage\n");
	return EXIT_USAGE;
out:
	json_decref(node);
	json_decref(rep);
	dbx_cl_close(&c);
	return rc;
}

static int cmd_ls(struct copts *o)
{
	struct dbx_client c;
	json_t *rep = NULL, *node = NULL, *it;
	char path[96];
	size_t i;
	int rc = dbx_cl_open(&c, "ls", 1);
	if (rc != EXIT_OK)
		return rc;
	if (o->nargs) {
		if (!(node = dbx_cl_resolve(&c, o->args[0]))) {
			rc = EXIT_NOINPUT;
			goto out;
		}
		str_fmt(path, sizeof(path), "/nodes?parent_id=%lld", (long long)json_integer_value(json_object_get(node, "id")));
	} else {
		str_copy(path, "/nodes", sizeof(path));
	}
	int st = dbx_cl_call(&c, "GET", path, NULL, &rep);
	if (st != 200) {
		rc = dbx_cl_fail(&c, st, rep, "listing");
		goto out;
	}
	json_array_foreach(json_object_get(rep, "items"), i, it)
		printf("%-6s %-9s %-6s %12lld  %s\n", json_string_value(json_object_get(it, "type")),
		       json_is_true(json_object_get(it, "isEncrypted")) ? "encrypted" : "plain",
		       json_string_value(json_object_get(it, "role")),
		       (long long)json_integer_value(json_object_get(it, "size")),
		       json_string_value(json_object_get(it, "name")));
	rc = EXIT_OK;
out:
	json_decref(node);
	json_decref(rep);
	dbx_cl_close(&c);
	return rc;
}

static int cmd_distribute(struct copts *o)
{
	struct dbx_client c;
	int version, rc = dbx_cl_open(&c, "distribute", 1);
	long long done = 0;
	if (rc != EXIT_OK)
		return rc;
	struct cry_rsa *k = dbx_cl_unlock(&c, o->keypwfile, &version, &rc);
	if (k) {
		rc = dbx_cl_distribute(&c, NULL, k, version, NULL, &done);
		if (rc == EXIT_OK)
			printf("distributed %lld file key%s\n", done, done == 1 ? "" : "s");
		cry_rsa_free(k);
	}
	dbx_cl_close(&c);
	return rc;
}

#define RESCUE_PW_ENV "DATABOX_RESCUE_PASSWORD"

/* rescue set-room ROOM: a key pair for the room under the rescue password, then every
 * file key we hold in the room is wrapped for it. rescue distribute ROOM: unlock the
 * room's rescue key with the rescue password and serve every member's missing keys. */
static int cmd_rescue(struct copts *o)
{
	struct dbx_client c;
	json_t *node = NULL, *kp = NULL, *rep = NULL;
	struct cry_rsa *k = NULL;
	char path[128], query[96], err[300], *pw = NULL;
	int rc, version = DBX_KP_RSA4096;
	long long done = 0;

	int sys = o->nargs == 1 && (!strcmp(o->args[0], "set-system") || !strcmp(o->args[0], "distribute"));
	if ((!sys && (o->nargs != 2 || (strcmp(o->args[0], "set-room") && strcmp(o->args[0], "distribute")))) ||
	    (o->version && !(version = dbx_kp_version_parse(o->version)))) {
		fprintf(stderr, "Usage: databox rescue set-system | set-room ROOM | distribute [ROOM] "
			"[--rescue-password-file F] [--key-password-file F]\n");
		return EXIT_USAGE;
	}
	int set = strncmp(o->args[0], "set-", 4) == 0;
	if ((rc = dbx_cl_open(&c, set ? (sys ? "rescue set-system" : "rescue set-room") : "rescue distribute", 1)) != EXIT_OK)
		return rc;
	long long rid = 0;
	if (sys) {
		str_copy(path, "/settings/keypair", sizeof(path));
	} else {
		if (!(node = dbx_cl_resolve(&c, o->args[1]))) {
			rc = EXIT_NOINPUT;
			goto out;
		}
		rid = json_integer_value(json_object_get(node, "id"));
		str_fmt(path, sizeof(path), "/nodes/rooms/%lld/keypair", rid);
	}
	pw = secret_read(o->rescuepw, RESCUE_PW_ENV, sys ? "System rescue password: " : "Rescue password of the room: ",
			 err, sizeof(err));
	rc = EXIT_DATAERR;
	if (!pw || strlen(pw) < 8) {
		fprintf(stderr, "databox %s: a rescue password of at least 8 characters is required%s%s\n", c.cmd,
			pw ? "" : ": ", pw ? "" : err);
		goto out;
	}
	if (set) {
		kp = dbx_keypair_generate(version, pw, o->iterations ? (uint32_t)o->iterations : DBX_PBKDF2_ITERATIONS,
					  err, sizeof(err));
		if (!kp) {
			fprintf(stderr, "databox rescue set-room: %s\n", err);
			goto out;
		}
		int st = dbx_cl_call(&c, "POST", path, kp, &rep);
		if (st != 204) {
			rc = dbx_cl_fail(&c, st, rep, sys ? "storing the system rescue key" : "storing the room rescue key");
			goto out;
		}
		if (sys)
			printf("system rescue key set\n");
		else
			printf("room rescue key set for %s\n", o->args[1]);
		/* the files already there: wrap our keys for it */
		int v;
		if (!(k = dbx_cl_unlock(&c, o->keypwfile, &v, &rc)))
			goto out;
		str_fmt(query, sizeof(query), "room_id=%lld", rid);
		rc = dbx_cl_distribute(&c, sys ? NULL : query, k, v, NULL, &done);
		if (rc == EXIT_OK && done)
			printf("distributed %lld file key%s\n", done, done == 1 ? "" : "s");
		goto out;
	}
	int st = dbx_cl_call(&c, "GET", path, NULL, &kp);
	if (st != 200) {
		rc = dbx_cl_fail(&c, st, kp, "the room rescue key");
		goto out;
	}
	struct dbx_keypair rkp;
	struct dbx_unlock_info info;
	int wrong = 0;
	if (dbx_keypair_from_json(kp, &rkp, err, sizeof(err)) < 0 ||
	    !(k = dbx_keypair_unlock(&rkp, pw, &info, &wrong, err, sizeof(err)))) {
		fprintf(stderr, "databox rescue distribute: %s\n", wrong ? "wrong rescue password" : err);
		goto out;
	}
	if (sys)
		str_copy(query, "use_key=system_rescue_key", sizeof(query));
	else
		str_fmt(query, sizeof(query), "room_id=%lld&use_key=room_rescue_key", rid);
	rc = dbx_cl_distribute(&c, query, k, rkp.priv_version, NULL, &done);
	if (rc == EXIT_OK)
		printf("distributed %lld file key%s with the %s rescue key\n", done, done == 1 ? "" : "s",
		       sys ? "system" : "room");
out:
	cry_rsa_free(k);
	secret_free_str(pw);
	json_decref(kp);
	json_decref(rep);
	json_decref(node);
	dbx_cl_close(&c);
	return rc;
}

int dbx_client_main(int argc, char **argv)
{
	struct copts o;
	const char *cmd = argv[0];
	if (parse(argc, argv, &o) < 0)
		return EXIT_USAGE;
	if (strcmp(cmd, "login") == 0)
		return cmd_login(&o);
	if (strcmp(cmd, "keygen") == 0)
		return cmd_keygen(&o, 0);
	if (strcmp(cmd, "keypair") == 0 && o.nargs == 1 && strcmp(o.args[0], "reset") == 0)
		return cmd_keygen(&o, 1);
	if (strcmp(cmd, "room") == 0)
		return cmd_room(&o);
	if (strcmp(cmd, "ls") == 0)
		return cmd_ls(&o);
	if (strcmp(cmd, "distribute") == 0)
		return cmd_distribute(&o);
	if (strcmp(cmd, "rescue") == 0)
		return cmd_rescue(&o);
	fprintf(stderr, "databox: unknown command %s\n", cmd);
	return EXIT_USAGE;
}
