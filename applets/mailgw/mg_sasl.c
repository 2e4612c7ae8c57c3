/* mg_sasl.c - SMTP AUTH PLAIN and LOGIN, server side (mg_sasl.h). The replies are the
 * ones RFC 4954 names: 501 for a cancelled exchange and for a response that is not
 * base64, 500 5.5.6 for a line over the limit, 504 for a mechanism we do not have. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "applets/mailgw/mg_sasl.h"
#include "core/encoding.h"
#include "core/secret.h"

const char mg_sasl_mechs[] = "PLAIN LOGIN";

static int err(struct mg_sasl *s, int code, const char *enh, const char *text)
{
	s->code = code;
	s->enh = enh;
	s->text = text;
	s->challenge = NULL;
	secret_wipe(s->pass, sizeof(s->pass));
	return MG_SASL_ERROR;
}

/* A login name goes to backends inside protocol lines: no control bytes, no space, no
 * NUL. A password may hold spaces (POP3 PASS takes the rest of the line). */
static int text_ok(const uint8_t *p, size_t n, size_t max, uint8_t lowest)
{
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < lowest || p[i] == 0x7f)
			return 0;
	return 1;
}

#define login_ok(p, n) text_ok((p), (n), MG_SASL_LOGIN_MAX, 0x21)
#define pass_ok(p, n) text_ok((p), (n), MG_SASL_PASS_MAX, 0x20)

/* Decodes one response; "=" is the empty initial response (RFC 4954 4). Returns the
 * length, or -1 after setting the error. */
static long decode(struct mg_sasl *s, const char *in, size_t len, uint8_t *out, size_t cap)
{
	if (len == 1 && in[0] == '*') {
		s->cancelled = 1;
		return err(s, 501, "5.0.0", "Authentication cancelled");
	}
	if (len > MG_SASL_LINE_MAX)
		return err(s, 500, "5.5.6", "Authentication Exchange line is too long");
	if (len == 1 && in[0] == '=')
		return 0;
	if (len == 0)
		return 0;
	ssize_t n = base64_decode(in, len, out, cap, 0);
	if (n < 0)
		return err(s, 501, "5.5.2", "Cannot decode response");
	return (long)n;
}

static int plain(struct mg_sasl *s, const char *in, size_t len)
{
	uint8_t b[MG_SASL_LINE_MAX];
	long n = decode(s, in, len, b, sizeof(b));
	int rc;

	if (n < 0)
		return MG_SASL_ERROR;
	/* authzid NUL authcid NUL passwd */
	uint8_t *z1 = memchr(b, 0, (size_t)n);
	uint8_t *z2 = z1 ? memchr(z1 + 1, 0, (size_t)(b + n - (z1 + 1))) : NULL;
	if (!z2) {
		rc = err(s, 501, "5.5.2", "Invalid PLAIN response");
		goto out;
	}
	size_t zl = (size_t)(z1 - b), ul = (size_t)(z2 - (z1 + 1)), pl = (size_t)(b + n - (z2 + 1));
	if (!login_ok(z1 + 1, ul) || !pass_ok(z2 + 1, pl)) {
		rc = err(s, 501, "5.5.2", "Invalid PLAIN response");
		goto out;
	}
	/* Acting for somebody else is not offered: the authorization identity must be
	 * empty or the login itself. */
	if (zl && (zl != ul || memcmp(b, z1 + 1, ul) != 0)) {
		rc = err(s, 535, "5.7.8", "Authorization identity not allowed");
		goto out;
	}
	memcpy(s->login, z1 + 1, ul);
	s->login[ul] = '\0';
	memcpy(s->pass, z2 + 1, pl);
	s->pass[pl] = '\0';
	rc = MG_SASL_DONE;
out:
	secret_wipe(b, sizeof(b));
	return rc;
}

static int login_step(struct mg_sasl *s, const char *in, size_t len)
{
	uint8_t b[MG_SASL_LINE_MAX];
	long n = decode(s, in, len, b, sizeof(b));
	int rc;

	if (n < 0)
		return MG_SASL_ERROR;
	if (s->step == 0) {
		if (!login_ok(b, (size_t)n)) {
			rc = err(s, 501, "5.5.2", "Invalid user name");
			goto out;
		}
		memcpy(s->login, b, (size_t)n);
		s->login[n] = '\0';
		s->step = 1;
		s->challenge = "UGFzc3dvcmQ6";   /* "Password:" */
		rc = MG_SASL_CHALLENGE;
		goto out;
	}
	if (!pass_ok(b, (size_t)n)) {
		rc = err(s, 501, "5.5.2", "Invalid password response");
		goto out;
	}
	memcpy(s->pass, b, (size_t)n);
	s->pass[n] = '\0';
	rc = MG_SASL_DONE;
out:
	secret_wipe(b, sizeof(b));
	return rc;
}

int mg_sasl_start(struct mg_sasl *s, const char *arg, size_t len)
{
	size_t ml = 0;

	memset(s, 0, sizeof(*s));
	while (ml < len && arg[ml] != ' ')
		ml++;
	if (ml == 0)
		return err(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
	const char *ir = ml < len ? arg + ml + 1 : NULL;
	size_t irl = ir ? len - ml - 1 : 0;
	if (ir && (irl == 0 || memchr(ir, ' ', irl)))
		return err(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
	if (ml == 5 && strncasecmp(arg, "PLAIN", 5) == 0) {
		s->mech = MG_SASL_PLAIN;
		if (ir)
			return plain(s, ir, irl);
		s->challenge = "";
		return MG_SASL_CHALLENGE;
	}
	if (ml == 5 && strncasecmp(arg, "LOGIN", 5) == 0) {
		s->mech = MG_SASL_LOGIN;
		if (ir)
			return login_step(s, ir, irl);
		s->challenge = "VXNlcm5hbWU6";   /* "Username:" */
		return MG_SASL_CHALLENGE;
	}
	return err(s, 504, "5.5.4", "Unrecognized authentication type");
}

int mg_sasl_step(struct mg_sasl *s, const char *line, size_t len)
{
	s->challenge = NULL;
	if (s->mech == MG_SASL_PLAIN)
		return plain(s, line, len);
	if (s->mech == MG_SASL_LOGIN)
		return login_step(s, line, len);
	return err(s, 503, "5.5.1", "No authentication in progress");
}

void mg_sasl_wipe(struct mg_sasl *s)
{
	secret_wipe(s, sizeof(*s));
}
