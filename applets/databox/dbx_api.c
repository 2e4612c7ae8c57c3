/* dbx_api.c - the HTTP API's front door: routing, authentication, JSON replies, and
 * the account endpoints (login, account, user key pair). docs/databox-api.md. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/databox/dbx_keys.h"
#include "applets/databox/dbx_server.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/rsa.h"
#include "net/http.h"

#define API "/api/v1"

void dbx_reply_json(struct net_http_req *r, int code, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	net_http_set_header(r, "Content-Type", "application/json");
	net_http_set_header(r, "Cache-Control", "no-store");
	net_http_reply(r, code, s ? s : "{}", s ? strlen(s) : 2);
	free(s);
	json_decref(j);
}

void dbx_reply_error(struct net_http_req *r, int code, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dbx_reply_json(r, code, json_pack("{s:i,s:s}", "code", code, "message", msg));
}

json_t *dbx_req_json(struct net_http_req *r)
{
	size_t len;
	const uint8_t *b = net_http_body(r, &len);
	json_error_t je;
	json_t *j = json_loadb((const char *)b, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		dbx_reply_error(r, 400, "request body is not a JSON object");
		return NULL;
	}
	return j;
}

int dbx_node_access(struct dbx_server *s, long long uid, long long node, long long *room,
		    int *encrypted)
{
	sqlite3_stmt *st = dbx_db_prep(s,
		"SELECT n.room_id, r.encrypted, COALESCE(m.role, 0) FROM nodes n JOIN nodes r ON r.id = n.room_id "
		"LEFT JOIN members m ON m.room_id = n.room_id AND m.user_id = ? WHERE n.id = ?");
	int role = -1;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_int64(st, 2, node);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*room = sqlite3_column_int64(st, 0);
		*encrypted = sqlite3_column_int(st, 1);
		role = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	return role;
}

int dbx_parent_writable(struct dbx_server *s, struct net_http_req *r, long long uid, long long parent,
			long long *room, int *encrypted)
{
	int role = dbx_node_access(s, uid, parent, room, encrypted);
	if (role >= DBX_ROLE_WRITE)
		return 0;
	dbx_reply_error(r, role < 0 ? 404 : 403, role < 0 ? "no such parent" : "write access required");
	return -1;
}

void dbx_reply_stored_json(struct net_http_req *r, sqlite3_stmt *st, const char *none)
{
	if (!st) {
		dbx_reply_error(r, 500, "database error");
		return;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 0);
		net_http_set_header(r, "Content-Type", "application/json");
		net_http_reply(r, 200, text, strlen(text));
	} else {
		dbx_reply_error(r, 404, "%s", none);
	}
	sqlite3_finalize(st);
}

static void login(struct dbx_server *s, struct net_http_req *r)
{
	json_t *j = dbx_req_json(r);
	if (!j)
		return;
	const char *name = json_string_value(json_object_get(j, "userName"));
	const char *pw = json_string_value(json_object_get(j, "password"));
	if (!name || !pw) {
		json_decref(j);
		dbx_reply_error(r, 400, "userName and password are required");
		return;
	}
	long long uid = dbx_login(s, name, pw, net_http_peer_ip(r));
	if (uid == -2) {
		json_decref(j);
		dbx_reply_error(r, 429, "too many failed logins; try again later");
		return;
	}
	if (uid <= 0) {
		json_decref(j);
		dbx_reply_error(r, 401, "wrong user name or password");
		return;
	}
	json_decref(j); /* the password string goes with it */
	long long exp;
	char *tok = dbx_token_new(s, uid, &exp);
	if (!tok) {
		dbx_reply_error(r, 500, "cannot create a token");
		return;
	}
	dbx_reply_json(r, 200, json_pack("{s:s,s:I,s:I}", "token", tok, "expireAt", (json_int_t)exp,
					 "userId", (json_int_t)uid));
	secret_free_str(tok);
}

static void account(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT name, is_admin, (SELECT COUNT(*) FROM keypairs k "
				       "WHERE k.user_id = users.id) FROM users WHERE id = ?");
	if (!st) {
		dbx_reply_error(r, 500, "database error");
		return;
	}
	sqlite3_bind_int64(st, 1, uid);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		dbx_reply_error(r, 404, "no such user");
		return;
	}
	json_t *j = json_pack("{s:I,s:s,s:b,s:b}", "id", (json_int_t)uid, "userName",
			      (const char *)sqlite3_column_text(st, 0), "isAdmin", sqlite3_column_int(st, 1),
			      "isEncryptionEnabled", sqlite3_column_int(st, 2) > 0);
	sqlite3_finalize(st);
	dbx_reply_json(r, 200, j);
}

/* POST: store a UserKeyPairContainer. Only an encrypted private key is accepted. */
static void keypair_set(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	struct dbx_keypair kp;
	char err[300];
	json_t *j = dbx_req_keypair(r, &kp);
	if (!j)
		return;
	struct cry_rsa *pub = dbx_keypair_public(&kp, err, sizeof(err));
	if (!pub) {
		json_decref(j);
		dbx_reply_error(r, 400, "public key: %s", err);
		return;
	}
	cry_rsa_free(pub);
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	sqlite3_stmt *st = dbx_db_prep(s, "INSERT INTO keypairs(user_id, version, container) VALUES(?,?,?)");
	int rc = SQLITE_ERROR;
	if (st && text) {
		sqlite3_bind_int64(st, 1, uid);
		sqlite3_bind_text(st, 2, dbx_kp_version_name(kp.priv_version), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	free(text);
	json_decref(j);
	if (rc == SQLITE_CONSTRAINT)
		dbx_reply_error(r, 409, "you have a key pair of this version already (DELETE it first)");
	else if (rc != SQLITE_DONE)
		dbx_reply_error(r, 500, "database error");
	else
		net_http_reply(r, 204, NULL, 0);
}

static const char *version_param(struct net_http_req *r)
{
	const char *v = net_http_query(r, "version");
	return v && dbx_kp_version_parse(v) ? v : NULL;
}

static void keypair_get(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	const char *v = version_param(r);
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT container FROM keypairs WHERE user_id = ? AND (?2 IS NULL OR version = ?2) "
				       "ORDER BY version = 'RSA-4096' DESC LIMIT 1");
	if (st) {
		sqlite3_bind_int64(st, 1, uid);
		sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
	}
	dbx_reply_stored_json(r, st, "no key pair");
}

/* Losing a password: the key pair goes, and with it every file key wrapped for it;
 * other members (or a rescue key holder) distribute again. */
static void keypair_delete(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	const char *v = version_param(r);
	sqlite3_stmt *a = NULL, *b = NULL;
	int ok = 0;
	if (dbx_db_begin(s) < 0) {
		dbx_reply_error(r, 500, "database error");
		return;
	}
	a = dbx_db_prep(s, "DELETE FROM keypairs WHERE user_id = ?1 AND (?2 IS NULL OR version = ?2)");
	b = dbx_db_prep(s, "DELETE FROM file_keys WHERE user_id = ?1 AND (?2 IS NULL OR version = "
			   "CASE ?2 WHEN 'A' THEN 'A' ELSE 'RSA-4096/AES-256-GCM' END)");
	if (a && b) {
		sqlite3_bind_int64(a, 1, uid);
		sqlite3_bind_text(a, 2, v, -1, SQLITE_STATIC);
		sqlite3_bind_int64(b, 1, uid);
		sqlite3_bind_text(b, 2, v, -1, SQLITE_STATIC);
		ok = sqlite3_step(a) == SQLITE_DONE && sqlite3_changes(s->db) > 0 && sqlite3_step(b) == SQLITE_DONE;
	}
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	if (!ok) {
		dbx_db_rollback(s);
		dbx_reply_error(r, 404, "no key pair to delete");
		return;
	}
	dbx_db_commit(s);
	net_http_reply(r, 204, NULL, 0);
}

uint64_t dbx_api_admit(const struct net_http_reqinfo *ri, void *arg)
{
	struct dbx_server *s = arg;
	const char *p = ri->path;
	char a[40], b[40], tail[8];
	int authed = ri->authorization[0] && dbx_token_user(s, ri->authorization) > 0;
	uint64_t json = (uint64_t)s->conf.max_json;

	if (p && strcmp(ri->method, "POST") == 0 && str_has_prefix(p, API "/")) {
		p += strlen(API);
		if (authed && sscanf(p, "/nodes/files/uploads/%32[0-9a-f]%7s", a, tail) == 1 && strlen(a) == 32)
			return (uint64_t)s->conf.max_chunk;
		if (sscanf(p, "/public/shares/uploads/%32[0-9a-f]/%32[0-9a-f]%7s", a, b, tail) == 2 &&
		    strlen(a) == 32 && strlen(b) == 32 && dbx_upload_share_live(s, a))
			return (uint64_t)s->conf.max_chunk;
	}
	if (authed)
		return json;
	return json < DBX_ANON_BODY ? json : DBX_ANON_BODY;
}

static void r_account(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	account(s, r, uid);
}

static void r_kp_set(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	keypair_set(s, r, uid);
}

static void r_kp_get(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	keypair_get(s, r, uid);
}

static void r_kp_delete(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	keypair_delete(s, r, uid);
}

static const struct dbx_route account_routes[] = {
	{ "GET", "/user/account", r_account },
	{ "POST", "/user/account/keypair", r_kp_set },
	{ "GET", "/user/account/keypair", r_kp_get },
	{ "DELETE", "/user/account/keypair", r_kp_delete },
};
static const size_t account_nroutes = sizeof(account_routes) / sizeof(account_routes[0]);

/* Every logged-in route, one table per module. */
static const struct {
	const struct dbx_route *t;
	const size_t *n;
} tables[] = {
	{ account_routes, &account_nroutes },
	{ dbx_nodes_routes, &dbx_nodes_nroutes },
	{ dbx_keys_routes, &dbx_keys_nroutes },
	{ dbx_transfer_routes, &dbx_transfer_nroutes },
	{ dbx_shares_routes, &dbx_shares_nroutes },
	{ dbx_share_list_routes, &dbx_share_list_nroutes },
	{ dbx_members_routes, &dbx_members_nroutes },
	{ dbx_rename_routes, &dbx_rename_nroutes },
	{ dbx_tree_routes, &dbx_tree_nroutes },
};

void dbx_api_handle(struct net_http_req *r, void *arg)
{
	struct dbx_server *s = arg;
	const char *method = net_http_method(r);
	const char *path = net_http_path(r);

	if (!path || !str_has_prefix(path, API "/")) {
		dbx_reply_error(r, 404, "no such endpoint");
		return;
	}
	path += strlen(API);
	if (strcmp(path, "/auth/login") == 0 && strcmp(method, "POST") == 0) {
		login(s, r);
		return;
	}
	if (str_has_prefix(path, "/public/")) {
		if (!dbx_api_public(s, r, method, path))
			dbx_reply_error(r, 404, "no such endpoint");
		return;
	}
	long long uid = dbx_token_user(s, net_http_header(r, "Authorization"));
	if (uid <= 0) {
		net_http_set_header(r, "WWW-Authenticate", "Bearer");
		dbx_reply_error(r, 401, "login required (Authorization: Bearer TOKEN)");
		return;
	}
	const struct dbx_route *rt = NULL;
	struct dbx_args a;
	int found = 0, other = 0;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && found <= 0; i++) {
		found = dbx_route_find(tables[i].t, *tables[i].n, method, path, &rt, &a);
		other |= found < 0;
	}
	if (found > 0) {
		rt->fn(s, r, uid, &a);
		return;
	}
	if (other)
		dbx_reply_error(r, 405, "method not allowed");
	else
		dbx_reply_error(r, 404, "no such endpoint: %s %.100s", method, path);
}
