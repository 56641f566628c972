// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replays a fuzzer corpus through its target as an ordinary test: every
 * file given (or every file in a directory given) is one TAP case.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static void replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (!f) {
		printf("not ok %d - %s: cannot open\n", ++n, path);
		return;
	}
	do {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb)
				abort();
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	printf("ok %d - %s\n", ++n, path);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent **ents;
		int k;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			k = scandir(argv[i], &ents, NULL, alphasort);
			for (int j = 0; j < k; j++) {
				char p[4096];

				if (ents[j]->d_name[0] != '.') {
					snprintf(p, sizeof(p), "%s/%s", argv[i],
						 ents[j]->d_name);
					replay_file(p);
				}
				free(ents[j]);
			}
			if (k >= 0)
				free(ents);
		} else {
			replay_file(argv[i]);
		}
	}
	printf("1..%d\n", n);
	return 0;
}
