/*
 * tmpl: the template language of model files (see tmpl.c). The caller
 * says what each function means through callbacks, so the same renderer
 * collects a model's dependencies and config when the project loads and
 * writes its SQL when it runs.
 */
#ifndef TMPL_H
#define TMPL_H

#include <jansson.h>
#include "base/tn_buf.h"
#include "base/tn_err.h"

struct tmpl_env {
	void *arg;
	const char *this_rel;   /* what {{ this }} renders to, or NULL */
	int incremental;        /* is_incremental() */
	int (*ref)(void *arg, const char *name, struct tn_buf *out, struct tn_err *err);
	int (*source)(void *arg, const char *src, const char *table, struct tn_buf *out, struct tn_err *err);
	/* dflt NULL: no default given */
	int (*var)(void *arg, const char *name, const char *dflt, struct tn_buf *out, struct tn_err *err);
	int (*config)(void *arg, json_t *cfg, struct tn_err *err);   /* may be NULL */
};

/* Render `text` (from `file`, for messages) into `out`. */
int tmpl_render(const struct tmpl_env *env, const char *file, const char *text, struct tn_buf *out,
		struct tn_err *err);

/* The same, but every {{ }} is evaluated, also inside branches not taken
 * (their text is dropped, a config() there does not apply): loading uses
 * it so that a ref() under {% if is_incremental() %} is still a
 * dependency, and a typo there fails before any run, not on the first
 * incremental one. */
int tmpl_collect(const struct tmpl_env *env, const char *file, const char *text, struct tn_buf *out,
		 struct tn_err *err);

#endif
