/*
 * Docker's own quirks, byte for byte: Go's encoding/json as moby's
 * daemon marshals (gojson.c), moby's container.Config (config.c), and
 * v1 image IDs, chain IDs and v1 image JSON (v1.c). Readers, writers
 * and transforms mostly need the v1 and container.Config parts; the
 * Go JSON emulation below them is what those are built from (and what
 * a reader uses to decode a field the way Go would, dc__go_get).
 * Nothing here calls above src/util/.
 */
#ifndef DC_MOBY_H
#define DC_MOBY_H

#ifndef DC_BUILDING
#error "moby/moby.h is private to decant: build with -DDC_BUILDING"
#endif

#include "util/util.h"

#include <jansson.h>

/* ------------------------------------------------------------------ */
/* v1 images (v1.c) */

/*
 * The chain ID of a layer (moby layer.CreateChainID): its DIFF_ID at
 * the bottom (PARENT NULL), else the digest of "PARENT DIFF_ID", where
 * PARENT is the chain ID of the layer below. Both are digests. OUT may
 * be PARENT.
 */
void dc__v1_chain_id(char out[DC_DIGEST_MAX], const char *parent,
		     const char *diff_id);

/*
 * moby@v24.0.9 image/v1/imagev1.go CreateID: the v1 ID (64 hex, into
 * OUT) `docker save` gives the layer with chain ID CHAIN_ID whose
 * parent layer has the v1 ID PARENT (hex; NULL at the bottom). CFG is
 * the image config for the top layer, NULL for the others.
 */
int dc__v1_create_id(struct dc_ctx *ctx, char out[65], json_t *cfg,
		     const char *chain_id, const char *parent);

/*
 * The <v1id>/json save.go writes: json.Marshal(V1Image) with ID and
 * PARENT (hex; PARENT may be NULL) set, and for the layers below the
 * top the image's OS (v1Img.OS = img.OS): pass what Go decodes from its
 * config, dc__go_get_str(config, "os"), as OS (NULL for the top). CFG
 * is as for dc__v1_create_id. Appends to OUT.
 */
int dc__v1_layer_json(struct dc_ctx *ctx, struct dc_buf *out, json_t *cfg,
		      const char *id, const char *parent, const char *os);

/* One layer of a pre-1.10 chain, as dc__v1_make_config takes it. */
struct dc_v1_layer {
	json_t *json;		/* its <id>/json, parsed (borrowed) */
	const char *diff_id;
	/* its dc__v1_history (borrowed), or NULL: made from JSON */
	const struct dc_buf *history;
};

/*
 * The history entry HistoryFromConfig makes of the v1 layer JSON J, as
 * json.Marshal writes it into an image config. Appends to OUT. A reader
 * whose images share layers makes each layer's entry once.
 */
int dc__v1_history(struct dc_ctx *ctx, struct dc_buf *out, json_t *j);

/*
 * The image config Docker 20.10 makes when it loads a pre-1.10 image
 * (moby@v20.10.24 image/v1/imagev1.go MakeConfigFromV1Config and
 * HistoryFromConfig): the top layer's JSON (TOP_RAW, its bytes; re-
 * marshalled through V1Image when its docker_version is below 1.8.3)
 * minus the v1-only keys, plus rootfs and history from LAYERS (N of
 * them, bottom first, the top last). TOP_LABEL names the top JSON in
 * errors. Appends to OUT.
 */
int dc__v1_make_config(struct dc_ctx *ctx, struct dc_buf *out,
		       const struct dc_v1_layer *layers, size_t n,
		       const struct dc_buf *top_raw, const char *top_label);

/* ------------------------------------------------------------------ */
/* Go encoding/json (gojson.c) */

/* An output buffer whose first error sticks; check ->err at the end. */
struct dc_gow {
	struct dc_ctx *ctx;
	struct dc_buf *b;
	int err;
};

void dc__gow_add(struct dc_gow *w, const void *p, size_t n);
void dc__gow_raw(struct dc_gow *w, const char *s);
/*
 * A Go string with HTML escaping (encode.go encodeState.string): '"',
 * '\\', '<', '>', '&' and control bytes escaped, \n \r \t short (Go
 * before 1.22 has no \b \f), U+2028 and U+2029 as \u2028 \u2029.
 * S is valid UTF-8 (as jansson gives it). NULL is "".
 */
void dc__gow_strn(struct dc_gow *w, const char *s, size_t n);
void dc__gow_str(struct dc_gow *w, const char *s);
void dc__gow_int(struct dc_gow *w, long long v);
/*
 * Go's compact() as json.Marshal applies it to a json.RawMessage:
 * whitespace outside strings goes, '<' '>' '&' and U+2028/U+2029
 * become \u escapes, everything else is kept byte for byte.
 */
void dc__gow_compact(struct dc_gow *w, const char *s, size_t n);
/* A time.Time decoded from V (a JSON string, or NULL), re-encoded. */
void dc__gow_time(struct dc_gow *w, json_t *v);
/* A Go map: keys sorted; VAL_STR: values are strings, else struct{}. */
void dc__gow_map(struct dc_gow *w, json_t *obj, int val_str);
/* []string or StrSlice: null, or an array (a bare string is one). */
void dc__gow_strlist(struct dc_gow *w, json_t *v);
/* A struct field's key: a comma before every one but the first. */
void dc__gow_key(struct dc_gow *w, int *first, const char *key);

/*
 * A time.Time through JSON: parsed as RFC 3339 (any fraction, ',' or
 * '.', truncated to ns) and written as RFC3339Nano (fraction without
 * trailing zeros, "Z" for a zero offset, the offset kept otherwise).
 * Unparsable is Go's zero time. OUT needs 40 bytes.
 */
void dc__go_time(const char *s, char *out, size_t outsz);

/*
 * A Go map[string]*json.RawMessage: keys with their encoded values.
 * Dumped sorted (json.Marshal of a map) or in insertion order (a
 * struct's field order). Initialize as { ctx, NULL, 0 }.
 */
struct dc_gomap_ent {
	char *key;
	struct dc_buf val;
};

struct dc_gomap {
	struct dc_ctx *ctx;
	struct dc_gomap_ent *e;
	size_t n;
};

void dc__gomap_release(struct dc_gomap *m);
/* Set KEY to the encoded value V (replacing, as a map does). */
int dc__gomap_put(struct dc_gomap *m, const char *key, const char *v,
		  size_t n);
/* Put TMP's bytes under KEY, unless ERR (an encoder's sticky error,
 * returned then). */
int dc__gomap_put_buf(struct dc_gomap *m, const char *key,
		      struct dc_buf *tmp, int err);
void dc__gomap_del(struct dc_gomap *m, const char *key);
/* Append M as a JSON object to OUT; SORTED: keys sorted first. */
int dc__gomap_dump(struct dc_gomap *m, struct dc_buf *out, int sorted);
/*
 * Split the object text P (already validated by jansson) into M, as
 * json.Unmarshal into map[string]json.RawMessage: keys decoded, values
 * compacted Go-style, the last duplicate winning.
 */
int dc__gomap_raw_members(struct dc_gomap *m, const char *p, size_t n);

/*
 * Go's json.Unmarshal into typed structs matches object keys to struct
 * fields case-insensitively and the last key wins; null leaves a value
 * field alone and sets a pointer, slice or map field to nil; a value of
 * the wrong type is an error that leaves the field alone.
 */
enum dc_gotype {
	DC_GO_STR, DC_GO_BOOL, DC_GO_INT, DC_GO_TIME,
	DC_GO_STRLIST,	/* []string */
	DC_GO_STRSLICE,	/* strslice.StrSlice: a string or []string */
	DC_GO_SET,	/* map[string]struct{} */
	DC_GO_STRMAP,	/* map[string]string */
	DC_GO_HEALTH,	/* *container.HealthConfig */
	DC_GO_INTPTR,	/* *int */
	DC_GO_CONFIG,	/* container.Config */
	DC_GO_CONFIGPTR	/* *container.Config */
};

/* The value Go would decode into field NAME of type T of OBJ, or NULL
 * (the zero value). Borrowed from OBJ. */
json_t *dc__go_get(json_t *obj, const char *name, enum dc_gotype t);
/* The same for a string field: "" for the zero value. */
const char *dc__go_get_str(json_t *obj, const char *name);
/* Members of a string list, string set or map (a bare string is 1). */
size_t dc__go_list_len(json_t *v);

/* ------------------------------------------------------------------ */
/* moby's container.Config (config.c) */

/* A field of container.Config in moby@v20.10.24 (the same from 1.13
 * to 24): its name, Go type and `json:",omitempty"` tag. */
struct dc_moby_field {
	const char *name;
	enum dc_gotype t;
	int omitempty;
};

/* The fields in declaration order (the order encoding/json writes). */
extern const struct dc_moby_field dc__moby_config_fields[];
extern const size_t dc__moby_nconfig_fields;

/* json.Marshal of the container.Config that C (NULL: none) decodes to. */
void dc__gow_config(struct dc_gow *w, json_t *c);

#endif
