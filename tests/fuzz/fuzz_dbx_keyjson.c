/* libFuzzer target: DRACOON key and file-key JSON containers as databox reads them
 * (applets/databox/dbx_json.c): the lenient JSON parse, key pair shapes, file keys in
 * both forms, the PEM/PBES2 parameters of a private key and the public key PEM. No
 * PBKDF2 runs here (its iteration count comes from the input). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "applets/databox/dbx_keys.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[300];
	struct dbx_keypair kp;
	struct dbx_file_key fk;
	struct dbx_unlock_info info;
	static int inited;

	if (!inited) {
		cry_init();
		inited = 1;
	}
	json_t *j = dbx_json_parse((const char *)data, size, err, sizeof(err));
	if (!j)
		return 0;
	if (dbx_keypair_from_json(j, &kp, err, sizeof(err)) == 0) {
		if (kp.private_pem)
			dbx_private_key_info(kp.private_pem, &info);
		if (kp.public_pem)
			cry_rsa_free(dbx_keypair_public(&kp, err, sizeof(err)));
	}
	for (int enc = 0; enc < 2; enc++) {
		if (dbx_file_key_from_json(j, enc, &fk, err, sizeof(err)) == 0) {
			json_t *o = dbx_file_key_to_json(&fk);
			char *s = o ? dbx_json_dump_new(o) : NULL;
			free(s);
			json_decref(o);
		}
	}
	json_decref(j);
	return 0;
}
