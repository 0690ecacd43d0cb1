/*
 * yamlw: the YAML that pins readers parse (data.txt, _pins.yaml), written
 * through libyaml's emitter (this module owns libyaml). R's yaml package
 * reads YAML 1.1, where y, no, on, 1e3, 0x1f ... are booleans or numbers,
 * so a string is written plain only when it cannot be read as anything but
 * a string, and single-quoted otherwise (libyaml picks double quotes when
 * the text needs escapes). Errors are sticky: check once in
 * yamlw_finish(). Not thread-safe: one writer per thread.
 */
#ifndef YAMLW_H
#define YAMLW_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

struct yamlw;

/* A new writer with the stream and document already started. */
struct yamlw *yamlw_new(void);
void yamlw_free(struct yamlw *w);   /* NULL-safe */

/* Block mappings and sequences; keys are written with yamlw_str. */
void yamlw_map_begin(struct yamlw *w);
void yamlw_map_end(struct yamlw *w);
void yamlw_seq_begin(struct yamlw *w);
void yamlw_seq_end(struct yamlw *w);

/* A string (NULL writes the null `~`), an integer, or a key and value. */
void yamlw_str(struct yamlw *w, const char *s);
void yamlw_int(struct yamlw *w, int64_t v);
void yamlw_kv_str(struct yamlw *w, const char *key, const char *value);
void yamlw_kv_int(struct yamlw *w, const char *key, int64_t v);

/* End the document; *text (owned, NUL-terminated) is the YAML. */
int yamlw_finish(struct yamlw *w, char **text, size_t *len, struct tn_err *err);

/* 1 when `s` reads back as the same string when written plain. */
int yamlw_plain_ok(const char *s);

#endif
