/*
 * Text from an archive (names, platforms, messages that quote them) is
 * printed through esc(): control characters (C0, DEL, C1) and bytes
 * that are not UTF-8 become \xNN, so that an archive cannot move the
 * cursor, erase a line or forge one on the user's terminal.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define ESC_SLOTS 4
#define ESC_MAX 8192	/* four times a context message */

/* the length of a valid UTF-8 sequence at S, else 0 */
static size_t utf8_len(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c = s[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* overlong, surrogates, past U+10FFFF */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return n;
}

size_t esc_to(char *out, size_t cap, const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	while (*s && o + 5 < cap) {
		uint32_t cp;
		size_t n = utf8_len(s, &cp), i;

		if (n && cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0)) {
			if (o + n + 1 > cap)
				break;
			memcpy(out + o, s, n);
			o += n;
			s += n;
			continue;
		}
		if (!n)
			n = 1;
		for (i = 0; i < n && o + 5 < cap; i++)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", s[i]);
		s += n;
	}
	out[o] = '\0';
	return o;
}

const char *esc(const char *s)
{
	static _Thread_local char buf[ESC_SLOTS][ESC_MAX];
	static _Thread_local unsigned slot;
	char *b = buf[slot++ % ESC_SLOTS];

	if (!s)
		return NULL;
	esc_to(b, ESC_MAX, s);
	return b;
}
