// SPDX-License-Identifier: GPL-2.0-only
/*
 * Content identity (`content:` match entries): the digest of a file and
 * the signature a (size, digest) pair names. One place for the forcing
 * thread (a held exec) and the inventory (a binary found on disk).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "signatures/signatures.h"

int aw_content_sha256_fd(int fd, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t blen = 1 << 20;
	uint8_t *buf = malloc(blen);
	unsigned len = 32;
	off_t off = 0;
	ssize_t n;
	int r = 0;

	if (!c || !buf) {
		r = -ENOMEM;
		goto out;
	}
	if (!EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		r = -EIO;
		goto out;
	}
	while ((n = pread(fd, buf, blen, off)) > 0) {
		EVP_DigestUpdate(c, buf, (size_t)n);
		off += n;
	}
	if (n < 0)
		r = -errno;
	else if (!EVP_DigestFinal_ex(c, out, &len))
		r = -EIO;
out:
	free(buf);
	EVP_MD_CTX_free(c);
	return r;
}

int aw_sigdb_content_size_named(const struct aw_sigdb *db, uint64_t size)
{
	for (size_t i = 0; i < db->n_sigs; i++)
		for (size_t j = 0; j < db->sigs[i].n_contents; j++)
			if (db->sigs[i].contents[j].size == size)
				return 1;
	return 0;
}

const struct aw_signature *aw_sigdb_content_find(const struct aw_sigdb *db,
						 uint64_t size,
						 const uint8_t sha256[32])
{
	for (size_t i = 0; i < db->n_sigs; i++)
		for (size_t j = 0; j < db->sigs[i].n_contents; j++)
			if (db->sigs[i].contents[j].size == size &&
			    !memcmp(db->sigs[i].contents[j].sha256, sha256, 32))
				return &db->sigs[i];
	return NULL;
}
