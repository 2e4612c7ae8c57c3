/* rand.c - random bytes from wolfSSL's Hash-DRBG.
 *
 * One WC_RNG for the whole process, created on first use. Why a static object here and
 * not in each applet's context: every caller in crypto/ (RSA blinding, OAEP, keygen, PBES2
 * salts, cry_random) needs the same DRBG and none of their signatures carries a context;
 * seeding a fresh DRBG per call would read /dev/urandom each time. The mutex makes it safe
 * for the (rare) threaded caller; the event-loop applets never contend on it.
 * A forked child must not replay its parent's DRBG stream (daemons fork after start-up,
 * and a test may fork too), so the owner's pid is recorded and a new pid reseeds. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/internal.h"

static pthread_mutex_t rng_mu = PTHREAD_MUTEX_INITIALIZER;
static WC_RNG rng_state;
static int rng_ready;
static pid_t rng_pid;

WC_RNG *cry_rng_lock(void)
{
	pid_t pid = getpid();

	pthread_mutex_lock(&rng_mu);
	if (rng_ready && rng_pid != pid) {
		wc_FreeRng(&rng_state);
		rng_ready = 0;
	}
	if (!rng_ready) {
		if (wc_InitRng(&rng_state) != 0) {
			pthread_mutex_unlock(&rng_mu);
			return NULL;
		}
		rng_ready = 1;
		rng_pid = pid;
	}
	return &rng_state;
}

void cry_rng_unlock(void)
{
	pthread_mutex_unlock(&rng_mu);
}

void cry_rng_cleanup(void)
{
	pthread_mutex_lock(&rng_mu);
	if (rng_ready) {
		wc_FreeRng(&rng_state);
		rng_ready = 0;
	}
	pthread_mutex_unlock(&rng_mu);
}

int cry_random(void *out, size_t len)
{
	uint8_t *p = out;
	int rc = 0;
	WC_RNG *rng = cry_rng_lock();

	if (!rng)
		return -1;
	/* wc_RNG_GenerateBlock caps one request (RNG_MAX_BLOCK_LEN), so feed it in pieces. */
	while (len > 0) {
		word32 n = len > 1024 ? 1024 : (word32)len;
		if (wc_RNG_GenerateBlock(rng, p, n) != 0) {
			rc = -1;
			break;
		}
		p += n;
		len -= n;
	}
	cry_rng_unlock();
	return rc;
}

int cry_random_range(uint32_t lo, uint32_t hi, uint32_t *out)
{
	if (lo > hi || !out)
		return -1;
	uint64_t span = (uint64_t)hi - lo + 1;
	if (span == (uint64_t)1 << 32) {
		uint32_t v;
		if (cry_random(&v, sizeof(v)) < 0)
			return -1;
		*out = v;
		return 0;
	}
	/* Rejection sampling: accept only values below the largest multiple of span. */
	uint32_t limit = (uint32_t)((((uint64_t)1 << 32) / span) * span - 1);
	for (;;) {
		uint32_t v;
		if (cry_random(&v, sizeof(v)) < 0)
			return -1;
		if (v <= limit) {
			*out = lo + (uint32_t)(v % span);
			return 0;
		}
	}
}
