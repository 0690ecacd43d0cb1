/*
 * project: a tarn project, the dbt-style folder of SQL models:
 *
 *   tarn.yml              name, vars, folder defaults (models:, seeds:)
 *   models/.../NAME.sql   one model per file, named after the file
 *   models/.../X.yml      descriptions, configs and tests of models and
 *                         sources (dbt's `version: 2` schema files)
 *   seeds/NAME.csv         small tables loaded as they are
 *   tests/NAME.sql         singular tests: queries that return failing rows
 *   snapshots/NAME.sql     SCD2 snapshots (snapshot.c): nodes of the graph
 *                          too, so models ref() them and build runs them
 *
 * Loading reads every file, renders every model once to find its
 * config() and its ref()/source() dependencies, and orders the graph
 * (cycles are refused, named). Nothing touches a lake here.
 */
#ifndef PROJECT_H
#define PROJECT_H

#include <stddef.h>
#include <jansson.h>
#include "base/tn_err.h"

enum tf_kind { TF_MODEL, TF_SEED, TF_SNAPSHOT };

/* "model", "seed", "snapshot". */
const char *tf_kind_name(enum tf_kind k);

enum tf_mat { TF_TABLE, TF_VIEW, TF_INCREMENTAL, TF_EPHEMERAL };

struct tf_node {
	enum tf_kind kind;
	char *name;
	char *path;          /* relative to the project root */
	char *sql;           /* the model's text (NULL for seeds) */
	char *schema;
	enum tf_mat mat;
	char *unique_key;    /* incremental merge key, or NULL */
	char *description;
	char **tags;
	size_t ntags;
	json_t *columns;     /* [{name, description, tests}] from YAML, or NULL */
	size_t *deps;        /* indexes of the nodes it refs */
	size_t ndeps;
	char **sources;      /* "source.table" it reads */
	size_t nsources;
};

struct tf_project {
	char *root;          /* absolute, ends without '/' */
	char *name;
	json_t *vars;        /* tarn.yml vars, then --vars (override) */
	json_t *sources;     /* {source: {schema, description, meta, tables: {t: {...}}}} */
	struct tf_node *n;
	size_t nn;
	size_t *order;       /* topological order of n[] */
	char **tests;        /* singular test files, relative */
	size_t ntests;
};

/* Blank out dbt's {% snapshot x %} ... {% endsnapshot %} wrapper of a
 * snapshot file, in place (lines are kept, so messages keep their line). */
void tf_strip_snapshot_block(char *text);

/* Find tarn.yml from `dir` (NULL: the working directory) upward; *root
 * owned. TN_ENOTFOUND with a hint when there is none. */
int tf_find_root(const char *dir, char **root, struct tn_err *err);

/* Load the project at `root`; `vars` (a JSON object text, or NULL) are
 * --vars. On failure *p is left empty. */
int tf_load(struct tf_project *p, const char *root, const char *vars, struct tn_err *err);
void tf_release(struct tf_project *p);

/* Index of node `name`, or (size_t)-1. */
size_t tf_find(const struct tf_project *p, const char *name);

/*
 * Rendering. `this_*` name the relation {{ this }} stands for; an
 * incremental run renders `is_incremental()` true. Ephemeral models that
 * are ref()'d come back as CTEs around the text. The rendered SQL is owned.
 * Errors name the file and line.
 */
struct tf_render_opts {
	int incremental;
};
int tf_render_node(const struct tf_project *p, size_t i, const struct tf_render_opts *o, char **sql,
		   struct tn_err *err);
/* Render a free-standing file (a singular test). */
int tf_render_text(const struct tf_project *p, const char *file, const char *text, char **sql,
		   struct tn_err *err);
/* "schema"."name" of node i, quoted. Owned. */
char *tf_relation(const struct tf_project *p, size_t i);
/* The relation a source table reads: "schema"."table". Owned; NULL if unknown. */
char *tf_source_relation(const struct tf_project *p, const char *source, const char *table);

/*
 * Selection: `sel` is space-separated terms, each `name`, `+name`
 * (and its ancestors), `name+` (and its descendants), `path:models/x`,
 * `tag:x`, `source:s` / `source:s.t` (checked, but they pick no node:
 * see tf_source_selected); NULL selects every node. picked[i] = 1 for selected nodes.
 */
int tf_select(const struct tf_project *p, const char *sel, char *picked, struct tn_err *err);
/* Whether source table src.table is selected by `sel`'s `source:src` or
 * `source:src.table` terms (NULL sel: everything is). */
int tf_source_selected(const char *sel, const char *src, const char *table);
/* The dependencies of a free-standing text (a singular test): mark[k] = 1
 * for each node it refs; *sources ("src.table", owned, each and the
 * array) for each source() it reads. */
int tf_text_deps(const struct tf_project *p, const char *file, const char *text, char *mark, char ***sources,
		 size_t *nsources, struct tn_err *err);
/* The config() settings of a free-standing text (a singular test), merged
 * into the object cfg. */
int tf_text_config(const struct tf_project *p, const char *file, const char *text, json_t *cfg,
		   struct tn_err *err);
/* Mark every descendant of node i in `mark`. */
void tf_descendants(const struct tf_project *p, size_t i, char *mark);
void tf_ancestors(const struct tf_project *p, size_t i, char *mark);

#endif
