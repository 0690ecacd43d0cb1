/*
 * docs.c: `tarn docs`, one static HTML file for a project: every model and
 * seed with its description, columns, tests, SQL and last run, and the
 * lineage graph drawn as inline SVG (layers by depth in the graph), so
 * the page needs no network and no script.
 */
#include "base/compat.h"
#include "transform/docs.h"
#include "engine/duck.h"
#include "lake/session.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"

#include <inttypes.h>

#define BOX_W 190
#define BOX_H 28
#define GAP_X 70
#define GAP_Y 14

static void esc(struct tn_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': tn_buf_adds(b, "&lt;"); break;
		case '>': tn_buf_adds(b, "&gt;"); break;
		case '&': tn_buf_adds(b, "&amp;"); break;
		case '"': tn_buf_adds(b, "&quot;"); break;
		case '\'': tn_buf_adds(b, "&#39;"); break;
		default: tn_buf_addc(b, *s);
		}
	}
}

/* depth[i] = longest path from a root to node i. */
static size_t *depths(const struct tf_project *p, size_t *maxd)
{
	size_t *d = tn_calloc(p->nn + 1, sizeof(size_t)), k, j;

	*maxd = 0;
	for (k = 0; k < p->nn; k++) {
		size_t i = p->order[k];
		for (j = 0; j < p->n[i].ndeps; j++)
			if (d[p->n[i].deps[j]] + 1 > d[i])
				d[i] = d[p->n[i].deps[j]] + 1;
		if (d[i] > *maxd)
			*maxd = d[i];
	}
	return d;
}

static void svg(struct tn_buf *b, const struct tf_project *p)
{
	size_t maxd, *d = depths(p, &maxd), *row = tn_calloc(p->nn + 1, sizeof(size_t));
	size_t *count = tn_calloc(maxd + 2, sizeof(size_t)), i, j, rows = 1;

	for (i = 0; i < p->nn; i++) {
		row[i] = count[d[i]]++;
		if (count[d[i]] > rows)
			rows = count[d[i]];
	}
	tn_buf_addf(b, "<svg class=\"lineage\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" height=\"%zu\">\n",
		    (maxd + 1) * (BOX_W + GAP_X) + 20, rows * (BOX_H + GAP_Y) + 20);
	for (i = 0; i < p->nn; i++)
		for (j = 0; j < p->n[i].ndeps; j++) {
			size_t k = p->n[i].deps[j];
			tn_buf_addf(b, "<line class=\"edge\" data-from=\"");
			esc(b, p->n[k].name);
			tn_buf_adds(b, "\" data-to=\"");
			esc(b, p->n[i].name);
			tn_buf_addf(b, "\" x1=\"%zu\" y1=\"%zu\" x2=\"%zu\" y2=\"%zu\"/>\n",
				    10 + d[k] * (BOX_W + GAP_X) + BOX_W, 10 + row[k] * (BOX_H + GAP_Y) + BOX_H / 2,
				    10 + d[i] * (BOX_W + GAP_X), 10 + row[i] * (BOX_H + GAP_Y) + BOX_H / 2);
		}
	for (i = 0; i < p->nn; i++) {
		tn_buf_addf(b, "<a href=\"#node-");
		esc(b, p->n[i].name);
		tn_buf_addf(b, "\"><rect class=\"%s\" x=\"%zu\" y=\"%zu\" width=\"%d\" height=\"%d\" rx=\"5\"/>",
			    tf_kind_name(p->n[i].kind), 10 + d[i] * (BOX_W + GAP_X),
			    10 + row[i] * (BOX_H + GAP_Y), BOX_W, BOX_H);
		tn_buf_addf(b, "<text x=\"%zu\" y=\"%zu\">", 18 + d[i] * (BOX_W + GAP_X),
			    10 + row[i] * (BOX_H + GAP_Y) + 18);
		esc(b, p->n[i].schema);
		tn_buf_addc(b, '.');
		esc(b, p->n[i].name);
		tn_buf_adds(b, "</text></a>\n");
	}
	tn_buf_adds(b, "</svg>\n");
	tn_free(d);
	tn_free(row);
	tn_free(count);
}

static const char *mat_name(const struct tf_node *n)
{
	static const char *names[] = { "table", "view", "incremental", "ephemeral" };

	return n->kind != TF_MODEL ? tf_kind_name(n->kind) : names[n->mat];
}

/* The node's last recorded run, from tarn_meta.run_models (if any). */
static void last_run(struct tn_buf *b, struct session *ss, const char *name)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err err = TN_ERR_INIT;
	struct duck_result *r = NULL;

	if (!ss)
		return;
	tn_buf_adds(&q, "SELECT m.status, CAST(m.\"rows\" AS VARCHAR), CAST(m.seconds AS VARCHAR), "
		    "CAST(r.ended_at AS VARCHAR), CAST(m.snapshot_id AS VARCHAR) FROM tarn_meta.run_models m JOIN "
		    "tarn_meta.runs r USING (run_id) WHERE m.kind <> 'test' AND m.node = ");
	tn_buf_add_sqlstr(&q, name);
	tn_buf_adds(&q, " ORDER BY r.ended_at DESC LIMIT 1");
	if (!session_exec(ss, q.buf, &r, &err) && duck_result_nrows(r) == 1) {
		const char *labels[] = { "status", "rows", "seconds", "at", "snapshot" };
		tn_buf_adds(b, "<p class=\"run\">Last run: ");
		for (size_t c = 0; c < 5; c++) {
			char *v = duck_result_is_null(r, c, 0) ? NULL : duck_result_text(r, c, 0);
			tn_buf_addf(b, "%s%s ", c ? ", " : "", labels[c]);
			esc(b, v ? v : "-");
			tn_free(v);
		}
		tn_buf_adds(b, "</p>\n");
	}
	duck_result_free(r);
	tn_buf_release(&q);
}

static void tests_of(struct tn_buf *b, json_t *tests)
{
	size_t i;
	json_t *t;

	json_array_foreach(tests, i, t) {
		const char *name = json_is_string(t) ? json_string_value(t) :
			json_is_object(t) ? json_object_iter_key(json_object_iter(t)) : "?";
		tn_buf_adds(b, "<span class=\"test\">");
		esc(b, name);
		tn_buf_adds(b, "</span> ");
	}
}

static void node_section(struct tn_buf *b, const struct tf_project *p, size_t i, struct session *ss)
{
	const struct tf_node *n = &p->n[i];
	size_t k;
	json_t *c;

	tn_buf_adds(b, "<section class=\"node\" id=\"node-");
	esc(b, n->name);
	tn_buf_adds(b, "\">\n<h2>");
	esc(b, n->schema);
	tn_buf_addc(b, '.');
	esc(b, n->name);
	tn_buf_addf(b, " <small>%s</small></h2>\n<p class=\"path\">", mat_name(n));
	esc(b, n->path);
	tn_buf_adds(b, "</p>\n<p class=\"description\">");
	esc(b, n->description ? n->description : "(no description)");
	tn_buf_adds(b, "</p>\n");
	if (n->ndeps || n->nsources) {
		tn_buf_adds(b, "<p>Reads: ");
		for (k = 0; k < n->ndeps; k++) {
			tn_buf_adds(b, "<a href=\"#node-");
			esc(b, p->n[n->deps[k]].name);
			tn_buf_adds(b, "\">");
			esc(b, p->n[n->deps[k]].name);
			tn_buf_adds(b, "</a> ");
		}
		for (k = 0; k < n->nsources; k++) {
			tn_buf_adds(b, "<span class=\"source\">");
			esc(b, n->sources[k]);
			tn_buf_adds(b, "</span> ");
		}
		tn_buf_adds(b, "</p>\n");
	}
	last_run(b, ss, n->name);
	if (json_array_size(n->columns)) {
		tn_buf_adds(b, "<table><tr><th>column</th><th>description</th><th>tests</th></tr>\n");
		json_array_foreach(n->columns, k, c) {
			json_t *tests = json_object_get(c, "tests");
			tn_buf_adds(b, "<tr><td>");
			esc(b, json_string_value(json_object_get(c, "name")));
			tn_buf_adds(b, "</td><td>");
			esc(b, json_string_value(json_object_get(c, "description")));
			tn_buf_adds(b, "</td><td>");
			tests_of(b, tests ? tests : json_object_get(c, "data_tests"));
			tn_buf_adds(b, "</td></tr>\n");
		}
		tn_buf_adds(b, "</table>\n");
	}
	if (n->sql) {
		tn_buf_adds(b, "<details><summary>SQL</summary><pre>");
		esc(b, n->sql);
		tn_buf_adds(b, "</pre></details>\n");
	}
	tn_buf_adds(b, "</section>\n");
}

int tf_docs_write(const struct tf_project *p, struct session *ss, const char *path, struct tn_err *err)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	char *dir = tn_strdup(path);
	size_t k;
	int rc = 0;

	tn_buf_adds(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
	esc(&b, p->name);
	tn_buf_adds(&b, " - tarn docs</title>\n<style>\n"
		    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}\n"
		    "svg.lineage{border:1px solid #ddd;background:#fafafa;max-width:100%;height:auto}\n"
		    "rect.model{fill:#dbeafe;stroke:#2563eb}rect.seed{fill:#dcfce7;stroke:#16a34a}\n"
		    "line.edge{stroke:#888;stroke-width:1.5}text{font-size:12px;font-family:monospace}\n"
		    "section.node{border-top:1px solid #ddd;padding-top:.5em}h2 small{color:#888;font-weight:normal}\n"
		    "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}\n"
		    ".test{background:#fef3c7;border-radius:3px;padding:0 4px;font-size:90%}\n"
		    ".source{background:#eee;border-radius:3px;padding:0 4px}pre{background:#f6f6f6;padding:1em;overflow:auto}\n"
		    ".path{color:#888;font-family:monospace}\n</style></head><body>\n<h1>");
	esc(&b, p->name);
	tn_buf_addf(&b, "</h1>\n<p>%zu nodes. Generated by <code>tarn docs</code>.</p>\n<h2>Lineage</h2>\n", p->nn);
	svg(&b, p);
	tn_buf_adds(&b, "<h2>Models and seeds</h2>\n<ul>\n");
	for (k = 0; k < p->nn; k++) {
		size_t i = p->order[k];
		tn_buf_adds(&b, "<li><a href=\"#node-");
		esc(&b, p->n[i].name);
		tn_buf_adds(&b, "\">");
		esc(&b, p->n[i].name);
		tn_buf_adds(&b, "</a>: ");
		esc(&b, p->n[i].description ? p->n[i].description : "");
		tn_buf_adds(&b, "</li>\n");
	}
	tn_buf_adds(&b, "</ul>\n");
	for (k = 0; k < p->nn; k++)
		node_section(&b, p, p->order[k], ss);
	tn_buf_adds(&b, "</body></html>\n");
	if (strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		if (*dir)
			rc = tn_fs_mkdirs(dir, err);
	}
	if (!rc)
		rc = tn_buf_check(&b, err);
	if (!rc)
		rc = tn_fs_write_atomic(path, b.buf, b.len, err);
	tn_buf_release(&b);
	tn_free(dir);
	return rc;
}
