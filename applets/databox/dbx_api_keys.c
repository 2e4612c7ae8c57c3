/* dbx_api_keys.c - wrapped file keys: the caller's own, the "missing file keys" the
 * caller could serve (paged), and setting keys for other members. The server checks
 * shapes, versions and rights; it can never check (or read) what is inside. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/databox/dbx_keys.h"
#include "applets/databox/dbx_server.h"
#include "core/str.h"
#include "net/http.h"

#define FK_VERSION_SQL "CASE k.version WHEN 'A' THEN 'A' ELSE 'RSA-4096/AES-256-GCM' END"

/* With use_key=room_rescue_key&room_id=R a manager of R acts for R's room rescue key
 * (a hidden user "rescue:R" that holds a key pair and reads the room): its wrapped keys
 * are listed and it counts as the key holder when keys are set. Returns the uid to act
 * as, or 0 after replying. */
static long long acting_uid(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	const char *use = net_http_query(r, "use_key");
	if (!use)
		return uid;
	const char *room = net_http_query(r, "room_id");
	long long rid = room ? strtoll(room, NULL, 10) : 0, rr, resc = 0;
	int enc;
	char name[40];
	if (strcmp(use, "system_rescue_key") == 0) {
		if (!dbx_user_is_admin(s, uid)) {
			dbx_reply_error(r, 403, "only an administrator may use the system rescue key");
			return 0;
		}
		snprintf(name, sizeof(name), "rescue:system");
	} else if (strcmp(use, "room_rescue_key") != 0 || !rid) {
		dbx_reply_error(r, 400, "use_key is room_rescue_key (with room_id) or system_rescue_key");
		return 0;
	} else if (dbx_node_access(s, uid, rid, &rr, &enc) < DBX_ROLE_MANAGE || rr != rid) {
		dbx_reply_error(r, 403, "only a room manager may use the room rescue key");
		return 0;
	} else {
		snprintf(name, sizeof(name), "rescue:%lld", rid);
	}
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT id FROM users WHERE name = ?");
	if (st) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			resc = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (!resc)
		dbx_reply_error(r, 404, "no such rescue key");
	return resc;
}

static void user_file_key(struct dbx_server *s, struct net_http_req *r, long long uid, long long id)
{
	long long room;
	int enc;
	const char *v = net_http_query(r, "version");
	if (dbx_node_access(s, uid, id, &room, &enc) < DBX_ROLE_READ) {
		dbx_reply_error(r, 404, "no such file (or no access)");
		return;
	}
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT file_key FROM file_keys WHERE node_id = ? AND user_id = ? "
				       "AND (?3 IS NULL OR version = ?3) ORDER BY version != 'A' DESC LIMIT 1");
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, uid);
		sqlite3_bind_text(st, 3, v, -1, SQLITE_STATIC);
	}
	dbx_reply_stored_json(r, st, "no file key for you yet (ask a member to distribute)");
}

static const char missing_from[] =
	" FROM nodes n JOIN members m ON m.room_id = n.room_id AND m.role >= 1"
	" JOIN keypairs k ON k.user_id = m.user_id"
	" WHERE n.type = 'file' AND n.encrypted = 1"
	" AND EXISTS(SELECT 1 FROM members cm WHERE cm.room_id = n.room_id AND cm.user_id = ?1)"
	" AND EXISTS(SELECT 1 FROM file_keys c WHERE c.node_id = n.id AND c.user_id = ?1)"
	" AND NOT EXISTS(SELECT 1 FROM file_keys f WHERE f.node_id = n.id AND f.user_id = k.user_id"
	"   AND f.version = " FK_VERSION_SQL ")"
	" AND (?2 IS NULL OR n.room_id = ?2) AND (?3 IS NULL OR n.id = ?3)";

static void bind_scope(sqlite3_stmt *st, long long uid, const char *room, const char *file)
{
	sqlite3_bind_int64(st, 1, uid);
	if (room)
		sqlite3_bind_int64(st, 2, strtoll(room, NULL, 10));
	if (file)
		sqlite3_bind_int64(st, 3, strtoll(file, NULL, 10));
}

static void missing_keys(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	if (!(uid = acting_uid(s, r, uid)))
		return;
	const char *room = net_http_query(r, "room_id"), *file = net_http_query(r, "file_id");
	const char *o = net_http_query(r, "offset"), *l = net_http_query(r, "limit");
	long long offset = o ? strtoll(o, NULL, 10) : 0, limit = l ? strtoll(l, NULL, 10) : 100, total = 0;
	char sql[2048];
	if (offset < 0)
		offset = 0;
	if (limit <= 0 || limit > 100)
		limit = 100;
	snprintf(sql, sizeof(sql), "SELECT COUNT(*)%s", missing_from);
	sqlite3_stmt *st = dbx_db_prep(s, sql);
	if (!st) {
		dbx_reply_error(r, 500, "database error");
		return;
	}
	bind_scope(st, uid, room, file);
	if (sqlite3_step(st) == SQLITE_ROW)
		total = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	snprintf(sql, sizeof(sql), "SELECT n.id, k.user_id, k.container%s ORDER BY n.id, k.user_id, k.version "
		 "LIMIT %lld OFFSET %lld", missing_from, limit, offset);
	st = dbx_db_prep(s, sql);
	sqlite3_stmt *fk = dbx_db_prep(s, "SELECT file_key FROM file_keys WHERE node_id = ? AND user_id = ? "
				       "ORDER BY version != 'A' DESC LIMIT 1");
	if (!st || !fk) {
		sqlite3_finalize(st);
		sqlite3_finalize(fk);
		dbx_reply_error(r, 500, "database error");
		return;
	}
	bind_scope(st, uid, room, file);
	json_t *items = json_array(), *users = json_array(), *files = json_array();
	json_t *seen_files = json_object(), *seen_users = json_object();
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long fid = sqlite3_column_int64(st, 0), tuid = sqlite3_column_int64(st, 1);
		json_t *kp = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
		json_t *pub = kp ? json_object_get(kp, "publicKeyContainer") : NULL;
		char fkey[32], ukey[64];
		json_array_append_new(items, json_pack("{s:I,s:I}", "userId", (json_int_t)tuid, "fileId", (json_int_t)fid));
		snprintf(ukey, sizeof(ukey), "%lld/%s", tuid,
			 json_string_value(json_object_get(pub, "version")) ? json_string_value(json_object_get(pub, "version")) : "");
		if (pub && !json_object_get(seen_users, ukey)) {
			json_object_set_new(seen_users, ukey, json_true());
			json_array_append_new(users, json_pack("{s:I,s:O}", "id", (json_int_t)tuid, "publicKeyContainer", pub));
		}
		json_decref(kp);
		snprintf(fkey, sizeof(fkey), "%lld", fid);
		if (!json_object_get(seen_files, fkey)) {
			json_object_set_new(seen_files, fkey, json_true());
			sqlite3_reset(fk);
			sqlite3_bind_int64(fk, 1, fid);
			sqlite3_bind_int64(fk, 2, uid);
			if (sqlite3_step(fk) == SQLITE_ROW) {
				json_t *c = json_loads((const char *)sqlite3_column_text(fk, 0), 0, NULL);
				if (c)
					json_array_append_new(files, json_pack("{s:I,s:o}", "id", (json_int_t)fid,
									       "fileKeyContainer", c));
			}
		}
	}
	sqlite3_finalize(st);
	sqlite3_finalize(fk);
	json_decref(seen_files);
	json_decref(seen_users);
	dbx_reply_json(r, 200, json_pack("{s:{s:I,s:I,s:I},s:o,s:o,s:o}", "range", "offset", (json_int_t)offset,
					 "limit", (json_int_t)limit, "total", (json_int_t)total, "items", items,
					 "users", users, "files", files));
}

static void set_keys(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	if (!(uid = acting_uid(s, r, uid)))
		return;
	json_t *j = dbx_req_json(r), *items, *it;
	size_t i;
	char err[300];
	if (!j)
		return;
	items = json_object_get(j, "items");
	if (!json_is_array(items) || json_array_size(items) > 1000) {
		json_decref(j);
		dbx_reply_error(r, 400, "items: [{userId, fileId, fileKey}] is required (at most 1000)");
		return;
	}
	/* the caller must be able to read the file and hold a key for it; the target must be
	 * a reading member with a key pair of the file key's version */
	sqlite3_stmt *st = dbx_db_prep(s,
		"INSERT OR IGNORE INTO file_keys(node_id, user_id, version, file_key) SELECT ?1, ?2, ?3, ?4 "
		"FROM nodes n WHERE n.id = ?1 AND n.type = 'file' AND n.encrypted = 1 "
		"AND EXISTS(SELECT 1 FROM members WHERE room_id = n.room_id AND user_id = ?5 AND role >= 1) "
		"AND EXISTS(SELECT 1 FROM file_keys WHERE node_id = n.id AND user_id = ?5) "
		"AND EXISTS(SELECT 1 FROM members WHERE room_id = n.room_id AND user_id = ?2 AND role >= 1) "
		"AND EXISTS(SELECT 1 FROM keypairs WHERE user_id = ?2 AND version = ?6)");
	if (!st || dbx_db_begin(s) < 0) {
		sqlite3_finalize(st);
		json_decref(j);
		dbx_reply_error(r, 500, "database error");
		return;
	}
	int bad = 0;
	json_array_foreach(items, i, it) {
		struct dbx_file_key fk;
		json_t *u = json_object_get(it, "userId"), *f = json_object_get(it, "fileId");
		json_t *k = json_object_get(it, "fileKey");
		if (!json_is_integer(u) || !json_is_integer(f) || !k ||
		    dbx_file_key_from_json(k, 1, &fk, err, sizeof(err)) < 0 || !fk.has_tag) {
			bad = 1;
			break;
		}
		char *text = json_dumps(k, JSON_COMPACT | JSON_PRESERVE_ORDER);
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, json_integer_value(f));
		sqlite3_bind_int64(st, 2, json_integer_value(u));
		sqlite3_bind_text(st, 3, dbx_fk_version_name(fk.version), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, uid);
		sqlite3_bind_text(st, 6, dbx_kp_version_name(fk.version), -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		free(text);
		if (rc != SQLITE_DONE) {
			bad = 2;
			break;
		}
	}
	sqlite3_finalize(st);
	json_decref(j);
	if (bad) {
		dbx_db_rollback(s);
		if (bad == 1)
			dbx_reply_error(r, 400, "item %zu: userId, fileId and an encrypted fileKey with tag are required", i);
		else
			dbx_reply_error(r, 500, "database error");
		return;
	}
	dbx_db_commit(s);
	net_http_reply(r, 204, NULL, 0);
}

static void r_missing(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	missing_keys(s, r, uid);
}

static void r_set(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	set_keys(s, r, uid);
}

static void r_user_file_key(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	user_file_key(s, r, uid, a->id);
}

const struct dbx_route dbx_keys_routes[] = {
	{ "GET", "/nodes/missingFileKeys", r_missing },
	{ "POST", "/nodes/files/keys", r_set },
	{ "GET", "/nodes/files/{id}/user_file_key", r_user_file_key },
};
const size_t dbx_keys_nroutes = sizeof(dbx_keys_routes) / sizeof(dbx_keys_routes[0]);
