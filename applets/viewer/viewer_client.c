/* viewer-client - join a remote-support session as the technician
 * Stub until its issue lands: --help works, everything else exits 69. */
#include "applet.h"
#include "core/cli.h"

static int viewer_client_main(int argc, char **argv);

const struct applet viewer_client_applet = {
	"viewer-client", viewer_client_main,
	"--server HOST:PORT SESSION COMMAND [ARGS...]",
	APPLET_CLIENT,
	"join a remote-support session as the technician",
};

static int viewer_client_main(int argc, char **argv)
{
	return cli_not_implemented(&viewer_client_applet, argc, argv);
}
