/* hitc_session.c - one HIT session on the event loop: connect, hello (SVR_HELO), LOGON
 * (plain `*` or RSA `$`), commands one at a time or in blocks, LOGOFF.
 *
 * Commands come from argv or stdin. stdin is read on the loop (net/fdlines.h) when the
 * next command is due, so answers keep being read and printed while an interactive
 * user types or a slow pipe delivers, and the answer timer measures the server only. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/hitc/hitc.h"
#include "core/encoding.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/secret.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"
#include "net/conn.h"
#include "net/fdlines.h"
#include "net/loop.h"

#define LOGON_SEQ 1
#define LOGOFF_SEQ 99
#define RAND_CLI_BYTES 32
#define LOG_CUT 300 /* -v shows at most this much of a line */

enum state { S_CONNECT, S_HELLO, S_LOGON, S_CMDS, S_LOGOFF, S_DONE };

struct sess {
	const struct hitc_conf *cf;
	const char *pin;
	struct cry_rsa *key;
	const struct hitc_input *in;
	int argi;
	long long stdin_line;
	struct net_loop *loop;
	struct net_conn *c;
	struct net_timer *timer;
	enum state st;
	struct hitc_sym *sym; /* SESS_KEY known: '#' answer lines can be decrypted */
	int sym_on;           /* logon succeeded: commands go out as '#' lines */
	enum hitc_cipher cipher;
	int maxsev;           /* over every answer of the session */
	int logon_sev;
	int fatal;            /* a severity-4 answer: the server closes */
	int local_err;        /* a command hitc could not send (exit 65) */
	int rc;
	long long next_seq;
	long long *pending;   /* sequence numbers sent and not yet answered, oldest first */
	size_t npend, cappend;
	int input_eof;
	int input_wait;       /* no stdin line yet: fill() runs again when one comes */
	struct net_fdlines *stdin_lines;
};

static int rc_from_severity(const struct sess *s)
{
	if (s->maxsev >= 4)
		return EXIT_UNAVAILABLE;
	if (s->maxsev == 3 || s->local_err)
		return EXIT_DATAERR;
	return EXIT_OK;
}

static void finish(struct sess *s, int rc)
{
	if (s->st == S_DONE)
		return;
	s->st = S_DONE;
	s->rc = rc;
	net_timer_cancel(s->timer);
	/* Free, not close: every line that matters was written and answered (or the
	 * session is lost), and a flushing close would outlive the loop we leave now. */
	if (s->c) {
		net_conn_free(s->c);
		s->c = NULL;
	}
	net_loop_exit(s->loop);
}

static void arm_timer(struct sess *s)
{
	net_timer_arm(s->timer, (unsigned long)s->cf->answer_timeout * 1000UL);
}

/* Writes one line, '#'-encrypted once the session key is active. wire is in the wire
 * charset; shown says what -v may print (NULL: wire itself). */
static int send_line(struct sess *s, const char *wire, size_t len, const char *shown)
{
	char *enc = NULL;
	int r;

	if (s->sym_on) {
		if (!(enc = hitc_sym_encrypt_line_new(s->sym, wire, len))) {
			log_err("cannot encrypt a command line");
			return -1;
		}
		log_debug("> #[%zu hex] %.*s", strlen(enc) - 1, LOG_CUT, shown ? shown : wire);
		r = net_conn_write(s->c, enc, strlen(enc));
		free(enc);
	} else {
		log_debug("> %.*s", LOG_CUT, shown ? shown : wire);
		r = net_conn_write(s->c, wire, len);
	}
	if (r < 0 || net_conn_write(s->c, "\r\n", 2) < 0) {
		log_err("cannot send to the server: %s", net_conn_error(s->c));
		return -1;
	}
	return 0;
}

static char *hex_random_new(size_t n)
{
	uint8_t *b = malloc(n);
	char *h = malloc(2 * n + 1);
	if (!b || !h || cry_random(b, n) < 0 || hex_encode(b, n, h, 2 * n + 1, 1) < 0) {
		free(h);
		h = NULL;
	}
	if (b) {
		cry_wipe(b, n);
		free(b);
	}
	return h;
}

static char *to_wire(const struct sess *s, const char *local, size_t *len)
{
	return hitc_recode_new(local, strlen(local), (enum hitc_charset)s->cf->local_charset,
			       (enum hitc_charset)s->cf->charset, len);
}

/* Returns 0, or the exit code when the logon cannot be sent. */
static int send_logon(struct sess *s, const char *svr_helo)
{
	const struct hitc_conf *cf = s->cf;
	struct hitc_logon l = { 0 };
	char *bnr = NULL, *pin = NULL, *rand_cli = NULL, *sess_key = NULL;
	char *plain = NULL, *shown = NULL, *dollar = NULL;
	uint8_t key[32];
	size_t n;
	int rc = EXIT_SOFTWARE;

	bnr = to_wire(s, cf->bnr, &n);
	pin = to_wire(s, s->pin, &n);
	if (!bnr || !pin) {
		log_err("the BNR15 or the PIN cannot be written in the server's character set");
		rc = EXIT_DATAERR;
		goto done;
	}
	l.bnr = bnr;
	l.pin = pin;
	l.meld_wg = cf->meld_wg;
	l.mbn = cf->mbn;
	l.timeout = cf->timeout;
	if (s->key) {
		l.svr_helo = svr_helo;
		if (!(rand_cli = hex_random_new(RAND_CLI_BYTES)))
			goto done;
		l.rand_cli = rand_cli;
		if (cf->encrypt) {
			n = (size_t)cf->sess_key_bytes;
			if (cry_random(key, n) < 0 || !(sess_key = malloc(2 * n + 1)) ||
			    hex_encode(key, n, sess_key, 2 * n + 1, 1) < 0)
				goto done;
			if (!(s->sym = hitc_sym_new(s->cipher, key, n, (enum hitc_iv_mode)cf->iv_mode))) {
				log_err("cannot set up %s with a %zu-byte key", cf->enc_sym, n);
				goto done;
			}
			l.sess_key = sess_key;
			l.enc_sym = cf->enc_sym;
		}
	}
	plain = hitc_logon_line_new(LOGON_SEQ, &l, 0);
	shown = hitc_logon_line_new(LOGON_SEQ, &l, 1);
	if (!plain || !shown) {
		/* BNR15 and PIN were checked at start: it is the server's greeting. */
		log_err("the greeting (SVR_HELO) holds ';', which the LOGON value list cannot carry");
		rc = EXIT_UNAVAILABLE;
		goto done;
	}
	if (s->key) {
		dollar = hitc_rsa_line_new(s->key, (enum hitc_rsa_padding)cf->rsa_padding, plain,
					   strlen(plain));
		if (!dollar) {
			log_err("RSA encryption of the LOGON line failed");
			goto done;
		}
		log_debug("> $[%zu hex, RSA %s] %s", strlen(dollar) - 1,
			  cf->rsa_padding == HITC_RSA_PKCS1 ? "pkcs1" : "tbc", shown);
		if (net_conn_write(s->c, dollar, strlen(dollar)) < 0 ||
		    net_conn_write(s->c, "\r\n", 2) < 0) {
			log_err("cannot send to the server: %s", net_conn_error(s->c));
			rc = EXIT_UNAVAILABLE;
			goto done;
		}
	} else if (send_line(s, plain, strlen(plain), shown) < 0) {
		rc = EXIT_UNAVAILABLE;
		goto done;
	}
	rc = 0;
done:
	cry_wipe(key, sizeof(key));
	secret_free_str(bnr);
	secret_free_str(pin);
	secret_free_str(rand_cli);
	secret_free_str(sess_key);
	secret_free_str(plain);
	free(shown);
	free(dollar);
	return rc;
}

/* The next command in the local charset; NULL at the end of the input, or with
 * s->input_wait set while stdin has no complete line yet. */
static char *next_command(struct sess *s, long long *lineno)
{
	s->input_wait = 0;
	if (s->in->argv) {
		if (s->argi >= s->in->argc)
			return NULL;
		*lineno = s->argi + 1;
		return strdup(s->in->argv[s->argi++]);
	}
	fflush(stdout);
	for (;;) {
		char *line;
		size_t n;
		switch (net_fdlines_next(s->stdin_lines, &line, &n)) {
		case NET_FDLINES_WAIT:
			s->input_wait = 1;
			return NULL;
		case NET_FDLINES_LONG:
			log_err("stdin line %lld: longer than max_line (%lld bytes), skipped",
				++s->stdin_line, s->cf->max_line);
			s->local_err = 1;
			continue;
		case NET_FDLINES_ERROR:
			log_err("cannot read stdin: %s", strerror(errno));
			s->local_err = 1;
			return NULL;
		case NET_FDLINES_EOF:
			return NULL;
		case NET_FDLINES_LINE:
			break;
		}
		*lineno = ++s->stdin_line;
		while (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n > 0)
			return strdup(line);
	}
}

static int push_pending(struct sess *s, long long seq)
{
	if (s->npend == s->cappend) {
		size_t nc = s->cappend ? s->cappend * 2 : 16;
		long long *np = realloc(s->pending, nc * sizeof(*np));
		if (!np)
			return -1;
		s->pending = np;
		s->cappend = nc;
	}
	s->pending[s->npend++] = seq;
	return 0;
}

static int pop_pending(struct sess *s, long long seq)
{
	for (size_t i = 0; i < s->npend; i++)
		if (s->pending[i] == seq) {
			memmove(s->pending + i, s->pending + i + 1, (s->npend - i - 1) * sizeof(*s->pending));
			s->npend--;
			return 0;
		}
	return -1;
}

static void send_logoff(struct sess *s)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "*%d:XS:LOGOFF:", LOGOFF_SEQ);
	s->st = S_LOGOFF;
	if (send_line(s, line, (size_t)n, NULL) < 0) {
		finish(s, EXIT_UNAVAILABLE);
		return;
	}
	arm_timer(s);
}

/* Sends commands until the block is full or the input ends; then LOGOFF. */
static void fill(struct sess *s)
{
	while (s->st == S_CMDS && !s->fatal && !s->input_eof && s->npend < (size_t)s->cf->block) {
		long long lineno = 0;
		char *cmd = next_command(s, &lineno);
		if (!cmd) {
			if (!s->input_wait)
				s->input_eof = 1;
			break;
		}
		const char *body = hitc_command_body(cmd);
		size_t wlen;
		char *wire = body ? to_wire(s, body, &wlen) : NULL;
		if (!wire) {
			log_err("%s %lld: %s", s->in->argv ? "command" : "stdin line", lineno,
				body ? "has characters the server's character set cannot hold"
				     : "not a command (ACTION:ENTITY[/COLS]:VALUES), skipped");
			s->local_err = 1;
			free(cmd);
			continue;
		}
		long long seq = s->next_seq++;
		if (seq == LOGOFF_SEQ)
			seq = s->next_seq++;
		char head[32];
		int hn = snprintf(head, sizeof(head), "*%lld:", seq);
		char *line = malloc((size_t)hn + wlen + 1);
		int r = -1;
		if (line) {
			memcpy(line, head, (size_t)hn);
			memcpy(line + hn, wire, wlen + 1);
			r = send_line(s, line, (size_t)hn + wlen, NULL);
		}
		free(line);
		free(wire);
		free(cmd);
		if (r < 0 || push_pending(s, seq) < 0) {
			finish(s, EXIT_UNAVAILABLE);
			return;
		}
		arm_timer(s);
	}
	if (s->st == S_CMDS && !s->fatal && s->input_eof && s->npend == 0)
		send_logoff(s);
}

static void on_final(struct sess *s, const struct hitc_answer *a)
{
	switch (s->st) {
	case S_HELLO: {
		if (a->seq != 0)
			return;
		if (s->maxsev >= 3) {
			log_err("the server's greeting has severity %d", s->maxsev);
			finish(s, rc_from_severity(s));
			return;
		}
		/* SVR_HELO is the text after the third colon, kept as opaque wire bytes. */
		char *helo = strndup(a->text, a->text_len);
		if (!helo) {
			finish(s, EXIT_OSERR);
			return;
		}
		if (!strstr(helo, "HitServer bereit"))
			log_debug("greeting without \"HitServer bereit\"; taken as SVR_HELO anyway");
		s->st = S_LOGON;
		s->logon_sev = 0;
		int r = send_logon(s, helo);
		free(helo);
		if (r != 0)
			finish(s, r);
		else
			arm_timer(s);
		return;
	}
	case S_LOGON:
		/* A `$` line the server cannot decrypt has no sequence number it could echo:
		 * a final error for sequence 0 ends the logon as well. */
		if (a->seq != LOGON_SEQ && !(a->seq == 0 && a->severity >= 3))
			return;
		if (s->logon_sev >= 3) {
			log_err("logon refused by the server (severity %d)", s->logon_sev);
			finish(s, s->logon_sev >= 4 ? EXIT_UNAVAILABLE : EXIT_DATAERR);
			return;
		}
		s->sym_on = s->sym != NULL;
		log_debug("logged on%s", s->sym_on ? ", session encrypted" : "");
		s->st = S_CMDS;
		net_timer_cancel(s->timer);
		fill(s);
		return;
	case S_CMDS:
		/* A line the server could not read (or decrypt) is answered for sequence 0:
		 * it settles the oldest command, whose own answer will never come. */
		if (pop_pending(s, a->seq) < 0) {
			if (a->seq == 0 && a->severity >= 3 && s->npend > 0)
				pop_pending(s, s->pending[0]);
			else
				log_debug("answer for sequence %lld, which is not outstanding", a->seq);
		}
		if (s->npend == 0)
			net_timer_cancel(s->timer);
		fill(s);
		return;
	case S_LOGOFF:
		if (a->seq == LOGOFF_SEQ) {
			s->sym_on = 0;
			finish(s, rc_from_severity(s));
		}
		return;
	default:
		return;
	}
}

static void print_answer(struct sess *s, const char *line, size_t len)
{
	size_t n;
	char *local = hitc_recode_new(line, len, (enum hitc_charset)s->cf->charset,
				      (enum hitc_charset)s->cf->local_charset, &n);
	if (!local) {
		/* Not valid in the wire charset (UTF-8 only): the bytes as they came. */
		fwrite(line, 1, len, stdout);
	} else {
		fwrite(local, 1, n, stdout);
		free(local);
	}
	fputc('\n', stdout);
}

static void on_line(struct sess *s, char *raw, size_t len)
{
	uint8_t *plain = NULL;
	const char *line = raw;
	struct hitc_answer a;

	if (len > 0 && raw[0] == '#') {
		if (!s->sym) {
			log_err("the server sent an encrypted line, but this session has no key");
			finish(s, EXIT_UNAVAILABLE);
			return;
		}
		if (!(plain = hitc_sym_decrypt_line_new(s->sym, raw + 1, len - 1, &len))) {
			log_err("cannot decrypt an answer line (%s)", s->cf->enc_sym);
			finish(s, EXIT_UNAVAILABLE);
			return;
		}
		line = (const char *)plain;
		log_debug("< #[%zu bytes] %.*s", len, LOG_CUT, line);
	} else {
		log_debug("< %.*s", LOG_CUT, line);
	}
	int parsed = hitc_parse_answer(line, len, &a) == 0;
	/* CBC without a MAC "decrypts" a wrong layout to shifted garbage rather than
	 * failing; the first `#` line is the LOGON answer, so an unparsable one there
	 * means the two sides disagree on the `#` layer. */
	if (plain && !parsed && s->st == S_LOGON) {
		log_err("the decrypted LOGON answer is not an answer line: the server's `#` layer "
			"differs (ENC_SYM, iv or key handling)");
		cry_wipe(plain, len);
		free(plain);
		finish(s, EXIT_UNAVAILABLE);
		return;
	}
	print_answer(s, line, len);
	if (parsed) {
		if (a.severity > s->maxsev)
			s->maxsev = a.severity;
		if (s->st == S_LOGON && a.severity > s->logon_sev)
			s->logon_sev = a.severity;
		if (a.severity >= 4) {
			s->fatal = 1; /* the server closes; read what it still sends */
			log_err("fatal answer (severity %d): the server ends the session", a.severity);
		}
		if (a.kind == '=' && !s->fatal)
			on_final(s, &a);
	}
	if (plain) {
		cry_wipe(plain, len);
		free(plain);
	}
}

static void on_read(struct net_conn *c, void *arg)
{
	struct sess *s = arg;
	char *line;
	size_t len;
	int r;

	/* Any new byte restarts the answer timer, so a long line arriving slowly is fine. */
	if (s->st != S_CONNECT && s->npend + (s->st != S_CMDS) > 0)
		arm_timer(s);
	while (s->st != S_DONE && (r = net_conn_readline(c, &line, &len)) != 0) {
		if (r < 0) {
			log_err("an answer line is longer than max_line (%lld bytes)", s->cf->max_line);
			finish(s, EXIT_UNAVAILABLE);
			return;
		}
		on_line(s, line, len);
		free(line);
	}
}

static void on_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct sess *s = arg;

	s->c = c;
	switch (ev) {
	case NET_EV_CONNECTED:
		log_debug("connected to %s", net_conn_peer(c));
		s->st = S_HELLO;
		arm_timer(s);
		return;
	case NET_EV_EOF:
		if (net_conn_input_len(c) > 0)
			log_warn("the connection ended inside a line (%zu bytes dropped)", net_conn_input_len(c));
		if (s->fatal)
			log_err("the server closed the connection after a fatal answer");
		else
			log_err("the server closed the connection%s",
				s->st == S_CMDS || s->st == S_LOGON || s->st == S_LOGOFF ? " before the answer was complete" : "");
		finish(s, EXIT_UNAVAILABLE);
		return;
	case NET_EV_TIMEOUT:
	case NET_EV_ERROR:
		if (s->st == S_CONNECT && ev == NET_EV_ERROR && *net_conn_error(c))
			log_err("%s", net_conn_error(c)); /* names host, port and reason */
		else if (s->st == S_CONNECT)
			log_err("cannot connect to %s port %ld: %s", s->cf->host, s->cf->port,
				ev == NET_EV_TIMEOUT ? "timed out" : "failed");
		else
			log_err("connection to the server failed: %s",
				ev == NET_EV_TIMEOUT ? "timed out" : net_conn_error(c));
		finish(s, EXIT_UNAVAILABLE);
		return;
	default:
		return;
	}
}

/* A stdin line (or its end) arrived while fill() was waiting for one. */
static void on_stdin(void *arg)
{
	struct sess *s = arg;

	if (s->input_wait)
		fill(s);
}

static void on_timer(void *arg)
{
	struct sess *s = arg;

	log_err("no answer from the server within %ld s", s->cf->answer_timeout);
	finish(s, EXIT_UNAVAILABLE);
}

int hitc_session_run(const struct hitc_conf *cf, const char *pin, struct cry_rsa *key,
		     const struct hitc_input *in)
{
	static const struct net_conn_cbs cbs = { on_read, NULL, on_event };
	struct sess s = { 0 };

	s.cf = cf;
	s.pin = pin;
	s.key = key;
	s.in = in;
	s.next_seq = LOGON_SEQ + 1;
	s.rc = EXIT_SOFTWARE;
	if (key && cf->encrypt && hitc_enc_sym_parse(cf->enc_sym, &s.cipher) < 0)
		return EXIT_CONFIG;
	/* A server that closes the socket while a command is written must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (!(s.loop = net_loop_new()) || !(s.timer = net_timer_new(s.loop, on_timer, &s)) ||
	    (!in->argv && !(s.stdin_lines = net_fdlines_new(s.loop, 0, (size_t)cf->max_line,
							       on_stdin, &s)))) {
		log_err("cannot set up the event loop");
		s.rc = EXIT_OSERR;
		goto done;
	}
	s.st = S_CONNECT;
	s.c = net_connect(s.loop, cf->host, (int)cf->port, (unsigned long)cf->connect_timeout * 1000UL,
			  &cbs, &s);
	if (!s.c && s.st != S_DONE) {
		log_err("cannot connect to %s port %ld", cf->host, cf->port);
		s.rc = EXIT_UNAVAILABLE;
		goto done;
	}
	if (s.c) {
		/* Answer lines can be very long; the read limit must hold a whole line. */
		net_conn_set_max_line(s.c, (size_t)cf->max_line);
		net_conn_set_read_limit(s.c, (size_t)cf->max_line + 64 * 1024);
	}
	if (s.st != S_DONE)
		net_loop_run(s.loop);
	if (s.st != S_DONE) { /* the loop ran dry without a verdict */
		log_err("the session ended unexpectedly");
		finish(&s, EXIT_SOFTWARE);
	}
done:
	fflush(stdout);
	if (s.c)
		net_conn_free(s.c);
	hitc_sym_free(s.sym);
	net_fdlines_free(s.stdin_lines);
	net_timer_free(s.timer);
	net_loop_free(s.loop);
	free(s.pending);
	return s.rc;
}
