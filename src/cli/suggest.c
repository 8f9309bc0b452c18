/*
 * "Did you mean": the nearest of a list of words by edit distance
 * (insertions, deletions, substitutions and swaps of neighbours).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define MAXW 64

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/* Optimal string alignment distance between A (N bytes) and B. */
static size_t distance(const char *a, size_t n, const char *b)
{
	size_t m = strlen(b), d[MAXW + 1][MAXW + 1], i, j;

	if (n > MAXW || m > MAXW)
		return (size_t)-1;
	for (i = 0; i <= n; i++)
		d[i][0] = i;
	for (j = 0; j <= m; j++)
		d[0][j] = j;
	for (i = 1; i <= n; i++)
		for (j = 1; j <= m; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1,
				       d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	return d[n][m];
}

const char *suggest_n(const char *word, size_t n, const char *const *list)
{
	const char *best = NULL;
	size_t bd = (size_t)-1, i, d;

	for (i = 0; list[i]; i++) {
		d = distance(word, n, list[i]);
		if (d < bd) {
			bd = d;
			best = list[i];
		}
	}
	/* close enough to be a typo, not another word */
	if (!best || !bd || bd > 2 || bd * 3 > strlen(best))
		return NULL;
	return best;
}

const char *suggest(const char *word, const char *const *list)
{
	return suggest_n(word, strlen(word), list);
}
