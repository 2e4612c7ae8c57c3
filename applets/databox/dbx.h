/* dbx.h - databox's sub-command entry points and shared constants. */
#ifndef DBX_H
#define DBX_H

#define DBX_PASSWORD_ENV "DATABOX_PASSWORD"

/* "databox crypto ..." (argv[0] is "crypto"); returns an exit code. */
int dbx_crypto_main(int argc, char **argv);
#endif
