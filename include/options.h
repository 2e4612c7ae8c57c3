/* options.h - compile-time feature switches. Every macro is 0 or 1 and is tested with
 * #if, never #ifdef, so that a typo is a -Wundef warning rather than a silent default.
 * The Makefile sets ENABLE_<APPLET> from APPLETS=...; the defaults below build all. */
#ifndef SEALBOX_OPTIONS_H
#define SEALBOX_OPTIONS_H

#ifndef ENABLE_TUNNELD
#define ENABLE_TUNNELD 1
#endif
#ifndef ENABLE_VIEWER
#define ENABLE_VIEWER 1 /* viewer-master and viewer-client */
#endif
#ifndef ENABLE_MAILGW
#define ENABLE_MAILGW 1
#endif
#ifndef ENABLE_DATABOX
#define ENABLE_DATABOX 1
#endif
#ifndef ENABLE_HITC
#define ENABLE_HITC 1
#endif

/* 1 when linked with the tuned static wolfSSL from mk/deps.sh (AES-NI...), 0 with
 * WOLFSSL=system or the small portable build of a hitc-only image. */
#ifndef SEALBOX_TUNED_WOLFSSL
#define SEALBOX_TUNED_WOLFSSL 1
#endif

#ifndef SEALBOX_VERSION
#define SEALBOX_VERSION "0.1.0"
#endif
#endif
