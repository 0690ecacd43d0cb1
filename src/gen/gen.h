/*
 * gen: synthetic datasets for demos, tests and benchmarks, written as
 * Parquet by DuckDB. Every value is a function of (seed, row, column)
 * through DuckDB's hash(), never random(): the same seed and scale give
 * the same rows on any machine and with any number of threads.
 */
#ifndef GEN_H
#define GEN_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

struct duck;

struct gen_file {
	char *name;      /* "sales.parquet" */
	int64_t rows;
};

struct gen_report {
	struct gen_file *files;
	size_t n, alloc;
};

void gen_report_release(struct gen_report *r);

/*
 * A retail company at `scale` (1 = about 1,000 customers, 20 stores, 200
 * products and 50,000 sales over two years) into the folder `out` (made if
 * missing): customers.parquet and stores.parquet with SCD2 history
 * (valid_from, valid_to, updated_at), products.parquet, sales.parquet.
 * Skewed product popularity, weekly and yearly seasonality, and a few
 * dirty values (missing and badly cased emails, stray spaces in cities,
 * returns as negative quantities, anonymous sales). Files are written
 * under temporary names and renamed, so a failure leaves no half file.
 */
int gen_retail(struct duck *d, const char *out, int64_t scale, int64_t seed, struct gen_report *rep,
	       struct tn_err *err);

#endif
