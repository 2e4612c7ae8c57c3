/* dbx_db.c - the server's state: SQLite in WAL mode (synchronous=FULL: an acknowledged
 * write survives a crash) and a directory of encrypted blobs named by node id. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/databox/dbx_server.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
	"  pw_hash BLOB NOT NULL, pw_salt BLOB NOT NULL, pw_iter INTEGER NOT NULL,"
	"  is_admin INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS tokens(hash BLOB PRIMARY KEY, user_id INTEGER NOT NULL"
	"  REFERENCES users(id) ON DELETE CASCADE, expires INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS login_failures(key TEXT PRIMARY KEY, count INTEGER NOT NULL,"
	"  since INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS keypairs(user_id INTEGER NOT NULL REFERENCES users(id)"
	"  ON DELETE CASCADE, version TEXT NOT NULL, container TEXT NOT NULL,"
	"  PRIMARY KEY(user_id, version));"
	"CREATE TABLE IF NOT EXISTS nodes(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES"
	"  nodes(id) ON DELETE CASCADE, room_id INTEGER, type TEXT NOT NULL, name TEXT NOT NULL,"
	"  encrypted INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL DEFAULT 0,"
	"  created_by INTEGER, UNIQUE(parent_id, name));"
	"CREATE TABLE IF NOT EXISTS members(room_id INTEGER NOT NULL REFERENCES nodes(id)"
	"  ON DELETE CASCADE, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  role INTEGER NOT NULL, PRIMARY KEY(room_id, user_id));"
	"CREATE TABLE IF NOT EXISTS file_keys(node_id INTEGER NOT NULL REFERENCES nodes(id)"
	"  ON DELETE CASCADE, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  version TEXT NOT NULL, file_key TEXT NOT NULL, PRIMARY KEY(node_id, user_id, version));"
	"CREATE TABLE IF NOT EXISTS uploads(id TEXT PRIMARY KEY, user_id INTEGER NOT NULL,"
	"  parent_id INTEGER NOT NULL, name TEXT NOT NULL, received INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL, share_key TEXT);"
	"CREATE TABLE IF NOT EXISTS shares(access_key TEXT PRIMARY KEY, node_id INTEGER NOT NULL"
	"  REFERENCES nodes(id) ON DELETE CASCADE, created_by INTEGER NOT NULL, expire_at INTEGER,"
	"  max_downloads INTEGER, downloads INTEGER NOT NULL DEFAULT 0, keypair TEXT NOT NULL,"
	"  file_key TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS upload_shares(access_key TEXT PRIMARY KEY, target_id INTEGER NOT NULL"
	"  REFERENCES nodes(id) ON DELETE CASCADE, created_by INTEGER NOT NULL, expire_at INTEGER,"
	"  max_uploads INTEGER, uploads INTEGER NOT NULL DEFAULT 0);";

int dbx_blob_path(const struct dbx_server *s, long long id, char *out, size_t cap)
{
	return str_fmt(out, cap, "%s/%lld", s->blob_dir, id) < 0 ? -1 : 0;
}

int dbx_upload_path(const struct dbx_server *s, const char *id, char *out, size_t cap)
{
	return str_fmt(out, cap, "%s/%s.part", s->upload_dir, id) < 0 ? -1 : 0;
}

int dbx_db_exec(struct dbx_server *s, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warn("database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

sqlite3_stmt *dbx_db_prep(struct dbx_server *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_warn("database: %s", sqlite3_errmsg(s->db));
		return NULL;
	}
	return st;
}

int dbx_db_begin(struct dbx_server *s)
{
	return dbx_db_exec(s, "BEGIN IMMEDIATE");
}

int dbx_db_commit(struct dbx_server *s)
{
	return dbx_db_exec(s, "COMMIT");
}

void dbx_db_rollback(struct dbx_server *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A blob whose node row does not exist was renamed into place by an upload whose
 * transaction never committed (crash between rename and commit): remove it. */
static void remove_orphans(struct dbx_server *s)
{
	DIR *d = opendir(s->blob_dir);
	struct dirent *e;
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT 1 FROM nodes WHERE id = ? AND type = 'file'");

	if (!d || !st)
		goto out;
	while ((e = readdir(d))) {
		char *end;
		long long id = strtoll(e->d_name, &end, 10);
		char path[4200];
		if (e->d_name[0] == '.' || *end)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) != SQLITE_ROW && dbx_blob_path(s, id, path, sizeof(path)) == 0) {
			log_warn("removing orphan blob %s (upload interrupted before commit)", path);
			unlink(path);
		}
	}
out:
	sqlite3_finalize(st);
	if (d)
		closedir(d);
}

/* Databases made before uploads were bound to their upload share lack the column; the
 * half uploads they hold were started by logged-in users or through some share: those
 * through a share cannot be told apart any more, so they stay with the user. */
static int add_share_key_column(struct dbx_server *s)
{
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT 1 FROM pragma_table_info('uploads') WHERE name = 'share_key'");
	int have;
	if (!st)
		return -1;
	have = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return have ? 0 : dbx_db_exec(s, "ALTER TABLE uploads ADD COLUMN share_key TEXT");
}

int dbx_db_open(struct dbx_server *s, char *err, size_t errlen)
{
	char path[4096];

	if (fs_mkdir_p(s->conf.state_dir, 0700) < 0 ||
	    fs_path_join(s->blob_dir, sizeof(s->blob_dir), s->conf.state_dir, "blobs") < 0 ||
	    fs_path_join(s->upload_dir, sizeof(s->upload_dir), s->conf.state_dir, "uploads") < 0 ||
	    fs_mkdir_p(s->blob_dir, 0700) < 0 || fs_mkdir_p(s->upload_dir, 0700) < 0 ||
	    fs_path_join(path, sizeof(path), s->conf.state_dir, "databox.db") < 0) {
		str_fmt(err, errlen, "state_dir %s: %s", s->conf.state_dir, strerror(errno));
		return -1;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		str_fmt(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
		return -1;
	}
	chmod(path, 0600);
	sqlite3_busy_timeout(s->db, 5000);
	if (dbx_db_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			   "PRAGMA foreign_keys=ON;") < 0 ||
	    dbx_db_exec(s, schema) < 0) {
		str_fmt(err, errlen, "%s: cannot set up the database", path);
		return -1;
	}
	if (add_share_key_column(s) < 0) {
		str_fmt(err, errlen, "%s: cannot upgrade the uploads table", path);
		return -1;
	}
	remove_orphans(s);
	return 0;
}

void dbx_db_close(struct dbx_server *s)
{
	if (s->db)
		sqlite3_close(s->db);
	s->db = NULL;
}
