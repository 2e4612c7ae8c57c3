/* viewer-master - open a remote-support session on this appliance
 * Stub until its issue lands: --help works, everything else exits 69. */
#include "applet.h"
#include "core/cli.h"

static int viewer_master_main(int argc, char **argv);

const struct applet viewer_master_applet = {
	"viewer-master", viewer_master_main,
	"--server HOST:PORT [--share DIR] [--allow-exec] [--allow-shell] [--expose NAME=HOST:PORT]... [--present CMD] [--auto-approve] [--no-lan]",
	APPLET_CLIENT,
	"open a remote-support session on this appliance",
};

static int viewer_master_main(int argc, char **argv)
{
	return cli_not_implemented(&viewer_master_applet, argc, argv);
}
