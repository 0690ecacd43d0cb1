/*
 * fetch: HTTP(S) downloads for the raw zone, streamed to disk. The only
 * file of the ingest layer that includes libcurl. Redirects are followed
 * (http and https only); credentials are never sent to another host after
 * a redirect (libcurl's default), and never appear in messages: URLs are
 * shown without their user, password and query.
 */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

/* Called as bytes arrive (at most a few times a second is up to the
 * callee); total is -1 while the size is unknown. */
typedef void fetch_progress_fn(void *arg, const char *what, int64_t done, int64_t total);

struct fetch_req {
	const char *url;
	const char *user, *password;   /* HTTP basic auth, or NULLs */
	const char *bearer;            /* "Authorization: Bearer ...", or NULL */
	fetch_progress_fn *progress;   /* NULL: quiet */
	void *progress_arg;
	const char *what;              /* label for progress, e.g. the file name */
};

/*
 * GET r->url into the new file `path` (it must not exist). Fails with
 * TN_EREMOTE on an HTTP status >= 400 or when the server closes the
 * connection before the announced length ("cut off after N of M bytes"),
 * TN_EIO on a local write error; on any failure `path` is removed. On
 * success *name (when not NULL) is the file name the server suggests
 * (Content-Disposition, else the last segment of the final URL; owned, may
 * be NULL) — untrusted: the caller sanitises it.
 */
int fetch_file(const struct fetch_req *r, const char *path, char **name, struct tn_err *err);

/* GET r->url into memory (at most `max` bytes, else TN_EREMOTE);
 * *out is owned and NUL-terminated. */
int fetch_text(const struct fetch_req *r, size_t max, char **out, size_t *len, struct tn_err *err);

/* `url` without user:password@ and without ?query or #fragment, for
 * messages and the manifest; owned. */
char *fetch_redact_url(const char *url);

#endif
