/*
 * server: `tarn serve`, the HTTP API (libmicrohttpd, JSON by jansson).
 * Every connection has a thread of its own; requests that run SQL borrow
 * one of --threads workers, each with its own sessions on the lake
 * (sessions are not thread-safe), so a long query never holds up
 * /v1/health or the catalog. Callers authenticate with bearer tokens whose SHA-256 is
 * listed in a tokens file with a name and a role:
 *   reader  queries and catalog reads, on a session that cannot write
 *   writer  + SQL that writes the lake
 *   admin   everything
 * Without a tokens file the server listens on loopback only and everyone
 * is admin. Tokens are compared in constant time and never logged.
 */
#ifndef SERVER_H
#define SERVER_H

#include "base/tn_err.h"

struct lake;

struct server_opts {
	const char *host;          /* bind address; "127.0.0.1" by default */
	int port;                  /* 0 = 8080 */
	int threads;               /* worker threads; 0 = 4 */
	const char *tokens_file;   /* NULL = no auth (loopback only) */
	long max_body;             /* bytes of a request body; 0 = 1 MiB */
	long max_rows;             /* rows of a query result; 0 = 100000 */
	long long max_upload;      /* bytes of an upload; 0 = 1 GiB */
	long timeout_ms;           /* a query's time limit; 0 = 60 s */
	long queue_ms;             /* how long a request waits for a free worker; 0 = 10 s */
	int quiet;                 /* no access log */
	const char *version;       /* reported by /v1/health */
};

/* Serve until SIGINT or SIGTERM; in-flight requests finish first. */
int server_run(struct lake *lk, const struct server_opts *o, struct tn_err *err);

/* The SHA-256 (hex) of a token, as the tokens file lists it. Owned. */
char *server_hash_token(const char *token);

#endif
