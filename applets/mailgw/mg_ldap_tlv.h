/* mg_ldap_tlv.h - BER writing helpers shared by mg_ldap_ber.c and mg_ldap_filter.c.
 * Private to those two files. */
#ifndef MG_LDAP_TLV_H
#define MG_LDAP_TLV_H

#include <stddef.h>
#include <stdint.h>

struct buf_writer;

/* Writes tag and a placeholder length; returns where the length goes. */
size_t mg_ber_open(struct buf_writer *w, uint8_t tag);
/* Sets the length of everything written since mg_ber_open (minimal form). 0 / -1. */
int mg_ber_close(struct buf_writer *w, size_t o);
int mg_ber_put_str(struct buf_writer *w, uint8_t tag, const void *p, size_t n);
#endif
