/*
 * A tar in memory, for the fuzz harnesses that wrap their input in a
 * valid archive (fuzz_json.c, fuzz_squash.c): ustar members, mode 0644,
 * owner 0, time 0.
 */
#ifndef DECANT_FUZZ_TB_H
#define DECANT_FUZZ_TB_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct tb {
	unsigned char *p;
	size_t len, cap;
};

static int tb_add(struct tb *t, const void *p, size_t n)
{
	if (t->len + n > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		unsigned char *q;

		while (cap < t->len + n)
			cap *= 2;
		if (!(q = realloc(t->p, cap)))
			return -1;
		t->p = q;
		t->cap = cap;
	}
	if (n)
		memcpy(t->p + t->len, p, n);
	t->len += n;
	return 0;
}

static void octal(unsigned char *p, size_t n, uint64_t v)
{
	p[--n] = '\0';
	while (n--) {
		p[n] = (unsigned char)('0' + (v & 7));
		v >>= 3;
	}
}

static int tb_file(struct tb *t, const char *name, const void *p, size_t n)
{
	static const unsigned char zero[512];
	unsigned char h[512];
	unsigned sum = 0;
	int i;

	memset(h, 0, sizeof(h));
	memcpy(h, name, strnlen(name, 100));
	octal(h + 100, 8, 0644);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, n);
	octal(h + 136, 12, 0);
	h[156] = '0';
	memcpy(h + 257, "ustar\0" "00", 8);
	memset(h + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += h[i];
	octal(h + 148, 7, sum);
	if (tb_add(t, h, 512) < 0 || tb_add(t, p, n) < 0)
		return -1;
	return n % 512 ? tb_add(t, zero, 512 - n % 512) : 0;
}

#endif
