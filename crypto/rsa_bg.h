/* rsa_bg.h - RSA key generation on a background thread.
 *
 * A fresh RSA-2048 key costs 30-150 ms (prime search; the spread is wide). A client
 * that needs the key only after a network round trip (viewer-client: TCP/TLS connect,
 * JOIN, JOINED, then HELLO with the public key) starts the generation first and
 * collects the key when it needs it, so the two waits overlap instead of adding up. */
#ifndef CRYPTO_RSA_BG_H
#define CRYPTO_RSA_BG_H

struct cry_rsa;
struct cry_rsa_job;

/* Starts generating a key of bits (2048 or 4096). Never NULL unless out of memory:
 * when no thread can be started the key is generated here, before returning. */
struct cry_rsa_job *cry_rsa_generate_start(unsigned bits);
/* Waits for the key and frees the job. NULL when generation failed. job may be NULL
 * (returns NULL). Every started job must be finished, also on error paths. */
struct cry_rsa *cry_rsa_generate_finish(struct cry_rsa_job *job);
#endif
