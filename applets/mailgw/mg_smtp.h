/* mg_smtp.h - the pure parts of SMTP (RFC 5321): command and address parsing, reply
 * formatting, DATA unstuffing/stuffing. No I/O here; everything is fuzzed. */
#ifndef MG_SMTP_H
#define MG_SMTP_H

#include <stddef.h>

struct buf_writer;

/* RFC 5321 4.5.3.1: local-part 64, domain 255, path 256 octets (with brackets). */
#define MG_LOCAL_MAX 64
#define MG_DOMAIN_MAX 255
#define MG_ADDR_MAX 254
/* A command line, CRLF excluded; RFC says 512, ESMTP parameters may make it longer. */
#define MG_CMD_LINE_MAX 1000
/* A text line, CRLF excluded (RFC 5321 4.5.3.1.6: 1000 with CRLF). */
#define MG_TEXT_LINE_MAX 998

enum mg_verb {
	MG_CMD_UNKNOWN = 0,
	MG_CMD_HELO, MG_CMD_EHLO, MG_CMD_MAIL, MG_CMD_RCPT, MG_CMD_DATA, MG_CMD_RSET,
	MG_CMD_NOOP, MG_CMD_QUIT, MG_CMD_VRFY, MG_CMD_EXPN, MG_CMD_HELP, MG_CMD_ETRN,
	MG_CMD_STARTTLS, MG_CMD_AUTH, MG_CMD_BDAT,
};

enum mg_body { MG_BODY_UNSET = 0, MG_BODY_7BIT, MG_BODY_8BITMIME };

struct mg_smtp_cmd {
	enum mg_verb verb;
	char arg[MG_CMD_LINE_MAX + 1];  /* HELO/EHLO/ETRN/VRFY/HELP argument, trimmed */
	char addr[MG_ADDR_MAX + 1];     /* MAIL/RCPT: the mailbox, "" for the null path */
	long long size;                 /* MAIL SIZE=, -1 when absent */
	enum mg_body body;              /* MAIL BODY= */
	/* On a parse error: the reply to give. */
	int err_code;
	const char *err_enh;
	const char *err_text;
};

/* Parses one command line (no CRLF). Returns 0, or -1 with err_* set (500/501/502/
 * 553/555). len may include NUL bytes, which are an error. */
int mg_smtp_parse(const char *line, size_t len, struct mg_smtp_cmd *cmd);
const char *mg_verb_name(enum mg_verb v);

/* Parses a reverse-path or forward-path "<...>" (source route dropped) at s[0..len).
 * Writes the mailbox (domain lowercased) into out; null_ok allows "<>". Returns 0/-1. */
int mg_addr_parse(const char *s, size_t len, int null_ok, char *out, size_t outcap);
/* Checks a bare mailbox (as stored in queue files). Returns 0/-1. */
int mg_addr_valid(const char *mailbox);
/* The domain part of a stored mailbox ("" for the null path). */
const char *mg_addr_domain(const char *mailbox);
/* Checks a domain name or address literal (HELO argument, ETRN). Returns 0/-1. */
int mg_domain_valid(const char *d, size_t len);

/* Replies: "CODE ENH TEXT\r\n". enh may be NULL. Control characters in text become
 * '?', so nothing a peer said can break the reply framing. Multi-line: every line but
 * the last uses "CODE-". Returns 0, -1 if the writer overflowed. */
int mg_reply(struct buf_writer *w, int code, const char *enh, const char *text);
int mg_reply_lines(struct buf_writer *w, int code, const char *enh, const char *const *lines,
		   size_t n);
/* Copies text into out with control characters replaced by '?' and truncation. */
void mg_sanitize(char *out, size_t cap, const char *text, size_t len);

/* Reading a server's (multi-line) reply, one line at a time: a next hop (or an auth
 * backend) that streams "250-" lines forever is cut off after MG_REPLY_MAX_LINES
 * lines or MG_REPLY_MAX_BYTES bytes. Start each reply with the struct zeroed. */
#define MG_REPLY_MAX_LINES 128
#define MG_REPLY_MAX_BYTES (64 * 1024)
struct mg_reply_rx {
	int code;       /* of the last line fed */
	int nlines;
	size_t bytes;
};
enum { MG_REPLY_MORE = 0, MG_REPLY_DONE = 1, MG_REPLY_BAD = -1, MG_REPLY_TOO_LONG = -2 };
/* Feeds one line (no terminator). Returns MG_REPLY_DONE on the last line of the reply,
 * MG_REPLY_MORE when a continuation follows, MG_REPLY_BAD for a malformed line (not
 * "DDD", "DDD text" or "DDD-text", first digit 2-5), MG_REPLY_TOO_LONG past the
 * limits. *text and textlen: the line's text (after "DDD " / "DDD-"). */
int mg_reply_line(struct mg_reply_rx *r, const char *line, size_t len, const char **text,
		  size_t *textlen);

/* DATA reception, one line at a time as the connection delivers it. */
enum mg_bare_lf { MG_BARE_LF_REJECT = 0, MG_BARE_LF_NORMALIZE = 1 };

struct mg_data_rx {
	long long max_size;   /* message size limit (0 = none) */
	enum mg_bare_lf bare_lf;
	long long size;       /* bytes of message accepted so far (CRLF line ends) */
	int prev_crlf;        /* previous line ended with CRLF (or we are at the start) */
	int too_big;
	int long_line;
	int bad_eol;          /* bare LF or bare CR seen and the policy is reject */
	int nul;              /* a NUL octet was seen (RFC 5321 4.1.1.4: not allowed) */
};

void mg_data_init(struct mg_data_rx *d, long long max_size, enum mg_bare_lf policy);
/* Feeds one line without its terminator (had_cr: it ended with CRLF). Returns 1 at the
 * end-of-data line (only "<CRLF>.<CRLF>" ends it), else 0 and out and outlen give the
 * unstuffed content to store, followed by CRLF; outlen is 0 and out NULL when the
 * line must not be stored (after an error the rest is read and dropped). */
int mg_data_line(struct mg_data_rx *d, const char *line, size_t len, int had_cr,
		 const char **out, size_t *outlen);
/* The reply for a finished DATA that failed (0 if it did not): code, enh, text. */
int mg_data_verdict(const struct mg_data_rx *d, const char **enh, const char **text);

/* Outbound: writes one stored line (no terminator) dot-stuffed plus CRLF. */
int mg_data_stuff_line(struct buf_writer *w, const char *line, size_t len);
#endif
