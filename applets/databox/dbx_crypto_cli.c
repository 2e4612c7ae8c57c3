/* dbx_crypto_cli.c - "databox crypto ...": the offline commands for interop and
 * scripting. Passwords come from --password-file, DATABOX_PASSWORD or a no-echo prompt,
 * never from argv. Exit codes: 64 usage, 65 bad data or wrong password, 66 missing
 * input, 73 cannot create output, 74 I/O. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/databox/dbx.h"
#include "applets/databox/dbx_keys.h"
#include "applets/databox/dbx_stream.h"
#include "core/exitcode.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"

enum {
	OPT_PWFILE = 1000, OPT_OUT, OPT_VERSION, OPT_ITER, OPT_PUB, OPT_PRIV, OPT_FK,
	OPT_FK_OUT, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "password-file", required_argument, NULL, OPT_PWFILE },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "version", required_argument, NULL, OPT_VERSION },
	{ "iterations", required_argument, NULL, OPT_ITER }, /* hidden: tests and interop */
	{ "public-key", required_argument, NULL, OPT_PUB },
	{ "private-key", required_argument, NULL, OPT_PRIV },
	{ "file-key", required_argument, NULL, OPT_FK },
	{ "file-key-out", required_argument, NULL, OPT_FK_OUT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *pwfile, *out, *version, *pub, *priv, *fk, *fk_out;
	unsigned long iterations;
	int help;
	int nargs;
	char **args;
};

static const char crypto_usage[] =
	"Usage: databox crypto COMMAND ...\n"
	"  keygen [--version A|RSA-4096] --out PREFIX     writes PREFIX.private.json (0600)\n"
	"                                                 and PREFIX.public.json\n"
	"  unlock-keypair [--public-key PUB_JSON] PRIVATE_KEY_JSON\n"
	"  encrypt-file-key --public-key PUB_JSON [--out F] PLAIN_FILE_KEY_JSON\n"
	"  decrypt-file-key --private-key PRIV_JSON [--out F] ENC_FILE_KEY_JSON\n"
	"  encrypt-file IN OUT --file-key-out PLAIN_FILE_KEY_JSON\n"
	"  decrypt-file --file-key PLAIN_FILE_KEY_JSON IN OUT\n"
	"Passwords: --password-file FILE, else $DATABOX_PASSWORD, else a no-echo prompt.\n";

static int usage_err(const char *cmd, const char *msg)
{
	fprintf(stderr, "databox crypto %s: %s\n%s", cmd, msg, crypto_usage);
	return EXIT_USAGE;
}

static int parse(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	/* getopt_long takes "--password" as an abbreviation of --password-file; a user who
	 * typed a password there must hear why it is refused, not get "cannot read". */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strncmp(argv[i], "--password", 10) == 0 &&
		    strncmp(argv[i], "--password-file", 15) != 0) {
			fprintf(stderr, "databox crypto: passwords are never taken from the command "
				"line; use --password-file FILE, $%s or the prompt\n", DBX_PASSWORD_ENV);
			return -1;
		}
	}
	optind = 0; /* full reset of GNU getopt for this sub-command */
	opterr = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PWFILE: o->pwfile = optarg; break;
		case OPT_OUT: o->out = optarg; break;
		case OPT_VERSION: o->version = optarg; break;
		case OPT_PUB: o->pub = optarg; break;
		case OPT_PRIV: o->priv = optarg; break;
		case OPT_FK: o->fk = optarg; break;
		case OPT_FK_OUT: o->fk_out = optarg; break;
		case OPT_ITER: {
			char *end;
			errno = 0;
			o->iterations = strtoul(optarg, &end, 10);
			if (errno || *end || o->iterations < 1000 || o->iterations > 100000000UL) {
				fprintf(stderr, "databox crypto: --iterations wants 1000..100000000\n");
				return -1;
			}
			break;
		}
		case 'h':
		case OPT_HELP: o->help = 1; break;
		default: return -1;
		}
	}
	/* GNU getopt permuted argv: the positional arguments are at the end. */
	o->nargs = argc - optind;
	o->args = argv + optind;
	return 0;
}

static void say_err(const char *cmd, const char *msg)
{
	fprintf(stderr, "databox crypto %s: %s\n", cmd, msg);
}

/* The password for an existing key (one read) or a new one (prompted twice). */
static char *get_password(const struct opts *o, const char *prompt, int confirm)
{
	char err[200];
	int prompting = !o->pwfile && !getenv(DBX_PASSWORD_ENV);
	char *pw = secret_read(o->pwfile, DBX_PASSWORD_ENV, prompt, err, sizeof(err));

	if (!pw) {
		fprintf(stderr, "databox: password: %s\n", err);
		return NULL;
	}
	if (confirm && prompting) {
		char *again = secret_read(NULL, NULL, "Repeat the password: ", err, sizeof(err));
		int same = again && strcmp(pw, again) == 0;
		secret_free_str(again);
		if (!same) {
			fprintf(stderr, "databox: the passwords differ\n");
			secret_free_str(pw);
			return NULL;
		}
	}
	return pw;
}

/* Loads a JSON file; the exit code for failures is 66 (missing) or 65 (bad). */
static json_t *load(const char *cmd, const char *path, int *rc)
{
	char err[300];
	json_t *j = dbx_json_load(path, err, sizeof(err));
	if (!j) {
		say_err(cmd, err);
		*rc = access(path, R_OK) == 0 ? EXIT_DATAERR : EXIT_NOINPUT;
	}
	return j;
}

static int cmd_keygen(struct opts *o)
{
	int version = DBX_KP_RSA4096, rc = EXIT_DATAERR;
	char p1[4096], p2[4096], err[300];
	char *pw = NULL;
	json_t *kp = NULL;

	if (o->nargs || !o->out)
		return usage_err("keygen", "--out PREFIX is required, no other arguments");
	if (o->version && (version = dbx_kp_version_parse(o->version)) == DBX_KP_NONE)
		return usage_err("keygen", "--version is A (RSA-2048) or RSA-4096");
	if (str_fmt(p1, sizeof(p1), "%s.private.json", o->out) < 0 ||
	    str_fmt(p2, sizeof(p2), "%s.public.json", o->out) < 0)
		return usage_err("keygen", "--out PREFIX is too long");
	pw = get_password(o, "Password for the new private key: ", 1);
	if (!pw)
		return EXIT_DATAERR;
	if (!*pw) {
		say_err("keygen", "an empty password is not allowed");
		goto out;
	}
	kp = dbx_keypair_generate(version, pw, o->iterations ? (uint32_t)o->iterations
							    : DBX_PBKDF2_ITERATIONS, err, sizeof(err));
	if (!kp) {
		say_err("keygen", err);
		rc = EXIT_SOFTWARE;
		goto out;
	}
	if (dbx_json_save(p1, json_object_get(kp, "privateKeyContainer"), 0600) < 0 ||
	    dbx_json_save(p2, json_object_get(kp, "publicKeyContainer"), 0644) < 0) {
		fprintf(stderr, "databox crypto keygen: cannot write %s: %s\n", p1, strerror(errno));
		rc = EXIT_CANTCREAT;
		goto out;
	}
	printf("%s key pair: %s (private, password-protected), %s (public)\n",
	       dbx_kp_version_name(version), p1, p2);
	rc = EXIT_OK;
out:
	json_decref(kp);
	secret_free_str(pw);
	return rc;
}

/* Loads and unlocks a private key from path (with an optional separate public half). */
static struct cry_rsa *unlock(const char *cmd, const struct opts *o, const char *path,
			      const char *pubpath, int *version, int *rc)
{
	struct dbx_keypair kp, pkp;
	struct dbx_unlock_info info;
	struct cry_rsa *k = NULL;
	json_t *j = NULL, *pj = NULL;
	char err[300], *pw = NULL;
	int wrong;

	j = load(cmd, path, rc);
	if (!j)
		return NULL;
	*rc = EXIT_DATAERR;
	if (dbx_keypair_from_json(j, &kp, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox crypto %s: %s: %s\n", cmd, path, err);
		goto out;
	}
	if (!kp.private_pem) {
		fprintf(stderr, "databox crypto %s: %s holds no private key\n", cmd, path);
		goto out;
	}
	if (pubpath) {
		pj = load(cmd, pubpath, rc);
		if (!pj)
			goto out;
		*rc = EXIT_DATAERR;
		if (dbx_keypair_from_json(pj, &pkp, err, sizeof(err)) < 0 || !pkp.public_pem) {
			fprintf(stderr, "databox crypto %s: %s: %s\n", cmd, pubpath,
				pkp.public_pem ? err : "no public key");
			goto out;
		}
		if (pkp.pub_version != kp.priv_version) {
			fprintf(stderr, "databox crypto %s: key pair versions differ: private %s, "
				"public %s\n", cmd, dbx_kp_version_name(kp.priv_version),
				dbx_kp_version_name(pkp.pub_version));
			goto out;
		}
		kp.public_pem = pkp.public_pem;
		kp.pub_version = pkp.pub_version;
	}
	pw = get_password(o, "Password for the private key: ", 0);
	if (!pw)
		goto out;
	k = dbx_keypair_unlock(&kp, pw, &info, &wrong, err, sizeof(err));
	if (!k) {
		fprintf(stderr, "databox crypto %s: %s: %s\n", cmd, path, err);
		goto out;
	}
	*version = kp.priv_version;
	*rc = EXIT_OK;
	if (strcmp(cmd, "unlock-keypair") == 0)
		printf("unlocked %s key pair (RSA-%u; PBKDF2-HMAC-%s, %u iterations, %zu-byte salt%s%s)\n",
		       dbx_kp_version_name(kp.priv_version), cry_rsa_bits(k),
		       info.prf == CRY_HASH_SHA256 ? "SHA256" : "SHA1", (unsigned)info.iterations,
		       info.saltlen, info.latin1 ? "; password as ISO-8859-1" : "",
		       kp.public_pem ? "; matches the public key" : "");
out:
	secret_free_str(pw);
	json_decref(j);
	json_decref(pj);
	return k;
}

static int cmd_unlock(struct opts *o)
{
	int rc, version;
	if (o->nargs != 1)
		return usage_err("unlock-keypair", "one PRIVATE_KEY_JSON expected");
	struct cry_rsa *k = unlock("unlock-keypair", o, o->args[0], o->pub, &version, &rc);
	cry_rsa_free(k);
	return rc;
}

/* Writes j to --out (mode) or stdout. */
static int emit(const char *cmd, const struct opts *o, json_t *j, unsigned mode)
{
	if (o->out) {
		if (dbx_json_save(o->out, j, mode) < 0) {
			fprintf(stderr, "databox crypto %s: cannot write %s: %s\n", cmd, o->out,
				strerror(errno));
			return EXIT_CANTCREAT;
		}
		return EXIT_OK;
	}
	char *s = dbx_json_dump_new(j);
	if (!s)
		return EXIT_OSERR;
	size_t n = strlen(s);
	int ok = fwrite(s, 1, n, stdout) == n && fputc('\n', stdout) != EOF && fflush(stdout) == 0;
	secret_wipe(s, n);
	free(s);
	return ok ? EXIT_OK : EXIT_IOERR;
}

static int cmd_encrypt_fk(struct opts *o)
{
	struct dbx_keypair kp;
	struct dbx_file_key plain, enc;
	struct cry_rsa *pub = NULL;
	json_t *pj = NULL, *fj = NULL, *out = NULL;
	char err[300];
	int rc;

	if (o->nargs != 1 || !o->pub)
		return usage_err("encrypt-file-key", "--public-key PUB_JSON and one PLAIN_FILE_KEY_JSON expected");
	memset(&plain, 0, sizeof(plain));
	memset(&enc, 0, sizeof(enc));
	if (!(pj = load("encrypt-file-key", o->pub, &rc)) ||
	    !(fj = load("encrypt-file-key", o->args[0], &rc)))
		goto out;
	rc = EXIT_DATAERR;
	if (dbx_keypair_from_json(pj, &kp, err, sizeof(err)) < 0 ||
	    !(pub = dbx_keypair_public(&kp, err, sizeof(err)))) {
		fprintf(stderr, "databox crypto encrypt-file-key: %s: %s\n", o->pub, err);
		goto out;
	}
	if (dbx_file_key_from_json(fj, 0, &plain, err, sizeof(err)) < 0 ||
	    dbx_file_key_wrap(&plain, pub, kp.pub_version, &enc, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox crypto encrypt-file-key: %s: %s\n", o->args[0], err);
		goto out;
	}
	out = dbx_file_key_to_json(&enc);
	rc = out ? emit("encrypt-file-key", o, out, 0644) : EXIT_OSERR;
out:
	dbx_file_key_wipe(&plain);
	cry_rsa_free(pub);
	json_decref(pj);
	json_decref(fj);
	json_decref(out);
	return rc;
}

static int cmd_decrypt_fk(struct opts *o)
{
	struct dbx_file_key plain, enc;
	struct cry_rsa *k = NULL;
	json_t *fj = NULL, *out = NULL;
	char err[300];
	int rc, version = 0;

	if (o->nargs != 1 || !o->priv)
		return usage_err("decrypt-file-key", "--private-key PRIV_JSON and one ENC_FILE_KEY_JSON expected");
	memset(&plain, 0, sizeof(plain));
	if (!(fj = load("decrypt-file-key", o->args[0], &rc)))
		goto out;
	rc = EXIT_DATAERR;
	if (dbx_file_key_from_json(fj, 1, &enc, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox crypto decrypt-file-key: %s: %s\n", o->args[0], err);
		goto out;
	}
	k = unlock("decrypt-file-key", o, o->priv, o->pub, &version, &rc);
	if (!k)
		goto out;
	rc = EXIT_DATAERR;
	if (dbx_file_key_unwrap(&enc, k, version, &plain, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox crypto decrypt-file-key: %s: %s\n", o->args[0], err);
		goto out;
	}
	out = dbx_file_key_to_json(&plain);
	rc = out ? emit("decrypt-file-key", o, out, 0600) : EXIT_OSERR;
out:
	dbx_file_key_wipe(&plain);
	cry_rsa_free(k);
	json_decref(fj);
	json_decref(out);
	return rc;
}

static int open_in(const char *cmd, const char *path, uint64_t *size)
{
	struct stat st;
	int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "databox crypto %s: %s: %s\n", cmd, path, strerror(errno));
		return -1;
	}
	*size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	return fd;
}

static unsigned file_mode(void)
{
	mode_t m = umask(0);
	umask(m);
	return 0666u & ~(unsigned)m;
}

/* Opens IN (args[0]) and OUT (args[1], under a temporary name); EXIT_OK or the exit
 * code after a message. */
static int open_in_out(const char *cmd, const struct opts *o, int *in, uint64_t *size, struct dbx_outfile *of)
{
	if ((*in = open_in(cmd, o->args[0], size)) < 0)
		return EXIT_NOINPUT;
	if (dbx_outfile_open(of, o->args[1], file_mode()) < 0) {
		fprintf(stderr, "databox crypto %s: %s: %s\n", cmd, o->args[1], strerror(errno));
		return EXIT_CANTCREAT;
	}
	return EXIT_OK;
}

/* Puts OUT into place; EXIT_OK or EXIT_IOERR after a message. */
static int commit_out(const char *cmd, const struct opts *o, struct dbx_outfile *of)
{
	if (dbx_outfile_commit(of) < 0) {
		fprintf(stderr, "databox crypto %s: %s: %s\n", cmd, o->args[1], strerror(errno));
		return EXIT_IOERR;
	}
	return EXIT_OK;
}

static int cmd_encrypt_file(struct opts *o)
{
	struct dbx_file_key fk;
	struct dbx_outfile of = { .fd = -1 };
	json_t *kj = NULL;
	char err[300];
	uint64_t size;
	int in = -1, rc = EXIT_DATAERR;

	if (o->nargs != 2 || !o->fk_out)
		return usage_err("encrypt-file", "IN OUT and --file-key-out PLAIN_FILE_KEY_JSON expected");
	if (dbx_file_key_new(&fk) < 0)
		return EXIT_SOFTWARE;
	if ((rc = open_in_out("encrypt-file", o, &in, &size, &of)) != EXIT_OK)
		goto out;
	if (dbx_gcm_encrypt_fd(&fk, in, of.fd, size, NULL, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox crypto encrypt-file: %s\n", err);
		rc = EXIT_IOERR;
		goto out;
	}
	/* The key first: ciphertext without its key would be lost data. */
	kj = dbx_file_key_to_json(&fk);
	if (!kj || dbx_json_save(o->fk_out, kj, 0600) < 0) {
		fprintf(stderr, "databox crypto encrypt-file: cannot write %s: %s\n", o->fk_out,
			strerror(errno));
		rc = EXIT_CANTCREAT;
		goto out;
	}
	rc = commit_out("encrypt-file", o, &of);
out:
	dbx_outfile_abort(&of);
	if (in >= 0)
		close(in);
	json_decref(kj);
	dbx_file_key_wipe(&fk);
	return rc;
}

static int cmd_decrypt_file(struct opts *o)
{
	struct dbx_file_key fk;
	struct dbx_outfile of = { .fd = -1 };
	json_t *kj = NULL;
	char err[300];
	uint64_t size;
	int in = -1, rc, bad_tag = 0;

	if (o->nargs != 2 || !o->fk)
		return usage_err("decrypt-file", "--file-key PLAIN_FILE_KEY_JSON, IN and OUT expected");
	memset(&fk, 0, sizeof(fk));
	if (!(kj = load("decrypt-file", o->fk, &rc)))
		goto out;
	rc = EXIT_DATAERR;
	if (dbx_file_key_from_json(kj, 0, &fk, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox crypto decrypt-file: %s: %s\n", o->fk, err);
		goto out;
	}
	if ((rc = open_in_out("decrypt-file", o, &in, &size, &of)) != EXIT_OK)
		goto out;
	if (dbx_gcm_decrypt_fd(&fk, in, of.fd, size, NULL, NULL, &bad_tag, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox crypto decrypt-file: %s%s\n", err,
			bad_tag ? "; no output written" : "");
		rc = bad_tag || !fk.has_tag ? EXIT_DATAERR : EXIT_IOERR;
		goto out;
	}
	rc = commit_out("decrypt-file", o, &of);
out:
	dbx_outfile_abort(&of);
	if (in >= 0)
		close(in);
	json_decref(kj);
	dbx_file_key_wipe(&fk);
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(struct opts *o);
} cmds[] = {
	{ "keygen", cmd_keygen },
	{ "unlock-keypair", cmd_unlock },
	{ "encrypt-file-key", cmd_encrypt_fk },
	{ "decrypt-file-key", cmd_decrypt_fk },
	{ "encrypt-file", cmd_encrypt_file },
	{ "decrypt-file", cmd_decrypt_file },
};

int dbx_crypto_main(int argc, char **argv)
{
	struct opts o;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(crypto_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (parse(argc - 1, argv + 1, &o) < 0)
			return usage_err(cmds[i].name, "bad option");
		if (o.help) {
			fputs(crypto_usage, stdout);
			return EXIT_OK;
		}
		return cmds[i].fn(&o);
	}
	fprintf(stderr, "databox crypto: unknown command \"%s\"\n%s", argv[1], crypto_usage);
	return EXIT_USAGE;
}
