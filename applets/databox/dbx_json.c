/* dbx_json.c - DRACOON's JSON containers: reading them from untrusted text and writing
 * them in the SDKs' layout (two-space indent, fields in the SDK order). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "applets/databox/dbx_keys.h"
#include "core/encoding.h"
#include "core/fs.h"
#include "core/secret.h"
#include "core/str.h"

#define DBX_JSON_MAX (1024 * 1024) /* a key container is a few KiB */

static const struct {
	int v;
	const char *name;
	const char *fk_name;
	unsigned bits;
} kp_versions[] = {
	{ DBX_KP_A, "A", "A", 2048 },
	{ DBX_KP_RSA4096, "RSA-4096", "RSA-4096/AES-256-GCM", 4096 },
};
#define N_KP_VERSIONS (sizeof(kp_versions) / sizeof(kp_versions[0]))

int dbx_kp_version_parse(const char *s)
{
	for (size_t i = 0; s && i < N_KP_VERSIONS; i++)
		if (strcmp(s, kp_versions[i].name) == 0)
			return kp_versions[i].v;
	return DBX_KP_NONE;
}

const char *dbx_kp_version_name(int v)
{
	for (size_t i = 0; i < N_KP_VERSIONS; i++)
		if (kp_versions[i].v == v)
			return kp_versions[i].name;
	return "?";
}

unsigned dbx_kp_version_bits(int v)
{
	for (size_t i = 0; i < N_KP_VERSIONS; i++)
		if (kp_versions[i].v == v)
			return kp_versions[i].bits;
	return 0;
}

const char *dbx_fk_version_name(int kp_version)
{
	for (size_t i = 0; i < N_KP_VERSIONS; i++)
		if (kp_versions[i].v == kp_version)
			return kp_versions[i].fk_name;
	return "?";
}

static int fk_version_parse(const char *s)
{
	for (size_t i = 0; s && i < N_KP_VERSIONS; i++)
		if (strcmp(s, kp_versions[i].fk_name) == 0)
			return kp_versions[i].v;
	return DBX_KP_NONE;
}

/* ---- parsing ---- */

/* Copies text with raw CR, LF and TAB inside string literals escaped: the Ruby SDK
 * wrote PEM with literal newlines inside JSON strings. Everything else is unchanged,
 * so jansson still does all the parsing. */
static char *escape_raw_controls(const char *text, size_t len, size_t *outlen)
{
	if (len > DBX_JSON_MAX)
		return NULL;
	char *out = malloc(len * 2 + 1);
	size_t o = 0;
	int in_str = 0, esc = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_str && !esc && (c == '\n' || c == '\r' || c == '\t')) {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			continue;
		}
		out[o++] = c;
		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

json_t *dbx_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o;

	if (len > DBX_JSON_MAX) {
		str_copy(err, "JSON document too large", errlen);
		return NULL;
	}
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (o)
		return o;
	size_t l2;
	char *fixed = escape_raw_controls(text, len, &l2);
	if (fixed) {
		json_error_t je2;
		o = json_loadb(fixed, l2, JSON_REJECT_DUPLICATES, &je2);
		free(fixed);
		if (o)
			return o;
	}
	str_fmt(err, errlen, "invalid JSON at line %d: %s", je.line, je.text);
	return NULL;
}

json_t *dbx_json_load(const char *path, char *err, size_t errlen)
{
	size_t len;
	char *text = (char *)fs_read_file_new(path, DBX_JSON_MAX, &len);
	char e2[200];

	if (!text) {
		str_fmt(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	json_t *o = dbx_json_parse(text, len, e2, sizeof(e2));
	secret_wipe(text, len);
	free(text);
	if (!o)
		str_fmt(err, errlen, "%s: %s", path, e2);
	return o;
}

char *dbx_json_dump_new(const json_t *o)
{
	return json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

int dbx_json_save(const char *path, const json_t *o, unsigned mode)
{
	char *s = dbx_json_dump_new(o);
	if (!s)
		return -1;
	size_t n = strlen(s);
	int rc = fs_write_atomic(path, s, n, (mode_t)mode);
	secret_wipe(s, n);
	free(s);
	return rc;
}

/* ---- key pairs ---- */

/* One half: {"version": ..., field: "PEM"}; the optional createdAt/createdBy/expireAt
 * are ignored. */
static int half(json_t *o, const char *field, const char *label, int *version,
		const char **pem, char *err, size_t errlen)
{
	if (!json_is_object(o)) {
		str_fmt(err, errlen, "%s is not a JSON object", label);
		return -1;
	}
	json_t *v = json_object_get(o, "version");
	json_t *k = json_object_get(o, field);
	if (!json_is_string(v)) {
		str_fmt(err, errlen, "%s has no \"version\" string", label);
		return -1;
	}
	*version = dbx_kp_version_parse(json_string_value(v));
	if (*version == DBX_KP_NONE) {
		str_fmt(err, errlen, "%s: unknown key pair version \"%.40s\" (known: A, RSA-4096)",
			label, json_string_value(v));
		return -1;
	}
	if (!json_is_string(k)) {
		str_fmt(err, errlen, "%s has no \"%s\" string", label, field);
		return -1;
	}
	*pem = json_string_value(k);
	if (strlen(*pem) != json_string_length(k)) {
		str_fmt(err, errlen, "%s: \"%s\" contains a NUL character", label, field);
		return -1;
	}
	return 0;
}

int dbx_keypair_from_json(json_t *root, struct dbx_keypair *kp, char *err, size_t errlen)
{
	memset(kp, 0, sizeof(*kp));
	if (!json_is_object(root)) {
		str_copy(err, "key container is not a JSON object", errlen);
		return -1;
	}
	json_t *inner = json_object_get(root, "encryptedUserKeyPairContainer");
	if (inner)
		root = inner;
	if (!json_is_object(root)) {
		str_copy(err, "encryptedUserKeyPairContainer is not an object", errlen);
		return -1;
	}
	json_t *pc = json_object_get(root, "privateKeyContainer");
	json_t *uc = json_object_get(root, "publicKeyContainer");
	if (!pc && !uc) {
		/* a bare half */
		if (json_object_get(root, "privateKey"))
			pc = root;
		else if (json_object_get(root, "publicKey"))
			uc = root;
		else {
			str_copy(err, "no privateKey, publicKey, privateKeyContainer or "
				 "publicKeyContainer in the key container", errlen);
			return -1;
		}
	}
	if (pc && half(pc, "privateKey", "private key container", &kp->priv_version,
		       &kp->private_pem, err, errlen) < 0)
		return -1;
	if (uc && half(uc, "publicKey", "public key container", &kp->pub_version,
		       &kp->public_pem, err, errlen) < 0)
		return -1;
	if (pc && uc && kp->priv_version != kp->pub_version) {
		str_fmt(err, errlen, "key pair versions differ: private %s, public %s",
			dbx_kp_version_name(kp->priv_version), dbx_kp_version_name(kp->pub_version));
		return -1;
	}
	return 0;
}

/* ---- file keys ---- */

static int b64_field(json_t *o, const char *name, uint8_t *out, size_t min, size_t max,
		     size_t *got, int nullable, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, name);
	if (nullable && (!v || json_is_null(v))) {
		*got = 0;
		return 0;
	}
	if (!json_is_string(v)) {
		str_fmt(err, errlen, "file key: \"%s\" is missing or not a string", name);
		return -1;
	}
	const char *s = json_string_value(v);
	size_t sl = json_string_length(v);
	ssize_t n = base64_decode(s, sl, out, max, 0);
	if (n < 0 || (size_t)n < min || (size_t)n > max) {
		if (min == max)
			str_fmt(err, errlen, "file key: \"%s\" is not base64 of %zu bytes", name, min);
		else
			str_fmt(err, errlen, "file key: \"%s\" is not valid base64 of the right size", name);
		return -1;
	}
	*got = (size_t)n;
	return 0;
}

int dbx_file_key_from_json(json_t *o, int encrypted, struct dbx_file_key *fk, char *err,
			   size_t errlen)
{
	size_t n;

	memset(fk, 0, sizeof(*fk));
	fk->encrypted = encrypted;
	if (!json_is_object(o)) {
		str_copy(err, "file key is not a JSON object", errlen);
		return -1;
	}
	json_t *v = json_object_get(o, "version");
	if (!json_is_string(v)) {
		str_copy(err, "file key has no \"version\" string", errlen);
		return -1;
	}
	const char *vs = json_string_value(v);
	if (encrypted) {
		fk->version = fk_version_parse(vs);
		if (fk->version == DBX_KP_NONE) {
			str_fmt(err, errlen, "encrypted file key: unknown version \"%.40s\" "
				"(known: A, RSA-4096/AES-256-GCM)", vs);
			return -1;
		}
	} else if (strcmp(vs, "AES-256-GCM") == 0) {
		fk->plain_js = 1;
	} else if (strcmp(vs, "A") != 0) {
		str_fmt(err, errlen, "plain file key: unknown version \"%.40s\" (known: A, AES-256-GCM)", vs);
		return -1;
	}
	if (encrypted) {
		size_t k = dbx_kp_version_bits(fk->version) / 8;
		if (b64_field(o, "key", fk->key, k, k, &fk->keylen, 0, err, errlen) < 0)
			goto fail;
	} else if (b64_field(o, "key", fk->key, DBX_FILE_KEY_LEN, DBX_FILE_KEY_LEN, &fk->keylen,
			     0, err, errlen) < 0) {
		goto fail;
	}
	if (b64_field(o, "iv", fk->iv, DBX_FILE_IV_LEN, DBX_FILE_IV_LEN, &n, 0, err, errlen) < 0)
		goto fail;
	if (b64_field(o, "tag", fk->tag, DBX_FILE_TAG_LEN, DBX_FILE_TAG_LEN, &n, 1, err, errlen) < 0)
		goto fail;
	fk->has_tag = n == DBX_FILE_TAG_LEN;
	return 0;
fail:
	dbx_file_key_wipe(fk);
	return -1;
}

static int set_b64(json_t *o, const char *name, const uint8_t *p, size_t len)
{
	char *s = base64_encode_new(p, len);
	if (!s)
		return -1;
	int rc = json_object_set_new(o, name, json_string(s));
	secret_wipe(s, strlen(s));
	free(s);
	return rc;
}

json_t *dbx_file_key_to_json(const struct dbx_file_key *fk)
{
	json_t *o = json_object();
	/* a plain key is written as "AES-256-GCM", the name DRACOON's current SDKs use (and
	 * require); "A" (the Java, C# and Swift SDKs' older name) is still read */
	const char *ver = fk->encrypted ? dbx_fk_version_name(fk->version) : "AES-256-GCM";

	if (!o || json_object_set_new(o, "version", json_string(ver)) < 0 ||
	    set_b64(o, "key", fk->key, fk->keylen) < 0 ||
	    set_b64(o, "iv", fk->iv, DBX_FILE_IV_LEN) < 0 ||
	    (fk->has_tag ? set_b64(o, "tag", fk->tag, DBX_FILE_TAG_LEN)
			 : json_object_set_new(o, "tag", json_null())) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void dbx_file_key_wipe(struct dbx_file_key *fk)
{
	secret_wipe(fk, sizeof(*fk));
}
