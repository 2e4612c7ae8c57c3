/* dbx_api_nodes.c - rooms, folders, membership, listing, and the seed's restrictions on
 * encryption changes, copies and moves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/databox/dbx_keys.h"
#include "applets/databox/dbx_server.h"
#include "crypto/rsa.h"
#include "core/str.h"
#include "net/http.h"

static const char *const role_names[] = { "none", "read", "write", "manage" };

static int role_parse(const char *s)
{
	for (int i = 1; s && i < 4; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return 0;
}

int dbx_name_ok(const char *n)
{
	return n && *n && strlen(n) <= 255 && !strchr(n, '/') && strcmp(n, ".") && strcmp(n, "..");
}

json_t *dbx_node_json(struct dbx_server *s, long long id, long long uid)
{
	sqlite3_stmt *st = dbx_db_prep(s,
		"SELECT n.type, n.name, n.parent_id, n.room_id, r.encrypted, n.size, COALESCE(m.role, 0) "
		"FROM nodes n JOIN nodes r ON r.id = n.room_id LEFT JOIN members m ON m.room_id = n.room_id "
		"AND m.user_id = ? WHERE n.id = ?");
	json_t *j = NULL;
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		j = json_pack("{s:I,s:s,s:s,s:I,s:I,s:b,s:I,s:s}", "id", (json_int_t)id,
			      "type", (const char *)sqlite3_column_text(st, 0),
			      "name", (const char *)sqlite3_column_text(st, 1),
			      "parentId", (json_int_t)sqlite3_column_int64(st, 2),
			      "roomId", (json_int_t)sqlite3_column_int64(st, 3),
			      "isEncrypted", sqlite3_column_int(st, 4),
			      "size", (json_int_t)sqlite3_column_int64(st, 5),
			      "role", role_names[sqlite3_column_int(st, 6) & 3]);
	sqlite3_finalize(st);
	return j;
}

static void room_create(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	json_t *j = dbx_req_json(r);
	if (!j)
		return;
	const char *name = json_string_value(json_object_get(j, "name"));
	if (!dbx_name_ok(name)) {
		json_decref(j);
		dbx_reply_error(r, 400, "a room needs a name (no '/', at most 255 bytes)");
		return;
	}
	sqlite3_stmt *a = NULL, *b = NULL;
	long long id = 0;
	if (dbx_db_begin(s) < 0)
		goto fail;
	a = dbx_db_prep(s, "INSERT INTO nodes(parent_id, type, name, created_by) VALUES(NULL, 'room', ?, ?)");
	b = dbx_db_prep(s, "INSERT INTO members(room_id, user_id, role) VALUES(?, ?, 3)");
	if (!a || !b)
		goto fail;
	sqlite3_bind_text(a, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(a, 2, uid);
	if (sqlite3_step(a) != SQLITE_DONE)
		goto fail;
	id = sqlite3_last_insert_rowid(s->db);
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE nodes SET room_id = %lld WHERE id = %lld", id, id);
	sqlite3_bind_int64(b, 1, id);
	sqlite3_bind_int64(b, 2, uid);
	if (dbx_db_exec(s, sql) < 0 || sqlite3_step(b) != SQLITE_DONE || dbx_db_commit(s) < 0)
		goto fail;
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	json_decref(j);
	dbx_reply_json(r, 201, dbx_node_json(s, id, uid));
	return;
fail:
	dbx_db_rollback(s);
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	json_decref(j);
	dbx_reply_error(r, 500, "cannot create the room");
}

static long long count_children(struct dbx_server *s, long long room)
{
	long long n = -1;
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT (SELECT COUNT(*) FROM nodes WHERE room_id = ?1 AND id != ?1) + "
				       "(SELECT COUNT(*) FROM uploads u JOIN nodes p ON p.id = u.parent_id WHERE p.room_id = ?1)");
	if (st) {
		sqlite3_bind_int64(st, 1, room);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return n;
}

static void room_encrypt(struct dbx_server *s, struct net_http_req *r, long long uid, long long room)
{
	long long rid;
	int enc;
	int role = dbx_node_access(s, uid, room, &rid, &enc);
	json_t *j;
	if (role < 0 || rid != room) {
		dbx_reply_error(r, 404, "no such room");
		return;
	}
	if (role < DBX_ROLE_MANAGE) {
		dbx_reply_error(r, 403, "only a room manager may change encryption");
		return;
	}
	if (!(j = dbx_req_json(r)))
		return;
	json_t *v = json_object_get(j, "isEncrypted");
	if (!json_is_boolean(v)) {
		json_decref(j);
		dbx_reply_error(r, 400, "isEncrypted (true or false) is required");
		return;
	}
	int want = json_is_true(v);
	json_decref(j);
	if (want != enc && count_children(s, room) != 0) {
		dbx_reply_error(r, 409, "a room can be made %s only while it is empty",
				want ? "encrypted" : "unencrypted");
		return;
	}
	char sql[400];
	/* the system rescue key reads every encrypted room */
	snprintf(sql, sizeof(sql), "UPDATE nodes SET encrypted = %d WHERE id = %lld;"
		 "INSERT OR IGNORE INTO members(room_id, user_id, role) SELECT %lld, id, 1 FROM users "
		 "WHERE name = 'rescue:system' AND %d;", want, room, room, want);
	if (dbx_db_exec(s, sql) < 0) {
		dbx_reply_error(r, 500, "database error");
		return;
	}
	dbx_reply_json(r, 200, dbx_node_json(s, room, uid));
}

static void room_users(struct dbx_server *s, struct net_http_req *r, long long uid, long long room)
{
	long long rid;
	int enc;
	int role = dbx_node_access(s, uid, room, &rid, &enc);
	json_t *j, *items;
	size_t i;
	json_t *it;
	if (role < 0 || rid != room) {
		dbx_reply_error(r, 404, "no such room");
		return;
	}
	if (role < DBX_ROLE_MANAGE) {
		dbx_reply_error(r, 403, "only a room manager may add members");
		return;
	}
	if (!(j = dbx_req_json(r)))
		return;
	items = json_object_get(j, "items");
	if (!json_is_array(items) || json_array_size(items) == 0 || json_array_size(items) > 1000) {
		json_decref(j);
		dbx_reply_error(r, 400, "items: [{userName, role}] is required");
		return;
	}
	sqlite3_stmt *st = dbx_db_prep(s, "INSERT INTO members(room_id, user_id, role) SELECT ?, id, ? FROM users "
				       "WHERE name = ? ON CONFLICT(room_id, user_id) DO UPDATE SET role = excluded.role");
	if (!st || dbx_db_begin(s) < 0) {
		sqlite3_finalize(st);
		json_decref(j);
		dbx_reply_error(r, 500, "database error");
		return;
	}
	json_array_foreach(items, i, it) {
		const char *name = json_string_value(json_object_get(it, "userName"));
		int nr = role_parse(json_string_value(json_object_get(it, "role")));
		if (!name || !nr) {
			dbx_db_rollback(s);
			sqlite3_finalize(st);
			json_decref(j);
			dbx_reply_error(r, 400, "item %zu: userName and role (read|write|manage) are required", i);
			return;
		}
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, room);
		sqlite3_bind_int(st, 2, nr);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(s->db) != 1) {
			dbx_db_rollback(s);
			sqlite3_finalize(st);
			dbx_reply_error(r, 404, "no such user: %.64s", name);
			json_decref(j);
			return;
		}
	}
	sqlite3_finalize(st);
	json_decref(j);
	if (dbx_db_commit(s) < 0) {
		dbx_reply_error(r, 500, "database error");
		return;
	}
	net_http_reply(r, 204, NULL, 0);
}

static void folder_create(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	json_t *j = dbx_req_json(r);
	long long room, id;
	int enc;
	if (!j)
		return;
	json_t *pid = json_object_get(j, "parentId");
	const char *name = json_string_value(json_object_get(j, "name"));
	if (!json_is_integer(pid) || !dbx_name_ok(name)) {
		json_decref(j);
		dbx_reply_error(r, 400, "parentId and name are required");
		return;
	}
	if (dbx_parent_writable(s, r, uid, json_integer_value(pid), &room, &enc) < 0) {
		json_decref(j);
		return;
	}
	sqlite3_stmt *st = dbx_db_prep(s, "INSERT INTO nodes(parent_id, room_id, type, name, created_by) "
				       "SELECT ?1, ?2, 'folder', ?3, ?4 WHERE (SELECT type FROM nodes WHERE id = ?1) != 'file'");
	int rc = SQLITE_ERROR;
	if (st) {
		sqlite3_bind_int64(st, 1, json_integer_value(pid));
		sqlite3_bind_int64(st, 2, room);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, uid);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	json_decref(j);
	if (rc == SQLITE_CONSTRAINT) {
		dbx_reply_error(r, 409, "a node of that name exists there");
		return;
	}
	if (rc != SQLITE_DONE || sqlite3_changes(s->db) != 1) {
		dbx_reply_error(r, 400, "cannot create the folder there");
		return;
	}
	id = sqlite3_last_insert_rowid(s->db);
	dbx_reply_json(r, 201, dbx_node_json(s, id, uid));
}

static void list(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	const char *p = net_http_query(r, "parent_id");
	long long parent = p ? strtoll(p, NULL, 10) : 0, room;
	int enc;
	sqlite3_stmt *st;
	if (parent > 0) {
		int role = dbx_node_access(s, uid, parent, &room, &enc);
		if (role < DBX_ROLE_READ) {
			dbx_reply_error(r, 404, "no such node (or no access)");
			return;
		}
		st = dbx_db_prep(s, "SELECT id FROM nodes WHERE parent_id = ? ORDER BY type DESC, name");
		if (st)
			sqlite3_bind_int64(st, 1, parent);
	} else {
		st = dbx_db_prep(s, "SELECT n.id FROM nodes n JOIN members m ON m.room_id = n.id AND m.user_id = ? "
				    "WHERE n.parent_id IS NULL ORDER BY n.name");
		if (st)
			sqlite3_bind_int64(st, 1, uid);
	}
	if (!st) {
		dbx_reply_error(r, 500, "database error");
		return;
	}
	json_t *items = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *n = dbx_node_json(s, sqlite3_column_int64(st, 0), uid);
		if (n)
			json_array_append_new(items, n);
	}
	sqlite3_finalize(st);
	dbx_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* The user who created node id, 0 when unknown. */
static long long node_creator(struct dbx_server *s, long long id)
{
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT created_by FROM nodes WHERE id = ?");
	long long uid = 0;
	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		uid = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return uid;
}

/* Copy or move a file. The seed's rule: never between an encrypted and an unencrypted
 * room (a copy would expose or strand ciphertext); encrypted to encrypted is allowed,
 * the caller's file key goes along and the others come from distribution. */
static void copy_move(struct dbx_server *s, struct net_http_req *r, long long uid, long long id, int move)
{
	long long sroom, troom;
	int senc, tenc;
	json_t *j = dbx_req_json(r);
	if (!j)
		return;
	json_t *t = json_object_get(j, "targetId");
	long long target = json_is_integer(t) ? json_integer_value(t) : 0;
	json_decref(j);
	int srole = dbx_node_access(s, uid, id, &sroom, &senc);
	int trole = dbx_node_access(s, uid, target, &troom, &tenc);
	if (srole < DBX_ROLE_READ || trole < 0) {
		dbx_reply_error(r, 404, "no such node (or no access)");
		return;
	}
	if (trole < DBX_ROLE_WRITE || (move && srole < DBX_ROLE_WRITE)) {
		dbx_reply_error(r, 403, "write access required");
		return;
	}
	/* a move out of a room takes the file from everyone there: only its manager or the
	 * file's own creator may do that (a copy leaves the source in place) */
	if (move && sroom != troom && srole < DBX_ROLE_MANAGE && node_creator(s, id) != uid) {
		dbx_reply_error(r, 403, "moving a file out of a room needs the manage role there "
				"(or being its creator); copy it instead");
		return;
	}
	if (senc != tenc) {
		dbx_reply_error(r, 400, "cannot %s between an encrypted and an unencrypted room",
				move ? "move" : "copy");
		return;
	}
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT type FROM nodes WHERE id = ?");
	int is_file = 0;
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		is_file = sqlite3_step(st) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "file") == 0;
		sqlite3_finalize(st);
	}
	if (!is_file) {
		dbx_reply_error(r, 400, "only files can be copied or moved");
		return;
	}
	char sql[512];
	if (move) {
		snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; UPDATE nodes SET parent_id = %lld, room_id = %lld WHERE id = %lld;"
			 "DELETE FROM file_keys WHERE node_id = %lld AND user_id NOT IN (SELECT user_id FROM members "
			 "WHERE room_id = %lld); COMMIT;", target, troom, id, id, troom);
		if (dbx_db_exec(s, sql) < 0) {
			dbx_db_rollback(s);
			dbx_reply_error(r, 409, "cannot move there (name taken?)");
			return;
		}
		dbx_reply_json(r, 200, dbx_node_json(s, id, uid));
		return;
	}
	char src[4200], dst[4200];
	long long nid;
	if (dbx_db_begin(s) < 0)
		goto fail;
	snprintf(sql, sizeof(sql), "INSERT INTO nodes(parent_id, room_id, type, name, encrypted, size, created_by) "
		 "SELECT %lld, %lld, 'file', name, encrypted, size, %lld FROM nodes WHERE id = %lld;", target, troom, uid, id);
	if (dbx_db_exec(s, sql) < 0)
		goto fail;
	nid = sqlite3_last_insert_rowid(s->db);
	snprintf(sql, sizeof(sql), "INSERT INTO file_keys(node_id, user_id, version, file_key) SELECT %lld, user_id, "
		 "version, file_key FROM file_keys WHERE node_id = %lld AND user_id = %lld;", nid, id, uid);
	if (dbx_db_exec(s, sql) < 0 || dbx_blob_path(s, id, src, sizeof(src)) < 0 ||
	    dbx_blob_path(s, nid, dst, sizeof(dst)) < 0 || link(src, dst) < 0)
		goto fail;
	if (dbx_db_commit(s) < 0) {
		unlink(dst);
		goto fail;
	}
	dbx_reply_json(r, 201, dbx_node_json(s, nid, uid));
	return;
fail:
	dbx_db_rollback(s);
	dbx_reply_error(r, 409, "cannot copy there (name taken?)");
}

/* GET: the key pair of the hidden rescue user `name`. */
static void rescue_get(struct dbx_server *s, struct net_http_req *r, const char *name, const char *none)
{
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT k.container FROM keypairs k JOIN users u ON u.id = k.user_id "
				       "WHERE u.name = ? LIMIT 1");
	if (st)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	dbx_reply_stored_json(r, st, none);
}

/* POST: stores the request's key pair (its private key must be encrypted) for the
 * hidden rescue user `name`; setup_sql creates that user and its memberships in the
 * same transaction. */
static void rescue_post(struct dbx_server *s, struct net_http_req *r, const char *name, const char *setup_sql,
			const char *exists)
{
	struct dbx_keypair kp;
	struct dbx_unlock_info info;
	struct cry_rsa *pub = NULL;
	char err[300];
	json_t *j = dbx_req_json(r);
	if (!j)
		return;
	if (dbx_keypair_from_json(j, &kp, err, sizeof(err)) < 0 || !kp.private_pem || !kp.public_pem ||
	    dbx_private_key_info(kp.private_pem, &info) < 0 || !(pub = dbx_keypair_public(&kp, err, sizeof(err)))) {
		json_decref(j);
		dbx_reply_error(r, 400, "a UserKeyPairContainer with an encrypted private key is required");
		return;
	}
	cry_rsa_free(pub);
	const char *ver = dbx_kp_version_name(kp.priv_version);
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	int ok = 0;
	if (text && dbx_db_begin(s) == 0) {
		sqlite3_stmt *st = dbx_db_prep(s, "INSERT INTO keypairs(user_id, version, container) "
					       "SELECT id, ?, ? FROM users WHERE name = ?");
		if (dbx_db_exec(s, setup_sql) == 0 && st) {
			sqlite3_bind_text(st, 1, ver, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
			ok = sqlite3_step(st) == SQLITE_DONE;
		}
		sqlite3_finalize(st);
		if (ok)
			ok = dbx_db_commit(s) == 0;
		else
			dbx_db_rollback(s);
	}
	free(text);
	if (!ok)
		dbx_reply_error(r, 409, "%s", exists);
	else
		net_http_reply(r, 204, NULL, 0);
}

/* The room rescue key: a hidden user "rescue:ROOM" (no password can log in as it)
 * that holds the key pair and reads the room, so distribution serves it like any
 * member; its private key is protected by the rescue password. */
static void room_keypair(struct dbx_server *s, struct net_http_req *r, long long uid, long long room,
			 int post)
{
	long long rid;
	int enc;
	char name[40], sql[600];
	int role = dbx_node_access(s, uid, room, &rid, &enc);
	if (role < 0 || rid != room) {
		dbx_reply_error(r, 404, "no such room");
		return;
	}
	if (role < DBX_ROLE_MANAGE) {
		dbx_reply_error(r, 403, "only a room manager may handle the room rescue key");
		return;
	}
	snprintf(name, sizeof(name), "rescue:%lld", room);
	if (!post) {
		rescue_get(s, r, name, "the room has no rescue key");
		return;
	}
	if (!enc) {
		dbx_reply_error(r, 400, "rescue keys are for encrypted rooms");
		return;
	}
	snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO users(name, pw_hash, pw_salt, pw_iter) "
		 "VALUES('%s', randomblob(32), randomblob(16), 1);"
		 "INSERT OR REPLACE INTO members(room_id, user_id, role) SELECT %lld, id, 1 FROM users WHERE name = '%s';",
		 name, room, name);
	rescue_post(s, r, name, sql, "the room has a rescue key of this version already");
}

/* The system rescue key: a hidden user "rescue:system" that reads every encrypted
 * room (now and later), set by an administrator. */
static void system_keypair(struct dbx_server *s, struct net_http_req *r, long long uid, int post)
{
	if (!dbx_user_is_admin(s, uid)) {
		dbx_reply_error(r, 403, "only an administrator may handle the system rescue key");
		return;
	}
	if (!post) {
		rescue_get(s, r, "rescue:system", "no system rescue key");
		return;
	}
	rescue_post(s, r, "rescue:system",
		    "INSERT OR IGNORE INTO users(name, pw_hash, pw_salt, pw_iter) "
		    "VALUES('rescue:system', randomblob(32), randomblob(16), 1);"
		    "INSERT OR IGNORE INTO members(room_id, user_id, role) SELECT n.id, u.id, 1 FROM nodes n, "
		    "users u WHERE n.type = 'room' AND n.encrypted = 1 AND u.name = 'rescue:system';",
		    "a system rescue key of this version exists already");
}

#define ROUTE(name, body) \
	static void name(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a) \
	{                                                                                                    \
		(void)a;                                                                                     \
		body;                                                                                        \
	}
ROUTE(r_sys_kp_get, system_keypair(s, r, uid, 0))
ROUTE(r_sys_kp_set, system_keypair(s, r, uid, 1))
ROUTE(r_room_create, room_create(s, r, uid))
ROUTE(r_folder_create, folder_create(s, r, uid))
ROUTE(r_list, list(s, r, uid))
ROUTE(r_room_encrypt, room_encrypt(s, r, uid, a->id))
ROUTE(r_room_users, room_users(s, r, uid, a->id))
ROUTE(r_room_kp_get, room_keypair(s, r, uid, a->id, 0))
ROUTE(r_room_kp_set, room_keypair(s, r, uid, a->id, 1))
ROUTE(r_copy, copy_move(s, r, uid, a->id, 0))
ROUTE(r_move, copy_move(s, r, uid, a->id, 1))
#undef ROUTE

static void r_node(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	long long room;
	int enc;
	if (dbx_node_access(s, uid, a->id, &room, &enc) < DBX_ROLE_READ)
		dbx_reply_error(r, 404, "no such node (or no access)");
	else
		dbx_reply_json(r, 200, dbx_node_json(s, a->id, uid));
}

const struct dbx_route dbx_nodes_routes[] = {
	{ "GET", "/settings/keypair", r_sys_kp_get },
	{ "POST", "/settings/keypair", r_sys_kp_set },
	{ "POST", "/nodes/rooms", r_room_create },
	{ "POST", "/nodes/folders", r_folder_create },
	{ "GET", "/nodes", r_list },
	{ "PUT", "/nodes/rooms/{id}/encrypt", r_room_encrypt },
	{ "POST", "/nodes/rooms/{id}/users", r_room_users },
	{ "GET", "/nodes/rooms/{id}/keypair", r_room_kp_get },
	{ "POST", "/nodes/rooms/{id}/keypair", r_room_kp_set },
	{ "POST", "/nodes/files/{id}/copy_to", r_copy },
	{ "POST", "/nodes/files/{id}/move_to", r_move },
	{ "GET", "/nodes/{id}", r_node },
};
const size_t dbx_nodes_nroutes = sizeof(dbx_nodes_routes) / sizeof(dbx_nodes_routes[0]);
