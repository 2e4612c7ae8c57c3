/* mg_smtp_cmd.c - one SMTP command line to a struct (RFC 5321 4.1.1, RFC 1870 SIZE,
 * RFC 6152 BODY). The session decides what is allowed when; this only says what the
 * client asked for, or which syntax reply it gets. */
#include <string.h>

#include "applets/mailgw/mg_smtp.h"
#include "core/str.h"

enum arg_rule { ARG_NONE, ARG_OPTIONAL, ARG_REQUIRED, ARG_PATH };

static const struct {
	const char *name;
	enum mg_verb verb;
	enum arg_rule arg;
} verbs[] = {
	{ "HELO", MG_CMD_HELO, ARG_REQUIRED },
	{ "EHLO", MG_CMD_EHLO, ARG_REQUIRED },
	{ "MAIL", MG_CMD_MAIL, ARG_PATH },
	{ "RCPT", MG_CMD_RCPT, ARG_PATH },
	{ "DATA", MG_CMD_DATA, ARG_NONE },
	{ "RSET", MG_CMD_RSET, ARG_NONE },
	{ "NOOP", MG_CMD_NOOP, ARG_OPTIONAL },
	{ "QUIT", MG_CMD_QUIT, ARG_NONE },
	{ "VRFY", MG_CMD_VRFY, ARG_REQUIRED },
	{ "EXPN", MG_CMD_EXPN, ARG_REQUIRED },
	{ "HELP", MG_CMD_HELP, ARG_OPTIONAL },
	{ "ETRN", MG_CMD_ETRN, ARG_REQUIRED },
	{ "STARTTLS", MG_CMD_STARTTLS, ARG_NONE },
	{ "AUTH", MG_CMD_AUTH, ARG_OPTIONAL },
	{ "BDAT", MG_CMD_BDAT, ARG_OPTIONAL },
};

const char *mg_verb_name(enum mg_verb v)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].verb == v)
			return verbs[i].name;
	return "UNKNOWN";
}

static int fail(struct mg_smtp_cmd *cmd, int code, const char *enh, const char *text)
{
	cmd->err_code = code;
	cmd->err_enh = enh;
	cmd->err_text = text;
	return -1;
}

static int upcase(int c) { return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c; }

static int word_eq(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word);
	if (len != wl)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (upcase((unsigned char)s[i]) != word[i])
			return 0;
	return 1;
}

/* SIZE=digits, BODY=7BIT|8BITMIME; anything else is 555 (RFC 5321 4.1.1.11). */
static int mail_params(const char *p, size_t len, struct mg_smtp_cmd *cmd)
{
	size_t i = 0;

	while (i < len) {
		while (i < len && p[i] == ' ')
			i++;
		if (i == len)
			break;
		size_t start = i;
		while (i < len && p[i] != ' ')
			i++;
		const char *kv = p + start, *eq = memchr(kv, '=', i - start);
		size_t kl = eq ? (size_t)(eq - kv) : i - start;
		const char *v = eq ? eq + 1 : "";
		size_t vl = eq ? i - start - kl - 1 : 0;
		if (cmd->verb == MG_CMD_MAIL && word_eq(kv, kl, "SIZE")) {
			long long n = 0;
			if (cmd->size >= 0)
				return fail(cmd, 501, "5.5.4", "SIZE given twice");
			if (vl == 0 || vl > 15)
				return fail(cmd, 501, "5.5.4", "Bad SIZE value");
			for (size_t k = 0; k < vl; k++) {
				if (v[k] < '0' || v[k] > '9')
					return fail(cmd, 501, "5.5.4", "Bad SIZE value");
				n = n * 10 + (v[k] - '0');
			}
			cmd->size = n;
		} else if (cmd->verb == MG_CMD_MAIL && word_eq(kv, kl, "BODY")) {
			if (cmd->body != MG_BODY_UNSET)
				return fail(cmd, 501, "5.5.4", "BODY given twice");
			if (word_eq(v, vl, "7BIT"))
				cmd->body = MG_BODY_7BIT;
			else if (word_eq(v, vl, "8BITMIME"))
				cmd->body = MG_BODY_8BITMIME;
			else
				return fail(cmd, 501, "5.5.4", "Bad BODY value");
		} else {
			return fail(cmd, 555, "5.5.4", "Unsupported parameter");
		}
	}
	return 0;
}

/* "FROM:<path> params" / "TO:<path> params"; one space after the colon is tolerated
 * because many clients send it. */
static int path_arg(const char *a, size_t len, struct mg_smtp_cmd *cmd)
{
	const char *kw = cmd->verb == MG_CMD_MAIL ? "FROM:" : "TO:";
	size_t kl = strlen(kw), i;

	if (len < kl || !word_eq(a, kl, kw))
		return fail(cmd, 501, "5.5.2", cmd->verb == MG_CMD_MAIL ? "Syntax: MAIL FROM:<address>"
									 : "Syntax: RCPT TO:<address>");
	i = kl;
	if (i < len && a[i] == ' ')
		i++;
	if (i >= len || a[i] != '<')
		return fail(cmd, 501, "5.1.7", "Address must be in angle brackets");
	/* A quoted local part may hold '>': skip over quotes to find the closing bracket. */
	const char *gt = NULL;
	int inq = 0;
	for (size_t k = i + 1; k < len; k++) {
		if (inq && a[k] == '\\' && k + 1 < len) {
			k++;
			continue;
		}
		if (a[k] == '"')
			inq = !inq;
		else if (!inq && a[k] == '>') {
			gt = a + k;
			break;
		}
	}
	if (!gt)
		return fail(cmd, 501, "5.1.7", "Address must be in angle brackets");
	size_t pl = (size_t)(gt - (a + i)) + 1;
	if (mg_addr_parse(a + i, pl, cmd->verb == MG_CMD_MAIL, cmd->addr, sizeof(cmd->addr)) < 0) {
		if (cmd->verb == MG_CMD_MAIL)
			return fail(cmd, 553, "5.1.7", "Bad sender address syntax");
		return fail(cmd, 553, "5.1.3", "Bad recipient address syntax");
	}
	size_t rest = i + pl;
	if (rest < len && a[rest] != ' ')
		return fail(cmd, 501, "5.5.4", "Garbage after address");
	return mail_params(a + rest, len - rest, cmd);
}

int mg_smtp_parse(const char *line, size_t len, struct mg_smtp_cmd *cmd)
{
	size_t vl = 0, i;

	memset(cmd, 0, sizeof(*cmd));
	cmd->size = -1;
	if (len > MG_CMD_LINE_MAX)
		return fail(cmd, 500, "5.5.2", "Line too long");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		/* Control bytes and 8-bit in a command are never valid (no SMTPUTF8). */
		if ((c < 32 && c != '\t') || c >= 127)
			return fail(cmd, 500, "5.5.2", "Syntax error, bad characters");
	}
	while (vl < len && line[vl] != ' ')
		vl++;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (word_eq(line, vl, verbs[i].name))
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]))
		return fail(cmd, 500, "5.5.2", "Command unrecognized");
	cmd->verb = verbs[i].verb;

	const char *a = line + vl;
	size_t al = len - vl;
	while (al && (*a == ' ' || *a == '\t')) {
		a++;
		al--;
	}
	while (al && (a[al - 1] == ' ' || a[al - 1] == '\t'))
		al--;
	/* The strict grammar has exactly one space after the verb; trailing blanks are
	 * common and harmless, so they are trimmed. */
	switch (verbs[i].arg) {
	case ARG_NONE:
		if (al)
			return fail(cmd, 501, "5.5.4", "No parameters allowed");
		break;
	case ARG_REQUIRED:
		if (al == 0)
			return fail(cmd, 501, "5.5.4", "Argument required");
		break;
	case ARG_PATH:
		return path_arg(a, al, cmd);
	case ARG_OPTIONAL:
		break;
	}
	memcpy(cmd->arg, a, al);
	cmd->arg[al] = '\0';
	if ((cmd->verb == MG_CMD_ETRN || cmd->verb == MG_CMD_EHLO || cmd->verb == MG_CMD_HELO) &&
	    memchr(cmd->arg, '\t', al))
		return fail(cmd, 501, "5.5.4", "Bad argument");
	return 0;
}
