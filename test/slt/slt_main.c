/*
 * tarn-slt: tarn's sqllogictest runner. Runs each .test file against a
 * fresh engine (a new lake for `tarn`, plain DuckDB for `duckdb`) and ends
 * with one line "N passed, N failed[, N skipped]" counting records.
 * Exit status: 0 when nothing failed, 1 when something did, 2 on bad usage.
 */
#include "base/compat.h"
#include "slt.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tarn-slt [--engine %s] [-v] [--keep] FILE...\n"
		"  --engine NAME  engine under test (default: $TARN_SLT_ENGINE, else tarn)\n"
		"  -v             print each record as it runs\n"
		"  --keep         keep each file's __TEST_DIR__ and print where it is\n",
		slt_engine_names());
}

/* Parse options into *o; files are left in argv[*first..]. 0, or 2 for bad usage. */
static int parse_args(int argc, char **argv, struct slt_opts *o, int *first)
{
	const char *engine = getenv("TARN_SLT_ENGINE");
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
			engine = argv[++i];
		} else if (!strncmp(argv[i], "--engine=", 9)) {
			engine = argv[i] + 9;
		} else if (!strcmp(argv[i], "-v")) {
			o->verbose = 1;
		} else if (!strcmp(argv[i], "--keep")) {
			o->keep = 1;
		} else {
			usage(stderr);
			return 2;
		}
	}
	o->ops = slt_engine_find(engine && *engine ? engine : "tarn");
	if (!o->ops) {
		fprintf(stderr, "tarn-slt: unknown engine '%s' (%s)\n", engine, slt_engine_names());
		return 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	*first = i;
	return 0;
}

int main(int argc, char **argv)
{
	struct slt_opts o = { 0 };
	struct slt_counts cnt = { 0 };
	int i, first = 0;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &o, &first))
		return 2;
	for (i = first; i < argc; i++) {
		struct slt_counts file = { 0 };
		slt_run_file(argv[i], &o, &file);
		if (o.verbose)
			fprintf(stderr, "%s: %zu passed, %zu failed, %zu skipped\n", argv[i],
				file.passed, file.failed, file.skipped);
		cnt.passed += file.passed;
		cnt.failed += file.failed;
		cnt.skipped += file.skipped;
	}
	printf("%zu passed, %zu failed", cnt.passed, cnt.failed);
	if (cnt.skipped)
		printf(", %zu skipped", cnt.skipped);
	printf("\n");
	return cnt.failed ? 1 : 0;
}
