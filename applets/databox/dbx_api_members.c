/* dbx_api_members.c - what the web app needs beyond the CLI's routes:
 *   PUT    /user/account/keypair          a new decryption password: the private key
 *          container is replaced, the public key must stay the same (so every file key
 *          wrapped for it stays valid; the server cannot check the private half, the
 *          client that re-encrypted it did)
 *   GET    /nodes/rooms/ID/users           the room's members and roles (any member)
 *   DELETE /nodes/rooms/ID/users/USERID    a manager removes a member; the file keys
 *          wrapped for that member in the room go too, as on a move out of the room
 * Hidden rescue users ("rescue:...") are neither listed nor removable here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "applets/databox/dbx_keys.h"
#include "applets/databox/dbx_server.h"
#include "net/http.h"

static const char *const roles[] = { "none", "read", "write", "manage" };

/* The publicKey PEM of the stored container of (uid, version), malloc'd; NULL if none. */
static char *stored_public(struct dbx_server *s, long long uid, const char *version)
{
	char *out = NULL;
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT container FROM keypairs WHERE user_id = ? AND version = ?");
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		json_t *j = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		const char *p = json_string_value(json_object_get(json_object_get(j, "publicKeyContainer"), "publicKey"));
		out = p ? strdup(p) : NULL;
		json_decref(j);
	}
	sqlite3_finalize(st);
	return out;
}

json_t *dbx_req_keypair(struct net_http_req *r, struct dbx_keypair *kp)
{
	struct dbx_unlock_info info;
	char err[300];
	json_t *j = dbx_req_json(r);
	if (!j)
		return NULL;
	if (dbx_keypair_from_json(j, kp, err, sizeof(err)) < 0 || !kp->private_pem || !kp->public_pem) {
		json_decref(j);
		dbx_reply_error(r, 400, "not a UserKeyPairContainer: %s", kp->private_pem && kp->public_pem ? err :
				"privateKeyContainer and publicKeyContainer are required");
		return NULL;
	}
	if (dbx_private_key_info(kp->private_pem, &info) < 0) {
		json_decref(j);
		dbx_reply_error(r, 400, "the private key must be an ENCRYPTED PRIVATE KEY (PKCS#8 PBES2); "
				"the server never stores a plain private key");
		return NULL;
	}
	return j;
}

static void keypair_replace(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	struct dbx_keypair kp;
	json_t *j = dbx_req_keypair(r, &kp);
	if (!j)
		return;
	const char *version = dbx_kp_version_name(kp.priv_version);
	char *old = stored_public(s, uid, version);
	if (!old) {
		json_decref(j);
		dbx_reply_error(r, 404, "you have no key pair of version %s to change", version);
		return;
	}
	int same = strcmp(old, kp.public_pem) == 0;
	free(old);
	if (!same) {
		json_decref(j);
		dbx_reply_error(r, 409, "the public key differs from the stored one: only the password may change "
				"(a new key pair is a reset)");
		return;
	}
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	sqlite3_stmt *st = dbx_db_prep(s, "UPDATE keypairs SET container = ? WHERE user_id = ? AND version = ?");
	int rc = SQLITE_ERROR;
	if (st && text) {
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, uid);
		sqlite3_bind_text(st, 3, version, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	free(text);
	if (rc != SQLITE_DONE)
		dbx_reply_error(r, 500, "database error");
	else
		net_http_reply(r, 204, NULL, 0);
}

/* The room's role of uid, or a reply and -1 when it is not a room uid may see. */
static int room_role(struct dbx_server *s, struct net_http_req *r, long long uid, long long room)
{
	long long rid;
	int enc;
	int role = dbx_node_access(s, uid, room, &rid, &enc);
	if (role < DBX_ROLE_READ || rid != room) {
		dbx_reply_error(r, 404, "no such room");
		return -1;
	}
	return role;
}

static void members_list(struct dbx_server *s, struct net_http_req *r, long long uid, long long room)
{
	if (room_role(s, r, uid, room) < 0)
		return;
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT u.id, u.name, m.role, (SELECT COUNT(*) FROM keypairs k WHERE "
				       "k.user_id = u.id) FROM members m JOIN users u ON u.id = m.user_id WHERE "
				       "m.room_id = ? AND u.name NOT LIKE 'rescue:%' ORDER BY u.name");
	if (!st) {
		dbx_reply_error(r, 500, "database error");
		return;
	}
	sqlite3_bind_int64(st, 1, room);
	json_t *items = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(items, json_pack("{s:I,s:s,s:s,s:b}", "id", (json_int_t)sqlite3_column_int64(st, 0),
						       "userName", (const char *)sqlite3_column_text(st, 1),
						       "role", roles[sqlite3_column_int(st, 2) & 3],
						       "hasKeyPair", sqlite3_column_int(st, 3) > 0));
	sqlite3_finalize(st);
	dbx_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

static void member_remove(struct dbx_server *s, struct net_http_req *r, long long uid, long long room, long long who)
{
	int role = room_role(s, r, uid, room);
	if (role < 0)
		return;
	if (role < DBX_ROLE_MANAGE) {
		dbx_reply_error(r, 403, "only a room manager may remove members");
		return;
	}
	/* the last manager stays: a room nobody manages could never get members again */
	char sql[640];
	snprintf(sql, sizeof(sql), "SELECT (SELECT role FROM members WHERE room_id = %lld AND user_id = %lld), "
		 "(SELECT COUNT(*) FROM members WHERE room_id = %lld AND role = %d), "
		 "(SELECT name LIKE 'rescue:%%' FROM users WHERE id = %lld)", room, who, room, DBX_ROLE_MANAGE, who);
	sqlite3_stmt *st = dbx_db_prep(s, sql);
	int theirs = -1, managers = 0, hidden = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		theirs = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 0);
		managers = sqlite3_column_int(st, 1);
		hidden = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	if (theirs < 0 || hidden) {
		dbx_reply_error(r, 404, "no such member");
		return;
	}
	if (theirs == DBX_ROLE_MANAGE && managers <= 1) {
		dbx_reply_error(r, 409, "the last manager of a room cannot be removed");
		return;
	}
	snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; DELETE FROM members WHERE room_id = %lld AND user_id = %lld;"
		 "DELETE FROM file_keys WHERE user_id = %lld AND node_id IN (SELECT id FROM nodes WHERE "
		 "room_id = %lld); COMMIT;", room, who, who, room);
	if (dbx_db_exec(s, sql) < 0) {
		dbx_db_rollback(s);
		dbx_reply_error(r, 500, "database error");
		return;
	}
	net_http_reply(r, 204, NULL, 0);
}

static void r_keypair_replace(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	keypair_replace(s, r, uid);
}

static void r_members_list(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	members_list(s, r, uid, a->id);
}

static void r_member_remove(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	member_remove(s, r, uid, a->id, a->id2);
}

const struct dbx_route dbx_members_routes[] = {
	{ "PUT", "/user/account/keypair", r_keypair_replace },
	{ "GET", "/nodes/rooms/{id}/users", r_members_list },
	{ "DELETE", "/nodes/rooms/{id}/users/{id}", r_member_remove },
};
const size_t dbx_members_nroutes = sizeof(dbx_members_routes) / sizeof(dbx_members_routes[0]);
