/*
 * The one error type of tarn: a code and a message. Functions return 0 on
 * success or a negative TN_E* code, and fill the `struct tn_err *` they were
 * given. The first error wins; a fixed buffer means reporting "out of
 * memory" needs no memory. Messages say what failed, on what, and what to
 * do; they never carry secrets.
 */
#ifndef TN_ERR_H
#define TN_ERR_H

enum tn_code {
	TN_OK = 0,
	TN_ENOMEM = -1,
	TN_EINVAL = -2,     /* bad input: SQL, arguments, files */
	TN_EIO = -3,        /* storage or file system */
	TN_ENOTFOUND = -4,  /* no such lake, table, snapshot ... */
	TN_ECONFLICT = -5,  /* concurrent commit, already exists */
	TN_EREMOTE = -6,    /* a server answered with an error */
	TN_EINTERNAL = -7,  /* a bug or a corrupt catalog */
	TN_EUNSUPPORTED = -8
};

struct tn_err {
	enum tn_code code;
	char msg[1024];
};
#define TN_ERR_INIT { TN_OK, "" }

/* Record an error unless one is recorded already; returns `code`. */
int tn_err_set(struct tn_err *e, enum tn_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the recorded message with "what: " (for context up the stack). */
void tn_err_prefix(struct tn_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Forget a recorded error (for callers that handled it). */
void tn_err_clear(struct tn_err *e);

/* A short name for a code ("invalid input", "i/o error" ...). */
const char *tn_code_name(enum tn_code code);

#endif
