/* exitcode.h - the one table of exit codes (BSD sysexits, plus the shell's 126 and 127). */
#ifndef CORE_EXITCODE_H
#define CORE_EXITCODE_H

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAIL = 1,          /* generic failure a caller can test for */
	EXIT_USAGE = 64,        /* wrong options or arguments */
	EXIT_DATAERR = 65,      /* bad input data, wrong password, bad signature */
	EXIT_NOINPUT = 66,      /* an input file does not exist or is unreadable */
	EXIT_UNAVAILABLE = 69,  /* service unavailable, host unreachable, not implemented */
	EXIT_SOFTWARE = 70,     /* internal error */
	EXIT_OSERR = 71,        /* out of memory, fork failed */
	EXIT_CANTCREAT = 73,    /* cannot create an output file */
	EXIT_IOERR = 74,        /* I/O error */
	EXIT_TEMPFAIL = 75,     /* try again later */
	EXIT_PROTOCOL = 76,     /* the peer broke the protocol */
	EXIT_NOPERM = 77,       /* permission denied, not approved */
	EXIT_CONFIG = 78,       /* bad configuration */
	EXIT_CANNOT_EXEC = 126, /* a child could not be set up or its program not run (the shell's 126) */
	EXIT_NOAPPLET = 127,    /* dispatch: no such applet */
	EXIT_NOTFOUND = 127,    /* a child's program does not exist (the shell's 127) */
};
#endif
