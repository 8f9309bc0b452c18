/*
 * moby's container.Config: its fields, and the bytes json.Marshal
 * makes of one.
 */
#include "moby/moby.h"

#include "banned.h"

/* moby@v20.10.24 api/types/container/config.go HealthConfig */
static void gw_health(struct dc_gow *w, json_t *h)
{
	static const char *const durs[] = { "Interval", "Timeout",
					    "StartPeriod" };
	json_t *v;
	size_t i;
	int first = 1;

	dc__gow_add(w, "{", 1);
	if ((v = dc__go_get(h, "Test", DC_GO_STRLIST)) && json_array_size(v)) {
		dc__gow_key(w, &first, "Test");
		dc__gow_strlist(w, v);
	}
	for (i = 0; i < 3; i++) {
		if ((v = dc__go_get(h, durs[i], DC_GO_INT)) &&
		    json_integer_value(v)) {
			dc__gow_key(w, &first, durs[i]);
			dc__gow_int(w, json_integer_value(v));
		}
	}
	if ((v = dc__go_get(h, "Retries", DC_GO_INT)) && json_integer_value(v)) {
		dc__gow_key(w, &first, "Retries");
		dc__gow_int(w, json_integer_value(v));
	}
	dc__gow_add(w, "}", 1);
}

/* moby@v20.10.24 api/types/container/config.go Config (the same from
 * 1.13 to 24), in declaration order */
const struct dc_moby_field dc__moby_config_fields[] = {
	{ "Hostname", DC_GO_STR, 0 },
	{ "Domainname", DC_GO_STR, 0 },
	{ "User", DC_GO_STR, 0 },
	{ "AttachStdin", DC_GO_BOOL, 0 },
	{ "AttachStdout", DC_GO_BOOL, 0 },
	{ "AttachStderr", DC_GO_BOOL, 0 },
	{ "ExposedPorts", DC_GO_SET, 1 },
	{ "Tty", DC_GO_BOOL, 0 },
	{ "OpenStdin", DC_GO_BOOL, 0 },
	{ "StdinOnce", DC_GO_BOOL, 0 },
	{ "Env", DC_GO_STRLIST, 0 },
	{ "Cmd", DC_GO_STRSLICE, 0 },
	{ "Healthcheck", DC_GO_HEALTH, 1 },
	{ "ArgsEscaped", DC_GO_BOOL, 1 },
	{ "Image", DC_GO_STR, 0 },
	{ "Volumes", DC_GO_SET, 0 },
	{ "WorkingDir", DC_GO_STR, 0 },
	{ "Entrypoint", DC_GO_STRSLICE, 0 },
	{ "NetworkDisabled", DC_GO_BOOL, 1 },
	{ "MacAddress", DC_GO_STR, 1 },
	{ "OnBuild", DC_GO_STRLIST, 0 },
	{ "Labels", DC_GO_STRMAP, 0 },
	{ "StopSignal", DC_GO_STR, 1 },
	{ "StopTimeout", DC_GO_INTPTR, 1 },
	{ "Shell", DC_GO_STRSLICE, 1 },
};
const size_t dc__moby_nconfig_fields =
	sizeof(dc__moby_config_fields) / sizeof(dc__moby_config_fields[0]);

/* Is V (as dc__go_get returned it) the zero value Go's omitempty skips? */
static int is_empty(enum dc_gotype t, json_t *v)
{
	if (!v)
		return 1;
	switch (t) {
	case DC_GO_STR:
		return !json_string_length(v);
	case DC_GO_BOOL:
		return !json_is_true(v);
	case DC_GO_INT:
		return !json_integer_value(v);
	case DC_GO_STRLIST:
	case DC_GO_STRSLICE:
	case DC_GO_SET:
	case DC_GO_STRMAP:
		return !dc__go_list_len(v);
	default:
		return 0;
	}
}

void dc__gow_config(struct dc_gow *w, json_t *c)
{
	size_t i;
	int first = 1;

	dc__gow_add(w, "{", 1);
	for (i = 0; i < dc__moby_nconfig_fields; i++) {
		const struct dc_moby_field *f = &dc__moby_config_fields[i];
		json_t *v = dc__go_get(c, f->name, f->t);

		if (f->omitempty && is_empty(f->t, v))
			continue;
		dc__gow_key(w, &first, f->name);
		switch (f->t) {
		case DC_GO_STR:
			dc__gow_str(w, v ? json_string_value(v) : "");
			break;
		case DC_GO_BOOL:
			dc__gow_raw(w, json_is_true(v) ? "true" : "false");
			break;
		case DC_GO_SET:
		case DC_GO_STRMAP:
			if (v)
				dc__gow_map(w, v, f->t == DC_GO_STRMAP);
			else
				dc__gow_raw(w, "null");
			break;
		case DC_GO_STRLIST:
		case DC_GO_STRSLICE:
			dc__gow_strlist(w, v);
			break;
		case DC_GO_HEALTH:
			gw_health(w, v);
			break;
		case DC_GO_INTPTR:
			dc__gow_int(w, json_integer_value(v));
			break;
		default:
			DC_BUG("config field %s", f->name);
		}
	}
	dc__gow_add(w, "}", 1);
}
