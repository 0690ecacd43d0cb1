/*
 * tarn-store-cli - drives the store layer from the shell for the
 * end-to-end tests (test/e2e/t3*-s3-*.sh) and for measuring throughput:
 * one store operation per run, results on stdout, the store's error
 * message on stderr, exit 0 / 1 (failed) / 2 (usage).
 */
#include "base/compat.h"
#include "store/store.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <unistd.h>

static void usage(void)
{
	fputs("usage: tarn-store-cli [options] URL COMMAND [ARGS]\n"
	      "commands:\n"
	      "  put LOCAL KEY            upload a file\n"
	      "  get KEY LOCAL [SIZE]     download, checking SIZE when given\n"
	      "  range KEY OFF LEN        bytes [OFF, OFF+LEN) to stdout\n"
	      "  head KEY                 'SIZE' or 'missing'\n"
	      "  ls [PREFIX]              'SIZE<TAB>KEY' lines\n"
	      "  rm KEY                   delete\n"
	      "  rm-many KEY...           batch delete ('-': keys from stdin)\n"
	      "  fetch KEY [SIZE]         local path of a cached copy\n"
	      "  fetch-many KEY...        the same for several keys, in parallel\n"
	      "  seed PREFIX N            upload N small objects PREFIX0000..\n"
	      "options: --threshold B --part-size B --threads N --attempts N --budget-ms N\n"
	      "  --base-ms N --connect-timeout-ms N --read-timeout S --timeout-ms N --page N\n"
	      "  --cache DIR --cache-max B --cache-min-age S --env-file PATH --counters\n",
	      stderr);
	exit(2);
}

static int64_t num(const char *s)
{
	struct tn_err err = TN_ERR_INIT;
	int64_t v;

	if (tn_parse_int64(s, &v, "number", &err)) {
		fprintf(stderr, "tarn-store-cli: %s\n", err.msg);
		exit(2);
	}
	return v;
}

/* Options as a table: name and where the number goes. */
static int parse_opt(struct store_opts *o, const char *name, const char *v)
{
	static const struct { const char *name; size_t off; int wide; } t[] = {
		{ "--threshold", offsetof(struct store_opts, multipart_threshold), 1 },
		{ "--part-size", offsetof(struct store_opts, part_size), 1 },
		{ "--cache-max", offsetof(struct store_opts, cache_max_bytes), 1 },
		{ "--threads", offsetof(struct store_opts, threads), 0 },
		{ "--attempts", offsetof(struct store_opts, max_attempts), 0 },
		{ "--budget-ms", offsetof(struct store_opts, retry_budget_ms), 0 },
		{ "--base-ms", offsetof(struct store_opts, retry_base_ms), 0 },
		{ "--connect-timeout-ms", offsetof(struct store_opts, connect_timeout_ms), 0 },
		{ "--read-timeout", offsetof(struct store_opts, read_timeout_s), 0 },
		{ "--timeout-ms", offsetof(struct store_opts, timeout_ms), 0 },
		{ "--page", offsetof(struct store_opts, list_page_size), 0 },
		{ "--cache-min-age", offsetof(struct store_opts, cache_min_age_s), 0 },
	};
	size_t i;

	for (i = 0; i < TN_ARRAY_LEN(t); i++) {
		if (strcmp(name, t[i].name))
			continue;
		if (t[i].wide)
			*(int64_t *)((char *)o + t[i].off) = num(v);
		else
			*(int *)((char *)o + t[i].off) = (int)num(v);
		return 0;
	}
	if (!strcmp(name, "--cache"))
		o->cache_dir = v;
	else if (!strcmp(name, "--env-file"))
		o->env_file = v;
	else
		return -1;
	return 0;
}

static int print_entry(void *arg, const char *key, int64_t size)
{
	(void)arg;
	printf("%lld\t%s\n", (long long)size, key);
	return 0;
}

static int cmd_range(struct store *s, char **argv, struct tn_err *err)
{
	int64_t off = num(argv[1]), len = num(argv[2]);
	size_t got = 0;
	char *buf;
	int rc;

	if (len < 0 || len > (1 << 30))
		usage();
	buf = tn_malloc((size_t)len + 1);
	rc = store_get_range(s, argv[0], off, buf, (size_t)len, &got, err);
	if (!rc)
		fwrite(buf, 1, got, stdout);
	tn_free(buf);
	return rc;
}

static int cmd_head(struct store *s, char **argv, struct tn_err *err)
{
	struct store_stat st;
	int rc = store_head(s, argv[0], &st, err);

	if (!rc && st.exists)
		printf("%lld\n", (long long)st.size);
	else if (!rc)
		printf("missing\n");
	return rc;
}

static int cmd_rm_many(struct store *s, int argc, char **argv, struct tn_err *err)
{
	char **keys = NULL, line[4096];
	size_t n = 0, alloc = 0, i;
	int rc;

	if (argc == 1 && !strcmp(argv[0], "-")) {
		while (fgets(line, sizeof(line), stdin)) {
			line[strcspn(line, "\n")] = '\0';
			TN_GROW(keys, alloc, n + 1);
			keys[n++] = tn_strdup(line);
		}
	} else {
		for (i = 0; i < (size_t)argc; i++) {
			TN_GROW(keys, alloc, n + 1);
			keys[n++] = tn_strdup(argv[i]);
		}
	}
	rc = store_del_many(s, (const char *const *)keys, n, err);
	for (i = 0; i < n; i++)
		tn_free(keys[i]);
	tn_free(keys);
	return rc;
}

static int cmd_fetch(struct store *s, int argc, char **argv, struct tn_err *err)
{
	char *path;
	int rc = store_fetch(s, argv[0], argc > 1 ? num(argv[1]) : -1, &path, err);

	if (!rc)
		printf("%s\n", path);
	tn_free(path);
	return rc;
}

static int cmd_fetch_many(struct store *s, int argc, char **argv, struct tn_err *err)
{
	char **paths = tn_calloc((size_t)argc, sizeof(char *));
	int rc = store_fetch_many(s, (const char *const *)argv, NULL, (size_t)argc, paths, err), i;

	for (i = 0; i < argc; i++) {
		if (!rc)
			printf("%s\n", paths[i]);
		tn_free(paths[i]);
	}
	tn_free(paths);
	return rc;
}

static int cmd_seed(struct store *s, char **argv, struct tn_err *err)
{
	char tmp[] = "/tmp/tarn-store-seed.XXXXXX";
	int64_t n = num(argv[1]), i;
	int fd = mkstemp(tmp), rc = 0;

	if (fd < 0 || write(fd, "seed\n", 5) != 5)
		return tn_err_set(err, TN_EIO, "cannot write %s", tmp);
	close(fd);
	for (i = 0; i < n && !rc; i++) {
		char *key = tn_xprintf("%s%04lld", argv[0], (long long)i);
		rc = store_put_file(s, key, tmp, err);
		tn_free(key);
	}
	unlink(tmp);
	return rc;
}

static int run(struct store *s, const char *cmd, int argc, char **argv, struct tn_err *err)
{
	if (!strcmp(cmd, "put") && argc == 2)
		return store_put_file(s, argv[1], argv[0], err);
	if (!strcmp(cmd, "get") && (argc == 2 || argc == 3))
		return store_get_file(s, argv[0], argv[1], argc == 3 ? num(argv[2]) : -1, err);
	if (!strcmp(cmd, "range") && argc == 3)
		return cmd_range(s, argv, err);
	if (!strcmp(cmd, "head") && argc == 1)
		return cmd_head(s, argv, err);
	if (!strcmp(cmd, "ls") && argc <= 1)
		return store_list(s, argc ? argv[0] : "", print_entry, NULL, err);
	if (!strcmp(cmd, "rm") && argc == 1)
		return store_del(s, argv[0], err);
	if (!strcmp(cmd, "rm-many") && argc >= 1)
		return cmd_rm_many(s, argc, argv, err);
	if (!strcmp(cmd, "fetch") && (argc == 1 || argc == 2))
		return cmd_fetch(s, argc, argv, err);
	if (!strcmp(cmd, "fetch-many") && argc >= 1)
		return cmd_fetch_many(s, argc, argv, err);
	if (!strcmp(cmd, "seed") && argc == 2)
		return cmd_seed(s, argv, err);
	usage();
	return 0;
}

int main(int argc, char **argv)
{
	struct store_opts o = STORE_OPTS_INIT;
	struct tn_err err = TN_ERR_INIT;
	struct store *s = NULL;
	int i = 1, counters = 0, rc;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--counters"))
			counters = 1;
		else if (i + 1 >= argc || parse_opt(&o, argv[i], argv[i + 1]))
			usage();
		else
			i++;
	}
	if (argc - i < 2)
		usage();
	rc = store_open(&s, argv[i], &o, &err);
	if (!rc)
		rc = run(s, argv[i + 1], argc - i - 2, argv + i + 2, &err);
	if (counters && s) {
		struct store_counters c;
		store_counters(s, &c);
		fprintf(stderr, "counters: requests=%llu retries=%llu up=%llu down=%llu hits=%llu misses=%llu\n",
			(unsigned long long)c.requests, (unsigned long long)c.retries,
			(unsigned long long)c.bytes_up, (unsigned long long)c.bytes_down,
			(unsigned long long)c.cache_hits, (unsigned long long)c.cache_misses);
	}
	store_close(s);
	fflush(stdout);
	if (rc) {
		fprintf(stderr, "tarn-store-cli: error: %s\n", err.msg);
		return 1;
	}
	return 0;
}
