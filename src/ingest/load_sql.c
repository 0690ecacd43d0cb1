/*
 * load_sql.c: the helpers load.c and load_duckdb.c share: SQL on the
 * session, table lookups, the report.
 */
#include "base/compat.h"
#include "ingest/load.h"
#include "ingest/load_int.h"
#include "lake/session.h"
#include "base/tn_mem.h"

void load_trim_message(char *msg)
{
	char *p = strstr(msg, "\n\n");

	if (p)
		*p = '\0';
	for (p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

int load_exec(struct session *s, struct tn_buf *q, struct duck_result **res, struct tn_err *err)
{
	int rc = tn_buf_check(q, err);

	if (res)
		*res = NULL;
	if (!rc)
		rc = session_exec(s, q->buf, res, err);
	return rc;
}

int load_int(struct session *s, struct tn_buf *q, int64_t *out, struct tn_err *err)
{
	struct duck_result *r = NULL;
	int rc = load_exec(s, q, &r, err);

	*out = 0;
	if (!rc && duck_result_nrows(r) > 0 && duck_result_ncols(r) > 0 && !duck_result_is_null(r, 0, 0))
		*out = duck_result_int(r, 0, 0);
	duck_result_free(r);
	return rc;
}

void load_rollback(struct session *s)
{
	struct tn_err ignore = TN_ERR_INIT;

	if (session_in_txn(s))
		session_exec(s, "ROLLBACK", NULL, &ignore);
}

void load_add_name(struct tn_buf *b, const char *schema, const char *table)
{
	tn_buf_add_sqlid(b, schema);
	tn_buf_addc(b, '.');
	tn_buf_add_sqlid(b, table);
}

int load_table_exists(struct session *s, const char *schema, const char *table, int *exists,
		      struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int64_t n = 0;
	int rc;

	tn_buf_adds(&q, "SELECT count(*) FROM tarn_tables() WHERE lower(schema_name) = lower(");
	tn_buf_add_sqlstr(&q, schema);
	tn_buf_adds(&q, ") AND lower(table_name) = lower(");
	tn_buf_add_sqlstr(&q, table);
	tn_buf_adds(&q, ")");
	rc = load_int(s, &q, &n, err);
	tn_buf_release(&q);
	*exists = n > 0;
	return rc;
}

struct load_table *load_report_add(struct load_report *r, const char *schema, const char *table)
{
	struct load_table *t;

	TN_GROW(r->t, r->alloc, r->n + 1);
	t = &r->t[r->n++];
	memset(t, 0, sizeof(*t));
	t->name = tn_xprintf("%s.%s", schema, table);
	return t;
}

void load_note(load_note_fn *fn, void *arg, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(arg, msg);
}

void load_report_release(struct load_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		tn_free(r->t[i].name);
		tn_free(r->t[i].rejects);
	}
	tn_free(r->t);
	tn_free(r->version);
	memset(r, 0, sizeof(*r));
}
