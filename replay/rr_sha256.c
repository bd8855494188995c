/*
 * rr_sha256.c - SHA-256 digests for the image table: a recording names
 * every image it carries by its SHA-256 so that `info` can be checked
 * against `sha256sum` of the original files. OpenSSL's libcrypto computes
 * it (with the host's SHA extensions where present).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "rr_int.h"

void rr_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
        /* Only an allocation failure inside libcrypto gets here; an all-zero
         * digest never matches a real image, so the file reads as damaged. */
        memset(out, '0', 64);
        out[64] = 0;
        return;
    }
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}
