/*
 * CI rules, with dive's names and meanings (dive ci, .dive-ci):
 *   lowestEfficiency=F          fail if the efficiency is below F (0-1)
 *   highestWastedBytes=SIZE     fail if more bytes are wasted ("20MB",
 *                               "1.5 GiB", "1000": humanize.ParseBytes)
 *   highestUserWastedPercent=F  fail if wasted / user bytes is above F
 * and secrets=N: fail if more than N secrets were found. A value
 * "disabled", "off", "false" or "" disables a rule.
 */
#include "analyze/analyze.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

const char *const dc__an_rule_names[AN_NRULES] = {
	"lowestEfficiency", "highestWastedBytes", "highestUserWastedPercent",
	"secrets"
};

/* Bytes as go-humanize's ParseBytes reads them: SI and IEC units. */
static int parse_bytes(const char *s, double *out)
{
	static const struct { const char *u; double m; } units[] = {
		{ "", 1 }, { "b", 1 }, { "k", 1e3 }, { "kb", 1e3 },
		{ "m", 1e6 }, { "mb", 1e6 }, { "g", 1e9 }, { "gb", 1e9 },
		{ "t", 1e12 }, { "tb", 1e12 }, { "p", 1e15 }, { "pb", 1e15 },
		{ "ki", 1024.0 }, { "kib", 1024.0 }, { "mi", 1048576.0 },
		{ "mib", 1048576.0 }, { "gi", 1073741824.0 },
		{ "gib", 1073741824.0 }, { "ti", 1099511627776.0 },
		{ "tib", 1099511627776.0 },
	};
	char unit[8];
	char *end;
	double v;
	size_t i, n = 0;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0)
		return -1;
	while (*end == ' ')
		end++;
	for (; *end && n < sizeof(unit) - 1; end++)
		unit[n++] = (char)tolower((unsigned char)*end);
	if (*end)
		return -1;
	unit[n] = '\0';
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(unit, units[i].u)) {
			*out = floor(v * units[i].m);
			return 0;
		}
	}
	return -1;
}

static int disabled(const char *v)
{
	return !*v || !strcasecmp(v, "disabled") || !strcasecmp(v, "off") ||
	       !strcasecmp(v, "false");
}

/* Set rule KEY (KL bytes) to VALUE. */
static int set_rule(struct dc_ctx *ctx, struct dc_an_rules *r,
		    const char *key, size_t kl, const char *value)
{
	char *end;
	double v = 0;
	int i;

	for (i = 0; i < AN_NRULES; i++)
		if (strlen(dc__an_rule_names[i]) == kl &&
		    !strncmp(key, dc__an_rule_names[i], kl))
			break;
	if (i == AN_NRULES)
		return dc_error(ctx, DC_EINVAL, "'%.*s': unknown rule (known: "
				"lowestEfficiency, highestWastedBytes, "
				"highestUserWastedPercent, secrets)", (int)kl, key);
	if (disabled(value)) {
		r->set[i] = 0;
		return 0;
	}
	if (i == AN_RULE_WASTED_BYTES) {
		if (parse_bytes(value, &v) < 0)
			goto bad;
	} else {
		errno = 0;
		v = strtod(value, &end);
		if (end == value || *end || errno || v < 0)
			goto bad;
		if (i != AN_RULE_SECRETS && v > 1)
			return dc_error(ctx, DC_EINVAL, "'%s=%s': outside the "
					"allowed range (0-1)",
					dc__an_rule_names[i], value);
	}
	r->set[i] = 1;
	r->value[i] = v;
	snprintf(r->text[i], sizeof(r->text[i]), "%s", value);
	return 0;
bad:
	return dc_error(ctx, DC_EINVAL, "'%s=%s': not a valid value",
			dc__an_rule_names[i], value);
}

int dc__an_rules_parse(struct dc_ctx *ctx, struct dc_an_rules *r,
		       const char *spec)
{
	char *s = dc__strdup(ctx, spec), *p, *next;
	int err = 0;

	if (!s)
		return DC_ENOMEM;
	for (p = s; p && !err; p = next) {
		char *eq;

		if ((next = strchr(p, ',')))
			*next++ = '\0';
		if (!*p)
			continue;
		if (!(eq = strchr(p, '='))) {
			err = dc_error(ctx, DC_EINVAL, "'%s': not RULE=VALUE", p);
			break;
		}
		err = set_rule(ctx, r, p, (size_t)(eq - p), eq + 1);
	}
	free(s);
	return err;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]))
		*--e = '\0';
	if (e - s >= 2 && (*s == '"' || *s == '\'') && e[-1] == *s) {
		e[-1] = '\0';
		s++;
	}
	return s;
}

int dc__an_rules_file(struct dc_ctx *ctx, struct dc_an_rules *r,
		      const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int in_rules = 0, err = 0, lineno = 0;

	if (!f)
		return dc_error(ctx, DC_EINVAL, "'%s': %s", path, strerror(errno));
	while (!err && fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#'), *p, *colon;
		int indent = line[0] == ' ' || line[0] == '\t';

		lineno++;
		if (hash)
			*hash = '\0';
		p = trim(line);
		if (!*p)
			continue;
		if (!indent) {
			in_rules = !strcmp(p, "rules:");
			continue;
		}
		if (!in_rules)
			continue;
		if (!(colon = strchr(p, ':'))) {
			err = dc_error(ctx, DC_EINVAL, "'%s': line %d: not "
				       "'key: value'", path, lineno);
			break;
		}
		*colon = '\0';
		p = trim(p);
		/* a plugin's rule ("plugin1/rule1" in dive's own .dive-ci):
		 * none is decant's */
		if (strchr(p, '/'))
			continue;
		err = set_rule(ctx, r, p, strlen(p), trim(colon + 1));
		if (err < 0)
			dc_error_prefix(ctx, "'%s': line %d", path, lineno);
	}
	fclose(f);
	return err;
}

int dc__an_rule_eval(const struct dc_an_rules *r, int n,
		     const struct dc_an_image *img, char *msg, size_t len)
{
	switch (n) {
	case AN_RULE_EFFICIENCY:
		if (r->value[n] > img->efficiency) {
			snprintf(msg, len, "image efficiency is too low "
				 "(efficiency=%.2f < threshold=%s)",
				 img->efficiency, r->text[n]);
			return 1;
		}
		break;
	case AN_RULE_WASTED_BYTES:
		if ((double)img->wasted_bytes > r->value[n]) {
			snprintf(msg, len, "too many bytes wasted "
				 "(wasted-bytes=%llu > threshold=%s)",
				 (unsigned long long)img->wasted_bytes, r->text[n]);
			return 1;
		}
		break;
	case AN_RULE_USER_WASTED:
		/* as dive: NaN (no user bytes) never exceeds */
		if (img->user_wasted_percent > r->value[n]) {
			snprintf(msg, len, "too many bytes wasted, relative to "
				 "the user bytes added (%%-user-wasted-bytes=%.2f "
				 "> threshold=%s)", img->user_wasted_percent,
				 r->text[n]);
			return 1;
		}
		break;
	case AN_RULE_SECRETS:
		if ((double)img->nsecrets > r->value[n]) {
			snprintf(msg, len, "secrets found (secrets=%zu > "
				 "threshold=%s)", img->nsecrets, r->text[n]);
			return 1;
		}
		break;
	}
	return 0;
}
