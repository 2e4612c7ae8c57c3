/* rsa_bg.c - RSA key generation on a background thread (see rsa_bg.h). The process
 * DRBG is shared behind a mutex (rand.c), so the thread needs nothing else; the caller
 * only blocks on that mutex if it wants random bytes while the key is being made. */
#include <pthread.h>
#include <stdlib.h>

#include "crypto/rsa.h"
#include "crypto/rsa_bg.h"

struct cry_rsa_job {
	pthread_t thread;
	int threaded;
	unsigned bits;
	struct cry_rsa *key;
};

static void *generate(void *arg)
{
	struct cry_rsa_job *j = arg;

	j->key = cry_rsa_generate(j->bits);
	return NULL;
}

struct cry_rsa_job *cry_rsa_generate_start(unsigned bits)
{
	struct cry_rsa_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->bits = bits;
	if (pthread_create(&j->thread, NULL, generate, j) == 0)
		j->threaded = 1;
	else
		generate(j);
	return j;
}

struct cry_rsa *cry_rsa_generate_finish(struct cry_rsa_job *j)
{
	struct cry_rsa *k;

	if (!j)
		return NULL;
	if (j->threaded)
		pthread_join(j->thread, NULL);
	k = j->key;
	free(j);
	return k;
}
