/*
 * retail.c: `tarn gen retail`, a small retail company as Parquet. Each
 * table is one DuckDB query; u(key, i) is a uniform number in [0, 1) made
 * from hash(seed, key, i), so rows do not depend on thread scheduling.
 */
#include "base/compat.h"
#include "gen/gen.h"
#include "engine/duck.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

void gen_report_release(struct gen_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		tn_free(r->files[i].name);
	tn_free(r->files);
	memset(r, 0, sizeof(*r));
}

/* u(key, i): uniform in [0, 1); pick(list, key, i): an element of list;
 * pop(rank, n): an id for a popularity rank (see sales_sql). */
static const char macros[] =
	"CREATE OR REPLACE TEMP MACRO u(k, i) AS (hash(getvariable('gen_seed'), k, i) %% 1000003) / 1000003.0;"
	"CREATE OR REPLACE TEMP MACRO pick(l, k, i) AS list_element(l, 1 + CAST(floor(u(k, i) * len(l)) AS INTEGER));"
	"CREATE OR REPLACE TEMP MACRO pop(r, n) AS 1 + (CAST(r AS BIGINT) * 2147483647 + "
	"CAST(hash(getvariable('gen_seed'), 'pop') %% 1000003 AS BIGINT)) %% n;"
	"SET VARIABLE gen_seed = %" PRId64 ";";

static const char first_names[] =
	"['Ana','Ben','Chloe','David','Elena','Farid','Grace','Hugo','Ines','Jonas','Kira','Liam','Maya',"
	"'Noah','Olga','Pedro','Quinn','Rosa','Sami','Tara','Umar','Vera','Wei','Yara']";
static const char last_names[] =
	"['Smith','Garcia','Muller','Rossi','Dubois','Kowalski','Silva','Novak','Jensen','Ivanova','Tanaka',"
	"'Okafor','Larsen','Moreau','Costa','Nagy','Berg','Kim','Patel','Lopez']";
static const char cities[] =
	"['Lisbon','Porto','Madrid','Lyon','Berlin','Munich','Vienna','Prague','Warsaw','Oslo','Dublin','Turin']";

/* customers: 1 to 3 versions each (a move, a new segment), valid_from
 * ascending, valid_to = the next version's valid_from. */
static void customers_sql(struct tn_buf *q, int64_t n)
{
	tn_buf_addf(q,
		"WITH base AS (SELECT i AS customer_id, pick(%s, 'fn', i) AS first_name, "
		"pick(%s, 'ln', i) AS last_name, 1 + CAST(floor(u('nv', i) * 3) AS INTEGER) AS nversions, "
		"DATE '2022-01-01' + CAST(floor(u('signup', i) * 365) AS INTEGER) AS signed_up "
		"FROM range(1, %" PRId64 " + 1) r(i)), "
		"versions AS (SELECT b.*, v, b.signed_up + CAST(v * (90 + floor(u('gap', b.customer_id * 10 + v) * 240)) AS INTEGER) "
		"AS valid_from FROM base b, range(0, 3) r(v) WHERE v < b.nversions) "
		"SELECT customer_id, CAST(v + 1 AS INTEGER) AS version, first_name, last_name, "
		"CASE WHEN u('email_null', customer_id) < 0.02 THEN NULL "
		"WHEN u('email_case', customer_id) < 0.04 THEN upper(first_name) || '.' || last_name || customer_id || '@Example.COM ' "
		"ELSE lower(first_name || '.' || last_name) || customer_id || '@example.com' END AS email, "
		"CASE WHEN u('city_dirty', customer_id * 10 + v) < 0.03 THEN lower(pick(%s, 'city', customer_id * 10 + v)) || '  ' "
		"ELSE pick(%s, 'city', customer_id * 10 + v) END AS city, "
		"['regular', 'silver', 'gold'][1 + least(2, v + CAST(floor(u('seg', customer_id) * 2) AS INTEGER))] AS segment, "
		"valid_from, lead(valid_from) OVER (PARTITION BY customer_id ORDER BY v) AS valid_to, "
		"CAST(valid_from AS TIMESTAMP) + to_seconds(CAST(floor(u('upd', customer_id * 10 + v) * 86400) AS BIGINT)) "
		"AS updated_at FROM versions ORDER BY customer_id, version",
		first_names, last_names, n, cities, cities);
}

/* stores: 1 or 2 versions (a refit changes the floor area). */
static void stores_sql(struct tn_buf *q, int64_t n)
{
	tn_buf_addf(q,
		"WITH base AS (SELECT i AS store_id, pick(%s, 'scity', i) AS city, "
		"DATE '2015-01-01' + CAST(floor(u('open', i) * 2500) AS INTEGER) AS opened_on, "
		"1 + CAST(u('snv', i) < 0.4 AS INTEGER) AS nversions FROM range(1, %" PRId64 " + 1) r(i)), "
		"versions AS (SELECT b.*, v, CASE WHEN v = 0 THEN DATE '2022-01-01' ELSE DATE '2023-01-01' + "
		"CAST(floor(u('refit', b.store_id) * 500) AS INTEGER) END AS valid_from FROM base b, range(0, 2) r(v) "
		"WHERE v < b.nversions) "
		"SELECT store_id, CAST(v + 1 AS INTEGER) AS version, 'Tarn ' || city || ' ' || store_id AS store_name, city, "
		"CASE WHEN city IN ('Lisbon', 'Porto', 'Madrid') THEN 'South' WHEN city IN ('Oslo', 'Dublin') THEN 'North' "
		"WHEN city IN ('Lyon', 'Turin') THEN 'West' ELSE 'Central' END AS region, "
		"CAST(300 + floor(u('size', store_id) * 1700) + v * 250 AS INTEGER) AS size_sqm, opened_on, valid_from, "
		"lead(valid_from) OVER (PARTITION BY store_id ORDER BY v) AS valid_to, "
		"CAST(valid_from AS TIMESTAMP) AS updated_at FROM versions ORDER BY store_id, version",
		cities, n);
}

/*
 * products: a category first (groceries are the most common), then a name
 * and a price range that fit it. The lists are indexed by category, so
 * list_element(names, c) is the category's own word list.
 */
static void products_sql(struct tn_buf *q, int64_t n)
{
	tn_buf_addf(q,
		"WITH p AS (SELECT i, pick([1, 1, 1, 2, 3, 4, 5], 'cat', i) AS c FROM range(1, %" PRId64 " + 1) r(i)) "
		"SELECT i AS product_id, pick(list_element([['Coffee','Tea','Bread','Cheese','Apples','Pasta','Olive Oil',"
		"'Rice','Yoghurt'], ['Detergent','Sponges','Bin Bags','Candles','Batteries'], ['Soap','Shampoo',"
		"'Toothpaste','Sunscreen'], ['Notebook','Pens','Markers','Envelopes'], ['Socks','T-Shirt','Scarf','Cap']], c), "
		"'pname', i) || ' ' || pick(['Classic','Organic','Premium','Mini','Family','Eco'], 'pvar', i) || ' #' || i "
		"AS product_name, "
		"list_element(['Grocery','Household','Personal Care','Stationery','Apparel'], c) AS category, "
		"pick(['Nordlys','Sol','Alpina','Verde','Basics'], 'brand', i) AS brand, "
		"CAST(round(list_element([1.0, 2.0, 2.0, 1.0, 6.0], c) + pow(u('price', i), 2) * "
		"list_element([14.0, 28.0, 22.0, 18.0, 34.0], c), 2) AS DECIMAL(10,2)) AS list_price, "
		"CAST(round((list_element([1.0, 2.0, 2.0, 1.0, 6.0], c) + pow(u('price', i), 2) * "
		"list_element([14.0, 28.0, 22.0, 18.0, 34.0], c)) * (0.45 + u('margin', i) * 0.3), 2) AS DECIMAL(10,2)) "
		"AS unit_cost FROM p ORDER BY product_id", n);
}

/*
 * sales: candidates spread over 2023-2024, kept with a weight that rises
 * on weekends and in November/December (about 59 in 100 are kept). The
 * popularity of products, stores and customers is skewed: a rank drawn
 * as u^k, so low ranks are frequent, then turned into an id by
 * pop(rank, n), a stride through 0..n-1 by the prime 2^31 - 1 from a start
 * the seed picks (n is at most 10^8 here, so the prime is coprime to it and
 * every id gets one rank; rank * prime fits a BIGINT), so the favourites
 * are scattered over the ids rather than being ids 1, 2, 3. A few sales
 * are returns (negative quantity) or anonymous.
 */
static void sales_sql(struct tn_buf *q, int64_t n, int64_t ncust, int64_t nstore, int64_t nprod,
		      const char *products)
{
	tn_buf_addf(q,
		"WITH cand AS (SELECT i, DATE '2023-01-01' + CAST(floor(u('day', i) * 731) AS INTEGER) AS d "
		"FROM range(1, %" PRId64 " + 1) r(i)), "
		"kept AS (SELECT i, d FROM cand WHERE u('keep', i) < 0.5 + 0.15 * CAST(dayofweek(d) IN (0, 6) AS INTEGER) "
		"+ 0.3 * CAST(month(d) IN (11, 12) AS INTEGER)), "
		"s AS (SELECT row_number() OVER (ORDER BY i) AS sale_id, i, d, "
		"pop(floor(pow(u('prod', i), 2) * %" PRId64 "), %" PRId64 ") AS product_id, "
		"pop(floor(pow(u('store', i), 1.5) * %" PRId64 "), %" PRId64 ") AS store_id, "
		"CASE WHEN u('anon', i) < 0.05 THEN NULL ELSE pop(floor(pow(u('cust', i), 1.8) * %" PRId64 "), %" PRId64
		") END AS customer_id, "
		"CAST((1 + floor(pow(u('qty', i), 2) * 6)) * CASE WHEN u('ret', i) < 0.01 THEN -1 ELSE 1 END AS INTEGER) "
		"AS quantity, CASE WHEN u('disc', i) < 0.15 THEN 0.1 WHEN u('disc', i) < 0.2 THEN 0.25 ELSE 0 END AS discount "
		"FROM kept) "
		"SELECT sale_id, CAST(d AS TIMESTAMP) + to_seconds(CAST(32400 + floor(u('sec', i) * 43200) AS BIGINT)) AS sold_at, "
		"store_id, customer_id, s.product_id, quantity, p.list_price AS unit_price, "
		"CAST(discount AS DECIMAL(4,2)) AS discount FROM s JOIN read_parquet(",
		n * 100 / 59, nprod, nprod, nstore, nstore, ncust, ncust);
	tn_buf_add_sqlstr(q, products);
	tn_buf_adds(q, ") p USING (product_id) ORDER BY sale_id");
}

/* COPY (query) TO out/name under a temp name, then rename; adds the
 * file and its row count to the report. */
static int write_table(struct duck *d, const char *out, const char *name, struct tn_buf *query,
		       struct gen_report *rep, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	char *path = tn_xprintf("%s/%s", out, name), *tmp = tn_xprintf("%s/.%s.tmp", out, name);
	struct duck_result *r = NULL;
	int64_t rows = 0;
	int rc;

	tn_buf_addf(&q, "COPY (%s) TO ", query->buf);
	tn_buf_add_sqlstr(&q, tmp);
	tn_buf_adds(&q, " (FORMAT parquet, COMPRESSION zstd)");
	rc = tn_buf_check(&q, err);
	if (!rc)
		rc = duck_query(d, q.buf, &r, err);
	if (!rc && duck_result_nrows(r) == 1)
		rows = duck_result_int(r, 0, 0);
	duck_result_free(r);
	if (!rc && rename(tmp, path) != 0)
		rc = tn_err_set(err, TN_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
	if (rc)
		remove(tmp);
	if (!rc) {
		TN_GROW(rep->files, rep->alloc, rep->n + 1);
		rep->files[rep->n].name = tn_strdup(name);
		rep->files[rep->n++].rows = rows;
	}
	tn_buf_release(&q);
	tn_free(path);
	tn_free(tmp);
	return rc;
}

int gen_retail(struct duck *d, const char *out, int64_t scale, int64_t seed, struct gen_report *rep,
	       struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int64_t ncust = 1000 * scale, nstore = 5 + 15 * scale, nprod = 200 * scale, nsales = 50000 * scale;
	char *products;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (scale < 1 || scale > 100000)
		return tn_err_set(err, TN_EINVAL, "--scale must be between 1 and 100000 (got %" PRId64 ")", scale);
	rc = tn_fs_mkdirs(out, err);
	if (rc)
		return rc;
	tn_buf_addf(&q, macros, seed);
	rc = duck_exec(d, q.buf, err);
	products = tn_xprintf("%s/products.parquet", out);
	tn_buf_reset(&q);
	customers_sql(&q, ncust);
	if (!rc)
		rc = write_table(d, out, "customers.parquet", &q, rep, err);
	tn_buf_reset(&q);
	stores_sql(&q, nstore);
	if (!rc)
		rc = write_table(d, out, "stores.parquet", &q, rep, err);
	tn_buf_reset(&q);
	products_sql(&q, nprod);
	if (!rc)
		rc = write_table(d, out, "products.parquet", &q, rep, err);
	tn_buf_reset(&q);
	sales_sql(&q, nsales, ncust, nstore, nprod, products);
	if (!rc)
		rc = write_table(d, out, "sales.parquet", &q, rep, err);
	tn_free(products);
	tn_buf_release(&q);
	if (rc)
		gen_report_release(rep);
	return rc;
}
