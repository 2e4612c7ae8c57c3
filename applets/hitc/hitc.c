/* hitc - client for the HI-Tier HIT line protocol: options, [hitc] settings, main.
 * Every setting has an ini key and (mostly) an option of the same name; options win.
 * The PIN is never taken from argv: --pin-file, HITC_PIN or a no-echo prompt. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include "applets/hitc/hitc.h"
#include "core/cli.h"
#include "core/conf.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/rsa.h"

static int hitc_main(int argc, char **argv);

#define K(name, type, field, def, min, max, choices, help) \
	{ "hitc", name, type, offsetof(struct hitc_conf, field), def, min, max, choices, help }
static const struct conf_key hitc_keys[] = {
	K("host", CONF_STR, host, NULL, 0, 0, NULL, "HitServer host name or address (hitserver.hi-tier.de)"),
	K("port", CONF_INT, port, "2223", 1, 65535, NULL, "TCP port: 2222 production, 2223 test"),
	K("bnr", CONF_STR, bnr, NULL, 0, 0, NULL, "BNR15 to log on with"),
	K("pin_file", CONF_STR, pin_file, NULL, 0, 0, NULL, "file whose first line is the PIN (else HITC_PIN, else a prompt)"),
	K("mbn", CONF_INT, mbn, "-1", -1, 32768, NULL, "LOGON column MBN (co-user); -1 leaves it out"),
	K("meld_wg", CONF_INT, meld_wg, "4", 0, 99, NULL, "LOGON column MELD_WG (1 Regionalstelle, 4 Batch)"),
	K("timeout", CONF_INT, timeout, "-1", -1, 9999, NULL, "LOGON column TIMEOUT, server inactivity limit in s; -1 leaves it out"),
	K("connect_timeout", CONF_DURATION, connect_timeout, "30s", 1, 3600, NULL, "give up connecting after this long"),
	K("answer_timeout", CONF_DURATION, answer_timeout, "120s", 1, 86400, NULL, "give up when an answer is due and nothing arrives for this long"),
	K("public_key", CONF_STR, public_key, NULL, 0, 0, NULL, "server RSA public key (PEM, or 'n = HEX' / 'e = HEX'); set: encrypted ($) logon"),
	K("encrypt", CONF_BOOL, encrypt, "no", 0, 0, NULL, "send SESS_KEY and encrypt the whole session (#); needs public_key"),
	K("enc_sym", CONF_STR, enc_sym, "AES/CBC/PKCS7Padding", 0, 0, NULL, "ENC_SYM: AES/CBC/PKCS7Padding, AES/CBC/PKCS5Padding, AES/ECB/PKCS7Padding, AES/GCM/NoPadding"),
	K("sess_key_bytes", CONF_INT, sess_key_bytes, "32", 16, 32, NULL, "SESS_KEY length: 16, 24 or 32 (GCM: 32)"),
	K("iv", CONF_ENUM, iv_mode, "prefix", 0, 0, "prefix|zero", "CBC IV: random and sent in front of each line, or all zero (unverified)"),
	K("rsa_padding", CONF_ENUM, rsa_padding, "tbc", 0, 0, "tbc|pkcs1", "LOGON RSA blocks: raw RSA with TBC padding, or PKCS#1 v1.5 (unverified)"),
	K("block", CONF_INT, block, "1", 1, 100000, NULL, "commands sent before their answers are read (1: one at a time)"),
	K("charset", CONF_ENUM, charset, "latin1", 0, 0, "latin1|utf8", "character set on the wire"),
	K("local_charset", CONF_ENUM, local_charset, "utf8", 0, 0, "latin1|utf8", "character set of arguments, stdin and stdout"),
	K("max_line", CONF_SIZE, max_line, "16M", 1024, 1LL << 30, NULL, "longest answer line accepted"),
};
#undef K
static const struct conf_spec hitc_spec = { hitc_keys, sizeof(hitc_keys) / sizeof(hitc_keys[0]), NULL, NULL };

const struct applet hitc_applet = {
	"hitc", hitc_main,
	"[-v] [-c FILE] --host HOST [--port 2223] --bnr BNR15 [--pin-file FILE] [--mbn N] "
	"[--meld-wg N] [--timeout S] [--public-key FILE [--encrypt [ENC_SYM]]] [--block N] "
	"[COMMAND...]",
	APPLET_CLIENT,
	"client for the HI-Tier HIT line protocol",
	&hitc_spec,
};

/* Option name -> ini key; the value is parsed by the same table. */
static const struct {
	const char *opt;
	const char *key;
} opt_keys[] = {
	{ "--host", "host" }, { "--port", "port" }, { "--bnr", "bnr" }, { "--pin-file", "pin_file" },
	{ "--mbn", "mbn" }, { "--meld-wg", "meld_wg" }, { "--timeout", "timeout" },
	{ "--connect-timeout", "connect_timeout" }, { "--answer-timeout", "answer_timeout" },
	{ "--public-key", "public_key" }, { "--sess-key-bytes", "sess_key_bytes" },
	{ "--iv", "iv" }, { "--rsa-padding", "rsa_padding" }, { "--block", "block" },
	{ "--charset", "charset" }, { "--local-charset", "local_charset" },
	{ "--max-line", "max_line" },
};

static int bad_option(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_option(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hitc: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: hitc %s\n", hitc_applet.usage);
	return EXIT_CONFIG;
}

/* Sets one key from a string through a one-line ini text, so options and the file
 * share parsing, limits and messages. */
static int set_key(struct hitc_conf *cf, const char *key, const char *value)
{
	char err[CONF_ERR_LEN];
	size_t n = strlen(key) + strlen(value) + 16;
	char *text = malloc(n);
	int r;
	if (!text)
		return -1;
	snprintf(text, n, "[hitc]\n%s = %s\n", key, value);
	/* conf_load_string starts from the table's values, not defaults: load into a
	 * scratch struct and copy the one field over. */
	struct hitc_conf tmp;
	if (conf_defaults(&hitc_spec, &tmp) < 0) {
		free(text);
		return -1;
	}
	r = conf_load_string(&hitc_spec, &tmp, text, "command line", err, sizeof(err));
	free(text);
	if (r < 0) {
		fprintf(stderr, "hitc: %s\n", err);
		conf_free(&hitc_spec, &tmp);
		return -1;
	}
	for (size_t i = 0; i < hitc_spec.nkeys; i++) {
		const struct conf_key *k = &hitc_keys[i];
		if (strcmp(k->name, key) != 0)
			continue;
		char *dst = (char *)cf + k->offset, *src = (char *)&tmp + k->offset;
		switch (k->type) {
		case CONF_STR:
			free(*(char **)dst);
			*(char **)dst = *(char **)src;
			*(char **)src = NULL;
			break;
		case CONF_INT:
		case CONF_DURATION:
			*(long *)dst = *(long *)src;
			break;
		case CONF_SIZE:
			*(long long *)dst = *(long long *)src;
			break;
		case CONF_BOOL:
		case CONF_ENUM:
			*(int *)dst = *(int *)src;
			break;
		case CONF_LIST:
			break;
		}
	}
	conf_free(&hitc_spec, &tmp);
	return 0;
}

struct opt_set {
	const char *key;
	const char *value;
};

/* Checks what the keys alone cannot: combinations and the ENC_SYM name. */
static int check_conf(const struct hitc_conf *cf)
{
	enum hitc_cipher c;

	if (!cf->host || !*cf->host)
		return bad_option("%s", "no host (--host or host = in [hitc])");
	if (!cf->bnr || !*cf->bnr)
		return bad_option("%s", "no BNR15 (--bnr or bnr = in [hitc])");
	if (strpbrk(cf->bnr, ";\r\n"))
		return bad_option("%s", "the BNR15 must not hold ';' or line breaks");
	if (cf->encrypt && !cf->public_key)
		return bad_option("%s", "--encrypt needs --public-key (the SESS_KEY travels RSA-encrypted)");
	if (cf->encrypt) {
		if (hitc_enc_sym_parse(cf->enc_sym, &c) < 0)
			return bad_option("ENC_SYM '%s' is not supported (AES/CBC/PKCS7Padding, "
					  "AES/CBC/PKCS5Padding, AES/ECB/PKCS7Padding, AES/GCM/NoPadding; "
					  "numeric legacy codes are not)", cf->enc_sym);
		if (!hitc_cipher_key_ok(c, (size_t)cf->sess_key_bytes))
			return bad_option("%s", "sess_key_bytes does not fit ENC_SYM (AES: 16, 24 or 32; GCM: 32)");
		if (c == HITC_AES_GCM && cf->iv_mode == HITC_IV_ZERO)
			return bad_option("%s", "iv = zero is refused with AES/GCM (nonce reuse)");
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct hitc_conf *cf, const char **conf_file,
		      struct opt_set *sets, size_t *nsets, int *first_cmd)
{
	int i;
	*nsets = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			cf->verbose = 1;
			continue;
		}
		/* The PIN on argv would show in ps and in shell history. */
		if (strcmp(a, "--pin") == 0 || strncmp(a, "--pin=", 6) == 0 || strcmp(a, "-p") == 0)
			return cli_usage_error(&hitc_applet, "%s", "the PIN is never taken from the command line: use "
						"--pin-file FILE, the HITC_PIN variable, or the prompt");
		if (strcmp(a, "--encrypt") == 0 || strncmp(a, "--encrypt=", 10) == 0) {
			sets[(*nsets)++] = (struct opt_set){ "encrypt", "yes" };
			if (a[9] == '=')
				sets[(*nsets)++] = (struct opt_set){ "enc_sym", a + 10 };
			/* The optional ENC_SYM: every command holds ':', no ENC_SYM does. */
			else if (i + 1 < argc && argv[i + 1][0] != '-' && !strchr(argv[i + 1], ':'))
				sets[(*nsets)++] = (struct opt_set){ "enc_sym", argv[++i] };
			continue;
		}
		size_t alen = strcspn(a, "=");
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 || strncmp(a, "--config=", 9) == 0) {
			if (a[alen] == '=')
				*conf_file = a + alen + 1;
			else if (i + 1 < argc)
				*conf_file = argv[++i];
			else
				return cli_usage_error(&hitc_applet, "%s needs a file", a);
			continue;
		}
		size_t j;
		for (j = 0; j < sizeof(opt_keys) / sizeof(opt_keys[0]); j++)
			if (strlen(opt_keys[j].opt) == alen && strncmp(a, opt_keys[j].opt, alen) == 0)
				break;
		if (j == sizeof(opt_keys) / sizeof(opt_keys[0]))
			return cli_usage_error(&hitc_applet, "unknown option %s", a);
		if (a[alen] == '=')
			val = a + alen + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return cli_usage_error(&hitc_applet, "%s needs a value", a);
		sets[(*nsets)++] = (struct opt_set){ opt_keys[j].key, val };
	}
	*first_cmd = i;
	(void)cf;
	return 0;
}

static int hitc_main(int argc, char **argv)
{
	struct hitc_conf cf;
	const char *conf_file = NULL;
	struct opt_set *sets = NULL;
	size_t nsets = 0;
	int first_cmd = argc, rc = EXIT_CONFIG;
	char err[CONF_ERR_LEN];
	char *pin = NULL;
	struct cry_rsa *key = NULL;
	struct hitc_input in = { NULL, 0 };

	if (cli_wants_help(argc, argv)) {
		cli_usage(&hitc_applet, stdout);
		fputs("\nCommands (ACTION:ENTITY[/COLS]:VALUES) come from the arguments or, one per line,\n"
		      "from stdin; answers go to stdout. The PIN comes from --pin-file, HITC_PIN or a\n"
		      "prompt, never from the command line. Options (ini key in [hitc] in brackets):\n"
		      "  --host H [host]  --port N [port]  --bnr B [bnr]  --pin-file F [pin_file]\n"
		      "  --mbn N [mbn]  --meld-wg N [meld_wg]  --timeout S [timeout]  (LOGON columns)\n"
		      "  --connect-timeout D  --answer-timeout D  --block N  --max-line SIZE\n"
		      "  --public-key F: encrypted ($) logon; --encrypt [ENC_SYM]: encrypted session (#)\n"
		      "  --sess-key-bytes N  --iv prefix|zero  --rsa-padding tbc|pkcs1\n"
		      "  --charset latin1|utf8 (wire)  --local-charset latin1|utf8\n"
		      "  -c FILE  -v (protocol on stderr, secrets masked)  --print-config\n"
		      "Exit: 0 ok, 65 severity 3 or logon refused, 69 connection failed or severity 4,\n"
		      "64 bad command line, 78 bad settings. See docs/hitc.md.\n", stdout);
		return EXIT_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "--print-config") == 0) {
		conf_print_sample(&hitc_spec, stdout);
		return EXIT_OK;
	}
	log_init("hitc", 0);
	memset(&cf, 0, sizeof(cf));
	if (conf_defaults(&hitc_spec, &cf) < 0)
		return EXIT_SOFTWARE;
	cf.verbose = 0;
	/* Each option sets at most two keys (--encrypt ENC_SYM). */
	if (!(sets = calloc((size_t)argc * 2 + 1, sizeof(*sets))))
		goto done;
	if ((rc = parse_args(argc, argv, &cf, &conf_file, sets, &nsets, &first_cmd)) != 0)
		goto done;
	rc = EXIT_CONFIG;
	if (conf_file && conf_load(&hitc_spec, &cf, conf_file, err, sizeof(err)) < 0) {
		fprintf(stderr, "hitc: %s\n", err);
		goto done;
	}
	for (size_t i = 0; i < nsets; i++)
		if (set_key(&cf, sets[i].key, sets[i].value) < 0)
			goto done;
	log_set_level(cf.verbose ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	if ((rc = check_conf(&cf)) != 0)
		goto done;
	rc = EXIT_CONFIG;
	if (first_cmd < argc) {
		in.argv = argv + first_cmd;
		in.argc = argc - first_cmd;
		for (int i = 0; i < in.argc; i++)
			if (!hitc_command_body(in.argv[i])) {
				rc = cli_usage_error(&hitc_applet, "'%s' is not a command "
						     "(ACTION:ENTITY[/COLS]:VALUES)", in.argv[i]);
				goto done;
			}
	}
	if (cf.public_key && !(key = hitc_key_load(cf.public_key, err, sizeof(err)))) {
		fprintf(stderr, "hitc: public key %s\n", err);
		goto done;
	}
	if (!(pin = secret_read(cf.pin_file, "HITC_PIN", "HIT PIN: ", err, sizeof(err)))) {
		fprintf(stderr, "hitc: PIN: %s\n", err);
		goto done;
	}
	if (!*pin || strpbrk(pin, ";\r\n")) {
		fprintf(stderr, "hitc: the PIN is empty or holds ';'\n");
		goto done;
	}
	rc = hitc_session_run(&cf, pin, key, &in);
done:
	secret_free_str(pin);
	if (key)
		cry_rsa_free(key);
	free(sets);
	conf_free(&hitc_spec, &cf);
	return rc;
}
