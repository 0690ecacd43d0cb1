/*
 * shell.c: the interactive `tarn sql` shell. Lines are read with readline
 * and gathered until sqlparse_is_complete() says a statement ended; lines
 * starting with '.' at a statement's start are shell commands. Errors are
 * printed and the shell goes on. Ctrl-C drops the typed statement, or
 * cancels the running one.
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "lake/lake.h"
#include "lake/session.h"
#include "lake/sqlparse.h"

#include <signal.h>
#include <unistd.h>
#include <readline/readline.h>
#include <readline/history.h>

#define HISTORY_FILE ".tarn_history"
#define HISTORY_MAX 1000

#define PROMPT "tarn> "
#define PROMPT_TXN "tarn*> "
#define PROMPT_MORE "  ...> "

struct shell {
	struct cli *c;
	struct tn_buf stmt;       /* the statement typed so far, over lines */
	int timer;                /* .timer on */
	int quit;                 /* .quit */
	char *history;            /* ~/.tarn_history; NULL without $HOME */
	struct duck *duck;        /* what Ctrl-C interrupts */
	volatile sig_atomic_t busy;         /* a statement is running */
	volatile sig_atomic_t interrupted;  /* Ctrl-C since the flag was cleared */
	const char *volatile prompt_main;   /* the prompt to go back to on Ctrl-C */
};

/*
 * A signal handler gets no argument to find the shell through, so this
 * one static points at the running shell (there is one per process) while
 * its SIGINT handler is installed.
 */
static struct shell *volatile sigint_shell;

/*
 * During a statement we interrupt DuckDB (DuckDB's own shell does so from
 * its handler too; it only sets a flag). At the prompt readline has already
 * caught the signal, cleaned up and re-raised it to us, so calling readline
 * here is safe: drop the typed line and show a fresh prompt.
 */
static void on_sigint(int sig)
{
	struct shell *sh = sigint_shell;

	TN_UNUSED(sig);
	if (!sh)
		return;
	sh->interrupted = 1;
	if (sh->busy) {
		duck_interrupt(sh->duck);
		return;
	}
	rl_crlf();
	rl_on_new_line();
	rl_replace_line("", 0);
	rl_set_prompt(sh->prompt_main);
	rl_redisplay();
}

static void install_sigint(struct shell *sh, struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigint_shell = sh;
	sigaction(SIGINT, &sa, old);
}

static void remove_sigint(const struct sigaction *old)
{
	sigaction(SIGINT, old, NULL);
	sigint_shell = NULL;
}

/* ---- history ---- */

static void history_open(struct shell *sh)
{
	const char *home = getenv("HOME");

	using_history();
	stifle_history(HISTORY_MAX);
	if (!home || !*home)
		return;
	sh->history = tn_fs_join(home, HISTORY_FILE);
	read_history(sh->history);  /* none yet is fine */
}

/* One entry per statement, on one line, so that up-arrow brings it back whole. */
static void history_add(const char *text)
{
	char *line = tn_strdup(text), *p;
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	for (p = line; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (*line)
		add_history(line);
	tn_free(line);
}

static void history_close(struct shell *sh)
{
	/* A read-only home must not spoil the session: ignore failures. */
	if (sh->history)
		write_history(sh->history);
	tn_free(sh->history);
	sh->history = NULL;
}

/* ---- running SQL ---- */

static void shell_sql(struct shell *sh, const char *sql, int split)
{
	struct tn_err err = TN_ERR_INIT;
	struct cli_run run = { NULL, sh->timer, &sh->interrupted };
	int rc;

	sh->interrupted = 0;
	sh->busy = 1;
	if (split)
		rc = cli_run_sql(sh->c, sql, &run, &err);
	else
		rc = cli_query_print(sh->c, sql, &err);
	sh->busy = 0;
	fflush(stdout);
	if (rc)
		fprintf(stderr, "Error: %s\n", err.msg);
}

/* ---- dot commands ---- */

struct dot_cmd {
	const char *name;
	void (*fn)(struct shell *sh, const char *arg);
	const char *args;
	const char *help;
};

static void dot_help(struct shell *sh, const char *arg);
static void dot_tables(struct shell *sh, const char *arg);
static void dot_schema(struct shell *sh, const char *arg);
static void dot_format(struct shell *sh, const char *arg);
static void dot_timer(struct shell *sh, const char *arg);
static void dot_quit(struct shell *sh, const char *arg);

static const struct dot_cmd dot_cmds[] = {
	{ ".help", dot_help, "", "show this help" },
	{ ".tables", dot_tables, "", "list the tables" },
	{ ".schema", dot_schema, "TABLE", "show the columns of TABLE" },
	{ ".format", dot_format, "[" "table|csv|json|jsonl" "]", "show or set the output format" },
	{ ".timer", dot_timer, "on|off", "print the run time of each statement" },
	{ ".quit", dot_quit, "", "leave the shell" },
	{ ".exit", dot_quit, "", "leave the shell" },
};

static void dot_help(struct shell *sh, const char *arg)
{
	size_t i;
	char head[64];

	TN_UNUSED(sh);
	TN_UNUSED(arg);
	for (i = 0; i < TN_ARRAY_LEN(dot_cmds); i++) {
		snprintf(head, sizeof(head), "%s %s", dot_cmds[i].name, dot_cmds[i].args);
		printf("%-30s %s\n", head, dot_cmds[i].help);
	}
	printf("\nEnd SQL statements with ';'. Ctrl-C cancels, Ctrl-D leaves.\n");
}

static void dot_tables(struct shell *sh, const char *arg)
{
	if (*arg) {
		fprintf(stderr, "Error: usage: .tables\n");
		return;
	}
	shell_sql(sh, "SELECT schema_name, table_name FROM tarn_tables() ORDER BY ALL", 0);
}

static void dot_schema(struct shell *sh, const char *arg)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);

	if (!*arg) {
		fprintf(stderr, "Error: usage: .schema TABLE\n");
		return;
	}
	/* The name is user input: a quoted literal, never SQL text. */
	tn_buf_adds(&q, "SELECT * FROM tarn_columns(");
	tn_buf_add_sqlstr(&q, arg);
	tn_buf_addc(&q, ')');
	if (!q.failed)
		shell_sql(sh, q.buf, 0);
	tn_buf_release(&q);
}

static void dot_format(struct shell *sh, const char *arg)
{
	if (!*arg)
		printf("%s\n", fmt_style_name(sh->c->format));
	else if (fmt_style_parse(arg, &sh->c->format))
		fprintf(stderr, "Error: unknown format '%s' (use one of: %s)\n", arg, FMT_STYLE_NAMES);
}

static void dot_timer(struct shell *sh, const char *arg)
{
	if (!strcmp(arg, "on"))
		sh->timer = 1;
	else if (!strcmp(arg, "off"))
		sh->timer = 0;
	else
		fprintf(stderr, "Error: usage: .timer on|off\n");
}

static void dot_quit(struct shell *sh, const char *arg)
{
	TN_UNUSED(arg);
	sh->quit = 1;
}

/* `line` starts with '.'; it is changed in place (split at the first blank). */
static void dot_command(struct shell *sh, char *line)
{
	char *arg = line + strcspn(line, " \t");
	size_t i, n;

	if (*arg)
		*arg++ = '\0';
	arg += strspn(arg, " \t");
	n = strlen(arg);
	while (n && (arg[n - 1] == ' ' || arg[n - 1] == '\t' || arg[n - 1] == '\r'))
		arg[--n] = '\0';
	for (i = 0; i < TN_ARRAY_LEN(dot_cmds); i++) {
		if (!strcmp(dot_cmds[i].name, line)) {
			dot_cmds[i].fn(sh, arg);
			return;
		}
	}
	fprintf(stderr, "Error: unknown command %s (type .help)\n", line);
}

/* ---- the loop ---- */

static const char *main_prompt(struct shell *sh)
{
	return session_in_txn(sh->c->session) ? PROMPT_TXN : PROMPT;
}

static void shell_line(struct shell *sh, char *line)
{
	char *p = line + strspn(line, " \t");

	if (sh->stmt.len == 0 && *p == '\0')
		return;
	if (sh->stmt.len == 0 && *p == '.') {
		history_add(p);
		dot_command(sh, p);
		return;
	}
	tn_buf_adds(&sh->stmt, line);
	tn_buf_addc(&sh->stmt, '\n');
	if (!sqlparse_is_complete(sh->stmt.buf))
		return;
	history_add(sh->stmt.buf);
	shell_sql(sh, sh->stmt.buf, 1);
	tn_buf_reset(&sh->stmt);
}

static void banner(struct shell *sh)
{
	if (sh->c->quiet)
		return;
	printf("tarn %s - lake %s\n", TARN_VERSION, lake_dir(sh->c->lake));
	printf("Enter \".help\" for help; end statements with ';'.\n");
}

int cli_shell(struct cli *c)
{
	struct shell sh;
	struct sigaction old;
	char *line;

	memset(&sh, 0, sizeof(sh));
	sh.c = c;
	tn_buf_init(&sh.stmt, TN_BUF_NOMAX);
	sh.duck = session_duck(c->session);
	rl_readline_name = "tarn";
	/* `tarn sql > out.txt` keeps the prompts on the terminal, out of the file. */
	if (!isatty(STDOUT_FILENO))
		rl_outstream = stderr;
	/* Tab inserts itself: pasted SQL is often indented with tabs. */
	rl_bind_key('\t', rl_insert);
	history_open(&sh);
	install_sigint(&sh, &old);
	banner(&sh);
	while (!sh.quit) {
		sh.prompt_main = main_prompt(&sh);
		sh.interrupted = 0;
		line = readline(sh.stmt.len ? PROMPT_MORE : sh.prompt_main);
		if (!line) {
			putchar('\n');
			break;
		}
		/* Ctrl-C at the prompt also drops the lines typed before. */
		if (sh.interrupted)
			tn_buf_reset(&sh.stmt);
		shell_line(&sh, line);
		tn_free(line);  /* tn_free is free(), which readline's malloc needs */
	}
	remove_sigint(&old);
	history_close(&sh);
	tn_buf_release(&sh.stmt);
	if (session_in_txn(c->session))
		cli_warn("leaving with an open transaction: it is rolled back");
	return CLI_OK;
}
