/* dbx_api_share_list.c - listing and cancelling download and upload shares. A share is
 * visible to, and may be cancelled by, its creator and the managers of its room
 * (docs/databox-api.md). Cancelling deletes the row: the public link answers 404 from
 * then on. The id of a share is its SQLite rowid (the server never runs VACUUM, which
 * is what could renumber them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/databox/dbx_server.h"
#include "core/log.h"
#include "core/str.h"
#include "net/http.h"

/* What differs between the two kinds; table and column names are constants, never
 * request data, so they may go into the SQL text. */
struct share_kind {
	const char *path;       /* /shares/downloads */
	const char *table;      /* shares */
	const char *node_col;   /* node_id */
	const char *node_key;   /* nodeId */
	const char *max_col, *max_key, *count_col, *count_key;
	const char *link;
	const char *what;       /* for messages */
};

static const struct share_kind kinds[] = {
	{ "/shares/downloads", "shares", "node_id", "nodeId", "max_downloads", "maxDownloads",
	  "downloads", "downloads", DBX_SHARE_LINK, "share" },
	{ "/shares/uploads", "upload_shares", "target_id", "targetId", "max_uploads", "maxUploads",
	  "uploads", "uploads", DBX_UPLOAD_SHARE_LINK, "upload share" },
};

static void share_list(struct dbx_server *s, struct net_http_req *r, long long uid, const struct share_kind *k)
{
	char sql[700], link[96];
	snprintf(sql, sizeof(sql),
		 "SELECT sh.rowid, sh.%s, n.name, sh.access_key, u.name, sh.expire_at, sh.%s, sh.%s "
		 "FROM %s sh JOIN nodes n ON n.id = sh.%s LEFT JOIN users u ON u.id = sh.created_by "
		 "WHERE sh.created_by = ?1 OR EXISTS(SELECT 1 FROM members m WHERE m.room_id = n.room_id "
		 "AND m.user_id = ?1 AND m.role >= %d) ORDER BY sh.rowid",
		 k->node_col, k->max_col, k->count_col, k->table, k->node_col, DBX_ROLE_MANAGE);
	sqlite3_stmt *st = dbx_db_prep(s, sql);
	if (!st) {
		dbx_reply_error(r, 500, "cannot list the %ss", k->what);
		return;
	}
	json_t *items = json_array();
	sqlite3_bind_int64(st, 1, uid);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 3);
		const char *by = (const char *)sqlite3_column_text(st, 4);
		str_fmt(link, sizeof(link), "%s%s", k->link, key);
		json_t *it = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:I}", "id", (json_int_t)sqlite3_column_int64(st, 0),
				       k->node_key, (json_int_t)sqlite3_column_int64(st, 1),
				       "name", (const char *)sqlite3_column_text(st, 2), "accessKey", key, "link", link,
				       "createdBy", by ? by : "", k->count_key, (json_int_t)sqlite3_column_int64(st, 7));
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			json_object_set_new(it, "expireAt", json_integer(sqlite3_column_int64(st, 5)));
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			json_object_set_new(it, k->max_key, json_integer(sqlite3_column_int64(st, 6)));
		json_array_append_new(items, it);
	}
	sqlite3_finalize(st);
	dbx_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

static void share_cancel(struct dbx_server *s, struct net_http_req *r, long long uid, const struct share_kind *k,
			 long long id)
{
	char sql[200];
	long long node = 0, creator = 0, room;
	int enc, found = 0;
	snprintf(sql, sizeof(sql), "SELECT %s, created_by FROM %s WHERE rowid = ?", k->node_col, k->table);
	sqlite3_stmt *st = dbx_db_prep(s, sql);
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			node = sqlite3_column_int64(st, 0);
			creator = sqlite3_column_int64(st, 1);
			found = 1;
		}
		sqlite3_finalize(st);
	}
	int role = found ? dbx_node_access(s, uid, node, &room, &enc) : -1;
	/* someone who cannot see the room does not learn that the share exists */
	if (!found || (creator != uid && role < DBX_ROLE_READ)) {
		dbx_reply_error(r, 404, "no such %s", k->what);
		return;
	}
	if (creator != uid && role < DBX_ROLE_MANAGE) {
		dbx_reply_error(r, 403, "only the %s's creator or a room manager may cancel it", k->what);
		return;
	}
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE rowid = ?", k->table);
	st = dbx_db_prep(s, sql);
	int rc = SQLITE_ERROR;
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_DONE) {
		dbx_reply_error(r, 500, "cannot cancel the %s", k->what);
		return;
	}
	log_info("databox: user %lld cancelled %s %lld", uid, k->what, id);
	net_http_reply(r, 204, NULL, 0);
}

static void r_list_downloads(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	share_list(s, r, uid, &kinds[0]);
}

static void r_list_uploads(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	share_list(s, r, uid, &kinds[1]);
}

static void r_cancel_download(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	share_cancel(s, r, uid, &kinds[0], a->id);
}

static void r_cancel_upload(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	share_cancel(s, r, uid, &kinds[1], a->id);
}

const struct dbx_route dbx_share_list_routes[] = {
	{ "GET", "/shares/downloads", r_list_downloads },
	{ "GET", "/shares/uploads", r_list_uploads },
	{ "DELETE", "/shares/downloads/{id}", r_cancel_download },
	{ "DELETE", "/shares/uploads/{id}", r_cancel_upload },
};
const size_t dbx_share_list_nroutes = sizeof(dbx_share_list_routes) / sizeof(dbx_share_list_routes[0]);
