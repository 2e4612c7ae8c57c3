/* Unit tests for the databox client's choice of upload chunk size
 * (applets/databox/dbx_client_chunks.c): the server's maxChunkSize is obeyed when it is
 * less than the client's 8 MiB, a server naming none gets 1 MiB, and a server naming
 * less than databox serve's own floor (4 KiB) does not get a request per byte. */
#include "unit.h"
#include "applets/databox/dbx_client.h"

static void chunk_size_follows_the_server(void)
{
	CHECK_EQ(dbx_chunk_size(16LL << 20), (size_t)8 << 20);
	CHECK_EQ(dbx_chunk_size(8LL << 20), (size_t)8 << 20);
	CHECK_EQ(dbx_chunk_size(1000000), (size_t)1000000);
	CHECK_EQ(dbx_chunk_size(700000), (size_t)700000);
	CHECK_EQ(dbx_chunk_size(4096), (size_t)4096);
}

static void chunk_size_without_or_with_a_silly_limit(void)
{
	CHECK_EQ(dbx_chunk_size(0), (size_t)1 << 20);
	CHECK_EQ(dbx_chunk_size(-5), (size_t)1 << 20);
	CHECK_EQ(dbx_chunk_size(1), (size_t)4096);
	CHECK_EQ(dbx_chunk_size(4095), (size_t)4096);
}

UNIT_SUITE(dbx_client,
	   UNIT_TEST(chunk_size_follows_the_server),
	   UNIT_TEST(chunk_size_without_or_with_a_silly_limit));
