/* hitc.h - internal interfaces of the hitc applet (HI-Tier HIT line protocol client).
 * The files: hitc.c (options, config, main), hitc_proto.c (line grammar: answers,
 * commands, LOGON), hitc_crypto.c (`$` RSA logon and `#` session lines), hitc_key.c
 * (public key files), hitc_text.c (Latin-1/UTF-8), hitc_session.c (state machine). */
#ifndef APPLETS_HITC_H
#define APPLETS_HITC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cry_rsa;

/* ---- settings (filled from [hitc] and the command line) ---- */
enum hitc_rsa_padding { HITC_RSA_TBC = 0, HITC_RSA_PKCS1 = 1 };
enum hitc_iv_mode { HITC_IV_PREFIX = 0, HITC_IV_ZERO = 1 };
enum hitc_charset { HITC_CS_LATIN1 = 0, HITC_CS_UTF8 = 1 };

struct hitc_conf {
	char *host;
	long port;
	char *bnr;
	char *pin_file;
	long mbn;              /* -1: column not sent */
	long meld_wg;
	long timeout;          /* LOGON TIMEOUT column; -1: not sent */
	long connect_timeout;  /* seconds */
	long answer_timeout;   /* seconds without a byte while an answer is due */
	char *public_key;
	int encrypt;           /* SESS_KEY + `#` session (needs public_key) */
	char *enc_sym;
	long sess_key_bytes;
	int iv_mode;           /* enum hitc_iv_mode */
	int rsa_padding;       /* enum hitc_rsa_padding */
	long block;
	int charset;           /* on the wire; enum hitc_charset */
	int local_charset;     /* of stdin, arguments and stdout */
	long long max_line;
	int verbose;
};

/* ---- answer lines (hitc_proto.c) ---- */
/* "=SEQ:SEVERITY/NUMBER:ENTITY[/FIELD]:TEXT", split on the first three colons only.
 * Pointers and lengths point into the parsed line (not NUL-terminated). */
struct hitc_answer {
	char kind;           /* first character: '=' final part, anything else: more parts */
	long long seq;
	int severity;        /* 0..9 as sent; 0 ok, 1 hint, 2 warning, 3 error, 4 fatal */
	long long number;    /* message number, -1 if absent */
	const char *entity;
	size_t entity_len;
	const char *field;   /* NULL when the entity part has no '/' */
	size_t field_len;
	const char *text;
	size_t text_len;
};

/* 0 when line is a well-formed answer line, -1 otherwise (then a is undefined). */
int hitc_parse_answer(const char *line, size_t len, struct hitc_answer *a);

/* The text of a command as the user wrote it, normalised to "ACTION:ENTITY...:VALUES"
 * (a leading "*SEQ:" is dropped: hitc numbers commands itself). NULL if the command
 * is not "AA:..." with a two-letter action, or holds CR or LF. Points into cmd. */
const char *hitc_command_body(const char *cmd);

/* Logon parameters; strings are NUL-terminated, NULL when the column is left out. */
struct hitc_logon {
	const char *bnr;
	const char *pin;
	long meld_wg;
	long mbn;             /* -1: left out */
	long timeout;         /* -1: left out */
	const char *svr_helo; /* encrypted logon only */
	const char *rand_cli;
	const char *sess_key;
	const char *enc_sym;
};
/* "*1:XS:LOGON/COLS:VALS" into a heap string the caller frees with secret_free_str
 * (it holds the PIN and keys). mask=1 writes "***" for PIN, RAND_CLI and SESS_KEY
 * (for -v). NULL when a value holds ';', CR or LF, or out of memory. */
char *hitc_logon_line_new(long seq, const struct hitc_logon *l, int mask);

/* ---- RSA `$` layer and symmetric `#` layer (hitc_crypto.c) ---- */
/* Trailing-Bit-Complement padding to a multiple of block: pad byte 0xFF when the
 * last data byte is even, else 0x00; a whole pad block when len is a multiple of
 * block (so unpadding never guesses). out needs hitc_tbc_padded_len bytes. */
size_t hitc_tbc_padded_len(size_t len, size_t block);
int hitc_tbc_pad(const uint8_t *in, size_t len, size_t block, uint8_t *out);
/* Returns the data length, -1 when buf does not end in a valid TBC pad. */
ssize_t hitc_tbc_unpad(const uint8_t *buf, size_t len);

/* Encrypts a logon line for the server: "$" + upper-case hex of the RSA blocks.
 * Heap string, caller frees. */
char *hitc_rsa_line_new(struct cry_rsa *k, enum hitc_rsa_padding pad, const char *plain,
			size_t len);

enum hitc_cipher { HITC_AES_CBC = 1, HITC_AES_ECB = 2, HITC_AES_GCM = 3 };
/* Parses an ENC_SYM transformation string, case-insensitive:
 * AES/CBC/PKCS7Padding (or PKCS5Padding), AES/ECB/PKCS7Padding (or PKCS5Padding),
 * AES/GCM/NoPadding. -1 for anything else, including the legacy numeric codes. */
int hitc_enc_sym_parse(const char *s, enum hitc_cipher *out);
/* 1 when keylen is a key length the cipher takes. */
int hitc_cipher_key_ok(enum hitc_cipher c, size_t keylen);

struct hitc_sym;
struct hitc_sym *hitc_sym_new(enum hitc_cipher c, const uint8_t *key, size_t keylen,
			      enum hitc_iv_mode iv);
void hitc_sym_free(struct hitc_sym *s); /* wipes */
/* "#" + upper-case hex of the encrypted line. Heap string, caller frees. */
char *hitc_sym_encrypt_line_new(struct hitc_sym *s, const void *line, size_t len);
/* hex is what follows the '#'. Returns a heap buffer (NUL-terminated, *outlen without
 * the NUL) the caller frees, or NULL for bad hex, a bad tag or bad padding. */
uint8_t *hitc_sym_decrypt_line_new(struct hitc_sym *s, const char *hex, size_t hexlen,
				   size_t *outlen);

/* ---- public key file (hitc_key.c) ---- */
/* PEM ("PUBLIC KEY", "RSA PUBLIC KEY") or text lines "n = HEX" and "e = HEX"
 * (also "modulus"/"exponent"; ':' and whitespace inside the hex are ignored).
 * On error returns NULL with a reason in err. */
struct cry_rsa *hitc_key_load(const char *path, char *err, size_t errlen);
/* The same from text in memory (fuzzable, unit-tested). */
struct cry_rsa *hitc_key_parse(const char *text, size_t len, char *err, size_t errlen);

/* ---- character sets (hitc_text.c) ---- */
/* Converts between Latin-1 and UTF-8; from == to copies. Heap string (NUL-terminated,
 * *outlen without it) or NULL when the text cannot be represented (a character above
 * U+00FF into Latin-1, or invalid UTF-8). */
char *hitc_recode_new(const char *in, size_t len, enum hitc_charset from, enum hitc_charset to,
		      size_t *outlen);

/* ---- the session (hitc_session.c) ---- */
struct hitc_input {
	char **argv;  /* commands from the command line, or NULL to read stdin */
	int argc;
};
/* Runs a whole session: connect, hello, logon, commands, logoff. Returns the exit
 * code (0, 65, 69). pin is only read. */
int hitc_session_run(const struct hitc_conf *cf, const char *pin, struct cry_rsa *key,
		     const struct hitc_input *in);
#endif
