/* databox - end-to-end encrypted data rooms (server and client), DRACOON-compatible
 * crypto. This file only dispatches sub-commands (docs/databox.md). */
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "applet.h"
#include "applets/databox/dbx.h"
#include "applets/databox/dbx_client.h"
#include "applets/databox/dbx_server.h"
#include "applets/databox/dbx_web.h"
#include "core/cli.h"
#include "core/exitcode.h"

static int databox_main(int argc, char **argv);

const struct applet databox_applet = {
	"databox", databox_main,
	"crypto ... | serve [-d] [-c FILE] | admin ... | login | keygen | room | ls | upload | download | distribute | share | upload-share | keypair reset | rescue | web-verify",
	APPLET_DAEMON,
	"end-to-end encrypted data rooms (server and client)",
	&dbx_conf_spec,
};

static int databox_main(int argc, char **argv)
{
#ifdef __GLIBC__
	/* a transfer passes its bytes through buffers of 256 KiB to a few MiB (socket reads,
	 * chunks) that glibc would otherwise mmap and unmap, or trim, each time, faulting
	 * their pages in afresh (4,000 brk calls for a 256 MiB download): keep them in the
	 * heap, and up to 16 MiB of freed heap (server and client RSS stay well under
	 * their 64 and 32 MB). musl has no mallopt. */
	mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
#endif
	if (argc < 2)
		return cli_usage_error(&databox_applet, "a command is required");
	if (cli_wants_help(argc, argv)) {
		cli_usage(&databox_applet, stdout);
		return EXIT_OK;
	}
	/* `databox SUB --help`: the subcommand's usage on stdout, exit 0 (crypto has its own) */
	static const struct cli_sub subs[] = {
		{ "serve", "[-d] [-n] [-c FILE] [-p PIDFILE] [-v]" },
		{ "admin", "[-c FILE] user add NAME [--admin] [--password-file FILE]" },
		{ "login", "--server https://HOST:PORT --user NAME [--ca FILE] [--password-file FILE]" },
		{ "keygen", "[--version A|RSA-4096] [--key-password-file FILE]" },
		{ "keypair", "reset [--version A|RSA-4096] [--key-password-file FILE]" },
		{ "room", "create NAME [--encrypted] | room add-member ROOM USER --role read|write|manage" },
		{ "ls", "[ROOM[/PATH]]" },
		{ "upload", "FILE ROOM[/PATH]" },
		{ "download", "ROOM/PATH OUT [--key-password-file FILE]" },
		{ "distribute", "[--key-password-file FILE]" },
		{ "share", "create ROOM/PATH [--expires 7d] [--max-downloads N] [--share-password-file FILE] "
			   "[--version A|RSA-4096] | share get LINK OUT [--share-password-file FILE] [--ca FILE] | "
			   "share ls | share rm ID" },
		{ "upload-share", "create ROOM[/PATH] [--expires 7d] [--max-uploads N] | "
				  "upload-share put LINK FILE [--ca FILE] | upload-share ls | upload-share rm ID" },
		{ "rescue", "set-system | set-room ROOM | distribute [ROOM] [--rescue-password-file F] "
			    "[--key-password-file F]" },
	};
	if (cli_sub_help("databox", subs, sizeof(subs) / sizeof(subs[0]), argc - 1, argv + 1))
		return EXIT_OK;
	if (strcmp(argv[1], "crypto") == 0)
		return dbx_crypto_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return dbx_serve_main(argc - 1, argv + 1);
	/* "databox -n -c FILE" is "databox serve -n -c FILE" (the daemon's usual form) */
	if (argv[1][0] == '-')
		return dbx_serve_main(argc, argv);
	if (strcmp(argv[1], "admin") == 0)
		return dbx_admin_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "upload") == 0)
		return dbx_cmd_upload(argc - 1, argv + 1);
	if (strcmp(argv[1], "download") == 0)
		return dbx_cmd_download(argc - 1, argv + 1);
	if (strcmp(argv[1], "share") == 0)
		return dbx_cmd_share(argc - 1, argv + 1);
	if (strcmp(argv[1], "web-verify") == 0)
		return dbx_web_verify_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "upload-share") == 0)
		return dbx_cmd_upload_share(argc - 1, argv + 1);
	static const char *const client_cmds[] = { "login", "keygen", "room", "ls", "distribute", "keypair", "rescue" };
	for (size_t i = 0; i < sizeof(client_cmds) / sizeof(client_cmds[0]); i++)
		if (strcmp(argv[1], client_cmds[i]) == 0)
			return dbx_client_main(argc - 1, argv + 1);
	return cli_usage_error(&databox_applet, "unknown command \"%s\"", argv[1]);
}
