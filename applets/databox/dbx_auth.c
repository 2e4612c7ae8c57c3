/* dbx_auth.c - login passwords (PBKDF2-HMAC-SHA256, per-user salt, constant-time
 * compare), bearer tokens (random, stored only as their SHA-256) and the failed-login
 * limit per user name and per address. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applets/databox/dbx_server.h"
#include "core/encoding.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/crypto.h"

#define SALT_LEN 16
#define TOKEN_LEN 32

static int hash_pw(const char *pw, const uint8_t *salt, long iter, uint8_t out[32])
{
	return cry_pbkdf2(CRY_HASH_SHA256, pw, strlen(pw), salt, SALT_LEN, (uint32_t)iter, out, 32);
}

int dbx_user_add(struct dbx_server *s, const char *name, const char *password, int admin,
		 char *err, size_t errlen)
{
	uint8_t salt[SALT_LEN], h[32];
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (!*name || strlen(name) > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
						  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") != strlen(name)) {
		str_copy(err, "user names are 1-64 of A-Z a-z 0-9 . _ - @", errlen);
		return -1;
	}
	if (strlen(password) < 8) {
		str_copy(err, "the password needs at least 8 characters", errlen);
		return -1;
	}
	if (cry_random(salt, sizeof(salt)) < 0 || hash_pw(password, salt, s->conf.password_iterations, h) < 0) {
		str_copy(err, "password hashing failed", errlen);
		return -1;
	}
	st = dbx_db_prep(s, "INSERT INTO users(name, pw_hash, pw_salt, pw_iter, is_admin) VALUES(?,?,?,?,?)");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, h, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, salt, SALT_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, s->conf.password_iterations);
	sqlite3_bind_int(st, 5, admin);
	int r = sqlite3_step(st);
	if (r == SQLITE_CONSTRAINT)
		str_fmt(err, errlen, "user %s exists already", name);
	else if (r != SQLITE_DONE)
		str_fmt(err, errlen, "database: %s", sqlite3_errmsg(s->db));
	else
		rc = 0;
out:
	sqlite3_finalize(st);
	secret_wipe(h, sizeof(h));
	return rc;
}

/* 1 when key is locked out now (max failures within the lockout window). */
static int locked(struct dbx_server *s, const char *key, long max)
{
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT count, since FROM login_failures WHERE key = ?");
	int res = 0;
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		long long count = sqlite3_column_int64(st, 0), since = sqlite3_column_int64(st, 1);
		if ((long long)time(NULL) - since >= s->conf.login_lockout)
			res = 0; /* window over */
		else
			res = count >= max;
	}
	sqlite3_finalize(st);
	return res;
}

static void record_failure(struct dbx_server *s, const char *key)
{
	sqlite3_stmt *st = dbx_db_prep(s,
		"INSERT INTO login_failures(key, count, since) VALUES(?1, 1, ?2) ON CONFLICT(key) DO UPDATE SET "
		"count = CASE WHEN ?2 - since >= ?3 THEN 1 ELSE count + 1 END, "
		"since = CASE WHEN ?2 - since >= ?3 THEN ?2 ELSE since END");
	if (!st)
		return;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (long long)time(NULL));
	sqlite3_bind_int64(st, 3, s->conf.login_lockout);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static void clear_failures(struct dbx_server *s, const char *key)
{
	sqlite3_stmt *st = dbx_db_prep(s, "DELETE FROM login_failures WHERE key = ?");
	if (!st)
		return;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

long long dbx_login(struct dbx_server *s, const char *name, const char *password, const char *ip)
{
	char ukey[128], ikey[128];
	uint8_t h[32];
	long long uid = 0;
	sqlite3_stmt *st = NULL;

	str_fmt(ukey, sizeof(ukey), "user:%.64s", name);
	str_fmt(ikey, sizeof(ikey), "ip:%.64s", ip);
	/* an address gets more tries than a user name: several users may share it (NAT) */
	if (locked(s, ukey, s->conf.login_max_failures) || locked(s, ikey, s->conf.login_max_failures * 4))
		return -2;
	st = dbx_db_prep(s, "SELECT id, pw_hash, pw_salt, pw_iter FROM users WHERE name = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32 &&
	    sqlite3_column_bytes(st, 2) == SALT_LEN) {
		uint8_t salt[SALT_LEN], want[32];
		memcpy(want, sqlite3_column_blob(st, 1), 32);
		memcpy(salt, sqlite3_column_blob(st, 2), SALT_LEN);
		if (hash_pw(password, salt, (long)sqlite3_column_int64(st, 3), h) == 0 &&
		    cry_memeq(h, want, 32))
			uid = sqlite3_column_int64(st, 0);
	} else {
		/* same cost for unknown users: no user enumeration by timing */
		uint8_t salt[SALT_LEN] = { 0 };
		hash_pw(password, salt, s->conf.password_iterations, h);
	}
	sqlite3_finalize(st);
	secret_wipe(h, sizeof(h));
	if (uid > 0) {
		clear_failures(s, ukey);
	} else {
		record_failure(s, ukey);
		record_failure(s, ikey);
		log_info("failed login for \"%.64s\" from %s", name, ip);
	}
	return uid;
}

char *dbx_token_new(struct dbx_server *s, long long uid, long long *expires)
{
	uint8_t tok[TOKEN_LEN], h[32];
	char *hex = malloc(TOKEN_LEN * 2 + 1);
	sqlite3_stmt *st = NULL;

	if (!hex || cry_random(tok, sizeof(tok)) < 0 || cry_sha256(tok, sizeof(tok), h) < 0)
		goto fail;
	hex_encode(tok, sizeof(tok), hex, TOKEN_LEN * 2 + 1, 0);
	*expires = (long long)time(NULL) + s->conf.token_lifetime;
	dbx_db_exec(s, "DELETE FROM tokens WHERE expires < strftime('%s','now')");
	st = dbx_db_prep(s, "INSERT INTO tokens(hash, user_id, expires) VALUES(?,?,?)");
	if (!st)
		goto fail;
	sqlite3_bind_blob(st, 1, h, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, *expires);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	secret_wipe(tok, sizeof(tok));
	return hex;
fail:
	sqlite3_finalize(st);
	secret_wipe(tok, sizeof(tok));
	free(hex);
	return NULL;
}

long long dbx_token_user(struct dbx_server *s, const char *authorization)
{
	uint8_t tok[TOKEN_LEN], h[32];
	long long uid = 0;

	if (!authorization || strncmp(authorization, "Bearer ", 7) != 0 ||
	    strlen(authorization + 7) != TOKEN_LEN * 2 ||
	    hex_decode(authorization + 7, TOKEN_LEN * 2, tok, sizeof(tok)) != TOKEN_LEN)
		return 0;
	cry_sha256(tok, sizeof(tok), h);
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT user_id FROM tokens WHERE hash = ? AND expires > ?");
	if (st) {
		sqlite3_bind_blob(st, 1, h, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (long long)time(NULL));
		if (sqlite3_step(st) == SQLITE_ROW)
			uid = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	secret_wipe(tok, sizeof(tok));
	return uid;
}

int dbx_user_is_admin(struct dbx_server *s, long long uid)
{
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT is_admin FROM users WHERE id = ?");
	int admin = 0;
	if (st) {
		sqlite3_bind_int64(st, 1, uid);
		admin = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return admin;
}
